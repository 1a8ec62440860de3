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

/// Link type of Ethernet.
const LINKTYPE_ETHERNET: LinkType = LinkType(1);
/// Length of an untagged Ethernet header.
const ETHERNET_HEADER_LEN: usize = 14;
/// Length of an IPv4 header without options.
const IPV4_MIN_HEADER_LEN: usize = 20;
/// Length of the IPv6 fixed header.
const IPV6_HEADER_LEN: usize = 40;

/// Decodes `frame`, captured on a link of type `link`, down to its TCP header.
#[inline]
pub fn decode(link: LinkType, frame: &[u8]) -> Result<Decoded<'_>, FrameError> {
    match ethernet_ipv4_tcp(link, frame) {
        Some(tcp) => Ok(Decoded::Tcp(tcp)),
        None => decode_other(link, frame),
    }
}

/// [`decode`] for a frame its IPv4 fast path did not take: the IPv6 fast path,
/// then the general one. Out of line, so the IPv4 path stays small where it is
/// inlined.
#[inline(never)]
fn decode_other(link: LinkType, frame: &[u8]) -> Result<Decoded<'_>, FrameError> {
    match ethernet_ipv6_tcp(link, frame) {
        Some(tcp) => Ok(Decoded::Tcp(tcp)),
        None => decode_layer_by_layer(link, frame),
    }
}

/// The bytes after an untagged Ethernet header of EtherType `ether_type`.
#[inline]
fn ethernet_payload(link: LinkType, frame: &[u8], ether_type: u16) -> Option<&[u8]> {
    if link != LINKTYPE_ETHERNET {
        return None;
    }
    let (ethernet, payload) = frame.split_first_chunk::<ETHERNET_HEADER_LEN>()?;
    (u16::from_be_bytes([ethernet[12], ethernet[13]]) == ether_type).then_some(payload)
}

/// The common case in a straight line: untagged Ethernet, IPv4 without
/// options and not fragmented, a well-formed TCP header. `None` for every
/// other frame, which [`decode_layer_by_layer`] reads (as it reads these, to
/// the same result).
#[inline]
fn ethernet_ipv4_tcp(link: LinkType, frame: &[u8]) -> Option<TcpFrame<'_>> {
    let packet = ethernet_payload(link, frame, link::ETHERTYPE_IPV4)?;
    let (ip, after_ip) = packet.split_first_chunk::<IPV4_MIN_HEADER_LEN>()?;
    let version_and_ihl = ip[0];
    // Flags and fragment offset, less DF and the reserved bit: MF and the offset.
    let fragmented = u16::from_be_bytes([ip[6], ip[7]]) & 0x3FFF != 0;
    let protocol = ip[9];
    if version_and_ihl != 0x45 || fragmented || protocol != ip_number::TCP.0 {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let segment_len = total_len.checked_sub(IPV4_MIN_HEADER_LEN)?;
    let segment = after_ip.get(..segment_len).unwrap_or(after_ip);
    let tcp = TcpHeader::parse(segment, segment_len).ok()?;
    let header = etherparse::Ipv4HeaderSlice::from_slice(ip).ok()?;
    Some(TcpFrame {
        ip: IpHeader::V4(header),
        tcp,
        tcp_offset: ETHERNET_HEADER_LEN + IPV4_MIN_HEADER_LEN,
        first_fragment: false,
    })
}

/// The IPv6 case in a straight line: untagged Ethernet, the IPv6 fixed header
/// followed by TCP (no extension headers), a well-formed TCP header. `None`
/// for every other frame, which [`decode_layer_by_layer`] reads (as it reads
/// these, to the same result).
#[inline]
fn ethernet_ipv6_tcp(link: LinkType, frame: &[u8]) -> Option<TcpFrame<'_>> {
    let packet = ethernet_payload(link, frame, link::ETHERTYPE_IPV6)?;
    let (ip, after_ip) = packet.split_first_chunk::<IPV6_HEADER_LEN>()?;
    // The general path goes by the version nibble, whatever the EtherType says.
    if ip[0] >> 4 != 6 || ip[6] != ip_number::TCP.0 {
        return None;
    }
    // A payload length of 0 (jumbograms, segmentation offload) leaves the capture to size it.
    let segment_len = match usize::from(u16::from_be_bytes([ip[4], ip[5]])) {
        0 => after_ip.len(),
        n => n,
    };
    let segment = after_ip.get(..segment_len).unwrap_or(after_ip);
    let tcp = TcpHeader::parse(segment, segment_len).ok()?;
    let header = etherparse::Ipv6HeaderSlice::from_slice(ip).ok()?;
    // TCP right after the fixed header: no extension headers, which is what
    // `Ipv6ExtensionsSlice::from_slice` finds, after a call, for next header
    // TCP (no first header, not fragmented, an empty slice).
    let extensions = etherparse::Ipv6ExtensionsSlice::default();
    Some(TcpFrame {
        ip: IpHeader::V6(header, extensions),
        tcp,
        tcp_offset: ETHERNET_HEADER_LEN + IPV6_HEADER_LEN,
        first_fragment: false,
    })
}

