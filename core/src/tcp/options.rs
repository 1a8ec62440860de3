//! A zero-copy walk over TCP options.
//!
//! The walk yields a typed [`TcpOption`] per option and a [`MalformedOption`]
//! with its reason where the bytes break the rules. Options before a malformed
//! one are never lost, unknown kinds never stop the walk, and every step
//! advances, so it cannot loop. Bytes after EOL are padding, not options (as
//! tshark and tcpdump read them); see [`OptionIter::padding`].

use std::fmt;

use nom::number::complete::{be_u16, u8 as byte};
use nom::{IResult, Parser};

/// ExID of the experimental form of TCP Fast Open (kind 254, RFC 7413).
pub const TFO_EXPERIMENT_ID: u16 = 0xF989;

/// One TCP option, borrowing its value bytes from the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// Kind 0: end of option list.
    Eol,
    /// Kind 1: no operation (padding between options).
    Nop,
    /// Kind 2: maximum segment size.
    Mss(u16),
    /// Kind 3: window scale shift count.
    WindowScale(u8),
    /// Kind 4: SACK permitted.
    SackPermitted,
    /// Kind 5: SACK blocks (1 to 4).
    Sack(SackBlocks<'a>),
    /// Kind 8: timestamps.
    Timestamps {
        /// Timestamp value.
        tsval: u32,
        /// Timestamp echo reply.
        tsecr: u32,
    },
    /// Kind 19: MD5 signature (RFC 2385).
    Md5Signature(&'a [u8; 16]),
    /// Kind 28: user timeout (RFC 5482).
    UserTimeout {
        /// True when the timeout is in minutes, false for seconds.
        minutes: bool,
        /// The 15-bit timeout.
        timeout: u16,
    },
    /// Kind 29: TCP authentication option (RFC 5925).
    Authentication {
        /// KeyID.
        key_id: u8,
        /// RNextKeyID.
        rnext_key_id: u8,
        /// The MAC.
        mac: &'a [u8],
    },
    /// Kind 30: multipath TCP (RFC 8684).
    Mptcp {
        /// The subtype (upper four bits of the first value byte).
        subtype: u8,
        /// The value bytes after kind and length (subtype byte included).
        data: &'a [u8],
    },
    /// Kind 34, or kind 254 with ExID 0xF989: TCP Fast Open cookie (empty: a cookie request).
    FastOpen {
        /// The cookie.
        cookie: &'a [u8],
        /// True for the experimental form (kind 254, ExID 0xF989).
        experimental: bool,
    },
    /// Kind 253 or 254 (RFC 6994) with an ExID other than TFO's.
    Experimental {
        /// 253 or 254.
        kind: u8,
        /// The 16-bit experiment identifier.
        exid: u16,
        /// Bytes after the ExID.
        data: &'a [u8],
    },
    /// Any other kind, carried by its length byte.
    Unknown {
        /// The option kind.
        kind: u8,
        /// Bytes after kind and length.
        data: &'a [u8],
    },
}

impl TcpOption<'_> {
    /// The option kind as on the wire.
    pub fn kind(&self) -> u8 {
        match *self {
            TcpOption::Eol => 0,
            TcpOption::Nop => 1,
            TcpOption::Mss(_) => 2,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 4,
            TcpOption::Sack(_) => 5,
            TcpOption::Timestamps { .. } => 8,
            TcpOption::Md5Signature(_) => 19,
            TcpOption::UserTimeout { .. } => 28,
            TcpOption::Authentication { .. } => 29,
            TcpOption::Mptcp { .. } => 30,
            TcpOption::FastOpen {
                experimental: false,
                ..
            } => 34,
            TcpOption::FastOpen {
                experimental: true, ..
            } => 254,
            TcpOption::Experimental { kind, .. } | TcpOption::Unknown { kind, .. } => kind,
        }
    }

    /// The option length as on the wire (1 for EOL and NOP, which have no length byte).
    pub fn len(&self) -> usize {
        match *self {
            TcpOption::Eol | TcpOption::Nop => 1,
            TcpOption::SackPermitted => 2,
            TcpOption::WindowScale(_) => 3,
            TcpOption::Mss(_) | TcpOption::UserTimeout { .. } => 4,
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Md5Signature(_) => 18,
            TcpOption::Sack(blocks) => 2 + blocks.raw.len(),
            TcpOption::Authentication { mac, .. } => 4 + mac.len(),
            TcpOption::FastOpen {
                cookie,
                experimental,
            } => 2 + cookie.len() + if experimental { 2 } else { 0 },
            TcpOption::Experimental { data, .. } => 4 + data.len(),
            TcpOption::Mptcp { data, .. } | TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Always false: an option occupies at least one byte (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// SACK blocks borrowed from the option: `(left edge, right edge)` pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SackBlocks<'a> {
    raw: &'a [u8],
}

impl<'a> SackBlocks<'a> {
    /// Number of blocks (1 to 4).
    #[inline]
    pub fn count(&self) -> usize {
        self.raw.len() / 8
    }
    /// The blocks in order, as `(left edge, right edge)`.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        self.raw.chunks_exact(8).map(|b| {
            (
                u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            )
        })
    }
}

