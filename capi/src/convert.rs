//! From the Rust API's values to the C structs: one place, no re-derivation.

use std::ffi::c_char;
use std::net::IpAddr;

use synack_core::flow::Endpoint;
use synack_core::frame::{Decoded, TcpFrame, Unsupported};
use synack_core::ip::IpHeader;
use synack_core::tcp::TcpHeader;
use synack_dissector::annotation::{Annotation, Direction, ResetKind, Role, TcpState};
use synack_dissector::tracker::EndReason;
use synack_dissector::verdict::{CloseKind, ConnectionFacts, OpenKind, Side, SideOptions, Verdict};

use crate::types::*;

pub(crate) fn role(r: Option<Role>) -> synack_role {
    match r {
        None => synack_role::None,
        Some(Role::Handshake1) => synack_role::Handshake1,
        Some(Role::Handshake2) => synack_role::Handshake2,
        Some(Role::Handshake3) => synack_role::Handshake3,
        Some(Role::Teardown1) => synack_role::Teardown1,
        Some(Role::Teardown2) => synack_role::Teardown2,
        Some(Role::Teardown3) => synack_role::Teardown3,
        Some(Role::Teardown4) => synack_role::Teardown4,
        Some(Role::Reset) => synack_role::Reset,
    }
}

/// The states in `synack_state` order.
pub(crate) const STATES: [TcpState; 11] = TcpState::ALL;

pub(crate) fn state(s: Option<TcpState>) -> synack_state {
    match s {
        None => synack_state::Unknown,
        Some(TcpState::Listen) => synack_state::Listen,
        Some(TcpState::SynSent) => synack_state::SynSent,
        Some(TcpState::SynReceived) => synack_state::SynReceived,
        Some(TcpState::Established) => synack_state::Established,
        Some(TcpState::FinWait1) => synack_state::FinWait1,
        Some(TcpState::FinWait2) => synack_state::FinWait2,
        Some(TcpState::CloseWait) => synack_state::CloseWait,
        Some(TcpState::Closing) => synack_state::Closing,
        Some(TcpState::LastAck) => synack_state::LastAck,
        Some(TcpState::TimeWait) => synack_state::TimeWait,
        Some(TcpState::Closed) => synack_state::Closed,
    }
}

pub(crate) const RESET_KINDS: [ResetKind; 3] =
    [ResetKind::Refused, ResetKind::AfterClose, ResetKind::Abort];

pub(crate) fn reset_kind(k: Option<ResetKind>) -> synack_reset_kind {
    match k {
        None => synack_reset_kind::None,
        Some(ResetKind::Refused) => synack_reset_kind::Refused,
        Some(ResetKind::AfterClose) => synack_reset_kind::AfterClose,
        Some(ResetKind::Abort) => synack_reset_kind::Abort,
    }
}

pub(crate) const DIRECTIONS: [Direction; 2] =
    [Direction::ClientToServer, Direction::ServerToClient];

pub(crate) fn direction(d: Direction) -> synack_direction {
    synack_direction::from(d)
}

pub(crate) const OPEN_KINDS: [OpenKind; 5] = OpenKind::ALL;

pub(crate) fn open_kind(k: OpenKind) -> synack_open_kind {
    match k {
        OpenKind::ThreeWay => synack_open_kind::ThreeWay,
        OpenKind::Simultaneous => synack_open_kind::Simultaneous,
        OpenKind::FastOpen => synack_open_kind::FastOpen,
        OpenKind::Midstream => synack_open_kind::Midstream,
        OpenKind::Incomplete => synack_open_kind::Incomplete,
    }
}

pub(crate) const CLOSE_KINDS: [CloseKind; 5] = CloseKind::ALL;

pub(crate) fn close_kind(k: CloseKind) -> synack_close_kind {
    match k {
        CloseKind::Fin => synack_close_kind::Fin,
        CloseKind::Simultaneous => synack_close_kind::Simultaneous,
        CloseKind::HalfOpen => synack_close_kind::HalfOpen,
        CloseKind::Reset => synack_close_kind::Reset,
        CloseKind::None => synack_close_kind::None,
    }
}

