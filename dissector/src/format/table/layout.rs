//! The table's lines: where each column starts, and each cell copied to
//! its place.

use super::RIGHT;

/// The longest cell copied as a block of fixed size, cheaper than a copy of
/// variable size; longer cells are copied by their length.
pub(super) const BLOCK: usize = 32;

/// Where each column of a table starts in its lines, and how wide it is.
pub(super) struct Layout {
    /// The columns shown.
    places: Vec<Place>,
    /// The length of a line whose every cell fills its column.
    full: usize,
    /// A line's blanks before its cells are copied in: `full` and two blocks.
    blanks: Vec<u8>,
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
    pub(super) fn new(widths: [usize; 14], columns: usize) -> Layout {
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
        Layout {
            places,
            full,
            blanks: vec![b' '; full + 2 * BLOCK],
        }
    }

    /// Appends one line: the `conn` cell (the `CONN` column's), then the
    /// cells that begin `row` (each after its length, the last followed
    /// by a block of bytes), aligned, without trailing blanks.
    ///
    /// The line is filled with blanks, and each cell copied to its place; a
    /// short cell is copied as a block, and blanks copied over what the
    /// block brought past its end. No column but the last is narrower than
    /// its cells, and the last is not padded.
    pub(super) fn line(&self, lines: &mut Vec<u8>, conn: &[u8], row: &[u8]) {
        // Tables have 13 or 14 columns.
        let [first, places @ .., last] = &self.places[..] else {
            return lines.push(b'\n');
        };
        let base = lines.len();
        // Copied from a line of blanks: cheaper than `resize`, which
        // fills byte by byte.
        lines.extend_from_slice(&self.blanks);
        let line = &mut lines[base..];
        let start = first.cell_start(conn.len());
        line[start..start + conn.len()].copy_from_slice(conn);
        let mut at = 0;
        for place in places {
            let Some((cell, len)) = next_cell(row, &mut at) else {
                break;
            };
            let start = place.cell_start(len);
            if len <= BLOCK {
                // Two blocks from the cell's start (the line has two
                // blocks' room past its full length): the cell's block,
                // then blanks over what it brought past its end.
                if let (Some(to), Some(from)) = (window_mut(line, start), block(row, cell)) {
                    to[..BLOCK].copy_from_slice(from);
                    to[len..len + BLOCK].fill(b' ');
                }
            } else {
                line[start..start + len].copy_from_slice(&row[cell..cell + len]);
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

/// The two blocks of bytes at `at` in `bytes`, if there are, to write.
fn window_mut(bytes: &mut [u8], at: usize) -> Option<&mut [u8; 2 * BLOCK]> {
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
