//! Differential test against tshark: every TCP frame of every capture in the
//! shared corpus and in `fixtures/captures/` must decode to the fields tshark
//! shows, or be listed in [`KNOWN`] with the reason it differs.
//!
//! tshark runs once per capture (two captures at a time) with every field
//! needed; its output is parsed and compared, frame by frame, with what
//! `frame::decode` makes of the same record, printed the way tshark prints
//! it. Frames synack calls out of scope (`Decoded::Unsupported`: ICMP-quoted
//! TCP, tunnels, link types it does not read) are counted by category. The
//! test prints a summary and fails on any difference not in [`KNOWN`], and on
//! any entry of [`KNOWN`] that no longer occurs.
//!
//! `cargo test -p synack-core --test tshark_diff -- --nocapture` shows the
//! summary when the test passes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use synack_core::capture::CaptureReader;
use synack_core::frame::{self, Decoded, FrameError, Unsupported};
use synack_core::tcp::{MalformedReason, OptionIter, TcpHeader, TcpOption};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/captures");
const EXTENSIONS: [&str; 3] = ["pcap", "pcapng", "cap"];
/// tshark processes run at a time.
const THREADS: usize = 2;

const PREFERENCES: [&str; 4] = [
    "tcp.relative_sequence_numbers:FALSE",
    "ip.defragment:FALSE",
    "ipv6.defragment:FALSE",
    "tcp.analyze_sequence_numbers:FALSE",
];
/// The TCP fields compared, in tshark's `-e` order.
const TCP_FIELDS: [&str; 17] = [
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.hdr_len",
    "tcp.flags",
    "tcp.window_size_value",
    "tcp.len",
    "tcp.checksum",
    "tcp.urgent_pointer",
    "tcp.option_kind",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.sack_le",
    "tcp.options.sack_re",
    "tcp.options.timestamp.tsval",
    "tcp.options.timestamp.tsecr",
];
/// Fields read to categorise frames and explain differences, after the TCP ones.
const EXTRA_FIELDS: [&str; 3] = ["frame.protocols", "_ws.malformed", "_ws.expert"];

// ---------------------------------------------------------------------------
// The differences, each with its reason.
// ---------------------------------------------------------------------------

/// Which frames of a capture an entry covers.
#[derive(Clone, Copy, Debug)]
enum Frames {
    /// Every frame of the capture that differs as the entry says.
    All,
    /// These frames.
    Only(&'static [u64]),
}

/// How a frame differs.
#[derive(Clone, Copy, Debug)]
enum What {
    /// Both decode TCP; exactly these fields differ (in [`TCP_FIELDS`] order).
    Fields(&'static [&'static str]),
    /// tshark shows TCP fields; synack finds no TCP header.
    OnlyTshark,
}

/// A known difference: the capture (`corpus/...` or `fixtures/...`), the
/// frames, how they differ and why.
struct Known {
    capture: &'static str,
    frames: Frames,
    what: What,
    reason: &'static str,
}

const IP_LONGER_THAN_FRAME: &str = "IP total length exceeds the frame's length on the wire: \
     tshark sizes tcp.len by the frame, synack (as tcpdump) by the IP header";
const FIRST_FRAGMENT: &str = "first IP fragment (defragmentation off): \
     tshark shows no tcp.len, synack gives the fragment's payload length";
const OPTIONS_CUT: &str = "options cut by the snap length: tshark shows the kind (and any \
     value captured) of the cut option, synack reports it malformed (past the captured bytes)";
const FIXED_HEADER_CUT: &str = "fixed header cut by the snap length: \
     tshark shows the fields captured, synack rejects the header";
const DATA_OFFSET_PAST_SEGMENT: &str = "data offset past the segment the IP header sizes: \
     tshark shows the fixed header's fields, synack rejects the header";
const SFLOW: &str = "sFlow sample (UDP 6343) quoting packet headers: out of scope, \
     synack reads the UDP datagram";

