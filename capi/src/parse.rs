//! Stateless calls: the version, one TCP header and its options, one frame,
//! and address formatting.

use std::ffi::{c_char, CStr};

use synack_core::capture::LinkType;
use synack_core::frame::{self, Decoded, FrameErrorKind, Unsupported};
use synack_core::tcp::{MalformedReason, OptionIter, TcpError, TcpHeader, TcpOption};

use crate::convert;
use crate::error::{bytes, guard, run_status, thread_error, write_out, Failure};
use crate::types::*;

/// The library's version (that of the synack crates, e.g. `0.1.0`). Static string.
#[no_mangle]
pub extern "C" fn synack_version() -> *const c_char {
    static VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    guard(c"unknown".as_ptr(), || VERSION.as_ptr())
}

/// The C ABI version the library implements: `SYNACK_ABI_VERSION` (1). A
/// program can compare it with the `SYNACK_ABI_VERSION` it was compiled with.
#[no_mangle]
pub extern "C" fn synack_abi_version() -> u32 {
    guard(SYNACK_ABI_VERSION, || SYNACK_ABI_VERSION)
}

/// The message of the last failing call on the calling thread that has no
/// handle to hold it (`synack_tcp_parse`, `synack_frame_decode`,
/// `synack_tracker_new`, `synack_capture_open`, ...). Never NULL (empty when
/// there was none). Owned by the library: valid until the next failing call
/// on this thread.
#[no_mangle]
pub extern "C" fn synack_last_error() -> *const c_char {
    guard(c"".as_ptr(), thread_error)
}

fn tcp_error(e: TcpError) -> Failure {
    let status = match e {
        TcpError::FixedHeaderCut { .. } => synack_status::ErrShort,
        TcpError::DataOffsetTooSmall { .. } | TcpError::DataOffsetPastSegment { .. } => {
            synack_status::ErrMalformed
        }
    };
    Failure::new(status, format!("TCP header: {e}"))
}

/// Reads one TCP header (and locates its options and payload) from `bytes`,
/// the TCP segment as captured, into `*out`.
///
/// `segment_len` is the segment's length as the IP layer gives it; it may be
/// larger than `len` when the capture cut the segment (`out->truncated` is
/// then set). Pointers in `*out` point into `bytes`.
///
/// Returns `SYNACK_STATUS_OK`; `SYNACK_STATUS_ERR_NULL` when `bytes` or `out`
/// is NULL; `SYNACK_STATUS_ERR_SHORT` when fewer than 20 bytes are given;
/// `SYNACK_STATUS_ERR_MALFORMED` when the data offset is below 5 or past
/// `segment_len`; `SYNACK_STATUS_ERR_INVALID` for a length above
/// `PTRDIFF_MAX`. On error `*out` is left as it was and `synack_last_error`
/// says why.
///
/// # Safety
/// `bytes` must point to `len` readable bytes; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn synack_tcp_parse(
    bytes: *const u8,
    len: usize,
    segment_len: usize,
    out: *mut synack_tcp_header,
) -> i32 {
    run_status(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: the caller vouches for (bytes, len).
        let data = unsafe { self::bytes(bytes, len, "bytes") }?;
        let header = TcpHeader::parse(data, segment_len).map_err(tcp_error)?;
        // SAFETY: `out` is not NULL; the caller vouches for it.
        unsafe { write_out(out, convert::tcp_header(&header)) };
        Ok(synack_status::Ok as i32)
    })
}

/// Sets up `*iter` to walk the TCP options in `options[0..len]` (e.g.
/// `header.options` and `header.options_len` of a parsed header). Nothing
/// is copied: `options` must outlive the walk. `len` may be 0 (and then
/// `options` NULL). `cut` tells that the capture cut the options
/// (`header.options_truncated`): an option running past the end is then
/// `SYNACK_OPTION_ERROR_CUT_BY_CAPTURE`, not a fault of the packet.
///
/// Returns `SYNACK_STATUS_OK`, `SYNACK_STATUS_ERR_NULL` (iter NULL, or
/// options NULL with a length), `SYNACK_STATUS_ERR_INVALID` (len above 40,
/// the most a TCP header holds).
///
/// # Safety
/// `iter` must be writable; `options` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn synack_tcp_options_init(
    iter: *mut synack_tcp_options_iter,
    options: *const u8,
    len: usize,
    cut: bool,
) -> i32 {
    run_status(|| {
        if iter.is_null() {
            return Err(Failure::null("iter"));
        }
        if options.is_null() && len > 0 {
            return Err(Failure::null("options"));
        }
        if len > 40 {
            return Err(Failure::new(
                synack_status::ErrInvalid,
                format!("{len} bytes of options: a TCP header holds at most 40"),
            ));
        }
        // SAFETY: `iter` is not NULL; the caller vouches for it.
        unsafe {
            write_out(
                iter,
                synack_tcp_options_iter {
                    bytes: options,
                    len,
                    index: 0,
                    cut,
                },
            )
        };
        Ok(synack_status::Ok as i32)
    })
}