/// Why an option could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MalformedReason {
    /// The kind is the last byte: its length byte is missing.
    MissingLength,
    /// The length byte is 0 or 1 (it counts kind and length, so at least 2).
    LengthBelowTwo(u8),
    /// The length runs past the end of the header.
    PastHeader {
        /// The length byte.
        len: u8,
        /// Bytes left in the header from the option's kind.
        remaining: usize,
    },
    /// The capture ends inside the option (the snap length cut the header):
    /// not a fault of the packet.
    CutByCapture {
        /// Bytes of the option that were captured.
        captured: usize,
    },
    /// The length does not fit the kind.
    WrongLength {
        /// The length byte.
        len: u8,
        /// What the kind requires, e.g. "4", "10..=34 in steps of 8".
        expected: &'static str,
    },
}

/// An option that could not be read, with where and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedOption {
    /// Offset of the option's kind byte from the start of the options.
    pub offset: usize,
    /// The option kind.
    pub kind: u8,
    /// The length byte, when there is one.
    pub len: Option<u8>,
    /// What is wrong.
    pub reason: MalformedReason,
}

impl fmt::Display for MalformedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MalformedReason::MissingLength => write!(f, "no length byte"),
            MalformedReason::LengthBelowTwo(len) => write!(f, "length {len} is below 2"),
            MalformedReason::PastHeader { len, remaining } => {
                write!(
                    f,
                    "length {len} runs past the header ({remaining} bytes left)"
                )
            }
            MalformedReason::CutByCapture { captured } => {
                write!(f, "cut by the snap length after {captured} bytes")
            }
            MalformedReason::WrongLength { len, expected } => {
                write!(f, "length {len}, expected {expected}")
            }
        }
    }
}

impl fmt::Display for MalformedOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "option kind {} at offset {}: {}",
            self.kind, self.offset, self.reason
        )
    }
}

impl std::error::Error for MalformedOption {}

/// Iterator over the options of one header.
///
/// The common options (NOP, MSS, window scale, SACK-permitted, SACK,
/// timestamps) are each read in one step, kind and length matched together;
/// the walk ends (and `rest` is emptied) at EOL, at an option whose length
/// cannot be trusted, and at the end of the bytes.
///
/// Internal iteration (`for_each`, `fold`) gives the same items and reads
/// the two layouts Linux sends on nearly every segment (the handshake's
/// MSS, SACK-permitted, timestamps, NOP, window scale; and NOP, NOP,
/// timestamps) in one step each. Given to `fold` and marked
/// `#[inline(always)]`, a closure is inlined for each option, and its match
/// on the option folds away there:
///
/// ```
/// use synack_core::tcp::{OptionIter, TcpOption};
///
/// let syn = [2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];
/// let mss = OptionIter::new(&syn).fold(
///     None,
///     #[inline(always)]
///     |mss, item| match item {
///         Ok(TcpOption::Mss(v)) => Some(v),
///         _ => mss,
///     },
/// );
/// assert_eq!(mss, Some(1460));
/// ```
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    /// The options not walked yet; empty once the walk has ended.
    rest: &'a [u8],
    /// Length of all the options, for the offsets of malformed ones.
    total: usize,
    /// The bytes after EOL, once the walk has ended there.
    padding: &'a [u8],
    /// The capture ends before the options do.
    cut: bool,
}

