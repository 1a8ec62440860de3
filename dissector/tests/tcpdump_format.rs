//! The `tcpdump` format against tcpdump 4.99.3 itself.
//!
//! 1. Every test of tcpdump's own suite (tag tcpdump-4.99.3, in
//!    shared/corpus/tcpdump-4.99.3) whose options stay within `-n -v -t* -S -#`:
//!    synack renders the pcap and each TCP frame's text must equal the `.out`
//!    text of that frame up to and including `length N` (or all of it, when
//!    tcpdump stops earlier, e.g. at `[|tcp]`). Segments tcpdump hands to its
//!    HTTP or SSH printer (see [`app_segment`]) are compared whole, with what
//!    follows `length N` and, with `-v`, the text lines after it.
//! 2. The same against the real `tcpdump -# -n [-v | -tt -S]`, run now with
//!    `TZ=GMT0`, on every capture under fixtures/captures/, shared/corpus/misc/,
//!    shared/corpus/pcapplusplus/ and the pcaps of tcpdump's suite.
//!
//! Frames tcpdump prints a TCP header for that synack does not render, and
//! frames whose text differs, fail the test unless the allow-list below names
//! them with a reason.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use synack_core::capture::CaptureReader;
use synack_core::frame::{self, Decoded};
use synack_dissector::format::tcpdump::{TcpdumpOptions, TcpdumpPrinter, TimestampStyle};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/captures");

/// How much of a frame's text an allow-list entry lets differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Only the timestamp: the rest of the text must still match.
    Timestamp,
    /// The whole frame (synack does not render it).
    Frame,
}

const FUZZED_USEC: &str =
    "the record's microsecond field is 1000000 or more (a fuzzed file): tcpdump prints it as \
     it is (e.g. .808464432), the core's Packet::ts_ns carries it into the seconds";

/// Known differences: (capture file name, frame number or 0 for every frame, scope, reason).
const ALLOWED: &[(&str, u64, Scope, &str)] = &[
    (
        "heapoverflow-tcp_print.pcap",
        0,
        Scope::Timestamp,
        FUZZED_USEC,
    ),
    (
        "tcp-auth-heapoverflow.pcap",
        0,
        Scope::Timestamp,
        FUZZED_USEC,
    ),
    (
        "tcp_header_heapoverflow.pcap",
        0,
        Scope::Timestamp,
        FUZZED_USEC,
    ),
    ("beep-oobr.pcap", 0, Scope::Timestamp, FUZZED_USEC),
    ("hoobr_nfs_printfh.pcap", 0, Scope::Timestamp, FUZZED_USEC),
    (
        "bgp-bgp_capabilities_print-oobr-1.pcap",
        0,
        Scope::Timestamp,
        FUZZED_USEC,
    ),
    (
        "bgp-bgp_capabilities_print-oobr-2.pcap",
        0,
        Scope::Timestamp,
        FUZZED_USEC,
    ),
    (
        "bgp_pmsi_tunnel-oobr.pcap",
        0,
        Scope::Timestamp,
        FUZZED_USEC,
    ),
    (
        "bgp_mvpn_6_and_7_oobr.pcap",
        0,
        Scope::Timestamp,
        FUZZED_USEC,
    ),
    (
        "bgp_mp_reach_nlri-oobr.pcap",
        0,
        Scope::Timestamp,
        FUZZED_USEC,
    ),
    ("rpki-rtr-oobr.pcap", 0, Scope::Timestamp, FUZZED_USEC),
    ("babel_update_oobr.pcap", 0, Scope::Timestamp, FUZZED_USEC),
    ("kday4.pcap", 2, Scope::Timestamp, FUZZED_USEC),
    ("kday7.pcap", 2, Scope::Timestamp, FUZZED_USEC),
    (
        "smb_data_print-segv.pcapng",
        4,
        Scope::Timestamp,
        "a pcapng timestamp past 2^64 ns: tcpdump prints [Error converting time], the core's \
         Packet::ts_ns saturates",
    ),
    (
        "Ftp.pcap",
        0,
        Scope::Frame,
        "IPv6 in IPv4 (6in4): a tunnel, out of synack's scope (core: Unsupported::Tunnel)",
    ),
    (
        "IPv4-encapsulated-IPv6.pcap",
        0,
        Scope::Frame,
        "IPv6 in IPv4 (6in4): a tunnel, out of synack's scope (core: Unsupported::Tunnel)",
    ),
    (
        "MplsPackets.pcap",
        0,
        Scope::Frame,
        "MPLS: out of synack's scope (core: Unsupported::Tunnel)",
    ),
    (
        "lspping-fec-ldp.pcap",
        0,
        Scope::Frame,
        "MPLS: out of synack's scope (core: Unsupported::Tunnel)",
    ),
    (
        "geneve.pcap",
        0,
        Scope::Frame,
        "Geneve: a tunnel, out of synack's scope (core: Unsupported::Tunnel)",
    ),
    (
        "bgp-aigp.pcap",
        0,
        Scope::Frame,
        "link type JUNIPER_ETHER (178) is not read by synack",
    ),
    (
        "ipoib.pcap",
        0,
        Scope::Frame,
        "link type IPOIB (242) is not read by synack",
    ),
];

fn allowed(file: &str, frame: u64, scope: Scope) -> Option<&'static str> {
    ALLOWED
        .iter()
        .find(|(f, n, s, _)| *f == file && (*n == 0 || *n == frame) && *s == scope)
        .map(|(_, _, _, reason)| *reason)
}

