//! Whole-frame decoding: from a captured record to the TCP segment it carries.

use std::fmt;

use etherparse::ip_number;

use crate::capture::LinkType;
use crate::ip::{self, Fragment, IpHeader};
use crate::link::{self, Network};
use crate::tcp::{TcpError, TcpHeader};

/// The layer a decoding error is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// The link-layer header.
    Link,
    /// An 802.1Q / 802.1ad VLAN tag.
    Vlan,
    /// IP, before the version is known.
    Ip,
    /// The IPv4 header.
    Ipv4,
    /// The IPv6 fixed header.
    Ipv6,
    /// An IPv6 extension header.
    Ipv6Extension,
    /// The TCP header.
    Tcp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Link => "link layer",
            Layer::Vlan => "VLAN tag",
            Layer::Ip => "IP",
            Layer::Ipv4 => "IPv4",
            Layer::Ipv6 => "IPv6",
            Layer::Ipv6Extension => "IPv6 extension header",
            Layer::Tcp => "TCP",
        })
    }
}

/// What is wrong with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameErrorKind {
    /// The record ends before the layer's header does.
    Cut {
        /// Bytes the header needs.
        needed: usize,
        /// Bytes captured.
        captured: usize,
    },
    /// An IP version other than 4 or 6.
    IpVersion(u8),
    /// An IPv4 header length (IHL) below 5.
    Ipv4HeaderLength(u8),
    /// An IPv4 total length smaller than its header.
    Ipv4TotalLength {
        /// The total length field.
        total_len: usize,
        /// The header length.
        header_len: usize,
    },
    /// An IPv6 extension header out of place or malformed.
    Ipv6Extension,
    /// The TCP header is malformed.
    Tcp(TcpError),
}

/// A frame that could not be decoded down to its TCP header: which layer,
/// at which offset in the frame, and what was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameError {
    /// The layer at fault.
    pub layer: Layer,
    /// Offset of that layer's header in the frame.
    pub offset: usize,
    /// The problem.
    pub kind: FrameErrorKind,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}: ", self.layer, self.offset)?;
        match self.kind {
            FrameErrorKind::Cut { needed, captured } => {
                write!(f, "header needs {needed} bytes, {captured} captured")
            }
            FrameErrorKind::IpVersion(v) => write!(f, "IP version {v}, expected 4 or 6"),
            FrameErrorKind::Ipv4HeaderLength(ihl) => write!(f, "header length {ihl} below 5"),
            FrameErrorKind::Ipv4TotalLength {
                total_len,
                header_len,
            } => write!(
                f,
                "total length {total_len} below the {header_len}-byte header"
            ),
            FrameErrorKind::Ipv6Extension => write!(f, "malformed or misplaced extension header"),
            FrameErrorKind::Tcp(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Why a frame that may carry TCP is not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsupported {
    /// A link type synack does not read.
    LinkType(LinkType),
    /// A tunnel (GRE, IP-in-IP, MPLS, Geneve, VXLAN, GTP-U): out of scope.
    Tunnel,
    /// An ICMP error quoting a TCP header: out of scope.
    IcmpQuotedTcp,
}

/// A TCP segment found in a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpFrame<'a> {
    /// The IP header.
    pub ip: IpHeader<'a>,
    /// The TCP header view.
    pub tcp: TcpHeader<'a>,
    /// Offset of the TCP header in the frame.
    pub tcp_offset: usize,
    /// True when the segment came in a first IP fragment (its length is the fragment's).
    pub first_fragment: bool,
}

/// What a frame holds, as far as TCP is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A TCP segment.
    Tcp(TcpFrame<'a>),
    /// A later fragment of a TCP datagram: no TCP header in it.
    TcpFragment {
        /// The IP header.
        ip: IpHeader<'a>,
        /// Offset of the fragment's data in the datagram.
        offset: u32,
    },
    /// Not TCP (ARP, UDP, ICMP echo, ...).
    NotTcp,
    /// May carry TCP, but out of synack's scope.
    Unsupported(Unsupported),
}

const GENEVE_PORT: u16 = 6081;
const VXLAN_PORT: u16 = 4789;
const GTPU_PORT: u16 = 2152;
const TUNNEL_PORTS: [u16; 3] = [GENEVE_PORT, VXLAN_PORT, GTPU_PORT];
const TUNNEL_PROTOCOLS: [u8; 5] = [4, 41, 47, 137, 97]; // IPIP, IPv6, GRE, MPLS-in-IP, EtherIP

/// Decodes `frame`, captured on a link of type `link`, down to its TCP header.
pub fn decode(link: LinkType, frame: &[u8]) -> Result<Decoded<'_>, FrameError> {
    let (bytes, ip_offset) = match link::network_layer(link, frame)? {
        Network::Ip { bytes, offset } => (bytes, offset),
        Network::Mpls => return Ok(Decoded::Unsupported(Unsupported::Tunnel)),
        Network::Other(_) => return Ok(Decoded::NotTcp),
        Network::UnsupportedLink(l) => return Ok(Decoded::Unsupported(Unsupported::LinkType(l))),
    };
    let packet = ip::parse(bytes, ip_offset)?;
    if let Fragment::Later { offset } = packet.fragment {
        return Ok(if packet.protocol == ip_number::TCP {
            Decoded::TcpFragment {
                ip: packet.header,
                offset,
            }
        } else {
            Decoded::NotTcp
        });
    }
    match packet.protocol.0 {
        6 => {}
        p if TUNNEL_PROTOCOLS.contains(&p) => return Ok(Decoded::Unsupported(Unsupported::Tunnel)),
        17 => return Ok(classify_udp(packet.payload)),
        1 | 58 => return Ok(classify_icmp(packet.protocol.0, packet.payload)),
        _ => return Ok(Decoded::NotTcp),
    }
    let tcp_offset = ip_offset + packet.payload_offset;
    let tcp = TcpHeader::parse(packet.payload, packet.payload_len).map_err(|e| FrameError {
        layer: Layer::Tcp,
        offset: tcp_offset,
        kind: FrameErrorKind::Tcp(e),
    })?;
    Ok(Decoded::Tcp(TcpFrame {
        ip: packet.header,
        tcp,
        tcp_offset,
        first_fragment: packet.fragment == Fragment::First,
    }))
}

