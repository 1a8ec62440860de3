//! The connection table: finds each packet's connection, starts and ends
//! connections, and bounds memory with timeouts and a cap.
//!
//! A pure state machine over (frame number, timestamp, segment): no I/O and no
//! clock of its own, so a file, a live interface, the C ABI and Wireshark drive
//! it the same way.

use std::collections::{HashMap, VecDeque};

use rustc_hash::FxBuildHasher;

use crate::annotation::Annotation;
use crate::connection::Connection;
use crate::segment::Segment;
use crate::verdict::{ConnectionFacts, Verdict};
use crate::zeek::{ZeekConfig, DEFAULT_LIKELY_SERVER_PORTS};

mod key;
use key::ConnKey;

/// Limits on what the tracker keeps.
#[derive(Clone, Copy, Debug)]
pub struct TrackerConfig {
    /// A connection with no packet for this long ends (ns).
    pub idle_timeout_ns: u64,
    /// A closed connection (both FINs acknowledged, or a RST) ends this long
    /// after its last packet (ns), so that stragglers (a retransmitted FIN, a
    /// late ACK) still count as its packets.
    pub time_wait_ns: u64,
    /// The most connections tracked at once; past it a closed connection
    /// ends, or when none is closed, the longest idle one.
    pub max_connections: usize,
    /// How Zeek's history and conn_state are computed (its `likely_server_ports`);
    /// `None` leaves Zeek's model out, and verdicts carry an empty conn_state
    /// and history: for a front end that shows no verdict's state, which saves
    /// a sixth of a packet's time. (Not memory: the model lies in the
    /// connection, so that both come in together; left out, its room stays
    /// empty.)
    pub zeek: Option<ZeekConfig>,
}

impl Default for TrackerConfig {
    /// 5 minutes idle (Zeek's `tcp_inactivity_timeout`), 5 s after close
    /// (Zeek's `tcp_close_delay` and `tcp_reset_delay`), 65536 connections,
    /// Zeek's default likely server ports.
    ///
    /// Not Linux's 60 s TIME-WAIT: an endpoint waits that long to guard a new
    /// incarnation of its ports, which the tracker does by sequence numbers
    /// instead ([`Connection::is_reopened_by`]). Held for 60 s, closed
    /// connections would fill the table on a busy link (a thousand
    /// connections a second keep 60,000 of them), where 5 s still catches
    /// the retransmissions of a last FIN.
    fn default() -> Self {
        TrackerConfig {
            idle_timeout_ns: 300_000_000_000,
            time_wait_ns: 5_000_000_000,
            max_connections: 65_536,
            zeek: Some(ZeekConfig {
                likely_server_ports: DEFAULT_LIKELY_SERVER_PORTS,
            }),
        }
    }
}

/// Why a connection's verdict was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Closed and its TIME-WAIT ran out.
    Closed,
    /// Idle past the timeout.
    Idle,
    /// Evicted to stay under the cap.
    Evicted,
    /// A new connection took its 4-tuple.
    Reused,
    /// The capture ended.
    CaptureEnd,
}

/// Tracks every connection of a capture.
pub struct Tracker {
    config: TrackerConfig,
    by_key: HashMap<ConnKey, usize, FxBuildHasher>,
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// The capture's clock: the latest timestamp seen, so that time never runs
    /// backwards for expiry even when a capture's timestamps do.
    clock: u64,
    /// Open connections in order of (recorded) last activity: they end
    /// when idle past the timeout.
    open: Activity,
    /// Closed connections in order of (recorded) last activity: they end
    /// when quiet past TIME-WAIT. Kept apart from the open ones, so that the
    /// front of each queue is the first to expire.
    closed: Activity,
    /// No connection expires before this clock, so that most packets skip
    /// the queues: the earliest time the front of a queue may expire, or 0
    /// when a front may have changed, which the next packet checks.
    ///
    /// A queue is not in time order (a connection seen since it was queued
    /// goes to the back with its later time), so a front that leaves (its
    /// connection closed or ended) may give way to one that expires sooner;
    /// entries leaving from behind the front, and entries added at the back,
    /// leave it as it is (a new entry only lowers the bound to its own time).
    next_expiry: u64,
    next_id: u64,
    last_slot: Option<usize>,
    ended: Vec<(Verdict, EndReason)>,
    /// A reused 4-tuple's connection ends and a new one starts the general
    /// way (for the test that holds [`Tracker::reuse`] to it).
    #[cfg(test)]
    reuse_by_end_and_start: bool,
    /// Every key is looked up in the table, the last packet's too (for the
    /// test that holds [`Tracker::find`] to it).
    #[cfg(test)]
    find_by_hash_only: bool,
}