/// The text without the timestamp that follows the `-#` frame number (of
/// any `-t` style: `[-| ]` and tokens made of digits, `:`, `.` and `-`).
fn without_timestamp(text: &str) -> String {
    let (number, rest) = text.split_at(text.len().min(7));
    let mut rest = rest.strip_prefix(['-', ' ']).unwrap_or(rest);
    loop {
        if let Some(after) = rest.strip_prefix("[Error converting time] ") {
            rest = after;
            continue;
        }
        match rest.split_once(' ') {
            Some((token, after))
                if !token.is_empty()
                    && token
                        .chars()
                        .all(|c| c.is_ascii_digit() || ":.-".contains(c)) =>
            {
                rest = after;
            }
            _ => break,
        }
    }
    format!("{number}{rest}")
}

/// Parses tcpdump options within `-n -v -t* -S -#`; `None` for any other.
fn parse_options(options: &str) -> Option<TcpdumpOptions> {
    let mut opts = TcpdumpOptions {
        frame_numbers: true,
        ..TcpdumpOptions::default()
    };
    for token in options.split_whitespace() {
        match token {
            "-n" | "-#" => {}
            "-v" => opts.verbose += 1,
            "-S" => opts.absolute_seq = true,
            t if t.len() >= 2 && t.starts_with('-') && t[1..].chars().all(|c| c == 't') => {
                opts.timestamps = TimestampStyle::from_t_count(t.len() - 1)?;
            }
            _ => return None,
        }
    }
    Some(opts)
}

/// tcpdump's output split per frame (`-#` numbers start each frame's text;
/// continuation lines are joined with `\n`).
fn frames_of(output: &str) -> BTreeMap<u64, String> {
    let mut frames = BTreeMap::new();
    let mut current: Option<(u64, String)> = None;
    for line in output.lines() {
        let number = line
            .get(..5)
            .filter(|_| line.get(5..7) == Some("  "))
            .and_then(|n| n.trim_start().parse::<u64>().ok());
        match number {
            Some(n) => {
                if let Some((m, text)) = current.take() {
                    frames.insert(m, text);
                }
                current = Some((n, line.to_owned()));
            }
            None => {
                if let Some((_, text)) = current.as_mut() {
                    text.push('\n');
                    text.push_str(line);
                }
            }
        }
    }
    if let Some((m, text)) = current {
        frames.insert(m, text);
    }
    frames
}

/// True when tcpdump's text for a frame shows a TCP header.
fn looks_tcp(text: &str) -> bool {
    text.contains(": Flags [")
        || text.contains("[|tcp]")
        || text.contains("[|mptcp]")
        || text.contains("[bad hdr length")
}

/// Whether tcpdump 4.99.3's `tcp_print` hands a segment to its HTTP or SSH
/// printer (print-tcp.c): the segment has data, is not a RST printed with
/// `-v` (that goes to `print_tcp_rst_data`), and the first port of the
/// dispatch order either side uses is SSH's (22, after TELNET 23, SMTP 25,
/// WHOIS 43, BGP 179, PPTP 1723 and REDIS 6379) or HTTP's (80 and 8080,
/// after BEEP 10288, OpenFlow 6633 and 6653, and FTP 21; Debian's build has
/// no SMB printer).
fn app_segment(sport: u16, dport: u16, data_len: usize, rst: bool, verbose: u8) -> bool {
    let either = |port: &u16| sport == *port || dport == *port;
    if data_len == 0 || (rst && verbose > 0) || [23, 25, 43, 179, 1723, 6379].iter().any(either) {
        return false;
    }
    either(&22) || (![10288, 6633, 6653, 21].iter().any(either) && [80, 8080].iter().any(either))
}

/// A frame as synack renders it.
struct Rendered {
    text: String,
    /// tcpdump prints an HTTP or SSH part for it: compare it whole.
    whole: bool,
}

/// synack's text matches tcpdump's: equal as a whole when `whole` (an HTTP
/// or SSH segment) or when it ends before `length N`, else equal up to and
/// including `length N`.
fn matches(ours: &str, theirs: &str, whole: bool) -> bool {
    let ours = ours.strip_suffix('\n').unwrap_or(ours);
    if !whole && ends_with_length(ours) {
        theirs.starts_with(ours) && !theirs[ours.len()..].starts_with(|c: char| c.is_ascii_digit())
    } else {
        ours == theirs
    }
}

fn ends_with_length(text: &str) -> bool {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_digit());
    digits.len() < text.len() && digits.ends_with(", length ")
}

#[derive(Default)]
struct Tally {
    files: usize,
    frames: usize,
    equal: usize,
    /// Equal frames compared whole because they are HTTP or SSH segments.
    equal_whole: usize,
    allowed: Vec<String>,
    failures: Vec<String>,
    /// Frames past the point where tcpdump stopped reading.
    not_compared: usize,
}

