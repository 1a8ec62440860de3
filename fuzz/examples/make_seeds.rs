//! Builds the seed corpora of the `frame`, `header` and `options` targets from
//! real captures, and picks the `capture` seeds.
//!
//! ```text
//! cd fuzz && cargo +nightly run --release --example make_seeds -- /work/shared/corpus corpus
//! ```
//!
//! Every capture under the input folder is read with `CaptureReader`; each
//! frame is decoded and kept when it shows something not seen yet (a new
//! combination of link type, IP version, outcome and TCP option kinds), at most
//! [`PER_SIGNATURE`] per combination. From the kept TCP frames come the
//! `header` seeds (the TCP bytes behind the `header` target's two-byte
//! segment-length selector) and the `options` seeds (each distinct option
//! block). Link types with no real capture (108, 50, 14, and other spellings
//! of null and PPP) get frames made by re-wrapping real IPv4 and IPv6 TCP
//! packets. Capture seeds are the capture files of at most [`CAPTURE_MAX`]
//! bytes (docs/fuzzing.md adds gzipped copies with the `gzip` command). Files are named by an FNV-1a
//! hash of their content, so reruns add nothing twice.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use synack_core::capture::{CaptureReader, LinkType};
use synack_core::frame::{self, Decoded};
use synack_core::ip::IpHeader;
use synack_core::tcp::TcpOption;
use synack_fuzz::LINK_TYPES;

/// Frames kept per signature.
const PER_SIGNATURE: usize = 2;
/// Largest frame kept as a seed.
const FRAME_MAX: usize = 2048;
/// Largest capture file copied as a seed.
const CAPTURE_MAX: u64 = 3000;

fn fnv(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn write_seed(dir: &Path, data: &[u8]) -> bool {
    let path = dir.join(fnv(data));
    if path.exists() {
        return false;
    }
    fs::write(path, data).expect("write seed");
    true
}

fn captures(root: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(root)
        .expect("read corpus dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            captures(&path, out);
        } else if let Ok(head) = fs::read(&path).map(|d| d.get(..4).map(<[u8]>::to_vec)) {
            let is_capture = matches!(
                head.as_deref(),
                Some(
                    [0xd4, 0xc3, 0xb2, 0xa1]
                        | [0x4d, 0x3c, 0xb2, 0xa1]
                        | [0xa1, 0xb2, 0xc3, 0xd4]
                        | [0xa1, 0xb2, 0x3c, 0x4d]
                        | [0x34, 0xcd, 0xb2, 0xa1]
                        | [0x0a, 0x0d, 0x0d, 0x0a]
                        | [0x1f, 0x8b, _, _]
                )
            );
            if is_capture {
                out.push(path);
            }
        }
    }
}

/// A short description of what decoding `frame` finds, for deduplication.
fn signature(link: LinkType, frame: &[u8]) -> String {
    match frame::decode(link, frame) {
        Ok(Decoded::Tcp(f)) => {
            let ip = match &f.ip {
                IpHeader::V4(h) => format!("v4ihl{}", h.ihl()),
                IpHeader::V6(_, e) => format!("v6ext{}", e.slice().len()),
            };
            let kinds: Vec<String> = f
                .tcp
                .options()
                .map(|o| match o {
                    Ok(TcpOption::Sack(b)) => format!("5x{}", b.count()),
                    Ok(o) => o.kind().to_string(),
                    Err(m) => format!("bad{}", m.kind),
                })
                .collect();
            format!(
                "{} tcp {ip} off{} frag{} trunc{}/{} flags{:03x} pay{} opts[{}]",
                link.0,
                f.tcp_offset,
                f.first_fragment,
                f.tcp.is_truncated(),
                f.tcp.options_truncated(),
                f.tcp.flags().0 & !0x18, // PSH and ACK vary too much to be interesting
                !f.tcp.payload().is_empty(),
                kinds.join(",")
            )
        }
        Ok(other) => format!("{} {:?}", link.0, std::mem::discriminant(&other)),
        Err(e) => format!("{} err {:?} {:?}", link.0, e.layer, e.kind),
    }
}

