//! The tracker on hand-built exchanges, with the expected roles and states
//! reasoned from RFC 9293 in each test (see docs/states.md for the rule).

use std::net::{IpAddr, Ipv4Addr};

use synack_core::flow::Endpoint;
use synack_core::tcp::TcpFlags;
use synack_dissector::annotation::{Annotation, ResetKind, Role, TcpState};
use synack_dissector::segment::{HandshakeOptions, Segment};
use synack_dissector::tracker::{EndReason, Tracker, TrackerConfig};
use synack_dissector::verdict::{CloseKind, OpenKind, Side};

use TcpState::*;

const S: u16 = TcpFlags::SYN;
const A: u16 = TcpFlags::ACK;
const F: u16 = TcpFlags::FIN;
const R: u16 = TcpFlags::RST;
const P: u16 = TcpFlags::PSH;

fn ep(last: u8, port: u16) -> Endpoint {
    Endpoint {
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)),
        port,
    }
}

/// A scripted exchange between a client (192.0.2.1:40000) and a server (192.0.2.2:80).
struct Script {
    tracker: Tracker,
    frame: u64,
    ts: u64,
}

impl Script {
    fn new() -> Script {
        Script::with(TrackerConfig::default())
    }
    fn with(config: TrackerConfig) -> Script {
        Script {
            tracker: Tracker::new(config),
            frame: 0,
            ts: 1_000_000_000,
        }
    }
    /// A segment from the client (`c2s`) or the server.
    fn send(&mut self, c2s: bool, flags: u16, seq: u32, ack: u32, len: u32) -> Annotation {
        self.frame += 1;
        self.ts += 1_000_000; // 1 ms apart
        let seg = Segment {
            payload_len: len,
            options: HandshakeOptions {
                mss: (flags & S != 0).then_some(1460),
                ..HandshakeOptions::default()
            },
            ..segment(c2s, 40000, flags, seq, ack)
        };
        self.tracker.observe(self.frame, self.ts, &seg, None)
    }
}

/// A segment between a client on `port` of 192.0.2.1 and 192.0.2.2:80.
fn segment(c2s: bool, port: u16, flags: u16, seq: u32, ack: u32) -> Segment {
    let (src, dst) = if c2s {
        (ep(1, port), ep(2, 80))
    } else {
        (ep(2, 80), ep(1, port))
    };
    Segment {
        src,
        dst,
        seq,
        ack,
        flags: TcpFlags(flags),
        window: 1000,
        payload_len: 0,
        options: HandshakeOptions::default(),
        warnings: Default::default(),
    }
}

fn states(a: &Annotation) -> (Option<TcpState>, Option<TcpState>) {
    (a.states.client, a.states.server)
}

#[test]
fn complete_exchange_client_closes_first() {
    let mut s = Script::new();
    // Client ISN 100, server ISN 500.
    let syn = s.send(true, S, 100, 0, 0);
    assert_eq!(syn.role, Some(Role::Handshake1));
    // The SYN's receiver stays LISTEN until it answers.
    assert_eq!(states(&syn), (Some(SynSent), Some(Listen)));
    let synack = s.send(false, S | A, 500, 101, 0);
    assert_eq!(synack.role, Some(Role::Handshake2));
    // The client enters ESTABLISHED on receipt of an acceptable SYN-ACK.
    assert_eq!(states(&synack), (Some(Established), Some(SynReceived)));
    let ack = s.send(true, A, 101, 501, 0);
    assert_eq!(ack.role, Some(Role::Handshake3));
    assert_eq!(states(&ack), (Some(Established), Some(Established)));
    let data = s.send(true, A | P, 101, 501, 10);
    assert_eq!(data.role, None);
    let data_ack = s.send(false, A, 501, 111, 0);
    assert_eq!(data_ack.role, None);
    // Client FIN at 111: the active close.
    let fin1 = s.send(true, F | A, 111, 501, 0);
    assert_eq!(fin1.role, Some(Role::Teardown1));
    assert_eq!(states(&fin1), (Some(FinWait1), Some(CloseWait)));
    // The server's ACK of that FIN (ack 112).
    let ack1 = s.send(false, A, 501, 112, 0);
    assert_eq!(ack1.role, Some(Role::Teardown2));
    assert_eq!(states(&ack1), (Some(FinWait2), Some(CloseWait)));
    // The server's FIN: the passive close.
    let fin2 = s.send(false, F | A, 501, 112, 0);
    assert_eq!(fin2.role, Some(Role::Teardown3));
    assert!(fin2.combines.is_empty());
    assert_eq!(states(&fin2), (Some(TimeWait), Some(LastAck)));
    let ack2 = s.send(true, A, 112, 502, 0);
    assert_eq!(ack2.role, Some(Role::Teardown4));
    assert_eq!(states(&ack2), (Some(TimeWait), Some(Closed)));

    let verdicts = s.tracker.finish();
    let (v, why) = &verdicts[0];
    assert_eq!(*why, EndReason::CaptureEnd);
    assert_eq!(v.facts.open, OpenKind::ThreeWay);
    assert_eq!(v.facts.close, CloseKind::Fin);
    assert_eq!(v.facts.active_closer, Some(Side::Client));
    // SYN at 1 ms, SYN-ACK at 2 ms, ACK at 3 ms.
    assert_eq!(v.facts.rtt_syn_synack_us, Some(1000));
    assert_eq!(v.facts.rtt_synack_ack_us, Some(1000));
    assert_eq!(v.facts.client_options.mss, Some(1460));
    // Wireshark: SYN, SYN-ACK, ACK, DATA, FIN = 31.
    assert_eq!(v.completeness, 31);
    assert_eq!((v.c2s.packets, v.s2c.packets), (5, 4));
    assert_eq!((v.c2s.bytes, v.s2c.bytes), (10, 0));
}

