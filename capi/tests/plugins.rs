//! Run-time plugins: the loader refuses a plugin of another ABI version and a
//! shared object without the descriptor (small C plugins built here with
//! gcc); a C plugin's labels reach the verdicts, through the Rust host and
//! the C ABI alike; and the appproto plugin labels the real HTTP, TLS and
//! SSH captures with exactly what tshark shows in them.

mod common;

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use libloading::Library;
use synack::plugin_host::{Plugin, PluginError, PluginHost, SYNACK_PLUGIN_ABI_VERSION};
use synack::tracker::synack_tracker;
use synack::types::{synack_status, synack_verdict};
use synack_core::capture::CaptureReader;
use synack_dissector::pipeline::{Outcome, Pipeline};
use synack_dissector::tracker::TrackerConfig;

/// The test plugins, built once into a scratch directory.
fn plugin(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = scratch("plugins");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plugins");
        for n in ["counting", "wrong_abi", "no_descriptor"] {
            gcc(
                &[&src.join(format!("{n}.c"))],
                &dir.join(format!("{n}.so")),
                &["-shared", "-fPIC"],
            );
        }
        dir
    });
    dir.join(format!("{name}.so"))
}

/// Connection number to its labels, by the Rust API: the pipeline and a
/// plugin host, as the `synack` command would run them.
fn labels_by_rust(capture: &Path, plugins: &[&Path]) -> BTreeMap<u64, Vec<(String, String)>> {
    let mut host = PluginHost::new();
    for p in plugins {
        host.load(p).expect("plugin loads");
    }
    let mut pipeline = Pipeline::new(TrackerConfig::default(), false);
    let mut reader = CaptureReader::open(capture).expect("capture");
    let mut out = BTreeMap::new();
    while let Some(Ok(p)) = reader.next_packet() {
        if let Outcome::Tcp { frame, annotation } = pipeline.process(&p) {
            host.observe(&annotation, &frame);
        }
        for (v, _) in pipeline.tracker().drain_ended() {
            out.insert(v.conn, host.close(v.conn));
        }
    }
    for (v, _) in pipeline.tracker().finish() {
        out.insert(v.conn, host.close(v.conn));
    }
    out
}

type NewFn = unsafe extern "C" fn(*const std::ffi::c_void) -> *mut synack_tracker;
type AddFn = unsafe extern "C" fn(*mut synack_tracker, *const c_char) -> i32;
type ErrFn = unsafe extern "C" fn(*const synack_tracker) -> *const c_char;
type FreeFn = unsafe extern "C" fn(*mut synack_tracker);

fn libsynack() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    // SAFETY: libsynack's initialisers are Rust's own.
    LIB.get_or_init(|| unsafe { Library::new(libsynack_so()) }.expect("dlopen libsynack.so"))
}

/// `synack_tracker_add_plugin` through the shared library: status and message.
fn add_through_c_abi(path: &Path) -> (i32, String) {
    let lib = libsynack();
    // SAFETY: the header's signatures; a fresh tracker, freed at the end.
    unsafe {
        let new: NewFn = *lib.get(b"synack_tracker_new\0").unwrap();
        let add: AddFn = *lib.get(b"synack_tracker_add_plugin\0").unwrap();
        let err: ErrFn = *lib.get(b"synack_tracker_last_error\0").unwrap();
        let free: FreeFn = *lib.get(b"synack_tracker_free\0").unwrap();
        let t = new(std::ptr::null());
        let p = CString::new(path.to_str().unwrap()).unwrap();
        let status = add(t, p.as_ptr());
        let msg = CStr::from_ptr(err(t)).to_string_lossy().into_owned();
        free(t);
        (status, msg)
    }
}