type Item<'a> = Result<TcpOption<'a>, MalformedOption>;

impl<'a> OptionIter<'a> {
    /// Walks `options`, the bytes between the fixed header and the data offset.
    #[inline]
    pub fn new(options: &'a [u8]) -> Self {
        OptionIter {
            rest: options,
            total: options.len(),
            padding: &[],
            cut: false,
        }
    }

    /// Walks options of which only `captured` was captured (the snap length
    /// cut the header): an option running past the captured bytes is
    /// [`MalformedReason::CutByCapture`], not a fault of the packet.
    #[inline]
    pub fn new_cut(captured: &'a [u8]) -> Self {
        OptionIter {
            cut: true,
            ..OptionIter::new(captured)
        }
    }

    /// The bytes after EOL (padding), or an empty slice when there is no EOL.
    pub fn padding(options: &'a [u8]) -> &'a [u8] {
        let mut walk = OptionIter::new(options);
        walk.by_ref().for_each(drop);
        walk.padding_seen()
    }

    /// Once the walk has ended at EOL, the bytes after it (padding); otherwise
    /// an empty slice. Lets a caller that walks the options anyway check the
    /// padding without a second walk.
    #[inline]
    pub fn padding_seen(&self) -> &'a [u8] {
        self.padding
    }

    /// Reads an option of kind `kind` (neither EOL nor NOP) at `offset` from
    /// the bytes after its kind byte: any kind, and any length, right or
    /// wrong. Returns the item and the bytes after the option (none when the
    /// walk ends there).
    ///
    /// It takes plain values, not the walk: a walk lent to a call that is
    /// not inlined would have to live in memory, not in registers.
    #[inline]
    fn walk_on(kind: u8, after_kind: &'a [u8], offset: usize, cut: bool) -> (Item<'a>, &'a [u8]) {
        match *after_kind {
            [len, ..] if len >= 2 && usize::from(len) <= after_kind.len() + 1 => {
                let (value, after) = after_kind[1..].split_at(usize::from(len) - 2);
                let item = typed(kind, value)
                    .ok_or_else(|| MalformedOption::wrong_length(offset, kind, value));
                (item, after)
            }
            [] => {
                let item = MalformedOption::unreadable(offset, kind, None, 1, cut);
                (Err(item), &[])
            }
            [len, ..] => {
                let remaining = after_kind.len() + 1;
                let item = MalformedOption::unreadable(offset, kind, Some(len), remaining, cut);
                (Err(item), &[])
            }
        }
    }

    /// Walks on by the general rule from an option of kind `kind` (neither
    /// EOL nor NOP), given the bytes after its kind byte.
    #[inline(always)]
    fn walk_on_from(&mut self, kind: u8, after_kind: &'a [u8]) -> Option<Item<'a>> {
        let offset = self.total - after_kind.len() - 1;
        let (item, after) = Self::walk_on(kind, after_kind, offset, self.cut);
        self.rest = after;
        Some(item)
    }
}

// The reports of malformed options are built out of line, from plain values:
// a walk that lent itself to them would have to live in memory, not in
// registers, wherever its caller's code may touch memory.
impl MalformedOption {
    /// An option at `offset` that cannot be read, with `remaining` bytes
    /// left from its kind; `cut`: the capture ended there.
    #[cold]
    #[inline(never)]
    fn unreadable(
        offset: usize,
        kind: u8,
        len: Option<u8>,
        remaining: usize,
        cut: bool,
    ) -> MalformedOption {
        let reason = match len {
            None if cut => MalformedReason::CutByCapture { captured: 1 },
            None => MalformedReason::MissingLength,
            Some(len) if len < 2 => MalformedReason::LengthBelowTwo(len),
            Some(_) if cut => MalformedReason::CutByCapture {
                captured: remaining,
            },
            Some(len) => MalformedReason::PastHeader { len, remaining },
        };
        MalformedOption {
            offset,
            kind,
            len,
            reason,
        }
    }