impl Tally {
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        label: &str,
        file: &str,
        frame: u64,
        ours: Option<&Rendered>,
        theirs: Option<&str>,
        what: &str,
    ) {
        let whole = ours.is_some_and(|o| o.whole);
        let ours = ours.map(|o| o.text.as_str());
        match (ours, theirs) {
            (Some(o), Some(t)) if matches(o, t, whole) => {
                self.frames += 1;
                self.equal += 1;
                self.equal_whole += usize::from(whole);
                return;
            }
            (None, Some(t)) if !looks_tcp(t) => return,
            (None, None) => return,
            _ => {}
        }
        self.frames += 1;
        let detail = format!(
            "{label} [{what}] frame {frame}:\n  tcpdump: {}\n  synack:  {}",
            theirs.unwrap_or("(nothing)").replace('\n', "\\n"),
            ours.map_or("(nothing)".to_owned(), |o| o
                .trim_end()
                .replace('\n', "\\n")),
        );
        let reason = match (ours, theirs) {
            (Some(o), Some(t)) if matches(&without_timestamp(o), &without_timestamp(t), whole) => {
                allowed(file, frame, Scope::Timestamp)
            }
            (None, Some(_)) => allowed(file, frame, Scope::Frame),
            _ => None,
        };
        match reason {
            Some(reason) => self.allowed.push(format!("{detail}\n  allowed: {reason}")),
            None => self.failures.push(detail),
        }
    }

    fn report(&self, title: &str) {
        eprintln!(
            "{title}: {} runs (capture × options), {} TCP frames compared, {} equal ({} of them HTTP or \
             SSH segments compared whole), {} allow-listed, {} differing ({} frames past the point \
             where tcpdump stopped reading not compared)",
            self.files,
            self.frames,
            self.equal,
            self.equal_whole,
            self.allowed.len(),
            self.failures.len(),
            self.not_compared
        );
        for a in &self.allowed {
            eprintln!("ALLOWED {a}");
        }
        let mut per_file: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.failures {
            *per_file
                .entry(f.split(" frame").next().unwrap_or(f))
                .or_default() += 1;
        }
        for (file, count) in &per_file {
            eprintln!("DIFFERING {count:5} {file}");
        }
        for f in self
            .failures
            .iter()
            .filter(|f| std::env::var("DIFF_FILTER").map_or(true, |p| f.contains(&p)))
            .take(80)
        {
            eprintln!("DIFF {f}");
        }
    }
}

/// Renders every TCP frame of `pcap`: frame number → text, and whether
/// tcpdump prints an HTTP or SSH part for it.
fn render(pcap: &Path, opts: TcpdumpOptions) -> Result<BTreeMap<u64, Rendered>, String> {
    let mut reader = CaptureReader::open(pcap).map_err(|e| e.to_string())?;
    let mut printer = TcpdumpPrinter::new(opts);
    let mut lines = BTreeMap::new();
    while let Some(packet) = reader.next_packet() {
        let Ok(packet) = packet else { break };
        let mut out = Vec::new();
        if printer
            .write_frame(&mut out, &packet)
            .map_err(|e| e.to_string())?
        {
            let whole = match frame::decode(packet.link_type, packet.data) {
                Ok(Decoded::Tcp(segment)) => {
                    let tcp = &segment.tcp;
                    app_segment(
                        tcp.src_port(),
                        tcp.dst_port(),
                        tcp.payload_len(),
                        tcp.flags().rst(),
                        opts.verbose,
                    )
                }
                _ => false,
            };
            let text = String::from_utf8_lossy(&out).into_owned();
            lines.insert(packet.frame, Rendered { text, whole });
        }
    }
    Ok(lines)
}

/// Compares synack's rendering of `pcap` with tcpdump's output `expected`;
/// `last_frame` bounds the frames compared when tcpdump stopped early.
fn compare(
    tally: &mut Tally,
    label: &str,
    what: &str,
    pcap: &Path,
    opts: TcpdumpOptions,
    expected: &str,
    last_frame: Option<u64>,
) {
    let file = pcap.file_name().unwrap().to_string_lossy().into_owned();
    let theirs = frames_of(expected);
    let ours = match render(pcap, opts) {
        Ok(ours) => ours,
        Err(e) => {
            if theirs.values().any(|t| looks_tcp(t)) && allowed(&file, 0, Scope::Frame).is_none() {
                tally
                    .failures
                    .push(format!("{label} [{what}] frame 0: cannot read: {e}"));
            }
            return;
        }
    };
    tally.files += 1;
    let mut frames: Vec<u64> = theirs.keys().chain(ours.keys()).copied().collect();
    frames.sort_unstable();
    frames.dedup();
    for frame in frames {
        if last_frame.is_some_and(|last| frame > last) {
            tally.not_compared += 1;
            continue;
        }
        tally.record(
            label,
            &file,
            frame,
            ours.get(&frame),
            theirs.get(&frame).map(String::as_str),
            what,
        );
    }
}

#[test]
fn tcpdump_suite_outputs() {
    let root = Path::new(CORPUS).join("tcpdump-4.99.3");
    let manifest = std::fs::read_to_string(root.join("manifest.tsv")).expect("manifest.tsv");
    let mut rows = manifest.lines();
    let header: Vec<&str> = rows.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (test_col, pcap_col, out_col, opt_col) =
        (col("test"), col("pcap"), col("out"), col("options"));
    let mut tally = Tally::default();
    for row in rows {
        let cells: Vec<&str> = row.split('\t').collect();
        let Some(opts) = parse_options(cells[opt_col]) else {
            continue;
        };
        let pcap = Path::new(CORPUS).join(cells[pcap_col]);
        let out = Path::new(CORPUS).join(cells[out_col]);
        let expected =
            std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        compare(
            &mut tally,
            cells[test_col],
            cells[opt_col],
            &pcap,
            opts,
            &expected,
            None,
        );
    }
    tally.report("tcpdump 4.99.3 suite (.out files)");
    assert!(tally.files > 40, "too few tests compared: {}", tally.files);
    assert!(
        tally.failures.is_empty(),
        "{} differences",
        tally.failures.len()
    );
}