#[test]
fn refuses_a_plugin_of_another_abi_version() {
    let path = plugin("wrong_abi");
    let err = Plugin::load(&path).expect_err("refused");
    assert_eq!(
        err,
        PluginError::AbiVersion {
            path: path.clone(),
            found: SYNACK_PLUGIN_ABI_VERSION + 98
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("plugin ABI version 99") && msg.contains("hosts version 1"),
        "{msg}"
    );
    let (status, msg) = add_through_c_abi(&path);
    assert_eq!(status, synack_status::ErrAbi as i32);
    assert!(msg.contains("plugin ABI version 99"), "{msg}");
}

#[test]
fn refuses_a_shared_object_without_the_descriptor() {
    let path = plugin("no_descriptor");
    let err = Plugin::load(&path).expect_err("refused");
    assert_eq!(err, PluginError::NoDescriptor { path: path.clone() });
    assert!(
        err.to_string()
            .contains("exports no synack_plugin_descriptor_v1"),
        "{err}"
    );
    let (status, msg) = add_through_c_abi(&path);
    assert_eq!(status, synack_status::ErrPlugin as i32);
    assert!(msg.contains("not a synack plugin"), "{msg}");

    // Not a shared object at all, and no file.
    let text = scratch("not-so").join("plugin.so");
    std::fs::write(&text, "not an ELF file").unwrap();
    assert!(matches!(Plugin::load(&text), Err(PluginError::Load { .. })));
    assert!(matches!(
        Plugin::load("/nonexistent/plugin.so"),
        Err(PluginError::Load { .. })
    ));
    assert_eq!(add_through_c_abi(&text).0, synack_status::ErrPlugin as i32);
}

#[test]
fn a_c_plugins_labels_reach_the_verdicts() {
    let path = plugin("counting");
    let loaded = Plugin::load(&path).expect("loads");
    assert_eq!(loaded.name(), "counting");
    drop(loaded);
    let capture = root().join("fixtures/captures/app-http.pcap");
    let labels = labels_by_rust(&capture, &[&path]);
    assert_eq!(
        labels[&0],
        [
            ("test.server_port".to_string(), "80".to_string()),
            ("test.payload".to_string(), "230/382".to_string())
        ]
    );
    // Through the C ABI: the same labels on the verdicts of a tracker.
    let by_c = labels_by_c_abi(&capture, &[&path]);
    assert_eq!(by_c, labels);

    // Every on_open was matched by an on_close, also for connections still
    // open when the host goes (port reuse: several connections).
    // SAFETY: the test plugin's own function; the loader's handle keeps it loaded.
    let lib = unsafe { Library::new(&path) }.unwrap();
    let live: unsafe extern "C" fn() -> std::ffi::c_long =
        *unsafe { lib.get(b"counting_live_states\0") }.unwrap();
    let capture = root().join("fixtures/captures/v4-port-reuse.pcap");
    let mut host = PluginHost::new();
    host.load(&path).unwrap();
    let mut pipeline = Pipeline::new(TrackerConfig::default(), false);
    let mut reader = CaptureReader::open(&capture).unwrap();
    while let Some(Ok(p)) = reader.next_packet() {
        if let Outcome::Tcp { frame, annotation } = pipeline.process(&p) {
            host.observe(&annotation, &frame);
        }
    }
    // SAFETY: a plain call.
    assert!(unsafe { live() } > 0);
    drop(host);
    assert_eq!(unsafe { live() }, 0, "states freed when the host goes");
}

/// Connection number to labels through the C ABI (the shared library's
/// tracker, fed by its capture loop).
fn labels_by_c_abi(capture: &Path, plugins: &[&Path]) -> BTreeMap<u64, Vec<(String, String)>> {
    type OpenFn = unsafe extern "C" fn(*const c_char) -> *mut std::ffi::c_void;
    type ProcessFn = unsafe extern "C" fn(
        *mut std::ffi::c_void,
        *mut synack_tracker,
        synack::capture::synack_packet_callback,
        *mut std::ffi::c_void,
    ) -> i32;
    type CapFreeFn = unsafe extern "C" fn(*mut std::ffi::c_void);
    type FinishFn = unsafe extern "C" fn(*mut synack_tracker) -> i32;
    type NextFn = unsafe extern "C" fn(*mut synack_tracker, *mut synack_verdict) -> i32;
    let lib = libsynack();
    let mut out = BTreeMap::new();
    // SAFETY: the header's signatures (the callback passed is NULL).
    unsafe {
        let new: NewFn = *lib.get(b"synack_tracker_new\0").unwrap();
        let add: AddFn = *lib.get(b"synack_tracker_add_plugin\0").unwrap();
        let free: FreeFn = *lib.get(b"synack_tracker_free\0").unwrap();
        let open: OpenFn = *lib.get(b"synack_capture_open\0").unwrap();
        let process: ProcessFn = *lib.get(b"synack_capture_process\0").unwrap();
        let cap_free: CapFreeFn = *lib.get(b"synack_capture_free\0").unwrap();
        let finish: FinishFn = *lib.get(b"synack_tracker_finish\0").unwrap();
        let next: NextFn = *lib.get(b"synack_tracker_next_verdict\0").unwrap();
        let t = new(std::ptr::null());
        for p in plugins {
            let p = CString::new(p.to_str().unwrap()).unwrap();
            assert_eq!(add(t, p.as_ptr()), 0);
        }
        let c = CString::new(capture.to_str().unwrap()).unwrap();
        let cap = open(c.as_ptr());
        assert!(!cap.is_null());
        assert_eq!(process(cap, t, None, std::ptr::null_mut()), 0);
        assert_eq!(finish(t), 0);
        let mut v = std::mem::MaybeUninit::<synack_verdict>::uninit();
        while next(t, v.as_mut_ptr()) == 1 {
            let v = v.assume_init_ref();
            let labels = (0..v.label_count)
                .map(|i| {
                    let l = &*v.labels.add(i);
                    let s = |p| CStr::from_ptr(p).to_string_lossy().into_owned();
                    (s(l.name), s(l.value))
                })
                .collect();
            out.insert(v.conn, labels);
        }
        cap_free(cap);
        free(t);
    }
    out
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// What tshark shows in the app captures (`tshark -r app-http.pcap -T fields
/// -e http.request.method -e http.host`, `-e tls.handshake.extensions_server_name`,
/// `-e ssh.protocol`).
fn expected_app_labels() -> Vec<(&'static str, Vec<(String, String)>)> {
    let banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10";
    vec![
        (
            "app-http.pcap",
            pairs(&[
                ("app", "http"),
                ("http.method", "GET"),
                ("http.host", "example.test"),
            ]),
        ),
        (
            "app-tls.pcap",
            pairs(&[("app", "tls"), ("tls.sni", "example.test")]),
        ),
        (
            "app-ssh.pcap",
            pairs(&[
                ("app", "ssh"),
                ("ssh.banner", banner),
                ("ssh.client_banner", banner),
            ]),
        ),
    ]
}

#[test]
fn appproto_labels_http_tls_and_ssh() {
    let plugin = appproto_so();
    assert_eq!(
        Plugin::load(&plugin).expect("appproto loads").name(),
        "appproto"
    );
    for (name, want) in expected_app_labels() {
        let capture = root().join("fixtures/captures").join(name);
        let by_rust = labels_by_rust(&capture, &[&plugin]);
        assert_eq!(by_rust.len(), 1, "{name}: one connection");
        assert_eq!(by_rust[&0], want, "{name}");
        assert_eq!(
            labels_by_c_abi(&capture, &[&plugin]),
            by_rust,
            "{name}: C ABI"
        );
    }
}

#[test]
fn appproto_and_a_c_plugin_together_in_the_c_example() {
    let exe = build_annotate(&scratch("annotate-plugins"), "annotate", &[]);
    let capture = root().join("fixtures/captures/app-http.pcap");
    let out = run_ok(
        Command::new(exe)
            .arg("--plugin")
            .arg(appproto_so())
            .arg("--plugin")
            .arg(plugin("counting"))
            .arg(&capture),
    );
    let labels: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  label "))
        .collect();
    assert_eq!(
        labels,
        [
            "app=http",
            "http.method=GET",
            "http.host=example.test",
            "test.server_port=80",
            "test.payload=230/382"
        ]
    );
}

#[test]
fn appproto_labels_every_connection() {
    let plugin = appproto_so();
    let mut apps = BTreeMap::<String, usize>::new();
    for capture in captures() {
        for (conn, labels) in labels_by_rust(&capture, &[&plugin]) {
            let app = labels
                .first()
                .filter(|(k, _)| k == "app")
                .unwrap_or_else(|| {
                    panic!(
                        "{} conn {conn}: no app label: {labels:?}",
                        capture.display()
                    )
                });
            *apps.entry(app.1.clone()).or_default() += 1;
        }
    }
    eprintln!("app labels over the captures: {apps:?}");
    assert!(apps.get("unknown").is_some_and(|&n| n > 10));
    assert!(
        apps.get("http").is_some_and(|&n| n >= 2),
        "app-http and simple_http: {apps:?}"
    );
}

#[test]
fn appprotos_declarations_match_the_header_types() {
    use std::mem::{align_of, size_of};
    fn same<A, B>(what: &str) {
        assert_eq!(
            (size_of::<A>(), align_of::<A>()),
            (size_of::<B>(), align_of::<B>()),
            "{what}"
        );
    }
    same::<synack_appproto::synack_endpoint, synack::types::synack_endpoint>("endpoint");
    same::<synack_appproto::synack_label_sink, synack::plugin_host::synack_label_sink>("sink");
    same::<synack_appproto::synack_plugin_descriptor, synack::plugin_host::synack_plugin_descriptor>(
        "descriptor",
    );
    assert_eq!(
        synack_appproto::SYNACK_PLUGIN_ABI_VERSION,
        SYNACK_PLUGIN_ABI_VERSION
    );
}
