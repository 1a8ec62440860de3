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

use crate::verdict::{CloseKind, OpenKind, Side, Verdict};

mod cells;
mod layout;

use crate::format::digits::{decimal, U64_DIGITS};
use cells::{CellsText, Padded, ROOM};
use layout::{Layout, BLOCK};

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
/// order, with the columns' widths.
///
/// Every row's cells but its number are in one buffer, each after its
/// length (two bytes): a row is about a hundred bytes where a [`Verdict`] is
/// several hundred, so a capture of many connections can be tabulated in
/// little memory. The `CONN` cell is written with the line, so that rows can
/// be numbered when they are written ([`Table::write_merged`]).
#[derive(Debug, Default)]
pub struct Table {
    /// The cells of every row from `CLIENT` on, in the order pushed.
    cells: Vec<u8>,
    /// Each row's key (its connection number, or what orders it) and where
    /// its cells start in `cells`.
    rows: Vec<(u64, usize)>,
    /// The widths of the columns from `CLIENT` on (the first is unused).
    widths: [usize; 14],
    /// The largest key.
    largest: u64,
    with_labels: bool,
}

/// The longest cell kept: a labels cell beyond it is cut (at a character).
const MAX_CELL: usize = u16::MAX as usize;

/// The one column whose cells may be other than ASCII.
const LABELS: usize = 13;

/// How many bytes of lines are gathered before they are written out: as
/// much as the command line's output buffer holds, so that they go straight
/// through it instead of being copied into it.
const OUT_CHUNK: usize = 64 * 1024;

impl Table {
    /// An empty table.
    pub fn new() -> Table {
        Table::default()
    }

    /// True when no row has been added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds a connection's row, numbered `v.conn`.
    pub fn push(&mut self, v: &Verdict) {
        self.push_keyed(v.conn, v);
    }

    /// Adds a connection's row under `key`: [`Table::write`] numbers it
    /// `key`, [`Table::write_merged`] places it by `key`.
    pub fn push_keyed(&mut self, key: u64, v: &Verdict) {
        self.rows.push((key, self.cells.len()));
        self.largest = self.largest.max(key);
        self.append(1, |ends| {
            [
                ends.cell(|c| c.endpoint(&v.client)),
                ends.cell(|c| c.endpoint(&v.server)),
                ends.cell(|c| c.name(&OPENS[v.facts.open as usize])),
                ends.cell(|c| c.name(&CLOSES[v.facts.close as usize])),
                ends.cell(|c| c.name(closer(v.facts.active_closer))),
            ]
        });
        let dur = v.end_ns.saturating_sub(v.start_ns);
        self.append(6, |figures| {
            [
                figures.cell(|c| c.millis(v.facts.rtt_syn_synack_us)),
                figures.cell(|c| c.millis(v.facts.rtt_synack_ack_us)),
                figures.cell(|c| c.pair(v.c2s.packets, v.s2c.packets)),
                figures.cell(|c| c.pair(v.c2s.bytes, v.s2c.bytes)),
                figures
                    .cell(|c| c.thousandths(dur / 1_000_000_000, dur % 1_000_000_000 / 1_000_000)),
            ]
        });
        self.text_cell(11, v.conn_state);
        let history = if v.history.is_empty() {
            b"-"
        } else {
            v.history.as_bytes()
        };
        self.ascii_cell(12, history);
        self.labels_cell(v);
        self.with_labels |= !v.labels.is_empty();
    }

