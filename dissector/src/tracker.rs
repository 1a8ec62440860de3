//! The connection table: finds each packet's connection, starts and ends
//! connections, and bounds memory with timeouts and a cap.
//!
//! A pure state machine over (frame number, timestamp, segment): no I/O and no
//! clock of its own, so a file, a live interface, the C ABI and Wireshark drive
//! it the same way.

use std::collections::{HashMap, VecDeque};

use rustc_hash::FxBuildHasher;
use synack_core::flow::FlowKey;

use crate::annotation::Annotation;
use crate::connection::Connection;
use crate::segment::Segment;
use crate::verdict::{ConnectionFacts, Verdict};
use crate::zeek::{ZeekConfig, DEFAULT_LIKELY_SERVER_PORTS};

/// Limits on what the tracker keeps.
#[derive(Clone, Copy, Debug)]
pub struct TrackerConfig {
    /// A connection with no packet for this long ends (ns).
    pub idle_timeout_ns: u64,
    /// A closed connection (both FINs acknowledged, or a RST) ends this long after its last packet (ns).
    pub time_wait_ns: u64,
    /// The most connections tracked at once; past it the longest idle one ends.
    pub max_connections: usize,
    /// How Zeek's history and conn_state are computed (its `likely_server_ports`);
    /// `None` leaves Zeek's model out, and verdicts carry an empty conn_state
    /// and history: for a front end that shows no verdict's state, which saves
    /// over half of a connection's memory and a sixth of a packet's time.
    pub zeek: Option<ZeekConfig>,
}

impl Default for TrackerConfig {
    /// 5 minutes idle (Zeek's `tcp_inactivity_timeout`), 60 s TIME-WAIT (Linux's),
    /// 65536 connections, Zeek's default likely server ports.
    fn default() -> Self {
        TrackerConfig {
            idle_timeout_ns: 300_000_000_000,
            time_wait_ns: 60_000_000_000,
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
    by_key: HashMap<FlowKey, usize, FxBuildHasher>,
    slots: Vec<Option<(FlowKey, Connection)>>,
    /// For each slot, the clock at its connection's latest packet.
    touched: Vec<u64>,
    free: Vec<usize>,
    /// The capture's clock: the latest timestamp seen, so that time never runs
    /// backwards for expiry even when a capture's timestamps do.
    clock: u64,
    /// Connections in order of (recorded) last activity: slot, connection id, and
    /// the clock at its latest packet when queued. Entries whose slot has since
    /// been reused are stale.
    activity: VecDeque<(usize, u64, u64)>,
    next_id: u64,
    last_slot: Option<usize>,
    ended: Vec<(Verdict, EndReason)>,
}

impl Tracker {
    /// A tracker with the given limits.
    pub fn new(config: TrackerConfig) -> Tracker {
        Tracker {
            config,
            by_key: HashMap::with_hasher(FxBuildHasher),
            slots: Vec::new(),
            touched: Vec::new(),
            free: Vec::new(),
            clock: 0,
            activity: VecDeque::new(),
            next_id: 0,
            last_slot: None,
            ended: Vec::new(),
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
        let (key, _) = FlowKey::new(seg.src, seg.dst);
        let slot = match self.by_key.get(&key).copied() {
            Some(slot) if self.connection(slot).is_reopened_by(seg) => {
                self.end(slot, EndReason::Reused);
                self.start(key, frame, ts_ns, seg)
            }
            Some(slot) => slot,
            None => self.start(key, frame, ts_ns, seg),
        };
        self.last_slot = Some(slot);
        self.touched[slot] = self.clock;
        let conn = &mut self.slots[slot].as_mut().expect("slot in use").1;
        conn.observe(frame, ts_ns, seg, checksum_ok)
    }

    /// Lets time pass to `now_ns` without a packet of a tracked connection
    /// (e.g. a packet another shard tracks): idle and closed connections end.
    pub fn advance(&mut self, now_ns: u64) {
        self.clock = self.clock.max(now_ns);
        self.expire(self.clock);
    }

    /// What is known of the last packet's connection.
    pub fn last_facts(&self) -> Option<ConnectionFacts> {
        self.last_slot
            .and_then(|s| self.slots.get(s)?.as_ref())
            .map(|(_, c)| c.facts())
    }

    /// Verdicts of connections that ended, oldest first, with why they ended.
    pub fn drain_ended(&mut self) -> std::vec::Drain<'_, (Verdict, EndReason)> {
        self.ended.drain(..)
    }

    /// Ends every connection (the capture is over); their verdicts, and any not
    /// yet drained, come out in connection order.
    pub fn finish(&mut self) -> Vec<(Verdict, EndReason)> {
        let mut all = std::mem::take(&mut self.ended);
        all.reserve(self.by_key.len());
        let live: Vec<usize> = self.by_key.values().copied().collect();
        for slot in live {
            if let Some(verdict) = self.take(slot) {
                all.push((verdict, EndReason::CaptureEnd));
            }
        }
        // Connection numbers are unique: an unstable sort needs no scratch copy.
        all.sort_unstable_by_key(|(v, _)| v.conn);
        all
    }

    fn connection(&self, slot: usize) -> &Connection {
        &self.slots[slot].as_ref().expect("slot in use").1
    }

    fn start(&mut self, key: FlowKey, frame: u64, ts_ns: u64, seg: &Segment) -> usize {
        if self.by_key.len() >= self.config.max_connections {
            self.evict_one();
        }
        let conn = Connection::new(self.next_id, frame, ts_ns, seg, self.config.zeek.as_ref());
        self.next_id += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some((key, conn));
                self.touched[slot] = self.clock;
                slot
            }
            None => {
                self.slots.push(Some((key, conn)));
                self.touched.push(self.clock);
                self.slots.len() - 1
            }
        };
        self.by_key.insert(key, slot);
        self.activity
            .push_back((slot, self.next_id - 1, self.clock));
        slot
    }

