//! Byte sources: a file or any reader, gunzipped when it starts with the gzip
//! magic; a large regular file that is not gzip is mapped instead of read.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::mapped::{MappedFile, WINDOW};
use super::stream::Stream;

/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A boxed byte source the reader can own and send between threads.
pub(crate) type Source = Box<dyn Read + Send>;

/// Opens the file at `path` (no special names) as a [`Stream`]: mapped
/// when it is a regular file long enough and not gzip, else read.
pub(crate) fn open(path: &Path) -> io::Result<Stream> {
    let file = File::open(path)?;
    if !MappedFile::worth_mapping(&file)? {
        return Ok(Stream::new(decompressed(Box::new(file))?));
    }
    let mapped = MappedFile::with_window(file, WINDOW)?;
    if mapped.bytes().starts_with(&GZIP_MAGIC) {
        return Ok(Stream::new(decompressed(Box::new(mapped.into_file()))?));
    }
    Ok(Stream::mapped(mapped))
}

/// Looks at the first two bytes of `inner`: gzip data (possibly several
/// concatenated members, as `cat a.gz b.gz` makes) is decompressed on the fly,
/// anything else is passed through. The peeked bytes are not lost.
pub(crate) fn decompressed(mut inner: Source) -> io::Result<Source> {
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut inner, &mut magic)?;
    let head = Cursor::new(magic).take(got as u64);
    let whole = head.chain(inner);
    if got == magic.len() && magic == GZIP_MAGIC {
        Ok(Box::new(MultiGzDecoder::new(whole)))
    } else {
        Ok(Box::new(whole))
    }
}

/// Fills as much of `out` as the stream holds, however small its reads are.
fn read_up_to(inner: &mut dyn Read, out: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while let Some(rest) = out.get_mut(got..).filter(|r| !r.is_empty()) {
        match inner.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n.min(rest.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn read_all(mut s: Source) -> Vec<u8> {
        let mut v = Vec::new();
        s.read_to_end(&mut v).unwrap();
        v
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_bytes_pass_through_whole() {
        for data in [&b""[..], b"\x1f", b"\x1f\x00rest", b"abcdef"] {
            let s = decompressed(Box::new(Cursor::new(data.to_vec()))).unwrap();
            assert_eq!(read_all(s), data);
        }
    }

    #[test]
    fn gzip_is_decompressed_including_concatenated_members() {
        let mut two = gz(b"hello ");
        two.extend(gz(b"world"));
        let s = decompressed(Box::new(Cursor::new(two))).unwrap();
        assert_eq!(read_all(s), b"hello world");
    }
}
