//! `TcpHeader::parse` over arbitrary bytes with a segment length taken from
//! the input; every getter is read, the options are walked and the checksum is
//! verified against a reference implementation with fixed pseudo-headers.
//!
//! Input: a two-byte big-endian selector `s`, then the TCP bytes `rest`.
//! `s < 0xFE00`: segment_len = s; `0xFE00..0xFF00`: rest.len() + (s & 0xFF)
//! (a segment cut by the snap length); `0xFF00..`: rest.len() - (s & 0xFF)
//! (trailing link-layer padding), saturating at 0.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synack_core::tcp::TcpHeader;

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let sel = u16::from_be_bytes(*sel);
    let delta = usize::from(sel & 0xFF);
    let segment_len = match sel {
        0xFF00.. => rest.len().saturating_sub(delta),
        0xFE00.. => rest.len() + delta,
        s => usize::from(s),
    };
    let parsed = TcpHeader::parse(rest, segment_len);
    for pseudo in synack_fuzz::fixed_pseudo_headers() {
        synack_fuzz::check_tcp_parse(&parsed, rest, segment_len, &pseudo);
    }
});