const KNOWN: &[Known] = &[
    Known {
        capture: "corpus/pcapplusplus/frag_http_req.pcap",
        frames: Frames::Only(&[1]),
        what: What::Fields(&["tcp.len"]),
        reason: FIRST_FRAGMENT,
    },
    Known {
        capture: "corpus/pcapplusplus/tcp-malformed.pcap",
        frames: Frames::Only(&[1, 2]),
        what: What::OnlyTshark,
        reason: DATA_OFFSET_PAST_SEGMENT,
    },
    Known {
        capture: "corpus/pcapplusplus/tcp-reassembly.pcap",
        frames: Frames::Only(&[66]),
        what: What::OnlyTshark,
        reason: SFLOW,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/bgp-addpath.pcap",
        frames: Frames::Only(&[1]),
        what: What::Fields(&["tcp.len"]),
        reason: IP_LONGER_THAN_FRAME,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/bgp-bgp_capabilities_print-oobr-1.pcap",
        frames: Frames::Only(&[1]),
        what: What::Fields(&["tcp.len"]),
        reason: FIRST_FRAGMENT,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/bgp-bgp_capabilities_print-oobr-2.pcap",
        frames: Frames::Only(&[1]),
        what: What::Fields(&["tcp.len"]),
        reason: FIRST_FRAGMENT,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/bgp_pmsi_tunnel-oobr.pcap",
        frames: Frames::Only(&[1]),
        what: What::Fields(&["tcp.len"]),
        reason: FIRST_FRAGMENT,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/heapoverflow-tcp_print.pcap",
        frames: Frames::Only(&[1]),
        what: What::Fields(&["tcp.option_kind"]),
        reason: OPTIONS_CUT,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/kday4.pcap",
        frames: Frames::Only(&[10]),
        what: What::Fields(&["tcp.len"]),
        reason: IP_LONGER_THAN_FRAME,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/kday7.pcap",
        frames: Frames::Only(&[10]),
        what: What::Fields(&["tcp.len"]),
        reason: IP_LONGER_THAN_FRAME,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/rpki-rtr-oobr.pcap",
        frames: Frames::Only(&[1]),
        what: What::Fields(&["tcp.len"]),
        reason: FIRST_FRAGMENT,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/tcp-auth-heapoverflow.pcap",
        frames: Frames::Only(&[1]),
        what: What::Fields(&["tcp.option_kind"]),
        reason: OPTIONS_CUT,
    },
    Known {
        capture: "corpus/tcpdump-4.99.3/tcp_header_heapoverflow.pcap",
        frames: Frames::Only(&[1]),
        what: What::OnlyTshark,
        reason: FIXED_HEADER_CUT,
    },
    Known {
        capture: "corpus/zeek/Traces/tcp/reassembly.pcap",
        frames: Frames::Only(&[7, 26, 35, 39, 85]),
        what: What::Fields(&["tcp.len"]),
        reason: IP_LONGER_THAN_FRAME,
    },
    // Real traffic captured with a snap length of 64: the timestamps option
    // is cut in the SYNs after its kind, in the others after its TSval.
    Known {
        capture: "fixtures/v4-snap64.pcap",
        frames: Frames::Only(&[1, 2]),
        what: What::Fields(&["tcp.option_kind"]),
        reason: OPTIONS_CUT,
    },
    Known {
        capture: "fixtures/v4-snap64.pcap",
        frames: Frames::All,
        what: What::Fields(&["tcp.option_kind", "tcp.options.timestamp.tsval"]),
        reason: OPTIONS_CUT,
    },
];

// ---------------------------------------------------------------------------
// Captures.
// ---------------------------------------------------------------------------

/// A capture to compare: its file and the name it goes by in [`KNOWN`].
struct Capture {
    path: PathBuf,
    name: String,
}

fn collect(root: &Path, prefix: &str, out: &mut Vec<Capture>) {
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
            {
                let relative = path.strip_prefix(root).expect("under the root");
                let name = format!("{prefix}/{}", relative.to_string_lossy());
                out.push(Capture { path, name });
            }
        }
    }
}

