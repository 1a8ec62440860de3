//! The tracker handle: the dissector's pipeline (decode, track, annotate),
//! its verdicts, and the plugins run over its connections.

use std::collections::VecDeque;
use std::ffi::{c_char, CStr, CString};

use synack_core::capture::{LinkType, Packet};
use synack_core::frame::Unsupported;
use synack_dissector::pipeline::{Outcome, Pipeline, Skipped};
use synack_dissector::tracker::{EndReason, TrackerConfig};
use synack_dissector::verdict::Verdict;

use crate::convert;
use crate::error::{bytes, c_message, guard, run_status, set_thread_error, write_out, Failure};
use crate::plugin_host::{PluginError, PluginHost};
use crate::types::*;

/// A connection tracker (opaque). Create with `synack_tracker_new`, free
/// with `synack_tracker_free`.
pub struct synack_tracker {
    pipeline: Pipeline,
    plugins: PluginHost,
    /// Verdicts taken from the tracker, not yet handed out.
    pending: VecDeque<(Verdict, EndReason)>,
    /// The labels of the last verdict handed out (the C array points into `label_text`).
    label_text: Vec<(CString, CString)>,
    labels: Vec<synack_label>,
    last_error: CString,
}

impl synack_tracker {
    fn fail(&mut self, f: Failure) -> i32 {
        self.last_error = c_message(&f.message);
        f.status as i32
    }

    /// Feeds one record; the annotation when it is TCP.
    fn feed(&mut self, packet: &Packet<'_>) -> Result<Option<synack_annotation>, Failure> {
        let outcome = self.pipeline.process(packet);
        match outcome {
            Outcome::Tcp { frame, annotation } => {
                if !self.plugins.is_empty() {
                    self.plugins.observe(&annotation, &frame);
                }
                let facts = self.pipeline.tracker().last_facts();
                let c_frame = convert::tcp_frame(packet.data, &frame);
                Ok(Some(convert::annotation(
                    packet.frame,
                    packet.ts_ns,
                    &annotation,
                    facts.as_ref(),
                    c_frame,
                )))
            }
            Outcome::Skipped(Skipped::TcpFragment | Skipped::NotTcp) => Ok(None),
            Outcome::Skipped(Skipped::Unsupported(Unsupported::LinkType(l))) => Err(Failure::new(
                synack_status::ErrUnsupported,
                format!("frame {}: link type {} is not supported", packet.frame, l.0),
            )),
            Outcome::Skipped(Skipped::Unsupported(_)) => Ok(None),
            Outcome::Skipped(Skipped::Malformed(e)) => Err(Failure::new(
                synack_status::ErrMalformed,
                format!("frame {}: {e}", packet.frame),
            )),
        }
    }

    /// The next verdict with its labels, if any.
    fn next_verdict(&mut self) -> Option<synack_verdict> {
        self.pending.extend(self.pipeline.tracker().drain_ended());
        let (verdict, reason) = self.pending.pop_front()?;
        let labels = self.plugins.close(verdict.conn);
        self.label_text = labels
            .iter()
            .map(|(n, v)| (c_message(n), c_message(v)))
            .collect();
        self.labels = self
            .label_text
            .iter()
            .map(|(n, v)| synack_label {
                name: n.as_ptr(),
                value: v.as_ptr(),
            })
            .collect();
        let mut out = convert::verdict(&verdict, reason);
        if !self.labels.is_empty() {
            out.labels = self.labels.as_ptr();
            out.label_count = self.labels.len();
        }
        Some(out)
    }
}

/// Checks a tracker pointer and borrows it.
///
/// # Safety
/// `t` must be NULL or a live tracker not borrowed elsewhere.
unsafe fn tracker<'a>(t: *mut synack_tracker) -> Result<&'a mut synack_tracker, Failure> {
    // SAFETY: the caller vouches for it.
    unsafe { t.as_mut() }.ok_or_else(|| Failure::null("tracker"))
}

/// Runs a call on a tracker: its failure's message goes to the tracker's
/// last error (or the thread's, when the tracker is NULL).
///
/// # Safety
/// As [`tracker`].
unsafe fn on_tracker(
    t: *mut synack_tracker,
    f: impl FnOnce(&mut synack_tracker) -> Result<i32, Failure>,
) -> i32 {
    run_status(|| {
        // SAFETY: the caller vouches for it.
        let tr = unsafe { tracker(t) }?;
        Ok(match f(tr) {
            Ok(v) => v,
            Err(e) => tr.fail(e),
        })
    })
}

