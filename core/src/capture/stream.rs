//! A read window over a byte stream, with absolute offsets.
//!
//! The format parsers ask for "the next `n` bytes" ([`Stream::fill`]), look at
//! them in place ([`Stream::available`]) and then step over them
//! ([`Stream::consume`]). Consuming never moves bytes, so a record consumed
//! last stays valid (and can be lent out as a packet) until the next `fill`.
//!
//! The window is either read into a buffer or, for a large regular file,
//! mapped from it ([`MappedFile`]).
//!
//! Buffer policy: the buffer starts at [`INITIAL_CAPACITY`] bytes and only
//! grows when a single record or block does not fit, and then only as far as
//! the bytes that actually arrived need (doubling, capped at the size asked
//! for). The parsers never ask for more than their own size limit, so the
//! buffer is bounded by the largest record plus a header. It keeps its
//! high-water size until the reader is dropped.

use std::io::{self, Read};
use std::ops::Range;

use super::mapped::MappedFile;

/// Size of the read buffer before any record forces it to grow.
pub(crate) const INITIAL_CAPACITY: usize = 64 * 1024;

/// A window over a byte stream.
pub(crate) struct Stream {
    backing: Backing,
    /// Bytes `start..end` of the window are there but not consumed.
    start: usize,
    end: usize,
    /// Absolute stream offset of the window's byte `start`.
    offset: u64,
}

/// Where the window's bytes are.
enum Backing {
    /// Read from `inner` into `buf`.
    Read {
        inner: Box<dyn Read + Send>,
        buf: Vec<u8>,
        /// `inner` returned end of file.
        eof: bool,
    },
    /// Mapped from a file: the window is the mapping.
    Mapped(MappedFile),
}

impl Stream {
    /// Wraps `inner`; nothing is read yet.
    pub(crate) fn new(inner: Box<dyn Read + Send>) -> Self {
        Stream {
            backing: Backing::Read {
                inner,
                buf: vec![0; INITIAL_CAPACITY],
                eof: false,
            },
            start: 0,
            end: 0,
            offset: 0,
        }
    }

    /// Reads `file` through its mapped window, from the window's start.
    pub(crate) fn mapped(file: MappedFile) -> Self {
        Stream {
            start: 0,
            end: file.bytes().len(),
            offset: file.window_at(),
            backing: Backing::Mapped(file),
        }
    }

    /// The window's storage, consumed bytes included.
    #[inline]
    fn window(&self) -> &[u8] {
        match &self.backing {
            Backing::Read { buf, .. } => buf,
            Backing::Mapped(file) => file.bytes(),
        }
    }

    /// True when the window is mapped from a file.
    #[cfg(test)]
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self.backing, Backing::Mapped(_))
    }

    /// Absolute offset of the first unconsumed byte (= bytes consumed so far).
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The bytes read but not consumed yet.
    #[inline]
    pub(crate) fn available(&self) -> &[u8] {
        self.window().get(self.start..self.end).unwrap_or(&[])
    }

    /// Index in the storage of the first unconsumed byte; with [`Stream::slice`]
    /// it names bytes that stay put across `consume` (but not across `fill`).
    pub(crate) fn position(&self) -> usize {
        self.start
    }

    /// Storage bytes `range` (indices from [`Stream::position`]); empty if out of range.
    #[inline]
    pub(crate) fn slice(&self, range: Range<usize>) -> &[u8] {
        self.window().get(range).unwrap_or(&[])
    }

    /// Steps over `n` available bytes (fewer if fewer are available).
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// Reads until at least `n` bytes are available. Returns `Ok(false)` when
    /// the stream ended first (what did arrive stays available).
    #[inline]
    pub(crate) fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.start >= n {
            return Ok(true);
        }
        self.refill(n)
    }

    /// [`Stream::fill`] when the window is short: reads from the source, or
    /// maps the file from the first unconsumed byte on.
    #[inline(never)]
    fn refill(&mut self, n: usize) -> io::Result<bool> {
        match &mut self.backing {
            Backing::Read { inner, buf, eof } => {
                read_at_least(inner, buf, eof, &mut self.start, &mut self.end, n)
            }
            Backing::Mapped(file) => {
                file.map_from(self.offset, n)?;
                self.start = 0;
                self.end = file.bytes().len();
                Ok(self.end >= n)
            }
        }
    }
}

