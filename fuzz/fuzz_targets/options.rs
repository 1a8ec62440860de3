//! Walks `OptionIter` over arbitrary bytes, both as whole options
//! (`OptionIter::new`) and as options cut by the capture (`OptionIter::new_cut`):
//! every item's fields are read and checked against the bytes they came from,
//! malformed items are displayed, the two walks must agree, and
//! `OptionIter::padding` must agree with the walk.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    synack_fuzz::check_options_both_ways(data);
});
