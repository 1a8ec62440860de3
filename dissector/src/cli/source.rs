//! Where records come from: a capture file or standard input, read in a
//! loop of the reader's own ([`FileSource::for_each_record`]), or a live
//! interface (see [`super::live`]), read a record at a time.

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
    /// message names the file, the byte offset and the frame). Quicker than
    /// a loop over `next_packet`: see [`CaptureReader::for_each_packet`].
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

/// The source a run reads: a capture file (or standard input), or a live
/// interface. A file's records are handed to the packet loop by
/// [`FileSource::for_each_record`], a live capture's by
/// [`LiveSource::next_record`].
pub enum RunSource {
    /// A capture file or standard input.
    File(FileSource),
    /// A live capture.
    Live(LiveSource),
}

impl RunSource {
    /// True for a live capture (a packets run then ends with the connections
    /// table on standard error).
    pub fn is_live(&self) -> bool {
        matches!(self, RunSource::Live(_))
    }

    /// True when records may arrive as they happen: output is flushed after
    /// every packet. A pipe may be fed by a live `tcpdump -w -`, so standard
    /// input streams too.
    pub fn streams(&self) -> bool {
        match self {
            RunSource::File(f) => f.stdin,
            RunSource::Live(_) => true,
        }
    }

    /// Called once at the end: a live capture's statistics on standard error.
    pub fn finish(&mut self) {
        if let RunSource::Live(l) = self {
            l.finish();
        }
    }
}
