//! The Wireshark plugin, built by `plugins/wireshark/build.sh` and loaded
//! into tshark from a personal plugin folder (as an unprivileged user when
//! the tests run as root: tshark ignores personal plugins for root), checked
//! against the command line's `synack --format json` on every capture of
//! the shared corpus and of `fixtures/captures/`.
//!
//! Needs tshark and Wireshark's development files (Debian: tshark,
//! libwireshark-dev, libglib2.0-dev, pkg-config) and, as root, setpriv
//! (util-linux); scripts/test.sh installs them.
//! `SYNACK_CORPUS` names another corpus folder (default `../shared/corpus`
//! beside the repository);
//! `SYNACK_WIRESHARK_ONLY=TEXT` keeps only the captures whose path has TEXT.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// The fields asked of tshark, in column order.
const FIELDS: [&str; 21] = [
    "frame.number",
    "synack.conn",
    "synack.dir",
    "synack.role",
    "synack.combines",
    "synack.reset_kind",
    "synack.retransmission",
    "synack.client_state",
    "synack.server_state",
    "synack.warning",
    "synack.open",
    "synack.rtt_syn_synack",
    "synack.rtt_synack_ack",
    "synack.client_mss",
    "synack.server_mss",
    "synack.client_wscale",
    "synack.server_wscale",
    "synack.close",
    "synack.active_closer",
    "frame.cap_len",
    "_ws.col.Info",
];

/// The column of the Info column.
const INFO_COLUMN: usize = 20;

/// The column of `frame.cap_len`.
const CAP_LEN_COLUMN: usize = 19;

/// Columns 1..=9 are the per-packet annotation, compared with the JSON line.
const ANNOTATION_COLUMNS: usize = 10;

/// The facts columns and the key of `synack conns --format json` each ends as.
const FACT_COLUMNS: [(usize, &str); 9] = [
    (10, "open"),
    (11, "rtt_syn_synack_us"),
    (12, "rtt_synack_ack_us"),
    (13, "client_mss"),
    (14, "server_mss"),
    (15, "client_wscale"),
    (16, "server_wscale"),
    (17, "close"),
    (18, "active_closer"),
];

/// Separator of repeated values (synack.warning) in tshark's output.
const AGGREGATOR: &str = ";";

struct Setup {
    plugin: PathBuf,
    synack: PathBuf,
    home: PathBuf,
    as_nobody: bool,
    captures: Vec<PathBuf>,
}

fn root() -> PathBuf {
    let dir = match std::env::var_os("SYNACK_ROOT") {
        Some(r) => PathBuf::from(r),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    };
    dir.canonicalize().expect("the workspace root")
}

fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => root.join(t),
        None => root.join("target"),
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn check(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Every capture (*.pcap, *.pcapng, *.cap) under `dir`, recursively.
fn captures_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            captures_under(&path, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "pcap" | "pcapng" | "cap"))
        {
            out.push(path);
        }
    }
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let root = root();
        let target = target_dir(&root);

        // The plugin, by its one build command.
        let out = check(Command::new("sh").arg(root.join("plugins/wireshark/build.sh")));
        let plugin = PathBuf::from(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .expect("build.sh prints the plugin's path")
                .trim(),
        );
        assert!(plugin.is_file(), "{} was not built", plugin.display());

        // The command line, the reference.
        check(
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "-p", "synack-dissector", "--bin", "synack"])
                .arg("--manifest-path")
                .arg(root.join("Cargo.toml")),
        );
        let synack = target.join("debug/synack");
        assert!(synack.is_file(), "{} was not built", synack.display());

        // tshark ignores personal plugin folders when run as root: run it as
        // nobody, with a HOME of its own holding the plugin.
        let uid = check(Command::new("id").arg("-u"));
        let as_nobody = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let home = std::env::temp_dir().join(format!("synack-wireshark-{}", std::process::id()));
        let _ = fs::remove_dir_all(&home);
        fs::create_dir_all(&home).expect("a HOME for tshark");
        set_mode(&home, 0o755);
        let partial = Setup {
            plugin: plugin.clone(),
            synack: synack.clone(),
            home: home.clone(),
            as_nobody,
            captures: Vec::new(),
        };
        let folders = tshark(&partial, &["-G", "folders"]);
        let folders = String::from_utf8_lossy(&folders.stdout).into_owned();
        let personal = folders
            .lines()
            .find_map(|l| l.strip_prefix("Personal Plugins:"))
            .map(|p| PathBuf::from(p.trim()))
            .expect("tshark -G folders names the personal plugin folder");
        let global = folders
            .lines()
            .find_map(|l| l.strip_prefix("Global Plugins:"))
            .map(|p| PathBuf::from(p.trim()).join("epan/synack.so"));
        if let Some(global) = global {
            assert!(
                !global.exists(),
                "{} is installed system-wide: tshark would load it instead of the plugin \
                 under test; remove it to run these tests",
                global.display()
            );
        }
        assert!(
            personal.starts_with(&home),
            "the personal plugin folder {} is not under HOME {}",
            personal.display(),
            home.display()
        );
        let epan = personal.join("epan");
        fs::create_dir_all(&epan).expect("the personal plugin folder");
        let mut dir = epan.clone();
        while dir.starts_with(&home) {
            set_mode(&dir, 0o755);
            if !dir.pop() {
                break;
            }
        }
        let installed = epan.join("synack.so");
        fs::copy(&plugin, &installed).expect("install the plugin");
        set_mode(&installed, 0o644);

        let mut captures = Vec::new();
        let corpus = std::env::var_os("SYNACK_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("../shared/corpus"));
        assert!(corpus.is_dir(), "no corpus at {}", corpus.display());
        captures_under(&corpus, &mut captures);
        captures_under(&root.join("fixtures/captures"), &mut captures);
        if let Ok(only) = std::env::var("SYNACK_WIRESHARK_ONLY") {
            captures.retain(|c| c.to_string_lossy().contains(&only));
        }
        captures.sort();
        assert!(!captures.is_empty(), "no captures found");

        Setup {
            captures,
            ..partial
        }
    })
}

