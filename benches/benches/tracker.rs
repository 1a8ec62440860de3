//! The tracker's throughput over recorded connections.
//!
//! Inputs, decoded once into memory before timing:
//! * `fixtures`: every TCP segment of every fixture capture, the captures one
//!   after another (each shifted to start a second after the previous one);
//! * `replay-100k`: 100,000 packets of the fixtures replayed as overlapping
//!   sessions with their own addresses (synack_benches::corpus), so the
//!   connection table holds hundreds of connections at once.
//!
//! Group `tracker`: `Tracker::observe` over the decoded segments (and
//! `drain_ended`, as a front end does), a fresh tracker per iteration,
//! dropped outside the timing.
//! Group `pipeline`: `Pipeline::process` over the raw records: frame decoding,
//! `Segment::from_frame` and the tracker, i.e. `synack conns` without the
//! capture reading and the output.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use synack_benches::corpus::{self, Record, ReplayConfig, TrackedSegment};
use synack_core::capture::Packet;
use synack_dissector::pipeline::Pipeline;
use synack_dissector::tracker::{Tracker, TrackerConfig};

fn inputs() -> Vec<(&'static str, Vec<Record>)> {
    let captures = corpus::load_fixtures().expect("the fixture captures");
    let sequence = corpus::fixtures_in_sequence(&captures);
    let config = ReplayConfig {
        min_packets: 100_000,
        min_bytes: 0,
        ..ReplayConfig::default()
    };
    let replay = corpus::replay_in_memory(&captures, &config).expect("a replay");
    let replay = corpus::read_records(&replay).expect("the replay reads back");
    vec![("fixtures", sequence), ("replay-100k", replay)]
}

fn observe_all(segments: &[TrackedSegment]) -> Tracker {
    let mut tracker = Tracker::new(TrackerConfig::default());
    for s in segments {
        black_box(tracker.observe(s.frame, s.ts_ns, &s.segment, None));
        for ended in tracker.drain_ended() {
            black_box(ended);
        }
    }
    tracker
}

fn tracker(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("tracker");
    group.sample_size(20);
    for (name, records) in &inputs {
        let segments = corpus::segments(records);
        group.throughput(Throughput::Elements(segments.len() as u64));
        group.bench_function(*name, |b| {
            // The tracker is dropped outside the timing.
            b.iter_with_large_drop(|| observe_all(black_box(&segments)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("pipeline");
    group.sample_size(20);
    for (name, records) in &inputs {
        let packets: Vec<Packet<'_>> = records
            .iter()
            .enumerate()
            .map(|(n, r)| Packet {
                frame: n as u64 + 1,
                ts_ns: r.ts_ns,
                link_type: r.link_type,
                interface: 0,
                data: &r.data,
                orig_len: r.orig_len,
            })
            .collect();
        group.throughput(Throughput::Elements(packets.len() as u64));
        group.bench_function(*name, |b| {
            b.iter_with_large_drop(|| {
                let mut pipeline = Pipeline::new(TrackerConfig::default(), false);
                for p in black_box(&packets) {
                    black_box(pipeline.process(p));
                    for ended in pipeline.tracker().drain_ended() {
                        black_box(ended);
                    }
                }
                pipeline
            })
        });
    }
    group.finish();
}

criterion_group!(benches, tracker);
criterion_main!(benches);
