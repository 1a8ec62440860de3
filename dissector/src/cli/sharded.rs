//! `synack conns --threads N`: the connections of one capture file tracked on
//! N threads. The calling thread reads and decodes every record once and
//! hands each TCP segment, in batches, to the thread that tracks its shard of
//! the connections (by the hash of its flow key, so both directions meet).
//! The connections are then numbered in order of their first frame, which is
//! the numbering one thread gives; each shard keeps only their rows of the
//! table until then (or, for JSON, their verdicts packed).
//!
//! Time is the capture's: each segment carries the latest timestamp of all
//! the TCP segments read up to it, whatever their shard, and a shard's
//! tracker lets time pass to it before taking the segment in, so connections
//! end when they would on one thread.

use std::hash::BuildHasher;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::ops::{ControlFlow, Range};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;

use rustc_hash::FxBuildHasher;
use synack_core::capture::Packet;
use synack_core::flow::Endpoint;
use synack_core::frame;

use crate::format::json;
use crate::format::table::Table;
use crate::pipeline::{segment_of, tcp_of};
use crate::plugin_host::PluginHost;
use crate::segment::Segment;
use crate::tracker::{Tracker, TrackerConfig};
use crate::verdict::{Packed, PackedVerdicts, Verdict};

use super::args::ConnsFormat;
use super::filter::BpfFilter;
use super::run::{load_plugins, Failure, Warner};
use super::source::FileSource;

/// What one run on several threads needs.
pub struct ShardedRun<'a> {
    /// The capture file.
    pub path: &'a str,
    /// The BPF filter expression ("" for none).
    pub filter: &'a str,
    /// The tracker's limits (each shard has them).
    pub tracker: TrackerConfig,
    /// Verify TCP checksums.
    pub verify_checksums: bool,
    /// Stop after this many records that pass the filter.
    pub count: Option<u64>,
    /// Threads.
    pub threads: u64,
    /// Output format.
    pub format: ConnsFormat,
    /// Run-time plugins (each shard loads its own).
    pub plugins: Vec<std::path::PathBuf>,
}

/// Segments handed to a shard at once.
const BATCH_LEN: usize = 1024;

/// Batches queued for a shard before the reader waits.
const QUEUED_BATCHES: usize = 4;

/// One TCP packet, as a shard's tracker takes it in.
struct Step {
    frame: u64,
    ts_ns: u64,
    /// The capture's clock: the latest timestamp of a TCP segment so far.
    clock_ns: u64,
    segment: Segment,
    checksum_ok: Option<bool>,
    /// The payload's bytes in the batch (copied only for plugins).
    payload: Range<usize>,
}

/// Packets for one shard, with their payloads when plugins want them.
#[derive(Default)]
struct Batch {
    steps: Vec<Step>,
    payloads: Vec<u8>,
}

/// Runs the reader and the shards, and prints every verdict in connection order.
pub fn run(r: &ShardedRun<'_>) -> Result<(), Failure> {
    let shards = usize::try_from(r.threads).unwrap_or(usize::MAX);
    let (read, tracked) = thread::scope(|scope| {
        // Emptied batches come back to the reader, so batches are reused.
        let (recycle, recycled) = mpsc::channel();
        let (queues, handles): (Vec<_>, Vec<_>) = (0..shards)
            .map(|index| {
                let (queue, batches) = mpsc::sync_channel(QUEUED_BATCHES);
                let recycle = recycle.clone();
                let handle = scope.spawn(move || track(r, index, batches, recycle));
                (queue, handle)
            })
            .unzip();
        drop(recycle);
        let read = read(r, queues, &recycled);
        let tracked: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Failure::Input("a shard thread panicked".into())))
            })
            .collect();
        (read, tracked)
    });
    let mut parts = Vec::new();
    let mut failure = read.err();
    for result in tracked {
        match result {
            Ok(v) => parts.push(v),
            Err(f) => {
                failure.get_or_insert(f);
            }
        }
    }
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    match r.format {
        ConnsFormat::Table => {
            let tables = parts.into_iter().filter_map(Kept::into_rows).collect();
            Table::write_merged(tables, &mut out)?;
        }
        ConnsFormat::Json => {
            let parts = parts.into_iter().filter_map(Kept::into_verdicts).collect();
            for v in numbered_in_first_frame_order(parts) {
                json::write_verdict(&mut out, &v)?;
            }
        }
    }
    out.flush()?;
    failure.map_or(Ok(()), Err)
}