/// Runs tshark with the plugin folder of `s.home`.
fn tshark(s: &Setup, args: &[&str]) -> Output {
    let home = format!("HOME={}", s.home.display());
    let config = format!("XDG_CONFIG_HOME={}", s.home.join(".config").display());
    let mut cmd = if s.as_nobody {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "env",
            &home,
            &config,
            "tshark",
        ]);
        c
    } else {
        let mut c = Command::new("env");
        c.args([&home, &config, "tshark"]);
        c
    };
    cmd.args(args)
        .env_remove("WIRESHARK_PLUGIN_DIR")
        .env_remove("WIRESHARK_CONFIG_DIR");
    run(&mut cmd)
}

fn field_args(file: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "-n",
        "-r",
        file,
        "-T",
        "fields",
        "-E",
        "header=n",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push("-E".into());
    args.push(format!("aggregator={AGGREGATOR}"));
    for f in FIELDS {
        args.push("-e".into());
        args.push(f.into());
    }
    args
}

fn str_args(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// tshark's rows by frame number.
fn rows(stdout: &[u8]) -> BTreeMap<u64, Vec<String>> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| {
            let cols: Vec<String> = line.split('\t').map(str::to_string).collect();
            let frame = cols.first()?.parse().ok()?;
            Some((frame, cols))
        })
        .collect()
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

fn opt_str(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn joined(v: &Value, sep: &str) -> String {
    match v {
        Value::Array(items) => items.iter().map(opt_str).collect::<Vec<_>>().join(sep),
        other => opt_str(other),
    }
}

/// The annotation columns (1..ANNOTATION_COLUMNS) a JSON packet line should give.
fn expected_columns(p: &Value) -> Vec<String> {
    vec![
        opt_str(&p["conn"]),
        opt_str(&p["dir"]),
        opt_str(&p["role"]),
        joined(&p["combines"], ","),
        opt_str(&p["reset_kind"]),
        if p["retransmission"] == Value::Bool(true) {
            "true".into()
        } else {
            String::new()
        },
        opt_str(&p["states"]["client"]),
        opt_str(&p["states"]["server"]),
        joined(&p["warnings"], AGGREGATOR),
    ]
}

fn annotation_columns(row: &[String]) -> Vec<String> {
    (1..ANNOTATION_COLUMNS)
        .map(|i| {
            let v = row.get(i).cloned().unwrap_or_default();
            if i == 6 && (v == "1" || v.eq_ignore_ascii_case("true")) {
                "true".into()
            } else {
                v
            }
        })
        .collect()
}

/// What the plugin appends to the Info column for a role: `[handshake 1/3`, ...
fn info_label(role: &str) -> String {
    match role.split_once('-') {
        Some(("handshake", n)) => format!("[handshake {n}/3"),
        Some(("teardown", n)) => format!("[teardown {n}/4"),
        _ => format!("[{role}"),
    }
}

/// A fact column as the verdict's JSON value renders it.
fn fact_value(column: usize, v: &str) -> String {
    match column {
        11 | 12 => {
            let secs: f64 = v.parse().unwrap_or(f64::NAN);
            format!("{}", (secs * 1e6).round() as u64)
        }
        _ => v.to_string(),
    }
}

/// The snap length in a pcap file's header (None for pcapng and others).
fn pcap_snaplen(path: &Path) -> Option<u32> {
    let bytes = fs::read(path).ok()?;
    let header: [u8; 20] = bytes.get(..20)?.try_into().ok()?;
    let field = [header[16], header[17], header[18], header[19]];
    match [header[0], header[1], header[2], header[3]] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => Some(u32::from_le_bytes(field)),
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => Some(u32::from_be_bytes(field)),
        _ => None,
    }
}