fn captures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let dirs = [
        PathBuf::from(FIXTURES),
        Path::new(CORPUS).join("misc"),
        Path::new(CORPUS).join("pcapplusplus"),
        Path::new(CORPUS).join("tcpdump-4.99.3"),
    ];
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut here: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.contains(".pcap") || name.ends_with(".cap")
            })
            .collect();
        here.sort();
        files.extend(here);
    }
    files
}

#[test]
fn live_tcpdump() {
    assert!(
        Command::new("tcpdump").arg("--version").output().is_ok(),
        "tcpdump is the reference here: install it (scripts/test.sh does)"
    );
    let mut tally = Tally::default();
    let mut cache: HashMap<PathBuf, bool> = HashMap::new();
    for options in ["", "-v", "-tt -S", "-ttt", "-tttt", "-ttttt -v -S", "-t"] {
        for pcap in captures() {
            if cache.get(&pcap) == Some(&false) {
                continue;
            }
            let output = Command::new("tcpdump")
                .env("TZ", "GMT0")
                .args(["-#", "-n"])
                .args(options.split_whitespace())
                .arg("-r")
                .arg(&pcap)
                .output()
                .expect("run tcpdump");
            let expected = String::from_utf8_lossy(&output.stdout);
            let has_tcp = frames_of(&expected).values().any(|t| looks_tcp(t));
            cache.insert(pcap.clone(), has_tcp);
            if !has_tcp {
                continue;
            }
            let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
            // tcpdump gives up on some files part-way (e.g. a pcapng interface
            // of another link type): compare up to its last frame.
            let last_frame = if output.status.success() {
                None
            } else {
                Some(
                    frames_of(&expected)
                        .keys()
                        .next_back()
                        .copied()
                        .unwrap_or(0),
                )
            };
            let opts = parse_options(options).unwrap();
            compare(
                &mut tally, &name, options, &pcap, opts, &expected, last_frame,
            );
        }
    }
    tally.report("live tcpdump");
    assert!(
        tally.failures.is_empty(),
        "{} differences",
        tally.failures.len()
    );
}

/// Hand-made packets for the cases the captures above do not hold: IPv6
/// extension headers, AH, IPv4 options, every TCP option kind tcpdump names,
/// malformed and cut options, bad data offsets, cut headers, MPTCP subtypes,
/// TCP Fast Open, SLL2 and null links. Each is compared with tcpdump as a whole.
mod synthetic {
    use super::*;

    fn sum16(mut sum: u32, bytes: &[u8]) -> u32 {
        for pair in bytes.chunks(2) {
            sum += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
        }
        sum
    }

    fn fold(mut sum: u32) -> u16 {
        while sum > 0xFFFF {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// A TCP segment: header with `options` (padded with `pad` to a multiple
    /// of 4 unless `raw_offset` forces the data offset), then `payload`.
    pub struct Tcp<'a> {
        pub sport: u16,
        pub dport: u16,
        pub seq: u32,
        pub ack: u32,
        pub flags: u8,
        pub options: &'a [u8],
        pub payload: &'a [u8],
        pub raw_offset: Option<u8>,
        pub bad_checksum: bool,
    }

    impl Default for Tcp<'_> {
        fn default() -> Self {
            Tcp {
                sport: 40000,
                dport: 80,
                seq: 1000,
                ack: 0,
                flags: 0x02,
                options: &[],
                payload: &[],
                raw_offset: None,
                bad_checksum: false,
            }
        }
    }