/// UDP to a tunnel port is a tunnel; anything else is not TCP.
fn classify_udp(udp: &[u8]) -> Decoded<'static> {
    let port = |at: usize| {
        udp.get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let tunnel = [port(0), port(2)]
        .into_iter()
        .flatten()
        .any(|p| TUNNEL_PORTS.contains(&p));
    if tunnel {
        Decoded::Unsupported(Unsupported::Tunnel)
    } else {
        Decoded::NotTcp
    }
}

/// An ICMP or ICMPv6 error quoting a TCP packet is out of scope; other ICMP is not TCP.
fn classify_icmp(protocol: u8, icmp: &[u8]) -> Decoded<'static> {
    let Some(&icmp_type) = icmp.first() else {
        return Decoded::NotTcp;
    };
    let is_error = match protocol {
        1 => matches!(icmp_type, 3 | 4 | 5 | 11 | 12),
        _ => (1..=4).contains(&icmp_type),
    };
    // The quoted IP header starts after the 8-byte ICMP header.
    let quoted = icmp.get(8..).unwrap_or(&[]);
    let quotes_tcp = match quoted.first().map(|b| b >> 4) {
        Some(4) => quoted.get(9) == Some(&6),
        Some(6) => quoted.get(6) == Some(&6),
        _ => false,
    };
    if is_error && quotes_tcp {
        Decoded::Unsupported(Unsupported::IcmpQuotedTcp)
    } else {
        Decoded::NotTcp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw IPv4 packet (no options) carrying UDP from port 1024 to `dst_port`.
    fn ipv4_udp(dst_port: u16) -> Vec<u8> {
        let mut packet = vec![
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, // version/IHL .. protocol UDP, checksum
            192, 0, 2, 1, 192, 0, 2, 2, // addresses
            0x04, 0x00, // source port 1024
        ];
        packet.extend(dst_port.to_be_bytes());
        packet.extend([0, 8, 0, 0]); // UDP length, checksum
        packet
    }

    #[test]
    fn udp_to_a_tunnel_port_is_a_tunnel() {
        for port in [GENEVE_PORT, VXLAN_PORT, GTPU_PORT] {
            assert_eq!(
                decode(LinkType(101), &ipv4_udp(port)),
                Ok(Decoded::Unsupported(Unsupported::Tunnel)),
                "port {port}"
            );
        }
        assert_eq!(decode(LinkType(101), &ipv4_udp(53)), Ok(Decoded::NotTcp));
    }
}
