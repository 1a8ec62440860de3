//! libsynack.so as a C program sees it: opened with libloading, every
//! function the header declares resolved, and the annotations and verdicts
//! it gives on the real captures compared with the Rust API's (`Pipeline`).
//! Then the boundary's checks: NULL pointers, short buffers, bad lengths,
//! wrong link types, bad files.

mod common;

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::Path;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use common::*;
use libloading::Library;
use synack::capture::synack_capture;
use synack::tracker::synack_tracker;
use synack::types::*;
use synack_core::capture::CaptureReader;
use synack_core::flow::Endpoint;
use synack_dissector::annotation::{Direction, Role};
use synack_dissector::pipeline::{Outcome, Pipeline, Skipped};
use synack_dissector::tracker::TrackerConfig;
use synack_dissector::verdict::{ConnectionFacts, SideOptions, Verdict};

const OK: i32 = synack_status::Ok as i32;
const NOT_TCP: i32 = synack_status::NotTcp as i32;
const ERR_NULL: i32 = synack_status::ErrNull as i32;
const ERR_INVALID: i32 = synack_status::ErrInvalid as i32;
const ERR_SHORT: i32 = synack_status::ErrShort as i32;
const ERR_MALFORMED: i32 = synack_status::ErrMalformed as i32;
const ERR_UNSUPPORTED: i32 = synack_status::ErrUnsupported as i32;

type NameFn = unsafe extern "C" fn(i32) -> *const c_char;

/// The functions these tests call, resolved from the shared library.
struct Api {
    version: unsafe extern "C" fn() -> *const c_char,
    abi_version: unsafe extern "C" fn() -> u32,
    last_error: unsafe extern "C" fn() -> *const c_char,
    tcp_parse: unsafe extern "C" fn(*const u8, usize, usize, *mut synack_tcp_header) -> i32,
    options_init: unsafe extern "C" fn(*mut synack_tcp_options_iter, *const u8, usize, bool) -> i32,
    options_next: unsafe extern "C" fn(*mut synack_tcp_options_iter, *mut synack_tcp_option) -> i32,
    frame_decode: unsafe extern "C" fn(u32, *const u8, usize, *mut synack_frame) -> i32,
    endpoint_addr: unsafe extern "C" fn(*const synack_endpoint, *mut c_char, usize) -> i32,
    config_default: unsafe extern "C" fn(*mut synack_tracker_config) -> i32,
    tracker_new: unsafe extern "C" fn(*const synack_tracker_config) -> *mut synack_tracker,
    tracker_free: unsafe extern "C" fn(*mut synack_tracker),
    feed: unsafe extern "C" fn(
        *mut synack_tracker,
        u32,
        u64,
        u64,
        *const u8,
        usize,
        *mut synack_annotation,
    ) -> i32,
    next_verdict: unsafe extern "C" fn(*mut synack_tracker, *mut synack_verdict) -> i32,
    finish: unsafe extern "C" fn(*mut synack_tracker) -> i32,
    add_plugin: unsafe extern "C" fn(*mut synack_tracker, *const c_char) -> i32,
    tracker_error: unsafe extern "C" fn(*const synack_tracker) -> *const c_char,
    capture_open: unsafe extern "C" fn(*const c_char) -> *mut synack_capture,
    capture_next: unsafe extern "C" fn(*mut synack_capture, *mut synack_packet) -> i32,
    capture_free: unsafe extern "C" fn(*mut synack_capture),
    capture_error: unsafe extern "C" fn(*const synack_capture) -> *const c_char,
    capture_process: unsafe extern "C" fn(
        *mut synack_capture,
        *mut synack_tracker,
        synack::capture::synack_packet_callback,
        *mut c_void,
    ) -> i32,
    role_name: NameFn,
    state_name: NameFn,
    reset_kind_name: NameFn,
    direction_name: NameFn,
    open_kind_name: NameFn,
    close_kind_name: NameFn,
    side_name: NameFn,
    warning_name: NameFn,
    status_name: NameFn,
}

fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    // SAFETY: libsynack's initialisers are Rust's own.
    LIB.get_or_init(|| unsafe { Library::new(libsynack_so()) }.expect("dlopen libsynack.so"))
}

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let lib = library();
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the header declares the function with this type.
                *unsafe { lib.get(concat!($name, "\0").as_bytes()) }
                    .unwrap_or_else(|e| panic!("{}: {e}", $name))
            };
        }
        Api {
            version: sym!("synack_version"),
            abi_version: sym!("synack_abi_version"),
            last_error: sym!("synack_last_error"),
            tcp_parse: sym!("synack_tcp_parse"),
            options_init: sym!("synack_tcp_options_init"),
            options_next: sym!("synack_tcp_options_next"),
            frame_decode: sym!("synack_frame_decode"),
            endpoint_addr: sym!("synack_endpoint_addr"),
            config_default: sym!("synack_tracker_config_default"),
            tracker_new: sym!("synack_tracker_new"),
            tracker_free: sym!("synack_tracker_free"),
            feed: sym!("synack_tracker_feed"),
            next_verdict: sym!("synack_tracker_next_verdict"),
            finish: sym!("synack_tracker_finish"),
            add_plugin: sym!("synack_tracker_add_plugin"),
            tracker_error: sym!("synack_tracker_last_error"),
            capture_open: sym!("synack_capture_open"),
            capture_next: sym!("synack_capture_next"),
            capture_free: sym!("synack_capture_free"),
            capture_error: sym!("synack_capture_last_error"),
            capture_process: sym!("synack_capture_process"),
            role_name: sym!("synack_role_name"),
            state_name: sym!("synack_state_name"),
            reset_kind_name: sym!("synack_reset_kind_name"),
            direction_name: sym!("synack_direction_name"),
            open_kind_name: sym!("synack_open_kind_name"),
            close_kind_name: sym!("synack_close_kind_name"),
            side_name: sym!("synack_side_name"),
            warning_name: sym!("synack_warning_name"),
            status_name: sym!("synack_status_name"),
        }
    })
}

