//! The error a capture reader stops with.

use std::fmt;

/// Why a capture could not be read to its end.
#[derive(Debug)]
pub struct CaptureError {
    /// Byte offset in the (decompressed) stream where the problem starts: the
    /// first byte of the record or block that could not be read.
    pub offset: u64,
    /// What went wrong.
    pub kind: CaptureErrorKind,
}

/// The kinds of [`CaptureError`].
#[derive(Debug)]
pub enum CaptureErrorKind {
    /// Reading the underlying file or stream failed (including a damaged gzip stream).
    Io(std::io::Error),
    /// The magic number is not one of pcap, pcapng or gzip (also: empty input).
    UnknownFormat,
    /// The input ends inside a record or block (or inside the file header).
    Truncated,
    /// A header or block is malformed; the text says what was wrong.
    Corrupt(String),
    /// A pcapng packet names an interface no Interface Description Block of its
    /// section declared (for a Simple Packet Block: interface 0).
    UnknownInterface(u32),
}

impl CaptureError {
    /// Builds an error at `offset`.
    pub(crate) fn new(offset: u64, kind: CaptureErrorKind) -> Self {
        CaptureError { offset, kind }
    }

    /// Builds a [`CaptureErrorKind::Corrupt`] error at `offset`.
    pub(crate) fn corrupt(offset: u64, what: impl Into<String>) -> Self {
        CaptureError::new(offset, CaptureErrorKind::Corrupt(what.into()))
    }

    /// Builds an error from a failed read. A stream that ends early inside the
    /// compressed data (`UnexpectedEof` from the gzip decoder) is a truncation.
    pub(crate) fn io(offset: u64, err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::UnexpectedEof {
            CaptureError::new(offset, CaptureErrorKind::Truncated)
        } else {
            CaptureError::new(offset, CaptureErrorKind::Io(err))
        }
    }
}

impl fmt::Display for CaptureErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureErrorKind::Io(e) => write!(f, "read error: {e}"),
            CaptureErrorKind::UnknownFormat => {
                f.write_str("not a pcap, pcapng or gzip file (magic number not recognised)")
            }
            CaptureErrorKind::Truncated => f.write_str("file ends inside a record"),
            CaptureErrorKind::Corrupt(what) => write!(f, "corrupt capture: {what}"),
            CaptureErrorKind::UnknownInterface(id) => write!(
                f,
                "packet on interface {id}, which no interface description block declared"
            ),
        }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte offset {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CaptureErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}
