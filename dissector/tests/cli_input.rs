//! Inputs and selection: standard input, gzip, BPF filters (against
//! tcpdump), `-c`, the tcpdump-compatible flags, completions.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{corpus, synack, synack_stdin};

fn path(rel: &str) -> String {
    corpus(rel).to_str().unwrap().to_string()
}

#[test]
fn standard_input_gives_the_same_output_as_the_file() {
    for rel in [
        "misc/simple_http.pcap",
        "misc/simple_http_tzsp.pcapng",
        "pcapplusplus/http-packets2.pcap",
    ] {
        let bytes = std::fs::read(corpus(rel)).unwrap();
        for format in ["text", "json", "tcpdump"] {
            let from_file = synack(&["--format", format, &path(rel)]);
            let from_stdin = synack_stdin(&["--format", format, "-"], Some(bytes.clone()));
            assert_eq!(from_file.0, 0);
            assert_eq!(from_file, from_stdin, "{rel} {format}");
        }
        let conns_file = synack(&["conns", &path(rel)]);
        let conns_stdin = synack_stdin(&["conns", "-r", "-"], Some(bytes));
        assert_eq!(conns_file, conns_stdin, "{rel} conns");
    }
}

#[test]
fn gzip_compressed_captures_are_read() {
    use flate2::write::GzEncoder;
    let bytes = std::fs::read(corpus("misc/simple_http.pcap")).unwrap();
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();
    let file = std::env::temp_dir().join(format!("synack-cli-{}.pcap.gz", std::process::id()));
    std::fs::write(&file, &gz).unwrap();
    let plain = synack(&["--format", "json", &path("misc/simple_http.pcap")]);
    let from_gz = synack(&["--format", "json", file.to_str().unwrap()]);
    let from_gz_stdin = synack_stdin(&["--format", "json", "-"], Some(gz));
    let _ = std::fs::remove_file(&file);
    assert_eq!(plain.0, 0);
    assert_eq!(plain, from_gz);
    assert_eq!(plain, from_gz_stdin);
}

/// The capture timestamps (µs) of the packets `tcpdump -tt -n -r FILE FILTER` lists.
fn tcpdump_times(file: &str, filter: &str) -> Vec<String> {
    let out = Command::new("tcpdump")
        .args(["-tt", "-n", "-r", file, filter])
        .stderr(Stdio::null())
        .output()
        .expect("tcpdump runs (CI installs it)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect()
}

#[test]
fn a_bpf_filter_selects_the_packets_tcpdump_selects() {
    let cases = [
        ("pcapplusplus/http-packets2.pcap", "tcp port 80"),
        (
            "pcapplusplus/http-packets2.pcap",
            "tcp[tcpflags] & tcp-syn != 0",
        ),
        (
            "pcapplusplus/four_ipv6_http_streams.pcap",
            "ip6 and greater 100",
        ),
        (
            "misc/simple_http.pcap",
            "tcp port 56789 and tcp[13] & 1 != 0",
        ),
        ("misc/simple_http_sll2.pcap", "tcp and greater 100"),
        ("pcapplusplus/NullLoopback.pcap", "tcp"),
        ("pcapplusplus/tcp-reassembly.pcap", "src port 80"),
    ];
    for (rel, filter) in cases {
        let file = path(rel);
        let expected = tcpdump_times(&file, filter);
        assert!(!expected.is_empty(), "{rel} [{filter}] selects nothing");
        // As tcpdump: `-r FILE` then the filter's words.
        let mut args = vec!["-r", &file, "--format", "json"];
        args.extend(filter.split(' '));
        let (code, out, err) = synack(&args);
        assert_eq!(code, 0, "{err}");
        let ours: Vec<String> = out
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let ts = v["ts"].as_str().unwrap();
                ts[..ts.len() - 3].to_string()
            })
            .collect();
        assert_eq!(ours, expected, "{rel} [{filter}]");
        // The filter is also the trailing words after FILE, and works for conns.
        let mut args = vec![file.as_str(), "--format", "json"];
        args.extend(filter.split(' '));
        assert_eq!(synack(&args).1, out);
        let mut args = vec!["conns", file.as_str()];
        args.extend(filter.split(' '));
        assert_eq!(synack(&args).0, 0);
    }
}

