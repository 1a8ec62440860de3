//! The command line, parsed with clap.

use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::format::tcpdump::{TcpdumpOptions, TimestampStyle};
use crate::tracker::TrackerConfig;

const ABOUT: &str = "TCP connection dissector: each packet's role in its connection's \
handshake and teardown, both endpoints' RFC 9293 states, and a verdict per connection";

const LONG_ABOUT: &str = "\
TCP connection dissector: each packet's role in its connection's handshake \
and teardown, both endpoints' RFC 9293 states, and a verdict per connection.

Input is a pcap or pcapng file (gzip-compressed or not), '-' for standard \
input (e.g. `tcpdump -w - | synack -`), or a live interface (-i). A trailing \
BPF filter expression selects records as tcpdump's does.

Packet formats (--format):
  text     (default) tcpdump's line, then a continuation line indented two
           spaces: connection number, direction (c2s/s2c), in brackets the
           role ('handshake 1/3' .. 'teardown 4/4', 'reset: KIND', '+' each
           other role the packet also fills, 'SYN retransmission'), both
           endpoints' states ('?' when unknown), then 'warnings:' and codes.
  tcpdump  only what tcpdump 4.99.3 prints with -n: the TCP line, and for
           HTTP and SSH payloads the text tcpdump's printers add.
  json     one JSON object per TCP packet (JSON Lines), JSON schema version 1
           (docs/json-schema.md; print the version with --schema-version).

Frames that cannot be decoded down to TCP are reported on standard error \
('synack: warning: frame N: ...') and processing goes on; in json format \
nothing is written for them on standard output. Times are printed in UTC.

Exit status: 0 when the input was read to its end (malformed packets are \
only warnings), 1 when it could not be read (the message names the byte \
offset), 2 for a usage error.";

const EXAMPLES: &str = "\
Examples:
  synack capture.pcap                         roles and states of every TCP packet
  synack -r capture.pcap tcp port 80          only port 80 (BPF filter, as tcpdump)
  synack --format json capture.pcapng.gz      JSON Lines, one object per packet
  synack --format tcpdump -tt -S capture.pcap tcpdump's lines only
  synack conns capture.pcap                   one row per connection
  synack conns --format json capture.pcap     one JSON object per connection
  tcpdump -i eth0 -w - | synack -             read from standard input
  synack -i eth0 -c 100 tcp port 443          live capture (connections table on exit)
  synack completions bash > /etc/bash_completion.d/synack";

const CONNS_LONG_ABOUT: &str = "\
Print one verdict per connection, ordered by connection number. A \
connection's verdict is given when it ends (closed and past --time-wait, idle \
past --idle-timeout, evicted past --max-connections, or its ports reused) or \
when the capture ends (or Ctrl-C stops a live capture).

Table columns: CONN number; CLIENT and SERVER endpoints; OPEN (three-way, \
simultaneous, fast-open, midstream, incomplete); CLOSE (fin, simultaneous, \
half-open, reset, none); CLOSER, who sent the first FIN; SYN>SA and SA>ACK, \
the handshake's round trips in ms; PKTS and BYTES (payload) client>server / \
server>client; DURATION in seconds; Zeek's conn_state (STATE) and HISTORY.

--format json writes one object per connection (JSON schema version 1, \
docs/json-schema.md).";

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "synack",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    override_usage = "synack [OPTIONS] [FILE|-] [FILTER]...\n       \
                      synack [OPTIONS] -r FILE [FILTER]...\n       \
                      synack [OPTIONS] -i IFACE [FILTER]...\n       \
                      synack conns [OPTIONS] [FILE|-] [FILTER]...\n       \
                      synack completions SHELL"
)]
pub struct Cli {
    /// What to do (default: packets).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The `packets` options, given without the subcommand's name.
    #[command(flatten)]
    pub packets: PacketsArgs,

