//! The C consumer, `examples/annotate.c`: compiled with gcc (C11, -Wall
//! -Wextra -Werror) against libsynack.so, run on the real captures, its
//! facts compared with `synack conns --format json`; run again under
//! valgrind and AddressSanitizer, which must find nothing; and built through
//! the pkg-config file of an installed copy, shared and static.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

/// One connection's block of annotate's output.
#[derive(Debug, Default)]
struct Block {
    words: BTreeMap<String, String>,
    labels: Vec<(String, String)>,
}

fn parse(out: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for line in out.lines() {
        if line.starts_with("frame=") {
            continue; // -v packet lines
        }
        if line.starts_with("conn=") {
            blocks.push(Block::default());
        }
        let block = blocks.last_mut().expect("output starts with a conn= line");
        if let Some(label) = line.strip_prefix("  label ") {
            let (k, v) = label.split_once('=').expect("label name=value");
            block.labels.push((k.to_string(), v.to_string()));
            continue;
        }
        for word in line.split_whitespace() {
            let (k, v) = word
                .split_once('=')
                .unwrap_or_else(|| panic!("not key=value: {word:?} in {line:?}"));
            let old = block.words.insert(k.to_string(), v.to_string());
            assert!(old.is_none(), "{k} printed twice");
        }
    }
    blocks
}

/// A JSON value as annotate prints it.
fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The built example (once per test binary).
fn annotate() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| build_annotate(&scratch("annotate"), "annotate", &[]))
}

/// Checks annotate's blocks against the verdicts, word by word, and that no
/// verdict field was left out.
fn compare(capture: &Path, blocks: &[Block], verdicts: &[Value]) {
    let name = capture.display();
    assert_eq!(
        blocks.len(),
        verdicts.len(),
        "{name}: connections through the C ABI vs synack conns"
    );
    for block in blocks {
        let conn: usize = block.words["conn"].parse().expect("conn number");
        let v = &verdicts[conn];
        let roles = v["roles"].as_object().expect("roles object");
        for (k, got) in &block.words {
            let want = if k.starts_with("handshake-") || k.starts_with("teardown-") || k == "reset"
            {
                roles.get(k).map(text).unwrap_or_else(|| "absent".into())
            } else {
                v.get(k).map(text).unwrap_or_else(|| "absent".into())
            };
            assert_eq!(got, &want, "{name}: conn {conn}: {k}");
        }
        for (k, _) in v.as_object().expect("verdict object") {
            if k != "roles" && k != "labels" {
                assert!(
                    block.words.contains_key(k),
                    "{name}: conn {conn}: {k} not printed"
                );
            }
        }
        for k in roles.keys() {
            assert!(
                block.words.contains_key(k),
                "{name}: conn {conn}: role {k} not printed"
            );
        }
    }
}

#[test]
fn annotate_matches_synack_conns() {
    let exe = annotate();
    eprintln!(
        "reference: {}",
        match fresh_cli() {
            Some(cli) => format!("{} conns --format json", cli.display()),
            None => "the pipeline and JSON writer of synack conns (no fresh CLI built)".into(),
        }
    );
    let mut connections = 0;
    for capture in captures() {
        let verdicts = conns_json(&capture);
        let out = run_ok(Command::new(exe).arg(&capture));
        let blocks = parse(&out);
        compare(&capture, &blocks, &verdicts);
        connections += blocks.len();
        // The callback-driven loop gives the same verdicts (-v adds packet lines only).
        let processed = run_ok(Command::new(exe).args(["-v", "--process"]).arg(&capture));
        let stripped: String = processed
            .lines()
            .filter(|l| !l.starts_with("frame="))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(stripped, out, "{}: --process differs", capture.display());
    }
    assert!(connections > 40, "only {connections} connections compared");
}

#[test]
fn annotate_prints_handshake_and_teardown() {
    let capture = root().join("fixtures/captures/app-http.pcap");
    let out = run_ok(Command::new(annotate()).arg("-v").arg(&capture));
    assert!(
        out.contains("frame=1 conn=0 dir=c2s role=handshake-1 client=SYN-SENT server=LISTEN"),
        "{out}"
    );
    assert!(out.contains("  close=fin active_closer=client teardown-1=15 teardown-2=16 teardown-3=16 teardown-4=17"), "{out}");
    assert!(
        out.contains("client_final_state=TIME-WAIT server_final_state=CLOSED conn_state=SF"),
        "{out}"
    );
}

