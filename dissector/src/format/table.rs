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

const HEADERS: [&str; 14] = [
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
    "LABELS",
];

/// Columns aligned to the right (numbers).
const RIGHT: [bool; 14] = [
    true, false, false, false, false, false, true, true, false, false, true, false, false, false,
];

/// The rows of a table, kept as compact text until they are written in
/// connection order, with the columns' widths.
///
/// Every row's cells are in one buffer, each after its length (two bytes):
/// a row is about a hundred bytes where a [`Verdict`] is several hundred, so
/// a capture of many connections can be tabulated in little memory.
#[derive(Debug, Default)]
pub struct Table {
    /// The cells of every row, in the order pushed.
    cells: Vec<u8>,
    /// Each row's connection number and where its cells start in `cells`.
    rows: Vec<(u64, usize)>,
    widths: [usize; 14],
    with_labels: bool,
    /// Scratch for the cell being made.
    scratch: String,
}

/// The longest cell kept: a labels cell beyond it is cut (at a character).
const MAX_CELL: usize = u16::MAX as usize;

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
        self.rows.push((v.conn, self.cells.len()));
        let dur = v.end_ns.saturating_sub(v.start_ns);
        self.cell(0, |t| number(t, v.conn));
        self.cell(1, |t| endpoint(t, &v.client));
        self.cell(2, |t| endpoint(t, &v.server));
        self.cell(3, |t| t.push_str(v.facts.open.name()));
        self.cell(4, |t| t.push_str(v.facts.close.name()));
        self.cell(5, |t| {
            t.push_str(v.facts.active_closer.map_or("-", |s| s.name()))
        });
        self.cell(6, |t| millis(t, v.facts.rtt_syn_synack_us));
        self.cell(7, |t| millis(t, v.facts.rtt_synack_ack_us));
        self.cell(8, |t| pair(t, v.c2s.packets, v.s2c.packets));
        self.cell(9, |t| pair(t, v.c2s.bytes, v.s2c.bytes));
        self.cell(10, |t| {
            thousandths(t, dur / 1_000_000_000, dur % 1_000_000_000 / 1_000_000)
        });
        self.cell(11, |t| t.push_str(v.conn_state));
        self.cell(12, |t| {
            t.push_str(if v.history.is_empty() {
                "-"
            } else {
                &v.history
            })
        });
        self.cell(13, |t| labels(t, v));
        self.with_labels |= !v.labels.is_empty();
    }

    /// Appends cell `column` as `write` makes it, and widens its column.
    fn cell(&mut self, column: usize, write: impl FnOnce(&mut String)) {
        let cell = &mut self.scratch;
        cell.clear();
        write(cell);
        if cell.len() > MAX_CELL {
            let cut = (0..=MAX_CELL).rev().find(|&i| cell.is_char_boundary(i));
            cell.truncate(cut.unwrap_or(0));
        }
        // Every cell is ASCII but the labels, which plugins name.
        let width = if cell.is_ascii() {
            cell.len()
        } else {
            cell.chars().count()
        };
        self.widths[column] = self.widths[column].max(width);
        self.cells
            .extend_from_slice(&(cell.len() as u16).to_le_bytes());
        self.cells.extend_from_slice(cell.as_bytes());
    }

    /// The cells of the row starting at `at`.
    fn row(&self, mut at: usize) -> impl Iterator<Item = &[u8]> {
        std::iter::from_fn(move || {
            let len = self.cells.get(at..at + 2)?;
            let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
            let cell = self.cells.get(at + 2..at + 2 + len)?;
            at += 2 + len;
            Some(cell)
        })
    }

    /// Writes the header and the rows in connection order.
    pub fn write(mut self, out: &mut impl Write) -> io::Result<()> {
        // Rows come nearly in order (connections end about as they start),
        // which a stable sort finds and uses.
        self.rows.sort_by_key(|&(conn, _)| conn);
        let columns = if self.with_labels { 14 } else { 13 };
        for (width, header) in self.widths.iter_mut().zip(HEADERS) {
            *width = (*width).max(header.len());
        }
        let mut line = Vec::with_capacity(256);
        let headers = HEADERS.iter().map(|h| h.as_bytes());
        self.write_line(out, &mut line, headers, columns)?;
        for &(_, start) in &self.rows {
            self.write_line(out, &mut line, self.row(start), columns)?;
        }
        Ok(())
    }

    /// Writes one line of `columns` cells, aligned, without trailing blanks.
    fn write_line<'c>(
        &self,
        out: &mut impl Write,
        line: &mut Vec<u8>,
        cells: impl Iterator<Item = &'c [u8]>,
        columns: usize,
    ) -> io::Result<()> {
        line.clear();
        for (i, cell) in cells.take(columns).enumerate() {
            if i > 0 {
                line.extend_from_slice(b"  ");
            }
            let pad = self.widths[i].saturating_sub(cell.len());
            if RIGHT[i] {
                line.resize(line.len() + pad, b' ');
                line.extend_from_slice(cell);
            } else {
                line.extend_from_slice(cell);
                if i + 1 < columns {
                    line.resize(line.len() + pad, b' ');
                }
            }
        }
        // Cells are whole `str`s, so the line is UTF-8.
        let end = std::str::from_utf8(line).map_or(line.len(), |l| l.trim_end().len());
        line.truncate(end);
        line.push(b'\n');
        out.write_all(line)
    }
}

fn number(t: &mut String, n: u64) {
    t.push_str(itoa::Buffer::new().format(n));
}

/// `p/q`.
fn pair(t: &mut String, p: u64, q: u64) {
    number(t, p);
    t.push('/');
    number(t, q);
}

/// `whole.fff`: a number with three decimals.
fn thousandths(t: &mut String, whole: u64, thousandths: u64) {
    number(t, whole);
    t.push('.');
    let digits = [
        thousandths / 100 % 10,
        thousandths / 10 % 10,
        thousandths % 10,
    ];
    t.extend(digits.map(|d| char::from(b'0' + d as u8)));
}

/// Microseconds as milliseconds with three decimals, `-` when not seen.
fn millis(t: &mut String, us: Option<u64>) {
    match us {
        Some(us) => thousandths(t, us / 1000, us % 1000),
        None => t.push('-'),
    }
}

/// `a.b.c.d:port`, or `[v6]:port`.
fn endpoint(t: &mut String, e: &Endpoint) {
    match e.addr {
        IpAddr::V4(a) => {
            for (i, octet) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    t.push('.');
                }
                number(t, u64::from(octet));
            }
        }
        IpAddr::V6(a) => {
            let _ = write!(t, "[{a}]");
        }
    }
    t.push(':');
    number(t, u64::from(e.port));
}

/// The `LABELS` cell: `name=value` pairs, comma-separated (`-` for none).
fn labels(t: &mut String, v: &Verdict) {
    if v.labels.is_empty() {
        t.push('-');
    }
    for (i, (name, value)) in v.labels.iter().enumerate() {
        if i > 0 {
            t.push(',');
        }
        let _ = write!(t, "{name}={value}");
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
