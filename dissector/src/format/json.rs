//! The `json` formats: one JSON object per line (JSON Lines) for each TCP
//! packet, and one for each connection's verdict.
//!
//! The keys, their order and their meaning are documented, with the schema
//! version [`SCHEMA_VERSION`], in `docs/json-schema.md`. Objects are written
//! straight into the caller's writer (a reused buffer or a `BufWriter`): no
//! allocation per packet.

use std::io::{self, Write};

use synack_core::frame::TcpFrame;
use synack_core::tcp::{MalformedOption, TcpOption};

use crate::annotation::{Annotation, Role, RoleSet, TcpState};
use crate::verdict::Verdict;

/// Version of the JSON output schema described in `docs/json-schema.md`.
/// Raised when a key is removed or changes meaning; adding a key does not raise it.
pub const SCHEMA_VERSION: u32 = 1;

/// Labels attached to a packet or connection by plugins: `(key, value)`
/// pairs, rendered as the `labels` object in the order given.
pub type Labels<'a> = &'a [(&'a str, &'a str)];

/// Writes `s` as a JSON string, quotes included.
pub fn write_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        match escape {
            Some(e) => out.write_all(e)?,
            None => write!(out, "\\u{b:04x}")?,
        }
        start = i + 1;
    }
    out.write_all(&bytes[start..])?;
    out.write_all(b"\"")
}

/// Writes bytes as a JSON string of lowercase hex digits.
fn write_hex(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(b"\"")?;
    for b in bytes {
        write!(out, "{b:02x}")?;
    }
    out.write_all(b"\"")
}

/// Writes `"name"` or `null`.
fn write_opt_name(out: &mut impl Write, name: Option<&str>) -> io::Result<()> {
    match name {
        Some(n) => write_str(out, n),
        None => out.write_all(b"null"),
    }
}

/// Writes a number or `null`.
fn write_opt_num(out: &mut impl Write, n: Option<u64>) -> io::Result<()> {
    match n {
        Some(n) => write!(out, "{n}"),
        None => out.write_all(b"null"),
    }
}

/// Writes the `labels` object.
fn write_labels<'a>(
    out: &mut impl Write,
    labels: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, (k, v)) in labels.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_str(out, k)?;
        out.write_all(b":")?;
        write_str(out, v)?;
    }
    out.write_all(b"}")
}

/// Writes the `states` object: `{"client":..,"server":..}`.
fn write_states(
    out: &mut impl Write,
    client: Option<TcpState>,
    server: Option<TcpState>,
) -> io::Result<()> {
    out.write_all(b"{\"client\":")?;
    write_opt_name(out, client.map(TcpState::name))?;
    out.write_all(b",\"server\":")?;
    write_opt_name(out, server.map(TcpState::name))?;
    out.write_all(b"}")
}

/// Writes a role set as an array of names, or `null` when empty.
fn write_roles(out: &mut impl Write, roles: RoleSet) -> io::Result<()> {
    if roles.is_empty() {
        return out.write_all(b"null");
    }
    out.write_all(b"[")?;
    for (i, r) in roles.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_str(out, r.name())?;
    }
    out.write_all(b"]")
}

/// Writes `"secs.nanos"` with nine digits of nanoseconds.
pub fn write_ts(out: &mut impl Write, ts_ns: u64) -> io::Result<()> {
    write!(
        out,
        "\"{}.{:09}\"",
        ts_ns / 1_000_000_000,
        ts_ns % 1_000_000_000
    )
}

/// The reason text of a malformed option (without its kind and offset, which
/// the object carries).
fn write_malformed_reason(out: &mut impl Write, m: &MalformedOption) -> io::Result<()> {
    write!(out, "\"{}\"", m.reason)
}

