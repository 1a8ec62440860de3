//! Zeek's `conn_state` and `history` for a TCP connection, computed the way
//! Zeek (8.x, default settings) computes them.
//!
//! This follows Zeek's sources: the TCP endpoint state machine of
//! `TCPSessionAdapter` (`UpdateInactiveState`, `UpdateSYN_SentState`, ...),
//! the per-packet bookkeeping of `TCPSessionAdapter::Process` (relative
//! sequence numbers with wrap counting, `update_history`, `update_window`,
//! `update_last_seq`), the connection-level history of `Connection`
//! (`CheckHistory`, `ScaledHistoryEntry`, `FlipRoles`), the content-gap
//! accounting of `TCP_Reassembler`, the checksum rule of
//! `TCPAnalyzer::ValidateChecksum`, the role choice of
//! `TCPAnalyzer::WantConnection`, the reuse rule of
//! `TCPSessionAdapter::IsReuse`, the removal timers, and the `conn_state`
//! function of `base/protocols/conn/main.zeek`.
//!
//! What is left out is listed in the docs of [`ZeekConnection`].
//!
//! Here: the connection, the per-packet bookkeeping and the roles. By job,
//! in submodules: `endpoint` (one side's state and sequence numbers),
//! `state_machine` (the endpoint states and the close), `delivery` (what the
//! reassembler delivers, the content gaps, the end of data), `reassembly`
//! (its ranges), `history` (the letters), `timers` (the removal) and
//! `conn_state`.

mod conn_state;
mod delivery;
mod endpoint;
mod history;
mod reassembly;
mod state_machine;
mod timers;

use synack_core::flow::Endpoint;
use synack_core::tcp::TcpFlags;

use crate::annotation::Warning;
use crate::segment::Segment;

pub use endpoint::ZeekEndpointState;

use endpoint::{relative_seq, seq_delta, Side};
use history::{mask, History, HISTORY_CAPACITY};

const NS: u64 = 1_000_000_000;
/// `TOO_LARGE_SEQ_DELTA`.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;
/// `tcp_SYN_timeout`: the first expiry check.
const TCP_SYN_TIMEOUT: u64 = 5 * NS;
/// `tcp_session_timer`: the period of the expiry checks.
const TCP_SESSION_TIMER: u64 = 6 * NS;
/// `tcp_inactivity_timeout`, once the handshake is over.
const TCP_INACTIVITY_TIMEOUT: u64 = 300 * NS;
/// `udp_inactivity_timeout`, which Zeek also sets for a new TCP connection.
const UDP_INACTIVITY_TIMEOUT: u64 = 60 * NS;

/// `first_packet_seen` bits.
const SEEN_ORIG: u8 = 1;
const SEEN_RESP: u8 = 2;

/// The TCP ports base Zeek's protocol scripts add to `likely_server_ports`
/// (all base scripts loaded, as `zeek -r` does without `-b`), gathered from
/// the scripts' `ports` constants. Only a connection whose first packet is
/// not a plain SYN depends on it.
pub const DEFAULT_LIKELY_SERVER_PORTS: &[u16] = &[
    21, 22, 25, 53, 79, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614,
    631, 636, 750, 989, 990, 992, 993, 995, 1080, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223,
    5269, 5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
];

/// The settings that differ between Zeek runs and change roles.
#[derive(Clone, Copy, Debug)]
pub struct ZeekConfig {
    /// `likely_server_ports` (TCP): a first packet that is not a plain SYN and
    /// comes from one of these makes its receiver the originator (when both
    /// ports are listed, only a packet without SYN from the lower port does).
    pub likely_server_ports: &'static [u16],
}

impl Default for ZeekConfig {
    fn default() -> Self {
        ZeekConfig {
            likely_server_ports: DEFAULT_LIKELY_SERVER_PORTS,
        }
    }
}

/// Zeek's view of one connection: who is the originator, both endpoint
/// states, the history.
///
/// Feed it every packet of one connection ([`observe`](Self::observe)); ask
/// [`advance_time`](Self::advance_time) and [`is_reuse`](Self::is_reuse)
/// before each packet whether Zeek would start a new connection for it.
///
/// Left out of Zeek's behaviour:
/// - application analyzers (they can flip roles, e.g. DNS, or skip a
///   connection); only the TCP layer is modelled, with reassembly on for
///   every connection as `dpd_reassemble_first_packets` makes it;
/// - the IP layer (bad IPv4 checksums, fragments, `truncated_IP_len`
///   drops): the caller decides which packets reach TCP;
/// - the partial-close timer (only armed when a `connection_partial_close`
///   handler exists, which base scripts do not have);
/// - the reassembler keeps at most 64 out-of-order ranges per direction
///   (more are merged), and the history at most 96 letters.
///
/// The flip Zeek does on the second packet of a connection that began with
/// a SYN-ACK (zeek/zeek#2191) is modelled on its observed result: history
/// and roles as if the flip had been made before the first packet.
///
/// In C's order, so that what each packet reads and writes leads: the
/// scalars, the history's mask (its letters follow), each side's head.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct ZeekConnection {
    /// Index in `sides` of the originator.
    orig: usize,
    last_time: u64,
    started: bool,
    first_packet_seen: u8,
    is_partial: bool,
    /// The TCP analyzer is still active (not finished or reset).
    is_active: bool,
    close_deferred: bool,
    deferred_gen_event: bool,
    /// Started with a SYN-ACK and was flipped on a later packet.
    flipped_late: bool,
    removed: bool,
    history: History,
    sides: [Side; 2],
    // Time.
    inactivity_timeout: u64,
    attempt_at: Option<u64>,
    reset_at: Option<u64>,
    delete_at: Option<u64>,
    expire_at: [Option<u64>; 3],
}