/// Where a connection is kept, with its key. A connection that ended is
/// left in its slot, no longer live: a connection started in the slot
/// later is made in its room, its Zeek model's included, instead of being
/// built apart and copied in.
struct Slot {
    key: ConnKey,
    conn: Connection,
    live: bool,
    /// The clock at its connection's latest packet.
    touched: u64,
}

impl Tracker {
    /// A tracker with the given limits.
    pub fn new(config: TrackerConfig) -> Tracker {
        Tracker {
            config,
            by_key: HashMap::with_hasher(FxBuildHasher),
            slots: Vec::new(),
            free: Vec::new(),
            clock: 0,
            open: Activity::new(),
            closed: Activity::new(),
            next_expiry: u64::MAX,
            next_id: 0,
            last_slot: None,
            ended: Vec::new(),
            #[cfg(test)]
            reuse_by_end_and_start: false,
            #[cfg(test)]
            find_by_hash_only: false,
        }
    }

    /// Connections tracked now.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// True when no connection is tracked.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Takes in one TCP packet and annotates it.
    pub fn observe(
        &mut self,
        frame: u64,
        ts_ns: u64,
        seg: &Segment,
        checksum_ok: Option<bool>,
    ) -> Annotation {
        self.advance(ts_ns);
        let key = ConnKey::new(&seg.src, &seg.dst);
        let slot = match self.find(&key) {
            // A slot found is live: no need to check it here, at every
            // packet (the flag lies a few cache lines past the connection's
            // head).
            Some(slot) if self.slots[slot].conn.is_reopened_by(seg) => {
                self.unsettle_front_of(slot);
                self.reuse(slot, key, frame, ts_ns, seg)
            }
            Some(slot) => slot,
            None => self.start(key, frame, ts_ns, seg),
        };
        self.last_slot = Some(slot);
        let Slot { conn, touched, .. } = &mut self.slots[slot];
        *touched = self.clock;
        let was_closed = conn.is_closed();
        let annotation = conn.observe(frame, ts_ns, seg, checksum_ok);
        if !was_closed && conn.is_closed() {
            let id = conn.id();
            self.closed.push_back((slot, id, self.clock));
            self.expiry_at_most(self.clock, self.time_wait());
            self.unsettle_front_of(slot);
        }
        annotation
    }

    /// Lets time pass to `now_ns` without a packet of a tracked connection
    /// (e.g. a packet another shard tracks): idle and closed connections end.
    #[inline]
    pub fn advance(&mut self, now_ns: u64) {
        self.clock = self.clock.max(now_ns);
        if self.clock >= self.next_expiry {
            self.expire(self.clock);
        }
    }

    /// What is known of the last packet's connection.
    pub fn last_facts(&self) -> Option<ConnectionFacts> {
        self.last_slot.map(|slot| self.connection(slot).facts())
    }

    /// True when connections ended since the last drain.
    pub fn has_ended(&self) -> bool {
        !self.ended.is_empty()
    }