#[test]
fn passive_fin_that_also_acks_combines_teardown_2() {
    let mut s = Script::new();
    s.send(true, S, 100, 0, 0);
    s.send(false, S | A, 500, 101, 0);
    s.send(true, A, 101, 501, 0);
    s.send(false, F | A, 501, 101, 0); // server closes first
                                       // The client's FIN acknowledges the server's FIN (ack 502) in the same segment.
    let fin = s.send(true, F | A, 101, 502, 0);
    assert_eq!(fin.role, Some(Role::Teardown3));
    assert!(fin.combines.contains(Role::Teardown2));
    // The client received the FIN first and sent its own: LAST-ACK.
    assert_eq!(fin.states.client, Some(LastAck));
    let last = s.send(false, A, 502, 102, 0);
    assert_eq!(last.role, Some(Role::Teardown4));
    assert_eq!(states(&last), (Some(Closed), Some(TimeWait)));
    let (v, _) = &s.tracker.finish()[0];
    assert_eq!(v.facts.active_closer, Some(Side::Server));
}

#[test]
fn refused_connection() {
    let mut s = Script::new();
    s.send(true, S, 100, 0, 0);
    let rst = s.send(false, R | A, 0, 101, 0);
    assert_eq!(rst.role, Some(Role::Reset));
    assert_eq!(rst.reset_kind, Some(ResetKind::Refused));
    assert_eq!(states(&rst), (Some(Closed), Some(Closed)));
    let (v, _) = &s.tracker.finish()[0];
    assert_eq!(v.facts.open, OpenKind::Incomplete);
    assert_eq!(v.facts.close, CloseKind::Reset);
    // First packet pure SYN: 1. The RST carries ACK without SYN or payload, so
    // Wireshark counts it as a pure ACK (4) as well as a RST (32).
    assert_eq!(v.completeness, 37);
}

#[test]
fn syn_retransmissions_keep_their_role() {
    let mut s = Script::new();
    s.send(true, S, 100, 0, 0);
    let again = s.send(true, S, 100, 0, 0);
    assert_eq!(again.role, Some(Role::Handshake1));
    assert!(again.retransmission);
    let synack = s.send(false, S | A, 500, 101, 0);
    assert!(!synack.retransmission);
    let synack_again = s.send(false, S | A, 500, 101, 0);
    assert!(synack_again.retransmission);
    let (v, _) = &s.tracker.finish()[0];
    assert_eq!(v.syn_retransmissions, 1);
    // RTT from the latest SYN (frame 2 at 2 ms) to the first SYN-ACK (3 ms).
    assert_eq!(v.facts.rtt_syn_synack_us, Some(1000));
}

