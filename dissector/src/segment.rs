//! The facts of one TCP segment that the tracker needs: small and `Copy`,
//! taken from the borrowed header view once.

use synack_core::flow::Endpoint;
use synack_core::frame::TcpFrame;
use synack_core::tcp::{MalformedReason, TcpFlags, TcpHeader, TcpOption};

use crate::annotation::{Warning, Warnings};

/// The options of most segments once timestamps are on (RFC 7323, appendix
/// A): NOP, NOP, then the timestamps option's kind and length, and its two
/// values. Linux's `tcp_fast_parse_options` looks for this layout first, and
/// so does [`Segment::from_frame`].
const ALIGNED_TIMESTAMPS: u32 = u32::from_be_bytes([1, 1, 8, 10]);

/// The handshake options a segment carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandshakeOptions {
    /// MSS option value.
    pub mss: Option<u16>,
    /// Window scale shift.
    pub wscale: Option<u8>,
    /// SACK-permitted present.
    pub sack_permitted: bool,
    /// Timestamps present.
    pub timestamps: bool,
    /// A Fast Open option (cookie or cookie request) present.
    pub fast_open: bool,
    /// A Fast Open option with a cookie (not a request) present.
    pub fast_open_cookie: bool,
    /// An MPTCP option present.
    pub mptcp: bool,
    /// An MD5 signature present.
    pub md5: bool,
}

/// One TCP segment as the tracker sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful with ACK).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window field.
    pub window: u16,
    /// Payload length as the IP header gives it.
    pub payload_len: u32,
    /// Options relevant to the handshake.
    pub options: HandshakeOptions,
    /// Oddities in the header itself.
    pub warnings: Warnings,
}

impl Segment {
    /// Takes the tracker's facts from a decoded frame.
    #[inline]
    pub fn from_frame(frame: &TcpFrame<'_>) -> Segment {
        let tcp = &frame.tcp;
        let mut segment = Segment {
            src: Endpoint {
                addr: frame.ip.src(),
                port: tcp.src_port(),
            },
            dst: Endpoint {
                addr: frame.ip.dst(),
                port: tcp.dst_port(),
            },
            seq: tcp.seq(),
            ack: tcp.ack(),
            flags: tcp.flags(),
            window: tcp.window(),
            payload_len: tcp.payload_len() as u32,
            options: HandshakeOptions::default(),
            warnings: Warnings::default(),
        };
        segment.add_header_facts(tcp);
        segment
    }

    /// Takes the options' and the flags' facts (built in place: a 72-byte
    /// segment passed along by value is copied at each step).
    fn add_header_facts(&mut self, tcp: &TcpHeader<'_>) {
        let aligned_timestamps = match *tcp.options_raw() {
            [a, b, c, d, _, _, _, _, _, _, _, _] => {
                u32::from_be_bytes([a, b, c, d]) == ALIGNED_TIMESTAMPS
            }
            _ => false,
        };
        if aligned_timestamps && !tcp.options_truncated() {
            // What the walk (`add_options`) finds in them, without walking.
            self.options.timestamps = true;
        } else {
            self.add_options(tcp);
        }
        self.add_flag_facts(tcp);
    }

    /// Walks the options for the handshake's and their oddities.
    fn add_options(&mut self, tcp: &TcpHeader<'_>) {
        let mut walk = tcp.options();
        for item in walk.by_ref() {
            match item {
                Ok(TcpOption::Mss(v)) => self.options.mss = Some(v),
                Ok(TcpOption::WindowScale(s)) => self.options.wscale = Some(s),
                Ok(TcpOption::SackPermitted) => self.options.sack_permitted = true,
                Ok(TcpOption::Timestamps { .. }) => self.options.timestamps = true,
                Ok(TcpOption::FastOpen { cookie, .. }) => {
                    self.options.fast_open = true;
                    self.options.fast_open_cookie |= !cookie.is_empty();
                }
                Ok(TcpOption::Mptcp { .. }) => self.options.mptcp = true,
                Ok(TcpOption::Md5Signature(_)) => self.options.md5 = true,
                Ok(_) => {}
                Err(m) if matches!(m.reason, MalformedReason::CutByCapture { .. }) => {}
                Err(_) => self.warnings.insert(Warning::MalformedOption),
            }
        }
        if walk.padding_seen().iter().any(|b| *b != 0) {
            self.warnings.insert(Warning::NonzeroPadding);
        }
    }

    /// The oddities of the flags and the fields they govern.
    fn add_flag_facts(&mut self, tcp: &TcpHeader<'_>) {
        let flags = self.flags;
        let w = &mut self.warnings;
        if tcp.is_truncated() {
            w.insert(Warning::Truncated);
        }
        if flags.syn() && flags.fin() {
            w.insert(Warning::SynFin);
        }
        if flags.syn() && flags.rst() {
            w.insert(Warning::SynRst);
        }
        if flags.syn() && !flags.ack() && self.payload_len > 0 && !self.options.fast_open_cookie {
            w.insert(Warning::SynDataWithoutTfo);
        }
        if !flags.urg() && tcp.urgent_ptr() != 0 {
            w.insert(Warning::UrgentPointerWithoutUrg);
        }
        if !flags.ack() && tcp.ack() != 0 {
            w.insert(Warning::AckNumberWithoutAck);
        }
        if flags.reserved() != 0 {
            w.insert(Warning::ReservedBits);
        }
    }

    /// Sequence space the segment occupies: payload, plus one each for SYN and FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload_len + u32::from(self.flags.syn()) + u32::from(self.flags.fin())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20-byte TCP header (ACK) followed by `options`.
    fn header(options: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0u8; 20];
        bytes[12] = (((20 + options.len()) / 4) << 4) as u8;
        bytes[13] = 0x10;
        bytes.extend_from_slice(options);
        bytes
    }

    /// The facts of `options` by the full walk alone.
    fn walked(tcp: &TcpHeader<'_>) -> Segment {
        let seg = Segment {
            src: Endpoint {
                addr: std::net::Ipv4Addr::LOCALHOST.into(),
                port: 0,
            },
            dst: Endpoint {
                addr: std::net::Ipv4Addr::LOCALHOST.into(),
                port: 0,
            },
            seq: 0,
            ack: 0,
            flags: tcp.flags(),
            window: 0,
            payload_len: 0,
            options: HandshakeOptions::default(),
            warnings: Warnings::default(),
        };
        let mut walked = seg;
        walked.add_options(tcp);
        walked.add_flag_facts(tcp);
        walked
    }

    #[test]
    fn the_aligned_timestamps_shortcut_finds_what_the_walk_finds() {
        let ts = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
        let bytes = header(&ts);
        // Whole, the options take the shortcut; cut by the capture, the walk.
        for captured in [bytes.len(), 28] {
            let tcp = TcpHeader::parse(&bytes[..captured], bytes.len()).unwrap();
            let mut facts = Segment {
                options: HandshakeOptions::default(),
                warnings: Warnings::default(),
                ..walked(&tcp)
            };
            facts.add_header_facts(&tcp);
            assert_eq!(facts, walked(&tcp));
            assert_eq!(facts.options.timestamps, captured == bytes.len());
        }
    }
}
