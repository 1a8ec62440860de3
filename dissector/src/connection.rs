//! One connection's state machine: roles of its packets, both endpoints'
//! states, and the facts its verdict is made of.

use synack_core::flow::Endpoint;

use crate::annotation::{
    Annotation, Direction, EndpointStates, ResetKind, Role, RoleSet, TcpState,
};
use crate::completeness::Completeness;
use crate::segment::Segment;
use crate::seq;
use crate::states::{self, Receipt, SenderFacts};
use crate::verdict::{CloseKind, ConnectionFacts, Counters, OpenKind, Side, SideOptions, Verdict};
use crate::zeek::{ZeekConfig, ZeekConnection};

/// What one endpoint has done, as seen in the capture.
#[derive(Clone, Debug, Default)]
struct SideState {
    /// Its first sequence number (a SYN's, or one before a midstream segment's), as tshark's base_seq.
    base_seq: Option<u32>,
    /// Sequence number of its SYN (or SYN-ACK).
    isn: Option<u32>,
    /// SYNs without ACK it sent.
    syns: u32,
    /// Time of its latest SYN (or SYN-ACK).
    syn_ts: Option<u64>,
    /// It sent a SYN-ACK.
    synack_sent: bool,
    /// Its SYN carried data accepted by a Fast Open cookie.
    syn_data_with_cookie: bool,
    /// Sequence number its FIN occupies, and that FIN's role.
    fin: Option<(u32, Role)>,
    /// The peer acknowledged its FIN.
    fin_acked: bool,
    /// Its acknowledgments covered the peer's SYN.
    acked_peer_syn: bool,
    /// Its acknowledgments covered the peer's FIN.
    acked_peer_fin: bool,
    /// It sent the handshake's third packet.
    handshake3_sent: bool,
    state: Option<TcpState>,
    options: SideOptions,
    counters: Counters,
}

/// A tracked connection.
#[derive(Clone, Debug)]
pub struct Connection {
    id: u64,
    /// Client and server.
    endpoints: [Endpoint; 2],
    /// Index 0 is the client, 1 the server.
    sides: [SideState; 2],
    first_frame: u64,
    last_frame: u64,
    start_ns: u64,
    last_ns: u64,
    simultaneous_open: bool,
    simultaneous_close: bool,
    midstream: bool,
    any_fin: bool,
    any_rst: bool,
    /// What [`Connection::ends_closed`] said after the latest packet that
    /// took the general path: only its steps (a RST, a FIN, the
    /// acknowledgment of one) can close a connection.
    closed: bool,
    first_fin_side: Option<usize>,
    synack_ts: Option<u64>,
    rtt_syn_synack_us: Option<u64>,
    rtt_synack_ack_us: Option<u64>,
    completeness: Completeness,
    roles_seen: RoleSet,
    role_frames: [Option<u64>; 8],
    /// Zeek's model of the connection, unless the tracker leaves it out.
    /// Not boxed: lying in the connection, it is found with it, where a
    /// model elsewhere would be reached only once the connection's line
    /// holding its address came in (a cache miss after a miss, at every
    /// packet of a connection out of cache, and at its verdict); a
    /// tracker that leaves the model out keeps its room empty.
    zeek: Option<ZeekConnection>,
    /// Zeek's side of the client's packets and of the server's (see
    /// [`ZeekConnection::observe_from`]), so that Zeek's model need not
    /// compare addresses again.
    zeek_sides: [usize; 2],
    /// For the client and the server: what a segment without SYN, FIN or
    /// RST from it does (see [`Connection::settle`]), once found after the
    /// latest packet that took the general path; None until then.
    settled_state: [Option<Plain>; 2],
}

/// What a segment without SYN, FIN or RST from one side does to the state
/// machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plain {
    /// It may change more than its sender's state: it takes the general path.
    MayChangeMore,
    /// It changes nothing but its sender's state, which it makes this.
    OnlySenderState(TcpState),
}

/// What a connection's first packet decides: which endpoint is the client.
struct Opening {
    /// Client and server.
    endpoints: [Endpoint; 2],
    /// The first packet is no SYN.
    midstream: bool,
    /// Zeek's side of the client's packets and of the server's.
    zeek_sides: [usize; 2],
}

