//! The capture handle: a pcap or pcapng file (gzip-compressed or not), read
//! packet by packet.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

use synack_core::capture::{CaptureError, CaptureErrorKind, CaptureReader, Packet};

use crate::error::{c_message, guard, run_status, set_thread_error, write_out, Failure};
use crate::tracker::synack_tracker;
use crate::types::*;

/// An open capture file (opaque). Open with `synack_capture_open`, free with
/// `synack_capture_free`.
pub struct synack_capture {
    reader: CaptureReader,
    last_error: CString,
}

fn capture_failure(e: &CaptureError) -> Failure {
    let status = match e.kind {
        CaptureErrorKind::Io(_) => synack_status::ErrIo,
        _ => synack_status::ErrFormat,
    };
    Failure::new(status, e.to_string())
}

fn c_packet(p: &Packet<'_>) -> synack_packet {
    synack_packet {
        frame_number: p.frame,
        ts_ns: p.ts_ns,
        link_type: p.link_type.0,
        interface_id: p.interface,
        data: p.data.as_ptr(),
        len: p.data.len(),
        orig_len: p.orig_len,
    }
}

/// Opens the capture file at `path` (pcap or pcapng, told by content;
/// gzip-compressed files are read as they are; `-` is a file name here).
/// The file is read as it goes, never whole: a regular file of 8 MiB or
/// more that is not gzip is mapped into memory 4 MiB at a time. If another
/// process truncates such a file while it is read, the kernel sends this
/// process SIGBUS (as for any mapped file): a program that must survive
/// that catches the signal itself (the `synack` command reports it and
/// exits 1).
///
/// Returns the handle, owned by the caller (free it with
/// `synack_capture_free`), or NULL when `path` is NULL or not UTF-8, the file
/// cannot be read, or it is not a capture; `synack_last_error` says why.
///
/// A capture handle is not thread-safe: use each from one thread at a time
/// (it may move between threads).
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn synack_capture_open(path: *const c_char) -> *mut synack_capture {
    guard(std::ptr::null_mut(), || {
        if path.is_null() {
            set_thread_error("path is NULL");
            return std::ptr::null_mut();
        }
        // SAFETY: a NUL-terminated string, the caller vouches.
        let Ok(path) = unsafe { CStr::from_ptr(path) }.to_str() else {
            set_thread_error("the capture path is not UTF-8");
            return std::ptr::null_mut();
        };
        match CaptureReader::open(path) {
            Ok(reader) => Box::into_raw(Box::new(synack_capture {
                reader,
                last_error: CString::default(),
            })),
            Err(e) => {
                set_thread_error(&format!("{path}: {e}"));
                std::ptr::null_mut()
            }
        }
    })
}

/// Frees a capture handle (closing its file). NULL is ignored. Packet data
/// pointers obtained from it become invalid.
///
/// # Safety
/// `capture` must be NULL or a handle from `synack_capture_open` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn synack_capture_free(capture: *mut synack_capture) {
    guard((), || {
        if !capture.is_null() {
            // SAFETY: a handle from `synack_capture_open`, freed once.
            drop(unsafe { Box::from_raw(capture) });
        }
    })
}

/// Reads the next packet into `*out`. `out->data` points into the handle's
/// buffer: valid until the next `synack_capture_next`,
/// `synack_capture_process` or `synack_capture_free` on this handle.
///
/// Returns 1 when a packet was read, 0 at the end of the capture, or a
/// negative status: `SYNACK_STATUS_ERR_IO`, `SYNACK_STATUS_ERR_FORMAT` (the
/// file is damaged or cut short: `synack_capture_last_error` says where; the
/// packets before it were good, and later calls return 0),
/// `SYNACK_STATUS_ERR_NULL`.
///
/// # Safety
/// `capture` must be a live handle; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn synack_capture_next(
    capture: *mut synack_capture,
    out: *mut synack_packet,
) -> i32 {
    run_status(|| {
        // SAFETY: the caller vouches for it.
        let cap = unsafe { capture.as_mut() }.ok_or_else(|| Failure::null("capture"))?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        match cap.reader.next_packet() {
            None => Ok(0),
            Some(Ok(p)) => {
                // SAFETY: not NULL; the caller vouches for it.
                unsafe { write_out(out, c_packet(&p)) };
                Ok(1)
            }
            Some(Err(e)) => {
                let f = capture_failure(&e);
                cap.last_error = c_message(&f.message);
                Ok(f.status as i32)
            }
        }
    })
}

