//! `synack --format json`: every line is JSON with the documented keys, and
//! the header fields agree with tshark on the corpus captures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;
use common::{corpus, synack};

fn json_lines(file: &Path) -> Vec<Value> {
    let (code, out, err) = synack(&["--format", "json", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{}: {err}", file.display());
    out.lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {l}", file.display()))
        })
        .collect()
}

const PACKET_KEYS: [&str; 25] = [
    "frame",
    "ts_ns",
    "ts",
    "src",
    "sport",
    "dst",
    "dport",
    "seq",
    "ack",
    "hdr_len",
    "flags",
    "win",
    "len",
    "checksum",
    "urg",
    "options",
    "conn",
    "dir",
    "role",
    "combines",
    "reset_kind",
    "retransmission",
    "states",
    "warnings",
    "labels",
];

/// tshark's view of every TCP frame: frame number -> [seq, ack, flags, len, win].
fn tshark_tcp(file: &Path) -> HashMap<u64, [Option<u64>; 5]> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-o", "tcp.relative_sequence_numbers:FALSE", "-Y", "tcp"])
        .args(["-T", "fields", "-E", "separator=/t"])
        .args([
            "-e",
            "frame.number",
            "-e",
            "tcp.seq_raw",
            "-e",
            "tcp.ack_raw",
        ])
        .args([
            "-e",
            "tcp.flags",
            "-e",
            "tcp.len",
            "-e",
            "tcp.window_size_value",
        ])
        .output()
        .expect("tshark runs (CI installs it)");
    let mut rows = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        // Tunnelled or ICMP-quoted TCP gives several values: not compared.
        if f.len() < 6 || f.iter().any(|v| v.contains(',')) {
            continue;
        }
        let num = |s: &str| {
            if let Some(hex) = s.strip_prefix("0x") {
                u64::from_str_radix(hex, 16).ok()
            } else {
                s.parse().ok()
            }
        };
        let Some(frame) = num(f[0]) else { continue };
        rows.insert(
            frame,
            [num(f[1]), num(f[2]), num(f[3]), num(f[4]), num(f[5])],
        );
    }
    rows
}

fn json_files() -> Vec<PathBuf> {
    let mut files = vec![corpus("misc/simple_http.pcap")];
    let mut ppp: Vec<PathBuf> = std::fs::read_dir(corpus("pcapplusplus"))
        .expect("corpus next to the repository")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pcap") || n.ends_with(".pcapng") || n.ends_with(".cap")
        })
        .collect();
    ppp.sort();
    files.extend(ppp);
    files
}

#[test]
fn every_line_is_json_with_the_documented_keys_in_order() {
    for file in json_files() {
        for v in json_lines(&file) {
            let obj = v.as_object().expect("an object");
            let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            assert_eq!(keys, PACKET_KEYS, "{}", file.display());
            let ts_ns = v["ts_ns"].as_u64().unwrap();
            assert_eq!(
                v["ts"].as_str().unwrap(),
                format!("{}.{:09}", ts_ns / 1_000_000_000, ts_ns % 1_000_000_000)
            );
            assert!(v["warnings"].is_array());
            assert_eq!(v["labels"], serde_json::json!({}));
            assert!(matches!(v["dir"].as_str(), Some("c2s" | "s2c")));
            assert!(v["retransmission"].is_null() || v["retransmission"] == true);
            assert!(v["combines"].is_null() || !v["combines"].as_array().unwrap().is_empty());
            for opt in v["options"].as_array().unwrap() {
                assert!(opt["kind"].is_u64(), "{opt}");
                assert!(
                    opt["len"].is_u64() || opt.get("malformed").is_some(),
                    "{opt}"
                );
            }
        }
    }
}

