//! Invariant checks shared by the fuzz targets.
//!
//! Each `check_*` function reads every field of what the parser returned and
//! asserts the invariants that are cheap to state: lengths agree with the
//! bytes consumed, borrowed slices are sub-slices of the input at the place
//! the wire format puts them, walks end, and errors describe themselves.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use synack_core::capture::LinkType;
use synack_core::flow::{Endpoint, FlowDirection, FlowKey};
use synack_core::frame::{self, Decoded, FrameError, FrameErrorKind, Layer, TcpFrame, Unsupported};
use synack_core::ip::IpHeader;
use synack_core::tcp::{
    MalformedOption, MalformedReason, OptionIter, PseudoHeader, TcpError, TcpHeader, TcpOption,
    TCP_MIN_HEADER_LEN, TFO_EXPERIMENT_ID,
};

/// The link types `frame::decode` reads, in the order the `frame` target's
/// two-byte prefix selects them.
pub const LINK_TYPES: [u32; 13] = [1, 113, 276, 0, 108, 9, 50, 104, 12, 14, 101, 228, 229];

/// Offset of `inner` in `outer`, asserting that `inner` lies within `outer`.
#[track_caller]
pub fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    assert!(
        i >= o && i + inner.len() <= o + outer.len(),
        "slice of {} bytes at {i:#x} is not inside the {}-byte input at {o:#x}",
        inner.len(),
        outer.len()
    );
    i - o
}