impl ZeekConnection {
    /// Starts from the connection's first packet (Zeek makes its sender the
    /// originator, then may flip), with base Zeek's `likely_server_ports`.
    pub fn new(first: &Segment) -> Self {
        ZeekConnection::with_config(first, &ZeekConfig::default())
    }

    /// Starts from the connection's first packet with the given settings.
    pub fn with_config(first: &Segment, config: &ZeekConfig) -> Self {
        let mut c = ZeekConnection {
            sides: [Side::new(first.src), Side::new(first.dst)],
            orig: 0,
            history: History::new(),
            first_packet_seen: 0,
            is_partial: false,
            is_active: true,
            close_deferred: false,
            deferred_gen_event: false,
            flipped_late: false,
            started: false,
            last_time: 0,
            inactivity_timeout: UDP_INACTIVITY_TIMEOUT,
            attempt_at: None,
            reset_at: None,
            delete_at: None,
            expire_at: [None; 3],
            removed: false,
        };
        c.flip_if_wanted(first, config);
        c
    }

    /// Starts over as [`with_config`](Self::with_config) starts, in this
    /// model's room (a model of a connection that ended): no allocation,
    /// and each field set where it lies, where a new model built apart
    /// would be copied here whole. Held to `with_config` by
    /// `a_restarted_model_reads_as_a_new_one`.
    pub fn restart(&mut self, first: &Segment, config: &ZeekConfig) {
        // Every field named, so that a new one is not left out.
        let ZeekConnection {
            sides: [first_sender, first_receiver],
            orig,
            history,
            first_packet_seen,
            is_partial,
            is_active,
            close_deferred,
            deferred_gen_event,
            flipped_late,
            started,
            last_time,
            inactivity_timeout,
            attempt_at,
            reset_at,
            delete_at,
            expire_at,
            removed,
        } = self;
        first_sender.restart(first.src);
        first_receiver.restart(first.dst);
        *orig = 0;
        history.clear();
        *first_packet_seen = 0;
        *is_partial = false;
        *is_active = true;
        *close_deferred = false;
        *deferred_gen_event = false;
        *flipped_late = false;
        *started = false;
        *last_time = 0;
        *inactivity_timeout = UDP_INACTIVITY_TIMEOUT;
        *attempt_at = None;
        *reset_at = None;
        *delete_at = None;
        *expire_at = [None; 3];
        *removed = false;
        self.flip_if_wanted(first, config);
    }

    /// Makes the first packet's receiver the originator when Zeek would
    /// (see [`want_flip`]), with the history's `^`.
    fn flip_if_wanted(&mut self, first: &Segment, config: &ZeekConfig) {
        if want_flip(first, config.likely_server_ports) {
            self.orig = 1;
            self.history.add(b'^');
        }
    }

    /// Feeds a packet (the first one too), with its timestamp and whether its
    /// checksum verified (None: not checked, as with `zeek -C` or a segment
    /// not captured whole).
    pub fn observe(&mut self, seg: &Segment, ts_ns: u64, checksum_ok: Option<bool>) {
        match self.side_of(seg) {
            Some(sender) => self.observe_from(sender, seg, ts_ns, checksum_ok),
            None => self.start(ts_ns),
        }
    }

    /// [`observe`](Self::observe) for a packet of this connection whose
    /// sender the caller knows: `sender` is 0 when it is the first packet's
    /// sender (and for a connection from an endpoint to itself), 1 when it
    /// is its receiver.
    pub fn observe_from(
        &mut self,
        sender: usize,
        seg: &Segment,
        ts_ns: u64,
        checksum_ok: Option<bool>,
    ) {
        // Lets the compiler drop the bounds checks of `sides[sender]`.
        assert!(sender < 2, "a connection has two sides");
        self.start(ts_ns);
        if checksum_ok == Some(false) {
            let is_orig = sender == self.orig;
            if self.sides[sender].checksum_errors.hit() {
                self.history.add_for(is_orig, b'C');
            }
            return;
        }
        let plain = is_plain(seg);
        if !(plain && self.sides[sender].state.is_past_syn_ack()) {
            // (Else no late flip: it needs the originator in SYN-ACK-SENT
            // and the responder INACTIVE, and the sender is in neither.)
            self.maybe_flip_late(seg);
        }
        if plain && self.sides[sender].state != ZeekEndpointState::Inactive {
            self.process_plain(sender, seg, ts_ns);
        } else {
            self.process(sender, seg, ts_ns);
        }
    }