pub(crate) const SIDES: [Side; 2] = [Side::Client, Side::Server];

pub(crate) fn side(s: Option<Side>) -> synack_side {
    match s {
        None => synack_side::None,
        Some(Side::Client) => synack_side::Client,
        Some(Side::Server) => synack_side::Server,
    }
}

pub(crate) const END_REASONS: [EndReason; 5] = [
    EndReason::Closed,
    EndReason::Idle,
    EndReason::Evicted,
    EndReason::Reused,
    EndReason::CaptureEnd,
];

/// Stable names of the end reasons (the dissector has none): `closed`, `idle`, ...
pub(crate) fn end_reason_name(r: EndReason) -> &'static str {
    match r {
        EndReason::Closed => "closed",
        EndReason::Idle => "idle",
        EndReason::Evicted => "evicted",
        EndReason::Reused => "reused",
        EndReason::CaptureEnd => "capture-end",
    }
}

pub(crate) fn end_reason(r: EndReason) -> synack_end_reason {
    match r {
        EndReason::Closed => synack_end_reason::Closed,
        EndReason::Idle => synack_end_reason::Idle,
        EndReason::Evicted => synack_end_reason::Evicted,
        EndReason::Reused => synack_end_reason::Reused,
        EndReason::CaptureEnd => synack_end_reason::CaptureEnd,
    }
}

pub(crate) fn addr_endpoint(addr: IpAddr, port: u16) -> synack_endpoint {
    synack_endpoint::new(addr, port)
}

pub(crate) fn endpoint(e: &Endpoint) -> synack_endpoint {
    addr_endpoint(e.addr, e.port)
}

fn ptr_or_null(bytes: &[u8]) -> *const u8 {
    if bytes.is_empty() {
        std::ptr::null()
    } else {
        bytes.as_ptr()
    }
}

pub(crate) fn tcp_header(h: &TcpHeader<'_>) -> synack_tcp_header {
    let header_len = h.header_len();
    synack_tcp_header {
        src_port: h.src_port(),
        dst_port: h.dst_port(),
        seq: h.seq(),
        ack: h.ack(),
        data_offset: h.data_offset(),
        header_len: u16::try_from(header_len).unwrap_or(u16::MAX),
        flags: h.flags().0,
        window: h.window(),
        checksum: h.checksum(),
        urgent_ptr: h.urgent_ptr(),
        options: ptr_or_null(h.options_raw()),
        options_len: h.options_raw().len(),
        payload: ptr_or_null(h.payload()),
        payload_len: h.payload().len(),
        segment_len: h.segment_len(),
        wire_payload_len: h.segment_len().saturating_sub(header_len),
        truncated: h.is_truncated(),
        options_truncated: h.options_truncated(),
    }
}

pub(crate) fn empty_tcp_header() -> synack_tcp_header {
    synack_tcp_header {
        src_port: 0,
        dst_port: 0,
        seq: 0,
        ack: 0,
        data_offset: 0,
        header_len: 0,
        flags: 0,
        window: 0,
        checksum: 0,
        urgent_ptr: 0,
        options: std::ptr::null(),
        options_len: 0,
        payload: std::ptr::null(),
        payload_len: 0,
        segment_len: 0,
        wire_payload_len: 0,
        truncated: false,
        options_truncated: false,
    }
}

pub(crate) fn empty_frame(kind: synack_frame_kind) -> synack_frame {
    synack_frame {
        kind,
        src: synack_endpoint::default(),
        dst: synack_endpoint::default(),
        ip_version: 0,
        ip_offset: 0,
        ip_header_len: 0,
        tcp_offset: 0,
        payload_offset: 0,
        first_fragment: false,
        fragment_offset: 0,
        tcp: empty_tcp_header(),
    }
}

