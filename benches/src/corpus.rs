//! The recorded traffic the benchmarks run on: the fixture captures, loaded
//! once, and replayed many times over into a large capture of the same shape.
//!
//! The replay treats each fixture capture as a *session* (one or more TCP
//! connections as Linux sent them). Session `s` replays fixture `s mod F`,
//! starts `s × interval` after the first, and keeps its packets' relative
//! timing, so sessions overlap as connections do on a busy link. Sessions
//! draw their addresses from 4096 sets (a link's traffic comes from some
//! thousands of hosts, not from a new pair of hosts per connection), and the
//! sessions of one set differ in their client ports, so no two sessions share
//! a connection. With `set = s mod 4096` and `round = s / 4096`:
//!
//! * IPv4 `a.b.c.d` becomes `p.h.q.1`: `h` is the low four bits of `d` (the
//!   host: 1 client, 2 server, 3 second MPTCP client), and `p`, `q` spell
//!   `set` as `set mod 222` over `set / 222`, `p` running over 1 to 223
//!   without 127 (a link's hosts differ in their first octets too; tcpdump,
//!   for one, hashes an IPv4 address by its first twelve bits on a
//!   little-endian machine);
//! * IPv6 moves under `2001:db8:S:S::/64`, `S` being the 32 bits of `set`,
//!   and its interface identifier's last 32 bits are XORed with `set` too (as
//!   hosts' identifiers differ on a real link; tcpdump, for one, hashes an
//!   IPv6 address by its last two bytes);
//! * ports from 32768 up (Linux's ephemeral range) move by `round × 7919`
//!   within that range (7919 is odd, so rounds up to 32768 apart never give a
//!   port twice); the servers' ports stay.
//!
//! The IPv4 header checksum and the TCP checksum are brought up to date for
//! the new addresses and ports by the incremental update of RFC 1624, which
//! gives the checksum of the new bytes also where the snap length cut the
//! segment (v4-snap64); a checksum that was right stays right. Sequence
//! numbers, options and payloads are untouched.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};

use synack_core::capture::{CaptureReader, LinkType};
use synack_core::frame::{self, Decoded};
use synack_dissector::segment::Segment;

use crate::pcap::{PcapWriter, LINKTYPE_ETHERNET};

/// The fixture captures: `$SYNACK_FIXTURES`, or `fixtures/captures` of this workspace.
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("SYNACK_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/captures"),
    }
}

/// One captured record, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Timestamp, ns since the epoch.
    pub ts_ns: u64,
    /// Link type of the record.
    pub link_type: LinkType,
    /// The captured bytes.
    pub data: Vec<u8>,
    /// Length on the wire.
    pub orig_len: u32,
}

/// One fixture capture, in memory.
#[derive(Clone, Debug)]
pub struct Capture {
    /// File name.
    pub name: String,
    /// Its records, in file order.
    pub records: Vec<Record>,
}

/// Loads every `.pcap` and `.pcapng` in `dir`, sorted by name.
pub fn load_captures(dir: &Path) -> io::Result<Vec<Capture>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no capture in {}", dir.display()),
        ));
    }
    paths
        .iter()
        .map(|path| {
            let fail = |e: synack_core::capture::CaptureError| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            };
            let mut reader = CaptureReader::open(path).map_err(fail)?;
            let mut records = Vec::new();
            while let Some(packet) = reader.next_packet() {
                let p = packet.map_err(fail)?;
                records.push(Record {
                    ts_ns: p.ts_ns,
                    link_type: p.link_type,
                    data: p.data.to_vec(),
                    orig_len: p.orig_len,
                });
            }
            Ok(Capture {
                name: path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                records,
            })
        })
        .collect()
}

/// Loads the fixture captures ([`fixtures_dir`]).
pub fn load_fixtures() -> io::Result<Vec<Capture>> {
    load_captures(&fixtures_dir())
}

/// How big a replay to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayConfig {
    /// Start sessions until at least this many packets are planned.
    pub min_packets: u64,
    /// ... and at least this many file bytes (headers included).
    pub min_bytes: u64,
    /// Time between two sessions' starts (ns).
    pub interval_ns: u64,
    /// Timestamp of the first packet (ns since the epoch).
    pub start_ns: u64,
}

