//! What Zeek's `TCP_Reassembler` does with each side's data: which ranges
//! were delivered, the content gaps (`G`/`g`) an acknowledgment of unseen
//! data reveals, and the end of a side's data (`CheckEOF`).

use super::endpoint::Side;
use super::{ZeekConnection, ZeekEndpointState};

/// `tcp_max_initial_window`.
const TCP_MAX_INITIAL_WINDOW: u64 = 16_384;
/// `tcp_max_above_hole_without_any_acks`.
const TCP_MAX_ABOVE_HOLE_WITHOUT_ANY_ACKS: u64 = 16_384;
/// `tcp_excessive_data_without_further_acks`.
const TCP_EXCESSIVE_DATA_WITHOUT_FURTHER_ACKS: u64 = 10 * 1024 * 1024;

impl ZeekConnection {
    /// `TCP_Reassembler::DataPending` for the side about to close.
    pub(super) fn data_pending(&self, e: usize) -> bool {
        let s = &self.sides[e];
        let ra = &s.reassembler;
        if ra.skip_deliveries {
            return false;
        }
        let delivered = (s.start_seq as u64).wrapping_add(ra.last_reassem_seq);
        let last = Side::full(s.last_seq, s.seq_wraps);
        if last < delivered {
            return false;
        }
        if delivered != last.wrapping_sub(1) && delivered != last {
            return true;
        }
        s.state != ZeekEndpointState::Reset && !self.sides[e ^ 1].reassembler.blocks.is_empty()
    }

    /// `TCP_Reassembler::CheckEOF`: only a side that sent a FIN, or is
    /// closed or reset, can reach its end (checked first: it runs on every
    /// packet).
    #[inline]
    pub(super) fn check_eof(&mut self, e: usize) {
        let s = &self.sides[e];
        if (s.fin_cnt > 0
            || matches!(
                s.state,
                ZeekEndpointState::Closed | ZeekEndpointState::Reset
            ))
            && !s.reassembler.did_eof
        {
            self.reach_eof(e);
        }
    }

    /// The rest of `CheckEOF`, and `EndpointEOF` once no data is pending.
    pub(super) fn reach_eof(&mut self, e: usize) {
        if self.data_pending(e) {
            return;
        }
        self.sides[e].reassembler.did_eof = true;
        if self.close_deferred {
            let gen = self.deferred_gen_event;
            self.connection_closed(e, gen);
            self.close_deferred = false;
        }
    }

    // --- Reassembly bookkeeping (gaps) ---

    /// `TCP_Endpoint::DataSent` / `TCP_Reassembler::DataSent`.
    pub(super) fn data_sent(&mut self, e: usize, seq: u64, len: u64) {
        let s = &self.sides[e];
        if s.reassembler.skip_deliveries {
            return;
        }
        let ack = s.relative(s.ack_seq, s.ack_wraps);
        // Zeek cuts a block that would run past the 64-bit space.
        let upper = seq.saturating_add(len);
        let mut seq = seq;
        if seq < ack {
            if upper <= ack {
                return;
            }
            seq = ack;
        }
        // NewBlock.
        let trim = self.sides[e].reassembler.trim_seq;
        if upper > trim && upper > seq {
            let seq = seq.max(trim);
            let at = self.sides[e].reassembler.blocks.insert(seq, upper);
            self.block_inserted(e, at);
        }
        self.check_excess(e);
    }

    /// [`data_sent`](Self::data_sent) for data that continues the delivered
    /// stream: it starts where delivery stands, at or past the acknowledged
    /// and trimmed points, after every range held. It is appended and
    /// delivered at once, which is what the general path comes to: no cut
    /// at the acknowledgment or the trimmed point, `insert`'s in-order case
    /// (a push), and `block_inserted` finding the new range at the delivery
    /// point with nothing after it. Nothing is then held above the delivery
    /// point, so of `check_excess` only the octets held can count.
    pub(super) fn data_sent_in_order(&mut self, e: usize, seq: u64, len: u64) {
        let s = &self.sides[e];
        let ra = &s.reassembler;
        let continues = !ra.skip_deliveries
            && seq == ra.last_reassem_seq
            && seq >= ra.trim_seq
            && ra.blocks.last_upper().is_none_or(|u| u <= seq)
            && seq >= s.relative(s.ack_seq, s.ack_wraps);
        match seq.checked_add(len) {
            Some(upper) if continues && upper > seq => {
                let ra = &mut self.sides[e].reassembler;
                ra.blocks.push(seq, upper);
                ra.last_reassem_seq = upper;
                self.trim_initial_window(e, upper);
                let ra = &mut self.sides[e].reassembler;
                if ra.blocks.data_size() > TCP_EXCESSIVE_DATA_WITHOUT_FURTHER_ACKS {
                    ra.give_up();
                }
            }
            _ => self.data_sent(e, seq, len),
        }
    }