    /// Print the version of the JSON output schema and exit.
    #[arg(long)]
    pub schema_version: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every TCP packet with its role and both endpoints' states (the default).
    #[command(long_about = LONG_ABOUT, after_help = EXAMPLES)]
    Packets(PacketsArgs),
    /// Print one verdict per connection, ordered by connection number.
    #[command(long_about = CONNS_LONG_ABOUT, after_help = "\
Examples:
  synack conns capture.pcap
  synack conns --format json capture.pcap | jq 'select(.close == \"reset\")'
  synack conns -r capture.pcap host 10.0.0.1
  synack conns -i eth0 tcp port 443         (verdicts printed on Ctrl-C)")]
    Conns(ConnsArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Where packets come from, and which.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Read packets from FILE ('-' for standard input), as tcpdump's -r;
    /// every word after the options is then part of the filter.
    #[arg(short = 'r', value_name = "FILE", conflicts_with = "interface")]
    pub read: Option<String>,

    /// Capture live on IFACE (needs the privileges tcpdump needs). Ctrl-C (or
    /// -c) stops; `packets` then writes the connections table and capture
    /// statistics to standard error, `conns` its verdicts to standard output.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,

    /// Stop after COUNT records that pass the filter.
    #[arg(short = 'c', value_name = "COUNT")]
    pub count: Option<u64>,

    /// FILE (or '-') unless -r or -i is given, then a BPF filter expression
    /// (tcpdump's syntax), e.g. `tcp port 80 and host 10.0.0.1`.
    #[arg(value_name = "FILE|- FILTER", allow_hyphen_values = false)]
    pub rest: Vec<String>,

    /// Verify TCP checksums (a bad one is the warning `bad-checksum`).
    #[arg(long)]
    pub verify_checksums: bool,

    /// A connection with no packet for SECS seconds ends.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = parse_secs)]
    pub idle_timeout: Duration,

    /// A closed connection ends SECS seconds after its last packet (Zeek's
    /// tcp_close_delay; Linux's TIME-WAIT is 60).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_secs)]
    pub time_wait: Duration,

    /// The most connections tracked at once; past it a closed connection
    /// ends, or when none is closed, the longest idle one.
    #[arg(long, value_name = "N", default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,

    /// Load a run-time plugin (a shared object exporting
    /// `synack_plugin_descriptor_v1`, see docs/capi.md); repeatable. Every
    /// `*.so` in the folder named by SYNACK_PLUGIN_DIR is loaded too. Its
    /// labels appear in `conns` (json and table) and in the text format when
    /// a connection ends. A plugin that is refused is a warning.
    #[arg(long = "plugin", value_name = "PATH")]
    pub plugins: Vec<std::path::PathBuf>,
}

/// `synack packets` (and `synack` alone).
#[derive(Debug, Args, Clone)]
pub struct PacketsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = PacketFormat::Text)]
    pub format: PacketFormat,

    /// tcpdump's -v: the IP header's fields (text and tcpdump formats).
    #[arg(short = 'v', action = ArgAction::Count)]
    pub verbose: u8,

    /// tcpdump's timestamps: -t none, -tt epoch seconds, -ttt delta from the
    /// previous packet, -tttt date and time, -ttttt since the first packet.
    #[arg(short = 't', action = ArgAction::Count)]
    pub t: u8,

    /// tcpdump's -S: absolute sequence numbers.
    #[arg(short = 'S')]
    pub absolute_seq: bool,

    /// tcpdump's -#: the packet's number first on each line (as tcpdump
    /// numbers them: counting the packets that pass the filter).
    #[arg(short = '#', long = "number")]
    pub number: bool,

    /// tcpdump's -n: accepted and ignored (synack never resolves names).
    #[arg(short = 'n', action = ArgAction::Count)]
    pub numeric: u8,

    /// tcpdump's -l: flush standard output after every packet (always done
    /// for standard input and live captures).
    #[arg(short = 'l')]
    pub line_buffered: bool,

    #[command(flatten)]
    pub input: InputArgs,
}

/// `synack conns`.
#[derive(Debug, Args, Clone)]
pub struct ConnsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ConnsFormat::Table)]
    pub format: ConnsFormat,

    /// tcpdump's -n: accepted and ignored (synack never resolves names).
    #[arg(short = 'n', action = ArgAction::Count)]
    pub numeric: u8,

    /// Track connections on N threads (a capture file only): this thread
    /// reads and decodes the file, and hands each packet to the thread that
    /// tracks the connections whose flow key hashes to it.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,

    #[command(flatten)]
    pub input: InputArgs,
}

/// Formats of `synack packets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PacketFormat {
    /// tcpdump's line and a line with the role and states.
    Text,
    /// tcpdump's line only.
    Tcpdump,
    /// JSON Lines, one object per TCP packet.
    Json,
}

/// Formats of `synack conns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConnsFormat {
    /// Aligned columns.
    Table,
    /// JSON Lines, one object per connection.
    Json,
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("'{s}' is not a duration in seconds"))
}

/// Where the packets come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A capture file.
    File(String),
    /// Standard input (`-`).
    Stdin,
    /// A live interface.
    Live(String),
}

impl InputArgs {
    /// The input and the filter expression (empty: none), or a usage error.
    pub fn split(&self) -> Result<(Input, String), String> {
        let (input, filter) = if let Some(iface) = &self.interface {
            (Input::Live(iface.clone()), &self.rest[..])
        } else if let Some(file) = &self.read {
            (file_input(file), &self.rest[..])
        } else if let Some((file, filter)) = self.rest.split_first() {
            (file_input(file), filter)
        } else {
            return Err("no input: give a capture FILE, '-' for standard input, \
                        -r FILE or -i IFACE"
                .to_string());
        };
        Ok((input, filter.join(" ")))
    }

