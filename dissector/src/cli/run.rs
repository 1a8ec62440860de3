//! The packet loop: records from a source, through the BPF filter and the
//! pipeline, to the chosen output.

use std::collections::VecDeque;
use std::io::{self, BufWriter, StdoutLock, Write};
use std::ops::ControlFlow;

use synack_core::capture::{LinkType, Packet};
use synack_core::frame::{self, Layer};

use crate::format::table::Table;
use crate::format::tcpdump::{TcpdumpOptions, TcpdumpPrinter};
use crate::format::{json, text};
use crate::pipeline::{Pipeline, Skipped, Tracked};
use crate::plugin_host::PluginHost;
use crate::tracker::TrackerConfig;
use crate::verdict::{Packed, PackedVerdicts, Verdict};

use super::args::{ConnsFormat, PacketFormat};
use super::filter::BpfFilter;
use super::live::LiveSource;
use super::source::{FileSource, Next, RunSource};

/// Why a run stopped early.
#[derive(Debug)]
pub enum Failure {
    /// The input could not be read to its end (exit 1).
    Input(String),
    /// A usage problem found late, e.g. a filter that does not compile (exit 2).
    Usage(String),
    /// Writing standard output failed (a closed pipe ends the run quietly).
    Output(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Output(e)
    }
}

/// What to print.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Every TCP packet.
    Packets {
        /// The format.
        format: PacketFormat,
        /// The tcpdump line's options.
        tcpdump: TcpdumpOptions,
    },
    /// Every connection's verdict.
    Conns(ConnsFormat),
}

/// Everything a run needs besides its source.
#[derive(Debug)]
pub struct Settings {
    /// What to print.
    pub mode: Mode,
    /// The tracker's limits.
    pub tracker: TrackerConfig,
    /// Verify TCP checksums.
    pub verify_checksums: bool,
    /// Filter records (files and standard input; a live capture filters in the kernel).
    pub filter: Option<BpfFilter>,
    /// Stop after this many records that pass the filter.
    pub count: Option<u64>,
    /// Flush standard output after every packet.
    pub flush_each: bool,
    /// Run-time plugins that label connections.
    pub plugins: PluginHost,
}

/// Loads `paths` into a plugin host; a plugin that is refused is a warning
/// and the run goes on without it.
pub fn load_plugins(paths: &[std::path::PathBuf]) -> PluginHost {
    let mut host = PluginHost::new();
    for path in paths {
        if let Err(e) = host.load(path) {
            Warner::warn(format_args!("{e}; going on without it"));
        }
    }
    host
}

/// Verdicts kept until they can be printed in connection order. One long
/// connection holds back every later one (a whole capture's worth may
/// wait), so those that wait are packed.
#[derive(Debug, Default)]
struct ConnOrder {
    /// Where the ended connections not yet printed are, from number `next`
    /// on (`None` for those still open).
    waiting: VecDeque<Option<Packed>>,
    /// Their verdicts.
    packed: PackedVerdicts,
    /// The next connection number to print.
    next: u64,
}

impl ConnOrder {
    /// Takes `v` in; the verdicts that can be printed now, in order: `v`
    /// (unpacked, if it is next) and those that waited behind it.
    fn push(&mut self, v: Verdict) -> impl Iterator<Item = Verdict> + '_ {
        let ahead = v
            .conn
            .checked_sub(self.next)
            .expect("a connection ends once");
        let now = match usize::try_from(ahead).expect("waiting verdicts fit in memory") {
            0 => {
                self.waiting.pop_front();
                self.next += 1;
                Some(v)
            }
            ahead => {
                if self.waiting.len() <= ahead {
                    self.waiting.resize_with(ahead + 1, || None);
                }
                self.waiting[ahead] = Some(self.packed.pack(v));
                None
            }
        };
        now.into_iter().chain(std::iter::from_fn(move || {
            let at = self.waiting.front_mut()?.take()?;
            self.waiting.pop_front();
            self.next += 1;
            Some(self.packed.unpack(at))
        }))
    }
}

/// Writes warnings for frames synack cannot read, once per kind where they repeat.
#[derive(Debug, Default)]
pub(super) struct Warner {
    unsupported_links: Vec<LinkType>,
}

