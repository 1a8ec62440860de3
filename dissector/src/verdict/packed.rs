//! Verdicts packed into a few dozen bytes each, for the verdicts `conns
//! --format json` keeps until they can be written in connection order (one
//! long connection holds back every later one; a whole capture's worth may
//! wait).
//!
//! The bytes: eight bytes of flags and small fields (which options are
//! there, the kinds, the states, the roles), then the numbers as LEB128
//! varints (frames and times after the first as wrapping differences from
//! it, which are small), the addresses and ports as they are, and the
//! history and labels as length and text. Hand-written, because the
//! verdict's types (the core crate's `Endpoint` among them) have no serde
//! derives to hand a binary format, and the format is this module's only.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use synack_core::flow::Endpoint;

use super::{CloseKind, ConnectionFacts, Counters, History, OpenKind, Side, SideOptions, Verdict};
use crate::annotation::{EndpointStates, Role, RoleSet, TcpState};

/// Verdicts packed one after another in chunks, until they are shown; the
/// oldest chunks are freed once every verdict in them has been taken out
/// (verdicts end roughly in the order they are shown). A verdict
/// costs its bytes (about 73 for IPv4) and its [`Packed`] place, not an
/// allocation of its own.
#[derive(Debug, Default)]
pub struct PackedVerdicts {
    /// The chunks, oldest first.
    chunks: VecDeque<Chunk>,
    /// The number of `chunks[0]` (chunks are numbered as they are made,
    /// wrapping).
    first: u32,
    /// Room to pack a verdict in before it is copied into a chunk.
    scratch: Vec<u8>,
}

#[derive(Debug)]
struct Chunk {
    bytes: Vec<u8>,
    /// Verdicts in it not yet taken out.
    live: u32,
}

/// Where [`PackedVerdicts::pack`] put a verdict, to take it out of the
/// same store.
#[derive(Debug)]
pub struct Packed(Place);

#[derive(Debug)]
enum Place {
    /// At `start` in chunk number `chunk`.
    Bytes { chunk: u32, start: u32 },
    /// A verdict whose `conn_state` is none of [`CONN_STATES`] (which the
    /// bytes name by number), kept whole.
    Whole(Box<Verdict>),
}

/// A chunk's room (a longer verdict has a chunk of its own size).
const CHUNK_LEN: usize = 64 * 1024;

impl PackedVerdicts {
    /// Packs `v`; where it is, to take it out.
    pub fn pack(&mut self, v: Verdict) -> Packed {
        let Some(state) = CONN_STATES.iter().position(|&s| s == v.conn_state) else {
            return Packed(Place::Whole(Box::new(v)));
        };
        self.scratch.clear();
        pack(&v, state as u8, &mut self.scratch);
        let len = self.scratch.len();
        let fits = |c: &Chunk| c.bytes.capacity() - c.bytes.len() >= len;
        if !self.chunks.back().is_some_and(fits) {
            self.chunks.push_back(Chunk {
                bytes: Vec::with_capacity(CHUNK_LEN.max(len)),
                live: 0,
            });
        }
        let index = self.chunks.len() - 1;
        let chunk = self.chunks.back_mut().expect("a chunk with room");
        let start = u32::try_from(chunk.bytes.len()).expect("a chunk under 4 GiB");
        chunk.bytes.extend_from_slice(&self.scratch);
        chunk.live += 1;
        Packed(Place::Bytes {
            chunk: self.first.wrapping_add(index as u32),
            start,
        })
    }

    /// Takes the verdict at `at` out, and frees the oldest chunks if it was
    /// the last in them.
    pub fn unpack(&mut self, at: Packed) -> Verdict {
        let (chunk, start) = match at.0 {
            Place::Bytes { chunk, start } => (chunk, start),
            Place::Whole(v) => return *v,
        };
        let chunk = &mut self.chunks[chunk.wrapping_sub(self.first) as usize];
        let v = unpack(&chunk.bytes[start as usize..]);
        chunk.live -= 1;
        while self.chunks.front().is_some_and(|c| c.live == 0) {
            self.chunks.pop_front();
            self.first = self.first.wrapping_add(1);
        }
        v
    }
}

/// Every `conn_state` a verdict carries: Zeek's, and "" without Zeek's model.
const CONN_STATES: [&str; 14] = [
    "", "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
];

