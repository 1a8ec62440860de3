//! A borrowed view over a TCP header and its payload.

use std::fmt;

use super::checksum::{self, PseudoHeader};
use super::flags::TcpFlags;
use super::options::OptionIter;

/// Length of a TCP header without options.
pub const TCP_MIN_HEADER_LEN: usize = 20;

/// Why bytes could not be viewed as a TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpError {
    /// Fewer than 20 bytes were captured: the fixed header itself is cut.
    FixedHeaderCut {
        /// Bytes available.
        captured: usize,
    },
    /// The data offset is below 5 (a header shorter than 20 bytes).
    DataOffsetTooSmall {
        /// The data offset field (in 32-bit words).
        data_offset: u8,
    },
    /// The data offset points past the segment as the IP header sizes it.
    DataOffsetPastSegment {
        /// The data offset field (in 32-bit words).
        data_offset: u8,
        /// The segment length the IP layer gives.
        segment_len: usize,
    },
}

impl fmt::Display for TcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TcpError::FixedHeaderCut { captured } => {
                write!(
                    f,
                    "only {captured} of the 20 bytes of the fixed header captured"
                )
            }
            TcpError::DataOffsetTooSmall { data_offset } => write!(
                f,
                "data offset {data_offset} ({} bytes) is below the minimum of 5",
                usize::from(data_offset) * 4
            ),
            TcpError::DataOffsetPastSegment {
                data_offset,
                segment_len,
            } => write!(
                f,
                "data offset {data_offset} ({} bytes) is past the {segment_len}-byte segment",
                usize::from(data_offset) * 4
            ),
        }
    }
}

impl std::error::Error for TcpError {}

/// A TCP header and payload borrowed from the packet bytes.
///
/// Lengths are checked once in [`TcpHeader::parse`]; no accessor can panic.
/// Small, as every decoded frame carries one (and is copied whole): the
/// options and the payload are found in `after_fixed` by the data offset
/// when asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpHeader<'a> {
    fixed: &'a [u8; TCP_MIN_HEADER_LEN],
    /// The segment's bytes past the fixed header, as far as captured:
    /// options, then payload.
    after_fixed: &'a [u8],
    segment_len: usize,
}

impl<'a> TcpHeader<'a> {
    /// Views `captured` (the TCP bytes as captured) as a TCP header.
    ///
    /// `segment_len` is the segment's length as the IP header gives it; it may
    /// exceed `captured.len()` when the snap length cut the record, in which
    /// case the header is read as far as it goes and marked truncated.
    #[inline]
    pub fn parse(captured: &'a [u8], segment_len: usize) -> Result<Self, TcpError> {
        let Some((fixed, rest)) = captured.split_first_chunk::<TCP_MIN_HEADER_LEN>() else {
            return Err(TcpError::FixedHeaderCut {
                captured: captured.len(),
            });
        };
        let data_offset = fixed[12] >> 4;
        if data_offset < 5 {
            return Err(TcpError::DataOffsetTooSmall { data_offset });
        }
        let header_len = usize::from(data_offset) * 4;
        if header_len > segment_len {
            return Err(TcpError::DataOffsetPastSegment {
                data_offset,
                segment_len,
            });
        }
        // What the segment has past the fixed header, as far as it was captured.
        let after_fixed = rest.get(..segment_len - TCP_MIN_HEADER_LEN).unwrap_or(rest);
        Ok(TcpHeader {
            fixed,
            after_fixed,
            segment_len,
        })
    }

    /// The options as captured and the payload as captured.
    #[inline]
    fn options_and_payload(&self) -> (&'a [u8], &'a [u8]) {
        let options_len = self.header_len() - TCP_MIN_HEADER_LEN;
        self.after_fixed
            .split_at_checked(options_len)
            .unwrap_or((self.after_fixed, &[]))
    }