    /// An option at `offset` whose length does not fit its kind (the walk
    /// goes on after it, as its length byte is within the header).
    #[cold]
    #[inline(never)]
    fn wrong_length(offset: usize, kind: u8, value: &[u8]) -> MalformedOption {
        let len = (value.len() + 2) as u8;
        MalformedOption {
            offset,
            kind,
            len: Some(len),
            reason: MalformedReason::WrongLength {
                len,
                expected: expected_length(kind, value),
            },
        }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Item<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<Item<'a>> {
        // The options of nearly every segment, each matched with the
        // lengths its kind allows and returned from its own arm, so that a
        // caller's match on the option compiles to a jump straight to its
        // arm; any other kind or length takes `walk_on`. The patterns hold
        // the kind byte too, so that the walk carries one slice from option
        // to option (not also the bytes after the kind).
        let rest = self.rest;
        let &kind = rest.first()?;
        let option = match (kind, rest) {
            (1, &[_, ref after @ ..]) => {
                self.rest = after;
                TcpOption::Nop
            }
            (8, &[_, 10, a0, a1, a2, a3, b0, b1, b2, b3, ref after @ ..]) => {
                self.rest = after;
                timestamps([a0, a1, a2, a3], [b0, b1, b2, b3])
            }
            (2, &[_, 4, hi, lo, ref after @ ..]) => {
                self.rest = after;
                TcpOption::Mss(u16::from_be_bytes([hi, lo]))
            }
            (3, &[_, 3, shift, ref after @ ..]) => {
                self.rest = after;
                TcpOption::WindowScale(shift)
            }
            (4, &[_, 2, ref after @ ..]) => {
                self.rest = after;
                TcpOption::SackPermitted
            }
            (5, &[_, len @ (10 | 18 | 26 | 34), ref value_on @ ..])
                if usize::from(len) - 2 <= value_on.len() =>
            {
                let (raw, after) = value_on.split_at(usize::from(len) - 2);
                self.rest = after;
                TcpOption::Sack(SackBlocks { raw })
            }
            (30, &[_, len @ 3..=255, ref value_on @ ..])
                if usize::from(len) - 2 <= value_on.len() =>
            {
                let (data, after) = value_on.split_at(usize::from(len) - 2);
                self.rest = after;
                TcpOption::Mptcp {
                    subtype: data[0] >> 4,
                    data,
                }
            }
            (19, &[_, 18, ref value_on @ ..]) if value_on.len() >= 16 => {
                let (digest, after) = value_on.split_first_chunk().expect("the guard");
                self.rest = after;
                TcpOption::Md5Signature(digest)
            }
            (0, &[_, ref padding @ ..]) => {
                self.padding = padding;
                self.rest = &[];
                TcpOption::Eol
            }
            _ => return self.walk_on_from(kind, &rest[1..]),
        };
        Some(Ok(option))
    }

