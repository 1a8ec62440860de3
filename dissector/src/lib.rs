//! synack-dissector: connection tracking, roles, states, verdicts and output formats.
//!
//! A decoded TCP segment becomes a [`segment::Segment`]; the [`tracker::Tracker`]
//! finds its [`connection::Connection`], which gives the packet's
//! [`annotation::Annotation`] and, when the connection ends, its
//! [`verdict::Verdict`]. The [`format`](mod@format) sinks render those.

pub mod annotation;
pub mod cli;
pub mod completeness;
pub mod connection;
pub mod format;
pub mod pipeline;
#[allow(non_camel_case_types)] // the plugin ABI's C names
pub mod plugin_host;
pub mod segment;
pub mod seq;
pub mod states;
#[cfg(test)]
mod test_traffic;
pub mod tracker;
pub mod verdict;
pub mod zeek;