    /// history letters as Zeek's conn.log writes them.
    pub fn history(&self) -> &str {
        self.history.as_str()
    }

    /// The room of the history letters and how many it holds (ASCII
    /// letters and `^`), for a verdict to copy whole.
    pub(crate) fn history_room(&self) -> (&[u8; HISTORY_CAPACITY], usize) {
        self.history.room()
    }

    /// The originator endpoint (after any flip).
    pub fn originator(&self) -> Endpoint {
        self.sides[self.orig].addr
    }

    /// The responder endpoint (after any flip).
    pub fn responder(&self) -> Endpoint {
        self.sides[self.orig ^ 1].addr
    }

    /// The originator's state (`c$orig$state`).
    pub fn orig_state(&self) -> ZeekEndpointState {
        self.sides[self.orig].state
    }

    /// The responder's state (`c$resp$state`).
    pub fn resp_state(&self) -> ZeekEndpointState {
        self.sides[self.orig ^ 1].state
    }

    /// The originator's payload size as Zeek estimates it (`c$orig$size`).
    pub fn orig_size(&self) -> u64 {
        self.size(self.orig)
    }

    /// The responder's payload size as Zeek estimates it (`c$resp$size`).
    pub fn resp_size(&self) -> u64 {
        self.size(self.orig ^ 1)
    }

    /// Moves the clock to `now_ns` (the next packet's time) and tells whether
    /// Zeek's timers would have removed the connection by then (inactivity,
    /// connection attempt, close and reset delays, expiry checks). Once true,
    /// it stays true; a packet of the same flow then starts a new connection.
    pub fn advance_time(&mut self, now_ns: u64) -> bool {
        if !self.started {
            self.start(now_ns);
            return false;
        }
        if self.removed {
            return true;
        }
        self.removed = self.timers_remove_by(now_ns);
        self.removed
    }

    /// `TCPSessionAdapter::IsReuse`: true when this SYN (or SYN-ACK) starts
    /// a new connection on the same addresses and ports.
    pub fn is_reuse(&self, seg: &Segment) -> bool {
        let f = seg.flags;
        if !f.syn() {
            return false;
        }
        let orig = self.orig;
        let mut conn_orig = orig;
        if f.ack() {
            if self.sides[orig].state != ZeekEndpointState::Inactive {
                return false;
            }
            conn_orig = orig ^ 1;
        }
        let resp = &self.sides[orig ^ 1];
        let closed = self.sides[orig].did_close || resp.did_close;
        if !closed {
            let c = &self.sides[conn_orig];
            if seg.seq == c.start_seq32() {
                return false;
            }
            if !f.ack()
                && c.state == ZeekEndpointState::SynAckSent
                && resp.state == ZeekEndpointState::Inactive
                && seg.seq == resp.start_seq32()
            {
                return false;
            }
        }
        true
    }

    fn side_of(&self, seg: &Segment) -> Option<usize> {
        let (a, b) = (&self.sides[0].addr, &self.sides[1].addr);
        if same_endpoints(seg, a, b) {
            Some(0)
        } else if same_endpoints(seg, b, a) {
            Some(1)
        } else {
            None
        }
    }

    fn start(&mut self, ts: u64) {
        if !self.started {
            self.started = true;
            self.last_time = ts;
            self.expire_at[0] = Some(ts.saturating_add(TCP_SYN_TIMEOUT));
        }
    }

    /// `TCP_Endpoint::SetState`, with its switch to the TCP inactivity
    /// timeout when the handshake ends.
    fn set_state(&mut self, i: usize, new: ZeekEndpointState) {
        let old = self.sides[i].state;
        if new == old {
            return;
        }
        if !new.is_handshake() && old.is_handshake() && self.sides[i ^ 1].state.is_handshake() {
            self.inactivity_timeout = TCP_INACTIVITY_TIMEOUT;
        }
        self.sides[i].prev_state = old;
        self.sides[i].state = new;
    }

    /// What `TCPSessionAdapter::FlipRoles` does besides swapping the sides.
    fn swap_roles(&mut self) {
        let f = self.first_packet_seen;
        self.first_packet_seen = (if f & SEEN_ORIG != 0 { SEEN_RESP } else { 0 })
            | (if f & SEEN_RESP != 0 { SEEN_ORIG } else { 0 });
        self.is_partial = false;
    }

