//! The side-by-side runner's parts: the commands it compares, one timed run
//! under `/usr/bin/time -v`, and the report (a Markdown table spliced into
//! `BENCHMARKS.md` between two markers). The command line is
//! `src/bin/side_by_side.rs`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The GNU time binary the runner measures peak memory with (Debian package `time`).
pub const GNU_TIME: &str = "/usr/bin/time";

/// First line of the report section in `BENCHMARKS.md`.
pub const BEGIN_MARKER: &str = "<!-- side-by-side:begin -->";
/// Last line of the report section.
pub const END_MARKER: &str = "<!-- side-by-side:end -->";

/// The fields `tshark -T fields` prints: the per-packet facts `synack
/// --format json` prints (frame, time, addresses, ports, sequence and
/// acknowledgment numbers, header length, flags, window, length, checksum,
/// urgent pointer, option values) and tshark's own counterparts of its
/// connection number and annotations (`tcp.stream`, `tcp.analysis.flags`).
pub const TSHARK_FIELDS: [&str; 26] = [
    "frame.number",
    "frame.time_epoch",
    "ip.src",
    "ipv6.src",
    "tcp.srcport",
    "ip.dst",
    "ipv6.dst",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.hdr_len",
    "tcp.flags",
    "tcp.window_size_value",
    "tcp.len",
    "tcp.checksum",
    "tcp.urgent_pointer",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.sack_perm",
    "tcp.options.sack_le",
    "tcp.options.sack_re",
    "tcp.options.timestamp.tsval",
    "tcp.options.timestamp.tsecr",
    "tcp.stream",
    "tcp.analysis.flags",
    "tcp.completeness",
];

/// One command under comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    /// Short name (the report's first column, and what `--only` matches).
    pub name: &'static str,
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The tool this one is the counterpart of, for the pairwise ratios.
    pub peer_of: Option<&'static str>,
}

impl Tool {
    fn new(name: &'static str, program: impl Into<PathBuf>, args: &[&str], file: &Path) -> Tool {
        let mut v: Vec<OsString> = args.iter().map(OsString::from).collect();
        // Every command reads the file named last, except where `{}` marks its place.
        match v.iter().position(|a| a == "{}") {
            Some(at) => v[at] = file.as_os_str().to_owned(),
            None => v.push(file.as_os_str().to_owned()),
        }
        Tool {
            name,
            program: program.into(),
            args: v,
            peer_of: None,
        }
    }

    fn peer_of(mut self, synack: &'static str) -> Tool {
        self.peer_of = Some(synack);
        self
    }

    /// The command as a shell would show it, the capture's path as `FILE`
    /// and a long run of `-e FIELD` cut to its first and last fields.
    pub fn display(&self, file: &Path) -> String {
        let program = self
            .program
            .file_name()
            .unwrap_or(self.program.as_os_str())
            .to_string_lossy();
        let mut words: Vec<String> = vec![program.into_owned()];
        words.extend(self.args.iter().map(|a| {
            if a == file.as_os_str() {
                "FILE".to_string()
            } else {
                a.to_string_lossy().into_owned()
            }
        }));
        let fields: Vec<usize> = (0..words.len()).filter(|&i| words[i] == "-e").collect();
        if fields.len() > 3 {
            let (first, last) = (fields[0], fields[fields.len() - 1]);
            let cut = format!(
                "-e {} … -e {} ({} fields)",
                words[first + 1],
                words[last + 1],
                fields.len()
            );
            words.splice(first..last + 2, [cut]);
        }
        words.join(" ")
    }
}

