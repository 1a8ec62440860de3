//! synack-core: zero-copy views over TCP segments and the layers that carry them.
//!
//! The path of a packet: a [`capture`] source yields borrowed records, the
//! [`frame`] decoder walks the link and IP layers down to the TCP bytes, and
//! [`tcp`] views the header and its options without copying.

pub mod capture;