impl Opening {
    /// The client: the SYN's sender; for a SYN-ACK, its receiver;
    /// midstream, the endpoint with the higher port (on a tie, the
    /// receiver is taken as the server). Zeek's model takes the first
    /// packet's sender as its side 0.
    fn of(seg: &Segment) -> Opening {
        let f = seg.flags;
        let src_is_client = if f.syn() {
            !f.ack()
        } else {
            seg.src.port >= seg.dst.port
        };
        let (client, server) = if src_is_client {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        Opening {
            endpoints: [client, server],
            midstream: !f.syn(),
            zeek_sides: match (client == server, src_is_client) {
                (true, _) => [0, 0],
                (false, true) => [0, 1],
                (false, false) => [1, 0],
            },
        }
    }
}

fn micros(from: u64, to: u64) -> u64 {
    to.saturating_sub(from) / 1000
}

impl Connection {
    /// Starts a connection from its first packet, choosing the client:
    /// the SYN's sender; for a SYN-ACK, its receiver; midstream, the endpoint
    /// with the higher port (servers listen on the lower, well-known ports;
    /// on a tie, the receiver is taken as the server).
    pub fn new(
        id: u64,
        frame: u64,
        ts_ns: u64,
        seg: &Segment,
        zeek: Option<&ZeekConfig>,
    ) -> Connection {
        let opening = Opening::of(seg);
        Connection {
            id,
            endpoints: opening.endpoints,
            sides: Default::default(),
            first_frame: frame,
            last_frame: frame,
            start_ns: ts_ns,
            last_ns: ts_ns,
            simultaneous_open: false,
            simultaneous_close: false,
            midstream: opening.midstream,
            any_fin: false,
            any_rst: false,
            closed: false,
            first_fin_side: None,
            synack_ts: None,
            rtt_syn_synack_us: None,
            rtt_synack_ack_us: None,
            completeness: Completeness::default(),
            roles_seen: RoleSet::EMPTY,
            role_frames: [None; 8],
            zeek: zeek.map(|config| ZeekConnection::with_config(seg, config)),
            zeek_sides: opening.zeek_sides,
            settled_state: [None; 2],
        }
    }

    /// Starts over as [`new`](Self::new) starts, in the room of a connection
    /// that ended (and in its Zeek model's): each field set where it lies,
    /// where a connection built apart would be copied here whole, and no
    /// allocation. Held to `new` by `a_restarted_connection_reads_as_a_new_one`.
    pub fn restart(
        &mut self,
        id: u64,
        frame: u64,
        ts_ns: u64,
        seg: &Segment,
        zeek: Option<&ZeekConfig>,
    ) {
        let opening = Opening::of(seg);
        // Every field named, so that a new one is not left out.
        let Connection {
            id: number,
            endpoints,
            sides,
            first_frame,
            last_frame,
            start_ns,
            last_ns,
            simultaneous_open,
            simultaneous_close,
            midstream,
            any_fin,
            any_rst,
            closed,
            first_fin_side,
            synack_ts,
            rtt_syn_synack_us,
            rtt_synack_ack_us,
            completeness,
            roles_seen,
            role_frames,
            zeek: model,
            zeek_sides,
            settled_state,
        } = self;
        *number = id;
        *endpoints = opening.endpoints;
        *sides = Default::default();
        (*first_frame, *last_frame) = (frame, frame);
        (*start_ns, *last_ns) = (ts_ns, ts_ns);
        *simultaneous_open = false;
        *simultaneous_close = false;
        *midstream = opening.midstream;
        *any_fin = false;
        *any_rst = false;
        *closed = false;
        *first_fin_side = None;
        *synack_ts = None;
        *rtt_syn_synack_us = None;
        *rtt_synack_ack_us = None;
        *completeness = Completeness::default();
        *roles_seen = RoleSet::EMPTY;
        *role_frames = [None; 8];
        match (model.as_mut(), zeek) {
            (Some(model), Some(config)) => model.restart(seg, config),
            (_, zeek) => {
                *model = zeek.map(|config| ZeekConnection::with_config(seg, config));
            }
        }
        *zeek_sides = opening.zeek_sides;
        *settled_state = [None; 2];
    }