impl Warner {
    pub(super) fn warn(msg: std::fmt::Arguments<'_>) {
        let _ = writeln!(io::stderr().lock(), "synack: warning: {msg}");
    }

    /// Warns about a record skipped because it could not be read.
    #[inline]
    pub(super) fn skipped(&mut self, packet: &Packet<'_>, skipped: &Skipped) {
        if matches!(skipped, Skipped::Malformed(_) | Skipped::Unsupported(_)) {
            self.unreadable(packet, skipped);
        }
    }

    #[cold]
    fn unreadable(&mut self, packet: &Packet<'_>, skipped: &Skipped) {
        match skipped {
            Skipped::Malformed(e) => Self::warn(format_args!("frame {}: {e}", packet.frame)),
            Skipped::Unsupported(synack_core::frame::Unsupported::LinkType(l))
                if !self.unsupported_links.contains(l) =>
            {
                self.unsupported_links.push(*l);
                Self::warn(format_args!(
                    "frame {}: link type {} is not supported: its packets are skipped",
                    packet.frame, l.0
                ));
            }
            _ => {}
        }
    }
}

/// One run: a pipeline and an output.
struct Runner<'o> {
    settings: Settings,
    pipeline: Pipeline,
    printer: Option<TcpdumpPrinter>,
    out: BufWriter<StdoutLock<'o>>,
    order: ConnOrder,
    /// The rows of the table, and of a live capture's closing table.
    table: Table,
    warner: Warner,
    live: bool,
    /// Records that passed the filter so far.
    seen: u64,
    /// How many may pass (the count, or no limit).
    limit: u64,
    /// Flush standard output after every packet.
    flush_each: bool,
}

impl<'o> Runner<'o> {
    /// Reads a file's records to its end or the count; the message when it
    /// could not be read to its end. A failure to filter or to write ends
    /// the run at once.
    fn read_file(&mut self, file: &mut FileSource) -> Result<Option<String>, Failure> {
        if !self.wants_more() {
            return Ok(None);
        }
        // The count is kept in the loop, not in `self`, where each record
        // would load and store it.
        let (mut seen, limit) = (self.seen, self.limit);
        let read = file.for_each_record(|packet| match self.take(&packet, &mut seen) {
            Ok(()) if seen < limit => ControlFlow::Continue(()),
            Ok(()) => ControlFlow::Break(Ok(())),
            Err(failure) => ControlFlow::Break(Err(failure)),
        });
        self.seen = seen;
        match read {
            Ok(ControlFlow::Break(Err(failure))) => Err(failure),
            Ok(_) => Ok(None),
            Err(msg) => Ok(Some(msg)),
        }
    }

    /// Reads a live capture to its end or the count, as [`Runner::read_file`]
    /// reads a file; output is flushed whenever nothing arrives for a while.
    fn read_live(&mut self, live: &mut LiveSource) -> Result<Option<String>, Failure> {
        while self.wants_more() {
            match live.next_record() {
                Next::Packet(packet) => {
                    let mut seen = self.seen;
                    let taken = self.take(&packet, &mut seen);
                    self.seen = seen;
                    taken?
                }
                Next::Idle => self.out.flush()?,
                Next::End => break,
                Next::Failed(msg) => return Ok(Some(msg)),
            }
        }
        Ok(None)
    }

    /// Whether the count lets another record in.
    fn wants_more(&self) -> bool {
        self.seen < self.limit
    }