    /// The end of `DataSent`: Zeek gives up on a direction with too much
    /// data above a hole before any acknowledgment, or too much held.
    pub(super) fn check_excess(&mut self, e: usize) {
        let s = &mut self.sides[e];
        let no_ack = s.no_data_acked();
        let ra = &mut s.reassembler;
        if (no_ack && ra.num_undelivered() > TCP_MAX_ABOVE_HOLE_WITHOUT_ANY_ACKS)
            || ra.blocks.data_size() > TCP_EXCESSIVE_DATA_WITHOUT_FURTHER_ACKS
        {
            ra.give_up();
        }
    }

    /// `TCP_Reassembler::BlockInserted`: delivers what became contiguous.
    pub(super) fn block_inserted(&mut self, e: usize, start: usize) {
        let ra = &mut self.sides[e].reassembler;
        let (s0, u0) = ra.blocks.get(start);
        let mut last = ra.last_reassem_seq;
        if s0 > last || u0 <= last {
            return;
        }
        for i in start..ra.blocks.len() {
            let (s, u) = ra.blocks.get(i);
            if s > last {
                break;
            }
            if s == last {
                last = u;
            }
        }
        ra.last_reassem_seq = last;
        self.trim_initial_window(e, last);
    }

    /// The end of `BlockInserted`: before any acknowledgment, past the
    /// largest initial window, the delivered data is trimmed.
    pub(super) fn trim_initial_window(&mut self, e: usize, delivered: u64) {
        if self.sides[e].no_data_acked() && self.size(e) > TCP_MAX_INITIAL_WINDOW {
            self.trim_to_seq(e, delivered);
        }
    }

    /// `TCP_Reassembler::AckReceived` on the side whose data is acknowledged.
    #[inline(always)]
    pub(super) fn ack_received(&mut self, e: usize, seq: u64) {
        let s = &mut self.sides[e];
        let mut seq = seq;
        if s.fin_cnt > 0 && seq >= s.fin_seq {
            seq = s.fin_seq.wrapping_sub(1);
        }
        let ra = &mut s.reassembler;
        if seq <= ra.trim_seq {
            return;
        }
        if seq <= ra.last_reassem_seq {
            // `trim_to_seq` with nothing undelivered below `seq`.
            ra.trim(seq);
        } else {
            self.trim_to_seq(e, seq);
        }
        self.check_eof(e);
    }

    /// `Reassembler::TrimToSeq`.
    pub(super) fn trim_to_seq(&mut self, e: usize, seq: u64) {
        if seq > self.sides[e].reassembler.last_reassem_seq {
            self.undelivered(e, seq);
        }
        self.sides[e].reassembler.trim(seq);
    }

    /// `TCP_Reassembler::Undelivered`: reports the holes below `up_to`.
    pub(super) fn undelivered(&mut self, e: usize, up_to: u64) {
        if up_to <= 2 && self.is_partial {
            // The faked initial sequence number of a partial connection.
            return;
        }
        if !self.sides[e].reassembler.skip_deliveries {
            loop {
                let ra = &self.sides[e].reassembler;
                let last = ra.last_reassem_seq;
                let next = (0..ra.blocks.len()).find(|&i| ra.blocks.get(i).0 >= last);
                let Some(i) = next else { break };
                let (b_seq, _) = ra.blocks.get(i);
                if b_seq >= up_to {
                    break;
                }
                self.gap(e);
                self.sides[e].reassembler.last_reassem_seq = b_seq;
                self.block_inserted(e, i);
            }
            if up_to > self.sides[e].reassembler.last_reassem_seq {
                self.gap(e);
            }
        }
        let ra = &mut self.sides[e].reassembler;
        if up_to > ra.last_reassem_seq {
            ra.last_reassem_seq = up_to;
        }
    }

    /// `TCP_Reassembler::Gap`: the history counts it only for connections
    /// established or cleanly closing on both sides.
    pub(super) fn gap(&mut self, e: usize) {
        let clean = |s: &Side| {
            s.state == ZeekEndpointState::Established
                || (s.state == ZeekEndpointState::Closed
                    && s.prev_state == ZeekEndpointState::Established)
        };
        if clean(&self.sides[e]) && clean(&self.sides[e ^ 1]) && self.sides[e].gaps.hit() {
            let is_orig = e == self.orig;
            self.history.add_for(is_orig, b'G');
        }
    }
}