    /// Connection number.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Both sides are done: a RST, or both FINs acknowledged.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether its packets so far close the connection (see
    /// [`is_closed`](Self::is_closed), which keeps what this said).
    fn ends_closed(&self) -> bool {
        self.any_rst || self.sides.iter().all(|s| s.fin.is_some() && s.fin_acked)
    }

    /// True when `seg` opens a new connection on this 4-tuple (port reuse): a
    /// SYN without ACK whose sequence number is not the first its sender used
    /// here. This is tshark's rule for a new `tcp.stream`; a SYN repeating the
    /// first sequence number is a retransmission.
    pub fn is_reopened_by(&self, seg: &Segment) -> bool {
        let f = seg.flags;
        if !f.syn() || f.ack() {
            return false;
        }
        self.sides[self.direction(seg).sender()]
            .base_seq
            .is_some_and(|base| base != seg.seq)
    }

    /// Which way `seg`, a packet of this connection, travels. Its source is
    /// the client or the server, so when their ports differ the source's
    /// port alone tells which (no address compared); only a connection
    /// whose two ports are equal needs the whole endpoint compared.
    fn direction(&self, seg: &Segment) -> Direction {
        let [client, server] = &self.endpoints;
        let from_client = if client.port != server.port {
            seg.src.port == client.port
        } else {
            *client == seg.src
        };
        if from_client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }

    /// Takes in one packet of this connection (from its client or its
    /// server) and says what it is. Always inlined into the tracker's
    /// `observe`, its caller on the packet path: a call would save and
    /// restore registers and copy the annotation out, at every packet.
    #[inline(always)]
    pub fn observe(
        &mut self,
        frame: u64,
        ts_ns: u64,
        seg: &Segment,
        checksum_ok: Option<bool>,
    ) -> Annotation {
        let dir = self.direction(seg);
        let s = dir.sender();
        let f = seg.flags;
        self.last_frame = frame;
        self.last_ns = ts_ns;
        if let Some(zeek) = self.zeek.as_mut() {
            zeek.observe_from(self.zeek_sides[s], seg, ts_ns, checksum_ok);
        }
        {
            let c = &mut self.sides[s].counters;
            c.packets += 1;
            c.bytes += u64::from(seg.payload_len);
        }
        if !(f.syn() || f.fin() || f.rst()) {
            if let Plain::OnlySenderState(state) = self.plain_from(s) {
                // The general path below, for a segment it would only give its
                // sender's state: no roles, and the receiver's state unchanged.
                // (Never the first packet, nor the sender's: see `settle`.)
                self.completeness.observe_later_plain(seg);
                self.sides[s].state = Some(state);
                return self.annotation(dir, RoleSet::EMPTY, None, false, seg);
            }
        }
        self.completeness.observe(seg);
        if self.sides[s].base_seq.is_none() && !f.rst() {
            self.sides[s].base_seq = Some(if f.syn() {
                seg.seq
            } else {
                seg.seq.wrapping_sub(1)
            });
        }
        self.take_steps(frame, ts_ns, dir, seg)
    }

    /// The state machine's steps for a packet that may change more than its
    /// sender's state: its roles, both endpoints' states, and the facts
    /// they rest on. Out of line, so that the common packet, which skips it,
    /// pays for none of its registers.
    #[inline(never)]
    fn take_steps(&mut self, frame: u64, ts_ns: u64, dir: Direction, seg: &Segment) -> Annotation {
        let s = dir.sender();
        let p = 1 - s;
        let f = seg.flags;
        let mut roles = RoleSet::EMPTY;
        let mut retransmission = false;

        if f.syn() {
            retransmission |= self.take_syn(s, p, ts_ns, seg, &mut roles);
        }
        let mut receipt = Receipt::default();
        if f.ack() {
            receipt = self.take_ack(s, p, ts_ns, seg, &mut roles);
        }
        if f.fin() {
            retransmission |= self.take_fin(s, p, seg, &mut roles);
        }
        let mut reset_kind = None;
        if f.rst() {
            roles.insert(Role::Reset);
            reset_kind = Some(self.reset_kind(s, p));
            self.any_rst = true;
        }

        self.sides[s].state = Some(states::sender_state(seg, self.sender_facts(s)));
        self.sides[p].state = states::on_receipt(self.sides[p].state, seg, receipt);
        // A role's frame is noted when it joins the roles seen (nothing
        // else changes either), so only a role new to them has none yet.
        // Bit n of a set is role n, as `role_frames` is indexed.
        let mut new = roles.without(self.roles_seen).bits();
        while new != 0 {
            self.role_frames[new.trailing_zeros() as usize] = Some(frame);
            new &= new - 1;
        }
        self.roles_seen = self.roles_seen.union(roles);
        self.closed = self.ends_closed();
        // What a plain segment does is found again when one comes.
        self.settled_state = [None; 2];
        self.annotation(dir, roles, reset_kind, retransmission, seg)
    }

