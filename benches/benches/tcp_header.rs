//! TCP header and options from TCP bytes: synack against etherparse, smoltcp,
//! pnet_packet and pdu on the same real bytes. One criterion group per input,
//! one function per parser; each parser's `read_all` (synack_benches::parsers)
//! reads every header field and every option value into `black_box`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use synack_benches::inputs::{Aligned, TCP_INPUTS};
use synack_benches::parsers::{self, BlackBox};

fn tcp_header(c: &mut Criterion) {
    for input in TCP_INPUTS {
        let aligned = Aligned::new(&input);
        let mut group = c.benchmark_group(format!("tcp/{}", input.name));
        group.throughput(Throughput::Elements(1));
        // Direct calls (no function pointers), so each read_all can be inlined alike.
        macro_rules! parser {
            ($name:literal, $read_all:path) => {
                group.bench_function($name, |b| {
                    b.iter(|| $read_all(black_box(aligned.bytes()), &mut BlackBox))
                });
            };
        }
        parser!("synack", parsers::synack_tcp);
        parser!("synack-for-loop", parsers::synack_tcp_stepped);
        parser!("etherparse", parsers::etherparse_tcp);
        parser!("smoltcp", parsers::smoltcp_tcp);
        parser!("pnet_packet", parsers::pnet_tcp);
        parser!("pdu", parsers::pdu_tcp);
        group.finish();
    }
}

criterion_group!(benches, tcp_header);
criterion_main!(benches);
