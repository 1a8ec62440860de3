//! PLACEHOLDER (the Zeek helper replaces this file): Zeek's conn_state and history.

use synack_core::flow::Endpoint;

use crate::segment::Segment;

/// Zeek's view of one connection.
#[derive(Clone, Debug)]
pub struct ZeekConnection {
    orig: Endpoint,
}

impl ZeekConnection {
    /// Starts from the first packet.
    pub fn new(first: &Segment) -> Self {
        ZeekConnection { orig: first.src }
    }
    /// Feeds a packet.
    pub fn observe(&mut self, _seg: &Segment, _ts_ns: u64, _checksum_ok: Option<bool>) {}
    /// conn_state.
    pub fn conn_state(&self) -> &'static str {
        "OTH"
    }
    /// history.
    pub fn history(&self) -> &str {
        ""
    }
    /// The originator.
    pub fn originator(&self) -> Endpoint {
        self.orig
    }
}