    /// The annotation of a packet that filled `roles`.
    fn annotation(
        &self,
        dir: Direction,
        roles: RoleSet,
        reset_kind: Option<ResetKind>,
        retransmission: bool,
        seg: &Segment,
    ) -> Annotation {
        let role = roles.latest();
        let mut combines = roles;
        if let Some(r) = role {
            combines.remove(r);
        }
        Annotation {
            conn: self.id,
            dir,
            role,
            combines,
            reset_kind,
            retransmission,
            states: self.states(),
            warnings: seg.warnings,
        }
    }

    /// What side `s` has sent and received, as its state depends on it.
    fn sender_facts(&self, s: usize) -> SenderFacts {
        SenderFacts {
            fin_sent: self.sides[s].fin.is_some(),
            fin_active: self.sides[s].fin.is_some_and(|(_, r)| r == Role::Teardown1),
            fin_acked: self.sides[s].fin_acked,
            got_peer_fin: self.sides[s].acked_peer_fin,
            awaiting_handshake_ack: s == 1
                && self.sides[1].synack_sent
                && !self.sides[0].handshake3_sent
                && !self.simultaneous_open,
        }
    }

    /// What a segment without SYN, FIN or RST from side `s` does, found at
    /// most once after each packet that took the general path (most such
    /// packets are followed by more of them, which need not know).
    #[inline]
    fn plain_from(&mut self, s: usize) -> Plain {
        match self.settled_state[s] {
            Some(plain) => plain,
            None => {
                let plain = self.settle(s);
                self.settled_state[s] = Some(plain);
                plain
            }
        }
    }

    /// Whether a segment without SYN, FIN or RST from side `s` would change
    /// nothing but its own state, and to what. Such a
    /// segment takes no SYN, FIN or RST step, and `take_ack` finds nothing
    /// new in its acknowledgment when the sender has covered the peer's SYN
    /// (or the peer sent none) and cannot be sending the handshake's third
    /// packet, and has covered the peer's FIN (or the peer sent none); its
    /// receiver's state is then unchanged (`on_receipt` of an empty
    /// receipt), and its sender's state follows from facts that only those
    /// steps change. So the note holds until the next packet that takes the
    /// general path, after which it is found again. A side is settled only
    /// once its first sequence number is known (and so the connection's
    /// first packet was seen), which the general path takes care of.
    fn settle(&self, s: usize) -> Plain {
        let (me, peer) = (&self.sides[s], &self.sides[1 - s]);
        let syn_covered = peer.isn.is_none() || (me.acked_peer_syn && !self.may_send_handshake3(s));
        let fin_covered = peer.fin.is_none() || me.acked_peer_fin;
        if me.base_seq.is_some() && syn_covered && fin_covered {
            Plain::OnlySenderState(states::state_without_syn_or_rst(self.sender_facts(s)))
        } else {
            Plain::MayChangeMore
        }
    }

    /// True when side `s`'s next acknowledgment of the peer's SYN would be
    /// the handshake's third packet (see `take_ack`).
    fn may_send_handshake3(&self, s: usize) -> bool {
        s == 0
            && !self.simultaneous_open
            && self.sides[1].synack_sent
            && !self.sides[0].handshake3_sent
    }