#[test]
fn abort_and_after_close_resets() {
    let mut s = Script::new();
    s.send(true, S, 100, 0, 0);
    s.send(false, S | A, 500, 101, 0);
    s.send(true, A, 101, 501, 0);
    let abort = s.send(true, R | A, 101, 501, 0);
    assert_eq!(abort.reset_kind, Some(ResetKind::Abort));

    let mut s = Script::new();
    s.send(true, S, 100, 0, 0);
    s.send(false, S | A, 500, 101, 0);
    s.send(true, A, 101, 501, 0);
    s.send(true, F | A, 101, 501, 0);
    let rst = s.send(false, R, 501, 0, 0);
    assert_eq!(rst.reset_kind, Some(ResetKind::AfterClose));
}

#[test]
fn simultaneous_open() {
    let mut s = Script::new();
    let a = s.send(true, S, 100, 0, 0);
    let b = s.send(false, S, 500, 0, 0);
    assert_eq!(
        (a.role, b.role),
        (Some(Role::Handshake1), Some(Role::Handshake1))
    );
    let a2 = s.send(true, S | A, 100, 501, 0);
    let b2 = s.send(false, S | A, 500, 101, 0);
    assert_eq!(
        (a2.role, b2.role),
        (Some(Role::Handshake2), Some(Role::Handshake2))
    );
    assert!(!a2.retransmission && !b2.retransmission);
    // The SYN-ACKs acknowledge the SYNs: no packet is handshake-3.
    let ack = s.send(true, A, 101, 501, 0);
    assert_eq!(ack.role, None);
    let (v, _) = &s.tracker.finish()[0];
    assert_eq!(v.facts.open, OpenKind::Simultaneous);
}

#[test]
fn simultaneous_close() {
    let mut s = Script::new();
    s.send(true, S, 100, 0, 0);
    s.send(false, S | A, 500, 101, 0);
    s.send(true, A, 101, 501, 0);
    // Both FINs are sent before either has the other's: neither acks the other's FIN.
    let f1 = s.send(true, F | A, 101, 501, 0);
    let f2 = s.send(false, F | A, 501, 101, 0);
    assert_eq!(
        (f1.role, f2.role),
        (Some(Role::Teardown1), Some(Role::Teardown1))
    );
    // The second FIN's sender has not received the first: FIN-WAIT-1.
    assert_eq!(f2.states.server, Some(FinWait1));
    // Each ACK of a crossing FIN is teardown-2 and leaves its sender in CLOSING
    // (its own FIN is not yet acknowledged).
    let a1 = s.send(true, A, 102, 502, 0);
    assert_eq!(a1.role, Some(Role::Teardown2));
    assert_eq!(a1.states.client, Some(Closing));
    let a2 = s.send(false, A, 502, 102, 0);
    assert_eq!(a2.role, Some(Role::Teardown2));
    // The server's FIN is now acked: TIME-WAIT; the client got its ACK: TIME-WAIT.
    assert_eq!(states(&a2), (Some(TimeWait), Some(TimeWait)));
    let (v, _) = &s.tracker.finish()[0];
    assert_eq!(v.facts.close, CloseKind::Simultaneous);
}

#[test]
fn half_close_is_followed_to_the_end() {
    let mut s = Script::new();
    s.send(true, S, 100, 0, 0);
    s.send(false, S | A, 500, 101, 0);
    s.send(true, A, 101, 501, 0);
    let fin = s.send(true, F | A, 101, 501, 0);
    assert_eq!(fin.role, Some(Role::Teardown1));
    // The server goes on sending data after the client's FIN, acknowledging it once.
    let d1 = s.send(false, A | P, 501, 102, 100);
    assert_eq!(d1.role, Some(Role::Teardown2));
    assert_eq!(d1.states.server, Some(CloseWait));
    let d2 = s.send(false, A | P, 601, 102, 100);
    assert_eq!(
        d2.role, None,
        "a duplicate acknowledgment of the FIN gets no role"
    );
    let ack = s.send(true, A, 102, 701, 0);
    assert_eq!(ack.role, None);
    assert_eq!(ack.states.client, Some(FinWait2));
    let fin2 = s.send(false, F | A, 701, 102, 0);
    assert_eq!(fin2.role, Some(Role::Teardown3));
    let last = s.send(true, A, 102, 702, 0);
    assert_eq!(last.role, Some(Role::Teardown4));
    let (v, _) = &s.tracker.finish()[0];
    assert_eq!(v.s2c.bytes, 200);
}