    fn end(&mut self, slot: usize, reason: EndReason) {
        if let Some(verdict) = self.take(slot) {
            self.ended.push((verdict, reason));
        }
    }

    /// Frees `slot` and gives its connection's verdict, if it holds one.
    fn take(&mut self, slot: usize) -> Option<Verdict> {
        let (key, conn) = self.slots[slot].take()?;
        self.by_key.remove(&key);
        self.free.push(slot);
        if self.last_slot == Some(slot) {
            self.last_slot = None;
        }
        Some(conn.verdict())
    }

    /// Ends connections idle past the timeout, or closed past TIME-WAIT, looking
    /// only at the front of the activity queue (amortised O(1) a packet).
    fn expire(&mut self, now: u64) {
        while let Some(&(slot, id, queued_ns)) = self.activity.front() {
            let Some(conn) = self.live(slot, id) else {
                self.activity.pop_front();
                continue;
            };
            let (closed, last) = (conn.is_closed(), self.touched[slot]);
            let limit = if closed {
                self.config.time_wait_ns.min(self.config.idle_timeout_ns)
            } else {
                self.config.idle_timeout_ns
            };
            if now.saturating_sub(queued_ns) < limit {
                return;
            }
            self.activity.pop_front();
            if now.saturating_sub(last) >= limit {
                let reason = if closed {
                    EndReason::Closed
                } else {
                    EndReason::Idle
                };
                self.end(slot, reason);
            } else {
                self.activity.push_back((slot, id, last));
            }
        }
    }

    /// The connection in `slot`, if it is still connection `id`.
    fn live(&self, slot: usize, id: u64) -> Option<&Connection> {
        match self.slots.get(slot)? {
            Some((_, conn)) if conn.id() == id => Some(conn),
            _ => None,
        }
    }

    /// Ends the connection idle the longest: the first in the activity queue
    /// whose recorded time is current (the queue is in clock order, and an
    /// entry gone stale is queued again with its connection's latest time).
    fn evict_one(&mut self) {
        while let Some((slot, id, queued_ns)) = self.activity.pop_front() {
            if self.live(slot, id).is_none() {
                continue;
            }
            let last = self.touched[slot];
            if last == queued_ns {
                self.end(slot, EndReason::Evicted);
                return;
            }
            self.activity.push_back((slot, id, last));
        }
    }
}
