//! Helpers of the C ABI tests: where the built libraries are, the captures,
//! compiling C with gcc, and the verdicts `synack conns --format json` gives.
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The profile's output directory (`target/debug`): the test executable sits
/// in its `deps/`, and cargo builds this crate's libraries (the cdylib and
/// staticlib included) before any of its tests.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps/");
    deps.parent().expect("target/<profile>/").to_path_buf()
}

/// A file cargo built, in the profile directory or its `deps/`: the newer of
/// the two (`cargo test` refreshes `deps/`; an earlier `cargo build` may have
/// left an older copy in the profile directory).
fn built(name: &str) -> PathBuf {
    let dir = target_dir();
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    [dir.join(name), dir.join("deps").join(name)]
        .into_iter()
        .filter(|p| p.is_file())
        .max_by_key(modified)
        .unwrap_or_else(|| {
            panic!(
                "{name} not found in {} (nor deps/): cargo builds it with this crate's tests",
                dir.display()
            )
        })
}

/// `libsynack.so`.
pub fn libsynack_so() -> PathBuf {
    built("libsynack.so")
}

/// `libsynack.a`.
pub fn libsynack_a() -> PathBuf {
    built("libsynack.a")
}

/// The appproto plugin (built as a dev-dependency).
pub fn appproto_so() -> PathBuf {
    built("libsynack_appproto.so")
}

/// A fresh empty directory under `target/tmp/`, named after this process;
/// those of test processes that have ended are removed on the way.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let tmp = target_dir().join("..").join("tmp");
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for e in entries.flatten() {
            let file = e.file_name();
            let Some(rest) = file.to_str().and_then(|f| f.strip_prefix("synack-capi-")) else {
                continue;
            };
            // synack-capi-<name>-<pid>-<n>
            let pid = rest.rsplit('-').nth(1).and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = tmp.join(format!(
        "synack-capi-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A directory holding `libsynack.so.1` (the SONAME programs look for) and
/// `libsynack.so`, both links to the built library.
pub fn lib_dir() -> PathBuf {
    let dir = scratch("lib");
    let so = libsynack_so();
    for name in ["libsynack.so.1", "libsynack.so"] {
        std::os::unix::fs::symlink(&so, dir.join(name)).expect("symlink");
    }
    dir
}

/// The real captures: every file of `fixtures/captures/` and the shared
/// corpus's `misc/simple_http.pcap`.
pub fn captures() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/captures"))
        .expect("fixtures/captures")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".pcap") || name.ends_with(".pcapng")
        })
        .collect();
    all.sort();
    let shared = root().join("../shared/corpus/misc/simple_http.pcap");
    assert!(
        shared.is_file(),
        "{}: the shared corpus is missing",
        shared.display()
    );
    all.push(shared);
    all
}

/// Runs a command, panicking with its output when it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command that must succeed; its standard output.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// True when `tool` runs.
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Compiles C `sources` with gcc (C11, all warnings as errors, the header's
/// directory included) into `out`, with `extra` arguments after the sources.
pub fn gcc(sources: &[&Path], out: &Path, extra: &[&str]) {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let mut cmd = Command::new("gcc");
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-I"])
        .arg(&include)
        .args(sources)
        .arg("-o")
        .arg(out)
        .args(extra);
    run_ok(&mut cmd);
}

/// Builds `examples/annotate.c` against the shared library, with extra gcc
/// arguments (e.g. `-fsanitize=address`).
pub fn build_annotate(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/annotate.c");
    let out = dir.join(name);
    let libs = lib_dir();
    let libs = libs.to_str().expect("UTF-8 path");
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend([
        format!("-L{libs}"),
        "-lsynack".to_string(),
        format!("-Wl,-rpath,{libs}"),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    gcc(&[&src], &out, &args);
    out
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &Path) -> std::time::SystemTime {
    let mut t = std::time::SystemTime::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return t;
    };
    for e in entries.flatten() {
        let p = e.path();
        let m = if p.is_dir() {
            newest(&p)
        } else {
            e.metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::SystemTime::UNIX_EPOCH)
        };
        t = t.max(m);
    }
    t
}

/// The `synack` command of this profile, when it is built and newer than
/// the sources it is built from (a stale one would compare old code).
/// `SYNACK_CAPI_NO_CLI=1` makes the tests use the in-process reference.
pub fn fresh_cli() -> Option<PathBuf> {
    if std::env::var_os("SYNACK_CAPI_NO_CLI").is_some() {
        return None;
    }
    let cli = target_dir().join("synack");
    let built = cli.metadata().and_then(|m| m.modified()).ok()?;
    let sources = newest(&root().join("dissector/src")).max(newest(&root().join("core/src")));
    (built >= sources).then_some(cli)
}

/// The verdicts of `synack conns --format json` on `capture`, in
/// connection order: from the command when a fresh one is built, else from
/// the same code the command runs (the pipeline and the JSON writer).
pub fn conns_json(capture: &Path) -> Vec<Value> {
    let text = match fresh_cli() {
        Some(cli) => run_ok(
            Command::new(cli)
                .args(["conns", "--format", "json"])
                .arg(capture),
        ),
        None => conns_json_in_process(capture),
    };
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON verdict"))
        .collect()
}

/// `synack conns --format json` done in process: default tracker limits, no
/// checksum verification, malformed frames skipped, verdicts in connection order.
pub fn conns_json_in_process(capture: &Path) -> String {
    use synack_core::capture::CaptureReader;
    use synack_dissector::format::json;
    use synack_dissector::pipeline::Pipeline;
    use synack_dissector::tracker::TrackerConfig;

    let mut pipeline = Pipeline::new(TrackerConfig::default(), false);
    let mut reader = CaptureReader::open(capture).expect("capture opens");
    let mut verdicts = Vec::new();
    while let Some(p) = reader.next_packet() {
        let Ok(p) = p else { break };
        let _ = pipeline.process(&p);
        verdicts.extend(pipeline.tracker().drain_ended().map(|(v, _)| v));
    }
    verdicts.extend(pipeline.tracker().finish().into_iter().map(|(v, _)| v));
    verdicts.sort_by_key(|v| v.conn);
    let mut out = Vec::new();
    for v in &verdicts {
        json::write_verdict(&mut out, v).expect("write to a Vec");
    }
    String::from_utf8(out).expect("UTF-8 JSON")
}