    /// The plugins to load: `--plugin` paths, then the `*.so` files of
    /// SYNACK_PLUGIN_DIR in name order.
    pub fn plugin_paths(&self) -> Vec<std::path::PathBuf> {
        let mut paths = self.plugins.clone();
        if let Some(dir) = std::env::var_os("SYNACK_PLUGIN_DIR") {
            let mut found: Vec<_> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "so"))
                .collect();
            found.sort();
            paths.extend(found);
        }
        paths
    }

    /// The tracker's limits.
    pub fn tracker_config(&self) -> TrackerConfig {
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        TrackerConfig {
            idle_timeout_ns: ns(self.idle_timeout),
            time_wait_ns: ns(self.time_wait),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            ..TrackerConfig::default()
        }
    }
}

fn file_input(name: &str) -> Input {
    if name == "-" {
        Input::Stdin
    } else {
        Input::File(name.to_string())
    }
}

impl PacketsArgs {
    /// The tcpdump printer's options, or a usage error (too many `-t`).
    pub fn tcpdump_options(&self) -> Result<TcpdumpOptions, String> {
        let timestamps = TimestampStyle::from_t_count(usize::from(self.t))
            .ok_or_else(|| "only -t, -tt, -ttt, -tttt and -ttttt are supported".to_string())?;
        Ok(TcpdumpOptions {
            verbose: self.verbose,
            timestamps,
            absolute_seq: self.absolute_seq,
            frame_numbers: self.number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("synack").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn packets_is_the_default() {
        let cli = parse(&["f.pcap", "tcp", "port", "80"]).unwrap();
        assert!(cli.command.is_none());
        let (input, filter) = cli.packets.input.split().unwrap();
        assert_eq!(input, Input::File("f.pcap".into()));
        assert_eq!(filter, "tcp port 80");
        let cli = parse(&["-r", "f.pcap", "tcp", "port", "80"]).unwrap();
        assert_eq!(
            cli.packets.input.split().unwrap(),
            (Input::File("f.pcap".into()), "tcp port 80".into())
        );
        let cli = parse(&["-"]).unwrap();
        assert_eq!(cli.packets.input.split().unwrap().0, Input::Stdin);
    }

    #[test]
    fn tcpdump_flags_count() {
        let cli = parse(&["-ttt", "-vv", "-S", "-#", "-nn", "f"]).unwrap();
        let o = cli.packets.tcpdump_options().unwrap();
        assert_eq!(o.timestamps, TimestampStyle::Delta);
        assert_eq!(o.verbose, 2);
        assert!(o.absolute_seq && o.frame_numbers);
        let cli = parse(&["-t", "-t", "f"]).unwrap();
        assert_eq!(
            cli.packets.tcpdump_options().unwrap().timestamps,
            TimestampStyle::Epoch
        );
        let cli = parse(&["-tttttt", "f"]).unwrap();
        assert!(cli.packets.tcpdump_options().is_err());
    }

    #[test]
    fn subcommands() {
        let cli = parse(&["conns", "--format", "json", "f.pcap"]).unwrap();
        let Some(Command::Conns(c)) = cli.command else {
            panic!("conns");
        };
        assert_eq!(c.format, ConnsFormat::Json);
        assert_eq!(c.input.split().unwrap().0, Input::File("f.pcap".into()));
        let cli = parse(&["packets", "--format", "json", "-i", "lo", "tcp"]).unwrap();
        let Some(Command::Packets(p)) = cli.command else {
            panic!("packets");
        };
        assert_eq!(
            p.input.split().unwrap(),
            (Input::Live("lo".into()), "tcp".into())
        );
        assert!(parse(&["completions", "bash"]).is_ok());
        assert!(parse(&["--format", "xml", "f"]).is_err());
        assert!(parse(&["-r", "a", "-i", "lo"]).is_err());
    }

    #[test]
    fn tracker_limits() {
        let cli = parse(&[
            "--idle-timeout",
            "1.5",
            "--time-wait",
            "2",
            "--max-connections",
            "9",
            "f",
        ])
        .unwrap();
        let c = cli.packets.input.tracker_config();
        assert_eq!(c.idle_timeout_ns, 1_500_000_000);
        assert_eq!(c.time_wait_ns, 2_000_000_000);
        assert_eq!(c.max_connections, 9);
        assert!(parse(&["--max-connections", "0", "f"]).is_err());
        assert!(parse(&["--idle-timeout", "-1", "f"]).is_err());
    }
}
