//! Legacy pcap: a 24-byte file header, then records of a 16-byte header
//! (24 bytes in the "modified" Kuznetzov variant) and the captured bytes.
//!
//! Nothing here allocates per record. pcap-parser reads the file header; a
//! record's header is four numbers at fixed places, read here directly (the
//! crate's frame parser adds a nom result per record to the same reads).
//!
//! Timestamps: seconds are unsigned (as the format's specification says); a
//! fractional part of a second or more (seen in fuzzed files) simply carries
//! into the seconds. The link type field is masked to its low 26 bits, as
//! libpcap does (the upper bits carry FCS information).

use pcap_parser::parse_pcap_header;

use super::stream::Stream;
use super::{io_error, CaptureError, CaptureErrorKind, CaptureFormat, LinkType};
use super::{Packet, Record, MAX_CAPLEN};

/// Size of the pcap file header.
const FILE_HEADER_LEN: usize = 24;

/// The variants of legacy pcap, as told by the magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PcapKind {
    /// Standard records; fractions in micro- or nanoseconds.
    Standard { nanosecond: bool, big_endian: bool },
    /// Little-endian "modified" pcap (magic `a1b2cd34`), 24-byte record headers.
    Modified,
}

impl PcapKind {
    /// Recognises the pcap magic numbers as they appear in the file.
    pub(crate) fn from_magic(magic: [u8; 4]) -> Option<Self> {
        let standard = |nanosecond, big_endian| {
            Some(PcapKind::Standard {
                nanosecond,
                big_endian,
            })
        };
        match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => standard(false, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => standard(true, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => standard(false, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => standard(true, true),
            [0x34, 0xcd, 0xb2, 0xa1] => Some(PcapKind::Modified),
            _ => None,
        }
    }

    /// The public description of this variant.
    pub(crate) fn format(self) -> CaptureFormat {
        match self {
            PcapKind::Standard {
                nanosecond,
                big_endian,
            } => CaptureFormat::Pcap {
                nanosecond,
                big_endian,
            },
            PcapKind::Modified => CaptureFormat::Pcap {
                nanosecond: false,
                big_endian: false,
            },
        }
    }

    fn big_endian(self) -> bool {
        matches!(
            self,
            PcapKind::Standard {
                big_endian: true,
                ..
            }
        )
    }

    fn record_header_len(self) -> usize {
        match self {
            PcapKind::Standard { .. } => 16,
            PcapKind::Modified => 24,
        }
    }

    /// Nanoseconds per unit of the record's fractional timestamp.
    fn ns_per_fraction(self) -> u64 {
        match self {
            PcapKind::Standard {
                nanosecond: true, ..
            } => 1,
            _ => 1_000,
        }
    }
}

/// The fields of a record header a reader needs, in the order they come.
const RECORD_FIELDS_LEN: usize = 16;

/// Record reader for one legacy pcap file.
pub(crate) struct PcapParser {
    /// Bytes of a record header (16, or 24 in the modified variant).
    record_header_len: usize,
    /// The file was written big-endian.
    big_endian: bool,
    /// Nanoseconds per unit of a record's fractional timestamp.
    ns_per_fraction: u64,
    link_type: LinkType,
    /// Snap length from the file header (0 or absurd values mean [`MAX_CAPLEN`]).
    snaplen: u32,
}

impl PcapParser {
    /// Reads the file header; the stream is at offset 0 with a pcap magic.
    pub(crate) fn start(stream: &mut Stream, kind: PcapKind) -> Result<Self, CaptureError> {
        if !stream.fill(FILE_HEADER_LEN).map_err(io_error(0))? {
            return Err(CaptureError::new(0, CaptureErrorKind::Truncated));
        }
        let header = stream.available().get(..FILE_HEADER_LEN).unwrap_or(&[]);
        let header = match parse_pcap_header(header) {
            Ok((_, h)) => h,
            Err(_) => return Err(CaptureError::new(0, CaptureErrorKind::UnknownFormat)),
        };
        // As libpcap: the upper bits of the link type field carry FCS
        // information, not the type.
        let link_type = LinkType(header.network.0 as u32 & 0x03FF_FFFF);
        let snaplen = match header.snaplen {
            0 => MAX_CAPLEN,
            s => s.min(MAX_CAPLEN),
        };
        stream.consume(FILE_HEADER_LEN);
        Ok(PcapParser {
            record_header_len: kind.record_header_len(),
            big_endian: kind.big_endian(),
            ns_per_fraction: kind.ns_per_fraction(),
            link_type,
            snaplen,
        })
    }

    /// Reads the next record; `Ok(None)` at a clean end of file.
    ///
    /// A record whose captured length exceeds the file's snap length is
    /// delivered cut to the snap length, as libpcap (and so tcpdump) does; only
    /// a captured length over [`MAX_CAPLEN`] is an error.
    #[inline]
    pub(crate) fn next_record(
        &mut self,
        stream: &mut Stream,
    ) -> Result<Option<Record>, CaptureError> {
        // Errors name the record's offset, which is the stream's until the
        // record is consumed; read there, not kept from here through the
        // common case.
        let header_len = self.record_header_len;
        if !stream
            .fill(header_len)
            .map_err(|e| io_error(stream.offset())(e))?
        {
            return end_of_file(stream);
        }
        // Seconds, fraction, captured length, original length (the modified
        // variant's eight more bytes say nothing a reader needs).
        // (Never short: a record header is at least that long.)
        let Some(fields) = stream.available().first_chunk::<RECORD_FIELDS_LEN>() else {
            return Err(truncated(stream));
        };
        let [ts_sec, ts_frac, caplen, orig_len] = self.words(fields);
        if caplen > MAX_CAPLEN {
            return Err(caplen_too_big(stream, caplen));
        }
        let total = header_len + caplen as usize;
        if !stream
            .fill(total)
            .map_err(|e| io_error(stream.offset())(e))?
        {
            return Err(truncated(stream));
        }
        let kept = caplen.min(self.snaplen) as usize;
        let data_start = stream.position() + header_len;
        let record = Record {
            data: data_start..data_start + kept,
            ts_ns: self.ts_ns(ts_sec, ts_frac),
            link_type: self.link_type,
            interface: 0,
            orig_len,
        };
        stream.consume(total);
        Ok(Some(record))
    }

    /// The record at the front of `window`, as the `frame`th packet, and the
    /// bytes after it, when `window` holds all of the record and
    /// [`PcapParser::next_record`] would read it without an error; None
    /// otherwise (the record is then read by `next_record`). The packet is
    /// the one `next_record` finds: the same fields, the same cut to the
    /// snap length, and `window`'s length stands for both of its fills.
    #[inline(always)]
    pub(crate) fn split_record<'w>(
        &self,
        window: &'w [u8],
        frame: u64,
    ) -> Option<(Packet<'w>, &'w [u8])> {
        let fields = window.first_chunk::<RECORD_FIELDS_LEN>()?;
        let [ts_sec, ts_frac, caplen, orig_len] = self.words(fields);
        if caplen > MAX_CAPLEN {
            return None;
        }
        let (_, after_header) = window.split_at_checked(self.record_header_len)?;
        let (captured, rest) = after_header.split_at_checked(caplen as usize)?;
        let data = captured.get(..caplen.min(self.snaplen) as usize)?;
        let packet = Packet {
            frame,
            ts_ns: self.ts_ns(ts_sec, ts_frac),
            link_type: self.link_type,
            interface: 0,
            data,
            orig_len,
        };
        Some((packet, rest))
    }

    /// A record's timestamp in nanoseconds (a fraction of a second or more
    /// carries into the seconds).
    #[inline(always)]
    fn ts_ns(&self, ts_sec: u32, ts_frac: u32) -> u64 {
        u64::from(ts_sec) * 1_000_000_000 + u64::from(ts_frac) * self.ns_per_fraction
    }

    /// The four 32-bit fields of a record header, in the file's byte order.
    #[inline]
    fn words(&self, fields: &[u8; RECORD_FIELDS_LEN]) -> [u32; 4] {
        let word = |at: usize| [fields[at], fields[at + 1], fields[at + 2], fields[at + 3]];
        let words = [word(0), word(4), word(8), word(12)];
        if self.big_endian {
            words.map(u32::from_be_bytes)
        } else {
            words.map(u32::from_le_bytes)
        }
    }
}

/// The stream ended before a record header: cleanly between records, or inside one.
#[cold]
fn end_of_file(stream: &Stream) -> Result<Option<Record>, CaptureError> {
    if stream.available().is_empty() {
        Ok(None)
    } else {
        Err(truncated(stream))
    }
}

/// The input ends inside the record at the stream's offset.
#[cold]
fn truncated(stream: &Stream) -> CaptureError {
    CaptureError::new(stream.offset(), CaptureErrorKind::Truncated)
}

/// The record at the stream's offset announces more captured bytes than any
/// record may hold.
#[cold]
fn caplen_too_big(stream: &Stream, caplen: u32) -> CaptureError {
    CaptureError::corrupt(
        stream.offset(),
        format!("record captured length {caplen} exceeds the limit of {MAX_CAPLEN} bytes"),
    )
}