/// Decodes any frame, one layer after the other.
fn decode_layer_by_layer(link: LinkType, frame: &[u8]) -> Result<Decoded<'_>, FrameError> {
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

    /// Ethernet, then IPv4 (no options, DF set) carrying a TCP segment with a
    /// 4-byte option and 3 bytes of data, then 2 bytes of padding.
    fn ethernet_ipv4_tcp_frame() -> Vec<u8> {
        let mut frame = vec![0u8; 12];
        frame.extend([0x08, 0x00]);
        frame.extend([
            0x45, 0, 0, 47, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
        ]);
        frame.extend(tcp_segment());
        frame.extend([0, 0]);
        frame
    }

    /// Ethernet, then IPv6 carrying the same TCP segment, then 2 bytes of padding.
    fn ethernet_ipv6_tcp_frame() -> Vec<u8> {
        let mut frame = vec![0u8; 12];
        frame.extend([0x86, 0xDD]);
        frame.extend([0x60, 0, 0, 0, 0, 27, 6, 64]);
        frame.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0; 11]).chain(&[1]));
        frame.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0; 11]).chain(&[2]));
        frame.extend(tcp_segment());
        frame.extend([0, 0]);
        frame
    }

    /// A 27-byte TCP segment: ports 1024 -> 80, data offset 6, MSS 1460, "abc".
    fn tcp_segment() -> Vec<u8> {
        let mut segment = vec![4, 0, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x18, 0xff, 0xff];
        segment.extend([0, 0, 0, 0, 2, 4, 5, 0xb4]);
        segment.extend(b"abc");
        segment
    }

    /// The fast paths against the general one, on one frame: whatever a fast
    /// path takes, the general path decodes to the same segment.
    fn check_fast_paths(link: LinkType, frame: &[u8]) -> bool {
        let general = decode_layer_by_layer(link, frame);
        assert_eq!(decode(link, frame), general, "{frame:02x?}");
        let fast = ethernet_ipv4_tcp(link, frame).or_else(|| ethernet_ipv6_tcp(link, frame));
        let taken = fast.is_some();
        if let Some(tcp) = fast {
            assert_eq!(Ok(Decoded::Tcp(tcp)), general, "{frame:02x?}");
        }
        taken
    }

    #[test]
    fn the_fast_paths_decode_what_the_general_path_decodes() {
        for whole in [ethernet_ipv4_tcp_frame(), ethernet_ipv6_tcp_frame()] {
            assert!(check_fast_paths(LinkType(1), &whole));
            // Every other link type goes the general way.
            for link in [0, 101, 113, 276] {
                assert!(!check_fast_paths(LinkType(link), &whole));
            }
            // Cut anywhere.
            for len in 0..whole.len() {
                check_fast_paths(LinkType(1), &whole[..len]);
            }
            // Every byte of the headers (and the first of the data) set to
            // values that matter somewhere: versions, lengths, flags, protocols.
            let values = [
                0x00, 0x01, 0x05, 0x06, 0x11, 0x1b, 0x20, 0x2c, 0x2f, 0x3f, 0x40, 0x45, 0x46, 0x4f,
                0x50, 0x60, 0x65, 0x80, 0x81, 0xf0, 0xff,
            ];
            for at in 0..whole.len() - 4 {
                for value in values {
                    let mut frame = whole.clone();
                    frame[at] = value;
                    check_fast_paths(LinkType(1), &frame);
                }
            }
        }
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
