//! Capture reading, in bytes per second, over a pcap of about 4 MB held in
//! memory (the fixture captures replayed, synack_benches::corpus), read
//! through `std::io::Read` as from a file:
//!
//! * `walk-record-headers`: the floor, reads the record headers and skips
//!   the packet bytes (synack_benches::pcap::walk_records);
//! * `synack`: `CaptureReader::from_reader` and `next_packet` over every record;
//! * `pcap-parser`: `LegacyPcapReader` (the crate synack's reader uses to
//!   parse each record) over every record;
//! * `synack+pipeline`: `CaptureReader` and `Pipeline::process` on each
//!   record: `synack conns` without the output.
//!
//! And over a pcap file of about 16 MB (in the page cache), which
//! `CaptureReader::open` maps (see `synack_core::capture::CaptureReader`):
//!
//! * `walk-record-headers`: the floor, through a 1 MiB `BufReader`;
//! * `synack-read`: `CaptureReader::from_reader` on the file: `read` copies it;
//! * `synack-mapped`: `CaptureReader::open`: no copy, the pages mapped instead.
//!
//! Every reader hands each record's length and timestamp to `black_box`.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufReader, Cursor};
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError};
use synack_benches::corpus::{self, ReplayConfig};
use synack_benches::pcap::walk_records;
use synack_core::capture::CaptureReader;
use synack_dissector::pipeline::Pipeline;
use synack_dissector::tracker::TrackerConfig;

fn synack_read(bytes: &'static [u8]) {
    read_all(CaptureReader::from_reader(Cursor::new(bytes)).expect("a pcap"));
}

/// Hands every record's length and timestamp to `black_box`.
fn read_all(mut reader: CaptureReader) {
    while let Some(p) = reader.next_packet() {
        let p = p.expect("a record");
        black_box((p.data.len(), p.ts_ns));
    }
}

/// Opens the capture at `path` for reading.
fn file(path: &Path) -> File {
    File::open(path).expect("the capture file")
}

fn synack_pipeline(bytes: &'static [u8]) {
    let mut reader = CaptureReader::from_reader(Cursor::new(bytes)).expect("a pcap");
    let mut pipeline = Pipeline::new(TrackerConfig::default(), false);
    while let Some(p) = reader.next_packet() {
        let p = p.expect("a record");
        black_box(pipeline.process(&p));
        for ended in pipeline.tracker().drain_ended() {
            black_box(ended);
        }
    }
    black_box(pipeline.tracker().finish());
}

fn pcap_parser_read(bytes: &'static [u8]) {
    let mut reader = LegacyPcapReader::new(65_536, Cursor::new(bytes)).expect("a pcap");
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                if let PcapBlockOwned::Legacy(b) = block {
                    black_box((b.data.len(), b.ts_sec, b.ts_usec));
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("pcap-parser: {e:?}"),
        }
    }
}

/// The fixture captures replayed in memory to at least `min_bytes`.
fn replay(min_bytes: u64) -> Vec<u8> {
    let captures = corpus::load_fixtures().expect("the fixture captures");
    let config = ReplayConfig {
        min_packets: 0,
        min_bytes,
        ..ReplayConfig::default()
    };
    corpus::replay_in_memory(&captures, &config).expect("a replay")
}

fn capture(c: &mut Criterion) {
    let bytes: &'static [u8] = replay(4_000_000).leak();
    let mut group = c.benchmark_group("capture/read-4MB");
    group.sample_size(30);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("walk-record-headers", |b| {
        b.iter(|| walk_records(&mut BufReader::new(Cursor::new(black_box(bytes)))).expect("a pcap"))
    });
    group.bench_function("synack", |b| b.iter(|| synack_read(black_box(bytes))));
    group.bench_function("pcap-parser", |b| {
        b.iter(|| pcap_parser_read(black_box(bytes)))
    });
    group.bench_function("synack+pipeline", |b| {
        b.iter(|| synack_pipeline(black_box(bytes)))
    });
    group.finish();
}

/// The readers of a capture file, read and mapped.
fn capture_file(c: &mut Criterion) {
    let bytes = replay(16_000_000);
    let path = std::env::temp_dir().join(format!("synack-bench-{}.pcap", std::process::id()));
    std::fs::write(&path, &bytes).expect("a temporary file");
    // Read once, so that every reader finds it in the page cache.
    std::io::copy(&mut file(&path), &mut std::io::sink()).expect("the file");
    let mut group = c.benchmark_group("capture/file-16MB");
    group.sample_size(30);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("walk-record-headers", |b| {
        b.iter(|| {
            walk_records(&mut BufReader::with_capacity(1 << 20, file(&path))).expect("a pcap")
        })
    });
    group.bench_function("synack-read", |b| {
        b.iter(|| read_all(CaptureReader::from_reader(file(&path)).expect("a pcap")))
    });
    group.bench_function("synack-mapped", |b| {
        b.iter(|| read_all(CaptureReader::open(&path).expect("a pcap")))
    });
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, capture, capture_file);
criterion_main!(benches);