    /// Verdicts of connections that ended, oldest first, with why they ended.
    pub fn drain_ended(&mut self) -> std::vec::Drain<'_, (Verdict, EndReason)> {
        self.ended.drain(..)
    }

    /// Ends every connection (the capture is over); their verdicts, and any not
    /// yet drained, come out in connection order.
    pub fn finish(&mut self) -> Vec<(Verdict, EndReason)> {
        self.finishing().collect()
    }

    /// Ends every connection as [`finish`](Self::finish) does, one at a time:
    /// each connection's memory is freed as its verdict is taken, so that a
    /// caller printing them never holds them all.
    pub fn finishing(&mut self) -> impl Iterator<Item = (Verdict, EndReason)> + '_ {
        let mut ended = std::mem::take(&mut self.ended);
        // Connection numbers are unique: unstable sorts need no scratch copy.
        ended.sort_unstable_by_key(|(v, _)| v.conn);
        let mut live: Vec<(u64, usize)> = self
            .by_key
            .values()
            .map(|&slot| (self.connection(slot).id(), slot))
            .collect();
        live.sort_unstable();
        let mut ended = ended.into_iter().peekable();
        let mut live = live.into_iter().peekable();
        std::iter::from_fn(move || {
            let drained_first = match (ended.peek(), live.peek()) {
                (Some((v, _)), Some(&(id, _))) => v.conn < id,
                (drained, _) => drained.is_some(),
            };
            if drained_first {
                return ended.next();
            }
            let (_, slot) = live.next()?;
            if let Some(&(_, next)) = live.peek() {
                // Fetched while this verdict is taken and handled.
                self.prefetch_slot(next);
            }
            let verdict = self.take(slot)?;
            Some((verdict, EndReason::CaptureEnd))
        })
    }

    /// The slot of the live connection with `key`: the last packet's,
    /// without hashing the key, when the key is that slot's (the slot is
    /// live, being the last packet's, so its key is filed to it and to no
    /// other). Two packets in three follow one of their own connection's
    /// on the 1 GB capture.
    #[inline]
    fn find(&self, key: &ConnKey) -> Option<usize> {
        #[cfg(test)]
        if self.find_by_hash_only {
            return self.by_key.get(key).copied();
        }
        let found = match self.last_slot {
            Some(slot) if self.slots[slot].key == *key => Some(slot),
            _ => self.by_key.get(key).copied(),
        };
        debug_assert!(found.is_none_or(|slot| self.slots[slot].live));
        found
    }

    /// The live connection in `slot`.
    fn connection(&self, slot: usize) -> &Connection {
        let slot = &self.slots[slot];
        assert!(slot.live, "slot in use");
        &slot.conn
    }

    /// Starts a connection from `seg`, making room for it first when the
    /// tracker is full; returns its slot. Out of line: inlined, it would
    /// weigh on every packet's lookup.
    #[inline(never)]
    fn start(&mut self, key: ConnKey, frame: u64, ts_ns: u64, seg: &Segment) -> usize {
        if self.by_key.len() >= self.config.max_connections {
            self.evict_one();
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.restart_in(slot, frame, ts_ns, seg);
                let Slot { key: k, live, .. } = &mut self.slots[slot];
                (*k, *live) = (key, true);
                slot
            }
            None => {
                let zeek = self.config.zeek.as_ref();
                let conn = Connection::new(self.next_id, frame, ts_ns, seg, zeek);
                let live = true;
                let touched = self.clock;
                self.slots.push(Slot {
                    key,
                    conn,
                    live,
                    touched,
                });
                let slot = self.slots.len() - 1;
                self.queue_new(slot);
                slot
            }
        };
        self.by_key.insert(key, slot);
        slot
    }

    /// Ends the connection in `slot`, whose 4-tuple `seg` opens anew, and
    /// starts the new one there; returns the slot.
    ///
    /// As ending it and starting one the general way, without the key's
    /// removal and insertion: the slot it frees is the first taken again,
    /// under the same key, and the tracker, one connection fewer, has room.
    #[inline(never)]
    fn reuse(&mut self, slot: usize, key: ConnKey, frame: u64, ts_ns: u64, seg: &Segment) -> usize {
        #[cfg(test)]
        if self.reuse_by_end_and_start {
            self.end(slot, EndReason::Reused);
            return self.start(key, frame, ts_ns, seg);
        }
        debug_assert!(self.slots[slot].key == key);
        let verdict = self.connection(slot).verdict();
        self.ended.push((verdict, EndReason::Reused));
        self.restart_in(slot, frame, ts_ns, seg);
        slot
    }

    /// Starts a connection from `seg` in `slot`, in the room of the one
    /// that ended there, and queues it.
    fn restart_in(&mut self, slot: usize, frame: u64, ts_ns: u64, seg: &Segment) {
        let zeek = self.config.zeek.as_ref();
        let conn = &mut self.slots[slot].conn;
        conn.restart(self.next_id, frame, ts_ns, seg, zeek);
        self.slots[slot].touched = self.clock;
        self.queue_new(slot);
    }

    /// Queues the connection just started in `slot`, and numbers the next.
    fn queue_new(&mut self, slot: usize) {
        self.open.push_back((slot, self.next_id, self.clock));
        self.next_id += 1;
        self.expiry_at_most(self.clock, self.config.idle_timeout_ns);
    }

    fn end(&mut self, slot: usize, reason: EndReason) {
        // The verdict is made where it is kept: a verdict handed back by
        // `take` would be copied on the way.
        let Slot { conn, live, .. } = &self.slots[slot];
        if *live {
            self.ended.push((conn.verdict(), reason));
            self.release(slot);
        }
    }

    /// Frees `slot` and gives its connection's verdict, if it holds one.
    fn take(&mut self, slot: usize) -> Option<Verdict> {
        let Slot { conn, live, .. } = &self.slots[slot];
        let verdict = live.then(|| conn.verdict())?;
        self.release(slot);
        Some(verdict)
    }

    /// Frees `slot`, whose connection ended (left where it lies, as the
    /// room of the next connection put there).
    fn release(&mut self, slot: usize) {
        let Slot { key, live, .. } = &mut self.slots[slot];
        if *live {
            self.by_key.remove(key);
            *live = false;
        }
        self.free.push(slot);
        if self.last_slot == Some(slot) {
            self.last_slot = None;
        }
    }

    /// Ends connections idle past the timeout, or closed past TIME-WAIT,
    /// looking only at the front of each queue (amortised O(1) a packet).
    #[inline(never)]
    fn expire(&mut self, now: u64) {
        let (time_wait, idle) = (self.time_wait(), self.config.idle_timeout_ns);
        while let Some(slot) = self.due(Queue::Closed, now, time_wait) {
            self.end(slot, EndReason::Closed);
        }
        while let Some(slot) = self.due(Queue::Open, now, idle) {
            self.end(slot, EndReason::Idle);
        }
        self.next_expiry = u64::MAX;
        let mut first_due = None;
        for (queue, limit) in [(Queue::Closed, time_wait), (Queue::Open, idle)] {
            if let Some((slot, _, queued_ns)) = self.front(queue) {
                if queued_ns.saturating_add(limit) < self.next_expiry {
                    first_due = Some(slot);
                }
                self.expiry_at_most(queued_ns, limit);
            }
        }
        if let Some(slot) = first_due {
            self.prefetch_slot(slot);
        }
    }

    /// Starts bringing `slot` (with its connection and the connection's
    /// Zeek model, which lie in it) into the cache, for a connection that
    /// may soon end (the front that the next call to
    /// [`expire`](Self::expire) looks at first): its verdict reads nearly
    /// all of it, long untouched (a closed connection waits 5 s), and the
    /// next connection started in its room writes it.
    fn prefetch_slot(&self, slot: usize) {
        synack_core::hint::prefetch(&self.slots[slot]);
    }

    /// Has the next packet look at the queues if `slot` is at the front of
    /// one: its connection is closing or ending, and the entry behind it may
    /// expire sooner.
    fn unsettle_front_of(&mut self, slot: usize) {
        let at_front = |queue: &Activity| queue.front().is_some_and(|&(s, _, _)| s == slot);
        if at_front(&self.open) || at_front(&self.closed) {
            self.next_expiry = 0;
        }
    }

    /// How long a closed connection is kept (never longer than an idle one).
    fn time_wait(&self) -> u64 {
        self.config.time_wait_ns.min(self.config.idle_timeout_ns)
    }

    /// Notes that a connection queued at `queued_ns` may expire `limit` later.
    fn expiry_at_most(&mut self, queued_ns: u64, limit: u64) {
        self.next_expiry = self.next_expiry.min(queued_ns.saturating_add(limit));
    }

    /// The slot of the connection at the front of `queue` if it has had no
    /// packet for `limit` at `now`. Stale entries are dropped on the way,
    /// and a connection seen since it was queued goes to the back.
    fn due(&mut self, queue: Queue, now: u64, limit: u64) -> Option<usize> {
        while let Some((slot, id, queued_ns)) = self.front(queue) {
            if now.saturating_sub(queued_ns) < limit {
                return None;
            }
            let last = self.requeue_front(queue, slot, id);
            if now.saturating_sub(last) >= limit {
                return Some(slot);
            }
        }
        None
    }

    /// The slot of the connection in `queue` quiet the longest.
    fn quietest(&mut self, queue: Queue) -> Option<usize> {
        while let Some((slot, id, queued_ns)) = self.front(queue) {
            if self.requeue_front(queue, slot, id) == queued_ns {
                return Some(slot);
            }
        }
        None
    }

    /// The front entry of `queue`, after dropping stale ones.
    fn front(&mut self, queue: Queue) -> Option<(usize, u64, u64)> {
        loop {
            let entry @ (slot, id, _) = *self.queue(queue).front()?;
            if self.is_queued_in(queue, slot, id) {
                return Some(entry);
            }
            self.queue(queue).pop_front();
        }
    }

    /// Moves the front entry of `queue` to the back with its connection's
    /// latest time, unless that time is the one queued (the entry is then
    /// dropped: its connection is about to end); returns that time.
    fn requeue_front(&mut self, queue: Queue, slot: usize, id: u64) -> u64 {
        let (_, _, queued_ns) = self.queue(queue).pop_front().expect("a front entry");
        let last = self.slots[slot].touched;
        if last != queued_ns {
            self.queue(queue).push_back((slot, id, last));
        }
        last
    }

    /// True when `slot` still holds connection `id`, and the connection
    /// belongs in `queue` (a connection that closed left the open queue).
    fn is_queued_in(&self, queue: Queue, slot: usize, id: u64) -> bool {
        match self.slots.get(slot) {
            Some(Slot { conn, live, .. }) if *live && conn.id() == id => {
                queue == Queue::Closed || !conn.is_closed()
            }
            _ => false,
        }
    }

    fn queue(&mut self, queue: Queue) -> &mut Activity {
        match queue {
            Queue::Open => &mut self.open,
            Queue::Closed => &mut self.closed,
        }
    }

    /// Ends one connection to make room: the closed one quiet the longest,
    /// or when none is closed, the open one idle the longest (as Linux drops
    /// TIME-WAIT sockets first when it has too many).
    fn evict_one(&mut self) {
        if let Some(slot) = self
            .quietest(Queue::Closed)
            .or_else(|| self.quietest(Queue::Open))
        {
            self.end(slot, EndReason::Evicted);
            // Looking for the quietest moved fronts to the back.
            self.next_expiry = 0;
        }
    }
}

