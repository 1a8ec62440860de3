//! The TCP checksum over the IPv4 or IPv6 pseudo-header.

use std::net::IpAddr;

/// The addresses the pseudo-header of a segment carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PseudoHeader {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
}

/// One's complement sum of 16-bit big-endian words; an odd byte is padded with zero.
fn add_words(mut sum: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(u16::from_be_bytes([*last, 0]));
    }
    sum
}

fn add_addr(sum: u64, addr: &IpAddr) -> u64 {
    match addr {
        IpAddr::V4(a) => add_words(sum, &a.octets()),
        IpAddr::V6(a) => add_words(sum, &a.octets()),
    }
}

/// Folds the sum over the pseudo-header and `parts` (the segment's bytes, in
/// order, each part but the last of even length) into 16 bits.
pub(super) fn segment_sum(pseudo: &PseudoHeader, segment_len: usize, parts: [&[u8]; 3]) -> u16 {
    let mut sum = add_addr(add_addr(0, &pseudo.src), &pseudo.dst);
    sum += 6; // protocol number of TCP
    sum += (segment_len as u64 >> 16) + (segment_len as u64 & 0xFFFF);
    for part in parts {
        sum = add_words(sum, part);
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}
