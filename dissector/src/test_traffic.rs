//! Pseudo-random traffic for the randomized tests that hold a shortcut to
//! its general path: a small deterministic generator (xorshift64:
//! reproducible, no dependency) and segments of one connection built with
//! it.

use std::net::{IpAddr, Ipv4Addr};

use synack_core::flow::Endpoint;
use synack_core::tcp::TcpFlags;

use crate::annotation::{Warning, Warnings};
use crate::segment::{HandshakeOptions, Segment};
use crate::seq;

/// xorshift64; the seed must not be 0.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next number.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True one time in `n`, on average.
    pub(crate) fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// A segment from `ends[0]` to `ends[1]` or back (now and then to
/// `ends[2]`, of another connection), at or near the sequence numbers each
/// side has reached (`next`, which it moves on), so that data is repeated,
/// skipped and acknowledged, and SYNs, FINs and RSTs come at every point;
/// now and then with any flags, a zero window or a payload cut by the
/// capture.
pub(crate) fn random_segment(rng: &mut Rng, next: &mut [u32; 2], ends: [Endpoint; 3]) -> Segment {
    const A: u16 = TcpFlags::ACK;
    const S: u16 = TcpFlags::SYN;
    const F: u16 = TcpFlags::FIN;
    const R: u16 = TcpFlags::RST;
    const FLAGS: [u16; 10] = [A, A, A, A, 0, S, S | A, F | A, R | A, R];
    let from = rng.below(2) as usize;
    let mut flags = FLAGS[rng.below(FLAGS.len() as u64) as usize];
    if rng.one_in(40) {
        flags = rng.below(64) as u16;
    }
    let len = match rng.below(4) {
        0 | 1 => 0,
        2 => 1 + rng.below(1460) as u32,
        _ => rng.below(70_000) as u32,
    };
    let mut seq = next[from];
    match rng.below(10) {
        0 => seq = seq.wrapping_sub(rng.below(3000) as u32),
        1 => seq = seq.wrapping_add(rng.below(20_000) as u32),
        2 if rng.one_in(4) => seq = rng.below(1 << 32) as u32,
        _ => {}
    }
    let mut ack = next[from ^ 1];
    match rng.below(8) {
        0 => ack = ack.wrapping_sub(rng.below(3000) as u32),
        1 => ack = ack.wrapping_add(rng.below(3000) as u32),
        2 if rng.one_in(4) => ack = rng.below(1 << 32) as u32,
        _ => {}
    }
    if seq::after(seq.wrapping_add(len), next[from]) {
        next[from] = seq.wrapping_add(len);
    }
    let (src, mut dst) = (ends[from], ends[from ^ 1]);
    if rng.one_in(100) {
        // Not of this connection.
        dst = ends[2];
    }
    let mut warnings = Warnings::default();
    if rng.one_in(20) {
        warnings.insert(Warning::Truncated);
    }
    Segment {
        window: if rng.one_in(20) { 0 } else { 1000 },
        warnings,
        ..segment(src, dst, flags, seq, ack, len)
    }
}

/// Host `host` of 10.0.0.0/24, port `port`.
pub(crate) fn endpoint(host: u8, port: u16) -> Endpoint {
    Endpoint {
        addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, host)),
        port,
    }
}

/// A segment from `src` to `dst`: window 1000, no options, no warnings.
pub(crate) fn segment(
    src: Endpoint,
    dst: Endpoint,
    flags: u16,
    seq: u32,
    ack: u32,
    len: u32,
) -> Segment {
    Segment {
        src,
        dst,
        seq,
        ack,
        flags: TcpFlags(flags),
        window: 1000,
        payload_len: len,
        options: HandshakeOptions::default(),
        warnings: Warnings::default(),
    }
}
