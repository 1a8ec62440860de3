//! Zeek's TCP endpoint state machine (`UpdateStateMachine` and the
//! per-state functions of `TCPSessionAdapter`) and `ConnectionClosed`.

use crate::segment::Segment;

use super::{ZeekConnection, ZeekEndpointState, NS, SEEN_ORIG, SEEN_RESP, TCP_SESSION_TIMER};

/// `tcp_attempt_delay`.
const TCP_ATTEMPT_DELAY: u64 = 5 * NS;
/// `tcp_close_delay`.
const TCP_CLOSE_DELAY: u64 = 5 * NS;
/// `tcp_reset_delay`.
const TCP_RESET_DELAY: u64 = 5 * NS;

impl ZeekConnection {
    /// `UpdateStateMachine`: returns (do_close, gen_event).
    pub(super) fn update_state_machine(
        &mut self,
        e: usize,
        is_orig: bool,
        seg: &Segment,
        t: u64,
    ) -> (bool, bool) {
        use ZeekEndpointState::*;
        match self.sides[e].state {
            Inactive => self.update_inactive(e, is_orig, seg, t),
            SynSent | SynAckSent => self.update_syn_sent(e, seg),
            Established | Partial => self.update_established(e, seg),
            Closed => (self.update_closed(e, seg, t), false),
            Reset => (false, false),
        }
    }

    /// `UpdateInactiveState`. `is_orig` is the sender's role when the packet
    /// arrived (Zeek keeps using it after a flip).
    pub(super) fn update_inactive(
        &mut self,
        e: usize,
        is_orig: bool,
        seg: &Segment,
        t: u64,
    ) -> (bool, bool) {
        use ZeekEndpointState::*;
        let p = e ^ 1;
        let f = seg.flags;
        let (mut do_close, mut gen_event) = (false, false);
        if f.syn() {
            if is_orig {
                self.set_state(e, if f.ack() { SynAckSent } else { SynSent });
                self.attempt_at = Some(t.saturating_add(TCP_ATTEMPT_DELAY));
            } else {
                if f.ack() {
                    // bad_SYN_ack is only a weird.
                } else if self.sides[p].state == SynAckSent
                    && seg.seq == self.sides[e].start_seq32()
                {
                    // SYN/SYN-ACK reversal: flip and establish.
                    self.is_partial = false;
                    self.flip_roles();
                    self.set_state(p, Established);
                    // SetFirstPacketSeen(true): the SYN's sender is now the originator.
                    self.first_packet_seen |= SEEN_ORIG;
                }
                if self.sides[p].state == SynSent {
                    self.set_state(p, Established);
                }
                self.set_state(e, Established);
            }
        }
        if f.fin() {
            self.set_state(e, Closed);
            do_close = true;
            gen_event = true;
        }
        if f.rst() {
            self.set_state(e, Reset);
            // The originator's RST to an established peer, or the
            // responder's to a SYN, is a reject: no close event.
            let peer = self.sides[p].state;
            let is_reject = if is_orig {
                peer == Established
            } else {
                matches!(peer, SynSent | SynAckSent)
            };
            do_close = true;
            gen_event = !is_reject;
        }
        if self.sides[e].state == Inactive {
            if !is_orig && seg.payload_len == 0 && self.sides[self.orig].state == SynSent {
                // An ACK of the SYN before the SYN-ACK: not a partial connection.
            } else if f.ack() && self.sides[p].state == Established {
                // The SYN was missed: establish.
                self.set_state(e, Established);
                self.is_partial = false;
                self.first_packet_seen |= if is_orig { SEEN_ORIG } else { SEEN_RESP };
            } else {
                self.set_state(e, Partial);
            }
        }
        (do_close, gen_event)
    }

    pub(super) fn update_syn_sent(&mut self, e: usize, seg: &Segment) -> (bool, bool) {
        let f = seg.flags;
        let (mut do_close, mut gen_event) = (false, false);
        if f.fin() {
            self.set_state(e, ZeekEndpointState::Closed);
            do_close = true;
            gen_event = true;
        }
        if f.rst() {
            self.set_state(e, ZeekEndpointState::Reset);
            self.is_active = false; // ConnectionReset
            do_close = true;
        }
        (do_close, gen_event)
    }

    pub(super) fn update_established(&mut self, e: usize, seg: &Segment) -> (bool, bool) {
        use ZeekEndpointState::*;
        let p = e ^ 1;
        let f = seg.flags;
        let (mut do_close, mut gen_event) = (false, false);
        if f.syn() && self.sides[e].state == Partial && self.sides[p].state == Inactive && !f.ack()
        {
            self.set_state(e, SynSent);
        }
        if f.fin() && !f.rst() {
            self.set_state(e, Closed);
            if self.sides[p].state == Reset && self.sides[p].prev_state == Closed {
                // A FIN followed by a RST from the peer: a normal close after all.
                self.set_state(p, Closed);
            }
            do_close = true;
            gen_event = true;
        }
        if f.rst() {
            self.set_state(e, Reset);
            do_close = true;
            if self.sides[p].state != Reset || self.sides[p].prev_state != Established {
                self.is_active = false; // ConnectionReset
            }
        }
        (do_close, gen_event)
    }

    /// Returns do_close.
    pub(super) fn update_closed(&mut self, e: usize, seg: &Segment, t: u64) -> bool {
        let p = e ^ 1;
        let mut do_close = false;
        if seg.flags.rst() && self.sides[p].state != ZeekEndpointState::Closed {
            self.set_state(e, ZeekEndpointState::Reset);
            if !self.sides[e].did_close {
                do_close = true;
            }
            self.reset_at = Some(t.saturating_add(TCP_RESET_DELAY));
        }
        do_close
    }

    /// `ConnectionClosed`.
    pub(super) fn connection_closed(&mut self, e: usize, gen_event: bool) {
        let p = e ^ 1;
        if self.data_pending(e) {
            self.close_deferred = true;
            if !self.deferred_gen_event {
                self.deferred_gen_event = gen_event;
            }
            return;
        }
        self.close_deferred = false;
        if self.sides[e].did_close {
            return;
        }
        self.sides[e].did_close = true;
        let close_complete = self.sides[e].state == ZeekEndpointState::Reset
            || self.sides[p].did_close
            || self.sides[p].state == ZeekEndpointState::Inactive;
        if close_complete {
            if self.sides[e].prev_state != ZeekEndpointState::Inactive
                || self.sides[p].state != ZeekEndpointState::Inactive
            {
                let mut gen = gen_event;
                if self.deferred_gen_event {
                    gen = true;
                    self.deferred_gen_event = false;
                }
                if gen {
                    self.is_active = false; // ConnectionFinished
                }
            }
            // CancelTimers (the analyzer's), then the deletion.
            self.attempt_at = None;
            self.reset_at = None;
            self.expire_at = [None; 3];
            self.delete_at = Some(self.last_time.saturating_add(TCP_CLOSE_DELAY));
        } else if self.sides[e].prev_state != ZeekEndpointState::Inactive {
            let at = self.last_time.saturating_add(TCP_SESSION_TIMER);
            if let Some(slot) = self.expire_at.iter_mut().find(|s| s.is_none()) {
                *slot = Some(at);
            }
        }
    }
}
