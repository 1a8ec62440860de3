//! synack plugin `appproto`: labels each connection with its application
//! protocol, told from its first payload bytes:
//!
//! - `app=http`, `http.method=GET`, `http.host=...` (request line and Host header);
//! - `app=tls`, `tls.sni=...` (the ClientHello's server_name);
//! - `app=ssh`, `ssh.banner=SSH-2.0-...` (the server's identification string,
//!   or the client's when the server's was not seen), `ssh.client_banner=...`;
//! - `app=unknown` otherwise.
//!
//! Built as `libsynack_appproto.so`; load it with `synack_tracker_add_plugin`
//! (C) or `synack::plugin_host::PluginHost::load` (Rust). It is written against
//! the plugin types of `synack.h`, declared again below with the same layout.
#![allow(non_camel_case_types)]

pub mod detect;

use std::ffi::{c_char, c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// `SYNACK_PLUGIN_ABI_VERSION` of `synack.h`.
pub const SYNACK_PLUGIN_ABI_VERSION: u32 = 1;

/// `synack_endpoint` of `synack.h`.
#[repr(C)]
pub struct synack_endpoint {
    /// 4 or 6.
    pub family: u8,
    /// The address.
    pub addr: [u8; 16],
    /// The port.
    pub port: u16,
}

/// `synack_label_sink` of `synack.h`.
#[repr(C)]
pub struct synack_label_sink {
    /// The host's context.
    pub ctx: *mut c_void,
    /// Adds one label.
    pub add: Option<
        unsafe extern "C" fn(ctx: *mut c_void, name: *const c_char, value: *const c_char) -> c_int,
    >,
}

/// `synack_plugin_descriptor` of `synack.h`.
#[repr(C)]
pub struct synack_plugin_descriptor {
    /// `SYNACK_PLUGIN_ABI_VERSION`.
    pub abi_version: u32,
    /// The name.
    pub name: *const c_char,
    /// A description.
    pub description: *const c_char,
    /// `synack_plugin_on_open`.
    pub on_open: Option<
        unsafe extern "C" fn(
            conn: u64,
            client: *const synack_endpoint,
            server: *const synack_endpoint,
            state: *mut *mut c_void,
        ) -> c_int,
    >,
    /// `synack_plugin_on_payload` (`direction`: 0 client to server, 1 server to client).
    pub on_payload: Option<
        unsafe extern "C" fn(
            state: *mut c_void,
            direction: i32,
            data: *const u8,
            len: usize,
        ) -> c_int,
    >,
    /// `synack_plugin_on_close`.
    pub on_close: Option<unsafe extern "C" fn(state: *mut c_void, sink: *const synack_label_sink)>,
}

/// The descriptor in a static (its pointers are to static data).
struct Descriptor(synack_plugin_descriptor);

// SAFETY: immutable, and its pointers are to static strings and functions.
unsafe impl Sync for Descriptor {}

static DESCRIPTOR: Descriptor = Descriptor(synack_plugin_descriptor {
    abi_version: SYNACK_PLUGIN_ABI_VERSION,
    name: c"appproto".as_ptr(),
    description: c"application protocol (http, tls, ssh) from the first payload bytes".as_ptr(),
    on_open: Some(on_open),
    on_payload: Some(on_payload),
    on_close: Some(on_close),
});

/// The plugin's entry point (`synack_plugin_entry`).
#[no_mangle]
pub extern "C" fn synack_plugin_descriptor_v1() -> *const synack_plugin_descriptor {
    &DESCRIPTOR.0
}

/// One connection's first bytes.
#[derive(Default)]
struct Conn {
    c2s: Vec<u8>,
    s2c: Vec<u8>,
}

unsafe extern "C" fn on_open(
    _conn: u64,
    _client: *const synack_endpoint,
    _server: *const synack_endpoint,
    state: *mut *mut c_void,
) -> c_int {
    if state.is_null() {
        return 1;
    }
    let conn = Box::into_raw(Box::<Conn>::default());
    // SAFETY: the host's pointer, valid during the call.
    unsafe { state.write(conn.cast()) };
    0
}

unsafe extern "C" fn on_payload(
    state: *mut c_void,
    direction: i32,
    data: *const u8,
    len: usize,
) -> c_int {
    if state.is_null() || data.is_null() {
        return 1;
    }
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the state made by on_open; the host passes it alone.
        let conn = unsafe { &mut *state.cast::<Conn>() };
        // SAFETY: the host's bytes, valid during the call.
        let data = unsafe { std::slice::from_raw_parts(data, len) };
        let buf = if direction == 0 {
            &mut conn.c2s
        } else {
            &mut conn.s2c
        };
        let room = detect::MAX_BYTES.saturating_sub(buf.len());
        buf.extend_from_slice(&data[..data.len().min(room)]);
        c_int::from(detect::analyze(&conn.c2s, &conn.s2c).complete)
    }))
    .unwrap_or(1)
}

unsafe extern "C" fn on_close(state: *mut c_void, sink: *const synack_label_sink) {
    if state.is_null() {
        return;
    }
    // SAFETY: the state made by on_open, handed back once.
    let conn = unsafe { Box::from_raw(state.cast::<Conn>()) };
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the host's sink, valid during the call.
        let Some(sink) = (unsafe { sink.as_ref() }) else {
            return;
        };
        let Some(add) = sink.add else {
            return;
        };
        for (name, value) in detect::analyze(&conn.c2s, &conn.s2c).labels {
            let (Ok(n), Ok(v)) = (CString::new(name), CString::new(value.replace('\0', ""))) else {
                continue;
            };
            // SAFETY: the host's callback; the strings live through the call.
            unsafe { add(sink.ctx, n.as_ptr(), v.as_ptr()) };
        }
    }));
}