/// Writes one option object.
fn write_option(
    out: &mut impl Write,
    item: &Result<TcpOption<'_>, MalformedOption>,
) -> io::Result<()> {
    let opt = match item {
        Ok(o) => o,
        Err(m) => {
            write!(out, "{{\"kind\":{},\"len\":", m.kind)?;
            write_opt_num(out, m.len.map(u64::from))?;
            out.write_all(b",\"malformed\":")?;
            write_malformed_reason(out, m)?;
            return out.write_all(b"}");
        }
    };
    write!(out, "{{\"kind\":{},\"len\":{}", opt.kind(), opt.len())?;
    match *opt {
        TcpOption::Eol | TcpOption::Nop | TcpOption::SackPermitted => {}
        TcpOption::Mss(v) => write!(out, ",\"mss\":{v}")?,
        TcpOption::WindowScale(s) => write!(out, ",\"shift\":{s}")?,
        TcpOption::Sack(blocks) => {
            out.write_all(b",\"blocks\":[")?;
            for (i, (l, r)) in blocks.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write!(out, "[{l},{r}]")?;
            }
            out.write_all(b"]")?;
        }
        TcpOption::Timestamps { tsval, tsecr } => {
            write!(out, ",\"tsval\":{tsval},\"tsecr\":{tsecr}")?
        }
        TcpOption::Md5Signature(digest) => {
            out.write_all(b",\"digest\":")?;
            write_hex(out, digest)?;
        }
        TcpOption::UserTimeout { minutes, timeout } => {
            write!(out, ",\"minutes\":{minutes},\"timeout\":{timeout}")?
        }
        TcpOption::Authentication {
            key_id,
            rnext_key_id,
            mac,
        } => {
            write!(
                out,
                ",\"key_id\":{key_id},\"rnext_key_id\":{rnext_key_id},\"mac\":"
            )?;
            write_hex(out, mac)?;
        }
        TcpOption::Mptcp { subtype, data } => {
            write!(out, ",\"subtype\":{subtype},\"data\":")?;
            write_hex(out, data)?;
        }
        TcpOption::FastOpen {
            cookie,
            experimental,
        } => {
            if experimental {
                write!(out, ",\"exid\":{}", synack_core::tcp::TFO_EXPERIMENT_ID)?;
            }
            out.write_all(b",\"cookie\":")?;
            write_hex(out, cookie)?;
        }
        TcpOption::Experimental { exid, data, .. } => {
            write!(out, ",\"exid\":{exid},\"data\":")?;
            write_hex(out, data)?;
        }
        TcpOption::Unknown { data, .. } => {
            out.write_all(b",\"data\":")?;
            write_hex(out, data)?;
        }
    }
    out.write_all(b"}")
}

/// Writes one packet's JSON object and its newline.
///
/// `frame_no` and `ts_ns` are the capture record's; `labels` fill the
/// `labels` object (empty: `{}`).
pub fn write_packet(
    out: &mut impl Write,
    frame_no: u64,
    ts_ns: u64,
    frame: &TcpFrame<'_>,
    ann: &Annotation,
    labels: Labels<'_>,
) -> io::Result<()> {
    let tcp = &frame.tcp;
    write!(out, "{{\"frame\":{frame_no},\"ts_ns\":{ts_ns},\"ts\":")?;
    write_ts(out, ts_ns)?;
    write!(
        out,
        ",\"src\":\"{}\",\"sport\":{},\"dst\":\"{}\",\"dport\":{}",
        frame.ip.src(),
        tcp.src_port(),
        frame.ip.dst(),
        tcp.dst_port()
    )?;
    write!(
        out,
        ",\"seq\":{},\"ack\":{},\"hdr_len\":{},\"flags\":{},\"win\":{},\"len\":{},\"checksum\":{},\"urg\":{}",
        tcp.seq(),
        tcp.ack(),
        tcp.header_len(),
        tcp.flags().0,
        tcp.window(),
        tcp.payload_len(),
        tcp.checksum(),
        tcp.urgent_ptr()
    )?;
    out.write_all(b",\"options\":[")?;
    for (i, item) in tcp.options().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_option(out, &item)?;
    }
    write!(out, "],\"conn\":{},\"dir\":", ann.conn)?;
    write_str(out, ann.dir.name())?;
    out.write_all(b",\"role\":")?;
    write_opt_name(out, ann.role.map(Role::name))?;
    out.write_all(b",\"combines\":")?;
    write_roles(out, ann.combines)?;
    out.write_all(b",\"reset_kind\":")?;
    write_opt_name(out, ann.reset_kind.map(|k| k.name()))?;
    out.write_all(b",\"retransmission\":")?;
    out.write_all(if ann.retransmission { b"true" } else { b"null" })?;
    out.write_all(b",\"states\":")?;
    write_states(out, ann.states.client, ann.states.server)?;
    out.write_all(b",\"warnings\":[")?;
    for (i, w) in ann.warnings.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_str(out, w.code())?;
    }
    out.write_all(b"],\"labels\":")?;
    write_labels(out, labels.iter().copied())?;
    out.write_all(b"}\n")
}