    /// `Connection::FlipRoles` during the handshake (SYN/SYN-ACK reversal).
    fn flip_roles(&mut self) {
        self.orig ^= 1;
        self.swap_roles();
        self.history.add(b'^');
    }

    /// A connection that began with a SYN-ACK (the SYN unseen) is flipped
    /// once an ACK or data follows in either direction (zeek/zeek#2191); the
    /// result is as if the SYN-ACK's sender had been the responder from the
    /// start.
    fn maybe_flip_late(&mut self, seg: &Segment) {
        let f = seg.flags;
        let (o, r) = (self.orig, self.orig ^ 1);
        if self.sides[o].state != ZeekEndpointState::SynAckSent
            || self.flipped_late
            || self.sides[r].state != ZeekEndpointState::Inactive
            || f.syn()
            || f.rst()
            || !(f.ack() || seg.payload_len > 0)
        {
            return;
        }
        self.flipped_late = true;
        self.history.flip_retroactively();
        self.orig = r;
        self.swap_roles();
        // The SYN-ACK as the responder's: ESTABLISHED from INACTIVE.
        let s = &mut self.sides[o];
        s.state = ZeekEndpointState::Inactive;
        s.prev_state = ZeekEndpointState::Inactive;
        self.set_state(o, ZeekEndpointState::Established);
        self.attempt_at = None;
    }

    /// `TCPSessionAdapter::Process` for a packet from `sides[e]`.
    fn process(&mut self, e: usize, seg: &Segment, t: u64) {
        let p = e ^ 1;
        let is_orig = e == self.orig;
        let flags = seg.flags;
        let len = seg.payload_len;
        let base_seq = seg.seq;
        let ack_seq = seg.ack;

        self.set_partial_status(flags.syn(), flags.ack(), is_orig);

        let mut seg_len = i64::from(len) + i64::from(flags.syn()) + i64::from(flags.fin());
        if flags.rst() {
            seg_len -= i64::from(len);
        }
        let seq_past = base_seq.wrapping_add(seg_len as u32);

        self.init_endpoint(e, flags.syn(), base_seq, seq_past);

        let side = &self.sides[e];
        let (rel_seq, seq_underflow) = relative_seq(side, base_seq, side.last_seq, side.seq_wraps);

        self.update_history(e, is_orig, seg, rel_seq);

        if !flags.rst() {
            self.update_window(e, is_orig, seg.window);
        }
        self.touch(t);

        if flags.fin() {
            let s = &mut self.sides[e];
            s.fin_cnt += 1;
            s.fin_seq = rel_seq.wrapping_add(seg_len as u64);
        }

        let rel_ack = if flags.ack() {
            self.take_ack(p, ack_seq, flags.rst())
        } else {
            0
        };

        self.update_last_seq(e, is_orig, seq_past, seg);

        let (do_close, gen_event) = self.update_state_machine(e, is_orig, seg, t);

        if flags.ack() {
            self.ack_received(p, rel_ack);
        }

        // CheckPIA_FirstPacket.
        self.first_packet_seen |= if is_orig { SEEN_ORIG } else { SEEN_RESP };

        let rel_data_seq = if flags.syn() {
            rel_seq.wrapping_add(1)
        } else {
            rel_seq
        };
        // ConnSize is a packet child, so DataSent runs even for a payload not
        // captured whole; the reassembler then skips it.
        if len > 0 && !flags.rst() && !seq_underflow && !seg.warnings.contains(Warning::Truncated) {
            self.data_sent(e, rel_data_seq, u64::from(len));
        }

        self.check_eof(e);

        if do_close {
            self.connection_closed(e, gen_event);
        }
    }

    /// [`process`](Self::process) for a segment without SYN, FIN or RST from
    /// a side past `INACTIVE`: the same steps, less those such a segment
    /// cannot take (`init_endpoint`, the control letters, the FIN's
    /// bookkeeping, `UpdateStateMachine`, which changes nothing for it), and
    /// data that continues the delivered stream appended in one step
    /// ([`data_sent_in_order`](Self::data_sent_in_order)).
    fn process_plain(&mut self, e: usize, seg: &Segment, t: u64) {
        let p = e ^ 1;
        let is_orig = e == self.orig;
        let ack = seg.flags.ack();
        let len = seg.payload_len;

        if self.first_packet_seen != SEEN_ORIG | SEEN_RESP {
            // Once both sides were seen, nothing here changes.
            self.set_partial_status(false, ack, is_orig);
            self.first_packet_seen |= if is_orig { SEEN_ORIG } else { SEEN_RESP };
        }
        // The data's relative sequence number, taken before `update_last_seq`.
        let data_seq = if len > 0 && !seg.warnings.contains(Warning::Truncated) {
            let side = &self.sides[e];
            match relative_seq(side, seg.seq, side.last_seq, side.seq_wraps) {
                (rel_seq, false) => Some(rel_seq),
                (_, true) => None,
            }
        } else {
            None
        };
        self.update_plain_history(is_orig, len, ack);
        self.update_window(e, is_orig, seg.window);
        self.touch(t);
        let new_ack = ack && !self.repeats_ack(p, seg.ack);
        let rel_ack = if new_ack {
            self.take_ack(p, seg.ack, false)
        } else {
            0
        };
        self.advance_last_seq(e, is_orig, seg.seq.wrapping_add(len), len > 0);
        if new_ack {
            self.ack_received(p, rel_ack);
        }
        if let Some(rel_seq) = data_seq {
            self.data_sent_in_order(e, rel_seq, u64::from(len));
        }
        self.check_eof(e);
    }