#[test]
fn the_tcpdump_format_with_a_filter_numbers_as_tcpdump() {
    // tcpdump's -# counts the packets that pass the filter.
    let file = path("pcapplusplus/http-packets2.pcap");
    let (code, ours, _) = synack(&[
        "--format", "tcpdump", "-#", "-tt", "-r", &file, "tcp", "port", "80",
    ]);
    assert_eq!(code, 0);
    let theirs = Command::new("tcpdump")
        .args(["-#", "-tt", "-n", "-r", &file, "tcp port 80"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let theirs = String::from_utf8_lossy(&theirs.stdout);
    let ours: Vec<&str> = ours.lines().collect();
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(&theirs) {
        // tcpdump goes on past `length N` with the payload's protocol.
        assert!(t.starts_with(o), "\n ours: {o}\ntheirs: {t}");
    }
}

#[test]
fn count_stops_after_count_records() {
    let file = path("pcapplusplus/http-packets2.pcap");
    let (_, out, _) = synack(&["--format", "json", "-c", "5", &file]);
    assert_eq!(out.lines().count(), 5);
    let (_, out, _) = synack(&["--format", "text", "-c", "3", &file]);
    assert_eq!(out.lines().count(), 6);
    let (_, all, _) = synack(&["--format", "json", &file, "tcp", "port", "80"]);
    let (_, some, _) = synack(&["--format", "json", "-c", "4", &file, "tcp", "port", "80"]);
    let first4: Vec<&str> = all.lines().take(4).collect();
    assert_eq!(some.lines().collect::<Vec<_>>(), first4);
}

#[test]
fn tcpdump_flags_change_the_tcpdump_line() {
    let file = path("misc/simple_http.pcap");
    let line = |flags: &[&str]| {
        let mut args = vec!["--format", "tcpdump"];
        args.extend(flags);
        args.push(&file);
        synack(&args).1.lines().next().unwrap().to_string()
    };
    assert!(line(&[]).starts_with("17:45:16.680626 IP 127.0.0.1.32784 > "));
    assert!(line(&["-t"]).starts_with("IP 127.0.0.1.32784 > "));
    assert!(line(&["-tt"]).starts_with("1732729516.680626 IP "));
    assert!(line(&["-tttt"]).starts_with("2024-11-27 17:45:16.680626 IP "));
    assert!(line(&["-#", "-t"]).starts_with("    1  IP "));
    assert!(line(&["-n", "-nn", "-t"]).starts_with("IP "));
    assert!(line(&["-v"]).contains("proto TCP (6)"));
    // -S: absolute sequence numbers on the third packet.
    let third = |flags: &[&str]| {
        let mut args = vec!["--format", "tcpdump", "-t"];
        args.extend(flags);
        args.push(&file);
        synack(&args).1.lines().nth(3).unwrap().to_string()
    };
    assert!(third(&[]).contains("seq 1:494"));
    assert!(third(&["-S"]).contains("seq 4078721276:4078721769"));
    // In the text format, the same line is followed by the annotation.
    let (_, text, _) = synack(&["-tt", &file]);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("1732729516.680626 IP "));
    assert_eq!(
        lines.next().unwrap(),
        "  conn 0 c2s [handshake 1/3] client SYN-SENT, server LISTEN"
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out, _) = synack(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(out.contains("synack") && out.contains("conns"), "{shell}");
    }
}

#[test]
fn the_text_format_shows_resets_retransmissions_and_combined_roles() {
    let fixture = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/captures")
            .join(name)
            .to_str()
            .unwrap()
            .to_string()
    };
    let annotations = |name: &str| -> Vec<String> {
        let (code, out, err) = synack(&["-t", &fixture(name)]);
        assert_eq!(code, 0, "{err}");
        let lines: Vec<&str> = out.lines().collect();
        // Every tcpdump line is followed by its annotation line.
        for pair in lines.chunks(2) {
            assert!(pair[0].starts_with("IP"), "{pair:?}");
            assert!(pair[1].starts_with("  conn "), "{pair:?}");
        }
        lines
            .iter()
            .skip(1)
            .step_by(2)
            .map(|s| s.to_string())
            .collect()
    };
    let refused = annotations("v4-refused.pcap");
    assert_eq!(
        refused[1],
        "  conn 0 s2c [reset: refused] client CLOSED, server CLOSED"
    );
    let unanswered = annotations("v4-syn-unanswered.pcap");
    assert_eq!(
        unanswered[1],
        "  conn 0 c2s [handshake 1/3, SYN retransmission] client SYN-SENT, server LISTEN"
    );
    let passive = annotations("v4-server-close.pcap");
    assert!(
        passive.iter().any(|l| l.contains("[teardown 1/4]")),
        "{passive:?}"
    );
    assert!(
        passive.iter().any(|l| l.contains("[teardown 4/4]")),
        "{passive:?}"
    );
    let combined = "  conn 0 c2s [teardown 3/4 +teardown 2/4] client LAST-ACK, server TIME-WAIT";
    assert!(passive.iter().any(|l| l == combined), "{passive:?}");
}
