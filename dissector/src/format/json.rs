//! The `json` formats: one JSON object per line (JSON Lines) for each TCP
//! packet, and one for each connection's verdict.
//!
//! The keys, their order and their meaning are documented, with the schema
//! version [`SCHEMA_VERSION`], in `docs/json-schema.md`. Objects are written
//! straight into the caller's writer (a reused buffer or a `BufWriter`): no
//! allocation per packet. Numbers, IPv4 addresses and hex strings are
//! written from digit tables, as `core::fmt` would write them but at a
//! fraction of its cost.

use std::io::{self, Write};
use std::net::IpAddr;

use synack_core::frame::TcpFrame;
use synack_core::tcp::{MalformedOption, TcpOption};

use crate::annotation::{Annotation, Role, RoleSet, TcpState};
use crate::format::digits::{decimal, HEX_DIGITS, OCTETS, U64_DIGITS};
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
    for chunk in bytes.chunks(32) {
        let mut text = [0u8; 64];
        for (pair, &b) in text.chunks_exact_mut(2).zip(chunk) {
            pair[0] = HEX_DIGITS[usize::from(b >> 4)];
            pair[1] = HEX_DIGITS[usize::from(b & 0xF)];
        }
        out.write_all(&text[..2 * chunk.len()])?;
    }
    out.write_all(b"\"")
}

/// Writes `n` in decimal.
fn write_num(out: &mut impl Write, n: u64) -> io::Result<()> {
    let (field, start) = decimal(n);
    out.write_all(&field[start..U64_DIGITS])
}

/// Writes `key` (the text before a value, as `,"sport":`), then `n`.
fn write_field(out: &mut impl Write, key: &[u8], n: u64) -> io::Result<()> {
    out.write_all(key)?;
    write_num(out, n)
}

/// Writes `true` or `false`.
fn write_bool(out: &mut impl Write, b: bool) -> io::Result<()> {
    out.write_all(if b { b"true" } else { b"false" })
}