/// Offset of `inner` within `outer` (both from the same frame), or 0.
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize)
        .checked_sub(outer.as_ptr() as usize)
        .filter(|&o| o <= outer.len())
        .unwrap_or(0)
}

/// The IP header's offset in `bytes` and its length (extensions included).
fn ip_place(bytes: &[u8], ip: &IpHeader<'_>) -> (u8, usize, usize) {
    match ip {
        IpHeader::V4(h) => (4, offset_in(bytes, h.slice()), h.slice().len()),
        IpHeader::V6(h, ext) => (
            6,
            offset_in(bytes, h.slice()),
            h.slice().len() + ext.slice().len(),
        ),
    }
}

fn ip_frame(bytes: &[u8], kind: synack_frame_kind, ip: &IpHeader<'_>) -> synack_frame {
    let (version, ip_offset, ip_header_len) = ip_place(bytes, ip);
    synack_frame {
        src: addr_endpoint(ip.src(), 0),
        dst: addr_endpoint(ip.dst(), 0),
        ip_version: version,
        ip_offset,
        ip_header_len,
        ..empty_frame(kind)
    }
}

pub(crate) fn tcp_frame(bytes: &[u8], f: &TcpFrame<'_>) -> synack_frame {
    let mut out = ip_frame(bytes, synack_frame_kind::Tcp, &f.ip);
    out.src.port = f.tcp.src_port();
    out.dst.port = f.tcp.dst_port();
    out.tcp_offset = f.tcp_offset;
    out.payload_offset = f.tcp_offset + f.tcp.header_len();
    out.first_fragment = f.first_fragment;
    out.tcp = tcp_header(&f.tcp);
    out
}

pub(crate) fn decoded(bytes: &[u8], d: &Decoded<'_>) -> synack_frame {
    match d {
        Decoded::Tcp(f) => tcp_frame(bytes, f),
        Decoded::TcpFragment { ip, offset } => {
            let mut out = ip_frame(bytes, synack_frame_kind::TcpFragment, ip);
            out.fragment_offset = *offset;
            out
        }
        Decoded::NotTcp => empty_frame(synack_frame_kind::NotTcp),
        Decoded::Unsupported(Unsupported::Tunnel) => empty_frame(synack_frame_kind::Tunnel),
        Decoded::Unsupported(Unsupported::IcmpQuotedTcp) => {
            empty_frame(synack_frame_kind::IcmpQuotedTcp)
        }
        Decoded::Unsupported(Unsupported::LinkType(_)) => {
            empty_frame(synack_frame_kind::UnsupportedLink)
        }
    }
}

fn opt_i64(v: Option<u64>) -> i64 {
    v.and_then(|v| i64::try_from(v).ok()).unwrap_or(-1)
}

fn side_options(o: &SideOptions) -> synack_side_options {
    synack_side_options {
        mss: o.mss.map_or(-1, i32::from),
        wscale: o.wscale.map_or(-1, i32::from),
        sack_permitted: o.sack_permitted,
        timestamps: o.timestamps,
    }
}

pub(crate) fn facts(f: Option<&ConnectionFacts>) -> synack_facts {
    match f {
        Some(f) => synack_facts {
            open: open_kind(f.open),
            rtt_syn_synack_us: opt_i64(f.rtt_syn_synack_us),
            rtt_synack_ack_us: opt_i64(f.rtt_synack_ack_us),
            client: side_options(&f.client_options),
            server: side_options(&f.server_options),
            close: close_kind(f.close),
            active_closer: side(f.active_closer),
        },
        None => synack_facts {
            open: synack_open_kind::Incomplete,
            rtt_syn_synack_us: -1,
            rtt_synack_ack_us: -1,
            client: side_options(&SideOptions::default()),
            server: side_options(&SideOptions::default()),
            close: synack_close_kind::None,
            active_closer: synack_side::None,
        },
    }
}

