//! The IP layer: IPv4 (with options and AH) and IPv6 (with extension headers),
//! read with etherparse's borrowed header slices.

use std::net::IpAddr;

use etherparse::{
    ip_number, IpAuthHeaderSlice, IpNumber, Ipv4HeaderSlice, Ipv6ExtensionSlice,
    Ipv6ExtensionsSlice, Ipv6HeaderSlice,
};

use crate::frame::{FrameError, FrameErrorKind, Layer};

/// The IP header of a packet, borrowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpHeader<'a> {
    /// IPv4 header (options included).
    V4(Ipv4HeaderSlice<'a>),
    /// IPv6 fixed header and its extension headers.
    V6(Ipv6HeaderSlice<'a>, Ipv6ExtensionsSlice<'a>),
}

impl IpHeader<'_> {
    /// Source address.
    pub fn src(&self) -> IpAddr {
        match self {
            IpHeader::V4(h) => IpAddr::V4(h.source_addr()),
            IpHeader::V6(h, _) => IpAddr::V6(h.source_addr()),
        }
    }
    /// Destination address.
    pub fn dst(&self) -> IpAddr {
        match self {
            IpHeader::V4(h) => IpAddr::V4(h.destination_addr()),
            IpHeader::V6(h, _) => IpAddr::V6(h.destination_addr()),
        }
    }
}

/// Where this packet sits in a fragmented datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fragment {
    /// Not fragmented.
    Whole,
    /// The first fragment (offset 0, more to come): it carries the transport header.
    First,
    /// A later fragment, at this byte offset: no transport header.
    Later {
        /// Offset of this fragment's data in the datagram, in bytes.
        offset: u32,
    },
}

impl Fragment {
    /// From the header's fragment offset (in 8-byte units) and more-fragments flag.
    fn new(offset_units: u16, more_fragments: bool) -> Self {
        match (offset_units, more_fragments) {
            (0, false) => Fragment::Whole,
            (0, true) => Fragment::First,
            (units, _) => Fragment::Later {
                offset: u32::from(units) * 8,
            },
        }
    }
}

/// An IP packet with its upper-layer protocol and payload located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpPacket<'a> {
    /// The header(s).
    pub header: IpHeader<'a>,
    /// The protocol of the payload (6 for TCP).
    pub protocol: IpNumber,
    /// Payload bytes as captured, bounded by the length the IP header gives.
    pub payload: &'a [u8],
    /// Payload length as the IP header gives it (more than `payload.len()` when cut).
    pub payload_len: usize,
    /// Offset of the payload from the start of the IP header.
    pub payload_offset: usize,
    /// Fragmentation.
    pub fragment: Fragment,
}

fn error(layer: Layer, offset: usize, kind: FrameErrorKind) -> FrameError {
    FrameError {
        layer,
        offset,
        kind,
    }
}

/// Reads the IP packet in `bytes`, found at `offset` in the frame.
pub fn parse(bytes: &[u8], offset: usize) -> Result<IpPacket<'_>, FrameError> {
    let Some(&first) = bytes.first() else {
        return Err(error(
            Layer::Ip,
            offset,
            FrameErrorKind::Cut {
                needed: 1,
                captured: 0,
            },
        ));
    };
    match first >> 4 {
        4 => parse_v4(bytes, offset),
        6 => parse_v6(bytes, offset),
        v => Err(error(Layer::Ip, offset, FrameErrorKind::IpVersion(v))),
    }
}

fn parse_v4(bytes: &[u8], offset: usize) -> Result<IpPacket<'_>, FrameError> {
    use etherparse::err::ipv4::{HeaderError, HeaderSliceError};
    let header = Ipv4HeaderSlice::from_slice(bytes).map_err(|e| {
        let kind = match e {
            HeaderSliceError::Len(l) => FrameErrorKind::Cut {
                needed: l.required_len,
                captured: l.len,
            },
            HeaderSliceError::Content(HeaderError::HeaderLengthSmallerThanHeader { ihl }) => {
                FrameErrorKind::Ipv4HeaderLength(ihl)
            }
            HeaderSliceError::Content(HeaderError::UnexpectedVersion { version_number }) => {
                FrameErrorKind::IpVersion(version_number)
            }
        };
        error(Layer::Ipv4, offset, kind)
    })?;
    let header_len = header.slice().len();
    let total_len = usize::from(header.total_len());
    if total_len < header_len {
        return Err(error(
            Layer::Ipv4,
            offset,
            FrameErrorKind::Ipv4TotalLength {
                total_len,
                header_len,
            },
        ));
    }
    let fragment = Fragment::new(header.fragments_offset().value(), header.more_fragments());
    let mut protocol = header.protocol();
    let mut payload_offset = header_len;
    if protocol == ip_number::AUTH && !matches!(fragment, Fragment::Later { .. }) {
        if let Some(rest) = bytes.get(payload_offset..) {
            if let Ok(auth) = IpAuthHeaderSlice::from_slice(rest) {
                protocol = auth.next_header();
                payload_offset += auth.slice().len();
            }
        }
    }
    let payload_len = total_len.saturating_sub(payload_offset);
    let payload = captured(bytes, payload_offset, total_len);
    Ok(IpPacket {
        header: IpHeader::V4(header),
        protocol,
        payload,
        payload_len,
        payload_offset,
        fragment,
    })
}

fn parse_v6(bytes: &[u8], offset: usize) -> Result<IpPacket<'_>, FrameError> {
    use etherparse::err::ipv6::{HeaderError, HeaderSliceError};
    let header = Ipv6HeaderSlice::from_slice(bytes).map_err(|e| {
        let kind = match e {
            HeaderSliceError::Len(l) => FrameErrorKind::Cut {
                needed: l.required_len,
                captured: l.len,
            },
            HeaderSliceError::Content(HeaderError::UnexpectedVersion { version_number }) => {
                FrameErrorKind::IpVersion(version_number)
            }
        };
        error(Layer::Ipv6, offset, kind)
    })?;
    const FIXED: usize = 40;
    // A payload length of 0 (jumbograms, segmentation offload) leaves the capture to size it.
    let total_len = match usize::from(header.payload_length()) {
        0 => bytes.len(),
        n => FIXED + n,
    };
    let after_fixed = captured(bytes, FIXED, total_len);
    let (extensions, protocol, payload) =
        Ipv6ExtensionsSlice::from_slice(header.next_header(), after_fixed).map_err(|e| {
            use etherparse::err::ipv6_exts::HeaderSliceError as E;
            let kind = match e {
                E::Len(l) => FrameErrorKind::Cut {
                    needed: l.required_len,
                    captured: l.len,
                },
                E::Content(_) => FrameErrorKind::Ipv6Extension,
            };
            error(Layer::Ipv6Extension, offset + FIXED, kind)
        })?;
    let mut fragment = Fragment::Whole;
    for ext in extensions.clone().into_iter() {
        if let Ipv6ExtensionSlice::Fragment(f) = ext {
            fragment = Fragment::new(f.fragment_offset().value(), f.more_fragments());
        }
    }
    let payload_offset = FIXED + extensions.slice().len();
    Ok(IpPacket {
        header: IpHeader::V6(header, extensions),
        protocol,
        payload,
        payload_len: total_len.saturating_sub(payload_offset),
        payload_offset,
        fragment,
    })
}

/// `bytes[from..to]`, as much of it as was captured.
fn captured(bytes: &[u8], from: usize, to: usize) -> &[u8] {
    let end = to.min(bytes.len());
    bytes.get(from..end).unwrap_or(&[])
}
