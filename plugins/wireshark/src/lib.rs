//! Tests of the synack Wireshark plugin; the plugin is C (`packet-synack.c`,
//! built by `build.sh`) and its tests are in `tests/tshark_plugin.rs`.
//! See `docs/wireshark.md`.
