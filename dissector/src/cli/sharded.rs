//! `synack conns --threads N`: the connections of one capture file tracked on
//! N threads. Each thread reads the whole file (reading is cheap next to
//! tracking, and nothing is copied between threads) and tracks only the
//! connections of its shard; the verdicts are then numbered in order of their
//! first frame, which is the numbering one thread gives.

use std::io::{self, BufWriter, Write};
use std::thread;

use crate::format::{json, table};
use crate::pipeline::{Outcome, Pipeline};
use crate::tracker::TrackerConfig;
use crate::verdict::Verdict;

use super::args::ConnsFormat;
use super::filter::BpfFilter;
use super::run::{load_plugins, Failure, Warner};
use super::source::{FileSource, Next, Source};

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

/// Runs the shards and prints every verdict in connection order.
pub fn run(r: &ShardedRun<'_>) -> Result<(), Failure> {
    let results: Vec<Result<Vec<Verdict>, Failure>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..r.threads)
            .map(|index| scope.spawn(move || shard(r, index)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Failure::Input("a shard thread panicked".into())))
            })
            .collect()
    });
    let mut verdicts = Vec::new();
    let mut failure = None;
    for result in results {
        match result {
            Ok(v) => verdicts.extend(v),
            Err(f) => {
                failure.get_or_insert(f);
            }
        }
    }
    verdicts.sort_by_key(|v| v.first_frame);
    for (number, v) in verdicts.iter_mut().enumerate() {
        v.conn = number as u64;
    }
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    match r.format {
        ConnsFormat::Table => table::write_table(&mut out, &verdicts)?,
        ConnsFormat::Json => {
            for v in &verdicts {
                json::write_verdict(&mut out, v)?;
            }
        }
    }
    out.flush()?;
    failure.map_or(Ok(()), Err)
}

/// Reads the file and tracks shard `index`; only shard 0 warns about frames.
fn shard(r: &ShardedRun<'_>, index: u64) -> Result<Vec<Verdict>, Failure> {
    let mut source = FileSource::open(r.path).map_err(Failure::Input)?;
    let mut filter = BpfFilter::new(r.filter);
    let mut pipeline = Pipeline::sharded(r.tracker, r.verify_checksums, index, r.threads);
    let mut warner = Warner::default();
    let mut plugins = if index == 0 {
        load_plugins(&r.plugins)
    } else {
        // Shard 0 has warned about any plugin refused.
        let mut host = crate::plugin_host::PluginHost::new();
        for path in &r.plugins {
            let _ = host.load(path);
        }
        host
    };
    let mut verdicts: Vec<Verdict> = Vec::new();
    let mut seen = 0u64;
    let mut failure = None;
    while r.count.is_none_or(|c| seen < c) {
        let packet = match source.next_record() {
            Next::Packet(p) => p,
            Next::Idle => continue,
            Next::End => break,
            Next::Failed(msg) => {
                failure = Some(Failure::Input(msg));
                break;
            }
        };
        if let Some(f) = filter.as_mut() {
            if !f
                .matches(packet.link_type, packet.data, packet.orig_len)
                .map_err(Failure::Usage)?
            {
                continue;
            }
        }
        seen += 1;
        let outcome = pipeline.process(&packet);
        if index == 0 {
            warner.outcome(&packet, &outcome);
        }
        if let Outcome::Tcp { frame, annotation } = &outcome {
            plugins.observe(annotation, frame);
        }
        for (mut v, _) in pipeline.tracker().drain_ended() {
            v.labels = plugins.close(v.conn);
            verdicts.push(v);
        }
    }
    for (mut v, _) in pipeline.tracker().finish() {
        v.labels = plugins.close(v.conn);
        verdicts.push(v);
    }
    match failure {
        // Every shard meets the same damage: shard 0 reports it.
        Some(f) if index == 0 => Err(f),
        _ => Ok(verdicts),
    }
}
