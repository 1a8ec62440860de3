//! Errors at the boundary: status codes, messages, and the guard that keeps
//! every panic on the Rust side.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::types::synack_status;

/// A failed call: its status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: synack_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: synack_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Failure {
        Failure::new(synack_status::ErrNull, format!("{what} is NULL"))
    }
}

/// A message as a C string (interior NULs replaced).
pub(crate) fn c_message(message: &str) -> CString {
    CString::new(message.replace('\0', "\\0")).unwrap_or_default()
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records the message of a call with no handle (or one that made none).
pub(crate) fn set_thread_error(message: &str) {
    LAST_ERROR.with(|e| *e.borrow_mut() = c_message(message));
}

/// The calling thread's last message, as a pointer valid until the next
/// failing call on this thread.
pub(crate) fn thread_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Runs `f`, turning a panic into `fallback` (and a message from `on_panic`).
pub(crate) fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".to_string());
            set_thread_error(&format!("internal error: {what}"));
            fallback
        }
    }
}

/// Runs a handle-less call: its failure's message goes to the thread's last
/// error, its status is returned.
pub(crate) fn run_status(f: impl FnOnce() -> Result<i32, Failure>) -> i32 {
    guard(synack_status::ErrInternal as i32, || match f() {
        Ok(v) => v,
        Err(e) => {
            set_thread_error(&e.message);
            e.status as i32
        }
    })
}

/// Checks a (pointer, length) pair from C and views it as a slice.
///
/// # Safety
/// When `ptr` is not NULL it must point to `len` readable bytes that stay
/// valid and unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if len > isize::MAX as usize {
        return Err(Failure::new(
            synack_status::ErrInvalid,
            format!("{what}: length {len} is above PTRDIFF_MAX"),
        ));
    }
    // SAFETY: non-NULL, length within isize, and the caller vouches for the bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Writes `value` through `out` after checking it.
///
/// # Safety
/// When not NULL, `out` must be valid for writes of a `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: checked non-NULL by every caller before any work; the caller vouches for it.
    unsafe { out.write(value) }
}