/// Fills `*out` with the default configuration: 300 s idle timeout, 5 s
/// TIME-WAIT, 65536 connections, no checksum verification (the `synack`
/// command's defaults). Returns `SYNACK_STATUS_OK` or `SYNACK_STATUS_ERR_NULL`.
///
/// # Safety
/// `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn synack_tracker_config_default(out: *mut synack_tracker_config) -> i32 {
    run_status(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let d = TrackerConfig::default();
        let value = synack_tracker_config {
            idle_timeout_ns: d.idle_timeout_ns,
            time_wait_ns: d.time_wait_ns,
            max_connections: u64::try_from(d.max_connections).unwrap_or(u64::MAX),
            verify_checksums: false,
        };
        // SAFETY: not NULL; the caller vouches for it.
        unsafe { write_out(out, value) };
        Ok(synack_status::Ok as i32)
    })
}

/// Creates a tracker with `*config`, or the defaults when `config` is NULL.
///
/// Returns the handle, owned by the caller (free it with
/// `synack_tracker_free`), or NULL when the configuration is invalid
/// (`max_connections` 0) or on an internal error; `synack_last_error` says why.
///
/// A tracker is not thread-safe: use each from one thread at a time (it may
/// move between threads).
///
/// # Safety
/// `config` must be NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn synack_tracker_new(
    config: *const synack_tracker_config,
) -> *mut synack_tracker {
    guard(std::ptr::null_mut(), || {
        let mut settings = TrackerConfig::default();
        let mut verify = false;
        // SAFETY: the caller vouches for it.
        if let Some(c) = unsafe { config.as_ref() } {
            if c.max_connections == 0 {
                set_thread_error("max_connections is 0: at least 1 is needed");
                return std::ptr::null_mut();
            }
            settings = TrackerConfig {
                idle_timeout_ns: c.idle_timeout_ns,
                time_wait_ns: c.time_wait_ns,
                max_connections: usize::try_from(c.max_connections).unwrap_or(usize::MAX),
                ..TrackerConfig::default()
            };
            verify = c.verify_checksums;
        }
        Box::into_raw(Box::new(synack_tracker {
            pipeline: Pipeline::new(settings, verify),
            plugins: PluginHost::new(),
            pending: VecDeque::new(),
            label_text: Vec::new(),
            labels: Vec::new(),
            last_error: CString::default(),
        }))
    })
}

/// Frees a tracker, its pending verdicts and its plugins (each plugin's
/// `on_close` is called for the connections still open, then it is
/// unloaded). NULL is ignored. Pointers obtained from the tracker (labels,
/// error messages) become invalid.
///
/// # Safety
/// `tracker` must be NULL or a handle from `synack_tracker_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn synack_tracker_free(tracker: *mut synack_tracker) {
    guard((), || {
        if !tracker.is_null() {
            // SAFETY: a handle from `synack_tracker_new`, freed once.
            drop(unsafe { Box::from_raw(tracker) });
        }
    })
}

/// Feeds one captured frame: `bytes[0..len]`, captured on a link of type
/// `link_type`, with its timestamp (ns since the epoch) and frame number
/// (1-based, in capture order). Frames must come in capture order.
///
/// Returns `SYNACK_STATUS_OK` with `*out` filled for a TCP segment (`out`
/// may be NULL when the annotation is not wanted); `SYNACK_STATUS_NOT_TCP`
/// when the frame carries no TCP header (`*out` untouched); or an error,
/// the frame being skipped, as the `synack` command skips it:
/// `SYNACK_STATUS_ERR_UNSUPPORTED` (link type), `SYNACK_STATUS_ERR_MALFORMED`
/// (a header cut or broken: `synack_tracker_last_error` says which),
/// `SYNACK_STATUS_ERR_NULL`, `SYNACK_STATUS_ERR_INVALID`. Pointers in
/// `out->frame` point into `bytes`.
///
/// Connections that end (closed past TIME-WAIT, idle, evicted, reused) have
/// their verdicts queued: take them with `synack_tracker_next_verdict`.
///
/// # Safety
/// `tracker` must be a live handle; `bytes` must point to `len` readable
/// bytes; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn synack_tracker_feed(
    tracker: *mut synack_tracker,
    link_type: u32,
    ts_ns: u64,
    frame_number: u64,
    bytes: *const u8,
    len: usize,
    out: *mut synack_annotation,
) -> i32 {
    // SAFETY: the caller vouches for the pointers.
    unsafe {
        on_tracker(tracker, |t| {
            let data = self::bytes(bytes, len, "bytes")?;
            let packet = Packet {
                frame: frame_number,
                ts_ns,
                link_type: LinkType(link_type),
                interface: 0,
                data,
                orig_len: u32::try_from(len).unwrap_or(u32::MAX),
            };
            match t.feed(&packet)? {
                Some(a) => {
                    if !out.is_null() {
                        write_out(out, a);
                    }
                    Ok(synack_status::Ok as i32)
                }
                None => Ok(synack_status::NotTcp as i32),
            }
        })
    }
}