/// True when the only difference is a `truncated` warning synack gives
/// because its reader, as libpcap, keeps no more than the pcap header's snap
/// length of a record that holds more (tshark keeps the whole record).
fn snaplen_difference(
    got: &[String],
    want: &[String],
    cap_len: &str,
    snaplen: Option<u32>,
) -> bool {
    let (Some(snaplen), Ok(cap_len)) = (snaplen, cap_len.parse::<u32>()) else {
        return false;
    };
    let last = got.len() - 1;
    let mut got_codes: Vec<&str> = got[last]
        .split(AGGREGATOR)
        .filter(|c| !c.is_empty())
        .collect();
    got_codes.push("truncated");
    got_codes.sort_unstable();
    let mut want_codes: Vec<&str> = want[last].split(AGGREGATOR).collect();
    want_codes.sort_unstable();
    snaplen != 0 && cap_len > snaplen && got[..last] == want[..last] && got_codes == want_codes
}

#[derive(Default)]
struct Totals {
    captures: usize,
    compared_captures: usize,
    unreadable_by_synack: Vec<String>,
    frames_compared: u64,
    tcp_frames: u64,
    tcp_frames_equal: u64,
    snaplen_differences: Vec<String>,
    two_pass_frames: u64,
    two_pass_equal: u64,
    filter_frames: u64,
    conns_checked: u64,
    failures: Vec<String>,
}

fn lines_with<'a>(
    text: &'a str,
    pred: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = &'a str> {
    text.lines().filter(move |l| pred(l))
}

/// Messages tshark prints about synack: a dissector bug, an exception, a
/// malformed packet attributed to it, or any complaint naming it.
fn synack_complaints(text: &str) -> Vec<String> {
    lines_with(text, |l| {
        let lower = l.to_ascii_lowercase();
        lower.contains("synack")
            && (lower.contains("dissector bug")
                || lower.contains("malformed packet")
                || lower.contains("exception")
                || lower.contains("warning")
                || lower.contains("error")
                || lower.contains("could not")
                || lower.contains("couldn't"))
    })
    .map(str::to_string)
    .collect()
}

/// Lines of synack's subtrees in `tshark -V` output that report an exception.
fn malformed_in_subtree(verbose: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let mut inside = false;
    for line in verbose.lines() {
        if !line.starts_with(' ') {
            inside = line.starts_with("synack TCP connection roles and states");
        }
        if inside
            && (line.contains("[Malformed Packet")
                || line.contains("Dissector bug")
                || line.contains("Exception"))
        {
            bad.push(line.to_string());
        }
    }
    bad
}