#[test]
fn annotate_reports_errors() {
    let out = run(Command::new(annotate()).arg("/nonexistent/capture.pcap"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/capture.pcap"), "{err}");
    let out = run(Command::new(annotate())
        .args(["--plugin", "/nonexistent/plugin.so"])
        .arg(root().join("fixtures/captures/app-http.pcap")));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot load"));
}

/// The runs the memory checkers repeat: plain, with -v --process, with the
/// appproto plugin, IPv6, pcapng, many connections, cut records.
fn checked_runs() -> Vec<Vec<String>> {
    let cap = |n: &str| {
        root()
            .join("fixtures/captures")
            .join(n)
            .display()
            .to_string()
    };
    let plugin = appproto_so().display().to_string();
    let mut runs = vec![
        vec![cap("app-http.pcap")],
        vec!["-v".into(), "--process".into(), cap("v4-port-reuse.pcap")],
        vec!["--plugin".into(), plugin.clone(), cap("app-tls.pcap")],
        vec![
            "--plugin".into(),
            plugin,
            "--process".into(),
            cap("app-ssh.pcap"),
        ],
        vec!["-v".into(), cap("v6-abort-server.pcap")],
        vec![cap("multi-if.pcapng")],
        vec![cap("v4-snap64.pcap")],
    ];
    runs.push(vec![root()
        .join("../shared/corpus/misc/simple_http.pcap")
        .display()
        .to_string()]);
    runs
}

#[test]
fn annotate_is_clean_under_valgrind() {
    assert!(
        have("valgrind"),
        "valgrind is needed (apt-get install valgrind; scripts/test.sh installs it)"
    );
    let exe = annotate();
    for args in checked_runs() {
        let out = run(Command::new("valgrind")
            .args([
                "--error-exitcode=99",
                "--leak-check=full",
                "--show-leak-kinds=definite,indirect,possible",
                "--errors-for-leak-kinds=definite,indirect,possible",
                "--track-origins=yes",
            ])
            .arg(exe)
            .args(&args));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "valgrind annotate {args:?}: {}\n{err}",
            out.status
        );
        let summary: Vec<&str> = err
            .lines()
            .filter(|l| {
                l.contains("ERROR SUMMARY")
                    || l.contains("definitely lost")
                    || l.contains("in use at exit")
            })
            .collect();
        eprintln!("valgrind annotate {args:?}: {summary:?}");
        assert!(err.contains("ERROR SUMMARY: 0 errors"), "{err}");
    }
}

#[test]
fn annotate_is_clean_under_address_sanitizer() {
    let dir = scratch("asan");
    let exe = build_annotate(
        &dir,
        "annotate-asan",
        &["-fsanitize=address", "-fno-omit-frame-pointer"],
    );
    let supp = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsan.supp");
    let mut runs = checked_runs();
    runs.extend(
        captures()
            .into_iter()
            .map(|c| vec![c.display().to_string()]),
    );
    for args in runs {
        let out = run(Command::new(&exe)
            .args(&args)
            .env(
                "ASAN_OPTIONS",
                "detect_leaks=1:abort_on_error=0:exitcode=99",
            )
            .env(
                "LSAN_OPTIONS",
                format!("suppressions={}:print_suppressions=0", supp.display()),
            ));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success()
                && !err.contains("ERROR: AddressSanitizer")
                && !err.contains("ERROR: LeakSanitizer"),
            "ASan annotate {args:?}: {}\n{err}",
            out.status
        );
    }
}

#[test]
fn installed_copy_builds_through_pkg_config() {
    assert!(
        have("pkg-config"),
        "pkg-config is needed (apt-get install pkg-config)"
    );
    let prefix = scratch("prefix");
    // cargo leaves the libraries in the profile directory or in its deps/
    // (a fresh `cargo test` does not always copy them up): gather both.
    let built = scratch("built");
    for lib in [libsynack_so(), libsynack_a()] {
        std::fs::copy(&lib, built.join(lib.file_name().expect("a file name"))).expect("copy");
    }
    run_ok(
        Command::new("sh")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh"))
            .arg(&prefix)
            .arg(&built),
    );
    let pc_path = prefix.join("lib/pkgconfig");
    let pkg = |args: &[&str]| -> Vec<String> {
        run_ok(
            Command::new("pkg-config")
                .args(args)
                .arg("synack")
                .env("PKG_CONFIG_PATH", &pc_path),
        )
        .split_whitespace()
        .map(String::from)
        .collect()
    };
    assert_eq!(pkg(&["--modversion"]), [env!("CARGO_PKG_VERSION")]);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/annotate.c");
    let capture = root().join("fixtures/captures/app-http.pcap");
    let reference = run_ok(Command::new(annotate()).arg(&capture));

    // Shared: the program records libsynack.so.1 (the SONAME) and finds it
    // through the installed links.
    let shared = prefix.join("annotate-shared");
    let mut cmd = Command::new("gcc");
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg(&src)
        .arg("-o")
        .arg(&shared)
        .args(pkg(&["--cflags", "--libs"]))
        .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()));
    run_ok(&mut cmd);
    let needed = run_ok(Command::new("readelf").arg("-d").arg(&shared));
    assert!(needed.contains("[libsynack.so.1]"), "{needed}");
    assert_eq!(run_ok(Command::new(&shared).arg(&capture)), reference);

    // Static: libsynack.a and the system libraries it needs (Libs.private).
    let stat = prefix.join("annotate-static");
    let mut cmd = Command::new("gcc");
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg(&src)
        .arg("-o")
        .arg(&stat)
        .args(pkg(&["--cflags"]))
        .arg(prefix.join("lib/libsynack.a"))
        .args(
            pkg(&["--static", "--libs-only-other", "--libs-only-l"])
                .into_iter()
                .filter(|l| l != "-lsynack"),
        );
    run_ok(&mut cmd);
    let needed = run_ok(Command::new("readelf").arg("-d").arg(&stat));
    assert!(!needed.contains("libsynack"), "{needed}");
    assert_eq!(run_ok(Command::new(&stat).arg(&capture)), reference);
}