fn s(p: *const c_char) -> Option<String> {
    // SAFETY: the library returns NULL or a NUL-terminated string.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

fn name(f: NameFn, v: i32) -> Option<String> {
    // SAFETY: name helpers take any value.
    s(unsafe { f(v) })
}

/// The functions `synack.h` declares.
fn header_functions() -> Vec<String> {
    let header =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/synack.h"))
            .expect("include/synack.h");
    let mut names = Vec::new();
    for line in header.lines() {
        let declaration = line.starts_with(|c: char| c.is_ascii_alphabetic())
            && !line.starts_with("typedef")
            && !line.starts_with("enum")
            && !line.ends_with('{');
        if !declaration {
            continue;
        }
        let Some(start) = line.find("synack_") else {
            continue;
        };
        let rest = &line[start..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        // The name may be the return type's (`struct synack_tracker *synack_tracker_new(`).
        let mut candidate = &rest[..end];
        let mut tail = &rest[end..];
        while !tail.starts_with('(') {
            let Some(next) = tail.find("synack_") else {
                break;
            };
            tail = &tail[next..];
            let e = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            candidate = &tail[..e];
            tail = &tail[e..];
        }
        if tail.starts_with('(') {
            names.push(candidate.to_string());
        }
    }
    names
}

#[test]
fn every_header_function_is_exported() {
    let names = header_functions();
    assert!(
        names.len() >= 30,
        "only {} functions found: {names:?}",
        names.len()
    );
    let lib = library();
    for n in &names {
        // SAFETY: only resolved, not called.
        let sym = unsafe { lib.get::<*const c_void>(n.as_bytes()) };
        assert!(sym.is_ok(), "{n} is declared in synack.h but not exported");
    }
    // And nothing else is exported under the prefix.
    if have("nm") {
        let out = run_ok(
            std::process::Command::new("nm")
                .args(["-D", "--defined-only"])
                .arg(libsynack_so()),
        );
        for line in out.lines() {
            if let Some(sym) = line
                .split_whitespace()
                .nth(2)
                .filter(|s| s.starts_with("synack_"))
            {
                assert!(
                    names.iter().any(|n| n == sym),
                    "{sym} is exported but not in synack.h"
                );
            }
        }
    }
    let a = api();
    // SAFETY: plain calls.
    unsafe {
        assert_eq!((a.abi_version)(), SYNACK_ABI_VERSION);
        assert_eq!(s((a.version)()).as_deref(), Some(env!("CARGO_PKG_VERSION")));
    }
}

fn addr_text(ep: &synack_endpoint) -> String {
    let mut buf = [0 as c_char; 64];
    // SAFETY: a valid endpoint and buffer.
    let n = unsafe { (api().endpoint_addr)(ep, buf.as_mut_ptr(), buf.len()) };
    assert!(n > 0, "endpoint_addr: {n}");
    s(buf.as_ptr()).unwrap()
}

fn check_side(c: &synack_side_options, r: &SideOptions, what: &str) {
    assert_eq!(c.mss, r.mss.map_or(-1, i32::from), "{what} mss");
    assert_eq!(c.wscale, r.wscale.map_or(-1, i32::from), "{what} wscale");
    assert_eq!(c.sack_permitted, r.sack_permitted, "{what} sack");
    assert_eq!(c.timestamps, r.timestamps, "{what} timestamps");
}

fn check_facts(c: &synack_facts, r: &ConnectionFacts, what: &str) {
    let a = api();
    assert_eq!(
        name(a.open_kind_name, c.open as i32).as_deref(),
        Some(r.open.name()),
        "{what} open"
    );
    let us = |v: Option<u64>| v.map_or(-1, |v| v as i64);
    assert_eq!(c.rtt_syn_synack_us, us(r.rtt_syn_synack_us), "{what} rtt1");
    assert_eq!(c.rtt_synack_ack_us, us(r.rtt_synack_ack_us), "{what} rtt2");
    check_side(&c.client, &r.client_options, what);
    check_side(&c.server, &r.server_options, what);
    assert_eq!(
        name(a.close_kind_name, c.close as i32).as_deref(),
        Some(r.close.name()),
        "{what} close"
    );
    assert_eq!(
        name(a.side_name, c.active_closer as i32),
        r.active_closer.map(|s| s.name().to_string()),
        "{what} active closer"
    );
}

fn check_endpoint(c: &synack_endpoint, r: &Endpoint, what: &str) {
    assert_eq!(addr_text(c), r.addr.to_string(), "{what} address");
    assert_eq!(c.port, r.port, "{what} port");
}

fn check_verdict(c: &synack_verdict, r: &Verdict, what: &str) {
    let a = api();
    assert_eq!(c.conn, r.conn, "{what}");
    let what = &format!("{what} conn {}", r.conn);
    assert_eq!(
        (c.first_frame, c.last_frame),
        (r.first_frame, r.last_frame),
        "{what} frames"
    );
    check_endpoint(&c.client, &r.client, what);
    check_endpoint(&c.server, &r.server, what);
    assert_eq!(
        (c.start_ns, c.end_ns),
        (r.start_ns, r.end_ns),
        "{what} times"
    );
    assert_eq!(
        (c.packets_c2s, c.packets_s2c, c.bytes_c2s, c.bytes_s2c),
        (r.c2s.packets, r.s2c.packets, r.c2s.bytes, r.s2c.bytes),
        "{what} counters"
    );
    assert_eq!(c.completeness, r.completeness, "{what} completeness");
    assert_eq!(
        s(c.conn_state.as_ptr()).as_deref(),
        Some(r.conn_state),
        "{what} conn_state"
    );
    let history = s(c.history.as_ptr()).unwrap();
    if c.history_truncated {
        assert!(r.history.starts_with(&history) && history.len() == SYNACK_HISTORY_LEN - 1);
    } else {
        assert_eq!(history, r.history, "{what} history");
    }
    assert_eq!(
        name(a.close_kind_name, c.close as i32).as_deref(),
        Some(r.facts.close.name()),
        "{what} close"
    );
    assert_eq!(
        name(a.side_name, c.active_closer as i32),
        r.facts.active_closer.map(|s| s.name().to_string()),
        "{what} active closer"
    );
    assert_eq!(
        c.syn_retransmissions, r.syn_retransmissions,
        "{what} syn retransmissions"
    );
    check_facts(&c.facts, &r.facts, what);
    assert_eq!(
        name(a.state_name, c.client_final_state as i32),
        r.final_states.client.map(|s| s.name().to_string()),
        "{what} client final state"
    );
    assert_eq!(
        name(a.state_name, c.server_final_state as i32),
        r.final_states.server.map(|s| s.name().to_string()),
        "{what} server final state"
    );
    assert_eq!(c.roles_seen, r.roles_seen.bits(), "{what} roles seen");
    for (i, role) in Role::ALL.iter().enumerate() {
        assert_eq!(name(a.role_name, i as i32).as_deref(), Some(role.name()));
        assert_eq!(
            c.role_frames[i],
            r.frame_of(*role).unwrap_or(0),
            "{what} {role}"
        );
    }
    assert_eq!(c.label_count, 0);
}

/// Feeds `capture` to the C ABI and to the Rust pipeline side by side,
/// comparing every annotation and verdict. Returns (annotations, verdicts) compared.
fn compare_capture(capture: &Path) -> (usize, usize) {
    let a = api();
    let what = capture.display().to_string();
    let mut pipeline = Pipeline::new(TrackerConfig::default(), false);
    // SAFETY: NULL config: the defaults.
    let tracker = unsafe { (a.tracker_new)(null()) };
    assert!(!tracker.is_null());
    let mut reader = CaptureReader::open(capture).expect("capture");
    let (mut annotations, mut verdicts) = (0, 0);
    let mut rust_verdicts = Vec::new();
    let mut c_verdicts = Vec::new();
    let drain = |tracker, out: &mut Vec<synack_verdict>| loop {
        let mut v = std::mem::MaybeUninit::<synack_verdict>::uninit();
        // SAFETY: a live tracker and a writable verdict.
        match unsafe { (a.next_verdict)(tracker, v.as_mut_ptr()) } {
            1 => out.push(unsafe { v.assume_init() }),
            0 => break,
            e => panic!("next_verdict: {e}"),
        }
    };
    while let Some(packet) = reader.next_packet() {
        let Ok(p) = packet else { break };
        let mut ann = std::mem::MaybeUninit::<synack_annotation>::uninit();
        // SAFETY: a live tracker, the packet's bytes, a writable annotation.
        let status = unsafe {
            (a.feed)(
                tracker,
                p.link_type.0,
                p.ts_ns,
                p.frame,
                p.data.as_ptr(),
                p.data.len(),
                ann.as_mut_ptr(),
            )
        };
        let outcome = pipeline.process(&p);
        let frame_what = format!("{what} frame {}", p.frame);
        match outcome {
            Outcome::Tcp {
                frame,
                annotation: r,
            } => {
                assert_eq!(status, OK, "{frame_what}");
                // SAFETY: written on OK.
                let c = unsafe { ann.assume_init() };
                annotations += 1;
                assert_eq!(
                    (c.frame_number, c.ts_ns),
                    (p.frame, p.ts_ns),
                    "{frame_what}"
                );
                assert_eq!(c.conn, r.conn, "{frame_what} conn");
                assert_eq!(
                    name(a.direction_name, c.direction as i32).as_deref(),
                    Some(r.dir.name()),
                    "{frame_what} dir"
                );
                assert_eq!(
                    name(a.role_name, c.role as i32),
                    r.role.map(|x| x.name().to_string()),
                    "{frame_what} role"
                );
                assert_eq!(c.combines, r.combines.bits(), "{frame_what} combines");
                assert_eq!(
                    name(a.reset_kind_name, c.reset_kind as i32),
                    r.reset_kind.map(|x| x.name().to_string()),
                    "{frame_what} reset kind"
                );
                assert_eq!(
                    c.retransmission, r.retransmission,
                    "{frame_what} retransmission"
                );
                assert_eq!(
                    name(a.state_name, c.client_state as i32),
                    r.states.client.map(|x| x.name().to_string()),
                    "{frame_what} client state"
                );
                assert_eq!(
                    name(a.state_name, c.server_state as i32),
                    r.states.server.map(|x| x.name().to_string()),
                    "{frame_what} server state"
                );
                assert_eq!(c.warnings, r.warnings.bits(), "{frame_what} warnings");
                for w in r.warnings.iter() {
                    let bit = (0..32).find(|b| {
                        c.warnings & (1 << b) != 0
                            && name(a.warning_name, *b).as_deref() == Some(w.code())
                    });
                    assert!(bit.is_some(), "{frame_what} warning {}", w.code());
                }
                let facts = pipeline
                    .tracker()
                    .last_facts()
                    .expect("facts of the packet's connection");
                check_facts(&c.facts, &facts, &frame_what);
                // The frame.
                let f = &c.frame;
                assert_eq!(f.kind, synack_frame_kind::Tcp);
                assert_eq!(addr_text(&f.src), frame.ip.src().to_string());
                assert_eq!(addr_text(&f.dst), frame.ip.dst().to_string());
                assert_eq!(
                    (f.src.port, f.dst.port),
                    (frame.tcp.src_port(), frame.tcp.dst_port())
                );
                assert_eq!(f.tcp_offset, frame.tcp_offset);
                assert_eq!(f.payload_offset, frame.tcp_offset + frame.tcp.header_len());
                assert_eq!(
                    (f.tcp.seq, f.tcp.ack, f.tcp.flags),
                    (frame.tcp.seq(), frame.tcp.ack(), frame.tcp.flags().0)
                );
                assert_eq!(f.tcp.window, frame.tcp.window());
                assert_eq!(f.tcp.payload_len, frame.tcp.payload().len());
                assert_eq!(f.tcp.segment_len, frame.tcp.segment_len());
                assert_eq!(f.tcp.truncated, frame.tcp.is_truncated());
                if f.tcp.payload_len > 0 {
                    assert_eq!(
                        f.tcp.payload,
                        frame.tcp.payload().as_ptr(),
                        "payload points into the caller's bytes"
                    );
                }
                let dir_src = match r.dir {
                    Direction::ClientToServer => 0,
                    Direction::ServerToClient => 1,
                };
                assert_eq!(c.direction as i32, dir_src);
            }
            Outcome::Skipped(Skipped::Malformed(_)) => assert!(
                status == ERR_MALFORMED,
                "{frame_what}: malformed, C ABI says {status}"
            ),
            Outcome::Skipped(Skipped::Unsupported(synack_core::frame::Unsupported::LinkType(
                _,
            ))) => {
                assert_eq!(status, ERR_UNSUPPORTED, "{frame_what}")
            }
            _ => assert_eq!(status, NOT_TCP, "{frame_what}"),
        }
        rust_verdicts.extend(pipeline.tracker().drain_ended().map(|(v, _)| v));
        drain(tracker, &mut c_verdicts);
    }
    rust_verdicts.extend(pipeline.tracker().finish().into_iter().map(|(v, _)| v));
    // SAFETY: a live tracker.
    assert_eq!(unsafe { (a.finish)(tracker) }, OK);
    drain(tracker, &mut c_verdicts);
    assert_eq!(c_verdicts.len(), rust_verdicts.len(), "{what}: verdicts");
    for (c, r) in c_verdicts.iter().zip(&rust_verdicts) {
        check_verdict(c, r, &what);
        verdicts += 1;
    }
    // SAFETY: freed once.
    unsafe { (a.tracker_free)(tracker) };
    (annotations, verdicts)
}

#[test]
fn annotations_and_verdicts_equal_the_rust_api() {
    let (mut annotations, mut verdicts) = (0, 0);
    for capture in captures() {
        let (n, v) = compare_capture(&capture);
        annotations += n;
        verdicts += v;
    }
    eprintln!("compared {annotations} annotations and {verdicts} verdicts");
    assert!(
        annotations > 500 && verdicts > 40,
        "{annotations} annotations, {verdicts} verdicts"
    );
}

/// A SYN from 192.0.2.1:1024 to 192.0.2.2:80 with MSS, SACK-permitted, a
/// timestamp, NOP and window scale options, as raw IPv4 (link type 101).
fn syn_packet() -> Vec<u8> {
    let tcp: Vec<u8> = [
        &[0x04, 0x00, 0x00, 0x50][..],         // ports
        &[0, 0, 0, 1, 0, 0, 0, 0],             // seq, ack
        &[0xA0, 0x02, 0xFF, 0xFF, 0, 0, 0, 0], // data offset 10, SYN, window, checksum, urgent
        &[2, 4, 0x05, 0xB4, 4, 2, 8, 10],      // MSS 1460, SACK-permitted, timestamps...
        &[0, 0, 0, 7, 0, 0, 0, 0, 1, 3, 3, 7], // tsval 7, tsecr 0, NOP, wscale 7
    ]
    .concat();
    let total = 20 + tcp.len();
    let mut ip = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0x40,
        0,
        64,
        6,
        0,
        0,
        192,
        0,
        2,
        1,
        192,
        0,
        2,
        2,
    ];
    ip.extend(tcp);
    ip
}

#[test]
fn tcp_header_and_options_without_copying() {
    let a = api();
    let pkt = syn_packet();
    let tcp = &pkt[20..];
    let mut h = std::mem::MaybeUninit::<synack_tcp_header>::uninit();
    // SAFETY: valid buffers.
    assert_eq!(
        unsafe { (a.tcp_parse)(tcp.as_ptr(), tcp.len(), tcp.len(), h.as_mut_ptr()) },
        OK
    );
    let h = unsafe { h.assume_init() };
    assert_eq!(
        (h.src_port, h.dst_port, h.seq, h.flags, h.window),
        (1024, 80, 1, 0x002, 0xFFFF)
    );
    assert_eq!(
        (h.data_offset, h.header_len, h.options_len, h.payload_len),
        (10, 40, 20, 0)
    );
    assert_eq!(
        h.options,
        tcp[20..].as_ptr(),
        "options point into the caller's buffer"
    );
    assert!(h.payload.is_null());

    let mut it = std::mem::MaybeUninit::<synack_tcp_options_iter>::uninit();
    // SAFETY: valid buffers.
    assert_eq!(
        unsafe { (a.options_init)(it.as_mut_ptr(), h.options, h.options_len, false) },
        OK
    );
    let mut it = unsafe { it.assume_init() };
    let mut seen = Vec::new();
    loop {
        let mut o = std::mem::MaybeUninit::<synack_tcp_option>::uninit();
        // SAFETY: an iterator over live bytes.
        match unsafe { (a.options_next)(&mut it, o.as_mut_ptr()) } {
            1 => seen.push(unsafe { o.assume_init() }),
            0 => break,
            e => panic!("options_next: {e}"),
        }
    }
    let kinds: Vec<u8> = seen.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, [2, 4, 8, 1, 3]);
    assert_eq!(seen[0].mss, 1460);
    assert_eq!(
        (seen[2].tsval, seen[2].tsecr, seen[2].offset, seen[2].len),
        (7, 0, 6, 10)
    );
    assert_eq!(
        seen[2].data,
        tcp[26 + 2..].as_ptr(),
        "value points into the caller's buffer"
    );
    assert_eq!((seen[4].wscale, seen[4].offset), (7, 17));
    // At the end, it stays at the end.
    let mut o = std::mem::MaybeUninit::<synack_tcp_option>::uninit();
    assert_eq!(unsafe { (a.options_next)(&mut it, o.as_mut_ptr()) }, 0);

    // A malformed option is an item with its reason; the walk stops where it must.
    let bad = [2u8, 3, 0, 8, 10, 1];
    let mut it = std::mem::MaybeUninit::<synack_tcp_options_iter>::uninit();
    assert_eq!(
        unsafe { (a.options_init)(it.as_mut_ptr(), bad.as_ptr(), bad.len(), false) },
        OK
    );
    let mut it = unsafe { it.assume_init() };
    let mut o = std::mem::MaybeUninit::<synack_tcp_option>::uninit();
    assert_eq!(unsafe { (a.options_next)(&mut it, o.as_mut_ptr()) }, 1);
    let o1 = unsafe { o.assume_init() };
    assert_eq!(
        (o1.kind, o1.len, o1.error),
        (2, 3, synack_option_error::WrongLength)
    );
    assert_eq!(unsafe { (a.options_next)(&mut it, o.as_mut_ptr()) }, 1);
    let o2 = unsafe { o.assume_init() };
    assert_eq!(
        (o2.kind, o2.offset, o2.error),
        (8, 3, synack_option_error::PastHeader)
    );
    assert_eq!(unsafe { (a.options_next)(&mut it, o.as_mut_ptr()) }, 0);
}