/// Writes an address as a JSON string, as `IpAddr`'s `Display` writes it.
fn write_ip(out: &mut impl Write, addr: IpAddr) -> io::Result<()> {
    let IpAddr::V4(v4) = addr else {
        return write!(out, "\"{addr}\"");
    };
    // Each octet's digits are copied 3 bytes at a time, then counted.
    let mut text = [0u8; 18];
    text[0] = b'"';
    let mut len = 1;
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text[len] = b'.';
            len += 1;
        }
        let digits = OCTETS[usize::from(octet)];
        text[len..len + 3].copy_from_slice(&digits[..3]);
        len += usize::from(digits[3]);
    }
    text[len] = b'"';
    out.write_all(&text[..=len])
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
        Some(n) => write_num(out, n),
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
    out.write_all(b"\"")?;
    write_num(out, ts_ns / 1_000_000_000)?;
    let (nanos, _) = decimal(ts_ns % 1_000_000_000);
    out.write_all(b".")?;
    out.write_all(&nanos[U64_DIGITS - 9..U64_DIGITS])?;
    out.write_all(b"\"")
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
            write_field(out, b"{\"kind\":", u64::from(m.kind))?;
            out.write_all(b",\"len\":")?;
            write_opt_num(out, m.len.map(u64::from))?;
            out.write_all(b",\"malformed\":")?;
            write_malformed_reason(out, m)?;
            return out.write_all(b"}");
        }
    };
    write_field(out, b"{\"kind\":", u64::from(opt.kind()))?;
    write_field(out, b",\"len\":", opt.len() as u64)?;
    match *opt {
        TcpOption::Eol | TcpOption::Nop | TcpOption::SackPermitted => {}
        TcpOption::Mss(v) => write_field(out, b",\"mss\":", u64::from(v))?,
        TcpOption::WindowScale(s) => write_field(out, b",\"shift\":", u64::from(s))?,
        TcpOption::Sack(blocks) => {
            out.write_all(b",\"blocks\":[")?;
            for (i, (l, r)) in blocks.iter().enumerate() {
                out.write_all(if i > 0 { b",[" } else { b"[" })?;
                write_num(out, u64::from(l))?;
                write_field(out, b",", u64::from(r))?;
                out.write_all(b"]")?;
            }
            out.write_all(b"]")?;
        }
        TcpOption::Timestamps { tsval, tsecr } => {
            write_field(out, b",\"tsval\":", u64::from(tsval))?;
            write_field(out, b",\"tsecr\":", u64::from(tsecr))?;
        }
        TcpOption::Md5Signature(digest) => {
            out.write_all(b",\"digest\":")?;
            write_hex(out, digest)?;
        }
        TcpOption::UserTimeout { minutes, timeout } => {
            out.write_all(b",\"minutes\":")?;
            write_bool(out, minutes)?;
            write_field(out, b",\"timeout\":", u64::from(timeout))?;
        }
        TcpOption::Authentication {
            key_id,
            rnext_key_id,
            mac,
        } => {
            write_field(out, b",\"key_id\":", u64::from(key_id))?;
            write_field(out, b",\"rnext_key_id\":", u64::from(rnext_key_id))?;
            out.write_all(b",\"mac\":")?;
            write_hex(out, mac)?;
        }
        TcpOption::Mptcp { subtype, data } => {
            write_field(out, b",\"subtype\":", u64::from(subtype))?;
            out.write_all(b",\"data\":")?;
            write_hex(out, data)?;
        }
        TcpOption::FastOpen {
            cookie,
            experimental,
        } => {
            if experimental {
                let exid = synack_core::tcp::TFO_EXPERIMENT_ID;
                write_field(out, b",\"exid\":", u64::from(exid))?;
            }
            out.write_all(b",\"cookie\":")?;
            write_hex(out, cookie)?;
        }
        TcpOption::Experimental { exid, data, .. } => {
            write_field(out, b",\"exid\":", u64::from(exid))?;
            out.write_all(b",\"data\":")?;
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
    write_field(out, b"{\"frame\":", frame_no)?;
    write_field(out, b",\"ts_ns\":", ts_ns)?;
    out.write_all(b",\"ts\":")?;
    write_ts(out, ts_ns)?;
    out.write_all(b",\"src\":")?;
    write_ip(out, frame.ip.src())?;
    write_field(out, b",\"sport\":", u64::from(tcp.src_port()))?;
    out.write_all(b",\"dst\":")?;
    write_ip(out, frame.ip.dst())?;
    write_field(out, b",\"dport\":", u64::from(tcp.dst_port()))?;
    write_field(out, b",\"seq\":", u64::from(tcp.seq()))?;
    write_field(out, b",\"ack\":", u64::from(tcp.ack()))?;
    write_field(out, b",\"hdr_len\":", tcp.header_len() as u64)?;
    write_field(out, b",\"flags\":", u64::from(tcp.flags().0))?;
    write_field(out, b",\"win\":", u64::from(tcp.window()))?;
    write_field(out, b",\"len\":", tcp.payload_len() as u64)?;
    write_field(out, b",\"checksum\":", u64::from(tcp.checksum()))?;
    write_field(out, b",\"urg\":", u64::from(tcp.urgent_ptr()))?;
    out.write_all(b",\"options\":[")?;
    for (i, item) in tcp.options().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_option(out, &item)?;
    }
    write_field(out, b"],\"conn\":", ann.conn)?;
    out.write_all(b",\"dir\":")?;
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
    write_field(out, b"{\"conn\":", v.conn)?;
    write_field(out, b",\"first_frame\":", v.first_frame)?;
    write_field(out, b",\"last_frame\":", v.last_frame)?;
    out.write_all(b",\"client_ip\":")?;
    write_ip(out, v.client.addr)?;
    write_field(out, b",\"client_port\":", u64::from(v.client.port))?;
    out.write_all(b",\"server_ip\":")?;
    write_ip(out, v.server.addr)?;
    write_field(out, b",\"server_port\":", u64::from(v.server.port))?;
    write_field(out, b",\"start_ns\":", v.start_ns)?;
    write_field(out, b",\"end_ns\":", v.end_ns)?;
    write_field(out, b",\"packets_c2s\":", v.c2s.packets)?;
    write_field(out, b",\"packets_s2c\":", v.s2c.packets)?;
    write_field(out, b",\"bytes_c2s\":", v.c2s.bytes)?;
    write_field(out, b",\"bytes_s2c\":", v.s2c.bytes)?;
    write_field(out, b",\"completeness\":", u64::from(v.completeness))?;
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
    let syn_retransmissions = u64::from(v.syn_retransmissions);
    write_field(out, b",\"syn_retransmissions\":", syn_retransmissions)?;
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
    out.write_all(b",\"client_sack_permitted\":")?;
    write_bool(out, c.sack_permitted)?;
    out.write_all(b",\"server_sack_permitted\":")?;
    write_bool(out, s.sack_permitted)?;
    out.write_all(b",\"client_timestamps\":")?;
    write_bool(out, c.timestamps)?;
    out.write_all(b",\"server_timestamps\":")?;
    write_bool(out, s.timestamps)?;
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
            write_field(out, b":", frame)?;
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

    /// The rarer options, with the keys docs/json-schema.md gives them:
    /// user timeout 0x812c is minutes (top bit) and 300; TCP-AO's key ids
    /// are the first two value bytes, its MAC the rest; MD5's digest is its
    /// 16 value bytes; an MPTCP option's subtype is the high nibble of its
    /// first value byte; ExID 0xF989 (63881) is Fast Open's experimental
    /// form, any other ExID an experiment.
    #[test]
    fn rare_options_render_with_their_values() {
        use synack_core::tcp::OptionIter;
        let mut bytes = vec![28, 4, 0x81, 0x2c, 29, 6, 7, 9, 0xde, 0xad];
        bytes.extend([19, 18]);
        bytes.extend(0..16u8);
        bytes.extend([30, 4, 0x21, 0x0f, 254, 6, 0xf9, 0x89, 0xab, 0xcd]);
        bytes.extend([253, 5, 0x12, 0x34, 0xff]);
        let all: Vec<String> = OptionIter::new(&bytes)
            .map(|item| s(|o| write_option(o, &item)))
            .collect();
        assert_eq!(
            all,
            [
                r#"{"kind":28,"len":4,"minutes":true,"timeout":300}"#,
                r#"{"kind":29,"len":6,"key_id":7,"rnext_key_id":9,"mac":"dead"}"#,
                r#"{"kind":19,"len":18,"digest":"000102030405060708090a0b0c0d0e0f"}"#,
                r#"{"kind":30,"len":4,"subtype":2,"data":"210f"}"#,
                r#"{"kind":254,"len":6,"exid":63881,"cookie":"abcd"}"#,
                r#"{"kind":253,"len":5,"exid":4660,"data":"ff"}"#,
            ]
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