/// What a shard keeps of its connections until the capture is over.
enum Kept {
    /// Their rows of the table, each under its first frame: a row is a
    /// fraction of a verdict's size.
    Rows(Table),
    /// Their verdicts, packed, each under its first frame.
    Verdicts(PackedVerdicts, Vec<(u64, Packed)>),
}

impl Kept {
    /// Nothing yet, for `format`.
    fn new(format: ConnsFormat) -> Kept {
        match format {
            ConnsFormat::Table => Kept::Rows(Table::new()),
            ConnsFormat::Json => Kept::Verdicts(PackedVerdicts::default(), Vec::new()),
        }
    }

    /// Keeps what is shown of `v`.
    fn push(&mut self, v: Verdict) {
        match self {
            Kept::Rows(table) => table.push_keyed(v.first_frame, &v),
            Kept::Verdicts(packed, places) => places.push((v.first_frame, packed.pack(v))),
        }
    }

    /// The rows, if that is what was kept.
    fn into_rows(self) -> Option<Table> {
        match self {
            Kept::Rows(table) => Some(table),
            Kept::Verdicts(..) => None,
        }
    }

    /// Puts verdicts in order of first frame (rows are put in order as
    /// they are written).
    fn order(&mut self) {
        if let Kept::Verdicts(_, places) = self {
            places.sort_by_key(|&(first_frame, _)| first_frame);
        }
    }

    /// The verdicts, if they were kept.
    fn into_verdicts(self) -> Option<(PackedVerdicts, Vec<(u64, Packed)>)> {
        match self {
            Kept::Rows(_) => None,
            Kept::Verdicts(packed, places) => Some((packed, places)),
        }
    }
}

/// The shards' verdicts, each shard's in order of first frame, merged into
/// that order and numbered from 0, the numbering one thread gives.
fn numbered_in_first_frame_order(
    parts: Vec<(PackedVerdicts, Vec<(u64, Packed)>)>,
) -> impl Iterator<Item = Verdict> {
    let mut heads: Vec<_> = parts
        .into_iter()
        .map(|(packed, places)| (packed, places.into_iter().peekable()))
        .collect();
    (0..).map_while(move |number| {
        let (first, _) = heads
            .iter_mut()
            .enumerate()
            .filter_map(|(i, (_, places))| Some((i, places.peek()?.0)))
            .min_by_key(|&(_, frame)| frame)?;
        let (packed, places) = &mut heads[first];
        let (_, at) = places.next()?;
        let mut v = packed.unpack(at);
        v.conn = number;
        Some(v)
    })
}

/// The shard of `segment`'s connection, of `shards`: a hash of its two
/// endpoints that does not depend on their order, so that both directions
/// meet.
fn shard_of(segment: &Segment, shards: usize) -> usize {
    let word = |e: &Endpoint| {
        let addr = match e.addr {
            IpAddr::V4(a) => u64::from(u32::from(a)),
            IpAddr::V6(a) => {
                let a = u128::from(a);
                (a >> 64) as u64 ^ a as u64
            }
        };
        addr << 16 ^ u64::from(e.port)
    };
    let (a, b) = (word(&segment.src), word(&segment.dst));
    (FxBuildHasher.hash_one((a.min(b), a.max(b))) % shards as u64) as usize
}