fn ptr_or_null(b: &[u8]) -> *const u8 {
    if b.is_empty() {
        std::ptr::null()
    } else {
        b.as_ptr()
    }
}

fn empty_option(kind: u8, len: u8, offset: usize) -> synack_tcp_option {
    synack_tcp_option {
        kind,
        len,
        offset,
        error: synack_option_error::None,
        data: std::ptr::null(),
        data_len: 0,
        mss: 0,
        wscale: 0,
        tsval: 0,
        tsecr: 0,
        sack_count: 0,
        sack: [synack_sack_block::default(); 4],
        user_timeout_minutes: false,
        user_timeout: 0,
        ao_key_id: 0,
        ao_rnext_key_id: 0,
        mptcp_subtype: 0,
        exid: 0,
        fast_open: false,
        body: std::ptr::null(),
        body_len: 0,
    }
}

/// The C form of an option found at `offset` in `all`.
fn option(all: &[u8], offset: usize, opt: &TcpOption<'_>) -> synack_tcp_option {
    let len = opt.len();
    let mut out = empty_option(opt.kind(), u8::try_from(len).unwrap_or(u8::MAX), offset);
    if len >= 2 {
        let data = all.get(offset + 2..offset + len).unwrap_or(&[]);
        out.data = ptr_or_null(data);
        out.data_len = data.len();
    }
    let mut body = |b: &[u8]| {
        out.body = ptr_or_null(b);
        out.body_len = b.len();
    };
    match *opt {
        TcpOption::Eol | TcpOption::Nop | TcpOption::SackPermitted => {}
        TcpOption::Mss(v) => out.mss = v,
        TcpOption::WindowScale(s) => out.wscale = s,
        TcpOption::Sack(blocks) => {
            let raw = all.get(offset + 2..offset + len).unwrap_or(&[]);
            body(raw);
            out.sack_count = u8::try_from(blocks.count()).unwrap_or(0);
            for (slot, (left, right)) in out.sack.iter_mut().zip(blocks.iter()) {
                *slot = synack_sack_block { left, right };
            }
        }
        TcpOption::Timestamps { tsval, tsecr } => {
            out.tsval = tsval;
            out.tsecr = tsecr;
        }
        TcpOption::Md5Signature(digest) => body(digest),
        TcpOption::UserTimeout { minutes, timeout } => {
            out.user_timeout_minutes = minutes;
            out.user_timeout = timeout;
        }
        TcpOption::Authentication {
            key_id,
            rnext_key_id,
            mac,
        } => {
            body(mac);
            out.ao_key_id = key_id;
            out.ao_rnext_key_id = rnext_key_id;
        }
        TcpOption::Mptcp { subtype, data } => {
            body(data);
            out.mptcp_subtype = subtype;
        }
        TcpOption::FastOpen {
            cookie,
            experimental,
        } => {
            body(cookie);
            out.fast_open = true;
            if experimental {
                out.exid = synack_core::tcp::TFO_EXPERIMENT_ID;
            }
        }
        TcpOption::Experimental { exid, data, .. } => {
            body(data);
            out.exid = exid;
        }
        TcpOption::Unknown { data, .. } => body(data),
    }
    out
}

/// Writes the next option of the walk into `*out`.
///
/// Returns 1 when an option was written, 0 at the end of the options, or a
/// negative status (`SYNACK_STATUS_ERR_NULL`, `SYNACK_STATUS_ERR_INVALID` for
/// an iterator not set up by `synack_tcp_options_init`). An option that
/// cannot be read is returned too (1), with `out->error` saying why; the walk
/// goes on after it when its length is usable, as synack's own walk does.
/// Pointers in `*out` point into the walked bytes.
///
/// # Safety
/// `iter` must have been set up by `synack_tcp_options_init` on bytes that
/// are still valid; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn synack_tcp_options_next(
    iter: *mut synack_tcp_options_iter,
    out: *mut synack_tcp_option,
) -> i32 {
    run_status(|| {
        if iter.is_null() {
            return Err(Failure::null("iter"));
        }
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: not NULL; the caller vouches for it.
        let it = unsafe { &mut *iter };
        if it.len > 40 || (it.bytes.is_null() && it.len > 0) || it.index > 40 {
            return Err(Failure::new(
                synack_status::ErrInvalid,
                "the option iterator was not set up by synack_tcp_options_init",
            ));
        }
        let all: &[u8] = if it.len == 0 {
            &[]
        } else {
            // SAFETY: checked above; the caller vouches for the bytes.
            unsafe { bytes(it.bytes, it.len, "options") }?
        };
        // Walk again from the start (at most 40 bytes) to the item wanted: the
        // walk is synack's own, and the offsets are summed on the way.
        let mut offset = 0usize;
        let walk = if it.cut {
            OptionIter::new_cut(all)
        } else {
            OptionIter::new(all)
        };
        for (i, item) in walk.enumerate() {
            let here = offset;
            let advance = match &item {
                Ok(opt) => Some(opt.len()),
                Err(m) => match m.reason {
                    MalformedReason::WrongLength { len, .. } => Some(usize::from(len)),
                    _ => None,
                },
            };
            offset += advance.unwrap_or(0);
            if i < it.index {
                continue;
            }
            let value = match item {
                Ok(opt) => option(all, here, &opt),
                Err(m) => {
                    let mut o = empty_option(m.kind, m.len.unwrap_or(0), m.offset);
                    o.error = match m.reason {
                        MalformedReason::MissingLength => synack_option_error::MissingLength,
                        MalformedReason::LengthBelowTwo(_) => synack_option_error::LengthBelowTwo,
                        MalformedReason::PastHeader { .. } => synack_option_error::PastHeader,
                        MalformedReason::WrongLength { .. } => synack_option_error::WrongLength,
                        MalformedReason::CutByCapture { .. } => synack_option_error::CutByCapture,
                    };
                    o
                }
            };
            it.index = i + 1;
            // SAFETY: `out` is not NULL; the caller vouches for it.
            unsafe { write_out(out, value) };
            return Ok(1);
        }
        Ok(0)
    })
}