#[test]
fn frames_decode_per_link_type() {
    let a = api();
    let pkt = syn_packet();
    let mut f = std::mem::MaybeUninit::<synack_frame>::uninit();
    // SAFETY: valid buffers throughout.
    unsafe {
        assert_eq!(
            (a.frame_decode)(101, pkt.as_ptr(), pkt.len(), f.as_mut_ptr()),
            OK
        );
        let f = f.assume_init();
        assert_eq!(f.kind, synack_frame_kind::Tcp);
        assert_eq!(
            (
                f.ip_version,
                f.ip_offset,
                f.ip_header_len,
                f.tcp_offset,
                f.payload_offset
            ),
            (4, 0, 20, 20, 60)
        );
        assert_eq!(addr_text(&f.src), "192.0.2.1");
        assert_eq!((f.src.port, f.dst.port), (1024, 80));
        // The same packet behind an Ethernet header.
        let mut eth = vec![0u8; 12];
        eth.extend([0x08, 0x00]);
        eth.extend(&pkt);
        let mut g = std::mem::MaybeUninit::<synack_frame>::uninit();
        assert_eq!(
            (a.frame_decode)(1, eth.as_ptr(), eth.len(), g.as_mut_ptr()),
            OK
        );
        let g = g.assume_init();
        assert_eq!((g.ip_offset, g.tcp_offset, g.tcp.seq), (14, 34, 1));
        // Wrong link type: error, and the kind says so.
        let mut h = std::mem::MaybeUninit::<synack_frame>::uninit();
        assert_eq!(
            (a.frame_decode)(4242, pkt.as_ptr(), pkt.len(), h.as_mut_ptr()),
            ERR_UNSUPPORTED
        );
        assert_eq!(h.assume_init().kind, synack_frame_kind::UnsupportedLink);
        assert!(s((a.last_error)()).unwrap().contains("4242"));
        // Raw bytes read as Ethernet: not IP.
        let mut h = std::mem::MaybeUninit::<synack_frame>::uninit();
        assert_eq!(
            (a.frame_decode)(1, pkt.as_ptr(), pkt.len(), h.as_mut_ptr()),
            NOT_TCP
        );
        assert_eq!(h.assume_init().kind, synack_frame_kind::NotTcp);
        // Cut inside the IP header; a broken TCP data offset.
        let mut h = std::mem::MaybeUninit::<synack_frame>::uninit();
        assert_eq!(
            (a.frame_decode)(101, pkt.as_ptr(), 10, h.as_mut_ptr()),
            ERR_SHORT
        );
        assert!(!s((a.last_error)()).unwrap().is_empty());
        let mut broken = pkt.clone();
        broken[32] = 0x20; // data offset 2
        assert_eq!(
            (a.frame_decode)(101, broken.as_ptr(), broken.len(), h.as_mut_ptr()),
            ERR_MALFORMED
        );
    }
}