fn check_capture(s: &Setup, path: &Path, t: &Mutex<Totals>) {
    let file = path.to_str().expect("UTF-8 capture path");
    let mut fail = Vec::new();
    let mut note = |m: String| fail.push(format!("{file}: {m}"));

    // The reference: the command line.
    let cli = run(Command::new(&s.synack).args(["--format", "json", file]));
    let cli_code = cli.status.code();
    if !matches!(cli_code, Some(0) | Some(1)) {
        note(format!(
            "synack exited {:?}: {}",
            cli.status,
            String::from_utf8_lossy(&cli.stderr)
        ));
    }
    let packets = json_lines(&cli.stdout);
    let conns = if cli_code == Some(0) {
        let out = run(Command::new(&s.synack).args(["conns", "--format", "json", file]));
        json_lines(&out.stdout)
    } else {
        Vec::new()
    };

    // One pass, two passes, the filter, the full tree.
    let args = field_args(file);
    let one = tshark(s, &str_args(&args));
    let mut args2 = vec!["-2".to_string()];
    args2.extend(args.iter().cloned());
    let two = tshark(s, &str_args(&args2));
    let filtered = tshark(
        s,
        &[
            "-n",
            "-r",
            file,
            "-Y",
            "synack.role == \"handshake-1\"",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
    );
    let verbose = tshark(s, &["-n", "-r", file, "-V"]);

    for (what, out) in [
        ("tshark", &one),
        ("tshark -2", &two),
        ("tshark -Y", &filtered),
        ("tshark -V", &verbose),
    ] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stderr.contains("Some fields aren't valid") || stderr.contains("is neither a field") {
            note(format!(
                "{what}: synack's fields are unknown (plugin not loaded?): {stderr}"
            ));
        }
        for l in synack_complaints(&stderr)
            .into_iter()
            .chain(synack_complaints(&stdout))
        {
            note(format!("{what}: {l}"));
        }
    }
    for l in malformed_in_subtree(&String::from_utf8_lossy(&verbose.stdout)) {
        note(format!("tshark -V, in synack's tree: {l}"));
    }

    let one_rows = rows(&one.stdout);
    let two_rows = rows(&two.stdout);

    // Frames both read: all of tshark's, up to where synack stopped reading.
    let tshark_last = one_rows.keys().next_back().copied().unwrap_or(0);
    let cli_last = if cli_code == Some(0) {
        u64::MAX
    } else {
        packets
            .iter()
            .filter_map(|p| p["frame"].as_u64())
            .max()
            .unwrap_or(0)
    };
    let bound = tshark_last.min(cli_last);
    let by_frame: BTreeMap<u64, &Value> = packets
        .iter()
        .filter_map(|p| Some((p["frame"].as_u64()?, p)))
        .collect();

    let snaplen = pcap_snaplen(path);
    let mut frames_compared = 0;
    let mut tcp_frames = 0;
    let mut tcp_equal = 0;
    let mut snaplen_differences = Vec::new();
    for (&frame, row) in one_rows.range(..=bound) {
        frames_compared += 1;
        let got = annotation_columns(row);
        match by_frame.get(&frame) {
            Some(p) => {
                tcp_frames += 1;
                let want = expected_columns(p);
                if got == want {
                    tcp_equal += 1;
                } else if snaplen_difference(
                    &got,
                    &want,
                    row.get(CAP_LEN_COLUMN).map_or("", String::as_str),
                    snaplen,
                ) {
                    snaplen_differences.push(format!(
                        "{file}: frame {frame}: synack warns truncated: it keeps {} bytes (the snap length), tshark {}",
                        snaplen.unwrap_or(0),
                        row[CAP_LEN_COLUMN]
                    ));
                } else {
                    note(format!(
                        "frame {frame}: tshark {got:?}, synack --format json {want:?}"
                    ));
                }
            }
            None => {
                if got.iter().any(|c| !c.is_empty()) {
                    note(format!(
                        "frame {frame}: tshark annotates it ({got:?}), synack --format json does not"
                    ));
                }
            }
        }
    }
    // The role is in the Info column, on every pass.
    for (pass, rows) in [("one pass", &one_rows), ("two passes", &two_rows)] {
        for (frame, row) in rows {
            let role = row.get(3).map_or("", String::as_str);
            let info = row.get(INFO_COLUMN).map_or("", String::as_str);
            if !role.is_empty() && !info.contains(&info_label(role)) {
                note(format!(
                    "frame {frame} ({pass}): Info column {info:?} lacks {}]",
                    info_label(role)
                ));
            }
        }
    }
    for &frame in by_frame.keys() {
        if frame <= bound && !one_rows.contains_key(&frame) {
            note(format!(
                "frame {frame}: in synack's JSON, not in tshark's output"
            ));
        }
    }

    // Two passes give the same values (the Info column aside: tshark's own
    // dissectors, HTTP's for one, fill it differently on a second pass).
    let ours = |r: &[String]| r[..INFO_COLUMN.min(r.len())].to_vec();
    let mut two_equal = 0;
    for (frame, row) in &one_rows {
        match two_rows.get(frame) {
            Some(r) if ours(r) == ours(row) => two_equal += 1,
            Some(r) => note(format!("frame {frame}: one pass {row:?}, two passes {r:?}")),
            None => note(format!("frame {frame}: missing in the two-pass output")),
        }
    }
    if two_rows.len() != one_rows.len() {
        note(format!(
            "two passes gave {} frames, one pass {}",
            two_rows.len(),
            one_rows.len()
        ));
    }

    // The filter selects exactly the handshake-1 frames.
    let selected: BTreeSet<u64> = rows(&filtered.stdout)
        .into_keys()
        .filter(|f| *f <= bound)
        .collect();
    let wanted: BTreeSet<u64> = by_frame
        .iter()
        .filter(|(f, p)| **f <= bound && p["role"] == "handshake-1")
        .map(|(f, _)| *f)
        .collect();
    if selected != wanted {
        note(format!(
            "-Y 'synack.role == \"handshake-1\"' selects {selected:?}, the JSON's handshake-1 frames are {wanted:?}"
        ));
    }

    // Each fact's last value shown for a connection is its verdict's.
    let mut conns_checked = 0;
    if cli_code == Some(0) && one.status.success() && !conns.is_empty() {
        let mut last: BTreeMap<u64, BTreeMap<usize, String>> = BTreeMap::new();
        for row in one_rows.values() {
            let Some(conn) = row.get(1).and_then(|c| c.parse::<u64>().ok()) else {
                continue;
            };
            let facts = last.entry(conn).or_default();
            for (col, _) in FACT_COLUMNS {
                if let Some(v) = row.get(col).filter(|v| !v.is_empty()) {
                    facts.insert(col, fact_value(col, v));
                }
            }
        }
        for v in &conns {
            let conn = v["conn"].as_u64().expect("conn");
            let shown = last.get(&conn).cloned().unwrap_or_default();
            for (col, key) in FACT_COLUMNS {
                let mut want = opt_str(&v[key]);
                if key == "close" && want == "none" {
                    want.clear();
                }
                let got = shown.get(&col).cloned().unwrap_or_default();
                if got != want {
                    note(format!(
                        "conn {conn}: last {} shown is {got:?}, the verdict's {key} is {want:?}",
                        FIELDS[col]
                    ));
                }
            }
            conns_checked += 1;
        }
    }

    let mut t = t.lock().unwrap();
    t.captures += 1;
    if cli_code == Some(1) && packets.is_empty() {
        let why = String::from_utf8_lossy(&cli.stderr);
        t.unreadable_by_synack.push(format!(
            "{file}: {}",
            why.lines().next().unwrap_or("").trim()
        ));
    } else {
        t.compared_captures += 1;
    }
    t.frames_compared += frames_compared;
    t.tcp_frames += tcp_frames;
    t.tcp_frames_equal += tcp_equal;
    t.snaplen_differences.extend(snaplen_differences);
    t.two_pass_frames += one_rows.len() as u64;
    t.two_pass_equal += two_equal;
    t.filter_frames += wanted.len() as u64;
    t.conns_checked += conns_checked;
    t.failures.extend(fail);
}