#[test]
fn midstream_pickup_uses_port_numbers() {
    let mut s = Script::new();
    // The first packet seen is the server's data: the higher port is the client.
    let a = s.send(false, A | P, 501, 101, 10);
    assert_eq!(a.dir.name(), "s2c");
    assert_eq!(a.role, None);
    // Only the sender's state is known.
    assert_eq!(states(&a), (None, Some(Established)));
    let (v, _) = &s.tracker.finish()[0];
    assert_eq!(v.facts.open, OpenKind::Midstream);
    assert_eq!(v.client.port, 40000);
}

#[test]
fn a_new_isn_on_the_same_ports_starts_a_new_connection() {
    let mut s = Script::new();
    s.send(true, S, 100, 0, 0);
    s.send(false, R | A, 0, 101, 0);
    let again = s.send(true, S, 9000, 0, 0);
    assert_eq!(again.conn, 1);
    assert!(!again.retransmission);
    let ended: Vec<_> = s.tracker.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].1, EndReason::Reused);
}

#[test]
fn a_million_syn_only_connections_stay_under_the_cap() {
    let cap = 10_000;
    let mut tracker = Tracker::new(TrackerConfig {
        max_connections: cap,
        ..TrackerConfig::default()
    });
    let mut ended = 0usize;
    for i in 0..1_000_000u32 {
        let seg = Segment {
            src: Endpoint {
                addr: IpAddr::V4(Ipv4Addr::from(0xC000_0200 + (i >> 16))),
                port: (i & 0xFFFF) as u16,
            },
            dst: ep(2, 80),
            seq: i,
            ack: 0,
            flags: TcpFlags(S),
            window: 1000,
            payload_len: 0,
            options: HandshakeOptions::default(),
            warnings: Default::default(),
        };
        // 1 µs apart: well inside the idle timeout, so only the cap bounds the table.
        tracker.observe(u64::from(i) + 1, 1_000 * u64::from(i), &seg, None);
        assert!(tracker.len() <= cap);
        ended += tracker.drain_ended().count();
    }
    // Every connection got a verdict: evicted ones during the run, the rest at the end.
    ended += tracker.finish().len();
    assert_eq!(ended, 1_000_000);
}

const MS: u64 = 1_000_000;

#[test]
fn a_closed_connection_ends_after_time_wait_even_behind_an_idle_open_one() {
    let config = TrackerConfig::default();
    let mut tracker = Tracker::new(config);
    // Connection 0 opens first and stays open (idle timeout: 300 s).
    tracker.observe(1, MS, &segment(true, 40001, S, 100, 0), None);
    // Connection 1 is refused: closed by the RST at 3 ms.
    tracker.observe(2, 2 * MS, &segment(true, 40002, S, 200, 0), None);
    tracker.observe(3, 3 * MS, &segment(false, 40002, R | A, 0, 201), None);
    // Just short of TIME-WAIT after the RST nothing ends ...
    tracker.advance(3 * MS + config.time_wait_ns - 1);
    assert_eq!(tracker.drain_ended().count(), 0);
    // ... and at TIME-WAIT the refused one does, though the open one was queued before it.
    tracker.advance(3 * MS + config.time_wait_ns);
    let ended: Vec<_> = tracker.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!((ended[0].0.conn, ended[0].1), (1, EndReason::Closed));
    assert_eq!(tracker.len(), 1);
}

#[test]
fn a_full_table_evicts_a_closed_connection_before_an_idle_open_one() {
    let mut tracker = Tracker::new(TrackerConfig {
        max_connections: 2,
        ..TrackerConfig::default()
    });
    // Connection 0 is open and the longest idle; connection 1 is refused later.
    tracker.observe(1, MS, &segment(true, 40001, S, 100, 0), None);
    tracker.observe(2, 2 * MS, &segment(true, 40002, S, 200, 0), None);
    tracker.observe(3, 3 * MS, &segment(false, 40002, R | A, 0, 201), None);
    // A third connection needs room: the closed one makes it, not the open one.
    tracker.observe(4, 4 * MS, &segment(true, 40003, S, 300, 0), None);
    let ended: Vec<_> = tracker.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!((ended[0].0.conn, ended[0].1), (1, EndReason::Evicted));
    // With no closed connection left, the longest idle open one goes next.
    tracker.observe(5, 5 * MS, &segment(true, 40004, S, 400, 0), None);
    let ended: Vec<_> = tracker.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!((ended[0].0.conn, ended[0].1), (0, EndReason::Evicted));
}
