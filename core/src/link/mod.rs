//! Link layers: finds the network-layer bytes under each supported link type.

use crate::capture::LinkType;
use crate::frame::{FrameError, FrameErrorKind, Layer};

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
const VLAN_TAGS: [u16; 4] = [0x8100, 0x88A8, 0x9100, 0x9200];
const MPLS: [u16; 2] = [0x8847, 0x8848];
/// EtherType of a PPPoE session (RFC 2516).
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// Length of the PPPoE header: version and type, code, session id, length.
const PPPOE_HEADER_LEN: usize = 6;
/// Most VLAN tags followed before giving up (QinQ uses two).
const MAX_VLAN_TAGS: usize = 8;

/// What sits above the link layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network<'a> {
    /// IP (version 4 or 6, told by the first nibble), with its offset in the frame.
    Ip {
        /// The IP packet's bytes.
        bytes: &'a [u8],
        /// Offset of the IP header in the frame.
        offset: usize,
    },
    /// MPLS: a tunnel, out of scope.
    Mpls,
    /// Another network protocol (ARP, LLC, ...), identified by EtherType or the link's own code.
    Other(u32),
    /// A link type synack does not read.
    UnsupportedLink(LinkType),
}

fn cut(layer: Layer, offset: usize, needed: usize, captured: usize) -> FrameError {
    FrameError {
        layer,
        offset,
        kind: FrameErrorKind::Cut { needed, captured },
    }
}

fn be16(data: &[u8], at: usize, layer: Layer) -> Result<u16, FrameError> {
    match data.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(cut(layer, at, at + 2, data.len())),
    }
}

/// Finds the network layer of `frame` under link type `link`.
pub fn network_layer(link: LinkType, frame: &[u8]) -> Result<Network<'_>, FrameError> {
    match link.0 {
        1 => by_ethertype(frame, 12),
        113 => by_ethertype(frame, 14),
        276 => {
            let ether_type = be16(frame, 0, Layer::Link)?;
            if frame.len() < 20 {
                return Err(cut(Layer::Link, 0, 20, frame.len()));
            }
            after_ethertype(frame, ether_type, 20)
        }
        0 | 108 => null_loopback(frame, link.0 == 108),
        9 | 50 => ppp(frame, 0),
        104 => {
            let ether_type = be16(frame, 2, Layer::Link)?;
            after_ethertype(frame, ether_type, 4)
        }
        12 | 14 | 101 | 228 | 229 => Ok(Network::Ip {
            bytes: frame,
            offset: 0,
        }),
        _ => Ok(Network::UnsupportedLink(link)),
    }
}

/// Reads the EtherType at `at`, follows VLAN tags, and finds what follows.
fn by_ethertype(frame: &[u8], at: usize) -> Result<Network<'_>, FrameError> {
    let ether_type = be16(frame, at, Layer::Link)?;
    after_ethertype(frame, ether_type, at + 2)
}

fn after_ethertype(
    frame: &[u8],
    mut ether_type: u16,
    mut at: usize,
) -> Result<Network<'_>, FrameError> {
    for _ in 0..MAX_VLAN_TAGS {
        if !VLAN_TAGS.contains(&ether_type) {
            break;
        }
        ether_type = be16(frame, at + 2, Layer::Vlan)?;
        at += 4;
    }
    match ether_type {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(Network::Ip {
            bytes: frame.get(at..).unwrap_or(&[]),
            offset: at,
        }),
        t if MPLS.contains(&t) => Ok(Network::Mpls),
        ETHERTYPE_PPPOE_SESSION => {
            let body = at + PPPOE_HEADER_LEN;
            if frame.len() < body {
                return Err(cut(Layer::Link, at, body, frame.len()));
            }
            ppp(frame, body)
        }
        t => Ok(Network::Other(u32::from(t))),
    }
}

/// BSD loopback: a 4-byte address family, in the writer's byte order (null) or big-endian (loop).
fn null_loopback(frame: &[u8], big_endian: bool) -> Result<Network<'_>, FrameError> {
    let Some(family) = frame.get(..4) else {
        return Err(cut(Layer::Link, 0, 4, frame.len()));
    };
    let family = [family[0], family[1], family[2], family[3]];
    let family = if big_endian || family[0] == 0 {
        u32::from_be_bytes(family)
    } else {
        u32::from_le_bytes(family)
    };
    match family {
        // AF_INET everywhere; AF_INET6 on Linux, the BSDs and Darwin.
        2 | 10 | 24 | 28 | 30 => Ok(Network::Ip {
            bytes: &frame[4..],
            offset: 4,
        }),
        f => Ok(Network::Other(f)),
    }
}

/// PPP starting at `start` in the frame, with or without the HDLC-like address
/// and control bytes, and with a compressed (one-byte) protocol field.
fn ppp(frame: &[u8], start: usize) -> Result<Network<'_>, FrameError> {
    let address_control = frame
        .get(start..)
        .is_some_and(|rest| rest.starts_with(&[0xFF, 0x03]));
    let mut at = if address_control { start + 2 } else { start };
    let first = *frame
        .get(at)
        .ok_or_else(|| cut(Layer::Link, at, at + 1, frame.len()))?;
    let protocol = if first & 1 == 1 {
        at += 1;
        u16::from(first)
    } else {
        let p = be16(frame, at, Layer::Link)?;
        at += 2;
        p
    };
    match protocol {
        0x0021 | 0x0057 => Ok(Network::Ip {
            bytes: &frame[at..],
            offset: at,
        }),
        0x0281 | 0x0283 => Ok(Network::Mpls),
        p => Ok(Network::Other(u32::from(p))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame with `ether_type` after the MAC addresses, then `rest`.
    fn ethernet(ether_type: u16, rest: &[u8]) -> Vec<u8> {
        let mut frame = vec![0u8; 12];
        frame.extend(ether_type.to_be_bytes());
        frame.extend(rest);
        frame
    }

    #[test]
    fn pppoe_session_carries_ip() {
        // PPPoE header (version/type 0x11, session data, session 1, length), PPP IPv4, IP.
        let frame = ethernet(0x8864, &[0x11, 0, 0, 1, 0, 22, 0x00, 0x21, 0x45, 0x00]);
        assert_eq!(
            network_layer(LinkType(1), &frame),
            Ok(Network::Ip {
                bytes: &[0x45, 0x00],
                offset: 22
            })
        );
        // Behind a VLAN tag, with IPv6 inside.
        let mut tagged = vec![0u8; 12];
        tagged.extend([0x81, 0x00, 0x00, 0x07, 0x88, 0x64]);
        tagged.extend([0x11, 0, 0, 1, 0, 2, 0x00, 0x57, 0x60]);
        assert_eq!(
            network_layer(LinkType(1), &tagged),
            Ok(Network::Ip {
                bytes: &[0x60],
                offset: 26
            })
        );
    }

    #[test]
    fn pppoe_session_without_ip_or_cut() {
        let lcp = ethernet(0x8864, &[0x11, 0, 0, 1, 0, 2, 0xC0, 0x21]);
        assert_eq!(network_layer(LinkType(1), &lcp), Ok(Network::Other(0xC021)));
        let cut_header = ethernet(0x8864, &[0x11, 0, 0]);
        assert_eq!(
            network_layer(LinkType(1), &cut_header),
            Err(cut(Layer::Link, 14, 20, 17))
        );
        let cut_protocol = ethernet(0x8864, &[0x11, 0, 0, 1, 0, 2, 0x00]);
        assert!(network_layer(LinkType(1), &cut_protocol).is_err());
    }
}
