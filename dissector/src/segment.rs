//! The facts of one TCP segment that the tracker needs: small and `Copy`,
//! taken from the borrowed header view once.

use synack_core::flow::Endpoint;
use synack_core::frame::TcpFrame;
use synack_core::tcp::{MalformedReason, OptionIter, TcpFlags, TcpHeader, TcpOption};

use crate::annotation::{Warning, Warnings};

/// The options of most segments once timestamps are on (RFC 7323, appendix
/// A): NOP, NOP, then the timestamps option's kind and length, and its two
/// values. Linux's `tcp_fast_parse_options` looks for this layout first, and
/// so does [`Segment::from_frame`].
const ALIGNED_TIMESTAMPS: u32 = u32::from_be_bytes([1, 1, 8, 10]);

/// True when the options are exactly the aligned timestamps, all captured.
#[inline]
fn has_aligned_timestamps(tcp: &TcpHeader<'_>) -> bool {
    match *tcp.options_raw() {
        [a, b, c, d, _, _, _, _, _, _, _, _] => {
            u32::from_be_bytes([a, b, c, d]) == ALIGNED_TIMESTAMPS && !tcp.options_truncated()
        }
        _ => false,
    }
}

/// What the walk finds in two option layouts common enough to know by
/// heart, with no oddity in either; `None` for any other.
///
/// Linux's SYN and SYN-ACK: MSS, SACK-permitted, timestamps, NOP, window
/// scale (`tcp_options_write`); and a segment signed with TCP MD5 (RFC 2385)
/// that carries nothing else: NOP, NOP, the signature.
fn handshake_layout(options: &[u8]) -> Option<HandshakeOptions> {
    match *options {
        [2, 4, mss_hi, mss_lo, 4, 2, 8, 10, _, _, _, _, _, _, _, _, 1, 3, 3, shift] => {
            Some(HandshakeOptions {
                mss: Some(u16::from_be_bytes([mss_hi, mss_lo])),
                wscale: Some(shift),
                sack_permitted: true,
                timestamps: true,
                ..HandshakeOptions::default()
            })
        }
        [1, 1, 19, 18, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _] => Some(HandshakeOptions {
            md5: true,
            ..HandshakeOptions::default()
        }),
        _ => None,
    }
}

