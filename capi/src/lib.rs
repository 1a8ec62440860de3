//! synack's C ABI: `libsynack.so` / `libsynack.a` and the header
//! `include/synack.h` (generated from this crate by cbindgen; the test
//! `header_is_current` fails when it is stale).
//!
//! Every exported function checks its pointers and lengths, returns errors
//! as negative `synack_status` codes and never lets a panic cross the
//! boundary. The tracker is the dissector's own [`Pipeline`]: the C ABI
//! gives the same annotations and verdicts as the `synack` command.
//!
//! The plugin loader, [`plugin_host`], is the dissector's (the `synack`
//! command uses it too); its C types are part of this ABI.
//! See `docs/capi.md`.
//!
//! [`Pipeline`]: synack_dissector::pipeline::Pipeline

#![allow(non_camel_case_types)] // the C names are the ABI's

pub mod capture;
mod convert;
mod error;
pub mod names;
pub mod parse;
pub use synack_dissector::plugin_host;
pub mod tracker;
pub mod types;
