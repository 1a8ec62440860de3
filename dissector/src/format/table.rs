//! The `table` format of `synack conns`: one aligned row per connection
//! verdict, for a person at a terminal.
//!
//! ```text
//! CONN  CLIENT           SERVER         OPEN       CLOSE  CLOSER  SYN>SA ms  SA>ACK ms  PKTS >/<  BYTES >/<    DURATION s  STATE  HISTORY
//!    0  10.0.0.1:40000   10.0.0.2:80    three-way  fin    client      0.412      0.071  6/4       112/1204          0.903  SF     ShADadFf
//! ```
//!
//! Columns: connection number; client and server endpoints (IPv6 in
//! brackets); how it opened and closed; who closed first (`-` when none);
//! the handshake's two round trips in milliseconds (`-` when not seen);
//! packets and payload bytes client-to-server/server-to-client; time from
//! the first to the last packet; Zeek's `conn_state` and `history`; and,
//! when a plugin labelled any connection, `LABELS` (`name=value`, comma-separated).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

use synack_core::flow::Endpoint;

use crate::verdict::Verdict;

const HEADERS: [&str; 13] = [
    "CONN",
    "CLIENT",
    "SERVER",
    "OPEN",
    "CLOSE",
    "CLOSER",
    "SYN>SA ms",
    "SA>ACK ms",
    "PKTS >/<",
    "BYTES >/<",
    "DURATION s",
    "STATE",
    "HISTORY",
];

/// Columns aligned to the right (numbers).
const RIGHT: [bool; 13] = [
    true, false, false, false, false, false, true, true, false, false, true, false, false,
];

fn endpoint(e: &Endpoint) -> String {
    match e.addr {
        IpAddr::V4(a) => format!("{a}:{}", e.port),
        IpAddr::V6(a) => format!("[{a}]:{}", e.port),
    }
}

fn millis(us: Option<u64>) -> String {
    match us {
        Some(us) => format!("{}.{:03}", us / 1000, us % 1000),
        None => "-".to_string(),
    }
}

/// The cells of one verdict's row.
fn row(v: &Verdict) -> [String; 13] {
    let dur = v.end_ns.saturating_sub(v.start_ns);
    let mut duration = String::new();
    let _ = write!(
        duration,
        "{}.{:03}",
        dur / 1_000_000_000,
        dur % 1_000_000_000 / 1_000_000
    );
    [
        v.conn.to_string(),
        endpoint(&v.client),
        endpoint(&v.server),
        v.facts.open.name().to_string(),
        v.facts.close.name().to_string(),
        v.facts.active_closer.map_or("-", |s| s.name()).to_string(),
        millis(v.facts.rtt_syn_synack_us),
        millis(v.facts.rtt_synack_ack_us),
        format!("{}/{}", v.c2s.packets, v.s2c.packets),
        format!("{}/{}", v.c2s.bytes, v.s2c.bytes),
        duration,
        v.conn_state.to_string(),
        if v.history.is_empty() {
            "-".to_string()
        } else {
            v.history.clone()
        },
    ]
}

/// The `LABELS` cell: `name=value` pairs, comma-separated (`-` for none).
fn labels(v: &Verdict) -> String {
    if v.labels.is_empty() {
        return "-".to_string();
    }
    let pairs: Vec<String> = v
        .labels
        .iter()
        .map(|(k, val)| format!("{k}={val}"))
        .collect();
    pairs.join(",")
}

/// Writes the header and one aligned row per verdict, in the order given.
pub fn write_table(out: &mut impl Write, verdicts: &[Verdict]) -> io::Result<()> {
    let with_labels = verdicts.iter().any(|v| !v.labels.is_empty());
    let cells = |fixed: [String; 13], labels: String| {
        let mut r = fixed.to_vec();
        if with_labels {
            r.push(labels);
        }
        r
    };
    let rows: Vec<Vec<String>> = verdicts.iter().map(|v| cells(row(v), labels(v))).collect();
    let headers = cells(HEADERS.map(str::to_string), "LABELS".to_string());
    let mut widths: Vec<usize> = headers.iter().map(String::len).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for r in std::iter::once(&headers).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let last = i + 1 == r.len();
            if i > 0 {
                line.push_str("  ");
            }
            if RIGHT.get(i).copied().unwrap_or(false) {
                let _ = write!(line, "{cell:>w$}", w = widths[i]);
            } else if last {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}", w = widths[i]);
            }
        }
        out.write_all(line.trim_end().as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotation::{EndpointStates, RoleSet};
    use crate::verdict::{CloseKind, ConnectionFacts, Counters, OpenKind, Side, SideOptions};
    use std::net::Ipv4Addr;

    fn verdict() -> Verdict {
        let ep = |last, port| Endpoint {
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
            port,
        };
        Verdict {
            conn: 0,
            first_frame: 1,
            last_frame: 10,
            client: ep(1, 40000),
            server: ep(2, 80),
            start_ns: 1_000_000_000,
            end_ns: 1_903_000_000,
            c2s: Counters {
                packets: 6,
                bytes: 112,
            },
            s2c: Counters {
                packets: 4,
                bytes: 1204,
            },
            completeness: 31,
            conn_state: "SF",
            history: "ShADadFf".to_string(),
            facts: ConnectionFacts {
                open: OpenKind::ThreeWay,
                rtt_syn_synack_us: Some(412),
                rtt_synack_ack_us: None,
                client_options: SideOptions::default(),
                server_options: SideOptions::default(),
                close: CloseKind::Fin,
                active_closer: Some(Side::Client),
            },
            syn_retransmissions: 0,
            final_states: EndpointStates::default(),
            roles_seen: RoleSet::EMPTY,
            role_frames: [None; 8],
            labels: Vec::new(),
        }
    }

    #[test]
    fn rows_are_aligned() {
        let mut out = Vec::new();
        write_table(&mut out, &[verdict()]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("CONN  CLIENT          SERVER"));
        assert!(lines[1].starts_with("   0  10.0.0.1:40000  10.0.0.2:80"));
        assert!(lines[1].contains("  0.412  "));
        assert!(lines[1].contains("6/4"));
        assert!(lines[1].ends_with("0.903  SF     ShADadFf"));
        // Every column starts where its header does.
        let col = |s: &str, h: &str| s.find(h).unwrap();
        assert_eq!(col(lines[0], "OPEN"), col(lines[1], "three-way"));
    }
}
