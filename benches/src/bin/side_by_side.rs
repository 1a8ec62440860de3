//! The side-by-side runner: builds a large capture of real-traffic shape (the
//! fixture captures replayed with their own addresses and ports, see
//! `synack_benches::corpus`), then runs synack, tcpdump, tshark and the
//! record-header walk on that same file, alternating, N times, and reports the
//! median wall time, packets per second, ratios and peak memory.
//!
//! `scripts/side-by-side.sh` builds everything in release mode and runs this
//! with `--report BENCHMARKS.md`; see BENCHMARKS.md.

use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use synack_benches::corpus::{self, ReplayConfig};
use synack_benches::pcap::walk_records;
use synack_benches::side_by_side::{self as sbs, Context, Tool, ToolResult};

/// Compare synack with tcpdump and tshark on one large capture.
#[derive(Debug, Parser)]
#[command(name = "side_by_side")]
struct Args {
    /// The capture has at least this many packets.
    #[arg(long, default_value_t = 1_000_000)]
    packets: u64,
    /// ... and at least this many bytes (suffixes k, M, G, Ki, Mi, Gi; 0: no minimum).
    #[arg(long, default_value = "1G", value_parser = sbs::parse_size)]
    bytes: u64,
    /// A new replayed session starts every this many microseconds.
    #[arg(long, default_value_t = 1_000)]
    interval_us: u64,
    /// Runs of each command (alternating).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Use this capture (legacy pcap) instead of writing one.
    #[arg(long, value_name = "PCAP")]
    capture: Option<PathBuf>,
    /// Where to write the capture (default: a new directory under the system's temp dir).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Keep the written capture (it is deleted at the end otherwise).
    #[arg(long)]
    keep: bool,
    /// Only the commands named (comma-separated: record-walk, synack-conns,
    /// synack-conns-t2, synack-tcpdump, synack-json, tcpdump, tshark-conv,
    /// tshark-fields).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Write the table into this Markdown file, between the side-by-side markers.
    #[arg(long, value_name = "FILE", overrides_with = "report")]
    report: Option<PathBuf>,
    /// Write no report file (only standard output).
    #[arg(long)]
    no_report: bool,
    /// A line put above the table, e.g. "preliminary, measured on a loaded machine".
    #[arg(long)]
    note: Option<String>,
    /// The synack binary (default: next to this one).
    #[arg(long, value_name = "PATH")]
    synack: Option<PathBuf>,
    /// The record-walk binary (default: pcap_walk next to this one).
    #[arg(long, value_name = "PATH")]
    walker: Option<PathBuf>,
    /// The fixture captures to replay (default: the workspace's fixtures/captures).
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
}

/// A program on the PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A binary next to this one.
fn sibling(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.join(name);
    p.is_file().then_some(p)
}

fn fail(msg: impl std::fmt::Display) -> io::Error {
    io::Error::other(msg.to_string())
}

/// Reads the whole file once, so that every command finds it in the page cache.
fn warm(path: &Path) -> io::Result<u64> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        match f.read(&mut buf)? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

fn run(args: Args) -> io::Result<()> {
    if !Path::new(sbs::GNU_TIME).is_file() {
        return Err(fail(format!(
            "{} not found: install the Debian package `time` (apt-get install time)",
            sbs::GNU_TIME
        )));
    }
    let synack = args
        .synack
        .clone()
        .or_else(|| sibling("synack"))
        .ok_or_else(|| fail("no synack binary next to this one: cargo build --release -p synack-dissector, or --synack PATH"))?;
    let walker = args
        .walker
        .clone()
        .or_else(|| sibling("pcap_walk"))
        .ok_or_else(|| fail("no pcap_walk binary next to this one: cargo build --release -p synack-benches, or --walker PATH"))?;
    let tcpdump = which("tcpdump");
    let tshark = which("tshark");

    // The capture.
    let mut made: Option<PathBuf> = None;
    let (file, how) = match &args.capture {
        Some(path) => (path.clone(), format!("given: {}", path.display())),
        None => {
            let dir = match &args.dir {
                Some(d) => d.clone(),
                None => {
                    std::env::temp_dir().join(format!("synack-side-by-side-{}", std::process::id()))
                }
            };
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("replay.pcap");
            let fixtures = args.fixtures.clone().unwrap_or_else(corpus::fixtures_dir);
            let captures = corpus::load_captures(&fixtures)?;
            let config = ReplayConfig {
                min_packets: args.packets,
                min_bytes: args.bytes,
                interval_ns: args.interval_us.saturating_mul(1_000),
                ..ReplayConfig::default()
            };
            eprintln!(
                "writing {} (at least {} packets and {} bytes)...",
                path.display(),
                args.packets,
                args.bytes
            );
            let started = std::time::Instant::now();
            let out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
            let stats = corpus::write_replay(&captures, &config, out)?;
            eprintln!(
                "  {} packets, {} bytes, {} sessions in {:.1} s",
                stats.packets,
                stats.bytes,
                stats.sessions,
                started.elapsed().as_secs_f64()
            );
            made = Some(path.clone());
            let how = format!(
                "the {} fixture captures' Ethernet records replayed as {} sessions, one every {} µs, \
                 with rewritten addresses and ports",
                captures.len(),
                stats.sessions,
                args.interval_us
            );
            (path, how)
        }
    };
    let result = measure(
        &args,
        &file,
        &how,
        &synack,
        &walker,
        tcpdump.as_deref(),
        tshark.as_deref(),
    );
    if let Some(path) = made {
        if args.keep {
            eprintln!("kept {}", path.display());
        } else {
            std::fs::remove_file(&path)?;
            if args.dir.is_none() {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::remove_dir(dir);
                }
            }
        }
    }
    result
}