    /// A SYN or SYN-ACK: handshake-1 or -2. Returns true for a retransmission.
    fn take_syn(
        &mut self,
        s: usize,
        p: usize,
        ts_ns: u64,
        seg: &Segment,
        roles: &mut RoleSet,
    ) -> bool {
        let f = seg.flags;
        let side = &mut self.sides[s];
        let again = side.isn == Some(seg.seq);
        if f.ack() {
            roles.insert(Role::Handshake2);
            let retransmission = again && side.synack_sent;
            side.synack_sent = true;
            side.isn = Some(seg.seq);
            if let (None, Some(syn_ts)) = (self.rtt_syn_synack_us, self.sides[p].syn_ts) {
                // From the latest SYN: a retransmitted SYN is the one answered.
                self.rtt_syn_synack_us = Some(micros(syn_ts, ts_ns));
            }
            self.synack_ts = Some(ts_ns);
            self.sides[s].options.merge_from(seg);
            retransmission
        } else {
            roles.insert(Role::Handshake1);
            let retransmission = again && side.syns > 0;
            side.syns += 1;
            side.isn = Some(seg.seq);
            side.syn_ts = Some(ts_ns);
            side.syn_data_with_cookie = seg.payload_len > 0 && seg.options.fast_open_cookie;
            side.options.merge_from(seg);
            if self.sides[p].syns > 0 && !retransmission {
                self.simultaneous_open = true;
            }
            retransmission
        }
    }

    /// The acknowledgment of a packet: handshake-3, teardown-2 and teardown-4.
    fn take_ack(
        &mut self,
        s: usize,
        p: usize,
        ts_ns: u64,
        seg: &Segment,
        roles: &mut RoleSet,
    ) -> Receipt {
        let mut receipt = Receipt::default();
        let peer_isn = self.sides[p].isn;
        if let Some(isn) = peer_isn {
            let covers_syn = seq::after(seg.ack, isn);
            receipt.acks_syn = covers_syn && !self.sides[s].acked_peer_syn;
            if covers_syn {
                self.sides[s].acked_peer_syn = true;
            }
            let is_handshake3 = covers_syn && !seg.flags.syn() && self.may_send_handshake3(s);
            if is_handshake3 {
                roles.insert(Role::Handshake3);
                self.sides[s].handshake3_sent = true;
                if let Some(t) = self.synack_ts {
                    self.rtt_synack_ack_us.get_or_insert(micros(t, ts_ns));
                }
            }
        }
        if let Some((fin_seq, fin_role)) = self.sides[p].fin {
            if !self.sides[s].acked_peer_fin && seq::after(seg.ack, fin_seq) {
                self.sides[s].acked_peer_fin = true;
                self.sides[p].fin_acked = true;
                receipt.acks_fin = true;
                roles.insert(if fin_role == Role::Teardown1 {
                    Role::Teardown2
                } else {
                    Role::Teardown4
                });
            }
        }
        receipt
    }

    /// A FIN: teardown-1 or -3. Returns true for a retransmission.
    fn take_fin(&mut self, s: usize, p: usize, seg: &Segment, roles: &mut RoleSet) -> bool {
        let fin_seq = seg
            .seq
            .wrapping_add(seg.payload_len)
            .wrapping_add(u32::from(seg.flags.syn()));
        self.any_fin = true;
        if let Some((known, role)) = self.sides[s].fin {
            if known == fin_seq {
                roles.insert(role);
                return true;
            }
        }
        let role = states::fin_role(self.sides[s].acked_peer_fin);
        if role == Role::Teardown1 {
            if self.sides[p].fin.is_some_and(|(_, r)| r == Role::Teardown1) {
                self.simultaneous_close = true;
            }
            self.first_fin_side.get_or_insert(s);
        }
        // A FIN at a new sequence number (more data after a FIN) keeps the first FIN's role.
        let role = self.sides[s].fin.map_or(role, |(_, r)| r);
        self.sides[s].fin = Some((fin_seq, role));
        roles.insert(role);
        false
    }

