//! The text of the table's number and address cells, written in place
//! from digit tables (no `core::fmt`): numbers, `p/q` pairs, three-decimal
//! figures, and endpoints as `SocketAddr` prints them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use synack_core::flow::Endpoint;

use crate::format::digits::{decimal, two_digits, HEX_DIGITS, OCTETS, U64_DIGITS};

/// The most a [`CellsText`] holds: the five figures from `SYN>SA ms` to
/// `DURATION s`, each after its length, are at most 2 + 21 + 2 + 21 + 2 +
/// 41 + 2 + 41 + 2 + 24 = 158 bytes; the five from `CLIENT` to `CLOSER` (two
/// endpoints and three names) 2 × (2 + 47) + 3 × (2 + 12) = 140.
const CELLS_TEXT: usize = 176;

/// The room of a [`Padded`] name.
pub(super) const NAME: usize = 16;

/// A name (at most [`NAME`] bytes) in a block of fixed size, so that it is
/// copied whole, and its length.
pub(super) struct Padded {
    bytes: [u8; NAME],
    len: usize,
}

impl Padded {
    /// `name` padded (it must fit).
    pub(super) const fn new(name: &str) -> Padded {
        let text = name.as_bytes();
        let mut bytes = [0; NAME];
        let mut i = 0;
        while i < text.len() {
            bytes[i] = text[i];
            i += 1;
        }
        Padded {
            bytes,
            len: text.len(),
        }
    }
}

/// The room a [`CellsText`] writes in: [`CELLS_TEXT`] and what the copies
/// of fixed size write past the text.
pub(super) const ROOM: usize = CELLS_TEXT + U64_DIGITS + 4;

/// A few cells' text, each after its length (two bytes), made in place
/// where they are kept (the table's buffer, made room in): cheaper than
/// formatting pieces and copying each, and than making them apart to copy
/// them, which reads them back before their stores have landed.
///
/// Every run of cells made here is shorter than [`CELLS_TEXT`] by
/// construction (numbers have at most 20 digits), with room past its end
/// for the fixed-size copies of [`CellsText::number`],
/// [`CellsText::octet`] and [`CellsText::name`].
pub(super) struct CellsText<'a> {
    bytes: &'a mut [u8; ROOM],
    len: usize,
}

impl<'a> CellsText<'a> {
    /// No cells yet, to be made at the start of `room`.
    pub(super) fn new(room: &'a mut [u8; ROOM]) -> CellsText<'a> {
        CellsText {
            bytes: room,
            len: 0,
        }
    }

    /// The length of the text made.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Appends a cell as `write` makes it, after its length, and returns
    /// the length.
    pub(super) fn cell(&mut self, write: impl FnOnce(&mut CellsText)) -> usize {
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

    /// Appends a name, copied whole from its padded block.
    pub(super) fn name(&mut self, name: &Padded) {
        self.bytes[self.len..self.len + NAME].copy_from_slice(&name.bytes);
        self.len += name.len;
    }

    /// Appends `n` in decimal.
    pub(super) fn number(&mut self, n: u64) {
        if n < 100 {
            return self.below_100(n);
        }
        // The U64_DIGITS bytes from where the digits start are copied, and
        // the length counts the digits.
        let (digits, start) = decimal(n);
        self.bytes[self.len..self.len + U64_DIGITS]
            .copy_from_slice(&digits[start..start + U64_DIGITS]);
        self.len += U64_DIGITS - start;
    }

    /// Appends `n`, below 100, in decimal: most counts and times are, and
    /// their one or two digits are one copy, without the general loop.
    fn below_100(&mut self, n: u64) {
        let [tens, ones] = two_digits(n);
        let (digits, len) = if n < 10 {
            ([ones, 0], 1)
        } else {
            ([tens, ones], 2)
        };
        self.bytes[self.len..self.len + 2].copy_from_slice(&digits);
        self.len += len;
    }

    /// `p/q`.
    pub(super) fn pair(&mut self, p: u64, q: u64) {
        self.number(p);
        self.byte(b'/');
        self.number(q);
    }

    /// `whole.fff`: a number with three decimals (`thousandths` below 1000).
    pub(super) fn thousandths(&mut self, whole: u64, thousandths: u64) {
        self.number(whole);
        let [tens, ones] = two_digits(thousandths % 100);
        let hundreds = b'0' + (thousandths / 100 % 10) as u8;
        self.bytes[self.len..self.len + 4].copy_from_slice(&[b'.', hundreds, tens, ones]);
        self.len += 4;
    }

    /// Microseconds as milliseconds with three decimals, `-` when not seen.
    pub(super) fn millis(&mut self, us: Option<u64>) {
        match us {
            Some(us) => self.thousandths(us / 1000, us % 1000),
            None => self.byte(b'-'),
        }
    }

    /// `a.b.c.d:port`, or `[v6]:port`, as `SocketAddr` prints them.
    pub(super) fn endpoint(&mut self, e: &Endpoint) {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::verdict::Side;

    /// The text of the cell `write` makes, checked to follow its length.
    pub(crate) fn cell_text(write: impl FnOnce(&mut CellsText)) -> String {
        let mut room = [0; ROOM];
        let mut text = CellsText::new(&mut room);
        let len = text.cell(write);
        let end = text.len();
        assert_eq!(room[..2], (len as u16).to_le_bytes());
        String::from_utf8(room[2..end].to_vec()).unwrap()
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
    pub(crate) fn edge_ipv6() -> Vec<Ipv6Addr> {
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
        let (mut ends_room, mut figures_room) = ([0; ROOM], [0; ROOM]);
        let mut ends = CellsText::new(&mut ends_room);
        assert_eq!(ends.cell(|c| c.endpoint(&widest)), 47);
        ends.cell(|c| c.endpoint(&widest));
        // The longest names, copied whole as the table copies them.
        let opens: Vec<&Padded> = super::super::OPENS.iter().collect();
        let closes: Vec<&Padded> = super::super::CLOSES.iter().collect();
        let sides = [Side::Client, Side::Server].map(|s| super::super::closer(Some(s)));
        for names in [&opens[..], &closes[..], &sides[..]] {
            let longest = names.iter().max_by_key(|n| n.len).unwrap();
            ends.cell(|c| c.name(longest));
        }
        let mut figures = CellsText::new(&mut figures_room);
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
}