    impl Tcp<'_> {
        /// The segment bytes, checksummed over `pseudo` (src, dst addresses).
        pub fn bytes(&self, src: &[u8], dst: &[u8]) -> Vec<u8> {
            let mut options = self.options.to_vec();
            while !options.len().is_multiple_of(4) {
                options.push(0);
            }
            let offset = self.raw_offset.unwrap_or((5 + options.len() / 4) as u8);
            let mut t = Vec::new();
            t.extend(self.sport.to_be_bytes());
            t.extend(self.dport.to_be_bytes());
            t.extend(self.seq.to_be_bytes());
            t.extend(self.ack.to_be_bytes());
            t.push(offset << 4);
            t.push(self.flags);
            t.extend(29200u16.to_be_bytes());
            t.extend([0, 0, 0, 7]);
            t.extend(&options);
            t.extend(self.payload);
            let len = t.len() as u32;
            let mut sum = sum16(sum16(0, src), dst) + 6 + (len >> 16) + (len & 0xFFFF);
            sum = sum16(sum, &t);
            let ck = fold(sum) ^ if self.bad_checksum { 0x1111 } else { 0 };
            t[16..18].copy_from_slice(&ck.to_be_bytes());
            t
        }
    }

    pub fn ipv4(
        src: [u8; 4],
        dst: [u8; 4],
        ip_options: &[u8],
        tcp: &Tcp<'_>,
        extra_len: u16,
        frag: u16,
    ) -> Vec<u8> {
        let body = tcp.bytes(&src, &final_dst_v4(ip_options).unwrap_or(dst));
        ipv4_raw(src, dst, ip_options, 6, &body, extra_len, frag)
    }

    fn final_dst_v4(options: &[u8]) -> Option<[u8; 4]> {
        let (kind, len) = (*options.first()?, usize::from(*options.get(1)?));
        (kind == 131 || kind == 137).then(|| options[len - 4..len].try_into().unwrap())
    }

    pub fn ipv4_raw(
        src: [u8; 4],
        dst: [u8; 4],
        ip_options: &[u8],
        proto: u8,
        body: &[u8],
        extra_len: u16,
        frag: u16,
    ) -> Vec<u8> {
        let hlen = 20 + ip_options.len();
        let total = (hlen + body.len()) as u16 + extra_len;
        let mut h = vec![0x40 | (hlen / 4) as u8, 0x02];
        h.extend(total.to_be_bytes());
        h.extend(0x1234u16.to_be_bytes());
        h.extend(frag.to_be_bytes());
        h.extend([64, proto, 0, 0]);
        h.extend(src);
        h.extend(dst);
        h.extend(ip_options);
        let ck = fold(sum16(0, &h));
        h[10..12].copy_from_slice(&ck.to_be_bytes());
        h.extend(body);
        h
    }

    /// IPv6 with extension headers `ext` (already chained, the last one's next
    /// header being `last_nh`... given as `first_nh`), then `body`.
    pub fn ipv6(
        src: [u8; 16],
        dst: [u8; 16],
        first_nh: u8,
        ext: &[u8],
        body: &[u8],
        plen: Option<u16>,
    ) -> Vec<u8> {
        let mut h = vec![0x60, 0x0A, 0xBC, 0xDE];
        h.extend(
            plen.unwrap_or((ext.len() + body.len()) as u16)
                .to_be_bytes(),
        );
        h.push(first_nh);
        h.push(57);
        h.extend(src);
        h.extend(dst);
        h.extend(ext);
        h.extend(body);
        h
    }

    pub fn ether(ether_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        f.extend(ether_type.to_be_bytes());
        f.extend(payload);
        f
    }

    /// Writes a pcap of `link_type` with (frame, captured length) records.
    pub fn write_pcap(path: &Path, link_type: u32, frames: &[(Vec<u8>, usize)]) {
        let mut out = Vec::new();
        out.extend(0xA1B2_C3D4u32.to_le_bytes());
        out.extend(2u16.to_le_bytes());
        out.extend(4u16.to_le_bytes());
        out.extend([0u8; 8]);
        out.extend(262_144u32.to_le_bytes());
        out.extend(link_type.to_le_bytes());
        for (i, (frame, caplen)) in frames.iter().enumerate() {
            let caplen = (*caplen).min(frame.len());
            out.extend((1_700_000_000 + i as u32 * 7).to_le_bytes());
            out.extend((i as u32 * 123_457 % 1_000_000).to_le_bytes());
            out.extend((caplen as u32).to_le_bytes());
            out.extend((frame.len() as u32).to_le_bytes());
            out.extend(&frame[..caplen]);
        }
        std::fs::write(path, out).unwrap();
    }
}

fn v6(s: &str) -> [u8; 16] {
    s.parse::<std::net::Ipv6Addr>().unwrap().octets()
}

