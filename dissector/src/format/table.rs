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
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

    /// Adds a connection's row.
    pub fn push(&mut self, v: &Verdict) {
        self.rows.push((v.conn, self.cells.len()));
        let mut ends = CellsText::new();
        let widths = [
            ends.cell(|c| c.number(v.conn)),
            ends.cell(|c| c.endpoint(&v.client)),
            ends.cell(|c| c.endpoint(&v.server)),
        ];
        self.append(0, &ends, widths);
        self.text_cell(3, v.facts.open.name());
        self.text_cell(4, v.facts.close.name());
        self.text_cell(5, v.facts.active_closer.map_or("-", |s| s.name()));
        let dur = v.end_ns.saturating_sub(v.start_ns);
        let mut figures = CellsText::new();
        let widths = [
            figures.cell(|c| c.millis(v.facts.rtt_syn_synack_us)),
            figures.cell(|c| c.millis(v.facts.rtt_synack_ack_us)),
            figures.cell(|c| c.pair(v.c2s.packets, v.s2c.packets)),
            figures.cell(|c| c.pair(v.c2s.bytes, v.s2c.bytes)),
            figures.cell(|c| c.thousandths(dur / 1_000_000_000, dur % 1_000_000_000 / 1_000_000)),
        ];
        self.append(6, &figures, widths);
        self.text_cell(11, v.conn_state);
        let history = if v.history.is_empty() {
            "-"
        } else {
            &v.history
        };
        self.text_cell(12, history);
        self.labels_cell(v);
        self.with_labels |= !v.labels.is_empty();
    }

    /// Appends the cells of `text`, the columns' from `first` on, and widens
    /// those columns to their `widths`.
    fn append<const N: usize>(&mut self, first: usize, text: &CellsText, widths: [usize; N]) {
        text.append_to(&mut self.cells);
        for (column, width) in (first..).zip(widths) {
            self.widen(column, width);
        }
    }

    /// Appends cell `column`, ASCII text, and widens its column.
    fn text_cell(&mut self, column: usize, text: &str) {
        let text = &text.as_bytes()[..text.len().min(MAX_CELL)];
        self.cells
            .extend_from_slice(&(text.len() as u16).to_le_bytes());
        self.cells.extend_from_slice(text);
        self.widen(column, text.len());
    }

    /// Appends the `LABELS` cell (`name=value` pairs, comma-separated; `-`
    /// for none) and widens its column.
    fn labels_cell(&mut self, v: &Verdict) {
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

    /// Writes the header and the rows in connection order.
    pub fn write(mut self, out: &mut impl Write) -> io::Result<()> {
        sort_rows(&mut self.rows);
        let columns = if self.with_labels { 14 } else { 13 };
        for (width, header) in self.widths.iter_mut().zip(HEADERS) {
            *width = (*width).max(header.len());
        }
        let layout = Layout::new(self.widths, columns);
        // Every cell is followed by at least a block's bytes, for the
        // copies of fixed size.
        self.cells.extend_from_slice(&[0; BLOCK]);
        let mut lines = Vec::with_capacity(OUT_CHUNK + 1024);
        layout.line(&mut lines, &header_row());
        for &(_, start) in &self.rows {
            layout.line(&mut lines, &self.cells[start..]);
            if lines.len() >= OUT_CHUNK {
                out.write_all(&lines)?;
                lines.clear();
            }
        }
        out.write_all(&lines)
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

/// The header as a row of cells (each after its length), followed by a
/// block of zeros.
fn header_row() -> Vec<u8> {
    let mut row = Vec::new();
    for header in HEADERS {
        row.extend_from_slice(&(header.len() as u16).to_le_bytes());
        row.extend_from_slice(header.as_bytes());
    }
    row.extend_from_slice(&[0; BLOCK]);
    row
}

/// The longest cell copied as a block of fixed size, cheaper than a copy of
/// variable size; longer cells are copied by their length.
const BLOCK: usize = 32;

/// Where each column of a table starts in its lines, and how wide it is.
struct Layout {
    /// The columns shown.
    places: Vec<Place>,
    /// The length of a line whose every cell fills its column.
    full: usize,
}

/// Where a column is in the lines.
struct Place {
    /// The offset from the start of a line.
    start: usize,
    width: usize,
    /// Aligned to the right.
    right: bool,
}

impl Place {
    /// Where a cell of `len` bytes starts in the line.
    fn cell_start(&self, len: usize) -> usize {
        if self.right {
            self.start + self.width.saturating_sub(len)
        } else {
            self.start
        }
    }
}

impl Layout {
    /// The layout of `columns` columns of `widths`, two blanks apart.
    fn new(widths: [usize; 14], columns: usize) -> Layout {
        let mut places = Vec::with_capacity(columns);
        let mut full = 0;
        for (i, (width, right)) in widths.into_iter().zip(RIGHT).take(columns).enumerate() {
            let start = full + if i > 0 { 2 } else { 0 };
            places.push(Place {
                start,
                width,
                right,
            });
            full = start + width;
        }
        Layout { places, full }
    }

    /// Appends one line of the cells that begin `row` (each after its
    /// length, the last followed by a block of bytes), aligned, without
    /// trailing blanks.
    ///
    /// The line is filled with blanks, and each cell copied to its place; a
    /// short cell is copied as a block, and blanks copied over what the
    /// block brought past its end. No column but the last is narrower than
    /// its cells, and the last is not padded.
    fn line(&self, lines: &mut Vec<u8>, row: &[u8]) {
        let Some((last, places)) = self.places.split_last() else {
            return lines.push(b'\n');
        };
        let base = lines.len();
        lines.resize(base + self.full + 2 * BLOCK, b' ');
        let line = &mut lines[base..];
        let mut at = 0;
        for place in places {
            let Some((cell, len)) = next_cell(row, &mut at) else {
                break;
            };
            let start = place.cell_start(len);
            let end = start + len;
            if len <= BLOCK {
                // The line has two blocks' room past its full length.
                if let (Some(to), Some(from)) = (block_mut(line, start), block(row, cell)) {
                    *to = *from;
                }
                if let Some(to) = block_mut(line, end) {
                    *to = [b' '; BLOCK];
                }
            } else {
                line[start..end].copy_from_slice(&row[cell..cell + len]);
            }
        }
        let end = match next_cell(row, &mut at) {
            Some((cell, len)) => {
                let start = base + last.cell_start(len);
                let end = start + len;
                if end > lines.len() {
                    lines.resize(end, b' ');
                }
                lines[start..end].copy_from_slice(&row[cell..cell + len]);
                end
            }
            // Every row has a cell in every column; a shorter one would
            // end after its cells (the blanks past them are cut).
            None => base + self.full,
        };
        lines.truncate(end);
        trim_end(lines, base);
        lines.push(b'\n');
    }
}

/// The block of bytes at `at` in `bytes`, if there is one.
fn block(bytes: &[u8], at: usize) -> Option<&[u8; BLOCK]> {
    bytes.get(at..)?.first_chunk()
}

/// The block of bytes at `at` in `bytes`, if there is one, to write.
fn block_mut(bytes: &mut [u8], at: usize) -> Option<&mut [u8; BLOCK]> {
    bytes.get_mut(at..)?.first_chunk_mut()
}

/// Where the cell at `at` in `row` starts and its length; moves `at` past it.
fn next_cell(row: &[u8], at: &mut usize) -> Option<(usize, usize)> {
    let &[low, high] = row.get(*at..*at + 2)? else {
        return None;
    };
    let len = usize::from(u16::from_le_bytes([low, high]));
    let cell = *at + 2;
    *at = cell + len;
    Some((cell, len))
}

/// Cuts the blanks that end the line starting at `base`, as `str::trim_end`
/// does (only a plugin's label can end in one).
fn trim_end(lines: &mut Vec<u8>, base: usize) {
    let line = &lines[base..];
    if line
        .last()
        .is_some_and(|&b| b.is_ascii() && !char::from(b).is_whitespace())
    {
        return;
    }
    // Cells are whole `str`s, so the line is UTF-8.
    if let Ok(text) = std::str::from_utf8(line) {
        let end = base + text.trim_end().len();
        lines.truncate(end);
    }
}

/// The most a [`CellsText`] holds: the five figures from `SYN>SA ms` to
/// `DURATION s`, each after its length, are at most 2 + 21 + 2 + 21 + 2 + 41
/// + 2 + 41 + 2 + 24 = 158 bytes (the first three columns 120).
const CELLS_TEXT: usize = 176;

/// The most digits of a `u64`.
const MAX_DIGITS: usize = 20;

/// A few cells' text, each after its length (two bytes), made in place in a
/// fixed buffer and appended in one copy of fixed size: cheaper than
/// formatting pieces and copying each.
///
/// Every run of cells made here is shorter than [`CELLS_TEXT`] by
/// construction (numbers have at most 20 digits), with room past its end
/// for the fixed-size copies of [`CellsText::number`] and
/// [`CellsText::octet`].
struct CellsText {
    bytes: [u8; CELLS_TEXT + MAX_DIGITS + 4],
    len: usize,
}

impl CellsText {
    /// No cells yet.
    fn new() -> CellsText {
        CellsText {
            bytes: [0; CELLS_TEXT + MAX_DIGITS + 4],
            len: 0,
        }
    }

    /// Appends the text to `t`.
    fn append_to(&self, t: &mut Vec<u8>) {
        let end = t.len() + self.len;
        t.extend_from_slice(&self.bytes[..CELLS_TEXT]);
        t.truncate(end);
    }

    /// Appends a cell as `write` makes it, after its length, and returns
    /// the length.
    fn cell(&mut self, write: impl FnOnce(&mut CellsText)) -> usize {
        let at = self.len;
        self.len += 2;
        write(self);
        let len = self.len - at - 2;
        self.bytes[at..at + 2].copy_from_slice(&(len as u16).to_le_bytes());
        len
    }

    /// Appends one byte.
    fn byte(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    /// Appends `n` in decimal.
    fn number(&mut self, n: u64) {
        // The digits are written from the last, two at a time, to end at
        // MAX_DIGITS in `digits`; the MAX_DIGITS bytes from where they
        // start are copied, and the length counts the digits.
        let mut digits = [0u8; 2 * MAX_DIGITS];
        let mut start = MAX_DIGITS;
        let mut rest = n;
        while rest >= 100 {
            start -= 2;
            digits[start..start + 2].copy_from_slice(&two_digits(rest % 100));
            rest /= 100;
        }
        if rest >= 10 {
            start -= 2;
            digits[start..start + 2].copy_from_slice(&two_digits(rest));
        } else {
            start -= 1;
            digits[start] = b'0' + rest as u8;
        }
        self.bytes[self.len..self.len + MAX_DIGITS]
            .copy_from_slice(&digits[start..start + MAX_DIGITS]);
        self.len += MAX_DIGITS - start;
    }

    /// `p/q`.
    fn pair(&mut self, p: u64, q: u64) {
        self.number(p);
        self.byte(b'/');
        self.number(q);
    }

    /// `whole.fff`: a number with three decimals (`thousandths` below 1000).
    fn thousandths(&mut self, whole: u64, thousandths: u64) {
        self.number(whole);
        let [tens, ones] = two_digits(thousandths % 100);
        let hundreds = b'0' + (thousandths / 100 % 10) as u8;
        self.bytes[self.len..self.len + 4].copy_from_slice(&[b'.', hundreds, tens, ones]);
        self.len += 4;
    }

    /// Microseconds as milliseconds with three decimals, `-` when not seen.
    fn millis(&mut self, us: Option<u64>) {
        match us {
            Some(us) => self.thousandths(us / 1000, us % 1000),
            None => self.byte(b'-'),
        }
    }

    /// `a.b.c.d:port`, or `[v6]:port`, as `SocketAddr` prints them.
    fn endpoint(&mut self, e: &Endpoint) {
        match e.addr {
            IpAddr::V4(a) => self.ipv4(a),
            IpAddr::V6(a) => {
                self.byte(b'[');
                self.ipv6(a);
                self.byte(b']');
            }
        }
        self.byte(b':');
        self.number(u64::from(e.port));
    }

    /// Appends one byte value in decimal.
    fn octet(&mut self, octet: u8) {
        // The 4 bytes are copied whole, then the length counts the digits.
        let digits = OCTETS[usize::from(octet)];
        self.bytes[self.len..self.len + 4].copy_from_slice(&digits);
        self.len += usize::from(digits[3]);
    }

    /// Appends an IPv4 address in dotted decimal.
    fn ipv4(&mut self, a: Ipv4Addr) {
        let [a, b, c, d] = a.octets();
        self.octet(a);
        for octet in [b, c, d] {
            self.byte(b'.');
            self.octet(octet);
        }
    }

    /// Appends an IPv6 address as `Ipv6Addr`'s `Display` writes it
    /// (RFC 5952): lowercase hexadecimal groups, the first longest run of
    /// two or more zero groups as `::`, an IPv4-mapped address as
    /// `::ffff:a.b.c.d`.
    fn ipv6(&mut self, a: Ipv6Addr) {
        if let Some(v4) = a.to_ipv4_mapped() {
            self.bytes[self.len..self.len + 7].copy_from_slice(b"::ffff:");
            self.len += 7;
            self.ipv4(v4);
            return;
        }
        let groups = a.segments();
        match longest_zero_run(&groups) {
            Some((start, end)) => {
                self.groups(&groups[..start]);
                self.byte(b':');
                self.byte(b':');
                self.groups(&groups[end..]);
            }
            None => self.groups(&groups),
        }
    }

    /// Appends IPv6 groups, colon-separated.
    fn groups(&mut self, groups: &[u16]) {
        for (i, &group) in groups.iter().enumerate() {
            if i > 0 {
                self.byte(b':');
            }
            self.hex(group);
        }
    }

    /// Appends `n` in lowercase hexadecimal without leading zeros.
    fn hex(&mut self, n: u16) {
        // The four digits are copied whole, shifted so that the first
        // significant one leads, then the length counts the significant ones.
        let digits = (u16::BITS - n.leading_zeros()).div_ceil(4).max(1);
        let nibble = |shift: u16| HEX_DIGITS[usize::from(n >> shift & 0xF)];
        let text = u32::from_be_bytes([nibble(12), nibble(8), nibble(4), nibble(0)]);
        let text = text << (8 * (4 - digits));
        self.bytes[self.len..self.len + 4].copy_from_slice(&text.to_be_bytes());
        self.len += digits as usize;
    }
}

/// Where the first longest run of two or more zero groups starts and ends.
fn longest_zero_run(groups: &[u16; 8]) -> Option<(usize, usize)> {
    let mut longest = None;
    let mut longest_len = 1;
    let mut start = 0;
    for (i, &group) in groups.iter().enumerate() {
        if group != 0 {
            start = i + 1;
        } else if i + 1 - start > longest_len {
            longest_len = i + 1 - start;
            longest = Some((start, i + 1));
        }
    }
    longest
}

/// The decimal digits of each byte value, then their count: `[b'7', 0, 0, 1]`.
const OCTETS: [[u8; 4]; 256] = {
    let mut table = [[0u8; 4]; 256];
    let mut n = 0;
    while n < 256 {
        let (b, d) = (n as u8, b'0');
        table[n] = match b {
            0..=9 => [d + b, 0, 0, 1],
            10..=99 => [d + b / 10, d + b % 10, 0, 2],
            _ => [d + b / 100, d + b / 10 % 10, d + b % 10, 3],
        };
        n += 1;
    }
    table
};

/// The two decimal digits of `n`, below 100.
fn two_digits(n: u64) -> [u8; 2] {
    let at = n as usize * 2;
    [DIGIT_PAIRS[at], DIGIT_PAIRS[at + 1]]
}

/// "00" to "99", for writing decimal numbers two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Lowercase hexadecimal digits.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The `LABELS` cell's text: `name=value` pairs, comma-separated (`-` for none).
fn labels(t: &mut Vec<u8>, v: &Verdict) {
    if v.labels.is_empty() {
        t.push(b'-');
    }
    for (i, (name, value)) in v.labels.iter().enumerate() {
        if i > 0 {
            t.push(b',');
        }
        t.extend_from_slice(name.as_bytes());
        t.push(b'=');
        t.extend_from_slice(value.as_bytes());
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

    /// The text of the cell `write` makes, checked to follow its length.
    fn cell_text(write: impl FnOnce(&mut CellsText)) -> String {
        let mut text = CellsText::new();
        let len = text.cell(write);
        let mut out = Vec::new();
        text.append_to(&mut out);
        assert_eq!(out[..2], (len as u16).to_le_bytes());
        String::from_utf8(out[2..].to_vec()).unwrap()
    }

    /// Numbers around every power of ten, and the extremes.
    fn edge_numbers() -> Vec<u64> {
        let mut numbers = vec![0, 1, u64::MAX - 1, u64::MAX];
        let mut power = 1u64;
        while let Some(next) = power.checked_mul(10) {
            numbers.extend([power - 1, power, power + 1, next - 1]);
            power = next;
        }
        numbers
    }

    #[test]
    fn numbers_are_as_format_writes_them() {
        for n in edge_numbers() {
            assert_eq!(cell_text(|c| c.number(n)), n.to_string());
            assert_eq!(cell_text(|c| c.pair(n, 7)), format!("{n}/7"));
            assert_eq!(cell_text(|c| c.pair(n, n)), format!("{n}/{n}"));
            for frac in [0, 7, 45, 999] {
                let expected = format!("{n}.{frac:03}");
                assert_eq!(cell_text(|c| c.thousandths(n, frac)), expected);
            }
            let (ms, us) = (n / 1000, n % 1000);
            let expected = format!("{ms}.{us:03}");
            assert_eq!(cell_text(|c| c.millis(Some(n))), expected);
        }
        assert_eq!(cell_text(|c| c.millis(None)), "-");
    }

    /// Addresses with every pattern of zero groups, IPv4-mapped and
    /// -compatible ones, and pseudo-random ones.
    fn edge_ipv6() -> Vec<Ipv6Addr> {
        let mut addrs = vec![
            Ipv6Addr::UNSPECIFIED,
            Ipv6Addr::LOCALHOST,
            Ipv6Addr::from(u128::MAX),
            Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped(),
            Ipv4Addr::new(0, 0, 0, 0).to_ipv6_mapped(),
            Ipv4Addr::new(255, 255, 255, 255).to_ipv6_mapped(),
            Ipv4Addr::new(10, 0, 0, 1).to_ipv6_compatible(),
            Ipv6Addr::new(0, 0, 0, 0, 0, 0xfffe, 0xc000, 0x201),
            Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x201),
        ];
        let values = [0x1, 0xa, 0x10, 0xab, 0x100, 0xabc, 0x1000, 0xffff];
        for zeros in 0u32..256 {
            let groups: [u16; 8] = std::array::from_fn(|i| {
                if zeros & (1 << i) != 0 {
                    0
                } else {
                    values[(i + zeros as usize) % values.len()]
                }
            });
            addrs.push(Ipv6Addr::from(groups));
        }
        let mut x = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834u128;
        for _ in 0..1000 {
            x = x.wrapping_mul(0x2360_ed05_1fc6_5da4_4385_df64_9fcc_f645) + 1;
            // Some groups cleared, so that zero runs of every length occur.
            let mask = (x >> 64) as u8;
            let groups: [u16; 8] = std::array::from_fn(|i| {
                let group = (x >> (16 * i)) as u16;
                if mask & (1 << i) != 0 {
                    0
                } else {
                    group >> ((x >> (100 + i)) % 16)
                }
            });
            addrs.push(Ipv6Addr::from(groups));
        }
        addrs
    }

    #[test]
    fn endpoints_are_as_format_writes_them() {
        let ports = [0, 1, 9, 10, 80, 443, 9999, 10000, 40000, u16::MAX];
        let octets = [0, 1, 9, 10, 99, 100, 127, 192, 200, 255];
        for (i, &port) in ports.iter().enumerate() {
            for &a in &octets {
                let b = octets[(i + 3) % octets.len()];
                for addr in [Ipv4Addr::new(a, b, 9, 100), Ipv4Addr::new(255, a, b, 0)] {
                    let e = Endpoint {
                        addr: IpAddr::V4(addr),
                        port,
                    };
                    assert_eq!(cell_text(|c| c.endpoint(&e)), format!("{addr}:{port}"));
                }
            }
            for addr in edge_ipv6() {
                let e = Endpoint {
                    addr: IpAddr::V6(addr),
                    port,
                };
                assert_eq!(cell_text(|c| c.endpoint(&e)), format!("[{addr}]:{port}"));
            }
        }
    }

    #[test]
    fn the_longest_cells_fit() {
        let widest = Endpoint {
            addr: IpAddr::V6(Ipv6Addr::from(u128::MAX)),
            port: u16::MAX,
        };
        let mut ends = CellsText::new();
        ends.cell(|c| c.number(u64::MAX));
        assert_eq!(ends.cell(|c| c.endpoint(&widest)), 47);
        ends.cell(|c| c.endpoint(&widest));
        let mut figures = CellsText::new();
        for _ in 0..2 {
            figures.cell(|c| c.millis(Some(u64::MAX)));
        }
        for _ in 0..2 {
            assert_eq!(figures.cell(|c| c.pair(u64::MAX, u64::MAX)), 41);
        }
        figures.cell(|c| c.thousandths(u64::MAX, 999));
        assert_eq!(figures.len, 10 + 21 + 21 + 41 + 41 + 24);
        assert!(figures.len <= CELLS_TEXT && ends.len <= CELLS_TEXT);
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
                    v.history.clone()
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
            v.history = "ShAD".repeat(conn as usize % 12);
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
}
