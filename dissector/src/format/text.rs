//! The `text` format: each TCP packet's tcpdump line, then a continuation
//! line, indented two spaces, with what synack says about it:
//!
//! ```text
//! 10:00:00.000000 IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 64240, length 0
//!   conn 0 c2s [handshake 1/3] client SYN-SENT, server LISTEN
//! 10:00:00.000100 IP 10.0.0.2.80 > 10.0.0.1.40000: Flags [F.], seq 9, ack 7, win 509, length 0
//!   conn 0 s2c [teardown 3/4 +teardown 2/4] client FIN-WAIT-2, server LAST-ACK
//! 10:00:00.000200 IP 10.0.0.2.80 > 10.0.0.1.40001: Flags [R.], seq 0, ack 1, win 0, length 0
//!   conn 1 s2c [reset: refused] client CLOSED, server CLOSED
//! ```
//!
//! The connection number and direction (`c2s`, `s2c`) come first; then, in
//! brackets, the role (with `+` and each other role the packet also fills),
//! the kind of a reset, and `SYN retransmission` / `SYN-ACK retransmission` /
//! `FIN retransmission`; then both endpoints' states (`?` when unknown, as
//! midstream); then `warnings:` and their codes, if any. Everything is
//! rendered from the [`Annotation`]; nothing is derived here.

use std::io::{self, Write};

use synack_core::frame::{FrameError, TcpFrame};

use crate::annotation::{Annotation, TcpState};

fn state_name(s: Option<TcpState>) -> &'static str {
    s.map_or("?", TcpState::name)
}

/// What a retransmitted segment is, by its flags.
fn retransmitted_what(frame: &TcpFrame<'_>) -> &'static str {
    let f = frame.tcp.flags();
    match (f.syn(), f.ack(), f.fin()) {
        (true, false, _) => "SYN",
        (true, true, _) => "SYN-ACK",
        (false, _, true) => "FIN",
        _ => "segment",
    }
}

/// Writes the continuation line (two spaces, the annotation, a newline).
pub fn write_annotation(
    out: &mut impl Write,
    frame: &TcpFrame<'_>,
    ann: &Annotation,
) -> io::Result<()> {
    write!(out, "  conn {} {} ", ann.conn, ann.dir.name())?;
    let mut open = false;
    let mut item = |out: &mut dyn Write| -> io::Result<()> {
        out.write_all(if open { b", " } else { b"[" })?;
        open = true;
        Ok(())
    };
    if let Some(role) = ann.role {
        item(out)?;
        out.write_all(role.label().as_bytes())?;
        if let Some(kind) = ann.reset_kind {
            write!(out, ": {}", kind.name())?;
        }
        for other in ann.combines.iter() {
            write!(out, " +{}", other.label())?;
        }
    } else if let Some(kind) = ann.reset_kind {
        item(out)?;
        write!(out, "reset: {}", kind.name())?;
    }
    if ann.retransmission {
        item(out)?;
        write!(out, "{} retransmission", retransmitted_what(frame))?;
    }
    if open {
        out.write_all(b"] ")?;
    }
    write!(
        out,
        "client {}, server {}",
        state_name(ann.states.client),
        state_name(ann.states.server)
    )?;
    if !ann.warnings.is_empty() {
        out.write_all(b"  warnings:")?;
        for (i, w) in ann.warnings.iter().enumerate() {
            out.write_all(if i == 0 { b" " } else { b", " })?;
            out.write_all(w.code().as_bytes())?;
        }
    }
    out.write_all(b"\n")
}

/// Writes the continuation line of a frame that could not be decoded down to
/// TCP (after the tcpdump line tcpdump prints for it, with its error mark).
pub fn write_malformed(out: &mut impl Write, error: &FrameError) -> io::Result<()> {
    writeln!(out, "  malformed: {error}")
}

/// When plugins labelled a connection that just ended: `  conn N labels: app=http, http.host=...`.
pub fn write_labels(out: &mut impl Write, v: &crate::verdict::Verdict) -> io::Result<()> {
    if v.labels.is_empty() {
        return Ok(());
    }
    write!(out, "  conn {} labels:", v.conn)?;
    for (i, (k, val)) in v.labels.iter().enumerate() {
        write!(out, "{} {k}={val}", if i == 0 { "" } else { "," })?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotation::{
        Direction, EndpointStates, ResetKind, Role, RoleSet, Warning, Warnings,
    };
    use synack_core::capture::LinkType;
    use synack_core::frame::{decode, Decoded};

    /// An IPv4 (raw link) SYN or FIN+ACK from 10.0.0.1:40000 to 10.0.0.2:80.
    fn packet(flags: u8) -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p.extend([
            0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0,
        ]);
        p
    }

    fn render(flags: u8, ann: &Annotation) -> String {
        let bytes = packet(flags);
        let Ok(Decoded::Tcp(frame)) = decode(LinkType(101), &bytes) else {
            panic!("test packet decodes");
        };
        let mut out = Vec::new();
        write_annotation(&mut out, &frame, ann).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn ann() -> Annotation {
        Annotation {
            conn: 3,
            dir: Direction::ClientToServer,
            role: None,
            combines: RoleSet::EMPTY,
            reset_kind: None,
            retransmission: false,
            states: EndpointStates::default(),
            warnings: Warnings::default(),
        }
    }

    #[test]
    fn plain_packet() {
        assert_eq!(render(0x10, &ann()), "  conn 3 c2s client ?, server ?\n");
    }

    #[test]
    fn roles_combined_reset_retransmission_and_warnings() {
        let mut a = ann();
        a.role = Some(Role::Handshake1);
        a.retransmission = true;
        a.states.client = Some(TcpState::SynSent);
        a.states.server = Some(TcpState::Listen);
        assert_eq!(
            render(0x02, &a),
            "  conn 3 c2s [handshake 1/3, SYN retransmission] client SYN-SENT, server LISTEN\n"
        );
        let mut a = ann();
        a.role = Some(Role::Teardown3);
        a.combines.insert(Role::Teardown2);
        assert_eq!(
            render(0x11, &a),
            "  conn 3 c2s [teardown 3/4 +teardown 2/4] client ?, server ?\n"
        );
        let mut a = ann();
        a.role = Some(Role::Reset);
        a.reset_kind = Some(ResetKind::Refused);
        a.warnings.insert(Warning::BadChecksum);
        a.warnings.insert(Warning::Unexpected);
        assert_eq!(
            render(0x14, &a),
            "  conn 3 c2s [reset: refused] client ?, server ?  warnings: bad-checksum, unexpected\n"
        );
    }
}