/// The commands compared on `file`, the floor first.
pub fn tools(
    synack: &Path,
    walker: &Path,
    tcpdump: &Path,
    tshark: &Path,
    file: &Path,
) -> Vec<Tool> {
    // tshark separates fields with a tab by default.
    let mut fields = vec!["-n", "-r", "{}", "-T", "fields"];
    for f in TSHARK_FIELDS {
        fields.push("-e");
        fields.push(f);
    }
    vec![
        Tool::new("record-walk", walker, &[], file),
        Tool::new("synack-conns", synack, &["conns"], file),
        Tool::new(
            "synack-conns-t2",
            synack,
            &["conns", "--threads", "2"],
            file,
        ),
        Tool::new("synack-tcpdump", synack, &["--format", "tcpdump"], file),
        Tool::new("synack-json", synack, &["--format", "json"], file),
        Tool::new("tcpdump", tcpdump, &["-n", "-r"], file).peer_of("synack-tcpdump"),
        Tool::new(
            "tshark-conv",
            tshark,
            &["-n", "-r", "{}", "-q", "-z", "conv,tcp"],
            file,
        )
        .peer_of("synack-conns"),
        Tool::new("tshark-fields", tshark, &fields, file).peer_of("synack-json"),
    ]
}

/// What one run of a command took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measurement {
    /// Wall time, from spawning GNU time to its exit.
    pub wall: Duration,
    /// Peak resident set size (KiB), as GNU time reports it.
    pub max_rss_kib: u64,
}

/// GNU time's `Maximum resident set size (kbytes): N`.
pub fn parse_max_rss(time_output: &str) -> Option<u64> {
    time_output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
}

/// Runs `tool` once under `/usr/bin/time -v`, its standard output to
/// /dev/null and its standard error to `scratch/NAME.stderr`.
pub fn run_once(tool: &Tool, scratch: &Path) -> io::Result<Measurement> {
    let time_out = scratch.join(format!("{}.time", tool.name));
    let err_out = scratch.join(format!("{}.stderr", tool.name));
    let started = Instant::now();
    let status = Command::new(GNU_TIME)
        .arg("-v")
        .arg("-o")
        .arg(&time_out)
        .arg(&tool.program)
        .args(&tool.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_out)?)
        .status()?;
    let wall = started.elapsed();
    if !status.success() {
        let err = std::fs::read_to_string(&err_out).unwrap_or_default();
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(io::Error::other(format!(
            "{} exited with {status}: {}",
            tool.name,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    let time_text = std::fs::read_to_string(&time_out)?;
    let max_rss_kib = parse_max_rss(&time_text)
        .ok_or_else(|| io::Error::other(format!("no peak memory in {}", time_out.display())))?;
    Ok(Measurement { wall, max_rss_kib })
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[Duration]) -> Duration {
    let mut v = values.to_vec();
    v.sort();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

/// Parses a size: a number with an optional suffix k, M, G (powers of 1000)
/// or Ki, Mi, Gi (powers of 1024); `B` may follow.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().trim_end_matches(['B', 'b']);
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    let n: u64 = digits
        .replace('_', "")
        .parse()
        .map_err(|_| format!("not a size: {s:?}"))?;
    let unit: u64 = match suffix.to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1_000,
        "m" => 1_000_000,
        "g" => 1_000_000_000,
        "ki" => 1 << 10,
        "mi" => 1 << 20,
        "gi" => 1 << 30,
        _ => return Err(format!("unknown size suffix in {s:?}")),
    };
    n.checked_mul(unit)
        .ok_or_else(|| format!("size too large: {s:?}"))
}

/// One command's results over all runs.
#[derive(Clone, Debug)]
pub struct ToolResult {
    /// The command.
    pub tool: Tool,
    /// Every run's measurement, in run order.
    pub runs: Vec<Measurement>,
}

impl ToolResult {
    /// Median wall time.
    pub fn median(&self) -> Duration {
        median(&self.runs.iter().map(|m| m.wall).collect::<Vec<_>>())
    }
    /// Fastest run.
    pub fn min(&self) -> Duration {
        self.runs.iter().map(|m| m.wall).min().unwrap_or_default()
    }
    /// Largest peak resident set over the runs (KiB).
    pub fn max_rss_kib(&self) -> u64 {
        self.runs.iter().map(|m| m.max_rss_kib).max().unwrap_or(0)
    }
}

/// What the report says about where it was measured.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// A line put first (for example "preliminary, measured on a loaded machine").
    pub note: Option<String>,
    /// UTC date and time of the run.
    pub date: String,
    /// CPU model and count.
    pub machine: String,
    /// /proc/loadavg before and after.
    pub load: (String, String),
    /// Versions of the commands.
    pub versions: Vec<String>,
    /// The capture: packets.
    pub packets: u64,
    /// The capture: bytes.
    pub bytes: u64,
    /// How the capture was made.
    pub capture: String,
    /// Runs per command.
    pub runs: usize,
    /// How `synack --format tcpdump` compares with `tcpdump -n -r`, line by line.
    pub tcpdump_lines: Option<LineComparison>,
}

/// Two commands' standard output compared line by line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineComparison {
    /// Lines of the first command.
    pub lines: usize,
    /// Lines of the second command.
    pub other_lines: usize,
    /// Line numbers (from 1) where they differ, both counted.
    pub differing: usize,
    /// The first differing pair, if any.
    pub first: Option<(usize, String, String)>,
}