/// Bits of the first byte (as `pack` sets them): the client's address is IPv6.
const CLIENT_V6: u8 = 1;
/// The server's address is IPv6.
const SERVER_V6: u8 = 1 << 1;
/// There is an RTT from SYN to SYN-ACK.
const RTT_SYN_SYNACK: u8 = 1 << 2;
/// There is an RTT from SYN-ACK to ACK.
const RTT_SYNACK_ACK: u8 = 1 << 3;
/// The client offered an MSS (the server's: `<< 2`).
const CLIENT_MSS: u8 = 1 << 4;
/// The client offered a window scale (the server's: `<< 2`).
const CLIENT_WSCALE: u8 = 1 << 5;

/// Appends `v`'s bytes to `out`.
fn pack(v: &Verdict, conn_state: u8, out: &mut Vec<u8>) {
    let f = &v.facts;
    let (c, s) = (&f.client_options, &f.server_options);
    let flags = flag_bits([
        v.client.addr.is_ipv6(),
        v.server.addr.is_ipv6(),
        f.rtt_syn_synack_us.is_some(),
        f.rtt_synack_ack_us.is_some(),
        c.mss.is_some(),
        c.wscale.is_some(),
        s.mss.is_some(),
        s.wscale.is_some(),
    ]);
    let closer = f.active_closer.map_or(0, |side| side as u8 + 1);
    let p = &mut Packer(out);
    p.0.extend_from_slice(&[
        flags,
        f.open as u8 | (f.close as u8) << 3 | closer << 6,
        flag_bits([
            c.sack_permitted,
            c.timestamps,
            s.sack_permitted,
            s.timestamps,
        ]),
        v.completeness,
        conn_state,
        state_number(v.final_states.client) | state_number(v.final_states.server) << 4,
        v.roles_seen.bits(),
        flag_bits(v.role_frames.map(|f| f.is_some())),
    ]);
    p.number(v.conn);
    p.number(v.first_frame);
    p.number(v.last_frame.wrapping_sub(v.first_frame));
    p.0.extend_from_slice(&v.start_ns.to_le_bytes());
    p.number(v.end_ns.wrapping_sub(v.start_ns));
    for counters in [v.c2s, v.s2c] {
        p.number(counters.packets);
        p.number(counters.bytes);
    }
    p.number(u64::from(v.syn_retransmissions));
    for n in [f.rtt_syn_synack_us, f.rtt_synack_ack_us]
        .into_iter()
        .flatten()
    {
        p.number(n);
    }
    for o in [c, s] {
        if let Some(mss) = o.mss {
            p.number(u64::from(mss));
        }
        p.0.extend(o.wscale);
    }
    p.endpoint(v.client);
    p.endpoint(v.server);
    for frame in v.role_frames.into_iter().flatten() {
        p.number(frame.wrapping_sub(v.first_frame));
    }
    p.text(v.history.as_bytes());
    p.number(v.labels.len() as u64);
    for (name, value) in &v.labels {
        p.text(name.as_bytes());
        p.text(value.as_bytes());
    }
}

/// The verdict whose bytes `bytes` begin with.
fn unpack(bytes: &[u8]) -> Verdict {
    let (head, rest) = bytes.split_at(8);
    let &[flags, kinds, bools, completeness, conn_state, final_states, roles, framed] = head else {
        unreachable!("split at 8")
    };
    let mut u = Unpacker(rest);
    let conn = u.number();
    let first_frame = u.number();
    let last_frame = first_frame.wrapping_add(u.number());
    let start_ns = u64::from_le_bytes(u.take(8).try_into().expect("8 bytes"));
    let end_ns = start_ns.wrapping_add(u.number());
    let mut counters = || Counters {
        packets: u.number(),
        bytes: u.number(),
    };
    let (c2s, s2c) = (counters(), counters());
    let syn_retransmissions = u.number() as u32;
    let mut rtt = |bit| (flags & bit != 0).then(|| u.number());
    let (rtt_syn_synack_us, rtt_synack_ack_us) = (rtt(RTT_SYN_SYNACK), rtt(RTT_SYNACK_ACK));
    let mut options = |shift: u8, bools: u8| SideOptions {
        mss: (flags & CLIENT_MSS << shift != 0).then(|| u.number() as u16),
        wscale: (flags & CLIENT_WSCALE << shift != 0).then(|| u.take(1)[0]),
        sack_permitted: bools & 1 != 0,
        timestamps: bools & 2 != 0,
    };
    let (client_options, server_options) = (options(0, bools), options(2, bools >> 2));
    let client = u.endpoint(flags & CLIENT_V6 != 0);
    let server = u.endpoint(flags & SERVER_V6 != 0);
    let role_frames = std::array::from_fn(|i| {
        (framed >> i & 1 != 0).then(|| first_frame.wrapping_add(u.number()))
    });
    let history = History::new(u.text());
    let labels = (0..u.number())
        .map(|_| (u.text().to_owned(), u.text().to_owned()))
        .collect();
    Verdict {
        conn,
        first_frame,
        last_frame,
        client,
        server,
        start_ns,
        end_ns,
        c2s,
        s2c,
        completeness,
        conn_state: CONN_STATES[usize::from(conn_state)],
        history,
        facts: ConnectionFacts {
            open: OpenKind::ALL[usize::from(kinds & 7)],
            rtt_syn_synack_us,
            rtt_synack_ack_us,
            client_options,
            server_options,
            close: CloseKind::ALL[usize::from(kinds >> 3 & 7)],
            active_closer: [None, Some(Side::Client), Some(Side::Server)][usize::from(kinds >> 6)],
        },
        syn_retransmissions,
        final_states: EndpointStates {
            client: state_of(final_states & 15),
            server: state_of(final_states >> 4),
        },
        roles_seen: role_set(roles),
        role_frames,
        labels,
    }
}