    /// `update_window`: only the zero-window letter matters here (not for a
    /// RST, whose window the caller leaves out).
    fn update_window(&mut self, e: usize, is_orig: bool, window: u16) {
        if window == 0
            && self.sides[e ^ 1].state != ZeekEndpointState::Closed
            && self.sides[e].state != ZeekEndpointState::Reset
            && self.sides[e].zero_windows.hit()
        {
            self.history.add_for(is_orig, b'W');
        }
    }

    /// The connection's last activity, frozen once both sides closed.
    fn touch(&mut self, t: u64) {
        if !(self.sides[0].did_close && self.sides[1].did_close) {
            self.last_time = t;
        }
    }

    /// The acknowledgment number `ack_seq` received by `sides[p]`: sets up
    /// the peer (`init_peer`) or moves its acknowledged point
    /// (`update_ack_seq`, not for a RST); returns the relative
    /// acknowledgment for `AckReceived` (0 when it lies before the start).
    fn take_ack(&mut self, p: usize, ack_seq: u32, rst: bool) -> u64 {
        let peer = &mut self.sides[p];
        if peer.state == ZeekEndpointState::Inactive {
            let start = ack_seq.wrapping_sub(1);
            peer.init_seqs(start, start);
            return 1;
        }
        let (rel_ack, underflow) = relative_seq(peer, ack_seq, peer.ack_seq, peer.ack_wraps);
        if underflow {
            return 0;
        }
        if !rst {
            let delta = seq_delta(ack_seq, peer.ack_seq);
            if !(ack_seq == 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0 {
                peer.update_ack_seq(ack_seq);
            }
        }
        rel_ack
    }

    /// Whether `ack_seq`, received by `sides[p]`, is the acknowledgment it
    /// already holds, so that `take_ack` and `ack_received` would change
    /// nothing: no wrap and no FIN on that side, past `INACTIVE`.
    ///
    /// Why: `ack_seq` last changed either in `init_seqs`, which makes it the
    /// start (relative 0, below the trimmed point, which is at least 1), or
    /// in `take_ack` for an earlier packet, whose `ack_received` then
    /// trimmed up to that same relative value (no FIN to clip it); the
    /// trimmed point only rises, and the relative value is the same while
    /// `start_seq` (changed with `ack_seq` only) and the wrap count (0) hold.
    fn repeats_ack(&self, p: usize, ack_seq: u32) -> bool {
        let peer = &self.sides[p];
        ack_seq == peer.ack_seq
            && peer.ack_wraps == 0
            && peer.fin_cnt == 0
            && peer.state != ZeekEndpointState::Inactive
    }

    /// `SetPartialStatus`.
    fn set_partial_status(&mut self, syn: bool, ack: bool, is_orig: bool) {
        if is_orig {
            if self.first_packet_seen & SEEN_ORIG == 0 {
                self.is_partial = !syn || ack;
            }
        } else if self.first_packet_seen & SEEN_RESP == 0 && !self.is_partial {
            self.is_partial = !syn;
        }
    }

    /// `init_endpoint`.
    fn init_endpoint(&mut self, e: usize, syn: bool, first: u32, last: u32) {
        let s = &mut self.sides[e];
        use ZeekEndpointState::*;
        match s.state {
            Inactive => {
                if syn {
                    s.init_seqs(first, last);
                } else {
                    // As though a SYN had been seen; the first packet is not
                    // a duplicate.
                    let start = first.wrapping_sub(1);
                    s.init_seqs(start, first);
                }
            }
            SynSent | SynAckSent => {
                if syn && first != s.start_seq32() {
                    s.init_seqs(first, last);
                }
            }
            Established | Partial => {
                if syn {
                    s.init_seqs(first, last);
                }
            }
            Reset => {
                if syn && s.prev_state == Inactive {
                    s.init_seqs(first, last);
                }
            }
            Closed => {}
        }
    }

    /// `update_history`.
    fn update_history(&mut self, e: usize, is_orig: bool, seg: &Segment, rel_seq: u64) {
        let f = seg.flags;
        let len = u64::from(seg.payload_len);
        let h = &mut self.history;
        let s = &mut self.sides[e];
        let bits = u8::from(f.syn()) + u8::from(f.fin()) + u8::from(f.rst());
        if bits > 1 {
            if f.fin() && f.rst() {
                h.check(is_orig, mask::FIN_RST, b'I');
            } else {
                h.check(is_orig, mask::MULTI_FLAG, b'Q');
            }
        } else if bits == 1 {
            if f.syn() {
                let code = if f.ack() { b'H' } else { b'S' };
                if h.check(is_orig, mask::SYN, code) && rel_seq != s.hist_last_syn {
                    h.add_for(is_orig, code);
                }
                s.hist_last_syn = rel_seq;
            }
            if f.fin() {
                let at = rel_seq.wrapping_add(len);
                if h.check(is_orig, mask::FIN, b'F') && at != s.hist_last_fin {
                    h.add_for(is_orig, b'F');
                }
                s.hist_last_fin = at;
            }
            if f.rst() {
                if h.check(is_orig, mask::RST, b'R') && rel_seq != s.hist_last_rst {
                    h.add_for(is_orig, b'R');
                }
                s.hist_last_rst = rel_seq;
            }
        } else {
            self.update_plain_history(is_orig, seg.payload_len, f.ack());
        }
    }

    /// `update_history` for a segment without SYN, FIN or RST.
    fn update_plain_history(&mut self, is_orig: bool, len: u32, ack: bool) {
        if len > 0 {
            self.history.check(is_orig, mask::DATA, b'D');
        } else if ack {
            self.history.check(is_orig, mask::ACK, b'A');
        }
    }

    /// `update_last_seq`, with its retransmission letter.
    fn update_last_seq(&mut self, e: usize, is_orig: bool, last: u32, seg: &Segment) {
        let f = seg.flags;
        let s = &mut self.sides[e];
        let delta = seq_delta(last, s.last_seq);
        let outlandish = !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta);
        if (f.syn() || f.rst()) && outlandish {
            // Not trusted.
            return;
        }
        if f.fin() && s.last_seq == s.start_seq32().wrapping_add(1) {
            // Accepted even when behind: a > 2 GB connection seen only at its ends.
            s.update_last_seq(last);
        } else {
            self.advance_last_seq(e, is_orig, last, seg.payload_len > 0);
        }
    }

