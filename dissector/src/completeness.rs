//! Wireshark's `tcp.completeness`, computed as packet-tcp.c does (Wireshark 4.0).

use crate::segment::Segment;

const SYN: u8 = 1;
const SYN_ACK: u8 = 2;
const ACK: u8 = 4;
const DATA: u8 = 8;
const FIN: u8 = 16;
const RST: u8 = 32;

/// The completeness bitmask of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Completeness {
    bits: u8,
    seen_first: bool,
}

impl Completeness {
    /// Takes in the connection's next packet.
    ///
    /// As Wireshark's first pass does: the connection's first packet counts
    /// only when it is a pure SYN (SYN, plus DATA when it carries payload, i.e.
    /// Fast Open); every later packet sets SYN-ACK, ACK (pure ACK), DATA (ACK
    /// with payload), FIN (FIN with ACK) and RST as it shows them. This is the
    /// value `tshark -2` shows on the connection's first frame.
    pub fn observe(&mut self, seg: &Segment) {
        let f = seg.flags;
        let (syn, ack) = (f.syn(), f.ack());
        if !self.seen_first {
            self.seen_first = true;
            if syn && !ack {
                self.bits |= SYN;
                if seg.payload_len > 0 {
                    self.bits |= DATA;
                }
            }
            return;
        }
        if syn && ack {
            self.bits |= SYN_ACK;
        }
        if ack && !syn {
            self.bits |= if seg.payload_len > 0 { DATA } else { ACK };
        }
        if f.fin() && ack {
            self.bits |= FIN;
        }
        if f.rst() {
            self.bits |= RST;
        }
    }

    /// [`observe`](Self::observe) for a packet after the connection's first
    /// that has no SYN, FIN or RST: only its ACK or DATA bit can count.
    #[inline]
    pub fn observe_later_plain(&mut self, seg: &Segment) {
        debug_assert!(self.seen_first);
        if seg.flags.ack() {
            self.bits |= if seg.payload_len > 0 { DATA } else { ACK };
        }
    }

    /// The bitmask (1 SYN, 2 SYN-ACK, 4 ACK, 8 DATA, 16 FIN, 32 RST).
    pub fn bits(&self) -> u8 {
        self.bits
    }
}