/// Takes the next verdict of an ended connection into `*out`: connections
/// in the order they ended (after `synack_tracker_finish`, the rest in
/// connection order), each with the labels its plugins gave.
///
/// Returns 1 when a verdict was written, 0 when there is none, or a negative
/// status. `out->labels` is owned by the tracker and valid until the next
/// call of this function or `synack_tracker_free`.
///
/// # Safety
/// `tracker` must be a live handle; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn synack_tracker_next_verdict(
    tracker: *mut synack_tracker,
    out: *mut synack_verdict,
) -> i32 {
    // SAFETY: the caller vouches for the pointers.
    unsafe {
        on_tracker(tracker, |t| {
            if out.is_null() {
                return Err(Failure::null("out"));
            }
            match t.next_verdict() {
                Some(v) => {
                    write_out(out, v);
                    Ok(1)
                }
                None => Ok(0),
            }
        })
    }
}

/// Ends every connection (the capture is over): their verdicts are queued
/// for `synack_tracker_next_verdict`, after any still queued. The tracker
/// stays usable: frames fed later start new connections.
///
/// Returns `SYNACK_STATUS_OK` or a negative status.
///
/// # Safety
/// `tracker` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn synack_tracker_finish(tracker: *mut synack_tracker) -> i32 {
    // SAFETY: the caller vouches for the pointer.
    unsafe {
        on_tracker(tracker, |t| {
            let rest = t.pipeline.tracker().finish();
            t.pending.extend(rest);
            Ok(synack_status::Ok as i32)
        })
    }
}

/// Loads the plugin at `path` (a shared object exporting
/// `synack_plugin_descriptor_v1`) and runs it over this tracker's
/// connections from the next frame on; its labels appear on the verdicts.
///
/// Returns `SYNACK_STATUS_OK`; `SYNACK_STATUS_ERR_PLUGIN` when the file
/// cannot be loaded or is no synack plugin; `SYNACK_STATUS_ERR_ABI` when it
/// was built for another plugin ABI version; `SYNACK_STATUS_ERR_NULL`,
/// `SYNACK_STATUS_ERR_INVALID` (path not UTF-8). `synack_tracker_last_error`
/// says why.
///
/// # Safety
/// `tracker` must be a live handle; `path` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn synack_tracker_add_plugin(
    tracker: *mut synack_tracker,
    path: *const c_char,
) -> i32 {
    // SAFETY: the caller vouches for the pointers.
    unsafe {
        on_tracker(tracker, |t| {
            if path.is_null() {
                return Err(Failure::null("path"));
            }
            let path = CStr::from_ptr(path).to_str().map_err(|_| {
                Failure::new(synack_status::ErrInvalid, "the plugin path is not UTF-8")
            })?;
            t.plugins.load(path).map_err(|e| {
                let status = match e {
                    PluginError::AbiVersion { .. } => synack_status::ErrAbi,
                    _ => synack_status::ErrPlugin,
                };
                Failure::new(status, e.to_string())
            })?;
            Ok(synack_status::Ok as i32)
        })
    }
}

/// The message of the last failing call on this tracker (empty when none),
/// or of the last failing call on this thread when `tracker` is NULL.
/// Never NULL. Owned by the tracker: valid until its next failing call or
/// `synack_tracker_free`.
///
/// # Safety
/// `tracker` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn synack_tracker_last_error(
    tracker: *const synack_tracker,
) -> *const c_char {
    guard(c"".as_ptr(), || {
        // SAFETY: the caller vouches for it.
        match unsafe { tracker.as_ref() } {
            Some(t) => t.last_error.as_ptr(),
            None => crate::error::thread_error(),
        }
    })
}

impl synack_tracker {
    /// For the capture loop: feeds a packet, recording a failure here.
    pub(crate) fn feed_status(&mut self, packet: &Packet<'_>) -> (i32, Option<synack_annotation>) {
        match self.feed(packet) {
            Ok(Some(a)) => (synack_status::Ok as i32, Some(a)),
            Ok(None) => (synack_status::NotTcp as i32, None),
            Err(e) => (self.fail(e), None),
        }
    }
}