    /// The end of `update_last_seq`: moves the sequence forward, or counts a
    /// retransmission of data.
    fn advance_last_seq(&mut self, e: usize, is_orig: bool, last: u32, has_data: bool) {
        let s = &mut self.sides[e];
        if s.state == ZeekEndpointState::Reset {
            // Nothing after a RST is trusted.
        } else if seq_delta(last, s.last_seq) > 0 {
            s.update_last_seq(last);
        } else if has_data && s.retransmissions.hit() {
            self.history.add_for(is_orig, b'T');
        }
    }

    /// `TCP_Endpoint::Size`.
    fn size(&self, i: usize) -> u64 {
        let s = &self.sides[i];
        if s.prev_state == ZeekEndpointState::SynSent
            && s.state == ZeekEndpointState::Reset
            && self.sides[i ^ 1].state == ZeekEndpointState::Inactive
            && !s.no_data_acked()
        {
            return 0;
        }
        let last = Side::full(s.last_seq, s.seq_wraps);
        let ack = Side::full(s.ack_seq, s.ack_wraps);
        let start = s.start_seq as u64;
        let mut size = if last > ack {
            last.wrapping_sub(start)
        } else {
            ack.wrapping_sub(start)
        };
        // Not the SYN's octet, nor the FIN's.
        size = size.saturating_sub(1);
        if s.fin_cnt > 0 && size != 0 {
            size -= 1;
        }
        size
    }
}

/// A segment without SYN, FIN or RST.
fn is_plain(seg: &Segment) -> bool {
    seg.flags.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) == 0
}

/// Whether `seg` goes from `src` to `dst` (ports compared first: cheaper,
/// and they tell the two directions apart unless they are equal).
fn same_endpoints(seg: &Segment, src: &Endpoint, dst: &Endpoint) -> bool {
    seg.src.port == src.port
        && seg.dst.port == dst.port
        && seg.src.addr == src.addr
        && seg.dst.addr == dst.addr
}