impl Default for ReplayConfig {
    /// A million packets and a gigabyte (10^9 bytes), a session every millisecond, from 2023-11-14.
    fn default() -> Self {
        ReplayConfig {
            min_packets: 1_000_000,
            min_bytes: 1_000_000_000,
            interval_ns: 1_000_000,
            start_ns: 1_700_000_000_000_000_000,
        }
    }
}

/// What a replay wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records written.
    pub packets: u64,
    /// File bytes written, headers included.
    pub bytes: u64,
    /// Sessions (fixture replays) started.
    pub sessions: u64,
}

/// The fixture sessions a replay draws from: the Ethernet records of each capture.
fn ethernet_sessions(captures: &[Capture]) -> Vec<Vec<&Record>> {
    captures
        .iter()
        .map(|c| {
            c.records
                .iter()
                .filter(|r| r.link_type == LinkType(LINKTYPE_ETHERNET))
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Writes a pcap (Ethernet) replaying the Ethernet records of `captures`
/// until `config` is met; see the module documentation.
pub fn write_replay<W: Write>(
    captures: &[Capture],
    config: &ReplayConfig,
    out: W,
) -> io::Result<ReplayStats> {
    let sessions = ethernet_sessions(captures);
    if sessions.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no Ethernet record to replay",
        ));
    }
    let mut writer = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    // Min-heap of (time, session number, index of the record in its fixture).
    let mut heap: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
    let mut starts = Vec::new(); // per session: (fixture, start time)
    let (mut planned_packets, mut planned_bytes) = (0u64, crate::pcap::FILE_HEADER_LEN as u64);
    let mut buf = Vec::with_capacity(65_536);
    loop {
        // Start every session due before the next packet, while more are wanted.
        while planned_packets < config.min_packets || planned_bytes < config.min_bytes {
            let s = starts.len() as u64;
            let start = config.start_ns + s * config.interval_ns;
            if heap.peek().is_some_and(|Reverse((t, _, _))| *t < start) {
                break;
            }
            let fixture = (s % sessions.len() as u64) as usize;
            let records = &sessions[fixture];
            planned_packets += records.len() as u64;
            planned_bytes += records
                .iter()
                .map(|r| 16 + r.data.len() as u64)
                .sum::<u64>();
            starts.push((fixture, start));
            heap.push(Reverse((start, s, 0)));
        }
        let Some(Reverse((ts, s, i))) = heap.pop() else {
            break;
        };
        let (fixture, start) = starts[s as usize];
        let records = &sessions[fixture];
        let record = records[i];
        buf.clear();
        buf.extend_from_slice(&record.data);
        rewrite_frame(&mut buf, s as u32);
        writer.write(ts, &buf, record.orig_len)?;
        if let Some(next) = records.get(i + 1) {
            let t = start + next.ts_ns.saturating_sub(records[0].ts_ns);
            heap.push(Reverse((t.max(ts), s, i + 1)));
        }
    }
    let stats = ReplayStats {
        packets: writer.packets(),
        bytes: writer.bytes(),
        sessions: starts.len() as u64,
    };
    writer.finish()?;
    Ok(stats)
}

/// A replay in memory (for the capture-reading benchmark).
pub fn replay_in_memory(captures: &[Capture], config: &ReplayConfig) -> io::Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    write_replay(captures, config, &mut out)?;
    Ok(out.into_inner())
}

/// One's-complement sum accumulator for the incremental checksum update (RFC 1624, eqn. 3).
struct ChecksumUpdate(u32);

