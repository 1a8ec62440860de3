//! Streaming capture file reading: pcap, pcapng and gzip-compressed either.
//!
//! [`CaptureReader`] reads a capture record by record from a file or any
//! [`std::io::Read`], never holding more than the record at hand (plus read
//! slack) in memory, and lends each record out as a [`Packet`] that borrows the
//! reader's buffer. The format is told by the magic number, never by the file
//! name; gzip input (magic `1f 8b`) is decompressed on the fly.
//!
//! Record framing is checked here and the record contents are parsed with the
//! `pcap-parser` crate on exactly the record's bytes, so a record that ends
//! early is told apart from one whose fields disagree with its length.
//!
//! Modules: `source` (file / reader / gzip), `stream` (the read window and
//! offsets), `pcap` (legacy pcap), `pcapng`, `error`.

mod error;
mod pcap;
mod pcapng;
mod source;
mod stream;

use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

pub use error::{CaptureError, CaptureErrorKind};

use stream::Stream;

/// Largest captured length accepted for one record (256 MiB); a longer one
/// is reported as [`CaptureErrorKind::Corrupt`].
pub const MAX_CAPLEN: u32 = 256 * 1024 * 1024;

/// Link-layer header type as in the pcap/pcapng LINKTYPE_* registry (1 = Ethernet, 113 = Linux SLL, 276 = SLL2, 0 = null, 101 = raw, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

/// File format of a capture, told apart by content (magic numbers), never by file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Legacy libpcap format (also the "modified" Kuznetzov variant, reported
    /// as microsecond little-endian).
    Pcap {
        /// Timestamps carry nanoseconds (magic `a1b23c4d`) instead of microseconds.
        nanosecond: bool,
        /// The file was written big-endian.
        big_endian: bool,
    },
    /// pcapng (any mix of byte orders across its sections).
    PcapNg,
}

/// One captured record, borrowing the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// 1-based frame number in capture order (as tshark/tcpdump -# number frames). Counts packet records only (EPB, SPB, legacy records).
    pub frame: u64,
    /// Timestamp in nanoseconds since the Unix epoch (pcapng: honour if_tsresol (power of 10 or 2) and if_tsoffset per interface).
    pub ts_ns: u64,
    /// Link-layer type of the interface the packet was captured on.
    pub link_type: LinkType,
    /// pcapng interface id (0 for pcap). The id as the packet block gives it,
    /// so it counts from 0 again in each pcapng section.
    pub interface: u32,
    /// Bytes captured (may be fewer than orig_len: snap length cut).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
}

impl Packet<'_> {
    /// True when the snap length cut the record (data.len() < orig_len).
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.orig_len)
    }
}

/// A packet record found by a format parser: the packet's bytes are named by
/// their place in the stream storage (see [`Stream::slice`]).
pub(crate) struct Record {
    pub(crate) data: Range<usize>,
    pub(crate) ts_ns: u64,
    pub(crate) link_type: LinkType,
    pub(crate) interface: u32,
    pub(crate) orig_len: u32,
}

/// The per-format record parser.
enum Parser {
    Pcap(pcap::PcapParser),
    PcapNg(pcapng::PcapNgParser),
}

/// Streaming reader: never loads the whole file.
///
/// It holds one read window (64 KiB to start with, grown to fit the largest
/// record met, at most [`MAX_CAPLEN`] plus a block header and options) and
/// lends each packet out of it. Errors carry the byte offset of the record
/// they concern, in the decompressed stream.
pub struct CaptureReader {
    stream: Stream,
    format: CaptureFormat,
    parser: Parser,
    progress: Progress,
}

/// How far a reader has got.
struct Progress {
    /// Packets handed out so far.
    frames: u64,
    /// An error or the end was reported; nothing more comes.
    done: bool,
}