/// Writes one connection verdict's JSON object (with its plugins' labels) and its newline.
pub fn write_verdict(out: &mut impl Write, v: &Verdict) -> io::Result<()> {
    write!(
        out,
        "{{\"conn\":{},\"first_frame\":{},\"last_frame\":{}",
        v.conn, v.first_frame, v.last_frame
    )?;
    write!(
        out,
        ",\"client_ip\":\"{}\",\"client_port\":{},\"server_ip\":\"{}\",\"server_port\":{}",
        v.client.addr, v.client.port, v.server.addr, v.server.port
    )?;
    write!(
        out,
        ",\"start_ns\":{},\"end_ns\":{},\"packets_c2s\":{},\"packets_s2c\":{},\"bytes_c2s\":{},\"bytes_s2c\":{},\"completeness\":{}",
        v.start_ns, v.end_ns, v.c2s.packets, v.s2c.packets, v.c2s.bytes, v.s2c.bytes, v.completeness
    )?;
    out.write_all(b",\"conn_state\":")?;
    write_str(out, v.conn_state)?;
    out.write_all(b",\"history\":")?;
    write_str(out, &v.history)?;
    out.write_all(b",\"open\":")?;
    write_str(out, v.facts.open.name())?;
    out.write_all(b",\"close\":")?;
    write_str(out, v.facts.close.name())?;
    out.write_all(b",\"active_closer\":")?;
    write_opt_name(out, v.facts.active_closer.map(|s| s.name()))?;
    write!(out, ",\"syn_retransmissions\":{}", v.syn_retransmissions)?;
    out.write_all(b",\"rtt_syn_synack_us\":")?;
    write_opt_num(out, v.facts.rtt_syn_synack_us)?;
    out.write_all(b",\"rtt_synack_ack_us\":")?;
    write_opt_num(out, v.facts.rtt_synack_ack_us)?;
    let (c, s) = (&v.facts.client_options, &v.facts.server_options);
    out.write_all(b",\"client_mss\":")?;
    write_opt_num(out, c.mss.map(u64::from))?;
    out.write_all(b",\"server_mss\":")?;
    write_opt_num(out, s.mss.map(u64::from))?;
    out.write_all(b",\"client_wscale\":")?;
    write_opt_num(out, c.wscale.map(u64::from))?;
    out.write_all(b",\"server_wscale\":")?;
    write_opt_num(out, s.wscale.map(u64::from))?;
    write!(
        out,
        ",\"client_sack_permitted\":{},\"server_sack_permitted\":{},\"client_timestamps\":{},\"server_timestamps\":{}",
        c.sack_permitted, s.sack_permitted, c.timestamps, s.timestamps
    )?;
    out.write_all(b",\"client_final_state\":")?;
    write_opt_name(out, v.final_states.client.map(TcpState::name))?;
    out.write_all(b",\"server_final_state\":")?;
    write_opt_name(out, v.final_states.server.map(TcpState::name))?;
    out.write_all(b",\"roles\":{")?;
    let mut first = true;
    for role in Role::ALL {
        if let Some(frame) = v.frame_of(role) {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            write_str(out, role.name())?;
            write!(out, ":{frame}")?;
        }
    }
    out.write_all(b"},\"labels\":")?;
    write_labels(
        out,
        v.labels.iter().map(|(k, val)| (k.as_str(), val.as_str())),
    )?;
    out.write_all(b"}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut v = Vec::new();
        f(&mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            s(|o| write_str(o, "a\"b\\c\nd\u{1}")),
            r#""a\"b\\c\nd\u0001""#
        );
        assert_eq!(s(|o| write_str(o, "plain")), "\"plain\"");
    }

    #[test]
    fn timestamps_have_nine_digits() {
        assert_eq!(
            s(|o| write_ts(o, 1_700_000_000_000_000_123)),
            "\"1700000000.000000123\""
        );
        assert_eq!(s(|o| write_ts(o, 5)), "\"0.000000005\"");
    }

    #[test]
    fn labels_render_as_an_object() {
        assert_eq!(s(|o| write_labels(o, [])), "{}");
        assert_eq!(
            s(|o| write_labels(o, [("app", "http"), ("k", "v\"")])),
            r#"{"app":"http","k":"v\""}"#
        );
    }

    #[test]
    fn options_render_with_their_values() {
        use synack_core::tcp::OptionIter;
        let bytes = [
            2, 4, 0x05, 0xb4, 1, 3, 3, 7, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 34, 4, 0xab, 0xcd, 8, 3,
        ];
        let all: Vec<String> = OptionIter::new(&bytes)
            .map(|item| s(|o| write_option(o, &item)))
            .collect();
        assert_eq!(
            all,
            [
                r#"{"kind":2,"len":4,"mss":1460}"#,
                r#"{"kind":1,"len":1}"#,
                r#"{"kind":3,"len":3,"shift":7}"#,
                r#"{"kind":5,"len":10,"blocks":[[1,2]]}"#,
                r#"{"kind":34,"len":4,"cookie":"abcd"}"#,
                r#"{"kind":8,"len":3,"malformed":"length 3 runs past the header (2 bytes left)"}"#,
            ]
        );
    }
}
