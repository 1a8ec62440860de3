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

/// Separates the cells of a stored row: no cell holds it (labels come from
/// C strings, which cannot).
const CELL_END: char = '\0';

/// The rows of a table, kept as one compact line of cells per connection
/// until they are written in connection order, with the columns' widths.
///
/// A row is about a hundred bytes where a [`Verdict`] is several hundred, so
/// a capture of many connections can be tabulated in little memory.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<(u64, Box<str>)>,
    widths: [usize; 14],
    with_labels: bool,
}

impl Table {
    /// An empty table.
    pub fn new() -> Table {
        Table::default()
    }

    /// True when no row has been added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds a connection's row.
    pub fn push(&mut self, v: &Verdict) {
        let mut line = String::new();
        let labels = labels(v);
        self.with_labels |= !v.labels.is_empty();
        for (i, cell) in row(v).iter().chain(std::iter::once(&labels)).enumerate() {
            self.widths[i] = self.widths[i].max(cell.chars().count());
            line.push_str(cell);
            line.push(CELL_END);
        }
        self.rows.push((v.conn, line.into_boxed_str()));
    }

    /// Writes the header and the rows in connection order.
    pub fn write(mut self, out: &mut impl Write) -> io::Result<()> {
        self.rows.sort_unstable_by_key(|(conn, _)| *conn);
        let columns = if self.with_labels { 14 } else { 13 };
        let mut header = String::new();
        for (i, h) in HEADERS.iter().chain(&["LABELS"]).enumerate() {
            self.widths[i] = self.widths[i].max(h.len());
            header.push_str(h);
            header.push(CELL_END);
        }
        let mut line = String::new();
        for cells in std::iter::once(header.as_str()).chain(self.rows.iter().map(|(_, r)| &**r)) {
            line.clear();
            for (i, cell) in cells.split(CELL_END).take(columns).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let w = self.widths[i];
                if RIGHT.get(i).copied().unwrap_or(false) {
                    let _ = write!(line, "{cell:>w$}");
                } else if i + 1 == columns {
                    line.push_str(cell);
                } else {
                    let _ = write!(line, "{cell:<w$}");
                }
            }
            out.write_all(line.trim_end().as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// Writes the header and one aligned row per verdict, in connection order.
pub fn write_table(out: &mut impl Write, verdicts: &[Verdict]) -> io::Result<()> {
    let mut table = Table::new();
    for v in verdicts {
        table.push(v);
    }
    table.write(out)
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