    /// Internal iteration (`for_each`, `fold` and what builds on them): the
    /// same items as `next`, with the two layouts Linux sends on nearly
    /// every segment read in one step each, so that `f` is called with each
    /// option's kind known where it is inlined. (Linux's own option parser
    /// takes the same shortcut for NOP, NOP, timestamps:
    /// `tcp_parse_aligned_timestamp`.)
    #[inline]
    fn fold<B, F>(mut self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Item<'a>) -> B,
    {
        let mut acc = init;
        match *self.rest {
            // The handshake: MSS, SACK-permitted, timestamps, NOP, window scale.
            [2, 4, m0, m1, 4, 2, 8, 10, a0, a1, a2, a3, b0, b1, b2, b3, 1, 3, 3, shift, ref after @ ..] =>
            {
                self.rest = after;
                acc = f(acc, Ok(TcpOption::Mss(u16::from_be_bytes([m0, m1]))));
                acc = f(acc, Ok(TcpOption::SackPermitted));
                acc = f(acc, Ok(timestamps([a0, a1, a2, a3], [b0, b1, b2, b3])));
                acc = f(acc, Ok(TcpOption::Nop));
                acc = f(acc, Ok(TcpOption::WindowScale(shift)));
            }
            // Every segment after it: NOP, NOP, timestamps.
            [1, 1, 8, 10, a0, a1, a2, a3, b0, b1, b2, b3, ref after @ ..] => {
                self.rest = after;
                acc = f(acc, Ok(TcpOption::Nop));
                acc = f(acc, Ok(TcpOption::Nop));
                acc = f(acc, Ok(timestamps([a0, a1, a2, a3], [b0, b1, b2, b3])));
            }
            _ => {}
        }
        // The rest one option a step (a `for` loop calls `next`).
        for item in self {
            acc = f(acc, item);
        }
        acc
    }
}

/// The timestamps option from its two values' bytes.
#[inline(always)]
fn timestamps(tsval: [u8; 4], tsecr: [u8; 4]) -> TcpOption<'static> {
    TcpOption::Timestamps {
        tsval: u32::from_be_bytes(tsval),
        tsecr: u32::from_be_bytes(tsecr),
    }
}

/// Decodes the value of an option whose length byte has been checked against
/// the header; `None` when the length does not fit the kind.
///
/// Fixed-size values are matched as byte arrays (the length check is the
/// pattern); the variable-size ones with a prefix are split by nom.
#[inline]
fn typed(kind: u8, value: &[u8]) -> Option<TcpOption<'_>> {
    Some(match (kind, value) {
        (2, &[hi, lo]) => TcpOption::Mss(u16::from_be_bytes([hi, lo])),
        (3, &[shift]) => TcpOption::WindowScale(shift),
        (4, []) => TcpOption::SackPermitted,
        (5, _) if matches!(value.len(), 8 | 16 | 24 | 32) => {
            TcpOption::Sack(SackBlocks { raw: value })
        }
        (8, &[a0, a1, a2, a3, b0, b1, b2, b3]) => timestamps([a0, a1, a2, a3], [b0, b1, b2, b3]),
        (19, _) => TcpOption::Md5Signature(value.try_into().ok()?),
        (28, &[hi, lo]) => {
            let raw = u16::from_be_bytes([hi, lo]);
            TcpOption::UserTimeout {
                minutes: raw & 0x8000 != 0,
                timeout: raw & 0x7FFF,
            }
        }
        (29, _) => {
            let (mac, (key_id, rnext_key_id)) = prefix((byte, byte).parse(value))?;
            TcpOption::Authentication {
                key_id,
                rnext_key_id,
                mac,
            }
        }
        (30, &[first, ..]) => TcpOption::Mptcp {
            subtype: first >> 4,
            data: value,
        },
        (34, _) if value.len() <= 16 => TcpOption::FastOpen {
            cookie: value,
            experimental: false,
        },
        (253 | 254, _) => {
            let (data, exid) = prefix(be_u16(value))?;
            match (kind, exid) {
                (254, TFO_EXPERIMENT_ID) if data.len() <= 16 => TcpOption::FastOpen {
                    cookie: data,
                    experimental: true,
                },
                (254, TFO_EXPERIMENT_ID) => return None,
                _ => TcpOption::Experimental { kind, exid, data },
            }
        }
        (2 | 3 | 4 | 5 | 8 | 28 | 30 | 34, _) => return None,
        _ => TcpOption::Unknown { kind, data: value },
    })
}

/// The value nom parsed from the front of an option, and the bytes after it.
fn prefix<T>(result: IResult<&[u8], T>) -> Option<(&[u8], T)> {
    result.ok()
}