#[test]
fn header_fields_equal_tsharks() {
    let mut compared = 0;
    for file in json_files() {
        let tshark = tshark_tcp(&file);
        for v in json_lines(&file) {
            let frame = v["frame"].as_u64().unwrap();
            // tshark shows a fragmented segment's TCP header on the frame
            // that completes the datagram; synack on the first fragment.
            let Some(row) = tshark.get(&frame) else {
                continue;
            };
            let ours = ["seq", "ack", "flags", "len", "win"].map(|k| v[k].as_u64());
            for (i, key) in ["seq", "ack", "flags", "len", "win"].iter().enumerate() {
                // tshark leaves ack_raw out when ACK is not set.
                if row[i].is_some() {
                    assert_eq!(ours[i], row[i], "{} frame {frame}: {key}", file.display());
                }
            }
            compared += 1;
        }
    }
    assert!(compared > 1000, "only {compared} packets compared");
}

#[test]
fn the_tcp_frames_are_tsharks_on_plain_captures() {
    for name in [
        "misc/simple_http.pcap",
        "pcapplusplus/four_ipv6_http_streams.pcap",
        "pcapplusplus/http-packets2.pcap",
        "pcapplusplus/TwoHttpRequests.pcap",
        "pcapplusplus/one_tcp_stream.pcap",
        "pcapplusplus/tcp-reassembly.pcap",
    ] {
        let file = corpus(name);
        let mut ours: Vec<u64> = json_lines(&file)
            .iter()
            .map(|v| v["frame"].as_u64().unwrap())
            .collect();
        let mut theirs: Vec<u64> = tshark_tcp(&file).into_keys().collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{name}");
    }
}

#[test]
fn a_full_handshake_and_teardown_have_their_roles() {
    let lines = json_lines(&corpus("misc/simple_http.pcap"));
    let conn0: Vec<&Value> = lines.iter().filter(|v| v["conn"] == 0).collect();
    let role = |i: usize| conn0[i]["role"].as_str();
    assert_eq!(conn0[0]["frame"], 1);
    assert_eq!(role(0), Some("handshake-1"));
    assert_eq!(conn0[0]["dir"], "c2s");
    assert_eq!(
        conn0[0]["states"],
        serde_json::json!({"client": "SYN-SENT", "server": "LISTEN"})
    );
    assert_eq!(role(1), Some("handshake-2"));
    assert_eq!(conn0[1]["dir"], "s2c");
    assert_eq!(role(2), Some("handshake-3"));
    assert_eq!(role(3), None);
    let roles: Vec<&str> = conn0.iter().filter_map(|v| v["role"].as_str()).collect();
    for r in ["teardown-1", "teardown-3", "teardown-4"] {
        assert!(roles.contains(&r), "{r} missing from {roles:?}");
    }
    // teardown-2 is a role of its own or combined into teardown-3.
    let has_t2 = conn0.iter().any(|v| {
        v["role"] == "teardown-2"
            || v["combines"]
                .as_array()
                .is_some_and(|c| c.iter().any(|r| r == "teardown-2"))
    });
    assert!(has_t2);
    // The SYN's options are decoded.
    let opts = conn0[0]["options"].as_array().unwrap();
    assert_eq!(
        opts[0],
        serde_json::json!({"kind": 2, "len": 4, "mss": 65495})
    );
    assert!(opts
        .iter()
        .any(|o| o["kind"] == 8 && o["tsval"].is_u64() && o["tsecr"] == 0));
    assert!(opts.iter().any(|o| o["kind"] == 3 && o["shift"] == 7));
}

#[test]
fn schema_version_is_printed_and_documented() {
    let (code, out, _) = synack(&["--schema-version"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "1");
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/json-schema.md"),
    )
    .expect("docs/json-schema.md");
    assert!(doc.contains("schema version 1"));
    for key in PACKET_KEYS {
        assert!(doc.contains(&format!("`{key}`")), "{key} is not documented");
    }
    let (_, help, _) = synack(&["--help"]);
    assert!(help.contains("schema version 1"));
}
