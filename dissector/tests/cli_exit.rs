//! Exit status and messages: damaged input (1), usage (2), malformed packets
//! (warnings, 0), and a closed standard output.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

mod common;
use common::{corpus, synack};

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("synack-cli-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Offsets at which the records of a little-endian microsecond pcap start.
fn record_offsets(pcap: &[u8]) -> Vec<usize> {
    assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    let mut at = 24;
    let mut offsets = Vec::new();
    while at + 16 <= pcap.len() {
        offsets.push(at);
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    offsets
}

#[test]
fn a_file_cut_inside_a_record_exits_1_naming_the_offset_after_the_earlier_packets() {
    let whole = std::fs::read(corpus("misc/simple_http.pcap")).unwrap();
    let offsets = record_offsets(&whole);
    // Cut ten bytes into the 20th record's data.
    let start = offsets[19];
    let cut = TempFile::new("cut.pcap", &whole[..start + 16 + 10]);
    for format in ["json", "text"] {
        let (code, out, err) = synack(&["--format", format, cut.path()]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(cut.path()), "{err}");
        assert!(err.contains(&format!("byte offset {start}")), "{err}");
        assert!(err.contains("frame 20"), "{err}");
        if format == "json" {
            assert_eq!(out.lines().count(), 19, "the earlier packets are printed");
        } else {
            assert!(out.lines().count() >= 38);
        }
    }
    // The verdicts of what was read are printed too.
    let (code, out, _) = synack(&["conns", "--format", "json", cut.path()]);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 2);
}

#[test]
fn a_file_that_is_not_a_capture_exits_1() {
    let text = TempFile::new("not-a-capture.txt", b"hello, this is not a capture\n");
    let (code, out, err) = synack(&[text.path()]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains(text.path()) && err.contains("not a pcap"),
        "{err}"
    );
    let empty = TempFile::new("empty.pcap", b"");
    assert_eq!(synack(&[empty.path()]).0, 1);
    let (code, _, err) = synack(&["/nonexistent/capture.pcap"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/capture.pcap"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let file = corpus("misc/simple_http.pcap");
    let file = file.to_str().unwrap();
    for args in [
        &["--bogus", file][..],
        &["--format", "xml", file],
        &[],
        &["-tttttt", file],
        &["-r", file, "tcp", "port"],
        &["-c", "many", file],
        &["conns", "--format", "text", file],
        &["completions", "nosuchshell"],
        &["-r", file, "-i", "lo"],
    ] {
        let (code, out, err) = synack(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
        assert!(!err.is_empty(), "{args:?}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let (code, out, _) = synack(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Examples:") && out.contains("synack conns"));
    let (code, out, _) = synack(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("synack "));
    let (code, out, _) = synack(&["conns", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--format"));
}

#[test]
fn malformed_tcp_is_a_warning_naming_the_frame_and_exits_0() {
    // Both records' data offsets (28 bytes) run past their 20-byte segments;
    // tshark flags them (`tcp.hdr_len` 28 on a 20-byte segment).
    let file = corpus("pcapplusplus/tcp-malformed.pcap");
    let file = file.to_str().unwrap();
    for format in ["json", "text", "tcpdump"] {
        let (code, out, err) = synack(&["--format", format, file]);
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("synack: warning: frame 1: TCP at offset 34: data offset 7 (28 bytes)"),
            "{err}"
        );
        assert!(err.contains("synack: warning: frame 2: "), "{err}");
        match format {
            "json" => assert!(out.is_empty(), "nothing on stdout for malformed frames"),
            // tcpdump prints these with its error mark; so does synack.
            _ => assert!(
                out.contains("[bad hdr length 28 - too long, > 20]"),
                "{out}"
            ),
        }
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // More output than a pipe holds (64 KiB), so synack meets the closed pipe.
    let file = corpus("pcapplusplus/sll.pcap");
    for format in ["json", "text"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_synack"))
            .args(["--format", format])
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        // The pipe's reading end is closed here, as `| head -1` does.
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.is_empty(), "{err}");
        assert_eq!(out.status.code(), Some(0));
    }
}

#[test]
fn a_capture_truncated_while_it_is_read_exits_1_with_a_message() {
    // Over 8 MiB, so the reader maps it: simple_http's records again and
    // again.
    let whole = std::fs::read(corpus("misc/simple_http.pcap")).unwrap();
    let (header, records) = whole.split_at(24);
    let mut big = header.to_vec();
    while big.len() < 9 << 20 {
        big.extend_from_slice(records);
    }
    let file = TempFile::new("truncated-while-read.pcap", &big);
    let mut child = Command::new(env!("CARGO_BIN_EXE_synack"))
        .arg(file.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // synack is soon blocked on the full pipe, far from the end of its
    // first window; the file is emptied under it, then it goes on.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(!first.is_empty());
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file.0)
        .unwrap()
        .set_len(0)
        .unwrap();
    std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("truncated while it was read") || err.contains("truncated to 0 bytes"),
        "{err}"
    );
}
