//! Streaming capture file reading: pcap, pcapng and gzip-compressed either.
//!
//! [`CaptureReader`] reads a capture record by record from a file or any
//! [`std::io::Read`], never holding more than the record at hand (plus read
//! slack, or one mapped window of a large file) in memory, and lends each
//! record out as a [`Packet`] that borrows the reader's buffer or mapping.
//! The format is told by the magic number, never by the file name; gzip
//! input (magic `1f 8b`) is decompressed on the fly.
//!
//! Record framing is checked here and the record contents are parsed with the
//! `pcap-parser` crate on exactly the record's bytes, so a record that ends
//! early is told apart from one whose fields disagree with its length.
//!
//! Modules: `source` (file / reader / gzip), `mapped` (a large file's mapped
//! window), `stream` (the window and offsets), `pcap` (legacy pcap),
//! `pcapng`, `error`.

mod error;
mod mapped;
mod pcap;
mod pcapng;
mod source;
mod stream;

use std::fmt;
use std::io::Read;
use std::ops::{ControlFlow, Range};
use std::path::Path;

pub use error::{CaptureError, CaptureErrorKind};

use stream::Stream;

/// The bytes of a record that the reader and a dissector read first: the
/// record header and the packet's first headers.
const RECORD_START: usize = 96;

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
/// lends each packet out of it. A regular file of 8 MiB or more that is not
/// gzip is mapped instead, 4 MiB at a time, so that its records are read
/// where the page cache holds them, with no copy (a process that truncates
/// the file while it is read then kills the reader with SIGBUS, as it would
/// any reader of a mapped file). Errors carry the byte offset of the record
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
    /// Opens a file ("-" is NOT special here); gzip (magic 1f 8b) is
    /// decompressed transparently, and a large file is mapped (see
    /// [`CaptureReader`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let stream = source::open(path.as_ref()).map_err(io_error(0))?;
        Self::start(stream)
    }

    /// Reads from any byte stream (stdin, a socket); also gunzips transparently.
    pub fn from_reader(reader: impl Read + Send + 'static) -> Result<Self, CaptureError> {
        let source = source::decompressed(Box::new(reader)).map_err(io_error(0))?;
        Self::start(Stream::new(source))
    }

    /// Detects the format and reads the file header (pcap) or first section
    /// header (pcapng).
    fn start(mut stream: Stream) -> Result<Self, CaptureError> {
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
    #[inline]
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

impl CaptureReader {
    /// Hands the packets to `each` in order, as [`CaptureReader::next_packet`]
    /// would, until `each` breaks (its value is returned; the reader goes on
    /// after that packet when asked again), the capture ends (Continue) or a
    /// record cannot be read (the error; nothing more comes after it).
    ///
    /// Quicker than a loop over `next_packet` for legacy pcap: each record
    /// is found by `next_packet`'s steps, and then those after it that the
    /// read window holds whole are split off the window in one loop, with
    /// none of the per-record bookkeeping (see `PcapParser::split_record`).
    pub fn for_each_packet<B>(
        &mut self,
        mut each: impl FnMut(Packet<'_>) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, CaptureError> {
        let CaptureReader {
            stream,
            parser,
            progress,
            ..
        } = self;
        loop {
            if progress.done {
                return Ok(ControlFlow::Continue(()));
            }
            let found = match parser {
                Parser::Pcap(p) => p.next_record(stream),
                Parser::PcapNg(p) => p.next_record(stream),
            };
            let mut packet = match progress.lend(found, stream) {
                Some(Ok(packet)) => packet,
                Some(Err(e)) => return Err(e),
                None => return Ok(ControlFlow::Continue(())),
            };
            // The records after it that the window holds whole (pcapng's
            // are read one by one).
            let splits = match parser {
                Parser::Pcap(p) => Some(&*p),
                Parser::PcapNg(_) => None,
            };
            let window = stream.available();
            let mut rest = window;
            let mut frame = packet.frame;
            let flow = loop {
                // The next record's header and first bytes, fetched while
                // this one is handled: from a mapped file they come from
                // memory, and the processor's own prefetcher seldom guesses
                // records of a thousand bytes or more.
                crate::hint::prefetch(rest.get(..RECORD_START).unwrap_or(rest));
                if let ControlFlow::Break(b) = each(packet) {
                    break ControlFlow::Break(b);
                }
                let next = splits.and_then(|p| p.split_record(rest, frame + 1));
                match next {
                    Some((next, after)) => (packet, rest, frame) = (next, after, frame + 1),
                    None => break ControlFlow::Continue(()),
                }
            };
            let split_off = window.len() - rest.len();
            stream.consume(split_off);
            progress.frames = frame;
            if let ControlFlow::Break(b) = flow {
                return Ok(ControlFlow::Break(b));
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

#[cfg(test)]
mod tests {
    use super::mapped::{MappedFile, TempFile, MIN_MAPPED_LEN};
    use super::*;
    use std::io::{self, Cursor, Read};
    use std::ops::ControlFlow::{Break, Continue};

    /// An owned copy of what a packet says: frame, timestamp, link type,
    /// interface, bytes, original length.
    type Owned = (u64, u64, u32, u32, Vec<u8>, u32);

    fn owned(p: Packet<'_>) -> Owned {
        (
            p.frame,
            p.ts_ns,
            p.link_type.0,
            p.interface,
            p.data.to_vec(),
            p.orig_len,
        )
    }

    /// What a reader hands out: its packets, then the offset and the
    /// message of the error it stopped with, if any.
    type Reading = (Vec<Owned>, Option<(u64, String)>);

    /// Reads with `next_packet` to the end.
    fn by_next_packet(mut reader: CaptureReader) -> Reading {
        let mut packets = Vec::new();
        while let Some(found) = reader.next_packet() {
            match found {
                Ok(p) => packets.push(owned(p)),
                Err(e) => return (packets, Some((e.offset, e.to_string()))),
            }
        }
        (packets, None)
    }

    /// Reads with `for_each_packet`, broken after every `stride` packets and
    /// taken up again; nothing comes after the end or the error.
    fn by_for_each(mut reader: CaptureReader, stride: usize) -> Reading {
        let mut packets = Vec::new();
        loop {
            let mut taken = 0;
            let flow = reader.for_each_packet(|p| {
                packets.push(owned(p));
                taken += 1;
                if taken == stride {
                    Break(())
                } else {
                    Continue(())
                }
            });
            let error = match flow {
                Ok(Break(())) => continue,
                Ok(Continue(())) => None,
                Err(e) => Some((e.offset, e.to_string())),
            };
            assert!(reader.next_packet().is_none(), "nothing after the end");
            return (packets, error);
        }
    }

    /// Hands out at most `chunk` bytes a read.
    struct Chunked {
        data: Cursor<Vec<u8>>,
        chunk: usize,
    }

    impl Read for Chunked {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.chunk);
            self.data.read(&mut buf[..n])
        }
    }

    fn reader(bytes: &[u8], chunk: usize) -> Option<CaptureReader> {
        CaptureReader::from_reader(Chunked {
            data: Cursor::new(bytes.to_vec()),
            chunk,
        })
        .ok()
    }

    /// Checks that `for_each_packet` reads `bytes` as `next_packet` does,
    /// through reads of several sizes and broken at several strides.
    fn check_same_reading(bytes: &[u8]) {
        for chunk in [usize::MAX, 4_099, 1_000] {
            let Some(general) = reader(bytes, chunk).map(by_next_packet) else {
                assert!(reader(bytes, chunk).is_none());
                continue;
            };
            for stride in [1, 3, usize::MAX] {
                let walked = reader(bytes, chunk).map(|r| by_for_each(r, stride));
                assert_eq!(
                    walked.as_ref(),
                    Some(&general),
                    "{} bytes read {chunk} at a time, broken every {stride}",
                    bytes.len()
                );
            }
        }
    }

    /// A legacy pcap: `magic` and every field in the byte order asked,
    /// `extra` bytes more in each record header (the modified variant's 8),
    /// records with the given captured lengths (original lengths a little
    /// longer) and assorted bytes and timestamps.
    fn pcap(magic: u32, big_endian: bool, extra: usize, snaplen: u32, caplens: &[u32]) -> Vec<u8> {
        let word = |w: u32| {
            if big_endian {
                w.to_be_bytes()
            } else {
                w.to_le_bytes()
            }
        };
        let half = |h: u16| {
            if big_endian {
                h.to_be_bytes()
            } else {
                h.to_le_bytes()
            }
        };
        let mut b = Vec::new();
        b.extend(word(magic));
        b.extend(half(2));
        b.extend(half(4));
        b.extend([0; 8]);
        b.extend(word(snaplen));
        b.extend(word(1));
        for (i, &caplen) in caplens.iter().enumerate() {
            let i = i as u32;
            b.extend(word(1_700_000_000 + i));
            b.extend(word(i.wrapping_mul(7919) % 1_100_000_000));
            b.extend(word(caplen));
            b.extend(word(caplen.saturating_add(i % 3)));
            b.extend(std::iter::repeat_n(0, extra));
            b.extend((0..caplen).map(|j| (i + j) as u8));
        }
        b
    }

    /// Captured lengths from 0 to 1,600 bytes, enough to fill a few
    /// windows, with a record longer than a window (64 KiB) among them.
    fn caplens() -> Vec<u32> {
        let mut x = 0x2545_f491_u32;
        let mut lens: Vec<u32> = (0..250)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x % 1_601
            })
            .collect();
        lens[150] = 70_000;
        lens
    }

    #[test]
    fn for_each_packet_reads_what_next_packet_reads() {
        let lens = caplens();
        // Every variant; snap lengths that cut records and that do not.
        let variants = [
            (0xa1b2_c3d4, false, 0),
            (0xa1b2_c3d4, true, 0),
            (0xa1b2_3c4d, false, 0),
            (0xa1b2_3c4d, true, 0),
            (0xa1b2_cd34, false, 8),
        ];
        for (magic, big_endian, extra) in variants {
            for snaplen in [0, 1_000] {
                let bytes = pcap(magic, big_endian, extra, snaplen, &lens);
                check_same_reading(&bytes);
                // Cut inside the records, and in their last one.
                let last_record = (bytes.len() - 40..bytes.len()).step_by(3);
                for cut in (0..bytes.len()).step_by(29_989).chain(last_record) {
                    check_same_reading(&bytes[..cut]);
                }
            }
        }
    }

    #[test]
    fn for_each_packet_stops_at_a_record_too_long_as_next_packet_does() {
        let mut lens = caplens();
        lens.truncate(100);
        let mut bytes = pcap(0xa1b2_c3d4, false, 0, 0, &lens);
        // A record, then one whose header announces more than any may hold.
        bytes.extend(&pcap(0xa1b2_c3d4, false, 0, 0, &[60])[24..]);
        let mut too_long = pcap(0xa1b2_c3d4, false, 0, 0, &[100]);
        too_long[24 + 8..24 + 12].copy_from_slice(&(MAX_CAPLEN + 1).to_le_bytes());
        bytes.extend(&too_long[24..]);
        check_same_reading(&bytes);
        let (packets, error) = reader(&bytes, usize::MAX).map(by_next_packet).unwrap();
        assert_eq!(packets.len(), 101);
        assert!(error.unwrap().1.contains("exceeds the limit"));
    }

    #[test]
    fn for_each_packet_reads_pcapng_as_next_packet_does() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
        for name in [
            "synthetic.pcapng",
            "two_sections.pcapng",
            "simple_http_modified.pcap",
        ] {
            let bytes = std::fs::read(format!("{fixtures}{name}")).unwrap();
            for cut in 0..=bytes.len() {
                check_same_reading(&bytes[..cut]);
            }
        }
    }

    /// A reader of `temp` mapped `window` bytes at a time.
    fn mapped_reader(temp: &TempFile, window: usize) -> Option<CaptureReader> {
        let file = MappedFile::with_window(temp.open(), window).ok()?;
        CaptureReader::start(Stream::mapped(file)).ok()
    }

    #[test]
    fn a_mapped_file_reads_as_a_read_one_does() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
        let pcap = pcap(0xa1b2_3c4d, true, 0, 1_000, &caplens());
        let mut files = vec![pcap.clone(), pcap[..pcap.len() - 7].to_vec()];
        for name in ["synthetic.pcapng", "two_sections.pcapng"] {
            files.push(std::fs::read(format!("{fixtures}{name}")).unwrap());
        }
        for bytes in files {
            let temp = TempFile::with("mapped-reading", &bytes);
            let general = reader(&bytes, usize::MAX).map(by_next_packet);
            assert!(general.as_ref().is_some_and(|(p, _)| p.len() > 1));
            // Windows of a page, of an odd size, and larger than the file.
            for window in [4_096, 9_973, 1 << 20] {
                let mapped = mapped_reader(&temp, window).map(by_next_packet);
                assert_eq!(mapped, general, "window {window}");
                for stride in [1, usize::MAX] {
                    let walked = mapped_reader(&temp, window).map(|r| by_for_each(r, stride));
                    assert_eq!(walked, general, "window {window}, broken every {stride}");
                }
            }
        }
    }

    #[test]
    fn open_maps_a_large_capture_and_still_unzips_a_large_gzip_one() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        // Just over the length worth mapping.
        let records = (MIN_MAPPED_LEN / 1_516 + 10) as usize;
        let bytes = pcap(0xa1b2_c3d4, false, 0, 0, &vec![1_500; records]);
        let general = reader(&bytes, usize::MAX).map(by_next_packet);
        let temp = TempFile::with("open-large", &bytes);
        let opened = CaptureReader::open(&temp.0).unwrap();
        assert!(opened.stream.is_mapped());
        assert_eq!(Some(by_next_packet(opened)), general);
        // Stored, not compressed, so as large as the capture.
        let mut gz = GzEncoder::new(Vec::new(), Compression::none());
        gz.write_all(&bytes).unwrap();
        let temp = TempFile::with("open-large.gz", &gz.finish().unwrap());
        let opened = CaptureReader::open(&temp.0).unwrap();
        assert!(!opened.stream.is_mapped());
        assert_eq!(Some(by_next_packet(opened)), general);
    }
}
