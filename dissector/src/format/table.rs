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
}

/// The longest cell kept: a labels cell beyond it is cut (at a character).
const MAX_CELL: usize = u16::MAX as usize;

/// The one column whose cells may be other than ASCII.
const LABELS: usize = 13;

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
        self.cell(3, |t| text(t, v.facts.open.name()));
        self.cell(4, |t| text(t, v.facts.close.name()));
        self.cell(5, |t| {
            text(t, v.facts.active_closer.map_or("-", |s| s.name()))
        });
        self.cell(6, |t| millis(t, v.facts.rtt_syn_synack_us));
        self.cell(7, |t| millis(t, v.facts.rtt_synack_ack_us));
        self.cell(8, |t| pair(t, v.c2s.packets, v.s2c.packets));
        self.cell(9, |t| pair(t, v.c2s.bytes, v.s2c.bytes));
        self.cell(10, |t| {
            thousandths(t, dur / 1_000_000_000, dur % 1_000_000_000 / 1_000_000)
        });
        self.cell(11, |t| text(t, v.conn_state));
        let history = if v.history.is_empty() {
            "-"
        } else {
            &v.history
        };
        self.cell(12, |t| text(t, history));
        self.cell(LABELS, |t| labels(t, v));
        self.with_labels |= !v.labels.is_empty();
    }

    /// Appends cell `column` as `write` makes it, and widens its column.
    fn cell(&mut self, column: usize, write: impl FnOnce(&mut Vec<u8>)) {
        let at = self.cells.len();
        self.cells.extend_from_slice(&[0, 0]);
        write(&mut self.cells);
        let mut width = self.cells.len() - at - 2;
        if column == LABELS && (width > MAX_CELL || !self.cells[at + 2..].is_ascii()) {
            // Plugins name the labels: cut to the longest cell at a
            // character, and count characters, not bytes.
            let kept = match std::str::from_utf8(&self.cells[at + 2..]) {
                Ok(text) => {
                    let mut cut = MAX_CELL.min(text.len());
                    while !text.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    width = text[..cut].chars().count();
                    cut
                }
                Err(_) => 0,
            };
            self.cells.truncate(at + 2 + kept);
        }
        let len = (self.cells.len() - at - 2) as u16;
        self.cells[at..at + 2].copy_from_slice(&len.to_le_bytes());
        self.widths[column] = self.widths[column].max(width);
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

fn text(t: &mut Vec<u8>, s: &str) {
    t.extend_from_slice(s.as_bytes());
}

fn number(t: &mut Vec<u8>, n: u64) {
    text(t, itoa::Buffer::new().format(n));
}

/// `p/q`.
fn pair(t: &mut Vec<u8>, p: u64, q: u64) {
    number(t, p);
    t.push(b'/');
    number(t, q);
}

/// `whole.fff`: a number with three decimals.
fn thousandths(t: &mut Vec<u8>, whole: u64, thousandths: u64) {
    number(t, whole);
    let digit = |n: u64| b'0' + (n % 10) as u8;
    t.extend_from_slice(&[
        b'.',
        digit(thousandths / 100),
        digit(thousandths / 10),
        digit(thousandths),
    ]);
}

/// Microseconds as milliseconds with three decimals, `-` when not seen.
fn millis(t: &mut Vec<u8>, us: Option<u64>) {
    match us {
        Some(us) => thousandths(t, us / 1000, us % 1000),
        None => t.push(b'-'),
    }
}

/// `a.b.c.d:port`, or `[v6]:port`.
fn endpoint(t: &mut Vec<u8>, e: &Endpoint) {
    match e.addr {
        IpAddr::V4(a) => {
            for (i, octet) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    t.push(b'.');
                }
                number(t, u64::from(octet));
            }
        }
        IpAddr::V6(a) => {
            let _ = write!(t, "[{a}]");
        }
    }
    t.push(b':');
    number(t, u64::from(e.port));
}

/// The `LABELS` cell: `name=value` pairs, comma-separated (`-` for none).
fn labels(t: &mut Vec<u8>, v: &Verdict) {
    if v.labels.is_empty() {
        t.push(b'-');
    }
    for (i, (name, value)) in v.labels.iter().enumerate() {
        if i > 0 {
            t.push(b',');
        }
        text(t, name);
        t.push(b'=');
        text(t, value);
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

    #[test]
    fn labels_are_counted_in_characters_and_cut_at_one() {
        let mut long = verdict();
        long.conn = 1;
        long.labels = vec![("app".to_string(), "é".repeat(40_000))];
        let mut short = verdict();
        short.labels = vec![("app".to_string(), "ssh".to_string())];
        let mut out = Vec::new();
        write_table(&mut out, &[long, short]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("HISTORY   LABELS"));
        assert!(lines[1].ends_with("ShADadFf  app=ssh"));
        // 4 bytes of "app=", then as many 2-byte characters as fit in 65,535 bytes.
        let cell = lines[2].rsplit("  ").next().unwrap();
        assert_eq!(cell.len(), 4 + 2 * 32_765);
        assert!(cell.starts_with("app=é"));
    }
}