/// Bit `i` set where `bits[i]` is true.
fn flag_bits<const N: usize>(bits: [bool; N]) -> u8 {
    bits.iter()
        .enumerate()
        .fold(0, |acc, (i, &b)| acc | u8::from(b) << i)
}

/// 0 for no state, else 1 and up.
fn state_number(state: Option<TcpState>) -> u8 {
    state.map_or(0, |s| s as u8 + 1)
}

/// The state [`state_number`] numbered.
fn state_of(number: u8) -> Option<TcpState> {
    let index = usize::from(number).checked_sub(1)?;
    Some(TcpState::ALL[index])
}

/// The roles of `bits` (bit n is `Role::ALL[n]`, as [`RoleSet::bits`] gives them).
fn role_set(bits: u8) -> RoleSet {
    let mut set = RoleSet::EMPTY;
    for role in Role::ALL.into_iter().filter(|&r| bits >> r as u8 & 1 != 0) {
        set.insert(role);
    }
    set
}

/// Appends a verdict's parts.
struct Packer<'a>(&'a mut Vec<u8>);

impl Packer<'_> {
    /// A LEB128 varint: seven bits a byte, the high bit set on all but the last.
    fn number(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.0.push(n as u8 | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    /// The address's bytes (its kind is in the flags) and the port's.
    fn endpoint(&mut self, e: Endpoint) {
        match e.addr {
            IpAddr::V4(a) => self.0.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => self.0.extend_from_slice(&a.octets()),
        }
        self.0.extend_from_slice(&e.port.to_le_bytes());
    }

    /// Text, after its length.
    fn text(&mut self, bytes: &[u8]) {
        self.number(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }
}

/// Reads back what a [`Packer`] appended, in the same order.
struct Unpacker<'a>(&'a [u8]);

impl<'a> Unpacker<'a> {
    fn take(&mut self, len: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        taken
    }

    fn number(&mut self) -> u64 {
        let mut n = 0;
        for shift in (0..).step_by(7) {
            let byte = self.take(1)[0];
            n |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                break;
            }
        }
        n
    }

    fn endpoint(&mut self, v6: bool) -> Endpoint {
        let addr = if v6 {
            let octets: [u8; 16] = self.take(16).try_into().expect("16 bytes");
            IpAddr::V6(Ipv6Addr::from(octets))
        } else {
            let octets: [u8; 4] = self.take(4).try_into().expect("4 bytes");
            IpAddr::V4(Ipv4Addr::from(octets))
        };
        let port = u16::from_le_bytes(self.take(2).try_into().expect("2 bytes"));
        Endpoint { addr, port }
    }

    fn text(&mut self) -> &'a str {
        let len = self.number() as usize;
        std::str::from_utf8(self.take(len)).expect("packed from a str")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::json;
    use crate::test_traffic::Rng;

    /// A number of any size: often small, now and then 0 or the largest.
    fn number(rng: &mut Rng) -> u64 {
        match rng.below(6) {
            0 => 0,
            1 => u64::MAX,
            2 => rng.below(128),
            3 => rng.below(1 << 20),
            _ => rng.next_u64() >> rng.below(64),
        }
    }

    fn maybe<T>(rng: &mut Rng, f: impl FnOnce(&mut Rng) -> T) -> Option<T> {
        (!rng.one_in(2)).then(|| f(rng))
    }

    fn pick<T: Copy>(rng: &mut Rng, from: &[T]) -> T {
        from[rng.below(from.len() as u64) as usize]
    }

    fn text(rng: &mut Rng, max_len: u64) -> String {
        let len = rng.below(max_len + 1);
        (0..len)
            .map(|_| {
                pick(
                    rng,
                    &['S', 'h', 'A', 'd', 'F', '^', 'é', '"', '\\', '\n', '✓'],
                )
            })
            .collect()
    }

    fn endpoint(rng: &mut Rng) -> Endpoint {
        let addr = if rng.one_in(2) {
            IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(
                u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()),
            ))
        };
        Endpoint {
            addr,
            port: rng.next_u64() as u16,
        }
    }

    fn options(rng: &mut Rng) -> SideOptions {
        SideOptions {
            mss: maybe(rng, |r| r.next_u64() as u16),
            wscale: maybe(rng, |r| r.next_u64() as u8),
            sack_permitted: rng.one_in(2),
            timestamps: rng.one_in(2),
        }
    }

    fn random_verdict(rng: &mut Rng) -> Verdict {
        let states = [None].into_iter().chain(TcpState::ALL.map(Some));
        let states: Vec<_> = states.collect();
        let mut conn_states = CONN_STATES.to_vec();
        conn_states.push("NOT-ZEEK'S");
        let labels = (0..rng.below(4))
            .map(|_| (text(rng, 12), text(rng, 40)))
            .collect();
        Verdict {
            conn: number(rng),
            first_frame: number(rng),
            last_frame: number(rng),
            client: endpoint(rng),
            server: endpoint(rng),
            start_ns: number(rng),
            end_ns: number(rng),
            c2s: Counters {
                packets: number(rng),
                bytes: number(rng),
            },
            s2c: Counters {
                packets: number(rng),
                bytes: number(rng),
            },
            completeness: rng.next_u64() as u8,
            conn_state: pick(rng, &conn_states),
            history: History::new(&text(rng, 3 * History::INLINE as u64)),
            facts: ConnectionFacts {
                open: pick(rng, &OpenKind::ALL),
                rtt_syn_synack_us: maybe(rng, number),
                rtt_synack_ack_us: maybe(rng, number),
                client_options: options(rng),
                server_options: options(rng),
                close: pick(rng, &CloseKind::ALL),
                active_closer: pick(rng, &[None, Some(Side::Client), Some(Side::Server)]),
            },
            syn_retransmissions: number(rng) as u32,
            final_states: EndpointStates {
                client: pick(rng, &states),
                server: pick(rng, &states),
            },
            roles_seen: role_set(rng.next_u64() as u8),
            role_frames: std::array::from_fn(|_| maybe(rng, number)),
            labels,
        }
    }

    fn json_of(v: &Verdict) -> Vec<u8> {
        let mut out = Vec::new();
        json::write_verdict(&mut out, v).unwrap();
        out
    }

    #[test]
    fn a_packed_verdict_unpacks_to_the_verdict_packed() {
        let mut rng = Rng(0x5eed_cafe);
        let mut store = PackedVerdicts::default();
        let mut waiting: Vec<(Verdict, Packed)> = Vec::new();
        let (mut whole, mut chunks_seen) = (0, 0);
        for round in 0..40_000 {
            // Packed and taken out in any order, many waiting at a time.
            if round < 30_000 && (waiting.is_empty() || !rng.one_in(3)) {
                let v = random_verdict(&mut rng);
                let at = store.pack(v.clone());
                whole += usize::from(matches!(at.0, Place::Whole(_)));
                waiting.push((v, at));
            } else if !waiting.is_empty() {
                let i = rng.below(waiting.len() as u64) as usize;
                let (v, at) = waiting.swap_remove(i);
                let unpacked = store.unpack(at);
                assert_eq!(unpacked, v);
                assert_eq!(json_of(&unpacked), json_of(&v));
            }
            chunks_seen = chunks_seen.max(store.chunks.len());
        }
        for (v, at) in waiting {
            assert_eq!(store.unpack(at), v);
        }
        assert!(
            whole > 0 && chunks_seen > 10,
            "both places, and many chunks"
        );
        assert!(store.chunks.is_empty(), "every chunk freed");
    }

    #[test]
    fn the_tables_follow_the_declaration_order() {
        // `kind as u8` indexes them (and names each kind once).
        for (i, k) in OpenKind::ALL.into_iter().enumerate() {
            assert_eq!(k as usize, i);
        }
        for (i, k) in CloseKind::ALL.into_iter().enumerate() {
            assert_eq!(k as usize, i);
        }
        for (i, s) in TcpState::ALL.into_iter().enumerate() {
            assert_eq!(s as usize, i);
        }
        assert_eq!(role_set(0xff).bits(), 0xff);
    }
}