/// Which of the tracker's activity queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Queue {
    Open,
    Closed,
}

/// Connections in order of (recorded) last activity: slot, connection id,
/// and the clock at its latest packet when queued. Entries whose slot has
/// since been reused, or whose connection has closed (in the open queue),
/// are stale.
type Activity = VecDeque<(usize, u64, u64)>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::HandshakeOptions;
    use crate::test_traffic::Rng;
    use std::net::{IpAddr, Ipv4Addr};
    use synack_core::flow::Endpoint;
    use synack_core::tcp::TcpFlags;

    /// Pseudo-random traffic on a dozen 4-tuples: handshakes, data, FINs,
    /// RSTs, new SYNs that reopen a tuple, and gaps past TIME-WAIT and the
    /// idle timeout, through a tracker of eight connections at most.
    fn traffic(packets: usize, seed: u64) -> Vec<(u64, Segment)> {
        const FLAGS: [u16; 8] = [
            TcpFlags::SYN,
            TcpFlags::SYN | TcpFlags::ACK,
            TcpFlags::ACK,
            TcpFlags::ACK | TcpFlags::PSH,
            TcpFlags::ACK | TcpFlags::PSH,
            TcpFlags::FIN | TcpFlags::ACK,
            TcpFlags::RST,
            TcpFlags::RST | TcpFlags::ACK,
        ];
        let mut rng = Rng(seed);
        let mut next = || rng.next_u64();
        let ep = |last, port| Endpoint {
            addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)),
            port,
        };
        // The next sequence number of each tuple's client and server.
        let mut seqs = [[1000u32, 5000u32]; 12];
        let mut ts = 1_000_000_000u64;
        (0..packets)
            .map(|_| {
                let r = next();
                ts += match r % 16 {
                    0 => 20_000_000,
                    1 => 70_000_000,
                    _ => 1_000_000,
                };
                let tuple = (r >> 8) as usize % seqs.len();
                let c2s = r >> 16 & 1 == 0;
                let flags = FLAGS[(r >> 20) as usize % FLAGS.len()];
                if flags == TcpFlags::SYN && r >> 24 & 3 == 0 {
                    seqs[tuple][0] = seqs[tuple][0].wrapping_add(100_000);
                }
                let (from, to) = if c2s { (0, 1) } else { (1, 0) };
                let payload_len = if flags & TcpFlags::PSH != 0 { 100 } else { 0 };
                let seq = seqs[tuple][from];
                let consumed =
                    payload_len + u32::from(flags & (TcpFlags::SYN | TcpFlags::FIN) != 0);
                seqs[tuple][from] = seq.wrapping_add(consumed);
                let (client, server) = (ep(1, 40000 + tuple as u16), ep(2, 80));
                let (src, dst) = if c2s {
                    (client, server)
                } else {
                    (server, client)
                };
                let seg = Segment {
                    src,
                    dst,
                    seq,
                    ack: seqs[tuple][to],
                    flags: TcpFlags(flags),
                    window: 1000,
                    payload_len,
                    options: HandshakeOptions::default(),
                    warnings: Default::default(),
                };
                (ts, seg)
            })
            .collect()
    }

    /// Runs a tracker as it is and one made to take a general path (by
    /// `to_general`, applied before each packet) over random traffic from
    /// `seed`, with short timeouts and a small cap, so that connections end
    /// in every way: both must annotate every packet, know the same of its
    /// connection, and end the same connections for the same reasons.
    /// `before` sees the first tracker and each packet before it is
    /// observed. Returns why each connection drained before the end ended.
    fn assert_tracks_alike(
        seed: u64,
        mut to_general: impl FnMut(&mut Tracker),
        mut before: impl FnMut(&Tracker, &Segment),
    ) -> Vec<EndReason> {
        let config = TrackerConfig {
            idle_timeout_ns: 60_000_000,
            time_wait_ns: 15_000_000,
            max_connections: 8,
            ..TrackerConfig::default()
        };
        let (mut fast, mut general) = (Tracker::new(config), Tracker::new(config));
        let mut reasons = Vec::new();
        for (frame, (ts, seg)) in (1..).zip(traffic(2000, seed)) {
            to_general(&mut general);
            before(&fast, &seg);
            assert_eq!(
                fast.observe(frame, ts, &seg, None),
                general.observe(frame, ts, &seg, None)
            );
            assert_eq!(fast.last_facts(), general.last_facts());
            let ended: Vec<_> = fast.drain_ended().collect();
            assert_eq!(ended, general.drain_ended().collect::<Vec<_>>());
            reasons.extend(ended.into_iter().map(|(_, why)| why));
        }
        assert_eq!(fast.finish(), general.finish());
        reasons
    }

    /// A reused 4-tuple's connection ending and the new one starting in
    /// its slot, under its key, annotate every packet and end every
    /// connection as ending it and starting one the general way do.
    #[test]
    fn reuse_ends_and_starts_connections_as_the_general_way_does() {
        let mut reused = 0;
        for seed in 1..40u64 {
            let reasons = assert_tracks_alike(
                seed.wrapping_mul(0x2545_f491_4f6c_dd1d),
                |general| general.reuse_by_end_and_start = true,
                |_, _| {},
            );
            reused += reasons
                .iter()
                .filter(|&&why| why == EndReason::Reused)
                .count();
        }
        assert!(reused > 100, "{reused}");
    }

    /// Finding the last packet's connection without the table annotates
    /// every packet and ends every connection as looking every key up in
    /// the table does.
    #[test]
    fn the_last_packets_connection_is_found_as_the_table_finds_it() {
        let mut found_again = 0;
        for seed in 1..40u64 {
            assert_tracks_alike(
                seed.wrapping_mul(0xbf58_476d_1ce4_e5b9),
                |general| general.find_by_hash_only = true,
                |fast, seg| {
                    let key = ConnKey::new(&seg.src, &seg.dst);
                    let last = fast.last_slot.is_some_and(|s| fast.slots[s].key == key);
                    found_again += u32::from(last);
                },
            );
        }
        // The last packet's connection was found again, often.
        assert!(found_again > 1000, "{found_again}");
    }

    /// Leaving the queues alone until `next_expiry` ends the same connections
    /// at the same packets, for the same reasons, as looking at the queues
    /// at every packet.
    #[test]
    fn next_expiry_ends_connections_as_checking_every_packet_does() {
        for seed in 1..40u64 {
            let reasons = assert_tracks_alike(
                seed.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                |general| general.next_expiry = 0,
                |_, _| {},
            );
            // The traffic ends connections in every way the test is about.
            for why in [
                EndReason::Closed,
                EndReason::Idle,
                EndReason::Evicted,
                EndReason::Reused,
            ] {
                assert!(reasons.contains(&why), "seed {seed}: no {why:?}");
            }
        }
    }
}
