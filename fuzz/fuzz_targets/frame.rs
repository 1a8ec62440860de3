//! `frame::decode` over arbitrary frames of every supported link type: the
//! first two input bytes (big-endian, modulo 13) pick the link type from
//! `synack_fuzz::LINK_TYPES`, the rest is the frame. Everything decoded is
//! read and checked (sub-slices of the frame, TCP invariants, checksum
//! against a reference, flow key symmetry, error texts).
#![no_main]

use libfuzzer_sys::fuzz_target;
use synack_core::capture::LinkType;
use synack_fuzz::LINK_TYPES;

fuzz_target!(|data: &[u8]| {
    let Some((sel, frame)) = data.split_first_chunk::<2>() else {
        return;
    };
    let link = LINK_TYPES[usize::from(u16::from_be_bytes(*sel)) % LINK_TYPES.len()];
    synack_fuzz::check_decode(LinkType(link), frame);
});
