//! Output formats: each renders packets and verdicts computed elsewhere.

mod digits;
pub mod json;
pub mod table;
pub mod tcpdump;
pub mod text;