/// The lengths a kind allows, for the report of a wrong one.
#[cold]
fn expected_length(kind: u8, value: &[u8]) -> &'static str {
    match kind {
        2 | 28 => "4",
        3 => "3",
        4 => "2",
        5 => "10, 18, 26 or 34",
        8 => "10",
        19 => "18",
        29 | 253 => "at least 4",
        30 => "at least 3",
        34 => "2 to 18",
        254 if value.len() >= 2
            && u16::from_be_bytes([value[0], value[1]]) == TFO_EXPERIMENT_ID =>
        {
            "4 to 20"
        }
        _ => "at least 4",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(bytes: &[u8]) -> Vec<Item<'_>> {
        OptionIter::new(bytes).collect()
    }

    #[test]
    fn linux_syn_options() {
        // MSS 1460, SACK-permitted, timestamps, NOP, window scale 7: Linux's SYN layout.
        let bytes = [
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        assert_eq!(
            walk(&bytes),
            vec![
                Ok(TcpOption::Mss(1460)),
                Ok(TcpOption::SackPermitted),
                Ok(TcpOption::Timestamps { tsval: 1, tsecr: 0 }),
                Ok(TcpOption::Nop),
                Ok(TcpOption::WindowScale(7)),
            ]
        );
        let lens: Vec<usize> = walk(&bytes).iter().map(|o| o.unwrap().len()).collect();
        assert_eq!(lens, [4, 2, 10, 1, 3]);
    }

    #[test]
    fn sack_blocks_are_borrowed_pairs() {
        let bytes = [
            1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40,
        ];
        let items = walk(&bytes);
        let Ok(TcpOption::Sack(blocks)) = items[2] else {
            panic!("expected SACK, got {:?}", items[2]);
        };
        assert_eq!(blocks.count(), 2);
        assert_eq!(blocks.iter().collect::<Vec<_>>(), [(10, 20), (30, 40)]);
    }

    #[test]
    fn options_before_a_malformed_one_are_kept_and_the_walk_stops() {
        // NOP, MSS, then a kind with length 0: the length cannot advance, so stop.
        let bytes = [1, 2, 4, 0, 100, 9, 0, 1, 1];
        assert_eq!(
            walk(&bytes),
            vec![
                Ok(TcpOption::Nop),
                Ok(TcpOption::Mss(100)),
                Err(MalformedOption {
                    offset: 5,
                    kind: 9,
                    len: Some(0),
                    reason: MalformedReason::LengthBelowTwo(0),
                }),
            ]
        );
    }

    #[test]
    fn length_past_the_header_and_missing_length() {
        assert_eq!(
            walk(&[8, 10, 0, 0]),
            vec![Err(MalformedOption {
                offset: 0,
                kind: 8,
                len: Some(10),
                reason: MalformedReason::PastHeader {
                    len: 10,
                    remaining: 4
                },
            })]
        );
        assert_eq!(
            walk(&[1, 3]),
            vec![
                Ok(TcpOption::Nop),
                Err(MalformedOption {
                    offset: 1,
                    kind: 3,
                    len: None,
                    reason: MalformedReason::MissingLength,
                })
            ]
        );
    }

    #[test]
    fn wrong_fixed_length_is_malformed_but_the_walk_goes_on() {
        // MSS with length 3 (its length byte is sound, so the next option is found).
        let items = walk(&[2, 3, 5, 1, 4, 2]);
        assert!(matches!(
            items[0],
            Err(MalformedOption {
                kind: 2,
                reason: MalformedReason::WrongLength { len: 3, .. },
                ..
            })
        ));
        assert_eq!(
            items[1..],
            [Ok(TcpOption::Nop), Ok(TcpOption::SackPermitted)]
        );
    }

    #[test]
    fn unknown_and_experimental_kinds() {
        let bytes = [
            99, 4, 0xAA, 0xBB, // unknown kind 99
            254, 8, 0xF9, 0x89, 1, 2, 3, 4, // TFO, experimental form
            253, 5, 0x12, 0x34, 7, // RFC 6994 experiment 0x1234
            34, 2, // TFO cookie request
        ];
        assert_eq!(
            walk(&bytes),
            vec![
                Ok(TcpOption::Unknown {
                    kind: 99,
                    data: &[0xAA, 0xBB]
                }),
                Ok(TcpOption::FastOpen {
                    cookie: &[1, 2, 3, 4],
                    experimental: true
                }),
                Ok(TcpOption::Experimental {
                    kind: 253,
                    exid: 0x1234,
                    data: &[7]
                }),
                Ok(TcpOption::FastOpen {
                    cookie: &[],
                    experimental: false
                }),
            ]
        );
        assert_eq!(walk(&bytes)[1].unwrap().kind(), 254);
        assert_eq!(walk(&bytes)[1].unwrap().len(), 8);
    }

    #[test]
    fn mptcp_md5_ao_and_user_timeout() {
        let mut md5 = vec![19, 18];
        md5.extend(1..=16);
        let items = walk(&md5);
        assert!(matches!(items[0], Ok(TcpOption::Md5Signature(d)) if d[0] == 1 && d[15] == 16));
        assert_eq!(
            walk(&[30, 4, 0x01, 0x81]),
            vec![Ok(TcpOption::Mptcp {
                subtype: 0,
                data: &[0x01, 0x81]
            })]
        );
        assert_eq!(
            walk(&[29, 6, 3, 4, 0xDE, 0xAD]),
            vec![Ok(TcpOption::Authentication {
                key_id: 3,
                rnext_key_id: 4,
                mac: &[0xDE, 0xAD]
            })]
        );
        assert_eq!(
            walk(&[28, 4, 0x80, 0x05]),
            vec![Ok(TcpOption::UserTimeout {
                minutes: true,
                timeout: 5
            })]
        );
    }

    #[test]
    fn an_option_cut_by_the_capture_is_not_the_packets_fault() {
        let items: Vec<_> = OptionIter::new_cut(&[1, 8, 10, 0, 0]).collect();
        assert_eq!(
            items[1],
            Err(MalformedOption {
                offset: 1,
                kind: 8,
                len: Some(10),
                reason: MalformedReason::CutByCapture { captured: 4 },
            })
        );
        assert_eq!(
            OptionIter::new_cut(&[1, 3])
                .nth(1)
                .unwrap()
                .unwrap_err()
                .reason,
            MalformedReason::CutByCapture { captured: 1 }
        );
    }

    #[test]
    fn bytes_after_eol_are_padding_not_options() {
        let bytes = [1, 0, 2, 4];
        assert_eq!(walk(&bytes), vec![Ok(TcpOption::Nop), Ok(TcpOption::Eol)]);
        assert_eq!(OptionIter::padding(&bytes), &[2, 4]);
        assert_eq!(OptionIter::padding(&[1, 1]), &[] as &[u8]);
    }

    #[test]
    fn the_common_options_read_as_the_general_walk_reads_them() {
        // `next` takes MSS, window scale, SACK-permitted, SACK, timestamps,
        // MPTCP and MD5 with their right lengths by their own patterns;
        // `typed` is the general rule. Both must agree, followed by anything
        // or nothing.
        let options: [&[u8]; 11] = [
            &[30, 3, 0x21],
            &[
                30, 20, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
            ],
            &[
                30, 40, 0x31, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ],
            &[
                19, 18, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
            ],
            &[2, 4, 0x05, 0xb4],
            &[3, 3, 14],
            &[4, 2],
            &[5, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            &[
                5, 26, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                22, 23, 24,
            ],
            &[
                5, 34, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
            ],
            &[8, 10, 1, 2, 3, 4, 5, 6, 7, 8],
        ];
        for option in options {
            for tail in [&[][..], &[1], &[0, 0], &[9, 2]] {
                let bytes = [option, tail].concat();
                let mut walk = OptionIter::new(&bytes);
                let general = typed(option[0], &option[2..]).map(Ok);
                assert_eq!(walk.next(), general, "{option:?}");
                assert_eq!(walk.rest, tail, "{option:?}");
            }
        }
    }

    /// The walk by the general rule alone: EOL and NOP by their kind, every
    /// other option by `walk_on`; the items and the padding.
    fn general_walk(bytes: &[u8], cut: bool) -> (Vec<Item<'_>>, &[u8]) {
        let (mut items, mut rest) = (Vec::new(), bytes);
        while let Some((&kind, after_kind)) = rest.split_first() {
            match kind {
                0 => {
                    items.push(Ok(TcpOption::Eol));
                    return (items, after_kind);
                }
                1 => {
                    items.push(Ok(TcpOption::Nop));
                    rest = after_kind;
                }
                _ => {
                    let offset = bytes.len() - rest.len();
                    let (item, after) = OptionIter::walk_on(kind, after_kind, offset, cut);
                    items.push(item);
                    rest = after;
                }
            }
        }
        (items, &[])
    }

    #[test]
    fn the_walk_reads_random_options_as_the_general_rule_reads_them() {
        // Bytes drawn mostly from the kinds and lengths the walk's own arms
        // take (right, wrong, and running past the end), in random orders
        // and lengths: the items, the padding and the offsets must be the
        // general rule's.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut draw = move |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        const COMMON: [u8; 16] = [0, 1, 2, 3, 4, 5, 8, 10, 18, 19, 26, 30, 34, 2, 4, 1];
        for _ in 0..200_000 {
            let len = draw(41) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match draw(4) {
                    0 => draw(256) as u8,
                    _ => COMMON[draw(16) as usize],
                })
                .collect();
            for cut in [false, true] {
                let mut walk = if cut {
                    OptionIter::new_cut(&bytes)
                } else {
                    OptionIter::new(&bytes)
                };
                let (folded, _) = folded_and_stepped(walk.clone());
                let items: Vec<_> = walk.by_ref().collect();
                assert_eq!(folded, items, "{bytes:?} cut {cut}");
                let (general, padding) = general_walk(&bytes, cut);
                assert_eq!(items, general, "{bytes:?} cut {cut}");
                assert_eq!(walk.padding_seen(), padding, "{bytes:?} cut {cut}");
                assert_eq!(walk.next(), None, "{bytes:?} cut {cut}");
            }
        }
    }

    /// The items of `walk` by internal iteration (`fold`) and by `next` (a
    /// `&mut` walk's `collect` steps by `next` whatever `Vec` does).
    fn folded_and_stepped(walk: OptionIter<'_>) -> (Vec<Item<'_>>, Vec<Item<'_>>) {
        let stepped = walk.clone().by_ref().collect();
        let folded = walk.fold(Vec::new(), |mut items, item| {
            items.push(item);
            items
        });
        (folded, stepped)
    }

    #[test]
    fn internal_iteration_gives_the_items_of_next() {
        // `fold` reads Linux's two layouts in one step each. With every
        // byte of each layout changed to every value, followed by options
        // (right, malformed or none), and whole or cut (just before the
        // layout's end, or at the changed byte), it must give `next`'s
        // items: the shortcut may only be taken where `next` would read the
        // same options.
        let layouts: [&[u8]; 2] = [
            &[
                2, 4, 5, 180, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7,
            ],
            &[1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8],
        ];
        let tails: [&[u8]; 6] = [
            &[],
            &[1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            &[0, 9],
            &[3, 3],
            &[2, 9, 1],
            &[9],
        ];
        for layout in layouts {
            for at in 0..layout.len() {
                for value in 0..=255u8 {
                    let mut changed = layout.to_vec();
                    changed[at] = value;
                    for tail in tails {
                        let bytes = [&changed[..], tail].concat();
                        for cut_at in [bytes.len(), layout.len() - 1, at] {
                            let bytes = &bytes[..cut_at];
                            for walk in [OptionIter::new(bytes), OptionIter::new_cut(bytes)] {
                                let (folded, stepped) = folded_and_stepped(walk);
                                assert_eq!(folded, stepped, "{bytes:?}");
                            }
                        }
                    }
                }
            }
        }
        // And the layouts themselves are read as `next` reads them.
        let (folded, _) = folded_and_stepped(OptionIter::new(layouts[0]));
        assert_eq!(folded, walk(layouts[0]));
        assert_eq!(folded.len(), 5);
    }

    #[test]
    fn every_input_terminates_without_panicking() {
        // Exhaustive over short inputs: each step advances, so the walk ends.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let bytes = [a, b, a, b, 0xFF];
                assert!(OptionIter::new(&bytes).count() <= bytes.len());
            }
        }
    }
}