pub(crate) fn annotation(
    frame_number: u64,
    ts_ns: u64,
    a: &Annotation,
    f: Option<&ConnectionFacts>,
    frame: synack_frame,
) -> synack_annotation {
    synack_annotation {
        frame_number,
        ts_ns,
        conn: a.conn,
        direction: direction(a.dir),
        role: role(a.role),
        combines: a.combines.bits(),
        reset_kind: reset_kind(a.reset_kind),
        retransmission: a.retransmission,
        client_state: state(a.states.client),
        server_state: state(a.states.server),
        warnings: a.warnings.bits(),
        facts: facts(f),
        frame,
    }
}

/// Copies `s` into a NUL-terminated C array, cut to fit; true when cut.
fn fill<const N: usize>(dst: &mut [c_char; N], s: &str) -> bool {
    let bytes = s.as_bytes();
    let n = bytes.len().min(N - 1);
    for (d, &b) in dst.iter_mut().zip(&bytes[..n]) {
        *d = b as c_char;
    }
    dst[n..].fill(0);
    n < bytes.len()
}

pub(crate) fn verdict(v: &Verdict, reason: EndReason) -> synack_verdict {
    let mut conn_state = [0; SYNACK_CONN_STATE_LEN];
    fill(&mut conn_state, v.conn_state);
    let mut history = [0; SYNACK_HISTORY_LEN];
    let history_truncated = fill(&mut history, &v.history);
    synack_verdict {
        conn: v.conn,
        first_frame: v.first_frame,
        last_frame: v.last_frame,
        client: endpoint(&v.client),
        server: endpoint(&v.server),
        start_ns: v.start_ns,
        end_ns: v.end_ns,
        packets_c2s: v.c2s.packets,
        packets_s2c: v.s2c.packets,
        bytes_c2s: v.c2s.bytes,
        bytes_s2c: v.s2c.bytes,
        completeness: v.completeness,
        conn_state,
        history,
        history_truncated,
        close: close_kind(v.facts.close),
        active_closer: side(v.facts.active_closer),
        syn_retransmissions: v.syn_retransmissions,
        facts: facts(Some(&v.facts)),
        client_final_state: state(v.final_states.client),
        server_final_state: state(v.final_states.server),
        roles_seen: v.roles_seen.bits(),
        role_frames: Role::ALL.map(|r| v.frame_of(r).unwrap_or(0)),
        end_reason: end_reason(reason),
        labels: std::ptr::null(),
        label_count: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_follow_the_dissector_order() {
        for (i, r) in Role::ALL.iter().enumerate() {
            assert_eq!(role(Some(*r)) as i32, i as i32);
        }
        for (i, s) in STATES.iter().enumerate() {
            assert_eq!(state(Some(*s)) as i32, i as i32);
        }
        for (i, k) in RESET_KINDS.iter().enumerate() {
            assert_eq!(reset_kind(Some(*k)) as i32, i as i32);
        }
        for (i, k) in OPEN_KINDS.iter().enumerate() {
            assert_eq!(open_kind(*k) as i32, i as i32);
        }
        for (i, k) in CLOSE_KINDS.iter().enumerate() {
            assert_eq!(close_kind(*k) as i32, i as i32);
        }
        for (i, k) in END_REASONS.iter().enumerate() {
            assert_eq!(end_reason(*k) as i32, i as i32);
        }
        for (i, d) in DIRECTIONS.iter().enumerate() {
            assert_eq!(direction(*d) as i32, i as i32);
        }
        for (i, s) in SIDES.iter().enumerate() {
            assert_eq!(side(Some(*s)) as i32, i as i32);
        }
    }

    #[test]
    fn arrays_are_cut_and_terminated() {
        let mut a = [1 as c_char; 4];
        assert!(!fill(&mut a, "ab"));
        assert_eq!(a, [b'a' as c_char, b'b' as c_char, 0, 0]);
        assert!(fill(&mut a, "abcdef"));
        assert_eq!(a, [b'a' as c_char, b'b' as c_char, b'c' as c_char, 0]);
    }
}