impl Progress {
    /// What a format parser found, as the reader hands it out: a packet is counted and
    /// lent out of `stream`; the end or an error stops the reader.
    #[inline(always)]
    fn lend<'s>(
        &mut self,
        found: Result<Option<Record>, CaptureError>,
        stream: &'s Stream,
    ) -> Option<Result<Packet<'s>, CaptureError>> {
        match found {
            Ok(Some(record)) => {
                self.frames += 1;
                Some(Ok(Packet {
                    frame: self.frames,
                    ts_ns: record.ts_ns,
                    link_type: record.link_type,
                    interface: record.interface,
                    data: stream.slice(record.data),
                    orig_len: record.orig_len,
                }))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl CaptureReader {
    /// Opens a file ("-" is NOT special here); gzip (magic 1f 8b) is decompressed transparently.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let source = source::open(path.as_ref()).map_err(io_error(0))?;
        Self::start(source)
    }

    /// Reads from any byte stream (stdin, a socket); also gunzips transparently.
    pub fn from_reader(reader: impl Read + Send + 'static) -> Result<Self, CaptureError> {
        let source = source::decompressed(Box::new(reader)).map_err(io_error(0))?;
        Self::start(source)
    }

    /// Detects the format and reads the file header (pcap) or first section
    /// header (pcapng).
    fn start(source: source::Source) -> Result<Self, CaptureError> {
        let mut stream = Stream::new(source);
        let unknown = || CaptureError::new(0, CaptureErrorKind::UnknownFormat);
        if !stream.fill(4).map_err(io_error(0))? {
            return Err(unknown());
        }
        let magic: [u8; 4] = match stream.available().get(..4).and_then(|m| m.try_into().ok()) {
            Some(m) => m,
            None => return Err(unknown()),
        };
        let (format, parser) = if let Some(kind) = pcap::PcapKind::from_magic(magic) {
            let parser = pcap::PcapParser::start(&mut stream, kind)?;
            (kind.format(), Parser::Pcap(parser))
        } else if magic == pcapng::SHB_MAGIC_BYTES {
            let parser = pcapng::PcapNgParser::start(&mut stream)?;
            (CaptureFormat::PcapNg, Parser::PcapNg(parser))
        } else {
            return Err(unknown());
        };
        Ok(CaptureReader {
            stream,
            format,
            parser,
            progress: Progress {
                frames: 0,
                done: false,
            },
        })
    }

    /// The capture's format, as told by its magic number.
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Packets handed out so far (the frame number of the last one).
    pub fn frames(&self) -> u64 {
        self.progress.frames
    }

    /// Next packet record, or None at a clean end of file. After an Err, later calls return None.
    #[inline(always)]
    pub fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        if self.progress.done {
            return None;
        }
        // Each arm hands its record out itself, so the pcap case stays in registers.
        match &mut self.parser {
            Parser::Pcap(p) => {
                let found = p.next_record(&mut self.stream);
                self.progress.lend(found, &self.stream)
            }
            Parser::PcapNg(p) => {
                let found = p.next_record(&mut self.stream);
                self.progress.lend(found, &self.stream)
            }
        }
    }
}

impl fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("format", &self.format)
            .field("frames", &self.progress.frames)
            .field("offset", &self.stream.offset())
            .field("done", &self.progress.done)
            .finish_non_exhaustive()
    }
}

/// Reads a `u32` from `bytes[at..at + 4]` in the given byte order (0 if out of range).
pub(crate) fn read_u32(bytes: &[u8], at: usize, big_endian: bool) -> u32 {
    let raw: [u8; 4] = bytes
        .get(at..at.saturating_add(4))
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; 4]);
    if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    }
}

/// Turns a failed read at `offset` into a [`CaptureError`].
pub(crate) fn io_error(offset: u64) -> impl FnOnce(std::io::Error) -> CaptureError {
    move |e| CaptureError::io(offset, e)
}

/// Describes a pcap-parser failure on a complete record without quoting its bytes.
pub(crate) fn parse_failure(e: &pcap_parser::nom::Err<pcap_parser::PcapError<&[u8]>>) -> String {
    use pcap_parser::nom::Err;
    use pcap_parser::PcapError;
    match e {
        Err::Incomplete(_) => "its fields run past the end of the record".to_string(),
        Err::Error(e) | Err::Failure(e) => match e {
            PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                format!("check failed ({kind:?})")
            }
            other => format!("{other:?}"),
        },
    }
}
