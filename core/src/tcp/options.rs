//! A zero-copy walk over TCP options.
//!
//! The walk yields a typed [`TcpOption`] per option and a [`MalformedOption`]
//! with its reason where the bytes break the rules. Options before a malformed
//! one are never lost, unknown kinds never stop the walk, and every step
//! advances, so it cannot loop. Bytes after EOL are padding, not options (as
//! tshark and tcpdump read them); see [`OptionIter::padding`].

use std::fmt;

use nom::number::complete::{be_u16, be_u32, u8 as byte};
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
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    all: &'a [u8],
    rest: &'a [u8],
    done: bool,
    /// The capture ends before the options do.
    cut: bool,
    /// The walk ended at an EOL option.
    ended_at_eol: bool,
}

type Item<'a> = Result<TcpOption<'a>, MalformedOption>;

impl<'a> OptionIter<'a> {
    /// Walks `options`, the bytes between the fixed header and the data offset.
    #[inline]
    pub fn new(options: &'a [u8]) -> Self {
        OptionIter {
            all: options,
            rest: options,
            done: false,
            cut: false,
            ended_at_eol: false,
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
    pub fn padding_seen(&self) -> &'a [u8] {
        if self.done && self.ended_at_eol {
            self.rest
        } else {
            &[]
        }
    }

    fn offset(&self) -> usize {
        self.all.len() - self.rest.len()
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Item<'a>;

    #[inline]
    fn next(&mut self) -> Option<Item<'a>> {
        if self.done {
            return None;
        }
        let (&kind, after_kind) = self.rest.split_first()?;
        let offset = self.offset();
        let malformed = |len, reason| MalformedOption {
            offset,
            kind,
            len,
            reason,
        };
        match kind {
            0 => {
                self.rest = after_kind;
                self.done = true;
                self.ended_at_eol = true;
                return Some(Ok(TcpOption::Eol));
            }
            1 => {
                self.rest = after_kind;
                return Some(Ok(TcpOption::Nop));
            }
            _ => {}
        }
        let Some((&len, _)) = after_kind.split_first() else {
            self.done = true;
            let reason = if self.cut {
                MalformedReason::CutByCapture { captured: 1 }
            } else {
                MalformedReason::MissingLength
            };
            return Some(Err(malformed(None, reason)));
        };
        if len < 2 {
            self.done = true;
            return Some(Err(malformed(
                Some(len),
                MalformedReason::LengthBelowTwo(len),
            )));
        }
        let Some((option, rest)) = self.rest.split_at_checked(usize::from(len)) else {
            self.done = true;
            let remaining = self.rest.len();
            let reason = if self.cut {
                MalformedReason::CutByCapture {
                    captured: remaining,
                }
            } else {
                MalformedReason::PastHeader { len, remaining }
            };
            return Some(Err(malformed(Some(len), reason)));
        };
        self.rest = rest;
        let value = &option[2..];
        Some(typed(kind, value).map_err(|expected| {
            malformed(Some(len), MalformedReason::WrongLength { len, expected })
        }))
    }
}

/// Requires the value to be exactly `n` bytes.
fn exactly(value: &[u8], n: usize, expected: &'static str) -> Result<(), &'static str> {
    if value.len() == n {
        Ok(())
    } else {
        Err(expected)
    }
}

/// Turns a nom failure on a length-checked value into the expected-length text.
fn parsed<T>(result: IResult<&[u8], T>, expected: &'static str) -> Result<T, &'static str> {
    result.map(|(_, v)| v).map_err(|_| expected)
}

/// Decodes the value of an option whose length byte has been checked against the header.
#[inline]
fn typed(kind: u8, value: &[u8]) -> Result<TcpOption<'_>, &'static str> {
    Ok(match kind {
        2 => {
            exactly(value, 2, "4")?;
            TcpOption::Mss(parsed(be_u16(value), "4")?)
        }
        3 => {
            exactly(value, 1, "3")?;
            TcpOption::WindowScale(parsed(byte(value), "3")?)
        }
        4 => {
            exactly(value, 0, "2")?;
            TcpOption::SackPermitted
        }
        5 => {
            const EXPECTED: &str = "10, 18, 26 or 34";
            if value.is_empty() || !value.len().is_multiple_of(8) || value.len() > 32 {
                return Err(EXPECTED);
            }
            TcpOption::Sack(SackBlocks { raw: value })
        }
        8 => {
            exactly(value, 8, "10")?;
            let (tsval, tsecr) = parsed((be_u32, be_u32).parse(value), "10")?;
            TcpOption::Timestamps { tsval, tsecr }
        }
        19 => TcpOption::Md5Signature(value.try_into().map_err(|_| "18")?),
        28 => {
            exactly(value, 2, "4")?;
            let raw = parsed(be_u16(value), "4")?;
            TcpOption::UserTimeout {
                minutes: raw & 0x8000 != 0,
                timeout: raw & 0x7FFF,
            }
        }
        29 => {
            let (mac, (key_id, rnext_key_id)) =
                parsed_rest((byte, byte).parse(value), "at least 4")?;
            TcpOption::Authentication {
                key_id,
                rnext_key_id,
                mac,
            }
        }
        30 => {
            let subtype = parsed(byte(value), "at least 3")? >> 4;
            TcpOption::Mptcp {
                subtype,
                data: value,
            }
        }
        34 => {
            if value.len() > 16 {
                return Err("2 to 18");
            }
            TcpOption::FastOpen {
                cookie: value,
                experimental: false,
            }
        }
        253 | 254 => {
            let (data, exid) = parsed_rest(be_u16(value), "at least 4")?;
            if kind == 254 && exid == TFO_EXPERIMENT_ID {
                if data.len() > 16 {
                    return Err("4 to 20");
                }
                TcpOption::FastOpen {
                    cookie: data,
                    experimental: true,
                }
            } else {
                TcpOption::Experimental { kind, exid, data }
            }
        }
        _ => TcpOption::Unknown { kind, data: value },
    })
}

/// Like [`parsed`], keeping the bytes after the parsed prefix.
fn parsed_rest<'a, T>(
    result: IResult<&'a [u8], T>,
    expected: &'static str,
) -> Result<(&'a [u8], T), &'static str> {
    result.map_err(|_| expected)
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
