//! Decoding and tracking allocate per connection, never per packet.
//!
//! A counting global allocator wraps the system one. Every capture of the
//! corpus and the fixtures is read into memory first (reading may allocate),
//! then fed packet by packet through a fresh [`Pipeline`], the way the
//! command line does, with the ended connections' verdicts drained after each
//! packet. Counting is switched on for this thread only (the test harness
//! runs others) and only around `process` and the drain.
//!
//! What a connection may allocate, and so the only packets that may:
//! * its first packet: the connection's slot in the tracker's tables;
//! * the packet that closes it (a RST, or the ACK of the second FIN): its
//!   entry in the tracker's queue of closed connections;
//! * a packet during which connections end (its own, or others expiring):
//!   the verdict (its history string) and the list of ended connections;
//! * a packet with payload: the Zeek model's reassembly ranges of that
//!   direction, allocated on the first range and doubled as holes add
//!   ranges, up to their cap of 64 (`zeek/reassembly.rs`): from 4 ranges
//!   (a `Vec` of 16-byte items starts at 4) that is at most 1 + 4 times per
//!   direction, however many packets it carries.
//!
//! Any other packet that allocates fails the test.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::collections::{HashMap, HashSet};

use synack_core::capture::{CaptureReader, LinkType, Packet};
use synack_dissector::annotation::{Annotation, Direction, TcpState};
use synack_dissector::pipeline::{Outcome, Pipeline};
use synack_dissector::tracker::TrackerConfig;

/// The system allocator, counting allocations made while this thread's flag is set.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note_allocation() {
    // `try_with`: the flag may be gone while the thread shuts down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations_in<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let value = f();
    COUNTING.with(|c| c.set(false));
    (value, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

/// A record read into memory, so that feeding it allocates nothing of the reader's.
struct Record {
    frame: u64,
    ts_ns: u64,
    link_type: LinkType,
    data: Vec<u8>,
    orig_len: u32,
}

fn read_all(path: &std::path::Path) -> Vec<Record> {
    let Ok(mut reader) = CaptureReader::open(path) else {
        return Vec::new();
    };
    let mut records = Vec::new();
    while let Some(Ok(p)) = reader.next_packet() {
        records.push(Record {
            frame: p.frame,
            ts_ns: p.ts_ns,
            link_type: p.link_type,
            data: p.data.to_vec(),
            orig_len: p.orig_len,
        });
    }
    records
}

/// Times the reassembly ranges of one direction may allocate (see above).
const RANGE_ALLOCATIONS_PER_DIRECTION: usize = 5;

/// What one packet did, as far as allocations may depend on it.
struct Step {
    /// The connection and direction of a TCP packet.
    conn: Option<(u64, Direction)>,
    /// It carried payload.
    payload: bool,
    /// Its connection is closed after it: a RST, or both FINs acknowledged
    /// (each endpoint CLOSED or TIME-WAIT).
    closed: bool,
    /// Connections that ended while it was processed.
    ended: usize,
}

/// True when the packet left its connection closed.
fn is_closed(annotation: &Annotation) -> bool {
    let done = |s: Option<TcpState>| matches!(s, Some(TcpState::Closed | TcpState::TimeWait));
    annotation.reset_kind.is_some()
        || (done(annotation.states.client) && done(annotation.states.server))
}

#[test]
fn allocations_are_per_connection_not_per_packet() {
    let captures = common::all_captures();
    assert!(
        captures.len() > 200,
        "the corpus (../shared/corpus) and fixtures must be there"
    );
    let (mut tcp_packets, mut connections, mut allocating) = (0usize, 0usize, 0usize);
    let mut unexplained = Vec::new();
    for path in &captures {
        let records = read_all(path);
        let mut pipeline = Pipeline::new(TrackerConfig::default(), true);
        let mut next_conn = 0u64;
        let mut closed_conns = HashSet::new();
        let mut payload_allocations: HashMap<(u64, Direction), usize> = HashMap::new();
        for r in &records {
            let packet = Packet {
                frame: r.frame,
                ts_ns: r.ts_ns,
                link_type: r.link_type,
                interface: 0,
                data: &r.data,
                orig_len: r.orig_len,
            };
            let (step, count) = allocations_in(|| {
                let (conn, payload, closed) = match pipeline.process(&packet) {
                    Outcome::Tcp { frame, annotation } => (
                        Some((annotation.conn, annotation.dir)),
                        frame.tcp.payload_len() > 0,
                        is_closed(&annotation),
                    ),
                    _ => (None, false, false),
                };
                let ended = pipeline.tracker().drain_ended().count();
                Step {
                    conn,
                    payload,
                    closed,
                    ended,
                }
            });
            let opened = step.conn.is_some_and(|(conn, _)| conn >= next_conn);
            let closed = match step.conn {
                Some((conn, _)) if step.closed => closed_conns.insert(conn),
                _ => false,
            };
            if let Some((conn, _)) = step.conn {
                tcp_packets += 1;
                next_conn = next_conn.max(conn + 1);
            }
            connections += usize::from(opened);
            if count == 0 {
                continue;
            }
            allocating += 1;
            let explained = opened
                || closed
                || step.ended > 0
                || match step.conn {
                    Some(side) if step.payload => {
                        let n = payload_allocations.entry(side).or_default();
                        *n += 1;
                        *n <= RANGE_ALLOCATIONS_PER_DIRECTION
                    }
                    _ => false,
                };
            if !explained {
                unexplained.push(format!(
                    "{} frame {}: {count} allocation(s)",
                    path.display(),
                    r.frame
                ));
            }
        }
    }
    eprintln!(
        "{} captures, {tcp_packets} TCP packets, {connections} connections, \
         {allocating} packets allocated",
        captures.len()
    );
    assert!(tcp_packets > 5000, "too few TCP packets: {tcp_packets}");
    assert!(
        unexplained.is_empty(),
        "packets that allocated without opening or ending a connection or \
         adding reassembly ranges:\n{}",
        unexplained.join("\n")
    );
}
