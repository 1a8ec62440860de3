//! A capture file read through a window mapped into memory, a few MiB at a
//! time: the records are read where the page cache holds them, with no copy
//! into a buffer (`read`'s copy and page-cache lookups are about a sixth of
//! the time of `synack conns` on a capture of small records).
//!
//! Only the window is mapped, so the file's pages count against the
//! process's resident memory only as far as one window, and a file of any
//! size can be read. The window moves when the record at hand runs past its
//! end; the file's length is looked up again then, so a capture that grows
//! while it is read (a `tcpdump -w` still writing) is read as far as it has
//! got, as `read` would.
//!
//! The one risk of a mapping: if another process truncates the file inside
//! the window while it is being read, the kernel stops the process with
//! SIGBUS (as it would `grep --mmap`, ripgrep or any other reader of a
//! mapped file; the `synack` command catches the signal and reports it).
//! A file that shrinks between windows is an error at the next window.

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapOptions};

/// Bytes mapped at a time, unless a record needs more.
pub(crate) const WINDOW: usize = 4 * 1024 * 1024;

/// Files shorter than this are read, not mapped: mapping a window costs
/// more than copying a few pages.
pub(crate) const MIN_MAPPED_LEN: u64 = 2 * WINDOW as u64;

/// A file and the window of it that is mapped.
pub(crate) struct MappedFile {
    file: File,
    /// The mapped bytes; `None` once the window is past the end of the file.
    window: Option<Mmap>,
    /// The file offset of the window's first byte.
    window_at: u64,
    /// Bytes mapped at a time (`WINDOW`; smaller in tests).
    window_len: usize,
}

impl MappedFile {
    /// True when `file` is a regular file long enough to be mapped
    /// (`MIN_MAPPED_LEN`); anything else is read.
    pub(crate) fn worth_mapping(file: &File) -> io::Result<bool> {
        let meta = file.metadata()?;
        Ok(meta.is_file() && meta.len() >= MIN_MAPPED_LEN)
    }

    /// Maps the start of `file`, `window_len` bytes at a time.
    pub(crate) fn with_window(file: File, window_len: usize) -> io::Result<MappedFile> {
        let mut mapped = MappedFile {
            file,
            window: None,
            window_at: 0,
            window_len: window_len.max(1),
        };
        mapped.map_from(0, 1)?;
        Ok(mapped)
    }

    /// Gives the file back, unmapped (its read position untouched).
    pub(crate) fn into_file(self) -> File {
        self.file
    }

    /// The mapped bytes (empty past the end of the file).
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        self.window.as_deref().unwrap_or(&[])
    }

    /// The file offset of `bytes()[0]`.
    pub(crate) fn window_at(&self) -> u64 {
        self.window_at
    }

    /// Moves the window to start at file offset `from` and to hold at least
    /// `need` bytes from there, or as many as the file has.
    pub(crate) fn map_from(&mut self, from: u64, need: usize) -> io::Result<()> {
        // Unmapped first, so that at most one window is resident.
        self.window = None;
        self.window_at = from;
        let file_len = self.file.metadata()?.len();
        if file_len < from {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the file was truncated to {file_len} bytes while it was read"),
            ));
        }
        let left = usize::try_from(file_len.saturating_sub(from)).unwrap_or(usize::MAX);
        let len = need.max(self.window_len).min(left);
        if len > 0 {
            // SAFETY: the mapping is read-only and lives in this struct, so
            // the slices lent from it end before it is unmapped. The file's
            // bytes may still change under it if another process writes or
            // truncates the file while it is read; the module doc says what
            // then happens, as memmap2's own docs do.
            let map = unsafe {
                MmapOptions::new()
                    .offset(from)
                    .len(len)
                    .populate()
                    .map(&self.file)?
            };
            self.window = Some(map);
        }
        Ok(())
    }
}

/// A file in the temporary directory, removed when dropped.
#[cfg(test)]
pub(crate) struct TempFile(pub(crate) std::path::PathBuf);

#[cfg(test)]
impl TempFile {
    /// Writes `bytes` to a new file named after `name` and this process.
    pub(crate) fn with(name: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("synack-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).expect("the temporary directory is writable");
        TempFile(path)
    }

    /// The file, opened for reading.
    pub(crate) fn open(&self) -> File {
        File::open(&self.0).expect("the file was just written")
    }
}

#[cfg(test)]
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_window_holds_what_is_asked_or_what_the_file_has() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let temp = TempFile::with("window", &data);
        let mut file = MappedFile::with_window(temp.open(), 4_096).unwrap();
        assert_eq!(file.bytes(), &data[..4_096]);
        // Not on a page boundary, and more than a window.
        file.map_from(10_001, 9_000).unwrap();
        assert_eq!(file.window_at(), 10_001);
        assert_eq!(file.bytes(), &data[10_001..19_001]);
        // Near the end: what the file has.
        file.map_from(47_000, 4_096).unwrap();
        assert_eq!(file.bytes(), &data[47_000..]);
        // At the end: nothing.
        file.map_from(50_000, 1).unwrap();
        assert!(file.bytes().is_empty());
        // Past the end: the file is shorter than what was read of it.
        let shrunk = file.map_from(90_000, 1).unwrap_err();
        assert!(shrunk.to_string().contains("truncated to 50000 bytes"));
    }

    #[test]
    fn a_file_that_grows_is_read_as_far_as_it_has_got() {
        let temp = TempFile::with("grows", &[1; 5_000]);
        let mut file = MappedFile::with_window(temp.open(), 4_096).unwrap();
        file.map_from(4_096, 4_096).unwrap();
        assert_eq!(file.bytes().len(), 904);
        let mut writer = std::fs::OpenOptions::new()
            .append(true)
            .open(&temp.0)
            .unwrap();
        writer.write_all(&[2; 3_000]).unwrap();
        file.map_from(4_096, 4_096).unwrap();
        assert_eq!(file.bytes().len(), 3_904);
        assert_eq!(file.bytes()[903..905], [1, 2]);
    }

    #[test]
    fn only_large_regular_files_are_worth_mapping() {
        let small = TempFile::with("small", &[0; 100]);
        assert!(!MappedFile::worth_mapping(&small.open()).unwrap());
        let large = TempFile::with("large", &vec![0; MIN_MAPPED_LEN as usize]);
        assert!(MappedFile::worth_mapping(&large.open()).unwrap());
        let dir = File::open(std::env::temp_dir()).unwrap();
        assert!(!MappedFile::worth_mapping(&dir).unwrap());
    }
}