/// The two-byte prefix that makes the `frame` target pick `link`.
fn link_prefix(link: u32) -> Option<[u8; 2]> {
    let i = LINK_TYPES.iter().position(|&l| l == link)?;
    Some((i as u16).to_be_bytes())
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let input = PathBuf::from(args.next().unwrap_or_else(|| "/work/shared/corpus".into()));
    let out = PathBuf::from(args.next().unwrap_or_else(|| "corpus".into()));
    let dirs: BTreeMap<&str, PathBuf> = ["capture", "frame", "header", "options"]
        .into_iter()
        .map(|t| (t, out.join(t)))
        .collect();
    for d in dirs.values() {
        fs::create_dir_all(d).expect("create corpus dir");
    }

    let mut files = Vec::new();
    captures(&input, &mut files);

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut frames: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut ip_packets: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    for path in &files {
        let Ok(mut reader) = CaptureReader::open(path) else {
            continue;
        };
        while let Some(Ok(p)) = reader.next_packet() {
            if p.data.len() > FRAME_MAX || link_prefix(p.link_type.0).is_none() {
                continue;
            }
            let sig = signature(p.link_type, p.data);
            let n = seen.entry(sig).or_default();
            if *n >= PER_SIGNATURE {
                continue;
            }
            *n += 1;
            frames.push((p.link_type.0, p.data.to_vec()));
            // Keep one whole IPv4 and one whole IPv6 TCP packet to re-wrap.
            if let Ok(Decoded::Tcp(f)) = frame::decode(p.link_type, p.data) {
                let ip_at = match &f.ip {
                    IpHeader::V4(h) => h.slice().as_ptr() as usize - p.data.as_ptr() as usize,
                    IpHeader::V6(h, _) => h.slice().as_ptr() as usize - p.data.as_ptr() as usize,
                };
                let version = p.data[ip_at] >> 4;
                if !f.tcp.is_truncated() && f.tcp.options().count() >= 3 {
                    ip_packets
                        .entry(version)
                        .or_insert_with(|| p.data[ip_at..].to_vec());
                }
            }
        }
    }

    // Link types (or spellings of them) no real capture has.
    for ip in ip_packets.values() {
        let v6 = ip[0] >> 4 == 6;
        let mut wrap = |link: u32, head: &[u8]| {
            let mut f = head.to_vec();
            f.extend_from_slice(ip);
            frames.push((link, f));
        };
        let (af_le, af_be): ([u8; 4], [u8; 4]) = if v6 {
            ([30, 0, 0, 0], [0, 0, 0, 24])
        } else {
            ([2, 0, 0, 0], [0, 0, 0, 2])
        };
        wrap(0, &af_le);
        wrap(0, &af_be);
        wrap(108, &af_be);
        let ppp_proto: &[u8] = if v6 { &[0x00, 0x57] } else { &[0x00, 0x21] };
        wrap(50, &[&[0xFF, 0x03][..], ppp_proto].concat());
        wrap(9, ppp_proto);
        if !v6 {
            wrap(9, &[0x21]); // compressed protocol field
        }
        wrap(14, &[]);
        wrap(12, &[]);
        wrap(101, &[]);
        wrap(if v6 { 229 } else { 228 }, &[]);
        let ethertype: &[u8] = if v6 { &[0x86, 0xDD] } else { &[0x08, 0x00] };
        // Ethernet with a QinQ pair of tags.
        let mut eth = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        eth.extend_from_slice(&[0x88, 0xA8, 0x00, 0x0A, 0x81, 0x00, 0x00, 0x14]);
        eth.extend_from_slice(ethertype);
        wrap(1, &eth);
        // Cisco HDLC.
        wrap(104, &[&[0x0F, 0x00][..], ethertype].concat());
    }

    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut count = |target: &'static str, data: &[u8]| {
        if write_seed(&dirs[target], data) {
            let c = counts.entry(target).or_default();
            c.0 += 1;
            c.1 += data.len();
        }
    };
    let mut option_blocks = BTreeSet::new();
    for (link, data) in &frames {
        let prefix = link_prefix(*link).expect("supported link type");
        count("frame", &[&prefix[..], data].concat());
        if let Ok(Decoded::Tcp(f)) = frame::decode(LinkType(*link), data) {
            let tcp = &data[f.tcp_offset..];
            let tcp = &tcp[..tcp.len().min(f.tcp.segment_len())];
            let seg = f.tcp.segment_len();
            let sel = match u16::try_from(seg) {
                Ok(s) if s < 0xFE00 => s,
                _ => 0xFF00,
            };
            count("header", &[&sel.to_be_bytes()[..], tcp].concat());
            let opts = f.tcp.options_raw();
            if !opts.is_empty() && option_blocks.insert(opts.to_vec()) {
                count("options", opts);
            }
        }
    }

    for path in &files {
        let Ok(meta) = fs::metadata(path) else {
            continue;
        };
        if meta.len() <= CAPTURE_MAX {
            let data = fs::read(path).expect("read capture");
            count("capture", &data);
        }
    }

    for (target, (n, bytes)) in &counts {
        println!("{target}: {n} new seeds, {bytes} bytes");
    }
    println!("signatures: {}", seen.len());
}