#[test]
fn bad_arguments_are_errors_not_crashes() {
    let a = api();
    let pkt = syn_packet();
    let tcp = &pkt[20..];
    let mut h = std::mem::MaybeUninit::<synack_tcp_header>::uninit();
    let mut f = std::mem::MaybeUninit::<synack_frame>::uninit();
    let mut ann = std::mem::MaybeUninit::<synack_annotation>::uninit();
    let mut v = std::mem::MaybeUninit::<synack_verdict>::uninit();
    let mut p = std::mem::MaybeUninit::<synack_packet>::uninit();
    let mut it = std::mem::MaybeUninit::<synack_tcp_options_iter>::uninit();
    let mut o = std::mem::MaybeUninit::<synack_tcp_option>::uninit();
    // SAFETY: every call is one the header allows (NULLs, short lengths).
    unsafe {
        // NULL pointers.
        assert_eq!((a.tcp_parse)(null(), 20, 20, h.as_mut_ptr()), ERR_NULL);
        assert!(s((a.last_error)()).unwrap().contains("NULL"));
        assert_eq!(
            (a.tcp_parse)(tcp.as_ptr(), tcp.len(), tcp.len(), null_mut()),
            ERR_NULL
        );
        assert_eq!((a.frame_decode)(1, null(), 0, f.as_mut_ptr()), ERR_NULL);
        assert_eq!(
            (a.frame_decode)(1, pkt.as_ptr(), pkt.len(), null_mut()),
            ERR_NULL
        );
        assert_eq!((a.options_init)(null_mut(), null(), 0, false), ERR_NULL);
        assert_eq!(
            (a.options_init)(it.as_mut_ptr(), null(), 4, false),
            ERR_NULL
        );
        assert_eq!((a.options_next)(null_mut(), o.as_mut_ptr()), ERR_NULL);
        assert_eq!((a.endpoint_addr)(null(), null_mut(), 0), ERR_NULL);
        assert_eq!((a.config_default)(null_mut()), ERR_NULL);
        assert_eq!(
            (a.feed)(
                null_mut(),
                101,
                0,
                1,
                pkt.as_ptr(),
                pkt.len(),
                ann.as_mut_ptr()
            ),
            ERR_NULL
        );
        assert_eq!((a.next_verdict)(null_mut(), v.as_mut_ptr()), ERR_NULL);
        assert_eq!((a.finish)(null_mut()), ERR_NULL);
        assert_eq!((a.add_plugin)(null_mut(), c"x.so".as_ptr()), ERR_NULL);
        assert_eq!((a.capture_next)(null_mut(), p.as_mut_ptr()), ERR_NULL);
        assert_eq!(
            (a.capture_process)(null_mut(), null_mut(), None, null_mut()),
            ERR_NULL
        );
        assert!((a.capture_open)(null()).is_null());
        (a.tracker_free)(null_mut());
        (a.capture_free)(null_mut());
        assert!(!(a.tracker_error)(null()).is_null());
        assert!(!(a.capture_error)(null()).is_null());

        // Short buffers and bad lengths.
        assert_eq!(
            (a.tcp_parse)(tcp.as_ptr(), 19, 40, h.as_mut_ptr()),
            ERR_SHORT
        );
        assert_eq!(
            (a.tcp_parse)(tcp.as_ptr(), tcp.len(), 30, h.as_mut_ptr()),
            ERR_MALFORMED
        );
        assert_eq!(
            (a.tcp_parse)(tcp.as_ptr(), usize::MAX, 40, h.as_mut_ptr()),
            ERR_INVALID
        );
        assert_eq!(
            (a.frame_decode)(1, pkt.as_ptr(), usize::MAX, f.as_mut_ptr()),
            ERR_INVALID
        );
        assert_eq!(
            (a.options_init)(it.as_mut_ptr(), tcp.as_ptr(), 41, false),
            ERR_INVALID
        );
        let mut forged = synack_tcp_options_iter {
            bytes: tcp.as_ptr(),
            len: 4000,
            index: 0,
            cut: false,
        };
        assert_eq!((a.options_next)(&mut forged, o.as_mut_ptr()), ERR_INVALID);
        let mut buf = [0 as c_char; 4];
        let ep = synack_endpoint {
            family: 4,
            addr: [192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            port: 1,
        };
        assert_eq!(
            (a.endpoint_addr)(&ep, buf.as_mut_ptr(), buf.len()),
            9,
            "the whole length, like snprintf"
        );
        assert_eq!(s(buf.as_ptr()).as_deref(), Some("192"));
        assert_eq!((a.endpoint_addr)(&ep, null_mut(), 0), 9);
        let bad = synack_endpoint { family: 5, ..ep };
        assert_eq!(
            (a.endpoint_addr)(&bad, buf.as_mut_ptr(), buf.len()),
            ERR_INVALID
        );

        // A tracker: bad config, wrong link type, malformed frames.
        let mut config = std::mem::MaybeUninit::<synack_tracker_config>::uninit();
        assert_eq!((a.config_default)(config.as_mut_ptr()), OK);
        let mut config = config.assume_init();
        assert_eq!(config.max_connections, 65536);
        config.max_connections = 0;
        assert!((a.tracker_new)(&config).is_null());
        assert!(s((a.last_error)()).unwrap().contains("max_connections"));
        config.max_connections = 2;
        let t = (a.tracker_new)(&config);
        assert!(!t.is_null());
        assert_eq!(
            (a.feed)(t, 101, 0, 1, null(), 5, ann.as_mut_ptr()),
            ERR_NULL
        );
        assert_eq!(
            (a.feed)(t, 147, 0, 1, pkt.as_ptr(), pkt.len(), ann.as_mut_ptr()),
            ERR_UNSUPPORTED
        );
        assert!(s((a.tracker_error)(t)).unwrap().contains("link type 147"));
        assert_eq!(
            (a.feed)(t, 101, 0, 2, pkt.as_ptr(), 30, ann.as_mut_ptr()),
            ERR_MALFORMED
        );
        assert!(s((a.tracker_error)(t)).unwrap().starts_with("frame 2"));
        assert_eq!(
            (a.feed)(t, 1, 0, 3, pkt.as_ptr(), pkt.len(), ann.as_mut_ptr()),
            NOT_TCP
        );
        assert_eq!(
            (a.feed)(t, 101, 5, 4, pkt.as_ptr(), pkt.len(), null_mut()),
            OK,
            "out may be NULL"
        );
        assert_eq!((a.next_verdict)(t, null_mut()), ERR_NULL);
        assert_eq!((a.next_verdict)(t, v.as_mut_ptr()), 0);
        assert_eq!((a.finish)(t), OK);
        assert_eq!((a.next_verdict)(t, v.as_mut_ptr()), 1);
        let verdict = v.assume_init();
        assert_eq!((verdict.conn, verdict.first_frame), (0, 4));
        assert_eq!(verdict.end_reason, synack_end_reason::CaptureEnd);
        assert_eq!(verdict.role_frames[0], 4);
        assert_eq!((a.next_verdict)(t, v.as_mut_ptr()), 0);
        assert_eq!((a.add_plugin)(t, null()), ERR_NULL);
        let not_utf8 = CString::new(vec![0xFF, 0xFE]).unwrap();
        assert_eq!((a.add_plugin)(t, not_utf8.as_ptr()), ERR_INVALID);
        (a.tracker_free)(t);

        // Names of values out of range.
        for f in [a.role_name, a.state_name, a.reset_kind_name, a.side_name] {
            assert!(f(-1).is_null());
            assert!(f(1000).is_null());
            assert!(f(i32::MIN).is_null());
        }
        assert_eq!(
            name(a.status_name, ERR_SHORT).as_deref(),
            Some("short-buffer")
        );
        assert_eq!(name(a.warning_name, 6).as_deref(), Some("bad-checksum"));
    }
}

#[test]
fn capture_files_and_their_errors() {
    let a = api();
    let dir = scratch("captures");
    let garbage = dir.join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture file at all").unwrap();
    let good = std::fs::read(root().join("fixtures/captures/app-http.pcap")).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &good[..good.len() - 10]).unwrap();
    let c = |p: &Path| CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: valid strings and handles throughout.
    unsafe {
        assert!((a.capture_open)(c(&dir.join("missing.pcap")).as_ptr()).is_null());
        assert!(s((a.last_error)()).unwrap().contains("missing.pcap"));
        assert!((a.capture_open)(c(&garbage).as_ptr()).is_null());
        assert!(!s((a.last_error)()).unwrap().is_empty());

        // A file cut inside its last record: the packets before it, then an error.
        let cap = (a.capture_open)(c(&cut).as_ptr());
        assert!(!cap.is_null());
        let mut p = std::mem::MaybeUninit::<synack_packet>::uninit();
        assert_eq!((a.capture_next)(cap, null_mut()), ERR_NULL);
        let mut n = 0;
        let status = loop {
            match (a.capture_next)(cap, p.as_mut_ptr()) {
                1 => {
                    n += 1;
                    let packet = p.assume_init();
                    assert_eq!(packet.frame_number, n);
                    assert_eq!(packet.link_type, 1);
                    assert!(!packet.data.is_null() && packet.len > 0);
                }
                other => break other,
            }
        };
        assert_eq!(n, 16);
        assert_eq!(status, synack_status::ErrFormat as i32);
        assert!(!s((a.capture_error)(cap)).unwrap().is_empty());
        assert_eq!(
            (a.capture_next)(cap, p.as_mut_ptr()),
            0,
            "nothing after an error"
        );
        (a.capture_free)(cap);

        // synack_capture_process: every packet to the callback, which may stop it.
        unsafe extern "C" fn count(
            user: *mut c_void,
            packet: *const synack_packet,
            status: c_int,
            ann: *const synack_annotation,
        ) -> c_int {
            let n = unsafe { &mut *user.cast::<u64>() };
            *n += 1;
            let packet = unsafe { &*packet };
            assert_eq!(packet.frame_number, *n);
            assert_eq!(status == 0, !ann.is_null());
            c_int::from(*n == 5)
        }
        let t = (a.tracker_new)(null());
        let cap = (a.capture_open)(c(&root().join("fixtures/captures/app-http.pcap")).as_ptr());
        let mut seen = 0u64;
        assert_eq!(
            (a.capture_process)(cap, t, Some(count), (&mut seen as *mut u64).cast()),
            1
        );
        assert_eq!(seen, 5);
        assert_eq!(
            (a.capture_process)(cap, t, None, null_mut()),
            0,
            "the rest, without a callback"
        );
        assert_eq!((a.finish)(t), OK);
        let mut v = std::mem::MaybeUninit::<synack_verdict>::uninit();
        assert_eq!((a.next_verdict)(t, v.as_mut_ptr()), 1);
        assert_eq!(v.assume_init().last_frame, 17);
        (a.capture_free)(cap);
        (a.tracker_free)(t);
    }
}