fn captures() -> Vec<Capture> {
    let mut all = Vec::new();
    let corpus = Path::new(CORPUS);
    assert!(corpus.is_dir(), "corpus not found at {}", corpus.display());
    collect(corpus, "corpus", &mut all);
    let fixtures = Path::new(FIXTURES);
    if fixtures.is_dir() {
        collect(fixtures, "fixtures", &mut all);
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

// ---------------------------------------------------------------------------
// tshark's side.
// ---------------------------------------------------------------------------

/// What tshark shows of one frame.
#[derive(Debug)]
struct TsharkFrame {
    /// The TCP fields as printed (occurrences joined with commas).
    tcp: Vec<String>,
    /// How many TCP layers the frame has (`tcp` in frame.protocols).
    tcp_layers: usize,
    protocols: String,
    malformed: bool,
    expert: String,
}

impl TsharkFrame {
    fn describe(&self) -> String {
        format!(
            "{}{}; expert: {}",
            self.protocols,
            if self.malformed { " (malformed)" } else { "" },
            if self.expert.is_empty() {
                "-"
            } else {
                &self.expert
            }
        )
    }
}

/// tshark's frames by number, and a note when tshark complained.
type TsharkOutput = (BTreeMap<u64, TsharkFrame>, Option<String>);

fn run_tshark(path: &Path) -> Result<TsharkOutput, String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(path);
    for pref in PREFERENCES {
        cmd.args(["-o", pref]);
    }
    cmd.args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]);
    cmd.args(["-E", "aggregator=,", "-e", "frame.number"]);
    for field in TCP_FIELDS.iter().chain(&EXTRA_FIELDS) {
        cmd.args(["-e", field]);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run tshark (is it installed?): {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut frames = BTreeMap::new();
    for line in stdout.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 1 + TCP_FIELDS.len() + EXTRA_FIELDS.len() {
            return Err(format!("short tshark line: {line:?}"));
        }
        let number: u64 = cols[0]
            .parse()
            .map_err(|_| format!("bad frame number in {line:?}"))?;
        let (tcp, extra) = cols[1..].split_at(TCP_FIELDS.len());
        let protocols = extra[0].to_string();
        frames.insert(
            number,
            TsharkFrame {
                tcp: tcp.iter().map(|s| s.to_string()).collect(),
                tcp_layers: protocols.split(':').filter(|p| *p == "tcp").count(),
                protocols,
                malformed: !extra[1].is_empty(),
                expert: extra[2..].join("\t"),
            },
        );
    }
    let note = (!output.status.success()).then(|| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let complaint = stderr
            .lines()
            .filter(|l| !l.starts_with("Running as user"))
            .collect::<Vec<_>>()
            .join(" ");
        format!("tshark: {}: {complaint}", output.status)
    });
    Ok((frames, note))
}

// ---------------------------------------------------------------------------
// synack's side, printed as tshark prints the same fields.
// ---------------------------------------------------------------------------

/// Ways in which tshark's display of the options is followed (for the summary).
const PADDING_AS_EOL: &str = "zero padding after EOL shown as EOL kinds";
const WRONG_LENGTH_KIND: &str = "option with a wrong length for its kind: kind shown, no value";
const BROKEN_LENGTH_HIDDEN: &str =
    "option with no length byte, a length below 2 or past the options: not shown";

/// synack's fields of one header, and the display rules that applied.
struct Rendered {
    fields: Vec<String>,
    rules: Vec<&'static str>,
}

