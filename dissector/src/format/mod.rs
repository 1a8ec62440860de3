//! Output formats: each renders packets and verdicts computed elsewhere.

pub mod json;
pub mod table;
pub mod tcpdump;
pub mod text;