    #[inline]
    fn u16_at(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.fixed[at], self.fixed[at + 1]])
    }

    #[inline]
    fn u32_at(&self, at: usize) -> u32 {
        u32::from_be_bytes([
            self.fixed[at],
            self.fixed[at + 1],
            self.fixed[at + 2],
            self.fixed[at + 3],
        ])
    }

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        self.u16_at(0)
    }
    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        self.u16_at(2)
    }
    /// Sequence number (raw, not relative).
    #[inline]
    pub fn seq(&self) -> u32 {
        self.u32_at(4)
    }
    /// Acknowledgment number (raw; meaningful when ACK is set).
    #[inline]
    pub fn ack(&self) -> u32 {
        self.u32_at(8)
    }
    /// Data offset: the header length in 32-bit words (5 to 15).
    ///
    /// Read from the same 16-bit word as the flags, which lets a caller that
    /// reads both (as the dissector does) load the word once.
    #[inline]
    pub fn data_offset(&self) -> u8 {
        (self.u16_at(12) >> 12) as u8
    }
    /// Header length in bytes, as the data offset gives it.
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }
    /// The twelve flag bits.
    #[inline]
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.u16_at(12) & 0x0FFF)
    }
    /// Window field (unscaled).
    #[inline]
    pub fn window(&self) -> u16 {
        self.u16_at(14)
    }
    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        self.u16_at(16)
    }
    /// Urgent pointer field.
    #[inline]
    pub fn urgent_ptr(&self) -> u16 {
        self.u16_at(18)
    }
    /// The option bytes as captured (shorter than the data offset says when truncated).
    #[inline]
    pub fn options_raw(&self) -> &'a [u8] {
        self.options_and_payload().0
    }
    /// Walks the options, yielding typed items and malformed ones with their reason.
    #[inline]
    pub fn options(&self) -> OptionIter<'a> {
        if self.options_truncated() {
            OptionIter::new_cut(self.options_raw())
        } else {
            OptionIter::new(self.options_raw())
        }
    }
    /// The payload bytes as captured.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        self.options_and_payload().1
    }
    /// Payload length as the IP header gives it (tcpdump's `length`, tshark's `tcp.len`).
    #[inline]
    pub fn payload_len(&self) -> usize {
        self.segment_len - self.header_len()
    }
    /// Segment length (header and payload) as the IP header gives it.
    #[inline]
    pub fn segment_len(&self) -> usize {
        self.segment_len
    }
    /// True when the capture holds fewer bytes than the segment (snap length).
    #[inline]
    pub fn is_truncated(&self) -> bool {
        self.after_fixed.len() + TCP_MIN_HEADER_LEN < self.segment_len
    }
    /// True when some option bytes the data offset announces were not captured.
    #[inline]
    pub fn options_truncated(&self) -> bool {
        self.after_fixed.len() + TCP_MIN_HEADER_LEN < self.header_len()
    }
    /// The header bytes as captured (fixed part only when the options are cut).
    #[inline]
    pub fn fixed_header(&self) -> &'a [u8; TCP_MIN_HEADER_LEN] {
        self.fixed
    }

    /// Verifies the checksum over `pseudo` and the whole segment.
    ///
    /// Returns `None` when the segment was not captured whole.
    pub fn verify_checksum(&self, pseudo: &PseudoHeader) -> Option<bool> {
        if self.is_truncated() {
            return None;
        }
        let sum = checksum::segment_sum(
            pseudo,
            self.segment_len,
            [&self.fixed[..], self.after_fixed, &[]],
        );
        Some(sum == 0xFFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    /// A SYN from 192.168.0.1:40000 to 192.168.0.2:80 with MSS 1460 (checksum computed by hand
    /// with the RFC 1071 sum over the pseudo-header and segment).
    fn syn() -> Vec<u8> {
        vec![
            0x9c, 0x40, 0x00, 0x50, // ports 40000 -> 80
            0x00, 0x00, 0x00, 0x64, // seq 100
            0x00, 0x00, 0x00, 0x00, // ack 0
            0x60, 0x02, 0xff, 0xff, // data offset 6, SYN, window 65535
            0x00, 0x00, 0x00, 0x00, // checksum (filled below), urgent 0
            0x02, 0x04, 0x05, 0xb4, // MSS 1460
        ]
    }

    fn pseudo() -> PseudoHeader {
        PseudoHeader {
            src: IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(192, 168, 0, 2)),
        }
    }

    #[test]
    fn fields_of_a_syn() {
        let bytes = syn();
        let h = TcpHeader::parse(&bytes, bytes.len()).unwrap();
        assert_eq!((h.src_port(), h.dst_port()), (40000, 80));
        assert_eq!((h.seq(), h.ack()), (100, 0));
        assert_eq!((h.data_offset(), h.header_len()), (6, 24));
        assert!(h.flags().syn() && !h.flags().ack());
        assert_eq!(h.window(), 65535);
        assert_eq!(h.options_raw(), &[2, 4, 5, 0xb4]);
        assert_eq!(h.payload_len(), 0);
        assert!(!h.is_truncated());
    }

    #[test]
    fn data_offset_and_flags_share_bytes_12_and_13() {
        let mut bytes = syn();
        for b12 in 0x50..=0xFF {
            for b13 in 0..=0xFF {
                bytes[12] = b12;
                bytes[13] = b13;
                let h = TcpHeader::parse(&bytes, bytes.len() + 40).unwrap();
                let expected = u16::from_be_bytes([b12, b13]) & 0x0FFF;
                assert_eq!(h.flags().0, expected, "{b12:#x} {b13:#x}");
                assert_eq!(h.data_offset(), b12 >> 4, "{b12:#x} {b13:#x}");
            }
        }
    }

    #[test]
    fn checksum_verification() {
        let mut bytes = syn();
        let h = TcpHeader::parse(&bytes, bytes.len()).unwrap();
        assert_eq!(h.verify_checksum(&pseudo()), Some(false));
        // Fill in the checksum: the complement of the sum with a zero checksum field.
        let sum = checksum::segment_sum(&pseudo(), bytes.len(), [&bytes, &[], &[]]);
        let ck = !sum;
        bytes[16..18].copy_from_slice(&ck.to_be_bytes());
        let h = TcpHeader::parse(&bytes, bytes.len()).unwrap();
        assert_eq!(h.verify_checksum(&pseudo()), Some(true));
        // Cut by the snap length: not verifiable.
        let h = TcpHeader::parse(&bytes[..22], bytes.len()).unwrap();
        assert_eq!(h.verify_checksum(&pseudo()), None);
    }

    #[test]
    fn data_offset_below_five_names_the_value() {
        let mut bytes = syn();
        bytes[12] = 0x40;
        assert_eq!(
            TcpHeader::parse(&bytes, bytes.len()),
            Err(TcpError::DataOffsetTooSmall { data_offset: 4 })
        );
    }

    #[test]
    fn data_offset_past_the_segment_is_an_error() {
        let mut bytes = syn();
        bytes[12] = 0xf0; // 60 bytes, segment is 24
        assert_eq!(
            TcpHeader::parse(&bytes, bytes.len()),
            Err(TcpError::DataOffsetPastSegment {
                data_offset: 15,
                segment_len: 24
            })
        );
    }

    #[test]
    fn data_offset_past_the_capture_only_is_truncated() {
        let bytes = syn();
        // The IP layer says 24 bytes, but only 22 were captured.
        let h = TcpHeader::parse(&bytes[..22], 24).unwrap();
        assert!(h.is_truncated() && h.options_truncated());
        assert_eq!(h.options_raw(), &[2, 4]);
        assert_eq!(h.payload(), &[] as &[u8]);
        assert_eq!(
            TcpHeader::parse(&bytes[..19], 24),
            Err(TcpError::FixedHeaderCut { captured: 19 })
        );
    }

    #[test]
    fn bytes_past_the_segment_are_not_payload() {
        let mut bytes = syn();
        bytes.extend([0u8; 6]); // Ethernet padding
        let h = TcpHeader::parse(&bytes, 24).unwrap();
        assert_eq!(h.payload(), &[] as &[u8]);
        assert!(!h.is_truncated());
    }
}