    /// Takes in one record from the source, if it passes the filter.
    /// Always inlined, as is [`Runner::record`]: called from both loops
    /// (file and live), they would be left out of line, a call per record
    /// with the record's decode, segment and bookkeeping behind it.
    /// `seen`: the records that passed the filter so far.
    #[inline(always)]
    fn take(&mut self, packet: &Packet<'_>, seen: &mut u64) -> Result<(), Failure> {
        if let Some(filter) = self.settings.filter.as_mut() {
            match filter.matches(packet.link_type, packet.data, packet.orig_len) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(msg) => return Err(Failure::Usage(msg)),
            }
        }
        *seen += 1;
        self.record(packet, *seen)?;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Takes in one record, the `seen`th that passed the filter.
    #[inline(always)]
    fn record(&mut self, packet: &Packet<'_>, seen: u64) -> Result<(), Failure> {
        // Decoded here, so that the frame stays where `decode` left it.
        let decoded = frame::decode(packet.link_type, packet.data);
        let tracked = self.pipeline.track_decoded(packet, &decoded);
        match &tracked {
            Ok((frame, annotation)) => self.settings.plugins.observe(annotation, frame),
            Err(skipped) => self.warner.skipped(packet, skipped),
        }
        match self.settings.mode {
            Mode::Packets { format, .. } => self.write_packet(format, packet, seen, &tracked)?,
            Mode::Conns(_) => {}
        }
        if self.pipeline.tracker().has_ended() {
            let (pipeline, mut shown) = self.parts();
            for (v, _) in pipeline.tracker().drain_ended() {
                shown.verdict(v)?;
            }
        }
        Ok(())
    }

    fn write_packet(
        &mut self,
        format: PacketFormat,
        packet: &Packet<'_>,
        seen: u64,
        tracked: &Tracked<'_, '_>,
    ) -> io::Result<()> {
        let out = &mut self.out;
        if format == PacketFormat::Json {
            if let Ok((frame, annotation)) = tracked {
                json::write_packet(out, packet.frame, packet.ts_ns, frame, annotation, &[])?;
            }
            return Ok(());
        }
        let printer = self.printer.as_mut().expect("a printer for text formats");
        let text = format == PacketFormat::Text;
        // tcpdump's -# counts the packets that passed the filter.
        let packet = &Packet {
            frame: seen,
            ..*packet
        };
        match tracked {
            Ok((frame, annotation)) => {
                printer.write_packet(out, packet, frame)?;
                if text {
                    text::write_annotation(out, frame, annotation)?;
                }
            }
            Err(Skipped::Malformed(e)) if e.layer == Layer::Tcp => {
                // tcpdump prints these with an error mark; so does the printer.
                if printer.write_frame(out, packet)? && text {
                    text::write_malformed(out, e)?;
                }
            }
            _ => printer.skip_packet(packet),
        }
        Ok(())
    }

    /// The pipeline, and apart from it where verdicts go, so that verdicts
    /// are shown as they are drained from its tracker.
    fn parts(&mut self) -> (&mut Pipeline, Shown<'_, 'o>) {
        let shown = Shown {
            settings: &mut self.settings,
            out: &mut self.out,
            order: &mut self.order,
            table: &mut self.table,
            live: self.live,
        };
        (&mut self.pipeline, shown)
    }

    /// Whether anything is made of the connections' verdicts: shown, or
    /// labelled by a plugin.
    fn wants_verdicts(&self) -> bool {
        shows_verdicts(&self.settings.mode, self.live) || !self.settings.plugins.is_empty()
    }

    /// Ends every connection and prints what is left. Never inlined: in
    /// `run`, its code took registers from the record loop (`conns -c
    /// 500000`: 440.69M instructions inlined, 438.18M not).
    #[inline(never)]
    fn finish(&mut self) -> io::Result<()> {
        if self.wants_verdicts() {
            // Moved out, so that each verdict is printed (and its connection
            // freed) before the next is taken.
            let idle = Pipeline::new(self.settings.tracker, false);
            let mut pipeline = std::mem::replace(&mut self.pipeline, idle);
            for (v, _) in pipeline.tracker().finishing() {
                self.parts().1.verdict(v)?;
            }
        }
        let table = std::mem::take(&mut self.table);
        match self.settings.mode {
            Mode::Conns(ConnsFormat::Table) => table.write(&mut self.out)?,
            Mode::Packets { .. } if self.live => {
                // The packets went to standard output; the connections close
                // the run on standard error, as tcpdump's statistics do.
                self.out.flush()?;
                let mut err = io::stderr().lock();
                if !table.is_empty() {
                    let _ = table.write(&mut err);
                }
            }
            _ => {}
        }
        self.out.flush()
    }
}

/// Where a run's verdicts go: the runner's parts but its pipeline.
struct Shown<'r, 'o> {
    settings: &'r mut Settings,
    out: &'r mut BufWriter<StdoutLock<'o>>,
    order: &'r mut ConnOrder,
    table: &'r mut Table,
    live: bool,
}

