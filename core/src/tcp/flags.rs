//! The twelve TCP flag bits (RFC 9293 control bits, RFC 3168 ECN, AccECN's AE).

use std::fmt;

/// The twelve flag bits of a TCP header, as the low 12 bits of bytes 12–13
/// (the same value as tshark's `tcp.flags`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// FIN: no more data from the sender.
    pub const FIN: u16 = 0x001;
    /// SYN: synchronise sequence numbers.
    pub const SYN: u16 = 0x002;
    /// RST: reset the connection.
    pub const RST: u16 = 0x004;
    /// PSH: push function.
    pub const PSH: u16 = 0x008;
    /// ACK: the acknowledgment field is significant.
    pub const ACK: u16 = 0x010;
    /// URG: the urgent pointer is significant.
    pub const URG: u16 = 0x020;
    /// ECE: ECN-Echo.
    pub const ECE: u16 = 0x040;
    /// CWR: congestion window reduced.
    pub const CWR: u16 = 0x080;
    /// AE: accurate ECN (formerly NS, the ECN nonce).
    pub const AE: u16 = 0x100;
    /// The three reserved bits.
    pub const RESERVED: u16 = 0xE00;

    /// True when every bit of `mask` is set.
    #[inline]
    pub fn contains(self, mask: u16) -> bool {
        self.0 & mask == mask
    }
    /// FIN is set.
    #[inline]
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// SYN is set.
    #[inline]
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// RST is set.
    #[inline]
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// PSH is set.
    #[inline]
    pub fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// ACK is set.
    #[inline]
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    /// URG is set.
    #[inline]
    pub fn urg(self) -> bool {
        self.contains(Self::URG)
    }
    /// ECE is set.
    #[inline]
    pub fn ece(self) -> bool {
        self.contains(Self::ECE)
    }
    /// CWR is set.
    #[inline]
    pub fn cwr(self) -> bool {
        self.contains(Self::CWR)
    }
    /// AE is set.
    #[inline]
    pub fn ae(self) -> bool {
        self.contains(Self::AE)
    }
    /// The reserved bits (0 to 7).
    #[inline]
    pub fn reserved(self) -> u8 {
        ((self.0 & Self::RESERVED) >> 9) as u8
    }
}

impl fmt::Display for TcpFlags {
    /// Three hex digits, as tshark shows `tcp.flags` (e.g. `0x012`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:03x}", self.0)
    }
}