impl ChecksumUpdate {
    fn new(checksum: u16) -> Self {
        ChecksumUpdate(u32::from(!checksum))
    }
    fn replace(&mut self, old: u16, new: u16) {
        self.0 += u32::from(!old) + u32::from(new);
    }
    fn finish(self) -> u16 {
        let mut sum = self.0;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Adds the change from `old` to `new` (whole 16-bit words) to `sum`.
fn add_change(sum: &mut Option<ChecksumUpdate>, old: &[u8], new: &[u8]) {
    if let Some(sum) = sum.as_mut() {
        for (o, n) in old.chunks_exact(2).zip(new.chunks_exact(2)) {
            sum.replace(be16(o, 0), be16(n, 0));
        }
    }
}

/// Sets of addresses the sessions share (see the module documentation).
const ADDRESS_SETS: u32 = 4096;

/// The new IPv4 address of `old` in session `s`.
fn map_v4(old: [u8; 4], s: u32) -> [u8; 4] {
    let set = s % ADDRESS_SETS;
    // 1..=126 and 128..=223: neither loopback nor multicast.
    let first = 1 + (set % 222) as u8;
    let first = if first >= 127 { first + 1 } else { first };
    [first, old[3] & 0x0f, (set / 222) as u8, 1]
}

/// The new IPv6 address of `old` in session `s`.
fn map_v6(old: [u8; 16], s: u32) -> [u8; 16] {
    let mut new = old;
    new[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    let set = (s % ADDRESS_SETS).to_be_bytes();
    new[4..8].copy_from_slice(&set);
    for (byte, x) in new[12..].iter_mut().zip(set) {
        *byte ^= x;
    }
    new
}

/// The new port of `old` in session `s`.
fn map_port(old: u16, s: u32) -> u16 {
    if old < 32_768 {
        old
    } else {
        let round = s / ADDRESS_SETS;
        let shifted = (u32::from(old - 32_768) + round.wrapping_mul(7_919)) % 32_768;
        32_768 + shifted as u16
    }
}

/// Rewrites an Ethernet frame for session `s` (see the module documentation).
/// Frames that are not IPv4 or IPv6 are left alone.
pub fn rewrite_frame(frame: &mut [u8], s: u32) {
    let mut at = 12;
    let mut ethertype = match frame.get(at..at + 2) {
        Some(b) => u16::from_be_bytes([b[0], b[1]]),
        None => return,
    };
    while matches!(ethertype, 0x8100 | 0x88a8) {
        at += 4;
        ethertype = match frame.get(at..at + 2) {
            Some(b) => u16::from_be_bytes([b[0], b[1]]),
            None => return,
        };
    }
    let ip = at + 2;
    match ethertype {
        0x0800 => rewrite_ipv4(frame, ip, s),
        0x86dd => rewrite_ipv6(frame, ip, s),
        _ => {}
    }
}

fn rewrite_ipv4(frame: &mut [u8], ip: usize, s: u32) {
    if frame.len() < ip + 20 {
        return;
    }
    let ihl = usize::from(frame[ip] & 0x0f) * 4;
    let fragment_offset = be16(frame, ip + 6) & 0x1fff;
    let tcp = ip + ihl;
    let mut ip_sum = (frame.len() >= tcp).then(|| ChecksumUpdate::new(be16(frame, ip + 10)));
    let first_tcp = frame[ip + 9] == 6 && fragment_offset == 0;
    let mut tcp_sum =
        (first_tcp && frame.len() >= tcp + 18).then(|| ChecksumUpdate::new(be16(frame, tcp + 16)));
    for at in [ip + 12, ip + 16] {
        let old = [frame[at], frame[at + 1], frame[at + 2], frame[at + 3]];
        let new = map_v4(old, s);
        // The addresses are in both the IP header and the TCP pseudo-header.
        add_change(&mut ip_sum, &old, &new);
        add_change(&mut tcp_sum, &old, &new);
        frame[at..at + 4].copy_from_slice(&new);
    }
    if let Some(sum) = ip_sum {
        let v = sum.finish();
        frame[ip + 10..ip + 12].copy_from_slice(&v.to_be_bytes());
    }
    if first_tcp {
        rewrite_ports(frame, tcp, s, tcp_sum);
    }
}

fn rewrite_ipv6(frame: &mut [u8], ip: usize, s: u32) {
    if frame.len() < ip + 40 {
        return;
    }
    // Find TCP behind the usual extension headers (hop-by-hop, routing, destination options, fragment).
    let mut next = frame[ip + 6];
    let mut at = ip + 40;
    let mut first_fragment = true;
    loop {
        match next {
            0 | 43 | 60 => {
                let Some(h) = frame.get(at..at + 2) else {
                    break;
                };
                next = h[0];
                at += (usize::from(h[1]) + 1) * 8;
            }
            44 => {
                let Some(h) = frame.get(at..at + 4) else {
                    break;
                };
                next = h[0];
                first_fragment = be16(h, 2) & 0xfff8 == 0;
                at += 8;
            }
            _ => break,
        }
    }
    let tcp = (next == 6 && first_fragment).then_some(at);
    let mut tcp_sum = tcp
        .filter(|t| frame.len() >= t + 18)
        .map(|t| ChecksumUpdate::new(be16(frame, t + 16)));
    for a in [ip + 8, ip + 24] {
        let mut old = [0u8; 16];
        old.copy_from_slice(&frame[a..a + 16]);
        let new = map_v6(old, s);
        add_change(&mut tcp_sum, &old, &new);
        frame[a..a + 16].copy_from_slice(&new);
    }
    if let Some(t) = tcp {
        rewrite_ports(frame, t, s, tcp_sum);
    }
}

/// Rewrites the ports of the TCP header at `tcp` and stores the updated checksum.
fn rewrite_ports(frame: &mut [u8], tcp: usize, s: u32, mut sum: Option<ChecksumUpdate>) {
    for at in [tcp, tcp + 2] {
        if frame.len() < at + 2 {
            return;
        }
        let old = be16(frame, at).to_be_bytes();
        let new = map_port(be16(&old, 0), s).to_be_bytes();
        add_change(&mut sum, &old, &new);
        frame[at..at + 2].copy_from_slice(&new);
    }
    if let Some(sum) = sum {
        let v = sum.finish();
        frame[tcp + 16..tcp + 18].copy_from_slice(&v.to_be_bytes());
    }
}

/// One TCP segment as the tracker takes it.
#[derive(Clone, Copy, Debug)]
pub struct TrackedSegment {
    /// Frame number.
    pub frame: u64,
    /// Timestamp (ns).
    pub ts_ns: u64,
    /// The segment.
    pub segment: Segment,
}

/// Decodes every TCP segment of `records` (in order) to what `Tracker::observe` takes.
pub fn segments<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<TrackedSegment> {
    let mut out = Vec::new();
    for (n, r) in records.into_iter().enumerate() {
        if let Ok(Decoded::Tcp(f)) = frame::decode(r.link_type, &r.data) {
            out.push(TrackedSegment {
                frame: n as u64 + 1,
                ts_ns: r.ts_ns,
                segment: Segment::from_frame(&f),
            });
        }
    }
    out
}

/// Every fixture capture one after the other, each shifted in time to start a
/// second after the previous one ends: all their records, any link type.
pub fn fixtures_in_sequence(captures: &[Capture]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut next_start = ReplayConfig::default().start_ns;
    for c in captures {
        let Some(first) = c.records.iter().map(|r| r.ts_ns).min() else {
            continue;
        };
        let mut last = next_start;
        for r in &c.records {
            let ts = next_start + (r.ts_ns - first);
            last = last.max(ts);
            out.push(Record {
                ts_ns: ts,
                ..r.clone()
            });
        }
        next_start = last + 1_000_000_000;
    }
    out
}

/// Reads a whole capture held in memory back into records.
pub fn read_records(bytes: &[u8]) -> io::Result<Vec<Record>> {
    let fail = |e: synack_core::capture::CaptureError| {
        io::Error::new(io::ErrorKind::InvalidData, e.to_string())
    };
    let owned: Vec<u8> = bytes.to_vec();
    let mut reader = CaptureReader::from_reader(Cursor::new(owned)).map_err(fail)?;
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p.map_err(fail)?;
        out.push(Record {
            ts_ns: p.ts_ns,
            link_type: p.link_type,
            data: p.data.to_vec(),
            orig_len: p.orig_len,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use synack_core::flow::FlowKey;
    use synack_core::tcp::PseudoHeader;

    fn small(packets: u64) -> ReplayConfig {
        ReplayConfig {
            min_packets: packets,
            min_bytes: 0,
            ..ReplayConfig::default()
        }
    }

    #[test]
    fn the_fixtures_load() {
        let captures = load_fixtures().unwrap();
        assert!(captures.len() >= 30, "{} captures", captures.len());
        assert!(captures.iter().any(|c| c.name == "v4-client-close.pcap"));
    }

    #[test]
    fn every_embedded_input_is_the_bytes_of_its_capture() {
        let captures = load_fixtures().unwrap();
        for input in crate::inputs::TCP_INPUTS
            .iter()
            .chain(&crate::inputs::FRAME_INPUTS)
        {
            let c = captures.iter().find(|c| c.name == input.capture).unwrap();
            let r = &c.records[input.frame as usize - 1];
            assert_eq!(
                &r.data[input.offset..],
                input.bytes,
                "{}: the capture changed (regenerated?): take the bytes again into benches/src/inputs.rs",
                input.name
            );
        }
    }

    #[test]
    fn a_replay_keeps_checksums_right_and_sessions_apart() {
        let captures = load_fixtures().unwrap();
        let mut bytes = Vec::new();
        let stats = write_replay(&captures, &small(5_000), &mut bytes).unwrap();
        let records = read_records(&bytes).unwrap();
        assert!(records.len() >= 5_000);
        assert!(
            records.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns),
            "in time order"
        );
        let (mut checked, mut complete) = (0, 0);
        let mut keys = HashSet::new();
        for r in &records {
            let Ok(Decoded::Tcp(f)) = frame::decode(r.link_type, &r.data) else {
                panic!("every replayed record is TCP");
            };
            let pseudo = PseudoHeader {
                src: f.ip.src(),
                dst: f.ip.dst(),
            };
            if let Some(ok) = f.tcp.verify_checksum(&pseudo) {
                assert!(ok, "TCP checksum of a replayed segment");
                checked += 1;
            }
            complete += usize::from(!f.tcp.is_truncated());
            if let synack_core::ip::IpHeader::V4(h) = &f.ip {
                assert_eq!(
                    etherparse::Ipv4Header::from_slice(h.slice())
                        .unwrap()
                        .0
                        .calc_header_checksum(),
                    h.header_checksum()
                );
            }
            let seg = Segment::from_frame(&f);
            keys.insert(FlowKey::new(seg.src, seg.dst).0);
        }
        assert_eq!(
            checked, complete,
            "every segment not cut by the snap length verifies"
        );
        assert!(complete * 2 > records.len());
        // Every session has its own connections.
        assert!(stats.sessions > 100, "{stats:?}");
        assert!(
            keys.len() as u64 > stats.sessions,
            "{} distinct connections",
            keys.len()
        );
    }

    #[test]
    fn a_cut_segment_gets_the_checksum_of_the_whole() {
        // The SYN frame and the SACK frame, whole and cut after 64 bytes: same checksum after the rewrite.
        for input in [
            crate::inputs::ETH_IPV4_SYN,
            crate::inputs::ETH_IPV6_SYN,
            crate::inputs::ETH_IPV4_SACK3,
        ] {
            let mut whole = input.bytes.to_vec();
            let mut cut = input.bytes[..64].to_vec();
            rewrite_frame(&mut whole, 123_456);
            rewrite_frame(&mut cut, 123_456);
            assert_eq!(&whole[..64], &cut[..], "{}", input.name);
            assert_ne!(&whole[..], input.bytes);
            let Ok(Decoded::Tcp(f)) = frame::decode(LinkType(1), &whole) else {
                panic!()
            };
            let pseudo = PseudoHeader {
                src: f.ip.src(),
                dst: f.ip.dst(),
            };
            assert_eq!(f.tcp.verify_checksum(&pseudo), Some(true), "{}", input.name);
        }
    }

    #[test]
    fn a_replay_stops_at_its_size() {
        let captures = load_fixtures().unwrap();
        let config = ReplayConfig {
            min_packets: 0,
            min_bytes: 300_000,
            ..ReplayConfig::default()
        };
        let mut out = Vec::new();
        let stats = write_replay(&captures, &config, &mut out).unwrap();
        assert_eq!(stats.bytes, out.len() as u64);
        assert!(stats.bytes >= 300_000 && stats.bytes < 600_000, "{stats:?}");
    }

    #[test]
    fn ports_move_within_the_ephemeral_range() {
        for s in [0, 1, 12_345, u32::MAX] {
            assert_eq!(map_port(5001, s), 5001);
            let p = map_port(40_000, s);
            assert!(p >= 32_768);
        }
        assert_ne!(map_v4([192, 0, 2, 1], 7), map_v4([192, 0, 2, 2], 7));
        assert_ne!(map_v4([192, 0, 2, 1], 7), map_v4([192, 0, 2, 1], 8));
    }

    #[test]
    fn sessions_of_one_address_set_differ_in_client_port() {
        let ports: HashSet<u16> = (0..32_768)
            .map(|round| map_port(40_000, 7 + round * ADDRESS_SETS))
            .collect();
        assert_eq!(ports.len(), 32_768);
        assert_eq!(
            map_v4([192, 0, 2, 1], 7),
            map_v4([192, 0, 2, 1], 7 + ADDRESS_SETS)
        );
    }

    #[test]
    fn the_fixture_segments_decode() {
        let captures = load_fixtures().unwrap();
        let records = fixtures_in_sequence(&captures);
        let segs = segments(&records);
        assert!(segs.len() > 1_000, "{}", segs.len());
    }
}