impl Shown<'_, '_> {
    /// Labels a connection's verdict by the plugins, and shows it as the
    /// mode says.
    fn verdict(&mut self, mut v: Verdict) -> io::Result<()> {
        if !self.settings.plugins.is_empty() {
            v.labels = self.settings.plugins.close(v.conn);
        }
        match self.settings.mode {
            Mode::Conns(ConnsFormat::Json) => {
                for v in self.order.push(v) {
                    json::write_verdict(self.out, &v)?;
                }
            }
            Mode::Conns(ConnsFormat::Table) => self.table.push(&v),
            Mode::Packets { .. } if self.live => self.table.push(&v),
            Mode::Packets {
                format: PacketFormat::Text,
                ..
            } => text::write_labels(self.out, &v)?,
            Mode::Packets { .. } => {}
        }
        Ok(())
    }
}

/// Whether verdicts are printed: by `conns`, and at the end of a live
/// capture; packets read from a file show none.
fn shows_verdicts(mode: &Mode, live: bool) -> bool {
    !matches!(mode, Mode::Packets { .. }) || live
}

/// Reads `source` to its end (or the count), printing as `settings` says.
pub fn run(source: &mut RunSource, mut settings: Settings) -> Result<(), Failure> {
    let printer = match settings.mode {
        Mode::Packets {
            format: PacketFormat::Text | PacketFormat::Tcpdump,
            tcpdump,
        } => Some(TcpdumpPrinter::new(tcpdump)),
        _ => None,
    };
    let live = source.is_live();
    // Zeek's conn_state and history are only seen in a printed verdict.
    if !shows_verdicts(&settings.mode, live) {
        settings.tracker.zeek = None;
    }
    let flush_each = settings.flush_each || source.streams();
    // No count: no limit (2^64 records are never read).
    let limit = settings.count.unwrap_or(u64::MAX);
    let mut runner = Runner {
        pipeline: Pipeline::new(settings.tracker, settings.verify_checksums),
        settings,
        printer,
        out: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        order: ConnOrder::default(),
        table: Table::new(),
        warner: Warner::default(),
        live,
        seen: 0,
        limit,
        flush_each,
    };
    let read = match source {
        RunSource::File(file) => runner.read_file(file),
        RunSource::Live(live) => runner.read_live(live),
    };
    let failure = read?;
    let finished = runner.finish();
    source.finish();
    finished?;
    match failure {
        Some(msg) => Err(Failure::Input(msg)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_come_out_in_connection_order() {
        let mut order = ConnOrder::default();
        let v = |conn| Verdict { conn, ..sample() };
        assert_eq!(order.push(v(1)).count(), 0);
        let conns = |o: &mut ConnOrder, conn| o.push(v(conn)).map(|v| v.conn).collect::<Vec<_>>();
        assert_eq!(conns(&mut order, 0), [0, 1]);
        assert_eq!(conns(&mut order, 3), []);
        assert_eq!(conns(&mut order, 2), [2, 3]);
        assert_eq!(conns(&mut order, 4), [4]);
        assert!(order.waiting.is_empty());
    }

    fn sample() -> Verdict {
        use crate::annotation::{EndpointStates, RoleSet};
        use crate::verdict::{CloseKind, ConnectionFacts, Counters, OpenKind, SideOptions};
        use std::net::{IpAddr, Ipv4Addr};
        use synack_core::flow::Endpoint;
        let ep = Endpoint {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 1,
        };
        Verdict {
            conn: 0,
            first_frame: 1,
            last_frame: 1,
            client: ep,
            server: ep,
            start_ns: 0,
            end_ns: 0,
            c2s: Counters::default(),
            s2c: Counters::default(),
            completeness: 0,
            conn_state: "OTH",
            history: Default::default(),
            facts: ConnectionFacts {
                open: OpenKind::Midstream,
                rtt_syn_synack_us: None,
                rtt_synack_ack_us: None,
                client_options: SideOptions::default(),
                server_options: SideOptions::default(),
                close: CloseKind::None,
                active_closer: None,
            },
            syn_retransmissions: 0,
            final_states: EndpointStates::default(),
            roles_seen: RoleSet::EMPTY,
            role_frames: [None; 8],
            labels: Vec::new(),
        }
    }
}
