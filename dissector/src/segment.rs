//! The facts of one TCP segment that the tracker needs: small and `Copy`,
//! taken from the borrowed header view once.

use synack_core::flow::Endpoint;
use synack_core::frame::TcpFrame;
use synack_core::tcp::{MalformedReason, TcpFlags, TcpHeader, TcpOption};

use crate::annotation::{Warning, Warnings};

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
    pub fn from_frame(frame: &TcpFrame<'_>) -> Segment {
        let tcp = &frame.tcp;
        Segment {
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
        }
        .with_header_facts(tcp)
    }

    fn with_header_facts(mut self, tcp: &TcpHeader<'_>) -> Segment {
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
        self
    }

    /// Sequence space the segment occupies: payload, plus one each for SYN and FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload_len + u32::from(self.flags.syn()) + u32::from(self.flags.fin())
    }
}
