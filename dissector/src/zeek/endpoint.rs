//! One endpoint of a connection as Zeek's TCP analyzer keeps it
//! (`TCP_Endpoint`): its state, its sequence numbers with their wrap
//! counts, and the relative sequence numbers computed from them.

use synack_core::flow::Endpoint;

use super::history::Scaled;
use super::reassembly::Reassembler;

/// Zeek's TCP endpoint states (`TCP_ENDPOINT_*`, as `c$orig$state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ZeekEndpointState {
    /// Nothing seen from this side.
    Inactive = 0,
    /// A SYN seen, not yet acknowledged.
    SynSent = 1,
    /// A SYN-ACK seen without the initial SYN.
    SynAckSent = 2,
    /// Data seen without a SYN.
    Partial = 3,
    /// Handshake done.
    Established = 4,
    /// A FIN seen.
    Closed = 5,
    /// A RST seen.
    Reset = 6,
}

impl ZeekEndpointState {
    /// The number Zeek prints for it (`state=5`).
    pub fn code(self) -> u8 {
        self as u8
    }

    pub(super) fn is_handshake(self) -> bool {
        matches!(
            self,
            ZeekEndpointState::Inactive
                | ZeekEndpointState::SynSent
                | ZeekEndpointState::SynAckSent
        )
    }

    /// Neither INACTIVE nor SYN-ACK-SENT: the states a connection that
    /// began with a SYN-ACK waits in before Zeek flips it.
    pub(super) fn is_past_syn_ack(self) -> bool {
        !matches!(
            self,
            ZeekEndpointState::Inactive | ZeekEndpointState::SynAckSent
        )
    }

    pub(super) fn is_inactive(self) -> bool {
        matches!(
            self,
            ZeekEndpointState::Inactive | ZeekEndpointState::Partial
        )
    }
}

/// One side of the connection (`TCP_Endpoint`), indexed by network endpoint.
///
/// In C's order: what a segment without SYN, FIN or RST reads and writes
/// leads, and the rest (the address, the control letters' bookkeeping, the
/// rarer counters) follows.
#[derive(Clone, Debug)]
#[repr(C)]
pub(super) struct Side {
    pub(super) state: ZeekEndpointState,
    pub(super) prev_state: ZeekEndpointState,
    pub(super) did_close: bool,
    /// Initial sequence number (a signed 64-bit value in Zeek).
    pub(super) start_seq: i64,
    pub(super) last_seq: u32,
    pub(super) ack_seq: u32,
    pub(super) seq_wraps: u32,
    pub(super) ack_wraps: u32,
    pub(super) fin_cnt: u32,
    /// Relative sequence number just past the FIN.
    pub(super) fin_seq: u64,
    pub(super) retransmissions: Scaled,
    pub(super) zero_windows: Scaled,
    pub(super) reassembler: Reassembler,
    pub(super) hist_last_syn: u64,
    pub(super) hist_last_fin: u64,
    pub(super) hist_last_rst: u64,
    pub(super) checksum_errors: Scaled,
    pub(super) gaps: Scaled,
    pub(super) addr: Endpoint,
}

impl Side {
    pub(super) fn new(addr: Endpoint) -> Side {
        Side {
            addr,
            state: ZeekEndpointState::Inactive,
            prev_state: ZeekEndpointState::Inactive,
            start_seq: 0,
            last_seq: 0,
            ack_seq: 0,
            seq_wraps: 0,
            ack_wraps: 0,
            fin_seq: 0,
            fin_cnt: 0,
            did_close: false,
            hist_last_syn: 0,
            hist_last_fin: 0,
            hist_last_rst: 0,
            checksum_errors: Scaled::new(),
            retransmissions: Scaled::new(),
            zero_windows: Scaled::new(),
            gaps: Scaled::new(),
            reassembler: Reassembler::new(),
        }
    }

    /// Starts over as [`Side::new`] starts, where this side lies (see
    /// [`ZeekConnection::restart`](super::ZeekConnection::restart)).
    pub(super) fn restart(&mut self, addr: Endpoint) {
        // Every field named, so that a new one is not left out.
        let Side {
            addr: address,
            state,
            prev_state,
            start_seq,
            last_seq,
            ack_seq,
            seq_wraps,
            ack_wraps,
            fin_seq,
            fin_cnt,
            did_close,
            hist_last_syn,
            hist_last_fin,
            hist_last_rst,
            checksum_errors,
            retransmissions,
            zero_windows,
            gaps,
            reassembler,
        } = self;
        *address = addr;
        *state = ZeekEndpointState::Inactive;
        *prev_state = ZeekEndpointState::Inactive;
        *start_seq = 0;
        *last_seq = 0;
        *ack_seq = 0;
        *seq_wraps = 0;
        *ack_wraps = 0;
        *fin_seq = 0;
        *fin_cnt = 0;
        *did_close = false;
        *hist_last_syn = 0;
        *hist_last_fin = 0;
        *hist_last_rst = 0;
        *checksum_errors = Scaled::new();
        *retransmissions = Scaled::new();
        *zero_windows = Scaled::new();
        *gaps = Scaled::new();
        reassembler.restart();
    }

    pub(super) fn start_seq32(&self) -> u32 {
        self.start_seq as u32
    }

    pub(super) fn init_seqs(&mut self, start: u32, last: u32) {
        self.start_seq = i64::from(start);
        self.ack_seq = start;
        self.last_seq = last;
    }

    pub(super) fn full(seq: u32, wraps: u32) -> u64 {
        (u64::from(wraps) << 32) + u64::from(seq)
    }

    /// `ToRelativeSeqSpace`.
    pub(super) fn relative(&self, seq: u32, wraps: u32) -> u64 {
        Side::full(seq, wraps).wrapping_sub(self.start_seq as u64)
    }

    pub(super) fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps += 1;
        }
        self.last_seq = seq;
    }

    pub(super) fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps += 1;
        }
        self.ack_seq = seq;
    }

    /// `NoDataAcked`: the acknowledged point is the start or just past it
    /// (relative 0 or 1; the start, below 2^32, cannot wrap).
    pub(super) fn no_data_acked(&self) -> bool {
        self.relative(self.ack_seq, self.ack_wraps) <= 1
    }
}

pub(super) fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// `get_relative_seq`: the sequence number relative to the side's initial
/// one, and whether it lies before it.
pub(super) fn relative_seq(side: &Side, cur: u32, last: u32, wraps: u32) -> (u64, bool) {
    let mut wraps = wraps;
    let delta = seq_delta(cur, last);
    if delta < 0 {
        if wraps > 0 && cur > last {
            wraps -= 1;
        }
    } else if delta > 0 && cur < last {
        wraps += 1;
    }
    if wraps == 0 {
        let d = seq_delta(cur, side.start_seq32());
        return (i64::from(d) as u64, d < 0);
    }
    (side.relative(cur, wraps), false)
}
