//! The C ABI over a capture, as a C caller uses it: three bytes that pick the
//! tracker's configuration, then a capture file (pcap or pcapng, as the
//! `capture` target reads it). Each record is decoded with
//! `synack_frame_decode`; a TCP segment's header is parsed again with
//! `synack_tcp_parse` and its options walked with `synack_tcp_options_next`;
//! the record is fed to a tracker, whose verdicts are taken as they come and
//! after `synack_tracker_finish`. Every call returns one of the statuses its
//! documentation lists (a panic caught at the boundary, `ERR_INTERNAL`, is
//! none of them), and every enum value it hands out has a name.
#![no_main]

use std::ffi::c_char;
use std::io::Cursor;
use std::mem::MaybeUninit;

use libfuzzer_sys::fuzz_target;
use synack::names::*;
use synack::parse::*;
use synack::tracker::*;
use synack::types::*;
use synack_core::capture::CaptureReader;

const OK: i32 = synack_status::Ok as i32;
const NOT_TCP: i32 = synack_status::NotTcp as i32;
const ERR_SHORT: i32 = synack_status::ErrShort as i32;
const ERR_MALFORMED: i32 = synack_status::ErrMalformed as i32;
const ERR_UNSUPPORTED: i32 = synack_status::ErrUnsupported as i32;

/// A time limit from a byte: none, the least, the defaults' sizes, the most.
fn limit_ns(b: u8) -> u64 {
    const LIMITS: [u64; 8] = [
        0,
        1,
        1_000,
        1_000_000_000,
        5_000_000_000,
        300_000_000_000,
        u64::MAX / 2,
        u64::MAX,
    ];
    LIMITS[usize::from(b & 7)]
}

/// Checks that `value` has a name from `name`, unless it is -1 (`NONE` or
/// `UNKNOWN`, which the documentation says have none).
fn named(name: extern "C" fn(i32) -> *const c_char, value: i32) {
    assert_eq!(name(value).is_null(), value == -1, "the name of {value}");
}

/// Names every enum value of `a`, and every warning bit it sets.
fn check_annotation(a: &synack_annotation) {
    named(synack_direction_name, a.direction as i32);
    named(synack_role_name, a.role as i32);
    named(synack_reset_kind_name, a.reset_kind as i32);
    named(synack_state_name, a.client_state as i32);
    named(synack_state_name, a.server_state as i32);
    for bit in 0..32 {
        if a.warnings & 1 << bit != 0 {
            named(synack_warning_name, bit);
        }
    }
}

/// Names every enum value of `v`, and finds its strings ended.
fn check_verdict(v: &synack_verdict) {
    named(synack_open_kind_name, v.facts.open as i32);
    named(synack_close_kind_name, v.close as i32);
    named(synack_side_name, v.active_closer as i32);
    named(synack_end_reason_name, v.end_reason as i32);
    named(synack_state_name, v.client_final_state as i32);
    named(synack_state_name, v.server_final_state as i32);
    assert!(v.conn_state.contains(&0) && v.history.contains(&0));
}

fuzz_target!(|data: &[u8]| {
    let [idle, wait, other, capture @ ..] = data else {
        return;
    };
    let Ok(mut reader) = CaptureReader::from_reader(Cursor::new(capture.to_vec())) else {
        return;
    };
    let config = synack_tracker_config {
        idle_timeout_ns: limit_ns(*idle),
        time_wait_ns: limit_ns(*wait),
        max_connections: u64::from(other & 0x7F).max(1),
        verify_checksums: other & 0x80 != 0,
    };
    // SAFETY: every pointer below is to a live local or into `packet.data`,
    // with its true length.
    unsafe {
        let tracker = synack_tracker_new(&config);
        assert!(!tracker.is_null());
        while let Some(Ok(packet)) = reader.next_packet() {
            let (bytes, len) = (packet.data.as_ptr(), packet.data.len());
            let link = packet.link_type.0;
            let mut frame = MaybeUninit::<synack_frame>::zeroed();
            let decoded = synack_frame_decode(link, bytes, len, frame.as_mut_ptr());
            assert!(
                [OK, NOT_TCP, ERR_UNSUPPORTED, ERR_SHORT, ERR_MALFORMED].contains(&decoded),
                "synack_frame_decode: {decoded}"
            );
            if decoded == OK {
                let frame = frame.assume_init_ref();
                check_tcp(packet.data, frame.tcp_offset, &frame.tcp);
            }
            let mut ann = MaybeUninit::<synack_annotation>::zeroed();
            let fed = synack_tracker_feed(
                tracker,
                link,
                packet.ts_ns,
                packet.frame,
                bytes,
                len,
                ann.as_mut_ptr(),
            );
            assert!(
                [OK, NOT_TCP, ERR_UNSUPPORTED, ERR_MALFORMED].contains(&fed),
                "synack_tracker_feed: {fed}"
            );
            assert_eq!(fed == OK, decoded == OK, "feed and decode agree");
            if fed == OK {
                check_annotation(ann.assume_init_ref());
            }
            drain(tracker);
        }
        assert_eq!(synack_tracker_finish(tracker), OK);
        drain(tracker);
        synack_tracker_free(tracker);
    }
});

/// Parses again the TCP header that `synack_frame_decode` found `at` bytes
/// into `frame`, and walks its options: both must succeed where decoding did,
/// and give the same header.
///
/// # Safety
/// `tcp` must be what `synack_frame_decode` gave for `frame`.
unsafe fn check_tcp(frame: &[u8], at: usize, tcp: &synack_tcp_header) {
    let rest = &frame[at..];
    let mut parsed = MaybeUninit::<synack_tcp_header>::zeroed();
    let status = synack_tcp_parse(
        rest.as_ptr(),
        rest.len(),
        tcp.segment_len,
        parsed.as_mut_ptr(),
    );
    assert_eq!(status, OK, "synack_tcp_parse of a decoded segment");
    let parsed = parsed.assume_init_ref();
    assert_eq!(
        (
            parsed.seq,
            parsed.ack,
            parsed.flags,
            parsed.options_len,
            parsed.payload_len
        ),
        (
            tcp.seq,
            tcp.ack,
            tcp.flags,
            tcp.options_len,
            tcp.payload_len
        )
    );
    let mut iter = MaybeUninit::<synack_tcp_options_iter>::zeroed();
    let status = synack_tcp_options_init(
        iter.as_mut_ptr(),
        tcp.options,
        tcp.options_len,
        tcp.options_truncated,
    );
    assert_eq!(status, OK, "synack_tcp_options_init");
    let mut option = MaybeUninit::<synack_tcp_option>::zeroed();
    for items in 0.. {
        match synack_tcp_options_next(iter.as_mut_ptr(), option.as_mut_ptr()) {
            1 => assert!(items < 40, "at most one option a byte"),
            0 => break,
            other => panic!("synack_tcp_options_next: {other}"),
        }
    }
}

/// Takes every queued verdict.
///
/// # Safety
/// `tracker` must be live.
unsafe fn drain(tracker: *mut synack_tracker) {
    let mut v = MaybeUninit::<synack_verdict>::zeroed();
    loop {
        match synack_tracker_next_verdict(tracker, v.as_mut_ptr()) {
            1 => check_verdict(v.assume_init_ref()),
            0 => break,
            other => panic!("synack_tracker_next_verdict: {other}"),
        }
    }
}