/// Decodes a whole frame captured on a link of type `link_type` (LINKTYPE_*
/// value: 1 Ethernet, 113 Linux SLL, 276 SLL2, 0 BSD null, 101 raw IP, ...)
/// down to its TCP segment, into `*out`. Pointers in `*out` point into `bytes`.
///
/// Returns `SYNACK_STATUS_OK` for a TCP segment; `SYNACK_STATUS_NOT_TCP` when
/// the frame holds none (`out->kind` says what it holds);
/// `SYNACK_STATUS_ERR_UNSUPPORTED` for a link type synack does not read
/// (`out->kind` is `SYNACK_FRAME_KIND_UNSUPPORTED_LINK`);
/// `SYNACK_STATUS_ERR_SHORT` when a header is cut, `SYNACK_STATUS_ERR_MALFORMED`
/// when one is broken (`*out` left as it was; `synack_last_error` says which
/// layer at which offset); `SYNACK_STATUS_ERR_NULL`, `SYNACK_STATUS_ERR_INVALID`.
///
/// # Safety
/// `bytes` must point to `len` readable bytes; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn synack_frame_decode(
    link_type: u32,
    bytes: *const u8,
    len: usize,
    out: *mut synack_frame,
) -> i32 {
    run_status(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: the caller vouches for (bytes, len).
        let data = unsafe { self::bytes(bytes, len, "bytes") }?;
        let decoded = frame::decode(LinkType(link_type), data).map_err(|e| {
            let status = match e.kind {
                FrameErrorKind::Cut { .. }
                | FrameErrorKind::Tcp(TcpError::FixedHeaderCut { .. }) => synack_status::ErrShort,
                _ => synack_status::ErrMalformed,
            };
            Failure::new(status, e.to_string())
        })?;
        let value = convert::decoded(data, &decoded);
        // SAFETY: `out` is not NULL; the caller vouches for it.
        unsafe { write_out(out, value) };
        match decoded {
            Decoded::Tcp(_) => Ok(synack_status::Ok as i32),
            Decoded::Unsupported(Unsupported::LinkType(l)) => Err(Failure::new(
                synack_status::ErrUnsupported,
                format!("link type {} is not supported", l.0),
            )),
            _ => Ok(synack_status::NotTcp as i32),
        }
    })
}

/// Writes the address of `*endpoint` as text (`192.0.2.1`, `2001:db8::1`, as
/// every synack output writes it) into `buf[0..buf_len]`, NUL-terminated and
/// cut to fit, like `snprintf`.
///
/// Returns the length of the whole text (without the NUL; at most 45), or a
/// negative status: `SYNACK_STATUS_ERR_NULL` (endpoint NULL, or buf NULL with
/// a length), `SYNACK_STATUS_ERR_INVALID` (a family other than 4 or 6).
///
/// # Safety
/// `endpoint` must be readable; `buf` must point to `buf_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn synack_endpoint_addr(
    endpoint: *const synack_endpoint,
    buf: *mut c_char,
    buf_len: usize,
) -> i32 {
    run_status(|| {
        if endpoint.is_null() {
            return Err(Failure::null("endpoint"));
        }
        if buf.is_null() && buf_len > 0 {
            return Err(Failure::null("buf"));
        }
        // SAFETY: not NULL; the caller vouches for it.
        let ep = unsafe { &*endpoint };
        let addr = ep.ip().ok_or_else(|| {
            Failure::new(
                synack_status::ErrInvalid,
                format!("address family {}, expected 4 or 6", ep.family),
            )
        })?;
        let text = addr.to_string();
        if buf_len > 0 {
            let n = text.len().min(buf_len - 1);
            // SAFETY: `buf` holds `buf_len` > n bytes; the source is a distinct Rust string.
            unsafe {
                std::ptr::copy_nonoverlapping(text.as_ptr().cast::<c_char>(), buf, n);
                buf.add(n).write(0);
            }
        }
        Ok(i32::try_from(text.len()).unwrap_or(i32::MAX))
    })
}
