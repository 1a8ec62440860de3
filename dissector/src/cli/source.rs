//! Where records come from: a capture file, standard input, or a live
//! interface (see [`super::live`]), behind one lending interface
//! ([`Source`]); the packet loop reads a file's records in a loop of the
//! reader's own ([`FileSource::for_each_record`]).

use std::ops::ControlFlow;

use synack_core::capture::{CaptureError, CaptureErrorKind, CaptureReader, Packet};

use super::live::LiveSource;

/// What a source gives next.
#[derive(Debug)]
pub enum Next<'a> {
    /// A record.
    Packet(Packet<'a>),
    /// Nothing arrived for a while (live capture): a chance to flush and look at Ctrl-C.
    Idle,
    /// The end of the input.
    End,
    /// The input could not be read to its end: the message names where.
    Failed(String),
}

/// A source of capture records.
pub trait Source {
    /// The next record, borrowing the source's buffer.
    fn next_record(&mut self) -> Next<'_>;

    /// True for a live capture (a packets run then ends with the connections
    /// table on standard error).
    fn is_live(&self) -> bool {
        false
    }

    /// True when records may arrive as they happen: output is flushed after
    /// every packet.
    fn streams(&self) -> bool {
        self.is_live()
    }

    /// Called once at the end: e.g. a live capture's statistics on standard error.
    fn finish(&mut self) {}
}

/// A capture file or standard input, read with [`CaptureReader`].
pub struct FileSource {
    name: String,
    reader: CaptureReader,
    stdin: bool,
}

impl FileSource {
    /// Opens `path`; the error message names it.
    pub fn open(path: &str) -> Result<FileSource, String> {
        let reader = CaptureReader::open(path).map_err(|e| describe(path, &e, None))?;
        Ok(FileSource {
            name: path.to_string(),
            reader,
            stdin: false,
        })
    }

    /// Reads standard input.
    pub fn stdin() -> Result<FileSource, String> {
        let name = "standard input";
        let reader =
            CaptureReader::from_reader(std::io::stdin()).map_err(|e| describe(name, &e, None))?;
        Ok(FileSource {
            name: name.to_string(),
            reader,
            stdin: true,
        })
    }

    /// Hands the records to `each` in order until it breaks (its value is
    /// returned), the input ends (Continue) or it cannot be read (the
    /// message, as [`Source::next_record`] words it). Quicker than a loop
    /// over `next_record`: see [`CaptureReader::for_each_packet`].
    #[inline(always)]
    pub fn for_each_record<B>(
        &mut self,
        each: impl FnMut(Packet<'_>) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, String> {
        // A failed read concerns the frame after the last one handed out.
        self.reader
            .for_each_packet(each)
            .map_err(|e| describe(&self.name, &e, Some(self.reader.frames() + 1)))
    }
}

/// `NAME: byte offset N: what (in frame F)`; a file that cannot be opened is
/// just `NAME: the OS error`.
#[cold]
fn describe(name: &str, e: &CaptureError, frame: Option<u64>) -> String {
    if let (CaptureErrorKind::Io(io), 0, None) = (&e.kind, e.offset, frame) {
        return format!("{name}: {io}");
    }
    match frame {
        Some(f) => format!("{name}: {e} (frame {f})"),
        None => format!("{name}: {e}"),
    }
}

impl Source for FileSource {
    fn next_record(&mut self) -> Next<'_> {
        // A failed read concerns the frame after the last one handed out.
        let failing_frame = self.reader.frames() + 1;
        match self.reader.next_packet() {
            Some(Ok(p)) => Next::Packet(p),
            Some(Err(e)) => Next::Failed(describe(&self.name, &e, Some(failing_frame))),
            None => Next::End,
        }
    }

    fn streams(&self) -> bool {
        // A pipe may be fed by a live `tcpdump -w -`: show each packet as it comes.
        self.stdin
    }
}

/// The source a run reads: a capture file (or standard input), or a live
/// interface. A file's records are handed to the packet loop by
/// [`FileSource::for_each_record`], a live capture's by
/// [`Source::next_record`].
pub enum RunSource {
    /// A capture file or standard input.
    File(FileSource),
    /// A live capture.
    Live(LiveSource),
}

impl RunSource {
    /// See [`Source::is_live`].
    pub fn is_live(&self) -> bool {
        match self {
            RunSource::File(f) => f.is_live(),
            RunSource::Live(l) => l.is_live(),
        }
    }

    /// See [`Source::streams`].
    pub fn streams(&self) -> bool {
        match self {
            RunSource::File(f) => f.streams(),
            RunSource::Live(l) => l.streams(),
        }
    }

    /// See [`Source::finish`].
    pub fn finish(&mut self) {
        match self {
            RunSource::File(f) => f.finish(),
            RunSource::Live(l) => l.finish(),
        }
    }
}