    fn reset_kind(&self, s: usize, p: usize) -> ResetKind {
        let sender = &self.sides[s];
        if self.any_fin {
            ResetKind::AfterClose
        } else if self.sides[p].syns > 0 && sender.syns == 0 && !sender.synack_sent {
            ResetKind::Refused
        } else {
            ResetKind::Abort
        }
    }

    fn states(&self) -> EndpointStates {
        EndpointStates {
            client: self.sides[0].state,
            server: self.sides[1].state,
        }
    }

    /// What is known so far of the opening.
    pub fn facts(&self) -> ConnectionFacts {
        ConnectionFacts {
            open: self.open_kind(),
            rtt_syn_synack_us: self.rtt_syn_synack_us,
            rtt_synack_ack_us: self.rtt_synack_ack_us,
            client_options: self.sides[0].options,
            server_options: self.sides[1].options,
            close: self.close_kind(),
            active_closer: self.first_fin_side.map(|i| {
                if i == 0 {
                    Side::Client
                } else {
                    Side::Server
                }
            }),
        }
    }

    fn open_kind(&self) -> OpenKind {
        let (client, server) = (&self.sides[0], &self.sides[1]);
        if self.simultaneous_open {
            OpenKind::Simultaneous
        } else if self.midstream && client.syns == 0 {
            OpenKind::Midstream
        } else if client.syns > 0 && server.synack_sent && client.handshake3_sent {
            if client.syn_data_with_cookie {
                OpenKind::FastOpen
            } else {
                OpenKind::ThreeWay
            }
        } else {
            OpenKind::Incomplete
        }
    }

    fn close_kind(&self) -> CloseKind {
        let fins = self.sides.iter().filter(|s| s.fin.is_some()).count();
        match (fins, self.any_rst) {
            (2, _) if self.simultaneous_close => CloseKind::Simultaneous,
            (2, _) => CloseKind::Fin,
            (_, true) => CloseKind::Reset,
            (1, false) => CloseKind::HalfOpen,
            _ => CloseKind::None,
        }
    }

    /// The verdict, as of the last packet seen.
    pub fn verdict(&self) -> Verdict {
        Verdict {
            conn: self.id,
            first_frame: self.first_frame,
            last_frame: self.last_frame,
            client: self.endpoints[0],
            server: self.endpoints[1],
            start_ns: self.start_ns,
            end_ns: self.last_ns,
            c2s: self.sides[0].counters,
            s2c: self.sides[1].counters,
            completeness: self.completeness.bits(),
            conn_state: self.zeek.as_ref().map_or("", |z| z.conn_state()),
            history: self.zeek.as_ref().map_or_else(Default::default, |z| {
                let (room, len) = z.history_room();
                crate::verdict::History::from_ascii_room(room, len)
            }),
            facts: self.facts(),
            syn_retransmissions: self.sides[0].syns.saturating_sub(1),
            final_states: self.states(),
            roles_seen: self.roles_seen,
            role_frames: self.role_frames,
            labels: Vec::new(),
        }
    }
}

impl SideOptions {
    /// Takes the handshake options of a SYN or SYN-ACK.
    fn merge_from(&mut self, seg: &Segment) {
        let o = seg.options;
        *self = SideOptions {
            mss: o.mss.or(self.mss),
            wscale: o.wscale.or(self.wscale),
            sack_permitted: o.sack_permitted || self.sack_permitted,
            timestamps: o.timestamps || self.timestamps,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_traffic::{endpoint, random_segment, Rng};

    /// A packet's direction read from ports alone is the one the whole
    /// endpoints give, for packets from either end: ends on one host or
    /// two, with equal ports or not.
    #[test]
    fn the_direction_by_ports_is_the_direction_by_endpoints() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for id in 0..2000u64 {
            let ports = [1 + rng.below(4) as u16, 1 + rng.below(4) as u16];
            let hosts = [1 + rng.below(2) as u8, 1 + rng.below(2) as u8];
            let ends = [endpoint(hosts[0], ports[0]), endpoint(hosts[1], ports[1])];
            let mut next = [0, 0];
            let first = random_segment(&mut rng, &mut next, [ends[0], ends[1], ends[1]]);
            let conn = Connection::new(id, 1, 0, &first, None);
            for (src, dst) in [(ends[0], ends[1]), (ends[1], ends[0])] {
                let seg = Segment { src, dst, ..first };
                let want = if conn.endpoints[0] == src {
                    Direction::ClientToServer
                } else {
                    Direction::ServerToClient
                };
                assert_eq!(conn.direction(&seg), want, "{:?} {seg:?}", conn.endpoints);
            }
        }
    }

    /// A connection restarted in the room of another, whatever that one
    /// went through, reads as a connection made new from the same first
    /// packet, and stays so packet after packet (with and without Zeek's
    /// model, and from one to the other).
    #[test]
    fn a_restarted_connection_reads_as_a_new_one() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let config = ZeekConfig::default();
        let ends = [endpoint(1, 40000), endpoint(2, 80), endpoint(3, 80)];
        let mut next = [rng.below(1 << 32) as u32, rng.below(1 << 32) as u32];
        let first = random_segment(&mut rng, &mut next, ends);
        let mut reused = Connection::new(0, 1, 0, &first, Some(&config));
        for id in 1..2000u64 {
            let zeek = (!rng.one_in(5)).then_some(&config);
            let ends = if rng.one_in(2) {
                ends
            } else {
                [endpoint(2, 80), endpoint(1, 80), endpoint(3, 80)]
            };
            let mut next = [rng.below(1 << 32) as u32, rng.below(1 << 32) as u32];
            let first = random_segment(&mut rng, &mut next, ends);
            let mut new = Connection::new(id, 7, 9000, &first, zeek);
            reused.restart(id, 7, 9000, &first, zeek);
            let mut seg = first;
            for frame in 7..rng.below(60) + 8 {
                assert_eq!(format!("{reused:?}"), format!("{new:?}"), "{seg:?}");
                let want = new.observe(frame, frame * 1000, &seg, None);
                assert_eq!(reused.observe(frame, frame * 1000, &seg, None), want);
                seg = random_segment(&mut rng, &mut next, ends);
            }
            assert_eq!(format!("{reused:?}"), format!("{new:?}"));
        }
    }