/// What the walk finds after the aligned timestamps in the layouts that
/// follow them in most segments, with no oddity: `Some(false)` for one SACK
/// option of 1 to 4 blocks after NOP, NOP (nothing the tracker keeps);
/// `Some(true)` for one MPTCP option (any subtype and length the walk takes
/// as one), alone or followed by NOP, NOP; `None` for any other bytes.
/// (Both end the bytes: when the capture cut the options, the walk would
/// have ended there too, so with the same facts.)
fn after_timestamps_layout(rest: &[u8]) -> Option<bool> {
    match *rest {
        [1, 1, 5, len @ (10 | 18 | 26 | 34), ref blocks @ ..]
            if blocks.len() == usize::from(len) - 2 =>
        {
            Some(false)
        }
        [30, len @ 3..=255, ref data_on @ ..]
            if data_on.len() == usize::from(len) - 2
                || (data_on.len() == usize::from(len) && data_on.ends_with(&[1, 1])) =>
        {
            Some(true)
        }
        _ => None,
    }
}

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
    /// Takes the tracker's facts from a decoded frame. Always inlined:
    /// returned from a call, the segment is built and then copied.
    #[inline(always)]
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
    ///
    /// Most segments take the two shortcuts: options that are absent or the
    /// aligned timestamps, and flags with none of the rare conditions
    /// ([`Segment::flags_may_be_odd`]); the rest take the general steps, out
    /// of line.
    #[inline]
    fn add_header_facts(&mut self, tcp: &TcpHeader<'_>) {
        if tcp.options_raw().is_empty() {
            // No option bytes: nothing for the walk to find.
        } else if has_aligned_timestamps(tcp) {
            // What the walk (`add_options`) finds in them, without walking.
            self.options.timestamps = true;
        } else {
            self.add_other_options(tcp);
        }
        // Segments cut by the snap length are common in some captures: that
        // warning is taken here, the others only where they may be.
        if tcp.is_truncated() {
            self.warnings.insert(Warning::Truncated);
        }
        if Self::flags_may_be_odd(tcp) {
            self.add_flag_facts(tcp);
        }
    }

    /// False when [`Segment::add_flag_facts`] surely finds nothing but
    /// truncation: ACK is set (so neither a SYN without ACK nor an
    /// acknowledgment number without ACK), SYN and the reserved bits are
    /// clear (so none of SYN's combinations) and the urgent pointer is 0.
    /// One test of the rare conditions instead of one per warning.
    #[inline]
    fn flags_may_be_odd(tcp: &TcpHeader<'_>) -> bool {
        const TELLING: u16 = TcpFlags::ACK | TcpFlags::SYN | TcpFlags::RESERVED;
        tcp.flags().0 & TELLING != TcpFlags::ACK || tcp.urgent_ptr() != 0
    }

    /// The options' facts when they are neither absent nor the aligned
    /// timestamps: from [`handshake_layout`] when it knows them, else by
    /// the walk, which starts after the aligned timestamps when the options
    /// begin with them (and is spared for the SACK blocks and MPTCP that
    /// follow them in most others: [`after_timestamps_layout`]).
    /// (Options cut by the capture right after a known layout give the walk
    /// the same complete options, so the same facts; and the walk goes on
    /// after complete options as it would have from the start.)
    #[inline(never)]
    fn add_other_options(&mut self, tcp: &TcpHeader<'_>) {
        let raw = tcp.options_raw();
        if let Some(options) = handshake_layout(raw) {
            self.options = options;
        } else if let [1, 1, 8, 10, _, _, _, _, _, _, _, _, ref rest @ ..] = *raw {
            self.options.timestamps = true;
            if let Some(mptcp) = after_timestamps_layout(rest) {
                self.options.mptcp = mptcp;
                return;
            }
            self.walk_options(if tcp.options_truncated() {
                OptionIter::new_cut(rest)
            } else {
                OptionIter::new(rest)
            });
        } else if matches!(*raw, [1, 1, 8, 10, ref cut @ ..] if cut.len() < 8)
            && tcp.options_truncated()
        {
            // The aligned timestamps cut by the capture: the walk ends at
            // the cut, in the timestamps, and finds nothing.
        } else {
            self.add_options(tcp);
        }
    }

    /// Walks the options for the handshake's and their oddities.
    fn add_options(&mut self, tcp: &TcpHeader<'_>) {
        self.walk_options(tcp.options());
    }

    /// Takes the handshake's options and their oddities from `walk`.
    fn walk_options(&mut self, mut walk: OptionIter<'_>) {
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
    #[inline(never)]
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

    /// A segment with `tcp`'s flags and payload length, and no facts yet.
    fn blank(tcp: &TcpHeader<'_>) -> Segment {
        Segment {
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
            payload_len: tcp.payload_len() as u32,
            options: HandshakeOptions::default(),
            warnings: Warnings::default(),
        }
    }

    /// The facts of `tcp` by the general steps alone: the full walk of the
    /// options and every test of the flags.
    fn walked(tcp: &TcpHeader<'_>) -> Segment {
        let mut walked = blank(tcp);
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

    #[test]
    fn the_shortcuts_find_what_the_general_steps_find() {
        // Option lists that take each way: none, the aligned timestamps, a
        // 12-byte list that is not them, a handshake's, a Fast Open cookie
        // (which a SYN's data needs), the two layouts known by heart, and
        // padding after EOL.
        let option_lists: [&[u8]; 22] = [
            &[],
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            &[1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1],
            &[2, 4, 5, 0xb4, 4, 2, 1, 3, 3, 7, 0, 0],
            &[34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1],
            &[
                2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7,
            ],
            &[1, 1, 19, 18, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6],
            // The aligned timestamps, then more: SACK blocks, MPTCP, a
            // malformed window scale, padding after EOL.
            &[
                1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 10, 0, 0, 0, 9, 0, 0, 0, 10,
            ],
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 4, 0x01, 0x81],
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 3, 7, 0, 0],
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 0],
            // Cut after 20 bytes, these begin as the layouts known by heart do.
            &[
                2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7, 1, 1, 1, 9,
            ],
            &[
                1, 1, 19, 18, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 0, 1, 0, 0,
            ],
            &[0, 9, 0, 0],
            // The aligned timestamps, then the layouts that follow them in
            // most segments (SACK blocks, MPTCP alone or before NOP, NOP)
            // and near misses of them.
            &[
                1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 18, 0, 0, 0, 9, 0, 0, 0, 10, 0, 0, 0,
                11, 0, 0, 0, 12,
            ],
            &[
                1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 26, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3,
                4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
            ],
            &[
                1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 12, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9,
            ],
            &[
                1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 10, 0x20, 1, 2, 3, 4, 5, 6, 7, 1, 1,
            ],
            &[
                1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 10, 0x20, 1, 2, 3, 4, 5, 6, 7, 1, 0,
            ],
            &[
                1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 12, 0, 0, 0, 9, 0, 0, 0, 10,
            ],
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 2, 1, 1],
            &[
                1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 8, 0x20, 1, 2, 3, 4, 5, 1, 1, 0, 0,
            ],
        ];
        let mut odd = 0;
        for options in option_lists {
            for payload in [0, 3] {
                for (ack, urgent) in [(0u32, 0u16), (7, 0), (0, 5), (7, 5)] {
                    for flags in 0..=0x0FFFu16 {
                        let mut bytes = header(options);
                        bytes[8..12].copy_from_slice(&ack.to_be_bytes());
                        bytes[12] |= (flags >> 8) as u8;
                        bytes[13] = flags as u8;
                        bytes[18..20].copy_from_slice(&urgent.to_be_bytes());
                        bytes.extend(std::iter::repeat_n(b'x', payload));
                        // Whole, cut in the data, and cut in the options.
                        let cuts = [
                            bytes.len(),
                            bytes.len() - payload.min(1),
                            20,
                            22,
                            23,
                            30,
                            34,
                            40,
                        ];
                        for captured in cuts.into_iter().filter(|&c| c <= bytes.len()) {
                            let tcp = TcpHeader::parse(&bytes[..captured], bytes.len()).unwrap();
                            let mut facts = blank(&tcp);
                            facts.add_header_facts(&tcp);
                            let general = walked(&tcp);
                            assert_eq!(facts, general, "{:02x?} cut to {captured}", bytes);
                            odd += usize::from(!general.warnings.is_empty());
                        }
                    }
                }
            }
        }
        // The comparison saw segments with warnings, not only clean ones.
        assert!(odd > 0);
    }
}
