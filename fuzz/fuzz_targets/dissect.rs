//! The dissector over a capture, as `synack` runs it: two bytes of settings,
//! then a capture file (pcap or pcapng, as the `capture` target reads it).
//! Every record is decoded, tracked and written in each packet format (the
//! tcpdump line with the options chosen, synack's annotations after it, the
//! JSON object); every verdict as JSON and as a row of the `conns` table.
//! Nothing may panic, and every connection that starts ends once, in the
//! order of its number at the end of the capture.
#![no_main]

use std::collections::HashSet;
use std::io::{self, Cursor};

use libfuzzer_sys::fuzz_target;
use synack_core::capture::CaptureReader;
use synack_core::frame::{self, Layer};
use synack_dissector::format::table::Table;
use synack_dissector::format::tcpdump::{TcpdumpOptions, TcpdumpPrinter, TimestampStyle};
use synack_dissector::format::{json, text};
use synack_dissector::pipeline::{Pipeline, Skipped};
use synack_dissector::tracker::TrackerConfig;
use synack_dissector::verdict::Verdict;
use synack_dissector::zeek::ZeekConfig;

/// The run's settings from two bytes: bits 0-1 the `-v` count, 2-4 the `-t`
/// count (modulo 6), 5 `-S`, 6 `-#`, 7 checksums verified; in the second,
/// bit 0 a table of two connections (so that connections are evicted), bit 1
/// Zeek's model left out, bits 2-3 the idle timeout (1 s to 1000 s).
fn settings(a: u8, b: u8) -> (TcpdumpOptions, bool, TrackerConfig) {
    let tcpdump = TcpdumpOptions {
        verbose: a & 3,
        timestamps: TimestampStyle::from_t_count(usize::from(a >> 2 & 7) % 6)
            .expect("0 to 5 is a -t count"),
        absolute_seq: a & 0x20 != 0,
        frame_numbers: a & 0x40 != 0,
    };
    let mut tracker = TrackerConfig::default();
    if b & 1 != 0 {
        tracker.max_connections = 2;
    }
    tracker.zeek = (b & 2 == 0).then(ZeekConfig::default);
    tracker.idle_timeout_ns = 1_000_000_000 * 10u64.pow(u32::from(b >> 2 & 3));
    (tcpdump, a & 0x80 != 0, tracker)
}

/// Where the verdicts go, and what is checked of them.
struct Verdicts {
    table: Table,
    seen: HashSet<u64>,
}

impl Verdicts {
    /// Takes one ended connection's verdict.
    fn take(&mut self, v: &Verdict) {
        assert!(
            self.seen.insert(v.conn),
            "connection {} ended twice",
            v.conn
        );
        json::write_verdict(&mut io::sink(), v).expect("a sink takes anything");
        self.table.push(v);
    }
}

fuzz_target!(|data: &[u8]| {
    let [a, b, capture @ ..] = data else {
        return;
    };
    let Ok(mut reader) = CaptureReader::from_reader(Cursor::new(capture.to_vec())) else {
        return;
    };
    let (tcpdump, verify_checksums, config) = settings(*a, *b);
    let mut pipeline = Pipeline::new(config, verify_checksums);
    let mut printer = TcpdumpPrinter::new(tcpdump);
    let mut verdicts = Verdicts {
        table: Table::new(),
        seen: HashSet::new(),
    };
    let out = &mut io::sink();
    let mut started = HashSet::new();
    while let Some(Ok(packet)) = reader.next_packet() {
        let decoded = frame::decode(packet.link_type, packet.data);
        let tracked = pipeline.track_decoded(&packet, &decoded);
        let written = match &tracked {
            Ok((frame, annotation)) => {
                started.insert(annotation.conn);
                json::write_packet(out, packet.frame, packet.ts_ns, frame, annotation, &[])
                    .and_then(|()| printer.write_packet(out, &packet, frame))
                    .and_then(|()| text::write_annotation(out, frame, annotation))
            }
            Err(Skipped::Malformed(e)) if e.layer == Layer::Tcp => printer
                .write_frame(out, &packet)
                .and_then(|_| text::write_malformed(out, e)),
            Err(_) => {
                printer.skip_packet(&packet);
                Ok(())
            }
        };
        written.expect("a sink takes anything");
        for (v, _) in pipeline.tracker().drain_ended() {
            verdicts.take(&v);
        }
    }
    let mut last = None;
    for (v, _) in pipeline.tracker().finishing() {
        assert!(last < Some(v.conn), "the last verdicts in connection order");
        last = Some(v.conn);
        verdicts.take(&v);
    }
    assert_eq!(verdicts.seen, started, "every connection ends once");
    verdicts.table.write(out).expect("a sink takes anything");
});