/// The message of the last failing call on this capture (empty when none),
/// or of the last failing call on this thread when `capture` is NULL.
/// Never NULL. Owned by the handle: valid until its next failing call or
/// `synack_capture_free`.
///
/// # Safety
/// `capture` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn synack_capture_last_error(
    capture: *const synack_capture,
) -> *const c_char {
    guard(c"".as_ptr(), || {
        // SAFETY: the caller vouches for it.
        match unsafe { capture.as_ref() } {
            Some(c) => c.last_error.as_ptr(),
            None => crate::error::thread_error(),
        }
    })
}

/// Called by `synack_capture_process` for every packet: `status` is what
/// `synack_tracker_feed` returned for it, `annotation` its annotation (NULL
/// unless `status` is `SYNACK_STATUS_OK`). Both pointers are valid during
/// the call only. Return 0 to go on, non-zero to stop. The callback may take
/// verdicts from the tracker (`synack_tracker_next_verdict`), but must not
/// call `synack_capture_*` on the capture being processed, nor free either
/// handle.
pub type synack_packet_callback = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        packet: *const synack_packet,
        status: c_int,
        annotation: *const synack_annotation,
    ) -> c_int,
>;

/// Feeds every remaining packet of `capture` to `tracker` (as
/// `synack_tracker_feed` would; frames it cannot read are skipped, as the
/// `synack` command skips them), calling `callback` (which may be NULL) with
/// `user` for each. It does not end the connections: call
/// `synack_tracker_finish` at the end, then take the verdicts.
///
/// Returns 0 when the capture was read to its end, 1 when the callback
/// stopped it, or a negative status: a read error (`SYNACK_STATUS_ERR_IO`,
/// `SYNACK_STATUS_ERR_FORMAT`, message in `synack_capture_last_error`; the
/// packets before it were processed), `SYNACK_STATUS_ERR_NULL`.
///
/// # Safety
/// `capture` and `tracker` must be live handles; `callback` must be NULL or
/// a function of this type.
#[no_mangle]
pub unsafe extern "C" fn synack_capture_process(
    capture: *mut synack_capture,
    tracker: *mut synack_tracker,
    callback: synack_packet_callback,
    user: *mut c_void,
) -> i32 {
    run_status(|| {
        if capture.is_null() {
            return Err(Failure::null("capture"));
        }
        if tracker.is_null() {
            return Err(Failure::null("tracker"));
        }
        loop {
            // No Rust reference to either handle is held across the callback:
            // each step borrows them anew.
            // SAFETY: live handles, the caller vouches; borrowed for this step only.
            let (packet, status, annotation) = {
                let cap = unsafe { &mut *capture };
                let tr = unsafe { &mut *tracker };
                match cap.reader.next_packet() {
                    None => return Ok(0),
                    Some(Err(e)) => {
                        let f = capture_failure(&e);
                        cap.last_error = c_message(&f.message);
                        return Ok(f.status as i32);
                    }
                    Some(Ok(p)) => {
                        let (status, annotation) = tr.feed_status(&p);
                        (c_packet(&p), status, annotation)
                    }
                }
            };
            if let Some(cb) = callback {
                let ann = annotation
                    .as_ref()
                    .map_or(std::ptr::null(), |a| a as *const synack_annotation);
                // SAFETY: the caller's callback, called as documented.
                if unsafe { cb(user, &packet, status, ann) } != 0 {
                    return Ok(1);
                }
            }
        }
    })
}
