//! The `synack` command: argument parsing ([`args`]), record sources
//! ([`source`], [`live`]), BPF filtering ([`filter`]) and the packet loop
//! ([`run`]). The binary only calls [`main`].
//!
//! Exit status: 0 when the input was read to its end (malformed packets are
//! warnings), 1 when it could not be read (a file truncated while it is read
//! included, [`bus_error`]), 2 for a usage error. A closed standard output
//! (`synack f.pcap | head`) ends the run quietly.

pub mod args;
pub mod bus_error;
pub mod filter;
pub mod live;
pub mod run;
pub mod sharded;
pub mod source;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use args::{Cli, Command, Input, InputArgs};
use filter::BpfFilter;
use run::{Failure, Mode, Settings};
use source::{FileSource, RunSource};

const EXIT_INPUT: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// Runs the command line of this process and says how it ended.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version exit 0; usage errors exit 2 (clap's code).
        Err(e) => e.exit(),
    };
    bus_error::catch();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            error(&format!("writing standard output: {e}"));
            ExitCode::from(EXIT_INPUT)
        }
        Err(Failure::Input(msg)) => {
            error(&msg);
            ExitCode::from(EXIT_INPUT)
        }
        Err(Failure::Usage(msg)) => {
            error(&msg);
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn error(msg: &str) {
    let _ = writeln!(io::stderr().lock(), "synack: {msg}");
}

fn execute(cli: Cli) -> Result<(), Failure> {
    if cli.schema_version {
        writeln!(
            io::stdout().lock(),
            "{}",
            crate::format::json::SCHEMA_VERSION
        )?;
        return Ok(());
    }
    let (mode, input, flush) = match cli.command {
        Some(Command::Completions { shell }) => {
            let mut out = io::stdout().lock();
            clap_complete::generate(shell, &mut Cli::command(), "synack", &mut out);
            out.flush()?;
            return Ok(());
        }
        Some(Command::Conns(c)) if c.threads > 1 => return run_sharded(&c),
        Some(Command::Conns(c)) => (Mode::Conns(c.format), c.input, false),
        Some(Command::Packets(p)) => packets_mode(p)?,
        None => packets_mode(cli.packets)?,
    };
    run_input(mode, &input, flush)
}

fn packets_mode(p: args::PacketsArgs) -> Result<(Mode, InputArgs, bool), Failure> {
    let tcpdump = p.tcpdump_options().map_err(Failure::Usage)?;
    Ok((
        Mode::Packets {
            format: p.format,
            tcpdump,
        },
        p.input,
        p.line_buffered,
    ))
}

fn run_input(mode: Mode, input: &InputArgs, flush_each: bool) -> Result<(), Failure> {
    let (source_name, expr) = input.split().map_err(Failure::Usage)?;
    let mut settings = Settings {
        mode,
        tracker: input.tracker_config(),
        verify_checksums: input.verify_checksums,
        filter: None,
        count: input.count,
        flush_each,
        plugins: run::load_plugins(&input.plugin_paths()),
    };
    let mut source = match source_name {
        Input::Live(iface) => {
            RunSource::Live(live::LiveSource::open(&iface, &expr).map_err(Failure::Input)?)
        }
        Input::File(path) => {
            settings.filter = checked_filter(&expr)?;
            RunSource::File(FileSource::open(&path).map_err(Failure::Input)?)
        }
        Input::Stdin => {
            settings.filter = checked_filter(&expr)?;
            RunSource::File(FileSource::stdin().map_err(Failure::Input)?)
        }
    };
    run::run(&mut source, settings)
}

/// `synack conns --threads N` on a capture file.
fn run_sharded(c: &args::ConnsArgs) -> Result<(), Failure> {
    let (source_name, expr) = c.input.split().map_err(Failure::Usage)?;
    let Input::File(path) = source_name else {
        return Err(Failure::Usage(
            "--threads needs a capture file (not standard input or a live interface)".into(),
        ));
    };
    checked_filter(&expr)?;
    sharded::run(&sharded::ShardedRun {
        path: &path,
        filter: &expr,
        tracker: c.input.tracker_config(),
        verify_checksums: c.input.verify_checksums,
        count: c.input.count,
        threads: c.threads,
        format: c.format,
        plugins: c.input.plugin_paths(),
    })
}

/// The filter for `expr`, compiled once for Ethernet to report a syntax
/// error before reading (it is compiled for each link type the capture has).
fn checked_filter(expr: &str) -> Result<Option<BpfFilter>, Failure> {
    let Some(mut probe) = BpfFilter::new(expr) else {
        return Ok(None);
    };
    probe
        .check(synack_core::capture::LinkType(1))
        .map_err(Failure::Usage)?;
    Ok(Some(probe))
}