/// Reads and decodes the file, and queues each TCP segment for its shard;
/// dropping the queues at the end tells the shards the capture is over.
fn read(
    r: &ShardedRun<'_>,
    queues: Vec<SyncSender<Batch>>,
    recycled: &Receiver<Batch>,
) -> Result<(), Failure> {
    let mut source = FileSource::open(r.path).map_err(Failure::Input)?;
    let mut filter = BpfFilter::new(r.filter);
    let mut warner = Warner::default();
    let with_payloads = !r.plugins.is_empty();
    let mut batches: Vec<Batch> = queues.iter().map(|_| Batch::default()).collect();
    let limit = r.count.unwrap_or(u64::MAX);
    let mut seen = 0u64;
    let mut clock_ns = 0u64;
    let mut each = |packet: Packet<'_>| {
        if let Some(f) = filter.as_mut() {
            match f.matches(packet.link_type, packet.data, packet.orig_len) {
                Ok(true) => {}
                Ok(false) => return ControlFlow::Continue(()),
                Err(msg) => return ControlFlow::Break(Stop::Usage(msg)),
            }
        }
        seen += 1;
        let decoded = frame::decode(packet.link_type, packet.data);
        match tcp_of(&decoded) {
            Ok(frame) => {
                let (segment, checksum_ok) = segment_of(frame, r.verify_checksums);
                clock_ns = clock_ns.max(packet.ts_ns);
                let shard = shard_of(&segment, queues.len());
                let batch = &mut batches[shard];
                let start = batch.payloads.len();
                if with_payloads {
                    batch.payloads.extend_from_slice(frame.tcp.payload());
                }
                batch.steps.push(Step {
                    frame: packet.frame,
                    ts_ns: packet.ts_ns,
                    clock_ns,
                    segment,
                    checksum_ok,
                    payload: start..batch.payloads.len(),
                });
                if batch.steps.len() == BATCH_LEN {
                    let full = std::mem::replace(batch, recycled.try_recv().unwrap_or_default());
                    if queues[shard].send(full).is_err() {
                        // The shard has stopped: its join reports why.
                        return ControlFlow::Break(Stop::ShardGone);
                    }
                }
            }
            Err(skipped) => warner.skipped(&packet, &skipped),
        }
        if seen >= limit {
            ControlFlow::Break(Stop::Count)
        } else {
            ControlFlow::Continue(())
        }
    };
    // `-c 0` reads nothing.
    let read = match limit {
        0 => Ok(ControlFlow::Continue(())),
        _ => source.for_each_record(&mut each),
    };
    let result = match read {
        Ok(ControlFlow::Break(Stop::Usage(msg))) => return Err(Failure::Usage(msg)),
        Ok(_) => Ok(()),
        Err(msg) => Err(Failure::Input(msg)),
    };
    for (queue, batch) in queues.iter().zip(batches) {
        if !batch.steps.is_empty() {
            let _ = queue.send(batch);
        }
    }
    result
}

/// Why the reader stopped before the end of the input.
enum Stop {
    /// The count of records was reached.
    Count,
    /// A shard stopped taking batches.
    ShardGone,
    /// The filter could not be used (exit 2).
    Usage(String),
}

/// Tracks the connections of shard `index` from the batches it is handed;
/// what is shown of them.
fn track(
    r: &ShardedRun<'_>,
    index: usize,
    batches: Receiver<Batch>,
    recycle: Sender<Batch>,
) -> Result<Kept, Failure> {
    let mut tracker = Tracker::new(r.tracker);
    let mut plugins = if index == 0 {
        load_plugins(&r.plugins)
    } else {
        // Shard 0 has warned about any plugin refused.
        let mut host = PluginHost::new();
        for path in &r.plugins {
            let _ = host.load(path);
        }
        host
    };
    let mut kept = Kept::new(r.format);
    for mut batch in batches {
        for step in &batch.steps {
            tracker.advance(step.clock_ns);
            let annotation =
                tracker.observe(step.frame, step.ts_ns, &step.segment, step.checksum_ok);
            let payload = &batch.payloads[step.payload.clone()];
            plugins.observe_parts(&annotation, step.segment.src, step.segment.dst, payload);
            for (mut v, _) in tracker.drain_ended() {
                v.labels = plugins.close(v.conn);
                kept.push(v);
            }
        }
        batch.steps.clear();
        batch.payloads.clear();
        let _ = recycle.send(batch);
    }
    for (mut v, _) in tracker.finishing() {
        v.labels = plugins.close(v.conn);
        kept.push(v);
    }
    kept.order();
    Ok(kept)
}
