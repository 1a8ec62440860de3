//! The fuzzers' corpora (fuzz/corpus/, inputs that reach every path the
//! fuzzers found) replayed through the parsers on the stable toolchain, so
//! that `cargo test` catches a regression on any of them without cargo-fuzz.
//! The inputs are read as each fuzz target reads them (fuzz/fuzz_targets/).

use std::io::Cursor;
use std::path::Path;

use synack_core::capture::{CaptureReader, LinkType};
use synack_core::frame::{self, Decoded};
use synack_core::tcp::{OptionIter, TcpHeader};

/// The link types the `frame` target's two-byte prefix selects from.
const LINK_TYPES: [u32; 13] = [1, 113, 276, 0, 108, 9, 50, 104, 12, 14, 101, 228, 229];

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| std::fs::read(e.path()).expect("corpus file"))
        .collect();
    assert!(inputs.len() > 100, "{target}: only {} inputs", inputs.len());
    inputs
}

fn walk_options(options: &[u8]) -> usize {
    let n = OptionIter::new(options).count() + OptionIter::new_cut(options).count();
    n + OptionIter::padding(options).len()
}

fn read_decoded(link: LinkType, data: &[u8]) -> usize {
    match frame::decode(link, data) {
        Ok(Decoded::Tcp(f)) => {
            f.tcp.options().count() + f.tcp.payload().len() + usize::from(f.tcp.src_port())
        }
        Ok(_) => 0,
        Err(e) => e.to_string().len(),
    }
}

#[test]
fn options_corpus() {
    let total: usize = corpus("options").iter().map(|i| walk_options(i)).sum();
    assert!(total > 0);
}

#[test]
fn header_corpus() {
    for input in corpus("header") {
        let Some((sel, bytes)) = input.split_first_chunk::<2>() else {
            continue;
        };
        // The `header` target's selector: a length, or the captured length
        // plus (snap-length cut) or minus (padding) its low byte.
        let sel = u16::from_be_bytes(*sel);
        let delta = usize::from(sel & 0xFF);
        let segment_len = match sel {
            0xFF00.. => bytes.len().saturating_sub(delta),
            0xFE00.. => bytes.len() + delta,
            s => usize::from(s),
        };
        if let Ok(h) = TcpHeader::parse(bytes, segment_len) {
            walk_options(h.options_raw());
            let _ = h.options().count();
        }
    }
}

#[test]
fn frame_corpus() {
    for input in corpus("frame") {
        let Some((sel, data)) = input.split_first_chunk::<2>() else {
            continue;
        };
        let link = LINK_TYPES[usize::from(u16::from_be_bytes(*sel)) % LINK_TYPES.len()];
        read_decoded(LinkType(link), data);
    }
}

#[test]
fn capture_corpus() {
    for input in corpus("capture") {
        let Ok(mut reader) = CaptureReader::from_reader(Cursor::new(input)) else {
            continue;
        };
        while let Some(Ok(packet)) = reader.next_packet() {
            read_decoded(packet.link_type, packet.data);
        }
        assert!(reader.next_packet().is_none(), "the reader stays ended");
    }
}
