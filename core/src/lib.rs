//! synack-core: zero-copy views over TCP segments and the layers that carry them.
//!
//! The path of a packet: a [`capture`] source yields borrowed records, the
//! [`frame`] decoder walks the [`link`] and [`ip`] layers down to the TCP bytes,
//! and [`tcp`] views the header and its options without copying. [`flow`] keys
//! a segment to its connection. [`hint`] holds the cache hints of the hot
//! loops.

pub mod capture;
pub mod flow;
pub mod frame;
pub mod hint;
pub mod ip;
pub mod link;
pub mod tcp;