fn measure(
    args: &Args,
    file: &Path,
    how: &str,
    synack: &Path,
    walker: &Path,
    tcpdump: Option<&Path>,
    tshark: Option<&Path>,
) -> io::Result<()> {
    let summary = walk_records(&mut io::BufReader::with_capacity(
        1 << 20,
        File::open(file)?,
    ))
    .map_err(|e| fail(format!("{}: {e}", file.display())))?;
    let bytes = warm(file)?;
    let missing = Path::new("/nonexistent");
    let mut tools: Vec<Tool> = sbs::tools(
        synack,
        walker,
        tcpdump.unwrap_or(missing),
        tshark.unwrap_or(missing),
        file,
    );
    for (name, found) in [("tcpdump", tcpdump.is_some()), ("tshark", tshark.is_some())] {
        if !found {
            eprintln!("{name} is not on the PATH: its rows are left out");
            tools.retain(|t| !t.name.starts_with(name));
        }
    }
    if !args.only.is_empty() {
        tools.retain(|t| args.only.iter().any(|o| o == t.name));
        if tools.is_empty() {
            return Err(fail("--only names no command"));
        }
    }
    let scratch = std::env::temp_dir().join(format!(
        "synack-side-by-side-scratch-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&scratch)?;
    let load_before = sbs::load_average();
    let mut results: Vec<ToolResult> = tools
        .iter()
        .map(|t| ToolResult {
            tool: t.clone(),
            runs: Vec::new(),
        })
        .collect();
    let runs = args.runs as usize;
    for run in 0..runs {
        // Alternate, and start each round at a different command.
        for k in 0..results.len() {
            let i = (k + run) % results.len();
            let m = sbs::run_once(&results[i].tool, &scratch)?;
            eprintln!(
                "run {}/{} {:<15} {:>9.3} s {:>9.1} MiB",
                run + 1,
                runs,
                results[i].tool.name,
                m.wall.as_secs_f64(),
                m.max_rss_kib as f64 / 1024.0
            );
            results[i].runs.push(m);
        }
    }
    let find = |name: &str| tools.iter().find(|t| t.name == name);
    let tcpdump_lines = match (find("synack-tcpdump"), find("tcpdump")) {
        (Some(ours), Some(theirs)) => Some(sbs::compare_outputs(ours, theirs, &scratch)?),
        _ => None,
    };
    let _ = std::fs::remove_dir_all(&scratch);
    let mut versions = Vec::new();
    if let Some(v) = sbs::version_line(synack, &["--version"]) {
        versions.push(v);
    }
    if let Some(v) = tcpdump.and_then(|p| sbs::version_line(p, &["--version"])) {
        versions.push(v);
    }
    if let Some(v) = tshark.and_then(|p| sbs::version_line(p, &["--version"])) {
        versions.push(v);
    }
    let ctx = Context {
        note: args.note.clone(),
        date: sbs::utc_now(),
        machine: sbs::machine(),
        load: (load_before, sbs::load_average()),
        versions,
        packets: summary.packets,
        bytes,
        capture: how.to_string(),
        runs,
        tcpdump_lines,
    };
    let section = sbs::render(&ctx, &results, file);
    println!("{section}");
    if let (Some(path), false) = (&args.report, args.no_report) {
        let doc = match std::fs::read_to_string(path) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        std::fs::write(path, sbs::splice(&doc, &section))?;
        eprintln!("wrote the table into {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("side_by_side: {e}");
            ExitCode::FAILURE
        }
    }
}
