//! Name helpers: enum values to the stable names every synack output uses.
//! The strings are the dissector's own (`Role::name`, `TcpState::name`, ...),
//! made into static C strings once.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use synack_dissector::annotation::{Role, Warning};

use crate::convert::{
    end_reason_name, CLOSE_KINDS, DIRECTIONS, END_REASONS, OPEN_KINDS, RESET_KINDS, SIDES, STATES,
};
use crate::error::guard;
use crate::types::synack_status;

type Table = OnceLock<Vec<CString>>;

/// Entry `i` of the table built from `names` (NULL when out of range).
fn lookup(table: &'static Table, names: fn() -> Vec<&'static str>, i: i32) -> *const c_char {
    guard(std::ptr::null(), || {
        let all = table.get_or_init(|| {
            names()
                .into_iter()
                .map(|n| CString::new(n).unwrap_or_default())
                .collect()
        });
        usize::try_from(i)
            .ok()
            .and_then(|i| all.get(i))
            .map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// The statuses, in order of decreasing value from `SYNACK_STATUS_NOT_TCP`.
const STATUSES: [(synack_status, &str); 12] = [
    (synack_status::Ok, "ok"),
    (synack_status::NotTcp, "not-tcp"),
    (synack_status::ErrNull, "null-pointer"),
    (synack_status::ErrInvalid, "invalid-argument"),
    (synack_status::ErrShort, "short-buffer"),
    (synack_status::ErrMalformed, "malformed"),
    (synack_status::ErrUnsupported, "unsupported"),
    (synack_status::ErrIo, "io"),
    (synack_status::ErrFormat, "format"),
    (synack_status::ErrPlugin, "plugin"),
    (synack_status::ErrAbi, "abi-version"),
    (synack_status::ErrInternal, "internal"),
];

/// The name of a status (`ok`, `not-tcp`, `null-pointer`, `invalid-argument`,
/// `short-buffer`, `malformed`, `unsupported`, `io`, `format`, `plugin`,
/// `abi-version`, `internal`), or NULL for a value that is none. Static string.
#[no_mangle]
pub extern "C" fn synack_status_name(status: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    let i = STATUSES.iter().position(|(s, _)| *s as i32 == status);
    lookup(
        &T,
        || STATUSES.iter().map(|(_, n)| *n).collect(),
        i.map_or(-1, |i| i as i32),
    )
}

/// The stable name of a `synack_role` (`handshake-1` .. `teardown-4`, `reset`),
/// or NULL for `SYNACK_ROLE_NONE` and values out of range. Static string.
#[no_mangle]
pub extern "C" fn synack_role_name(role: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(&T, || Role::ALL.iter().map(|r| r.name()).collect(), role)
}

/// A short human label of a `synack_role` (`handshake 1/3`, `teardown 2/4`,
/// `reset`), or NULL for `SYNACK_ROLE_NONE` and values out of range. Static string.
#[no_mangle]
pub extern "C" fn synack_role_label(role: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(&T, || Role::ALL.iter().map(|r| r.label()).collect(), role)
}

/// The RFC name of a `synack_state` (`LISTEN`, `SYN-SENT`, ... `CLOSED`), or
/// NULL for `SYNACK_STATE_UNKNOWN` and values out of range. Static string.
#[no_mangle]
pub extern "C" fn synack_state_name(state: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(&T, || STATES.iter().map(|s| s.name()).collect(), state)
}

/// The name of a `synack_reset_kind` (`refused`, `after-close`, `abort`), or
/// NULL for `SYNACK_RESET_KIND_NONE` and values out of range. Static string.
#[no_mangle]
pub extern "C" fn synack_reset_kind_name(kind: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(&T, || RESET_KINDS.iter().map(|k| k.name()).collect(), kind)
}

/// The name of a `synack_direction` (`c2s`, `s2c`), or NULL for values out
/// of range. Static string.
#[no_mangle]
pub extern "C" fn synack_direction_name(direction: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(
        &T,
        || DIRECTIONS.iter().map(|d| d.name()).collect(),
        direction,
    )
}

/// The name of a `synack_open_kind` (`three-way`, `simultaneous`,
/// `fast-open`, `midstream`, `incomplete`), or NULL for values out of range.
/// Static string.
#[no_mangle]
pub extern "C" fn synack_open_kind_name(kind: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(&T, || OPEN_KINDS.iter().map(|k| k.name()).collect(), kind)
}

/// The name of a `synack_close_kind` (`fin`, `simultaneous`, `half-open`,
/// `reset`, `none`), or NULL for values out of range. Static string.
#[no_mangle]
pub extern "C" fn synack_close_kind_name(kind: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(&T, || CLOSE_KINDS.iter().map(|k| k.name()).collect(), kind)
}

/// The name of a `synack_side` (`client`, `server`), or NULL for
/// `SYNACK_SIDE_NONE` and values out of range. Static string.
#[no_mangle]
pub extern "C" fn synack_side_name(side: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(&T, || SIDES.iter().map(|s| s.name()).collect(), side)
}

/// The name of a `synack_end_reason` (`closed`, `idle`, `evicted`, `reused`,
/// `capture-end`), or NULL for values out of range. Static string.
#[no_mangle]
pub extern "C" fn synack_end_reason_name(reason: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(
        &T,
        || END_REASONS.iter().map(|r| end_reason_name(*r)).collect(),
        reason,
    )
}

/// The stable code of warning bit `bit` of `synack_annotation::warnings`
/// (0 `malformed-option`, 1 `nonzero-padding`, 2 `truncated`, 3 `syn-fin`,
/// 4 `syn-rst`, 5 `syn-data-without-tfo`, 6 `bad-checksum`,
/// 7 `urgent-pointer-without-urg`, 8 `ack-number-without-ack`,
/// 9 `reserved-bits`, 10 `unexpected`), or NULL for a bit that is none.
/// Static string.
#[no_mangle]
pub extern "C" fn synack_warning_name(bit: i32) -> *const c_char {
    static T: Table = OnceLock::new();
    lookup(&T, || Warning::ALL.iter().map(|w| w.code()).collect(), bit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn s(p: *const c_char) -> Option<String> {
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    #[test]
    fn names_are_the_dissectors() {
        assert_eq!(s(synack_role_name(0)).as_deref(), Some("handshake-1"));
        assert_eq!(s(synack_role_name(7)).as_deref(), Some("reset"));
        assert_eq!(s(synack_role_name(-1)), None);
        assert_eq!(s(synack_role_name(8)), None);
        assert_eq!(s(synack_state_name(9)).as_deref(), Some("TIME-WAIT"));
        assert_eq!(s(synack_warning_name(10)).as_deref(), Some("unexpected"));
        assert_eq!(s(synack_warning_name(11)), None);
        assert_eq!(s(synack_status_name(-10)).as_deref(), Some("internal"));
        assert_eq!(s(synack_status_name(-11)), None);
        assert_eq!(s(synack_end_reason_name(4)).as_deref(), Some("capture-end"));
        assert_eq!(s(synack_side_name(i32::MIN)), None);
    }
}