    /// The shortcut for settled segments gives every packet the annotation
    /// the general path gives it, and leaves the same connection behind.
    #[test]
    fn settled_segments_take_the_general_paths_steps() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut shortcuts = 0;
        for id in 0..3000u64 {
            let ends = [endpoint(1, 40000), endpoint(2, 80), endpoint(3, 80)];
            let mut next = [rng.below(1 << 32) as u32, rng.below(1 << 32) as u32];
            let first = random_segment(&mut rng, &mut next, ends);
            let mut fast = Connection::new(id, 1, 0, &first, None);
            let mut general = fast.clone();
            let mut seg = first;
            for frame in 1..rng.below(60) + 2 {
                let sender = fast.direction(&seg).sender();
                general.settled_state = [Some(Plain::MayChangeMore); 2];
                let want = general.observe(frame, frame * 1000, &seg, None);
                let got = fast.observe(frame, frame * 1000, &seg, None);
                assert_eq!(got, want, "frame {frame} of {id}: {seg:?}");
                // Only the shortcut leaves a settled state behind: the
                // general path forgets them.
                let settled = fast.settled_state;
                shortcuts += u32::from(matches!(settled[sender], Some(Plain::OnlySenderState(_))));
                // What the shortcut found is what the connection the
                // general path left would find now.
                for (s, plain) in settled.iter().enumerate() {
                    if let Some(plain) = plain {
                        assert_eq!(*plain, general.settle(s), "side {s}, frame {frame} of {id}");
                    }
                }
                // Whether it is closed is kept as it is.
                assert_eq!(
                    fast.is_closed(),
                    fast.ends_closed(),
                    "frame {frame} of {id}"
                );
                // And the rest of the connection is the same.
                let mut fast_rest = fast.clone();
                fast_rest.settled_state = [None; 2];
                assert_eq!(format!("{fast_rest:?}"), format!("{general:?}"));
                seg = random_segment(&mut rng, &mut next, ends);
            }
        }
        // The shortcut was taken, often.
        assert!(shortcuts > 10_000, "{shortcuts}");
    }
}
