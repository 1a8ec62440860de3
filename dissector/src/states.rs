//! Endpoint states (RFC 9293) as the capture point sees them.
//!
//! The rule, also written in the project's docs:
//! - The **sender** of a packet is in an exact state, judged by what the packet
//!   itself and the sender's acknowledgment number show it had sent and received
//!   ([`sender_state`]).
//! - The **receiver** takes the transitions RFC 9293 makes on receipt alone
//!   ([`on_receipt`]); a SYN does not move its receiver out of LISTEN or
//!   SYN-SENT, because only its answer (SYN-ACK or RST) shows what it did.
//!   An endpoint never seen is `None` (nothing can be known).

use crate::annotation::{Role, TcpState};
use crate::segment::Segment;

/// What the tracker knows of one endpoint when it sends a packet.
#[derive(Clone, Copy, Debug, Default)]
pub struct SenderFacts {
    /// It has sent a FIN (this packet included).
    pub fin_sent: bool,
    /// Its FIN was the active one (teardown-1) rather than the passive one.
    pub fin_active: bool,
    /// The peer has acknowledged its FIN.
    pub fin_acked: bool,
    /// Its acknowledgment numbers have covered the peer's FIN.
    pub got_peer_fin: bool,
    /// It answered a SYN and the handshake's ACK has not been seen yet.
    pub awaiting_handshake_ack: bool,
}

/// The sender's state having sent `seg`.
pub fn sender_state(seg: &Segment, facts: SenderFacts) -> TcpState {
    let f = seg.flags;
    if f.rst() {
        return TcpState::Closed;
    }
    if f.syn() {
        return if f.ack() {
            TcpState::SynReceived
        } else {
            TcpState::SynSent
        };
    }
    state_without_syn_or_rst(facts)
}

/// The sender's state having sent a segment without SYN or RST: its facts
/// alone decide it.
pub fn state_without_syn_or_rst(facts: SenderFacts) -> TcpState {
    match (facts.fin_sent, facts.got_peer_fin) {
        (false, false) if facts.awaiting_handshake_ack => TcpState::SynReceived,
        (false, false) => TcpState::Established,
        (false, true) => TcpState::CloseWait,
        (true, false) if facts.fin_acked => TcpState::FinWait2,
        (true, false) => TcpState::FinWait1,
        (true, true) => match (facts.fin_active, facts.fin_acked) {
            (true, true) => TcpState::TimeWait,
            (true, false) => TcpState::Closing,
            (false, true) => TcpState::Closed,
            (false, false) => TcpState::LastAck,
        },
    }
}

/// What a received packet does to its receiver, as far as the receipt alone decides.
#[derive(Clone, Copy, Debug, Default)]
pub struct Receipt {
    /// The packet acknowledges the receiver's SYN.
    pub acks_syn: bool,
    /// The packet acknowledges the receiver's FIN.
    pub acks_fin: bool,
}

/// The receiver's state after `seg` arrives, from its state before.
pub fn on_receipt(before: Option<TcpState>, seg: &Segment, receipt: Receipt) -> Option<TcpState> {
    use TcpState::*;
    let f = seg.flags;
    let Some(mut state) = before else {
        // An endpoint never seen: a SYN's receiver is listening; otherwise unknown.
        return (f.syn() && !f.ack() && !f.rst()).then_some(Listen);
    };
    if f.rst() {
        // RFC 9293 3.10.7: a RST to a listener is ignored; otherwise the connection is gone.
        return Some(if state == Listen { Listen } else { Closed });
    }
    if f.syn() {
        if f.ack() && receipt.acks_syn && matches!(state, SynSent | SynReceived) {
            return Some(Established);
        }
        return Some(state);
    }
    if f.ack() {
        if receipt.acks_syn && state == SynReceived {
            state = Established;
        }
        if receipt.acks_fin {
            state = match state {
                FinWait1 => FinWait2,
                Closing => TimeWait,
                LastAck => Closed,
                s => s,
            };
        }
    }
    if f.fin() {
        state = match state {
            SynReceived | Established => CloseWait,
            FinWait1 => Closing,
            FinWait2 => TimeWait,
            s => s,
        };
    }
    Some(state)
}

/// The teardown role of a FIN: active unless its sender had received the peer's FIN.
pub fn fin_role(got_peer_fin: bool) -> Role {
    if got_peer_fin {
        Role::Teardown3
    } else {
        Role::Teardown1
    }
}