fn join<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The fields of `tcp` in tshark's `-T fields` format.
fn synack_fields(tcp: &TcpHeader<'_>) -> Rendered {
    let mut rules = Vec::new();
    let mut kinds = Vec::new();
    let mut mss = Vec::new();
    let mut wscale = Vec::new();
    let (mut sack_le, mut sack_re) = (Vec::new(), Vec::new());
    let (mut tsval, mut tsecr) = (Vec::new(), Vec::new());
    for item in tcp.options() {
        match item {
            Ok(option) => {
                kinds.push(option.kind());
                match option {
                    TcpOption::Mss(v) => mss.push(v),
                    TcpOption::WindowScale(s) => wscale.push(s),
                    TcpOption::Sack(blocks) => {
                        for (left, right) in blocks.iter() {
                            sack_le.push(left);
                            sack_re.push(right);
                        }
                    }
                    TcpOption::Timestamps { tsval: v, tsecr: e } => {
                        tsval.push(v);
                        tsecr.push(e);
                    }
                    _ => {}
                }
            }
            // A sound length byte that is wrong for the kind: tshark shows the
            // kind (and length) but none of the value.
            Err(m) if matches!(m.reason, MalformedReason::WrongLength { .. }) => {
                kinds.push(m.kind);
                rules.push(WRONG_LENGTH_KIND);
            }
            // No usable length: tshark only adds an expert item and stops.
            Err(_) => rules.push(BROKEN_LENGTH_HIDDEN),
        }
    }
    // After EOL synack sees padding, not options; tshark shows each zero byte
    // of the padding as one more EOL and stops at the first non-zero byte
    // ("Non-zero header padding").
    let padding = OptionIter::padding(tcp.options_raw());
    let zeros = padding.iter().take_while(|&&b| b == 0).count();
    if zeros > 0 {
        kinds.extend(&padding[..zeros]);
        rules.push(PADDING_AS_EOL);
    }
    let fields = vec![
        tcp.src_port().to_string(),
        tcp.dst_port().to_string(),
        tcp.seq().to_string(),
        tcp.ack().to_string(),
        tcp.header_len().to_string(),
        format!("0x{:04x}", tcp.flags().0),
        tcp.window().to_string(),
        tcp.payload_len().to_string(),
        format!("0x{:04x}", tcp.checksum()),
        tcp.urgent_ptr().to_string(),
        join(&kinds),
        join(&mss),
        join(&wscale),
        join(&sack_le),
        join(&sack_re),
        join(&tsval),
        join(&tsecr),
    ];
    Rendered { fields, rules }
}

// ---------------------------------------------------------------------------
// Comparison.
// ---------------------------------------------------------------------------