impl LineComparison {
    /// Compares `ours` with `theirs`, line by line.
    pub fn of(ours: &str, theirs: &str) -> LineComparison {
        let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
        let mut c = LineComparison {
            lines: a.len(),
            other_lines: b.len(),
            ..LineComparison::default()
        };
        for i in 0..a.len().max(b.len()) {
            let (x, y) = (a.get(i).copied(), b.get(i).copied());
            if x != y {
                c.differing += 1;
                c.first.get_or_insert_with(|| {
                    (
                        i + 1,
                        x.unwrap_or("").to_string(),
                        y.unwrap_or("").to_string(),
                    )
                });
            }
        }
        c
    }
}

/// Runs both tools once, their standard output to files in `scratch`, and
/// compares the lines.
pub fn compare_outputs(ours: &Tool, theirs: &Tool, scratch: &Path) -> io::Result<LineComparison> {
    let mut texts = Vec::new();
    for tool in [ours, theirs] {
        let out = Command::new(&tool.program)
            .args(&tool.args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()?;
        let path = scratch.join(format!("{}.out", tool.name));
        std::fs::write(&path, &out.stdout)?;
        texts.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Ok(LineComparison::of(&texts[0], &texts[1]))
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn per_second(count: u64, d: Duration) -> String {
    let v = count as f64 / d.as_secs_f64().max(1e-9);
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else {
        format!("{:.0} k", v / 1e3)
    }
}

/// The report section, markers included.
pub fn render(ctx: &Context, results: &[ToolResult], file: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{BEGIN_MARKER}");
    if let Some(note) = &ctx.note {
        let _ = writeln!(s, "**{note}**\n");
    }
    let _ = writeln!(
        s,
        "Run {} on {}; load average before {}, after {}.\n",
        ctx.date, ctx.machine, ctx.load.0, ctx.load.1
    );
    let _ = writeln!(
        s,
        "Capture: {} packets, {:.1} MB ({}). Each command ran {} time{}, alternating; \
         wall time is the median, peak memory the largest maximum resident set size \
         of `/usr/bin/time -v`. Standard output went to /dev/null.\n",
        ctx.packets,
        ctx.bytes as f64 / 1e6,
        ctx.capture,
        ctx.runs,
        if ctx.runs == 1 { "" } else { "s" }
    );
    let synack_conns = results
        .iter()
        .find(|r| r.tool.name == "synack-conns")
        .map(ToolResult::median);
    let _ = writeln!(
        s,
        "| command | median s | min s | packets/s | MB/s | × synack conns | peak RSS MiB |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in results {
        let m = r.median();
        let ratio = synack_conns
            .map(|base| format!("{:.2}", m.as_secs_f64() / base.as_secs_f64().max(1e-9)))
            .unwrap_or_else(|| "–".to_string());
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {:.0} | {} | {:.1} |",
            r.tool.display(file),
            secs(m),
            secs(r.min()),
            per_second(ctx.packets, m),
            ctx.bytes as f64 / 1e6 / m.as_secs_f64().max(1e-9),
            ratio,
            r.max_rss_kib() as f64 / 1024.0
        );
    }
    let pairs: Vec<(&ToolResult, &ToolResult)> = results
        .iter()
        .filter_map(|peer| {
            let of = peer.tool.peer_of?;
            results
                .iter()
                .find(|r| r.tool.name == of)
                .map(|ours| (ours, peer))
        })
        .collect();
    if !pairs.is_empty() {
        let _ = writeln!(
            s,
            "\n| synack | its counterpart | time ratio (counterpart ÷ synack) | memory ratio |"
        );
        let _ = writeln!(s, "| --- | --- | ---: | ---: |");
        for (ours, peer) in pairs {
            let _ = writeln!(
                s,
                "| `{}` | `{}` | {:.2} | {:.2} |",
                ours.tool.display(file),
                peer.tool.display(file),
                peer.median().as_secs_f64() / ours.median().as_secs_f64().max(1e-9),
                peer.max_rss_kib() as f64 / ours.max_rss_kib().max(1) as f64
            );
        }
    }
    if let Some(c) = &ctx.tcpdump_lines {
        let verdict = if c.differing == 0 {
            format!("identical: {} lines each", c.lines)
        } else {
            format!(
                "{} of {} lines differ (tcpdump printed {})",
                c.differing, c.lines, c.other_lines
            )
        };
        let _ = writeln!(
            s,
            "\n`synack --format tcpdump` against `tcpdump -n -r`, line by line: {verdict}."
        );
        if let Some((line, ours, theirs)) = &c.first {
            let _ = writeln!(
                s,
                "First difference, line {line}:\n\n```\nsynack:  {ours}\ntcpdump: {theirs}\n```"
            );
        }
    }
    if !ctx.versions.is_empty() {
        let _ = writeln!(s, "\nVersions: {}.", ctx.versions.join("; "));
    }
    let _ = writeln!(s, "{END_MARKER}");
    s
}

/// `doc` with the section between the markers replaced by `section` (which
/// carries the markers), or with `section` appended when there are none.
pub fn splice(doc: &str, section: &str) -> String {
    match (doc.find(BEGIN_MARKER), doc.find(END_MARKER)) {
        (Some(b), Some(e)) if b < e => {
            let after = &doc[e + END_MARKER.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{section}{after}", &doc[..b])
        }
        _ => {
            let sep = if doc.is_empty() || doc.ends_with("\n\n") {
                ""
            } else if doc.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            format!("{doc}{sep}{section}")
        }
    }
}

/// The first line a command prints for `args` (its version), if it runs.
pub fn version_line(program: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|l| l.trim().trim_end_matches('.').to_string())
}

/// Today's date and time in UTC, as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// CPU model and logical CPU count, from /proc/cpuinfo.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    format!("{model}, {cpus} CPUs")
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_memory_is_read_from_gnu_time() {
        let text = "\tCommand being timed: \"true\"\n\tMaximum resident set size (kbytes): 1664\n\tAverage resident set size (kbytes): 0\n";
        assert_eq!(parse_max_rss(text), Some(1664));
        assert_eq!(parse_max_rss("nothing"), None);
    }

    #[test]
    fn the_median_is_the_middle() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(
            median(&[ms(4), ms(1), ms(3), ms(2)]),
            Duration::from_micros(2_500)
        );
        assert_eq!(median(&[]), Duration::ZERO);
    }

    #[test]
    fn sizes_take_suffixes() {
        assert_eq!(parse_size("50000"), Ok(50_000));
        assert_eq!(parse_size("1G"), Ok(1_000_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("64k"), Ok(64_000));
        assert_eq!(parse_size("1_000"), Ok(1_000));
        assert!(parse_size("1X").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn the_report_replaces_its_section_only() {
        let doc = format!("# B\n\nintro\n\n{BEGIN_MARKER}\nold\n{END_MARKER}\n\n## after\n");
        let section = format!("{BEGIN_MARKER}\nnew\n{END_MARKER}\n");
        let out = splice(&doc, &section);
        assert_eq!(
            out,
            format!("# B\n\nintro\n\n{BEGIN_MARKER}\nnew\n{END_MARKER}\n\n## after\n")
        );
        assert_eq!(splice(&out, &section), out, "idempotent");
        assert_eq!(splice("# B\n", &section), format!("# B\n\n{section}"));
    }

    #[test]
    fn every_command_reads_the_file() {
        let file = Path::new("/tmp/x.pcap");
        let t = tools(
            Path::new("synack"),
            Path::new("pcap_walk"),
            Path::new("tcpdump"),
            Path::new("tshark"),
            file,
        );
        assert_eq!(t.len(), 8);
        for tool in &t {
            assert_eq!(
                tool.args
                    .iter()
                    .filter(|a| a.as_os_str() == file.as_os_str())
                    .count(),
                1,
                "{}",
                tool.name
            );
        }
        assert_eq!(t[1].display(file), "synack conns FILE");
        assert_eq!(t[2].display(file), "synack conns --threads 2 FILE");
        assert_eq!(t[6].display(file), "tshark -n -r FILE -q -z conv,tcp");
        assert_eq!(t[5].peer_of, Some("synack-tcpdump"));
        assert_eq!(
            t[7].display(file),
            "tshark -n -r FILE -T fields -e frame.number … -e tcp.completeness (26 fields)"
        );
    }

    #[test]
    fn dates_are_civil() {
        let d = utc_now();
        assert!(
            d.len() == 20 && d.ends_with(" UTC") && d.starts_with("20"),
            "{d}"
        );
    }

    #[test]
    fn a_report_has_a_row_per_command() {
        let file = Path::new("/tmp/x.pcap");
        let t = tools(
            Path::new("synack"),
            Path::new("pcap_walk"),
            Path::new("tcpdump"),
            Path::new("tshark"),
            file,
        );
        let results: Vec<ToolResult> = t
            .into_iter()
            .enumerate()
            .map(|(i, tool)| ToolResult {
                tool,
                runs: vec![Measurement {
                    wall: Duration::from_millis(100 * (i as u64 + 1)),
                    max_rss_kib: 2048,
                }],
            })
            .collect();
        let ctx = Context {
            note: Some("preliminary".into()),
            packets: 1_000_000,
            bytes: 400_000_000,
            runs: 1,
            ..Context::default()
        };
        let r = render(&ctx, &results, file);
        assert!(r.starts_with(BEGIN_MARKER) && r.trim_end().ends_with(END_MARKER));
        assert!(
            r.contains("| `synack conns FILE` | 0.200 | 0.200 | 5.00 M | 2000 | 1.00 | 2.0 |"),
            "{r}"
        );
        assert!(
            r.contains(
                "| `synack conns FILE` | `tshark -n -r FILE -q -z conv,tcp` | 3.50 | 1.00 |"
            ),
            "{r}"
        );
    }

    #[test]
    fn line_comparison_counts_differing_and_missing_lines() {
        let same = LineComparison::of("a\nb\n", "a\nb\n");
        assert_eq!((same.lines, same.differing, same.first), (2, 0, None));
        let c = LineComparison::of("a\nb\nc\n", "a\nB\n");
        assert_eq!((c.lines, c.other_lines, c.differing), (3, 2, 2));
        assert_eq!(c.first, Some((2, "b".to_string(), "B".to_string())));
    }
}
