//! Flow keys: the two endpoints of a TCP connection, in a canonical order.

use std::net::IpAddr;

/// One side of a connection: address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// IP address.
    pub addr: IpAddr,
    /// TCP port.
    pub port: u16,
}

/// Which way a segment travels relative to a [`FlowKey`]'s canonical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowDirection {
    /// From `FlowKey::lower` to `FlowKey::upper`.
    LowerToUpper,
    /// From `FlowKey::upper` to `FlowKey::lower`.
    UpperToLower,
}

/// A bidirectional flow key: both directions of a connection map to the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// The endpoint that sorts first (address, then port).
    pub lower: Endpoint,
    /// The endpoint that sorts second.
    pub upper: Endpoint,
}

impl FlowKey {
    /// The key of a segment from `src` to `dst`, and the segment's direction in it.
    #[inline]
    pub fn new(src: Endpoint, dst: Endpoint) -> (FlowKey, FlowDirection) {
        if src <= dst {
            (
                FlowKey {
                    lower: src,
                    upper: dst,
                },
                FlowDirection::LowerToUpper,
            )
        } else {
            (
                FlowKey {
                    lower: dst,
                    upper: src,
                },
                FlowDirection::UpperToLower,
            )
        }
    }
}