fn synthetic_captures(dir: &Path) -> Vec<PathBuf> {
    use synthetic::*;
    let a = [10, 0, 0, 1];
    let b = [10, 0, 0, 2];
    let full = usize::MAX;
    let mut eth = Vec::new();
    let push_v4 = |frames: &mut Vec<(Vec<u8>, usize)>, opts: &[u8], tcp: Tcp<'_>, caplen: usize| {
        frames.push((ether(0x0800, &ipv4(a, b, opts, &tcp, 0, 0)), caplen));
    };
    // A connection with SACK, relative numbers, a SYN re-recording the ISNs.
    let syn = Tcp {
        options: &[
            2, 4, 5, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ],
        ..Tcp::default()
    };
    push_v4(&mut eth, &[], syn, full);
    let synack = Tcp {
        sport: 80,
        dport: 40000,
        seq: 5000,
        ack: 1001,
        flags: 0x12,
        options: &[2, 4, 5, 0xB4],
        ..Tcp::default()
    };
    eth.push((ether(0x0800, &ipv4(b, a, &[], &synack, 0, 0)), full));
    let sack = [
        1, 1, 5, 18, 0, 0, 0x13, 0x8A, 0, 0, 0x13, 0x92, 0, 0, 0x13, 0x9C, 0, 0, 0x13, 0xA6,
    ];
    let acked = Tcp {
        sport: 80,
        dport: 40000,
        seq: 5001,
        ack: 1101,
        flags: 0x10,
        options: &sack,
        ..Tcp::default()
    };
    eth.push((ether(0x0800, &ipv4(b, a, &[], &acked, 0, 0)), full));
    let data = Tcp {
        seq: 1001,
        ack: 5001,
        flags: 0x18,
        payload: b"hello world",
        ..Tcp::default()
    };
    push_v4(&mut eth, &[], data, full);
    let again = Tcp {
        seq: 9_000_000,
        ack: 5001,
        flags: 0x12,
        ..Tcp::default()
    };
    push_v4(&mut eth, &[], again, full);
    let after = Tcp {
        seq: 9_000_010,
        ack: 5011,
        flags: 0xF9,
        ..Tcp::default()
    };
    push_v4(&mut eth, &[], after, full);
    // Every option kind tcpdump names, and malformed ones.
    let kinds: &[&[u8]] = &[
        &[
            6, 6, 0, 0, 0, 9, 7, 6, 0, 0, 0, 8, 11, 6, 0, 0, 0, 1, 12, 6, 0, 0, 0, 2, 13, 6, 0, 0,
            0, 3,
        ],
        &[
            19, 18, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0,
        ],
        &[20, 4, 0xAB, 7, 28, 4, 0x01, 0x2D, 28, 4, 0x00, 0x3C],
        &[29, 8, 3, 4, 0xDE, 0xAD, 0xBE, 0xEF, 29, 3, 9],
        &[34, 2, 34, 6, 1, 2, 3, 4, 34, 5, 1, 2, 3],
        &[
            254, 4, 0xF9, 0x89, 254, 8, 0xF9, 0x89, 1, 2, 3, 4, 254, 6, 0x12, 0x34, 5, 6, 253, 4,
            0x12, 0x34,
        ],
        &[99, 2, 99, 5, 1, 2, 3, 2, 5, 5, 1, 0, 0, 3, 4, 1],
        &[5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1],
        &[1, 2, 1, 7],
        &[1, 9, 40],
        &[8, 10, 0, 0, 0, 1],
        &[30, 12, 0x00, 0x81, 1, 2, 3, 4, 5, 6, 7, 8],
        &[30, 4, 0x01, 0x01],
    ];
    for (i, options) in kinds.iter().enumerate() {
        let flags = if i == 11 { 0x02 } else { 0x18 };
        push_v4(
            &mut eth,
            &[],
            Tcp {
                options,
                flags,
                sport: 41000 + i as u16,
                ack: 77,
                payload: b"xy",
                ..Tcp::default()
            },
            full,
        );
    }
    // MPTCP subtypes.
    let mptcp: &[(&[u8], u8)] = &[
        (&[30, 4, 0x00, 0x01], 0x02),
        (
            &[
                30, 20, 0x01, 0x81, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
            ],
            0x10,
        ),
        (&[30, 12, 0x10, 0x05, 0, 0, 0, 9, 0, 0, 0, 10], 0x02),
        (
            &[30, 16, 0x11, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 10],
            0x12,
        ),
        (
            &[
                30, 24, 0x10, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                19, 20,
            ],
            0x10,
        ),
        (
            &[
                30, 20, 0x20, 0x1F, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7,
            ],
            0x10,
        ),
        (&[30, 8, 0x20, 0x01, 0, 0, 0, 5], 0x10),
        (&[30, 10, 0x30, 0x02, 10, 1, 2, 3, 0x1F, 0x90], 0x10),
        (
            &[30, 16, 0x30, 0x02, 10, 1, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8],
            0x10,
        ),
        (&[30, 5, 0x40, 1, 2], 0x10),
        (&[30, 4, 0x51, 3], 0x10),
        (&[30, 12, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 42], 0x10),
        (&[30, 12, 0x70, 0, 1, 2, 3, 4, 5, 6, 7, 8], 0x14),
        (&[30, 3, 0x90], 0x10),
        (&[30, 2, 1, 1], 0x10),
        (&[30, 6, 0x20, 0x01, 0, 0], 0x10),
    ];
    for (i, (options, flags)) in mptcp.iter().enumerate() {
        push_v4(
            &mut eth,
            &[],
            Tcp {
                options,
                flags: *flags,
                sport: 42000 + i as u16,
                ack: 1,
                ..Tcp::default()
            },
            full,
        );
    }
    // Checksums, flags, data offsets, cut headers and options, IP lengths.
    push_v4(
        &mut eth,
        &[],
        Tcp {
            bad_checksum: true,
            flags: 0xC2,
            ..Tcp::default()
        },
        full,
    );
    push_v4(
        &mut eth,
        &[],
        Tcp {
            flags: 0,
            ..Tcp::default()
        },
        full,
    );
    push_v4(
        &mut eth,
        &[],
        Tcp {
            raw_offset: Some(3),
            ..Tcp::default()
        },
        full,
    );
    push_v4(
        &mut eth,
        &[],
        Tcp {
            raw_offset: Some(15),
            flags: 0x10,
            ..Tcp::default()
        },
        full,
    );
    push_v4(&mut eth, &[], Tcp::default(), 14 + 20 + 12);
    push_v4(&mut eth, &[], Tcp::default(), 14 + 20 + 2);
    let long_opts = [
        2, 4, 5, 0xB4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7,
    ];
    for cut in [21, 23, 25, 30, 38] {
        push_v4(
            &mut eth,
            &[],
            Tcp {
                options: &long_opts,
                flags: 0x10,
                ..Tcp::default()
            },
            14 + 20 + cut,
        );
    }
    let md5 = [
        19, 18, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, 1,
    ];
    push_v4(
        &mut eth,
        &[],
        Tcp {
            options: &md5,
            payload: b"0123456789",
            ..Tcp::default()
        },
        14 + 20 + 40 + 4,
    );
    eth.push((
        ether(
            0x0800,
            &ipv4(
                a,
                b,
                &[],
                &Tcp {
                    payload: b"abc",
                    ..Tcp::default()
                },
                30,
                0,
            ),
        ),
        full,
    ));
    eth.push((
        ether(0x0800, &ipv4(a, b, &[], &Tcp::default(), 0, 0x2000)),
        full,
    ));
    eth.push((
        ether(0x0800, &ipv4(a, b, &[], &Tcp::default(), 0, 0x4000)),
        full,
    ));
    // IPv4 options: LSRR (checksum over the final hop), timestamps, router alert, RR.
    let lsrr = [131, 11, 4, 10, 0, 0, 9, 10, 0, 0, 8, 1];
    push_v4(&mut eth, &lsrr, Tcp::default(), full);
    let ts = [68, 12, 5, 0x01, 10, 0, 0, 1, 0, 0, 0, 9];
    push_v4(&mut eth, &ts, Tcp::default(), full);
    let ra = [148, 4, 0, 1, 7, 7, 4, 0, 1, 0, 0, 0];
    push_v4(&mut eth, &ra, Tcp::default(), full);
    // Same ports both ways (the address order decides), and AH.
    let same = Tcp {
        sport: 5000,
        dport: 5000,
        flags: 0x10,
        ack: 99,
        ..Tcp::default()
    };
    eth.push((ether(0x0800, &ipv4(b, a, &[], &same, 0, 0)), full));
    eth.push((
        ether(
            0x0800,
            &ipv4(
                b,
                a,
                &[],
                &Tcp {
                    seq: 1100,
                    ack: 199,
                    ..same
                },
                0,
                0,
            ),
        ),
        full,
    ));
    let mut ah = vec![6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 5];
    ah.extend([0xAA; 12]);
    ah.extend(
        Tcp {
            flags: 0x10,
            ack: 1,
            ..Tcp::default()
        }
        .bytes(&a, &b),
    );
    eth.push((ether(0x0800, &ipv4_raw(a, b, &[], 51, &ah, 0, 0)), full));
    // IPv6: plain, embedded IPv4 address, extension headers, fragments, routing, AH, jumbo-less zero length.
    let (s6, d6) = (v6("2001:db8::1"), v6("::10.0.0.2"));
    let t6 = |tcp: &Tcp<'_>| tcp.bytes(&s6, &d6);
    let plain = t6(&Tcp {
        flags: 0x10,
        ack: 5,
        payload: b"six",
        ..Tcp::default()
    });
    eth.push((ether(0x86DD, &ipv6(s6, d6, 6, &[], &plain, None)), full));
    let hbh = [60, 0, 5, 2, 0, 0, 1, 0];
    let dst_opts = [6, 1, 1, 4, 0, 0, 0, 0, 0xC9, 0x10, 0, 0, 0, 0, 0, 0];
    let mut ext = hbh.to_vec();
    ext.extend(dst_opts);
    eth.push((ether(0x86DD, &ipv6(s6, d6, 0, &ext, &plain, None)), full));
    let frag = [6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78];
    eth.push((ether(0x86DD, &ipv6(s6, d6, 44, &frag, &plain, None)), full));
    let frag_first = [6, 0, 0, 1, 0x12, 0x34, 0x56, 0x78];
    eth.push((
        ether(0x86DD, &ipv6(s6, d6, 44, &frag_first, &plain, None)),
        full,
    ));
    let final_dst = v6("2001:db8::99");
    let mut routing = vec![6, 2, 0, 1, 0, 0, 0, 0];
    routing.extend(final_dst);
    let routed = Tcp {
        flags: 0x10,
        ack: 5,
        ..Tcp::default()
    }
    .bytes(&s6, &final_dst);
    eth.push((
        ether(0x86DD, &ipv6(s6, d6, 43, &routing, &routed, None)),
        full,
    ));
    let mut srh = vec![6, 2, 4, 0, 0, 0, 0x12, 0x34];
    srh.extend(final_dst);
    eth.push((ether(0x86DD, &ipv6(s6, d6, 43, &srh, &routed, None)), full));
    let mut ah6 = vec![6, 4, 0, 0, 0, 0, 2, 0, 0, 0, 0, 6];
    ah6.extend([0xBB; 12]);
    eth.push((ether(0x86DD, &ipv6(s6, d6, 51, &ah6, &plain, None)), full));
    eth.push((ether(0x86DD, &ipv6(s6, d6, 6, &[], &plain, Some(0))), full));
    eth.push((ether(0x86DD, &ipv6(s6, d6, 6, &[], &plain, Some(40))), full));
    // HTTP and SSH payloads: request and response lines, tokens cut by
    // spaces, tabs, CR, LF and other bytes, long tokens, lines without an
    // end, cut by the snap length (in the data, in the header), RST, and the
    // port dispatch's order (SSH before HTTP, FTP, RTSP and TELNET apart).
    let header = 14 + 20 + 20;
    let apps: &[(&[u8], u16, u16, u8, usize)] = &[
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 40000, 80, 0x18, full),
        (
            b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n\x00\x01bin\r\n",
            80,
            40000,
            0x18,
            full,
        ),
        (b"get / x\nB\n\nC\r\n", 40000, 8080, 0x18, full),
        (b"GET / HTTP/1.1", 40000, 80, 0x18, full),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n",
            40000,
            80,
            0x18,
            header + 8,
        ),
        (b"GET / x\r\nA\r\n", 40000, 80, 0x18, header + 10),
        (b"GET / x\r\n", 40000, 80, 0x18, header + 8),
        (b"FOO 404\r\n", 40000, 80, 0x18, header + 6),
        (b"GET\r\nHost: x\r\n", 40000, 80, 0x18, full),
        (b"GET\x0b/ x\r\n", 40000, 80, 0x18, full),
        (b"GET /\xe9 x\r\n", 40000, 80, 0x18, full),
        (b"GET / x\rY\r\n", 40000, 80, 0x18, full),
        (b"GET / x\r", 40000, 80, 0x18, full),
        (b"GET\t/ x\r\n", 40000, 80, 0x18, full),
        (b"FOO 404\t\r\n", 40000, 80, 0x18, full),
        (b"FOO\t404\r\n", 40000, 80, 0x18, full),
        (b"FOO \t404\r\n", 40000, 80, 0x18, full),
        (b"FOO 4041\r\n", 40000, 80, 0x18, full),
        (b"X 200", 40000, 80, 0x18, full),
        (b"\r\nGET / x\r\n", 40000, 80, 0x18, full),
        (b"hello", 40000, 80, 0x18, full),
        (&[b'A'; 128], 40000, 80, 0x18, full),
        (b"SSH-2.0-x\r\n", 40000, 22, 0x18, full),
        (b"SSH-2.0-x", 40000, 22, 0x18, full),
        (b"SSH-2.0-x\r\n", 40000, 22, 0x18, header + 6),
        (b"SSH-2.0-x\r\n", 40000, 22, 0x18, header + 2),
        (b"SSH-2.0-\tx\r\n", 40000, 22, 0x18, full),
        (b"SSH-2.0-x\rz\r\n", 40000, 22, 0x18, full),
        (b"SSH-", 40000, 22, 0x18, full),
        (b"SSH-\n", 40000, 22, 0x18, full),
        (b"SSH-2.0-x\n", 22, 80, 0x18, full),
        (b"GET / x\r\n", 80, 22, 0x18, full),
        (b"GET / x\r\n", 23, 80, 0x18, full),
        (b"GET / x\r\n", 21, 80, 0x18, full),
        (b"GET / x\r\n", 554, 5000, 0x18, full),
        (b"GET / x\r\n", 40000, 80, 0x14, full),
        (b"SSH-1 x\n", 22, 40000, 0x14, full),
    ];
    for &(payload, sport, dport, flags, caplen) in apps {
        push_v4(
            &mut eth,
            &[],
            Tcp {
                sport,
                dport,
                flags,
                ack: 1,
                payload,
                ..Tcp::default()
            },
            caplen,
        );
    }
    // Headers ending with end-of-options cut by the snap length: tcpdump
    // checks the header was captured whole before it reads the data.
    for caplen in [header + 2, header + 8] {
        push_v4(
            &mut eth,
            &[],
            Tcp {
                ack: 1,
                flags: 0x18,
                payload: b"GET / x\r\n",
                options: &[0, 0, 0, 0, 1, 1, 1, 1],
                ..Tcp::default()
            },
            caplen,
        );
    }
    // VLAN and PPPoE.
    let mut tagged = vec![0, 5, 0x08, 0x00];
    tagged.extend(ipv4(a, b, &[], &Tcp::default(), 0, 0));
    eth.push((ether(0x8100, &tagged), full));
    let ip = ipv4(
        a,
        b,
        &[],
        &Tcp {
            payload: b"pppoe",
            ..Tcp::default()
        },
        0,
        0,
    );
    let mut pppoe = vec![0x11, 0, 0x12, 0x34];
    pppoe.extend(((ip.len() + 2) as u16).to_be_bytes());
    pppoe.extend([0, 0x21]);
    pppoe.extend(&ip);
    eth.push((ether(0x8864, &pppoe), full));

    let mut files = Vec::new();
    let path = dir.join("synthetic-ether.pcap");
    write_pcap(&path, 1, &eth);
    files.push(path);
    // SLL2 on interface 1 (the loopback on Linux), outgoing; raw IP; null.
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    sll2.extend(ipv4(a, b, &[], &Tcp::default(), 0, 0));
    let path = dir.join("synthetic-sll2.pcap");
    write_pcap(&path, 276, &[(sll2, full)]);
    files.push(path);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend(ipv4(a, b, &[], &Tcp::default(), 0, 0));
    let mut null6 = 30u32.to_le_bytes().to_vec();
    null6.extend(ipv6(s6, d6, 6, &[], &plain, None));
    let path = dir.join("synthetic-null.pcap");
    write_pcap(&path, 0, &[(null, full), (null6, full)]);
    files.push(path);
    files
}