/// What became of one frame.
#[derive(Debug)]
enum Outcome {
    /// synack's TCP fields equal tshark's (with these display rules applied).
    Equal(Vec<&'static str>),
    /// Neither side finds a TCP header.
    NoTcp,
    /// synack calls the frame out of scope (category); `true` when tshark
    /// shows TCP in it.
    OutOfScope(String, bool),
    /// The two differ: how, and the details for the message.
    Differ(Seen, String),
}

/// How a frame was seen to differ (the run's side of [`What`]).
#[derive(Debug, PartialEq)]
enum Seen {
    Fields(Vec<&'static str>),
    OnlyTshark,
    /// synack decodes TCP; tshark shows none, or several layers.
    OnlySynack,
    /// tshark could not be run or its output not read.
    Tshark,
}

impl Seen {
    fn is(&self, what: What) -> bool {
        match (self, what) {
            (Seen::Fields(seen), What::Fields(listed)) => seen == listed,
            (Seen::OnlyTshark, What::OnlyTshark) => true,
            _ => false,
        }
    }
}

fn out_of_scope(u: Unsupported) -> String {
    match u {
        Unsupported::LinkType(l) => format!("link type {} not read by synack", l.0),
        Unsupported::Tunnel => "tunnel (GRE, IP-in-IP, MPLS, Geneve, VXLAN, GTP-U)".to_string(),
        Unsupported::IcmpQuotedTcp => "ICMP-quoted TCP".to_string(),
    }
}

/// Per-capture result.
#[derive(Default)]
struct Report {
    /// (frame, outcome) for every frame either side knows of.
    frames: Vec<(u64, Outcome)>,
    /// tshark's complaints and synack's read errors, for the messages.
    notes: Vec<String>,
}

fn compare(capture: &Capture) -> Report {
    let mut report = Report::default();
    let mut tshark = match run_tshark(&capture.path) {
        Ok((frames, note)) => {
            report.notes.extend(note);
            frames
        }
        Err(e) => {
            report.frames.push((0, Outcome::Differ(Seen::Tshark, e)));
            return report;
        }
    };
    let mut reader = match CaptureReader::open(&capture.path) {
        Ok(r) => Some(r),
        Err(e) => {
            report.notes.push(format!("synack cannot open it: {e}"));
            None
        }
    };
    let mut last = 0;
    while let Some(next) = reader.as_mut().and_then(|r| r.next_packet()) {
        let packet = match next {
            Ok(p) => p,
            Err(e) => {
                report.notes.push(format!("synack read error: {e}"));
                break;
            }
        };
        last = packet.frame;
        let theirs = tshark.remove(&packet.frame);
        let outcome = judge(
            frame::decode(packet.link_type, packet.data),
            theirs.as_ref(),
        );
        report.frames.push((packet.frame, outcome));
    }
    // Frames tshark shows and synack never read.
    for (number, theirs) in tshark {
        let outcome = if theirs.tcp_layers == 0 {
            Outcome::NoTcp
        } else {
            Outcome::Differ(
                Seen::OnlyTshark,
                format!(
                    "synack read no frame {number} (it stopped after frame {last}); tshark: {}",
                    theirs.describe()
                ),
            )
        };
        report.frames.push((number, outcome));
    }
    report
}

fn judge(ours: Result<Decoded<'_>, FrameError>, theirs: Option<&TsharkFrame>) -> Outcome {
    let tshark_tcp = theirs.map_or(0, |t| t.tcp_layers);
    let describe = || theirs.map_or("no such frame".to_string(), TsharkFrame::describe);
    let only_tshark = |ours: String| {
        Outcome::Differ(
            Seen::OnlyTshark,
            format!(
                "synack: {ours}; tshark shows {tshark_tcp} TCP layers: {} [fields: {}]",
                describe(),
                theirs.map_or(String::new(), |t| t.tcp.join("|"))
            ),
        )
    };
    let ours = match ours {
        Ok(Decoded::Unsupported(u)) => return Outcome::OutOfScope(out_of_scope(u), tshark_tcp > 0),
        Ok(Decoded::Tcp(f)) => f,
        _ if tshark_tcp == 0 => return Outcome::NoTcp,
        Ok(Decoded::TcpFragment { offset, .. }) => {
            return only_tshark(format!("a later fragment (offset {offset})"))
        }
        Ok(Decoded::NotTcp) => return only_tshark("not TCP".to_string()),
        Err(e) => return only_tshark(format!("error: {e}")),
    };
    let Some(theirs) = theirs.filter(|t| t.tcp_layers == 1) else {
        return Outcome::Differ(
            Seen::OnlySynack,
            format!(
                "synack decodes TCP, tshark shows {tshark_tcp} TCP layers: {}",
                describe()
            ),
        );
    };
    let rendered = synack_fields(&ours.tcp);
    let mut fields = Vec::new();
    let mut diff = String::new();
    for ((name, a), b) in TCP_FIELDS.iter().zip(&rendered.fields).zip(&theirs.tcp) {
        if a != b {
            fields.push(*name);
            let _ = write!(diff, "{name}: synack `{a}` tshark `{b}`; ");
        }
    }
    if fields.is_empty() {
        Outcome::Equal(rendered.rules)
    } else {
        Outcome::Differ(
            Seen::Fields(fields),
            format!("{diff}tshark: {}", describe()),
        )
    }
}

// ---------------------------------------------------------------------------
// The test.
// ---------------------------------------------------------------------------

fn listed(capture: &str, frame: u64, seen: &Seen) -> Option<usize> {
    KNOWN.iter().position(|k| {
        k.capture == capture
            && seen.is(k.what)
            && match k.frames {
                Frames::All => true,
                Frames::Only(list) => list.contains(&frame),
            }
    })
}

/// Runs tshark and synack over every capture, `THREADS` captures at a time.
fn compare_all(captures: &[Capture]) -> Vec<Report> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Report>>> =
        Mutex::new((0..captures.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(capture) = captures.get(i) else {
                    break;
                };
                let report = compare(capture);
                results.lock().expect("no worker panicked")[i] = Some(report);
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panicked")
        .into_iter()
        .map(|r| r.expect("every capture compared"))
        .collect()
}

#[test]
fn every_tcp_frame_matches_tshark() {
    let version = Command::new("tshark").arg("--version").output();
    assert!(
        version.is_ok_and(|v| v.status.success()),
        "tshark is needed for this test (apt-get install tshark)"
    );
    let captures = captures();
    let reports = compare_all(&captures);

    let mut with_tcp = 0;
    let (mut compared, mut equal) = (0, 0);
    let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out_of_scope: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    let mut used = vec![Vec::<u64>::new(); KNOWN.len()];
    let mut notes = Vec::new();
    let mut failures = Vec::new();
    for (capture, report) in captures.iter().zip(&reports) {
        let carries_tcp = report.frames.iter().any(|(_, o)| match o {
            Outcome::NoTcp => false,
            Outcome::OutOfScope(_, shows_tcp) => *shows_tcp,
            Outcome::Equal(_) | Outcome::Differ(..) => true,
        });
        if !carries_tcp {
            continue;
        }
        with_tcp += 1;
        let notes_text = report.notes.join("; ");
        if !report.notes.is_empty() {
            notes.push(format!("{}: {notes_text}", capture.name));
        }
        for (number, outcome) in &report.frames {
            match outcome {
                Outcome::NoTcp => {}
                Outcome::Equal(applied) => {
                    compared += 1;
                    equal += 1;
                    for rule in applied {
                        *rules.entry(rule).or_default() += 1;
                    }
                }
                Outcome::OutOfScope(category, shows_tcp) => {
                    let entry = out_of_scope.entry(category).or_default();
                    entry.0 += 1;
                    entry.1 += usize::from(*shows_tcp);
                }
                Outcome::Differ(seen, why) => {
                    compared += 1;
                    if let Some(k) = listed(&capture.name, *number, seen) {
                        used[k].push(*number);
                        *by_reason.entry(KNOWN[k].reason).or_default() += 1;
                    } else {
                        let notes = if notes_text.is_empty() {
                            String::new()
                        } else {
                            format!(" [{notes_text}]")
                        };
                        failures.push(format!("{} frame {number}: {why}{notes}", capture.name));
                    }
                }
            }
        }
    }
    for (k, known) in KNOWN.iter().enumerate() {
        let stale = match known.frames {
            Frames::All => used[k].is_empty().then(|| "no frame differs".to_string()),
            Frames::Only(list) => {
                let gone: Vec<_> = list.iter().filter(|f| !used[k].contains(f)).collect();
                (!gone.is_empty()).then(|| format!("frames {gone:?} no longer differ that way"))
            }
        };
        if let Some(stale) = stale {
            failures.push(format!(
                "stale KNOWN entry {} ({:?}: {}): {stale}",
                known.capture, known.what, known.reason
            ));
        }
    }

    let listed: usize = by_reason.values().sum();
    println!("tshark differential test");
    let fixtures = captures
        .iter()
        .filter(|c| c.name.starts_with("fixtures/"))
        .count();
    println!(
        "  captures: {} found ({} corpus, {fixtures} fixtures), {with_tcp} carrying TCP",
        captures.len(),
        captures.len() - fixtures
    );
    println!(
        "  TCP frames compared: {compared}; equal: {equal}; listed: {listed}; unlisted: {}",
        compared - equal - listed
    );
    println!("  equal frames where tshark's display of the options was followed:");
    for (rule, count) in &rules {
        println!("    {count:6}  {rule}");
    }
    println!("  listed differences, by reason:");
    for (reason, count) in &by_reason {
        println!("    {count:6}  {reason}");
    }
    println!("  out of scope (Decoded::Unsupported), frames (of which tshark shows TCP):");
    for (category, (count, shows_tcp)) in &out_of_scope {
        println!("    {count:6} ({shows_tcp:4})  {category}");
    }
    if !notes.is_empty() {
        println!("  notes:");
        for note in &notes {
            println!("    {note}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} unlisted differences or stale entries:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
