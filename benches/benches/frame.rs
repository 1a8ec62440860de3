//! A whole Ethernet/IPv4 or Ethernet/IPv6 frame down to the last TCP option:
//! synack's `frame::decode` against etherparse's `SlicedPacket` and
//! `LaxSlicedPacket`. One criterion group per frame, one function per parser;
//! each reads the IP addresses, every TCP header field and every option value
//! into `black_box` (synack_benches::parsers).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use synack_benches::inputs::{Aligned, FRAME_INPUTS};
use synack_benches::parsers::{self, BlackBox};

fn frame(c: &mut Criterion) {
    for input in FRAME_INPUTS {
        let aligned = Aligned::new(&input);
        let mut group = c.benchmark_group(format!("frame/{}", input.name));
        group.throughput(Throughput::Elements(1));
        macro_rules! parser {
            ($name:literal, $read_all:path) => {
                group.bench_function($name, |b| {
                    b.iter(|| $read_all(black_box(aligned.bytes()), &mut BlackBox))
                });
            };
        }
        parser!("synack", parsers::synack_frame);
        parser!("etherparse-sliced", parsers::etherparse_sliced);
        parser!("etherparse-lax", parsers::etherparse_lax);
        group.finish();
    }
}

criterion_group!(benches, frame);
criterion_main!(benches);