/// Reads from `inner` into `buf` until `start..end` holds at least `n`
/// bytes, moving them to the front or growing `buf` when they would not fit.
fn read_at_least(
    inner: &mut dyn Read,
    buf: &mut Vec<u8>,
    eof: &mut bool,
    start: &mut usize,
    end: &mut usize,
    n: usize,
) -> io::Result<bool> {
    while *end - *start < n {
        if *eof {
            return Ok(false);
        }
        if *end == buf.len() || buf.len() - *start < n {
            buf.copy_within(*start..*end, 0);
            *end -= *start;
            *start = 0;
            if *end == buf.len() {
                // Full from index 0 and still short, so n > buf.len().
                let grown = buf.len().saturating_mul(2).min(n);
                buf.resize(grown.max(buf.len() + 1), 0);
            }
        }
        let space = buf.get_mut(*end..).unwrap_or(&mut []);
        let room = space.len();
        match inner.read(space) {
            Ok(0) => *eof = true,
            Ok(k) => *end += k.min(room),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes `chunk` at a time.
    struct Dribble {
        data: Vec<u8>,
        pos: usize,
        chunk: usize,
    }

    impl Read for Dribble {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len() - self.pos);
            out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn stream(len: usize, chunk: usize) -> (Stream, Vec<u8>) {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let inner = Dribble {
            data: data.clone(),
            pos: 0,
            chunk,
        };
        (Stream::new(Box::new(inner)), data)
    }

    /// Reads `data` from `s` in steps of several sizes: the offsets, the
    /// bytes, consumed bytes that stay put until the next fill, and the end.
    fn check_steps(mut s: Stream, data: &[u8]) {
        let mut at = 0usize;
        for step in [1usize, 16, 1000, 70_000, 3, 100_000] {
            assert!(s.fill(step).unwrap());
            assert_eq!(s.offset(), at as u64);
            assert_eq!(&s.available()[..step], &data[at..at + step]);
            let pos = s.position();
            s.consume(step);
            assert_eq!(s.slice(pos..pos + step), &data[at..at + step]);
            at += step;
        }
        let left = data.len() - at;
        assert!(!s.fill(left + 1).unwrap());
        assert_eq!(s.available(), &data[at..]);
        s.consume(left);
        assert!(!s.fill(1).unwrap());
        assert!(s.fill(0).unwrap());
    }

    #[test]
    fn reads_in_steps_and_tracks_offsets() {
        let (s, data) = stream(200_000, 7);
        check_steps(s, &data);
    }

    #[test]
    fn grows_only_as_far_as_needed() {
        let (mut s, data) = stream(300_000, usize::MAX);
        assert!(s.fill(200_000).unwrap());
        assert!(s.window().len() >= 200_000 && s.window().len() <= 262_144);
        assert_eq!(&s.available()[..200_000], &data[..200_000]);
        // A record that is announced big but never arrives only grows the
        // window by what arrived.
        let (mut s, _) = stream(100, usize::MAX);
        assert!(!s.fill(100_000_000).unwrap());
        assert_eq!(s.window().len(), INITIAL_CAPACITY);
    }

    #[test]
    fn consumed_bytes_stay_put_until_fill() {
        let (mut s, data) = stream(1000, 10);
        assert!(s.fill(100).unwrap());
        let pos = s.position();
        s.consume(100);
        assert_eq!(s.slice(pos..pos + 100), &data[..100]);
    }

    #[test]
    fn a_mapped_file_reads_in_steps_as_a_read_one_does() {
        use super::super::mapped::{MappedFile, TempFile};
        let data: Vec<u8> = (0..200_000).map(|i| (i % 251) as u8).collect();
        let temp = TempFile::with("stream-steps", &data);
        for window in [4_096, 10_007, 1 << 20] {
            let file = MappedFile::with_window(temp.open(), window).unwrap();
            check_steps(Stream::mapped(file), &data);
        }
    }
}