#[test]
fn plugin_exports_only_the_plugin_symbols() {
    let s = setup();
    let out = check(
        Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(&s.plugin),
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "plugin_register",
            "plugin_version",
            "plugin_want_major",
            "plugin_want_minor"
        ]
    );
}

#[test]
fn tshark_shows_what_the_command_line_says() {
    let s = setup();

    // The plugin is loaded from the personal folder: its fields exist.
    let out = tshark(s, &["-G", "plugins"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    let home = s.home.to_string_lossy();
    assert!(
        listing
            .lines()
            .any(|l| l.contains("synack.so") && l.contains(home.as_ref())),
        "tshark -G plugins does not list {home}/.../synack.so:\n{listing}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let totals = Mutex::new(Totals::default());
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = s.captures.get(i) else {
                    break;
                };
                check_capture(s, path, &totals);
            });
        }
    });
    let t = totals.into_inner().unwrap();

    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "captures: {} ({} read by synack and compared, {} synack cannot read)",
        t.captures,
        t.compared_captures,
        t.unreadable_by_synack.len()
    );
    let _ = writeln!(summary, "frames compared: {}", t.frames_compared);
    let _ = writeln!(
        summary,
        "TCP frames annotated: {}, equal to synack --format json: {}",
        t.tcp_frames, t.tcp_frames_equal
    );
    for d in &t.snaplen_differences {
        let _ = writeln!(
            summary,
            "known difference (record longer than the pcap snap length): {d}"
        );
    }
    let _ = writeln!(
        summary,
        "two passes (-2): {} of {} frames equal to one pass",
        t.two_pass_equal, t.two_pass_frames
    );
    let _ = writeln!(
        summary,
        "filter synack.role == \"handshake-1\": {} frames expected",
        t.filter_frames
    );
    let _ = writeln!(
        summary,
        "connections whose facts match their verdict: {}",
        t.conns_checked
    );
    for u in &t.unreadable_by_synack {
        let _ = writeln!(summary, "not comparable (synack cannot read it): {u}");
    }
    let _ = writeln!(summary, "failures: {}", t.failures.len());
    eprint!("{summary}");
    let _ = fs::write(
        target_dir(&root()).join("wireshark/test-summary.txt"),
        &summary,
    );
    let _ = fs::remove_dir_all(&s.home);

    assert!(t.tcp_frames > 0, "no TCP frame was compared");
    assert!(
        t.failures.is_empty(),
        "{} failures:\n{}",
        t.failures.len(),
        t.failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
