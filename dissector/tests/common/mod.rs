//! Helpers shared by the dissector's capture tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Every capture file under the third-party corpus and the generated fixtures.
pub fn all_captures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for root in [corpus_dir(), fixtures_dir()] {
        collect(&root, &mut files);
    }
    files.sort();
    files
}

/// `../shared/corpus` next to the repository.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

/// The generated real-traffic captures committed in the repository.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/captures")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if is_capture(&path) {
            out.push(path);
        }
    }
}

fn is_capture(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Runs tshark on `file` with `args` and returns its standard output, one
/// `Vec<String>` of tab-separated fields per line.
pub fn tshark_fields(file: &Path, args: &[&str], fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(file)
        .args(args)
        .args(["-T", "fields", "-E", "separator=/t"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs (CI installs it)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// A short name for reports: the path below the corpus or fixtures folder.
pub fn short_name(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.rsplit_once("/corpus/")
        .or_else(|| s.rsplit_once("/fixtures/captures/"))
        .map(|(_, tail)| tail.to_owned())
        .unwrap_or_else(|| s.into_owned())
}

/// A path below `../shared/corpus`.
pub fn corpus(rel: &str) -> PathBuf {
    corpus_dir().join(rel)
}

/// Runs the `synack` binary and returns (exit code, stdout, stderr).
pub fn synack(args: &[&str]) -> (i32, String, String) {
    synack_stdin(args, None)
}

/// Runs the `synack` binary with `stdin` on its standard input.
pub fn synack_stdin(args: &[&str], stdin: Option<Vec<u8>>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synack runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let out = child.wait_with_output().expect("synack ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
