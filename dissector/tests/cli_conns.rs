//! `synack conns`: one verdict per connection, as JSON or a table.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{corpus, synack};

const VERDICT_KEYS: [&str; 34] = [
    "conn",
    "first_frame",
    "last_frame",
    "client_ip",
    "client_port",
    "server_ip",
    "server_port",
    "start_ns",
    "end_ns",
    "packets_c2s",
    "packets_s2c",
    "bytes_c2s",
    "bytes_s2c",
    "completeness",
    "conn_state",
    "history",
    "open",
    "close",
    "active_closer",
    "syn_retransmissions",
    "rtt_syn_synack_us",
    "rtt_synack_ack_us",
    "client_mss",
    "server_mss",
    "client_wscale",
    "server_wscale",
    "client_sack_permitted",
    "server_sack_permitted",
    "client_timestamps",
    "server_timestamps",
    "client_final_state",
    "server_final_state",
    "roles",
    "labels",
];

fn verdicts(file: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["conns", "--format", "json", file.to_str().unwrap()];
    args.extend(extra);
    let (code, out, err) = synack(&args);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn a_full_handshake_and_teardown() {
    // One connection of simple_http.pcap: its first twelve frames.
    let all = verdicts(&corpus("misc/simple_http.pcap"), &[]);
    assert_eq!(all.len(), 2);
    let v = verdicts(&corpus("misc/simple_http.pcap"), &["tcp", "port", "32784"]);
    assert_eq!(v.len(), 1);
    let v = &v[0];
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, VERDICT_KEYS);
    assert_eq!(v["conn"], 0);
    assert_eq!(v["first_frame"], 1);
    assert_eq!(v["last_frame"], 12);
    assert_eq!(v["client_ip"], "127.0.0.1");
    assert_eq!(v["client_port"], 32784);
    assert_eq!(v["server_port"], 56789);
    assert_eq!(v["open"], "three-way");
    assert_eq!(v["close"], "fin");
    assert_eq!(
        v["packets_c2s"].as_u64().unwrap() + v["packets_s2c"].as_u64().unwrap(),
        12
    );
    assert_eq!(v["bytes_c2s"], 493);
    assert_eq!(v["bytes_s2c"], 200);
    assert_eq!(v["completeness"], 31);
    assert!(v["end_ns"].as_u64() > v["start_ns"].as_u64());
    assert!(v["rtt_syn_synack_us"].as_u64().unwrap() < 1000);
    assert!(v["rtt_synack_ack_us"].is_u64());
    assert_eq!(v["client_mss"], 65495);
    assert_eq!(v["server_wscale"], 7);
    assert_eq!(v["client_sack_permitted"], true);
    assert_eq!(v["server_timestamps"], true);
    assert_eq!(v["syn_retransmissions"], 0);
    assert!(matches!(
        v["active_closer"].as_str(),
        Some("client" | "server")
    ));
    assert!(v["conn_state"].is_string() && v["history"].is_string());
    assert_eq!(v["roles"]["handshake-1"], 1);
    assert_eq!(v["roles"]["handshake-2"], 2);
    assert_eq!(v["roles"]["handshake-3"], 3);
    assert!(v["roles"]["teardown-1"].is_u64() && v["roles"]["teardown-4"].is_u64());
    assert_eq!(v["labels"], serde_json::json!({}));
}

#[test]
fn verdicts_are_in_connection_order_and_count_every_packet() {
    for rel in [
        "pcapplusplus/http-packets2.pcap",
        "pcapplusplus/four_ipv6_http_streams.pcap",
    ] {
        let file = corpus(rel);
        let v = verdicts(&file, &[]);
        let conns: Vec<u64> = v.iter().map(|v| v["conn"].as_u64().unwrap()).collect();
        assert_eq!(conns, (0..v.len() as u64).collect::<Vec<_>>(), "{rel}");
        let packets: u64 = v
            .iter()
            .map(|v| v["packets_c2s"].as_u64().unwrap() + v["packets_s2c"].as_u64().unwrap())
            .sum();
        let (_, json, _) = synack(&["--format", "json", file.to_str().unwrap()]);
        assert_eq!(packets, json.lines().count() as u64, "{rel}");
    }
}

#[test]
fn tracker_limits_end_connections_early() {
    // Four interleaved streams: with a cap of one connection, or a tiny idle
    // timeout, connections end and start again; no packet is lost.
    let file = corpus("pcapplusplus/four_ipv6_http_streams.pcap");
    let total = |v: &[Value]| -> u64 {
        v.iter()
            .map(|v| v["packets_c2s"].as_u64().unwrap() + v["packets_s2c"].as_u64().unwrap())
            .sum()
    };
    let normal = verdicts(&file, &[]);
    assert_eq!(normal.len(), 4);
    for limit in [
        &["--max-connections", "1"][..],
        &["--idle-timeout", "0.001"],
        &["--time-wait", "0"],
    ] {
        let limited = verdicts(&file, limit);
        if limit[0] != "--time-wait" {
            assert!(limited.len() > normal.len(), "{limit:?}");
        }
        assert_eq!(total(&limited), total(&normal), "{limit:?}");
        let conns: Vec<u64> = limited
            .iter()
            .map(|v| v["conn"].as_u64().unwrap())
            .collect();
        assert_eq!(conns, (0..limited.len() as u64).collect::<Vec<_>>());
    }
}

#[test]
fn the_table_has_a_header_and_a_row_per_connection() {
    let (code, out, _) = synack(&["conns", corpus("misc/simple_http.pcap").to_str().unwrap()]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    for h in [
        "CONN", "CLIENT", "SERVER", "OPEN", "CLOSE", "CLOSER", "PKTS", "BYTES", "STATE", "HISTORY",
    ] {
        assert!(lines[0].contains(h), "{h}");
    }
    assert!(lines[1]
        .trim_start()
        .starts_with("0  127.0.0.1:32784  127.0.0.1:56789  three-way  fin"));
    assert!(lines[2].trim_start().starts_with("1  127.0.0.1:32796"));
    // Columns line up.
    let at = |l: &str, s: &str| l.find(s).unwrap();
    assert_eq!(at(lines[0], "OPEN"), at(lines[1], "three-way"));
    assert_eq!(at(lines[1], "three-way"), at(lines[2], "three-way"));
}

/// Connections are independent of each other (under the default limits), so
/// tracking them on two threads gives the verdicts one thread gives.
#[test]
fn two_threads_give_the_verdicts_of_one() {
    let mut compared = 0;
    for file in common::all_captures() {
        let file = file.to_str().expect("utf-8 path");
        let (code1, one, _) = synack(&["conns", "--format", "json", file]);
        let (code2, two, _) = synack(&["conns", "--format", "json", "--threads", "2", file]);
        assert_eq!(code1, code2, "{file}: exit codes");
        assert_eq!(one, two, "{file}: verdicts");
        compared += one.lines().count();
    }
    assert!(compared > 300, "only {compared} verdicts compared");
}