    /// Appends the cells `write` makes in place, the columns' from `first`
    /// on, and widens those columns to the widths it returns.
    fn append<const N: usize>(
        &mut self,
        first: usize,
        write: impl FnOnce(&mut CellsText<'_>) -> [usize; N],
    ) {
        let at = self.cells.len();
        self.cells.extend_from_slice(&[0; ROOM]);
        let room = self.cells[at..].first_chunk_mut().expect("room was made");
        let mut text = CellsText::new(room);
        let widths = write(&mut text);
        let end = at + text.len();
        self.cells.truncate(end);
        for (column, width) in (first..).zip(widths) {
            self.widen(column, width);
        }
    }

    /// Appends cell `column`, ASCII text, and widens its column.
    fn text_cell(&mut self, column: usize, text: &str) {
        self.ascii_cell(column, text.as_bytes());
    }

    /// Appends cell `column`, the bytes of ASCII text, and widens its column.
    fn ascii_cell(&mut self, column: usize, text: &[u8]) {
        let text = &text[..text.len().min(MAX_CELL)];
        self.cells
            .extend_from_slice(&(text.len() as u16).to_le_bytes());
        self.cells.extend_from_slice(text);
        self.widen(column, text.len());
    }

    /// Appends the `LABELS` cell (`name=value` pairs, comma-separated; `-`
    /// for none) and widens its column.
    fn labels_cell(&mut self, v: &Verdict) {
        if v.labels.is_empty() {
            return self.ascii_cell(LABELS, b"-");
        }
        let at = self.cells.len();
        self.cells.extend_from_slice(&[0, 0]);
        labels(&mut self.cells, v);
        let mut width = self.cells.len() - at - 2;
        if width > MAX_CELL || !self.cells[at + 2..].is_ascii() {
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
        self.widen(LABELS, width);
    }

    /// Makes column `column` at least `width` wide.
    fn widen(&mut self, column: usize, width: usize) {
        self.widths[column] = self.widths[column].max(width);
    }

    /// Ends the cells with a block of bytes, for the copies of fixed size.
    fn close_cells(&mut self) {
        self.cells.extend_from_slice(&[0; BLOCK]);
    }

    /// The cells of the row that starts at `start`.
    fn row(&self, start: usize) -> &[u8] {
        &self.cells[start..]
    }

    /// Writes the header and the rows in order of key, each numbered by its
    /// key.
    pub fn write(mut self, out: &mut impl Write) -> io::Result<()> {
        sort_rows(&mut self.rows);
        self.close_cells();
        let mut widths = self.widths;
        if !self.rows.is_empty() {
            widths[0] = decimal_width(self.largest);
        }
        let rows = self.rows.iter().map(|&(key, start)| (key, self.row(start)));
        write_lines(widths, self.with_labels, rows, out)
    }

    /// Writes the header and the rows of every table, merged in order of
    /// key and numbered from 0 in that order (keys are unique across the
    /// tables).
    pub fn write_merged(mut tables: Vec<Table>, out: &mut impl Write) -> io::Result<()> {
        let mut widths = [0; 14];
        let mut with_labels = false;
        let mut rows = 0;
        for table in &mut tables {
            // Rows come nearly in order (connections end about as they
            // start), which a stable sort finds and uses.
            table.rows.sort_by_key(|&(key, _)| key);
            table.close_cells();
            for (width, &w) in widths.iter_mut().zip(&table.widths) {
                *width = (*width).max(w);
            }
            with_labels |= table.with_labels;
            rows += table.rows.len();
        }
        if rows > 0 {
            widths[0] = decimal_width(rows as u64 - 1);
        }
        let mut heads: Vec<_> = tables.iter().map(|t| t.rows.iter().peekable()).collect();
        let merged = (0..).map_while(|number| {
            let (first, _) = heads
                .iter_mut()
                .enumerate()
                .filter_map(|(i, head)| Some((i, head.peek()?.0)))
                .min_by_key(|&(_, key)| key)?;
            let &(_, start) = heads[first].next()?;
            Some((number, tables[first].row(start)))
        });
        write_lines(widths, with_labels, merged, out)
    }
}

/// How many digits `n` has in decimal.
fn decimal_width(n: u64) -> usize {
    U64_DIGITS - decimal(n).1
}

/// Writes the header and a line for each row (its number and its other
/// cells, each row followed by a block of bytes) in columns of `widths`
/// (from `CLIENT` on; `CONN`'s as wide as the widest number), with the
/// `LABELS` column when `with_labels`.
fn write_lines<'a>(
    mut widths: [usize; 14],
    with_labels: bool,
    rows: impl Iterator<Item = (u64, &'a [u8])>,
    out: &mut impl Write,
) -> io::Result<()> {
    let columns = if with_labels { 14 } else { 13 };
    for (width, header) in widths.iter_mut().zip(HEADERS) {
        *width = (*width).max(header.len());
    }
    let layout = Layout::new(widths, columns);
    let mut lines = Vec::with_capacity(OUT_CHUNK + 1024);
    layout.line(&mut lines, HEADERS[0].as_bytes(), &header_row());
    for (number, cells) in rows {
        let (digits, start) = decimal(number);
        layout.line(&mut lines, &digits[start..U64_DIGITS], cells);
        if lines.len() >= OUT_CHUNK {
            out.write_all(&lines)?;
            lines.clear();
        }
    }
    out.write_all(&lines)
}

/// The names of the ways of opening, padded, in `OpenKind`'s order (its
/// values index them).
const OPENS: [Padded; 5] = [
    Padded::new(OpenKind::ThreeWay.name()),
    Padded::new(OpenKind::Simultaneous.name()),
    Padded::new(OpenKind::FastOpen.name()),
    Padded::new(OpenKind::Midstream.name()),
    Padded::new(OpenKind::Incomplete.name()),
];

/// The names of the ways of closing, padded, in `CloseKind`'s order.
const CLOSES: [Padded; 5] = [
    Padded::new(CloseKind::Fin.name()),
    Padded::new(CloseKind::Simultaneous.name()),
    Padded::new(CloseKind::HalfOpen.name()),
    Padded::new(CloseKind::Reset.name()),
    Padded::new(CloseKind::None.name()),
];

/// The `CLOSER` cell, padded: the side's name, `-` for none.
fn closer(side: Option<Side>) -> &'static Padded {
    const CLIENT: Padded = Padded::new(Side::Client.name());
    const SERVER: Padded = Padded::new(Side::Server.name());
    const NONE: Padded = Padded::new("-");
    match side {
        Some(Side::Client) => &CLIENT,
        Some(Side::Server) => &SERVER,
        None => &NONE,
    }
}

/// Puts rows in connection order.
///
/// Connections are numbered from 0 as they start, so the rows of a run's
/// every connection are placed by their numbers; other rows are sorted.
fn sort_rows(rows: &mut Vec<(u64, usize)>) {
    const EMPTY: usize = usize::MAX;
    let mut placed = vec![(0, EMPTY); rows.len()];
    for &(conn, start) in rows.iter() {
        match usize::try_from(conn).ok().and_then(|i| placed.get_mut(i)) {
            Some(slot) if slot.1 == EMPTY => *slot = (conn, start),
            _ => {
                // Rows come nearly in order (connections end about as they
                // start), which a stable sort finds and uses.
                rows.sort_by_key(|&(conn, _)| conn);
                return;
            }
        }
    }
    *rows = placed;
}

/// The header from `CLIENT` on as a row of cells (each after its length),
/// followed by a block of zeros.
fn header_row() -> Vec<u8> {
    let mut row = Vec::new();
    for header in &HEADERS[1..] {
        row.extend_from_slice(&(header.len() as u16).to_le_bytes());
        row.extend_from_slice(header.as_bytes());
    }
    row.extend_from_slice(&[0; BLOCK]);
    row
}

/// The `LABELS` cell's text: `name=value` pairs, comma-separated.
fn labels(t: &mut Vec<u8>, v: &Verdict) {
    for (i, (name, value)) in v.labels.iter().enumerate() {
        if i > 0 {
            t.push(b',');
        }
        t.extend_from_slice(name.as_bytes());
        t.push(b'=');
        t.extend_from_slice(value.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotation::{EndpointStates, RoleSet};
    use crate::verdict::{
        CloseKind, ConnectionFacts, Counters, History, OpenKind, Side, SideOptions,
    };
    use cells::tests::{cell_text, edge_ipv6};
    use std::net::{IpAddr, Ipv4Addr};
    use synack_core::flow::Endpoint;

    /// The header and one aligned row per verdict, in connection order.
    fn write_table(out: &mut impl Write, verdicts: &[Verdict]) -> io::Result<()> {
        let mut table = Table::new();
        for v in verdicts {
            table.push(v);
        }
        table.write(out)
    }

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
            history: History::new("ShADadFf"),
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
    fn the_padded_names_are_the_names() {
        for open in OpenKind::ALL {
            assert_eq!(cell_text(|c| c.name(&OPENS[open as usize])), open.name());
        }
        for close in CloseKind::ALL {
            assert_eq!(cell_text(|c| c.name(&CLOSES[close as usize])), close.name());
        }
        for side in [Some(Side::Client), Some(Side::Server), None] {
            let name = side.map_or("-", |s| s.name());
            assert_eq!(cell_text(|c| c.name(closer(side))), name);
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

    /// The table as formatting each cell with `format!` and padding it
    /// makes it.
    fn reference_table(verdicts: &[Verdict]) -> String {
        let mut rows: Vec<Vec<String>> = vec![HEADERS.iter().map(|h| h.to_string()).collect()];
        let mut sorted: Vec<&Verdict> = verdicts.iter().collect();
        sorted.sort_by_key(|v| v.conn);
        let endpoint = |e: &Endpoint| match e.addr {
            IpAddr::V4(a) => format!("{a}:{}", e.port),
            IpAddr::V6(a) => format!("[{a}]:{}", e.port),
        };
        let millis = |us: Option<u64>| {
            us.map_or("-".to_string(), |us| {
                format!("{}.{:03}", us / 1000, us % 1000)
            })
        };
        for v in sorted {
            let dur = v.end_ns - v.start_ns;
            let labels: Vec<String> = v.labels.iter().map(|(n, l)| format!("{n}={l}")).collect();
            rows.push(vec![
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
                format!(
                    "{}.{:03}",
                    dur / 1_000_000_000,
                    dur % 1_000_000_000 / 1_000_000
                ),
                v.conn_state.to_string(),
                if v.history.is_empty() {
                    "-".to_string()
                } else {
                    v.history.to_string()
                },
                if labels.is_empty() {
                    "-".to_string()
                } else {
                    labels.join(",")
                },
            ]);
        }
        let columns = if verdicts.iter().any(|v| !v.labels.is_empty()) {
            14
        } else {
            13
        };
        let widths: Vec<usize> = (0..columns)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap())
            .collect();
        let mut out = String::new();
        for row in rows {
            let mut line = String::new();
            for (i, cell) in row.iter().take(columns).enumerate() {
                let w = widths[i];
                let cell = match (i + 1 == columns, RIGHT[i]) {
                    (true, _) => cell.clone(),
                    (false, true) => format!("{cell:>w$}"),
                    (false, false) => format!("{cell:<w$}"),
                };
                line += &cell;
                line += if i + 1 < columns { "  " } else { "" };
            }
            out += line.trim_end();
            out += "\n";
        }
        out
    }

    #[test]
    fn tables_are_as_format_makes_them() {
        let addrs = edge_ipv6();
        let mut verdicts = Vec::new();
        for conn in 0..300u64 {
            let mut v = verdict();
            // Out of order, as connections end.
            v.conn = conn ^ 3;
            v.client.port = (conn * 997) as u16;
            if conn % 3 == 0 {
                v.server.addr = IpAddr::V6(addrs[conn as usize % addrs.len()]);
            }
            v.c2s.bytes = 13u64.pow((conn % 18) as u32);
            v.s2c.packets = conn;
            v.start_ns = conn;
            v.end_ns = conn * conn * 1_234_567;
            v.facts.rtt_synack_ack_us = (conn % 2 == 0).then_some(conn * 12_345);
            v.facts.active_closer = None;
            v.history = History::new(&"ShAD".repeat(conn as usize % 12));
            verdicts.push(v);
        }
        let mut out = Vec::new();
        write_table(&mut out, &verdicts).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), reference_table(&verdicts));
        let labels = [
            "é",
            "x  ",
            "tab\t",
            "ideographic\u{3000}",
            "vt\u{b}",
            "",
            "ssh",
        ];
        for (v, label) in verdicts.iter_mut().zip(labels) {
            v.labels = vec![("app".to_string(), label.to_string())];
        }
        let mut out = Vec::new();
        write_table(&mut out, &verdicts).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), reference_table(&verdicts));
        // Numbers that are not 0 to n - 1, one twice.
        for v in &mut verdicts {
            v.conn = v.conn * 7 % 500 + 1000;
        }
        verdicts[5].conn = verdicts[9].conn;
        let mut out = Vec::new();
        write_table(&mut out, &verdicts).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), reference_table(&verdicts));
    }

    #[test]
    fn merged_tables_are_numbered_in_order_of_key() {
        let mut verdicts = Vec::new();
        for i in 0..1200u64 {
            let mut v = verdict();
            // Keys out of order, and no number in a row's own cells.
            v.first_frame = (i * 7919) % 1201 + 5;
            v.conn = i % 4;
            v.c2s.packets = i;
            v.history = History::new(&"ShAD".repeat(i as usize % 5));
            if i == 77 {
                v.labels = vec![("app".to_string(), "ssh".to_string())];
            }
            verdicts.push(v);
        }
        for shards in [1, 2, 3] {
            let mut tables: Vec<Table> = (0..shards).map(|_| Table::new()).collect();
            for (i, v) in verdicts.iter().enumerate() {
                tables[i * 31 % shards].push_keyed(v.first_frame, v);
            }
            let mut out = Vec::new();
            Table::write_merged(tables, &mut out).unwrap();
            // The reference: the verdicts in order of key, numbered from 0.
            let mut numbered = verdicts.clone();
            numbered.sort_by_key(|v| v.first_frame);
            for (number, v) in (0..).zip(&mut numbered) {
                v.conn = number;
            }
            assert_eq!(String::from_utf8(out).unwrap(), reference_table(&numbered));
        }
        let mut out = Vec::new();
        Table::write_merged(vec![Table::new(), Table::new()], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), reference_table(&[]));
    }
}
