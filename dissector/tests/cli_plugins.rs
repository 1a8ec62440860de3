//! `--plugin` and SYNACK_PLUGIN_DIR: the appproto plugin's labels in `conns`
//! output on the real HTTP, TLS and SSH captures, and refusals as warnings.

use std::path::PathBuf;

mod common;
use common::{fixtures_dir, synack};

/// The appproto plugin cargo built for this test (a dev-dependency's cdylib).
fn appproto_so() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    [
        profile.join("libsynack_appproto.so"),
        profile.join("deps/libsynack_appproto.so"),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .expect("libsynack_appproto.so is built with the dissector's tests")
}

fn conns_json(args: &[&str]) -> Vec<serde_json::Value> {
    let (code, out, err) = synack(args);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn fixture(name: &str) -> String {
    fixtures_dir().join(name).to_string_lossy().into_owned()
}

#[test]
fn appproto_labels_http_tls_and_ssh_connections() {
    let plugin = appproto_so();
    let plugin = plugin.to_str().unwrap();
    // What was sent (fixtures/README.md): GET with Host example.test, a
    // ClientHello with SNI example.test, an SSH banner exchange.
    for (file, key, want) in [
        ("app-http.pcap", "http.host", "example.test"),
        ("app-tls.pcap", "tls.sni", "example.test"),
        ("app-ssh.pcap", "app", "ssh"),
    ] {
        let verdicts = conns_json(&[
            "conns",
            "--format",
            "json",
            "--plugin",
            plugin,
            &fixture(file),
        ]);
        assert!(!verdicts.is_empty(), "{file}");
        for v in &verdicts {
            assert_eq!(v["labels"][key], want, "{file}: {v}");
        }
        // The same through two threads.
        let sharded = conns_json(&[
            "conns",
            "--format",
            "json",
            "--threads",
            "2",
            "--plugin",
            plugin,
            &fixture(file),
        ]);
        assert_eq!(sharded, verdicts, "{file}: --threads 2");
    }
}

#[test]
fn the_plugin_folder_is_loaded_and_labels_reach_the_table_and_text() {
    let dir = std::env::temp_dir().join(format!("synack-plugin-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(appproto_so(), dir.join("appproto.so")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["conns", &fixture("app-http.pcap")])
        .env("SYNACK_PLUGIN_DIR", &dir)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.lines().next().unwrap().ends_with("LABELS"), "{table}");
    assert!(table.contains("app=http"), "{table}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_synack"))
        .arg(fixture("app-http.pcap"))
        .env("SYNACK_PLUGIN_DIR", &dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("labels: app=http"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_that_is_not_a_plugin_is_refused_with_a_warning() {
    // A shared object without the descriptor symbol: libc's own would do, but
    // a capture file is simpler and equally not a plugin.
    let bogus = fixture("v4-client-close.pcap");
    let (code, out, err) = synack(&["conns", "--format", "json", "--plugin", &bogus, &bogus]);
    assert_eq!(code, 0, "synack goes on without the plugin");
    assert!(
        err.contains("warning") && err.contains("v4-client-close.pcap"),
        "{err}"
    );
    assert!(out.contains("\"labels\":{}"), "{out}");
}