#[test]
fn synthetic_packets_against_tcpdump() {
    assert!(
        Command::new("tcpdump").arg("--version").output().is_ok(),
        "tcpdump is the reference here: install it (scripts/test.sh does)"
    );
    let dir = std::env::temp_dir().join(format!("synack-tcpdump-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut tally = Tally::default();
    for pcap in synthetic_captures(&dir) {
        for options in ["", "-v", "-S -v", "-ttt", "-tttt", "-vv"] {
            let output = Command::new("tcpdump")
                .env("TZ", "GMT0")
                .args(["-#", "-n"])
                .args(options.split_whitespace())
                .arg("-r")
                .arg(&pcap)
                .output()
                .expect("run tcpdump");
            let expected = String::from_utf8_lossy(&output.stdout);
            let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
            let opts = match options {
                // Beyond the suite's subset: the TCP part of -vv differs only by `seq` on every segment.
                "-vv" => TcpdumpOptions {
                    verbose: 2,
                    ..parse_options("").unwrap()
                },
                _ => parse_options(options).unwrap(),
            };
            compare(&mut tally, &name, options, &pcap, opts, &expected, None);
        }
    }
    if std::env::var_os("SYNACK_KEEP_SYNTHETIC").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("synthetic captures kept in {}", dir.display());
    }
    tally.report("synthetic packets");
    assert!(
        tally.frames > 100,
        "too few frames compared: {}",
        tally.frames
    );
    assert!(
        tally.failures.is_empty(),
        "{} differences",
        tally.failures.len()
    );
}