/// Asserts that `inner` is exactly `outer[at..at + inner.len()]` (same memory,
/// not a copy). An empty `inner` borrows nothing, so only its place is checked:
/// `at` must not be past the end of `outer`.
#[track_caller]
pub fn assert_at(outer: &[u8], inner: &[u8], at: usize) {
    if inner.is_empty() {
        assert!(at <= outer.len(), "empty sub-slice past the end");
    } else {
        assert_eq!(offset_in(outer, inner), at, "sub-slice at the wrong offset");
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Checks one well-formed option against its bytes on the wire (`wire` is the
/// option's `len()` bytes, from the kind byte on).
fn check_option(opt: &TcpOption<'_>, wire: &[u8]) {
    let len = opt.len();
    assert!(!opt.is_empty());
    assert_eq!(wire.len(), len);
    assert_eq!(wire[0], opt.kind(), "kind() differs from the kind byte");
    if len > 1 {
        assert_eq!(
            usize::from(wire[1]),
            len,
            "len() differs from the length byte"
        );
    }
    let _ = format!("{opt:?}");
    match *opt {
        TcpOption::Eol => assert_eq!(wire, [0]),
        TcpOption::Nop => assert_eq!(wire, [1]),
        TcpOption::Mss(mss) => assert_eq!(mss, be16(wire, 2)),
        TcpOption::WindowScale(shift) => assert_eq!(shift, wire[2]),
        TcpOption::SackPermitted => assert_eq!(len, 2),
        TcpOption::Sack(blocks) => {
            let n = blocks.count();
            assert!((1..=4).contains(&n));
            assert_eq!(len, 2 + 8 * n);
            let mut seen = 0;
            for (i, (left, right)) in blocks.iter().enumerate() {
                assert_eq!(left, be32(wire, 2 + 8 * i));
                assert_eq!(right, be32(wire, 6 + 8 * i));
                seen += 1;
            }
            assert_eq!(seen, n);
        }
        TcpOption::Timestamps { tsval, tsecr } => {
            assert_eq!((tsval, tsecr), (be32(wire, 2), be32(wire, 6)));
        }
        TcpOption::Md5Signature(sig) => assert_at(wire, sig, 2),
        TcpOption::UserTimeout { minutes, timeout } => {
            let raw = be16(wire, 2);
            assert_eq!(minutes, raw & 0x8000 != 0);
            assert_eq!(timeout, raw & 0x7FFF);
        }
        TcpOption::Authentication {
            key_id,
            rnext_key_id,
            mac,
        } => {
            assert_eq!((key_id, rnext_key_id), (wire[2], wire[3]));
            assert_at(wire, mac, 4);
        }
        TcpOption::Mptcp { subtype, data } => {
            assert!(!data.is_empty());
            assert_eq!(subtype, data[0] >> 4);
            assert_at(wire, data, 2);
        }
        TcpOption::FastOpen {
            cookie,
            experimental,
        } => {
            assert!(cookie.len() <= 16);
            if experimental {
                assert_eq!(be16(wire, 2), TFO_EXPERIMENT_ID);
                assert_at(wire, cookie, 4);
            } else {
                assert_at(wire, cookie, 2);
            }
        }
        TcpOption::Experimental { kind, exid, data } => {
            assert!(kind == 253 || kind == 254);
            assert!(!(kind == 254 && exid == TFO_EXPERIMENT_ID));
            assert_eq!(exid, be16(wire, 2));
            assert_at(wire, data, 4);
        }
        TcpOption::Unknown { kind, data } => {
            assert!(
                ![0, 1, 2, 3, 4, 5, 8, 19, 28, 29, 30, 34, 253, 254].contains(&kind),
                "kind {kind} has a typed variant but came out as Unknown"
            );
            assert_at(wire, data, 2);
        }
    }
}

/// Checks a malformed item found at `at` in `options` (walked with
/// `OptionIter::new_cut` when `cut`); returns true when the walk must stop after it.
fn check_malformed(m: &MalformedOption, options: &[u8], at: usize, cut: bool) -> bool {
    assert_eq!(m.offset, at, "malformed option reports the wrong offset");
    assert_eq!(m.kind, options[at]);
    assert!(m.kind > 1, "EOL and NOP cannot be malformed");
    let text = m.to_string();
    assert!(text.starts_with("option kind"));
    assert!(text.ends_with(&m.reason.to_string()));
    let _ = format!("{m:?}");
    let remaining = options.len() - at;
    match m.reason {
        MalformedReason::MissingLength => {
            assert!(!cut, "a cut walk reports a missing length as CutByCapture");
            assert_eq!(m.len, None);
            assert_eq!(remaining, 1);
            true
        }
        MalformedReason::LengthBelowTwo(len) => {
            assert_eq!(m.len, Some(len));
            assert_eq!(options[at + 1], len);
            assert!(len < 2);
            true
        }
        MalformedReason::PastHeader { len, remaining: r } => {
            assert!(!cut, "a cut walk reports a short option as CutByCapture");
            assert_eq!(m.len, Some(len));
            assert_eq!(options[at + 1], len);
            assert_eq!(r, remaining);
            assert!(usize::from(len) > remaining);
            true
        }
        MalformedReason::CutByCapture { captured } => {
            assert!(cut, "CutByCapture from a walk over whole options");
            assert_eq!(captured, remaining);
            match m.len {
                None => assert_eq!(remaining, 1),
                Some(len) => {
                    assert_eq!(options[at + 1], len);
                    assert!(usize::from(len) > remaining);
                }
            }
            true
        }
        MalformedReason::WrongLength { len, expected } => {
            assert_eq!(m.len, Some(len));
            assert_eq!(options[at + 1], len);
            assert!(len >= 2 && usize::from(len) <= remaining);
            assert!(!expected.is_empty());
            false
        }
    }
}

/// Walks `options` (with `OptionIter::new_cut` when `cut`, else
/// `OptionIter::new`) and checks every item; returns the number of items.
pub fn check_options(options: &[u8], cut: bool) -> usize {
    let mut walk = if cut {
        OptionIter::new_cut(options)
    } else {
        OptionIter::new(options)
    };
    let mut at = 0usize;
    let mut items = 0usize;
    let mut eol_end = None;
    let mut stopped = false;
    for item in walk.by_ref() {
        items += 1;
        assert!(
            !stopped,
            "the walk went on after a malformed option that ends it"
        );
        assert!(eol_end.is_none(), "the walk went on after EOL");
        assert!(items <= options.len(), "more items than bytes");
        match item {
            Ok(opt) => {
                let len = opt.len();
                let wire = options
                    .get(at..at + len)
                    .expect("option runs past the options");
                check_option(&opt, wire);
                at += len;
                if opt == TcpOption::Eol {
                    eol_end = Some(at);
                }
            }
            Err(m) => {
                if check_malformed(&m, options, at, cut) {
                    stopped = true;
                } else {
                    at += usize::from(options[at + 1]);
                }
            }
        }
    }
    // Once over, it stays over.
    assert!(walk.next().is_none());
    if eol_end.is_none() && !stopped {
        assert_eq!(at, options.len(), "the walk ended before the options did");
    }
    let padding = OptionIter::padding(options);
    match eol_end {
        Some(end) => assert_at(options, padding, end),
        None => assert!(padding.is_empty()),
    }
    if let Some(end) = eol_end {
        assert_eq!(padding.len(), options.len() - end);
    }
    items
}

/// Walks `options` both as whole and as cut by the capture: the walks agree
/// item for item, except that where the whole walk finds an option missing
/// its length or running past the end, the cut walk reports `CutByCapture`.
pub fn check_options_both_ways(options: &[u8]) {
    let whole = check_options(options, false);
    let cut = check_options(options, true);
    assert_eq!(whole, cut);
    for walk in [OptionIter::new(options), OptionIter::new_cut(options)] {
        let stepped: Vec<_> = walk.clone().by_ref().collect();
        let folded = walk.fold(Vec::new(), |mut items, item| {
            items.push(item);
            items
        });
        assert_eq!(
            stepped, folded,
            "internal iteration must give `next`'s items"
        );
    }
    for (w, c) in OptionIter::new(options).zip(OptionIter::new_cut(options)) {
        match (w, c) {
            (Err(w), Err(c)) if w != c => {
                assert!(matches!(
                    w.reason,
                    MalformedReason::MissingLength | MalformedReason::PastHeader { .. }
                ));
                assert!(matches!(c.reason, MalformedReason::CutByCapture { .. }));
                assert_eq!((w.offset, w.kind, w.len), (c.offset, c.kind, c.len));
            }
            (w, c) => assert_eq!(w, c),
        }
    }
}

/// Reference RFC 1071 checksum check over the pseudo-header and the captured segment.
fn reference_checksum_ok(pseudo: &PseudoHeader, segment_len: usize, segment: &[u8]) -> bool {
    fn add(mut sum: u64, bytes: &[u8]) -> u64 {
        for pair in bytes.chunks(2) {
            let hi = u64::from(pair[0]) << 8;
            let lo = pair.get(1).copied().map_or(0, u64::from);
            sum += hi | lo;
        }
        sum
    }
    let mut sum = 0u64;
    for addr in [pseudo.src, pseudo.dst] {
        sum = match addr {
            IpAddr::V4(a) => add(sum, &a.octets()),
            IpAddr::V6(a) => add(sum, &a.octets()),
        };
    }
    sum += 6;
    let len = segment_len as u64;
    sum += (len >> 16) + (len & 0xFFFF);
    sum = add(sum, segment);
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum == 0xFFFF
}

/// Checks a TCP header parsed from `captured` (the bytes passed to
/// `TcpHeader::parse`, from the TCP header on) with the given pseudo-header.
pub fn check_tcp(h: &TcpHeader<'_>, captured: &[u8], pseudo: &PseudoHeader) {
    let segment_len = h.segment_len();
    let fixed = h.fixed_header();
    assert_at(captured, fixed, 0);
    assert_eq!(h.src_port(), be16(captured, 0));
    assert_eq!(h.dst_port(), be16(captured, 2));
    assert_eq!(h.seq(), be32(captured, 4));
    assert_eq!(h.ack(), be32(captured, 8));
    assert_eq!(h.data_offset(), captured[12] >> 4);
    assert!((5..=15).contains(&h.data_offset()));
    let header_len = h.header_len();
    assert_eq!(header_len, usize::from(h.data_offset()) * 4);
    assert!(header_len <= segment_len);

    let flags = h.flags();
    assert_eq!(flags.0, be16(captured, 12) & 0x0FFF);
    let bits = [
        flags.fin(),
        flags.syn(),
        flags.rst(),
        flags.psh(),
        flags.ack(),
        flags.urg(),
        flags.ece(),
        flags.cwr(),
        flags.ae(),
    ];
    for (i, set) in bits.into_iter().enumerate() {
        assert_eq!(set, flags.0 & (1 << i) != 0);
    }
    assert_eq!(u16::from(flags.reserved()), flags.0 >> 9);
    assert_eq!(format!("{flags}").len(), 5);

    assert_eq!(h.window(), be16(captured, 14));
    assert_eq!(h.checksum(), be16(captured, 16));
    assert_eq!(h.urgent_ptr(), be16(captured, 18));

    let options = h.options_raw();
    let payload = h.payload();
    assert_at(captured, options, TCP_MIN_HEADER_LEN);
    assert_at(captured, payload, TCP_MIN_HEADER_LEN + options.len());
    assert!(TCP_MIN_HEADER_LEN + options.len() <= header_len);
    assert_eq!(
        h.options_truncated(),
        TCP_MIN_HEADER_LEN + options.len() < header_len
    );
    if !payload.is_empty() {
        assert!(!h.options_truncated());
    }
    assert_eq!(h.payload_len() + header_len, segment_len);
    assert!(payload.len() <= h.payload_len());
    assert_eq!(h.is_truncated(), captured.len() < segment_len);
    if !h.is_truncated() {
        assert!(!h.options_truncated());
        assert_eq!(payload.len(), h.payload_len());
    }
    // The header walks its options as cut when the capture cut them.
    let cut = h.options_truncated();
    let walked = check_options(options, cut);
    let reference = if cut {
        OptionIter::new_cut(options)
    } else {
        OptionIter::new(options)
    };
    assert!(h.options().eq(reference));
    assert_eq!(h.options().count(), walked);
    let _ = format!("{h:?}");

    match h.verify_checksum(pseudo) {
        None => assert!(h.is_truncated()),
        Some(ok) => {
            assert!(!h.is_truncated());
            let segment = &captured[..segment_len];
            assert_eq!(ok, reference_checksum_ok(pseudo, segment_len, segment));
        }
    }
}

/// Checks the outcome of `TcpHeader::parse(captured, segment_len)`.
pub fn check_tcp_parse(
    result: &Result<TcpHeader<'_>, TcpError>,
    captured: &[u8],
    segment_len: usize,
    pseudo: &PseudoHeader,
) {
    match result {
        Ok(h) => {
            assert_eq!(h.segment_len(), segment_len);
            check_tcp(h, captured, pseudo);
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            match *e {
                TcpError::FixedHeaderCut { captured: n } => {
                    assert_eq!(n, captured.len());
                    assert!(n < TCP_MIN_HEADER_LEN);
                }
                TcpError::DataOffsetTooSmall { data_offset } => {
                    assert!(captured.len() >= TCP_MIN_HEADER_LEN);
                    assert_eq!(data_offset, captured[12] >> 4);
                    assert!(data_offset < 5);
                }
                TcpError::DataOffsetPastSegment {
                    data_offset,
                    segment_len: s,
                } => {
                    assert!(captured.len() >= TCP_MIN_HEADER_LEN);
                    assert_eq!(data_offset, captured[12] >> 4);
                    assert_eq!(s, segment_len);
                    assert!(usize::from(data_offset) * 4 > segment_len);
                }
            }
        }
    }
}

/// The fixed pseudo-headers the `header` target verifies checksums with.
pub fn fixed_pseudo_headers() -> [PseudoHeader; 2] {
    [
        PseudoHeader {
            src: IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(192, 168, 0, 2)),
        },
        PseudoHeader {
            src: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            dst: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
        },
    ]
}

fn check_ip(ip: &IpHeader<'_>, frame: &[u8]) {
    match ip {
        IpHeader::V4(h) => {
            offset_in(frame, h.slice());
            assert_eq!(h.version(), 4);
        }
        IpHeader::V6(h, exts) => {
            let at = offset_in(frame, h.slice());
            assert_eq!(h.version(), 6);
            if !exts.slice().is_empty() {
                assert_at(frame, exts.slice(), at + 40);
            }
        }
    }
    let (src, dst) = (ip.src(), ip.dst());
    assert_eq!(src.is_ipv4(), dst.is_ipv4());
    assert_eq!(src.is_ipv4(), matches!(ip, IpHeader::V4(_)));
}

fn check_tcp_frame(f: &TcpFrame<'_>, frame: &[u8]) {
    check_ip(&f.ip, frame);
    let tcp_bytes = &frame[f.tcp_offset..];
    assert_at(frame, f.tcp.fixed_header(), f.tcp_offset);
    let ip_at = match &f.ip {
        IpHeader::V4(h) => offset_in(frame, h.slice()),
        IpHeader::V6(h, _) => offset_in(frame, h.slice()),
    };
    assert!(ip_at < f.tcp_offset);
    let pseudo = PseudoHeader {
        src: f.ip.src(),
        dst: f.ip.dst(),
    };
    // The captured TCP bytes end at the frame's end or the IP layer's end.
    let captured = &tcp_bytes[..tcp_bytes.len().min(f.tcp.segment_len())];
    check_tcp(&f.tcp, captured, &pseudo);

    let (a, b) = (
        Endpoint {
            addr: pseudo.src,
            port: f.tcp.src_port(),
        },
        Endpoint {
            addr: pseudo.dst,
            port: f.tcp.dst_port(),
        },
    );
    let (key, dir) = FlowKey::new(a, b);
    let (back, back_dir) = FlowKey::new(b, a);
    assert!(key.lower <= key.upper);
    if a != b {
        assert_eq!(key, back);
        assert_ne!(dir, back_dir);
    } else {
        assert_eq!(dir, FlowDirection::LowerToUpper);
    }
}

fn check_frame_error(e: &FrameError, link: LinkType, frame: &[u8]) {
    let text = e.to_string();
    assert!(text.contains(&e.layer.to_string()));
    match e.kind {
        FrameErrorKind::Cut { needed, captured } => {
            assert!(
                needed > captured,
                "cut at {e:?}: needs {needed}, has {captured} (link {link:?}, {} bytes)",
                frame.len()
            );
        }
        FrameErrorKind::IpVersion(v) => assert!(v != 4 && v != 6),
        FrameErrorKind::Ipv4HeaderLength(ihl) => {
            assert_eq!(e.layer, Layer::Ipv4);
            assert!(ihl < 5);
        }
        FrameErrorKind::Ipv4TotalLength {
            total_len,
            header_len,
        } => {
            assert_eq!(e.layer, Layer::Ipv4);
            assert!(total_len < header_len);
        }
        FrameErrorKind::Ipv6Extension => assert_eq!(e.layer, Layer::Ipv6Extension),
        FrameErrorKind::Tcp(t) => {
            assert_eq!(e.layer, Layer::Tcp);
            assert!(e.offset <= frame.len());
            assert!(!t.to_string().is_empty());
        }
    }
}

/// Decodes `frame` as link type `link` and checks whatever comes out.
pub fn check_decode(link: LinkType, frame: &[u8]) {
    let supported = LINK_TYPES.contains(&link.0);
    match frame::decode(link, frame) {
        Ok(Decoded::Tcp(f)) => {
            assert!(supported);
            check_tcp_frame(&f, frame);
        }
        Ok(Decoded::TcpFragment { ip, offset }) => {
            assert!(supported);
            check_ip(&ip, frame);
            assert!(offset > 0 && offset % 8 == 0);
        }
        Ok(Decoded::NotTcp) => assert!(supported),
        Ok(Decoded::Unsupported(u)) => match u {
            Unsupported::LinkType(l) => {
                assert_eq!(l, link);
                assert!(!supported);
            }
            Unsupported::Tunnel | Unsupported::IcmpQuotedTcp => assert!(supported),
        },
        Err(e) => {
            assert!(supported);
            check_frame_error(&e, link, frame);
        }
    }
}