/// `TCPAnalyzer::WantConnection`: whether the first packet's receiver is
/// taken as the originator.
fn want_flip(first: &Segment, likely_server_ports: &[u16]) -> bool {
    let f = first.flags;
    if f.syn() && !f.ack() {
        return false;
    }
    let (src, dst) = (first.src.port, first.dst.port);
    if !likely_server_ports.contains(&src) {
        return false;
    }
    if likely_server_ports.contains(&dst) {
        !f.syn() && src < dst
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack_core::tcp::TcpFlags;

    use crate::test_traffic::{endpoint, random_segment, segment, Rng};

    fn seg(from_client: bool, flags: u16, seq: u32, ack: u32, len: u32) -> Segment {
        let (c, s) = (endpoint(1, 40000), endpoint(2, 80));
        let (src, dst) = if from_client { (c, s) } else { (s, c) };
        segment(src, dst, flags, seq, ack, len)
    }

    const S: u16 = TcpFlags::SYN;
    const A: u16 = TcpFlags::ACK;
    const F: u16 = TcpFlags::FIN;
    const R: u16 = TcpFlags::RST;

    fn run(pkts: &[Segment]) -> ZeekConnection {
        let mut c = ZeekConnection::with_config(
            &pkts[0],
            &ZeekConfig {
                likely_server_ports: &[],
            },
        );
        for (i, p) in pkts.iter().enumerate() {
            c.observe(p, i as u64 * 1000, None);
        }
        c
    }

    #[test]
    fn full_handshake_and_close() {
        let c = run(&[
            seg(true, S, 100, 0, 0),
            seg(false, S | A, 500, 101, 0),
            seg(true, A, 101, 501, 0),
            seg(true, A, 101, 501, 10),
            seg(false, A, 501, 111, 0),
            seg(true, F | A, 111, 501, 0),
            seg(false, F | A, 501, 112, 0),
            seg(true, A, 112, 502, 0),
        ]);
        assert_eq!(c.history(), "ShADaFf");
        assert_eq!(c.conn_state(), "SF");
        assert_eq!(c.orig_size(), 10);
    }

    #[test]
    fn rst_behaviour() {
        assert_eq!(run(&[seg(true, R, 0, 0, 0)]).conn_state(), "OTH");
        let c = run(&[seg(true, S, 0, 0, 0), seg(true, R, 0, 0, 0)]);
        assert_eq!((c.history(), c.conn_state()), ("SR", "RSTOS0"));
        let c = run(&[
            seg(true, S, 0, 0, 0),
            seg(false, A, 0, 0, 0),
            seg(true, R, 0, 0, 0),
        ]);
        assert_eq!((c.history(), c.conn_state()), ("SaR", "RSTOS0"));
        let c = run(&[
            seg(true, S, 0, 0, 0),
            seg(false, A, 0, 0, 0),
            seg(true, F, 0, 0, 0),
            seg(true, R, 0, 0, 0),
        ]);
        assert_eq!((c.history(), c.conn_state()), ("SaFR", "OTH"));
    }

    #[test]
    fn synack_first_then_ack_flips() {
        let c = run(&[seg(false, S | A, 500, 101, 0), seg(true, A, 101, 501, 0)]);
        assert_eq!(c.history(), "^hA");
        assert_eq!(c.originator(), endpoint(1, 40000));
    }

    #[test]
    fn reversed_handshake_flips() {
        let c = run(&[
            seg(false, S | A, 500, 101, 0),
            seg(true, S, 100, 0, 0),
            seg(true, A, 101, 501, 0),
        ]);
        assert_eq!(c.history(), "Hs^A");
        assert_eq!(c.originator(), endpoint(1, 40000));
        assert_eq!(c.conn_state(), "S1");
    }

    #[test]
    fn bad_checksum_counts_only() {
        let mut c = ZeekConnection::new(&seg(true, S, 0, 0, 0));
        c.observe(&seg(true, S, 0, 0, 0), 0, Some(false));
        assert_eq!((c.history(), c.conn_state()), ("C", "OTH"));
    }

    #[test]
    fn acked_unseen_data_is_a_gap() {
        let mut pkts = vec![
            seg(true, S, 100, 0, 0),
            seg(false, S | A, 500, 101, 0),
            seg(true, A, 101, 501, 0),
        ];
        let mut lost = seg(true, A, 101, 501, 10);
        lost.warnings.insert(Warning::Truncated);
        pkts.push(lost);
        pkts.push(seg(false, A, 501, 111, 0));
        assert_eq!(run(&pkts).history(), "ShADaG");
    }

    #[test]
    fn inactivity_removes() {
        let mut c = run(&[seg(true, A, 100, 500, 5), seg(false, A, 500, 105, 0)]);
        assert!(!c.advance_time(1000 + 299 * NS));
        assert!(c.advance_time(1000 + 300 * NS));
    }

    /// `observe` with every packet through the general `process`.
    fn observe_general(c: &mut ZeekConnection, seg: &Segment, ts: u64, ok: Option<bool>) {
        if ok == Some(false) || !is_plain(seg) {
            // The same path either way.
            c.observe(seg, ts, ok);
            return;
        }
        c.start(ts);
        let Some(sender) = c.side_of(seg) else {
            return;
        };
        c.maybe_flip_late(seg);
        c.process(sender, seg, ts);
    }

    /// A model restarted in the room of another, whatever that one went
    /// through, reads as a model built new from the same first packet, and
    /// stays so packet after packet.
    #[test]
    fn a_restarted_model_reads_as_a_new_one() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let ends = [endpoint(1, 40000), endpoint(2, 80), endpoint(3, 80)];
        let config = |rng: &mut Rng| ZeekConfig {
            likely_server_ports: if rng.one_in(2) { &[] } else { &[80] },
        };
        let mut next = [rng.below(1 << 32) as u32, rng.below(1 << 32) as u32];
        let first = random_segment(&mut rng, &mut next, ends);
        let mut reused = ZeekConnection::with_config(&first, &config(&mut rng));
        for _ in 0..2000 {
            let config = config(&mut rng);
            let mut next = [rng.below(1 << 32) as u32, rng.below(1 << 32) as u32];
            let first = random_segment(&mut rng, &mut next, ends);
            let mut new = ZeekConnection::with_config(&first, &config);
            reused.restart(&first, &config);
            let (mut seg, mut ts) = (first, 0);
            for _ in 0..rng.below(120) {
                assert_eq!(format!("{reused:?}"), format!("{new:?}"), "{seg:?}");
                new.observe(&seg, ts, None);
                reused.observe(&seg, ts, None);
                ts += rng.below(3 * NS);
                seg = random_segment(&mut rng, &mut next, ends);
            }
            assert_eq!(format!("{reused:?}"), format!("{new:?}"));
            // The room's first letters are the history.
            let (room, len) = reused.history_room();
            assert_eq!(&room[..len], reused.history().as_bytes());
        }
    }

    /// A side that streams in order with no acknowledgment coming back
    /// holds all it sent since the last one (acknowledgments trim the held
    /// blocks); once they pass `tcp_excessive_data_without_further_acks`
    /// (`DataSent` compares `block_list.DataSize()`), Zeek gives up on
    /// reassembling that side: on the in-order shortcut as on the general
    /// path.
    #[test]
    fn in_order_data_past_ten_mib_unacknowledged_gives_up() {
        const SEGMENT: u32 = 60_000;
        let mut handshake = [
            seg(true, S, 100, 0, 0),
            seg(false, S | A, 500, 101, 0),
            seg(true, A, 101, 501, 0),
            seg(true, A, 101, 501, SEGMENT),
            // The first segment acknowledged: the initial-window trim stops.
            seg(false, A, 501, 101 + SEGMENT, 0),
        ]
        .into_iter();
        let first = handshake.next().unwrap();
        let config = ZeekConfig {
            likely_server_ports: &[],
        };
        let mut fast = ZeekConnection::with_config(&first, &config);
        let mut general = fast.clone();
        let mut ts = 0;
        for s in std::iter::once(first).chain(handshake) {
            fast.observe(&s, ts, None);
            observe_general(&mut general, &s, ts, None);
            ts += 1000;
        }
        // Held: every segment sent after the acknowledged one.
        // Zeek's default for `tcp_excessive_data_without_further_acks`.
        let limit = 10 * 1024 * 1024;
        let mut held = 0u64;
        let mut seq = 101 + SEGMENT;
        for _ in 0..limit / u64::from(SEGMENT) + 2 {
            let s = seg(true, A, seq, 501, SEGMENT);
            fast.observe(&s, ts, None);
            observe_general(&mut general, &s, ts, None);
            assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{s:?}");
            held += u64::from(SEGMENT);
            let gave_up = fast.sides[0].reassembler.skip_deliveries;
            assert_eq!(gave_up, held > limit, "{held} bytes held");
            seq += SEGMENT;
            ts += 1000;
        }
    }

    /// The shortcut for segments without SYN, FIN or RST (with its in-order
    /// data step) leaves every field as the general path does, packet after
    /// packet.
    #[test]
    fn plain_path_matches_general_path() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for conn in 0..3000u64 {
            // Equal ports on some connections: only the addresses differ.
            let server_port = if conn % 7 == 0 { 40000 } else { 80 };
            let ends = [
                endpoint(1, 40000),
                endpoint(2, server_port),
                endpoint(3, 80),
            ];
            let start = |rng: &mut Rng| match rng.below(3) {
                0 => u32::MAX - rng.below(5000) as u32,
                _ => rng.below(1 << 32) as u32,
            };
            let mut next = [start(&mut rng), start(&mut rng)];
            let first = random_segment(&mut rng, &mut next, ends);
            let ports: &'static [u16] = if conn % 2 == 0 { &[] } else { &[80] };
            let config = ZeekConfig {
                likely_server_ports: ports,
            };
            let mut fast = ZeekConnection::with_config(&first, &config);
            let mut general = fast.clone();
            let mut seg = first;
            let mut ts = 0;
            for _ in 0..rng.below(80) {
                let ok = match rng.below(30) {
                    0 => Some(false),
                    1 => Some(true),
                    _ => None,
                };
                fast.observe(&seg, ts, ok);
                observe_general(&mut general, &seg, ts, ok);
                assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{seg:?}");
                ts += rng.below(3 * NS);
                seg = random_segment(&mut rng, &mut next, ends);
            }
        }
    }
}
