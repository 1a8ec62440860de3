//! The `tcpdump` output format: for each TCP packet, the line tcpdump 4.99.3
//! (as Debian bookworm ships it) prints with `-n`, and with `-v`, `-t`,
//! `-tt`, `-ttt`, `-tttt`, `-ttttt`, `-S` and `-#`: the whole line for
//! segments without data and for the data tcpdump gives its HTTP or SSH
//! printer, otherwise up to and including the TCP part's `length N`.
//!
//! After `length N`, of what tcpdump prints for the data, this format prints
//! the `[remaining caplen(C) < header length(H)]` mark of a header cut by the
//! snap length, and the HTTP and SSH parts (on HTTP's ports 80 and 8080 and
//! SSH's 22, in the order of tcpdump's port dispatch): `: HTTP`, with the
//! request or response line (`: HTTP: GET / HTTP/1.1`), or with `-v`
//! `, length: N` and every text line on its own line after a tab; `: SSH: `
//! and the version banner (`SSH-2.0-...`); their marks `[|http]` and
//! `[|ssh]`. Not printed: the decoding of other protocols (BGP, DNS, FTP,
//! RTSP, ...), the data of a RST with `-v`, and the hex dumps of `-x`.
//! Everything before `length N` is printed as tcpdump prints it: the
//! frame number (`-#`), the timestamp, the SLL2 interface and direction, the
//! `IP`/`IP6` part (with `-v`, the IPv4 fields and options, the IPv6 traffic
//! class, flow label and hop limit, IPv6 extension headers and AH), the
//! ports, `Flags [...]`, the checksum (`-v`), relative or absolute (`-S`)
//! sequence numbers, `ack`, `win`, `urg`, the options list (MSS, window
//! scale, SACK, timestamps, MD5, TCP-AO, user timeout, MPTCP, TCP Fast Open,
//! SCPS, unknown kinds, `[bad opt]`, `[len N]`), and tcpdump's truncation and
//! error marks (`[|tcp]`, `[|mptcp]`, `[bad hdr length ...]`,
//! `truncated-ip - N bytes missing!`).
//!
//! Relative sequence numbers follow tcpdump's own table of initial sequence
//! numbers (print-tcp.c's `tcp_seq_hash`): a conversation is recorded on the
//! first segment with ACK set seen for it, and recorded again on every
//! segment with SYN and ACK set; that segment prints absolute numbers, later
//! ones print numbers relative to it.
//!
//! Times are printed in UTC (tcpdump prints local time for the default and
//! `-tttt` styles: run it with `TZ=GMT0` to compare). With `-v`, tcpdump ends
//! the IP part with a newline and four spaces: so does this format, and a
//! packet then takes two lines.
//!
//! tcpdump's `-ttt` measures from the previous packet of the capture,
//! whatever its protocol: tell the printer about every packet that is not
//! printed with [`TcpdumpPrinter::skip_packet`], or let
//! [`TcpdumpPrinter::write_frame`] decode every frame and do it.

mod app;
mod ip;
mod ip6;
mod mptcp;
mod tcp;
mod time;

use std::collections::HashMap;
use std::io::{self, Write};

use synack_core::capture::Packet;
use synack_core::frame::{self, Decoded, FrameError, Layer, TcpFrame};
use synack_core::ip::IpHeader;
use synack_core::link::{self, Network};

use time::{Clock, TimeVal};

/// How the timestamp at the start of each line is written (tcpdump's `-t` options).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimestampStyle {
    /// No `-t`: `HH:MM:SS.ffffff` (in UTC).
    #[default]
    Default,
    /// `-t`: no timestamp.
    None,
    /// `-tt`: seconds since the epoch, `SSSSSSSSSS.ffffff`.
    Epoch,
    /// `-ttt`: time since the previous packet of the capture, ` HH:MM:SS.ffffff`
    /// (`-` instead of the space when time went backwards).
    Delta,
    /// `-tttt`: `YYYY-MM-DD HH:MM:SS.ffffff` (in UTC).
    Date,
    /// `-ttttt`: time since the first packet of the capture.
    SinceFirst,
}

impl TimestampStyle {
    /// The style of `-t` repeated `count` times (0 to 5).
    pub fn from_t_count(count: usize) -> Option<Self> {
        Some(match count {
            0 => TimestampStyle::Default,
            1 => TimestampStyle::None,
            2 => TimestampStyle::Epoch,
            3 => TimestampStyle::Delta,
            4 => TimestampStyle::Date,
            5 => TimestampStyle::SinceFirst,
            _ => return None,
        })
    }
}

/// The tcpdump options this format follows (`-n` is implied: addresses and
/// ports are always numeric).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpdumpOptions {
    /// `-v` given this many times. 0 or 1 are tcpdump's exact output; at 2
    /// and more, the TCP part also shows `seq` on every segment, as tcpdump
    /// does; the HTTP part is the same at any level above 0, as tcpdump's.
    pub verbose: u8,
    /// The `-t` options.
    pub timestamps: TimestampStyle,
    /// `-S`: absolute sequence numbers.
    pub absolute_seq: bool,
    /// `-#`: the capture's frame number, right-aligned in five columns, first.
    pub frame_numbers: bool,
}

/// Key of a conversation in tcpdump's table: addresses and ports in the
/// order tcpdump collates them.
type ConversationKey = ([u8; 16], [u8; 16], u32);

/// Writes tcpdump lines, keeping the state tcpdump keeps across packets
/// (the initial sequence numbers of each conversation, the reference time of
/// `-ttt`/`-ttttt`).
#[derive(Debug)]
pub struct TcpdumpPrinter {
    opts: TcpdumpOptions,
    clock: Clock,
    /// tcpdump's `tcp_seq_hash4` and `tcp_seq_hash6`: (seq, ack) bases.
    conversations_v4: HashMap<ConversationKey, (u32, u32)>,
    conversations_v6: HashMap<ConversationKey, (u32, u32)>,
    /// Interface names by index, read once (for SLL2 lines).
    interface_names: Option<HashMap<u32, String>>,
}

/// tcpdump's MAXIMUM_SNAPLEN: records longer than this are invalid.
const MAXIMUM_SNAPLEN: u32 = 262_144;

/// LINKTYPE_LINUX_SLL2.
const LINKTYPE_LINUX_SLL2: u32 = 276;

impl TcpdumpPrinter {
    /// A printer with empty state.
    pub fn new(opts: TcpdumpOptions) -> Self {
        TcpdumpPrinter {
            opts,
            clock: Clock::default(),
            conversations_v4: HashMap::new(),
            conversations_v6: HashMap::new(),
            interface_names: None,
        }
    }

    /// The options.
    pub fn options(&self) -> &TcpdumpOptions {
        &self.opts
    }

    /// Accounts for a packet of the capture that is not printed (tcpdump's
    /// `-ttt` deltas run from the previous packet, whatever it carries).
    pub fn skip_packet(&mut self, packet: &Packet<'_>) {
        if record_is_valid(packet) {
            self.clock
                .skip(self.opts.timestamps, TimeVal::from_ns(packet.ts_ns));
        }
    }

    /// Decodes `packet` and writes its line when it carries a TCP header
    /// (including the TCP headers tcpdump prints with an error mark, such as
    /// a fixed header cut by the snap length or a data offset out of range);
    /// otherwise accounts for it with [`Self::skip_packet`]. Returns whether
    /// a line was written.
    pub fn write_frame(&mut self, out: &mut impl Write, packet: &Packet<'_>) -> io::Result<bool> {
        match frame::decode(packet.link_type, packet.data) {
            Ok(Decoded::Tcp(tcp)) => {
                self.write_packet(out, packet, &tcp)?;
                Ok(true)
            }
            Err(FrameError {
                layer: Layer::Tcp, ..
            }) => {
                let ip_offset = match link::network_layer(packet.link_type, packet.data) {
                    Ok(Network::Ip { offset, .. }) => offset,
                    _ => {
                        self.skip_packet(packet);
                        return Ok(false);
                    }
                };
                self.write_at(out, packet, ip_offset)?;
                Ok(true)
            }
            _ => {
                self.skip_packet(packet);
                Ok(false)
            }
        }
    }

    /// Writes the line (two lines with `-v` and IPv4), newline included, of
    /// `packet`, whose TCP segment `tcp` was decoded by
    /// [`synack_core::frame::decode`].
    pub fn write_packet(
        &mut self,
        out: &mut impl Write,
        packet: &Packet<'_>,
        tcp: &TcpFrame<'_>,
    ) -> io::Result<()> {
        let ip_start = match &tcp.ip {
            IpHeader::V4(h) => h.slice().as_ptr(),
            IpHeader::V6(h, _) => h.slice().as_ptr(),
        } as usize;
        let ip_offset = ip_start
            .checked_sub(packet.data.as_ptr() as usize)
            .filter(|&o| o < packet.data.len())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the TCP frame was not decoded from this packet's bytes",
                )
            })?;
        self.write_at(out, packet, ip_offset)
    }

    /// Writes the line of `packet`, whose IP header is at `ip_offset`.
    fn write_at(
        &mut self,
        out: &mut impl Write,
        packet: &Packet<'_>,
        ip_offset: usize,
    ) -> io::Result<()> {
        if self.opts.frame_numbers {
            // "%5u  " of an unsigned int.
            write!(out, "{:5}  ", packet.frame as u32)?;
        }
        if !record_is_valid(packet) {
            return write_invalid_header(out, packet);
        }
        self.clock
            .write(out, self.opts.timestamps, TimeVal::from_ns(packet.ts_ns))?;
        if packet.link_type.0 == LINKTYPE_LINUX_SLL2 {
            self.write_sll2_prefix(out, packet.data)?;
        }
        let wire_len = write_pppoe_prefix(out, packet, ip_offset)?
            .unwrap_or_else(|| packet.orig_len.saturating_sub(ip_offset as u32));
        let mut line = Line {
            out,
            proto: "",
            verbose: self.opts.verbose,
        };
        let result = ip::write(&mut line, &packet.data[ip_offset..], wire_len).and_then(|next| {
            tcp::write(
                &mut line,
                &mut Conversations {
                    v4: &mut self.conversations_v4,
                    v6: &mut self.conversations_v6,
                    absolute: self.opts.absolute_seq,
                },
                &next,
            )
        });
        match result {
            Ok(()) | Err(Halt::End) => {}
            Err(Halt::Trunc) => write!(line.out, " [|{}]", line.proto)?,
            Err(Halt::Io(e)) => return Err(e),
        }
        line.out.write_all(b"\n")
    }

    /// SLL2 lines start with the interface name (`%-5s`, looked up by index on
    /// this machine, as tcpdump does) and the packet type (`%-3s`).
    fn write_sll2_prefix(&mut self, out: &mut impl Write, data: &[u8]) -> io::Result<()> {
        let (Some(index), Some(&pkttype)) = (data.get(4..8), data.get(10)) else {
            return Ok(());
        };
        let index = u32::from_be_bytes([index[0], index[1], index[2], index[3]]);
        let names = self.interface_names.get_or_insert_with(interface_names);
        let name = names.get(&index).map_or("?", String::as_str);
        let kind = match pkttype {
            0 => "In",
            1 => "B",
            2 => "M",
            3 => "P",
            4 => "Out",
            _ => "?",
        };
        write!(out, "{name:<5} {kind:<3} ")
    }
}

/// For IP in a PPPoE session, writes what print-pppoe.c prints before the
/// IP part, and returns the length the IP layer is given (the PPPoE length,
/// less the PPP header).
fn write_pppoe_prefix(
    out: &mut impl Write,
    packet: &Packet<'_>,
    ip_offset: usize,
) -> io::Result<Option<u32>> {
    let data = packet.data;
    let be16 = |at: usize| {
        data.get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    // Where the EtherType is, and where what it announces starts.
    let (mut type_at, mut body_at) = match packet.link_type.0 {
        1 => (12, 14),
        113 => (14, 16),
        LINKTYPE_LINUX_SLL2 => (0, 20),
        _ => return Ok(None),
    };
    let mut ether_type = be16(type_at);
    while let Some(0x8100 | 0x9100 | 0x9200 | 0x88A8) = ether_type {
        type_at = body_at + 2;
        body_at += 4;
        ether_type = be16(type_at);
    }
    if ether_type != Some(0x8864) || body_at + 6 > ip_offset {
        return Ok(None);
    }
    let pppoe = &data[body_at..body_at + 6];
    let (version, kind) = (pppoe[0] >> 4, pppoe[0] & 0x0F);
    if version != 1 {
        write!(out, " [ver {version}]")?;
    }
    if kind != 1 {
        write!(out, " [type {kind}]")?;
    }
    out.write_all(b"PPPoE ")?;
    let length = packet.orig_len.saturating_sub(body_at as u32 + 6);
    let mut pppoe_length = u32::from(u16::from_be_bytes([pppoe[4], pppoe[5]]));
    if pppoe_length > length {
        write!(out, " [len {pppoe_length} > {length}!]")?;
        pppoe_length = length;
    }
    let session = u16::from_be_bytes([pppoe[2], pppoe[3]]);
    if session != 0 {
        write!(out, " [ses 0x{session:x}]")?;
    }
    out.write_all(b" ")?;
    let ppp_header_len = (ip_offset - body_at - 6) as u32;
    Ok(Some(pppoe_length.saturating_sub(ppp_header_len)))
}

/// The checks of print.c's `pretty_print_packet` on the record lengths.
fn record_is_valid(packet: &Packet<'_>) -> bool {
    let caplen = packet.data.len() as u64;
    let len = u64::from(packet.orig_len);
    caplen != 0
        && len != 0
        && len >= caplen
        && caplen <= u64::from(MAXIMUM_SNAPLEN)
        && len <= u64::from(MAXIMUM_SNAPLEN)
}

/// What tcpdump prints instead of a record whose lengths are invalid.
fn write_invalid_header(out: &mut impl Write, packet: &Packet<'_>) -> io::Result<()> {
    let caplen = packet.data.len() as u64;
    let len = u64::from(packet.orig_len);
    let max = u64::from(MAXIMUM_SNAPLEN);
    let mut first = true;
    let mut item = |out: &mut dyn Write, text: std::fmt::Arguments<'_>| -> io::Result<()> {
        out.write_all(if first { b"[Invalid header:" } else { b"," })?;
        first = false;
        out.write_fmt(text)
    };
    if caplen == 0 {
        item(out, format_args!(" caplen==0"))?;
    }
    if len == 0 {
        item(out, format_args!(" len==0"))?;
    } else if len < caplen {
        item(out, format_args!(" len({len}) < caplen({caplen})"))?;
    }
    if caplen > max {
        item(out, format_args!(" caplen({caplen}) > {max}"))?;
    }
    if len > max {
        item(out, format_args!(" len({len}) > {max}"))?;
    }
    out.write_all(b"]\n")
}

/// Interface names by index from /sys/class/net (Linux); empty elsewhere.
fn interface_names() -> HashMap<u32, String> {
    let mut names = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return names;
    };
    for entry in dir.flatten() {
        let Ok(index) = std::fs::read_to_string(entry.path().join("ifindex")) else {
            continue;
        };
        if let (Ok(index), Some(name)) = (index.trim().parse(), entry.file_name().to_str()) {
            names.insert(index, name.to_owned());
        }
    }
    names
}

/// Why printing a packet stopped before its end.
#[derive(Debug)]
enum Halt {
    /// Writing failed.
    Io(io::Error),
    /// A field was read past the captured bytes: tcpdump's longjmp, which
    /// prints ` [|proto]` with the protocol being printed.
    Trunc,
    /// The printer returned early, having printed its own mark.
    End,
}

impl From<io::Error> for Halt {
    fn from(e: io::Error) -> Self {
        Halt::Io(e)
    }
}

type Step<T = ()> = Result<T, Halt>;

/// The line being written, and tcpdump's `ndo_protocol` (named in ` [|proto]`).
struct Line<'o, W: Write> {
    out: &'o mut W,
    proto: &'static str,
    verbose: u8,
}

impl<W: Write> Line<'_, W> {
    fn print(&mut self, args: std::fmt::Arguments<'_>) -> Step {
        self.out.write_fmt(args).map_err(Halt::Io)
    }

    fn text(&mut self, s: &str) -> Step {
        self.out.write_all(s.as_bytes()).map_err(Halt::Io)
    }

    fn bytes(&mut self, b: &[u8]) -> Step {
        self.out.write_all(b).map_err(Halt::Io)
    }
}

/// Bounds-checked big-endian reads: reading past the captured bytes is
/// tcpdump's truncation longjmp.
trait Get {
    fn u8_at(&self, at: usize) -> Step<u8>;
    fn u16_at(&self, at: usize) -> Step<u16>;
    fn u32_at(&self, at: usize) -> Step<u32>;
    fn u64_at(&self, at: usize) -> Step<u64>;
    fn bytes_at(&self, at: usize, len: usize) -> Step<&[u8]>;
}

impl Get for [u8] {
    fn u8_at(&self, at: usize) -> Step<u8> {
        self.get(at).copied().ok_or(Halt::Trunc)
    }
    fn u16_at(&self, at: usize) -> Step<u16> {
        let b = self.bytes_at(at, 2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32_at(&self, at: usize) -> Step<u32> {
        let b = self.bytes_at(at, 4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64_at(&self, at: usize) -> Step<u64> {
        let b = self.bytes_at(at, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn bytes_at(&self, at: usize, len: usize) -> Step<&[u8]> {
        at.checked_add(len)
            .and_then(|end| self.get(at..end))
            .ok_or(Halt::Trunc)
    }
}

/// tcpdump's two tables of initial sequence numbers.
struct Conversations<'t> {
    v4: &'t mut HashMap<ConversationKey, (u32, u32)>,
    v6: &'t mut HashMap<ConversationKey, (u32, u32)>,
    absolute: bool,
}

/// An IP address as tcpdump prints it with `-n`.
#[derive(Clone, Copy, Debug)]
struct Addr<'a>(&'a [u8]);

impl std::fmt::Display for Addr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            [a, b, c, d] => write!(f, "{a}.{b}.{c}.{d}"),
            v6 if v6.len() == 16 => ip6::fmt_ipv6(f, v6),
            _ => Ok(()),
        }
    }
}

/// The one's complement checksum of `parts` (RFC 1071), as tcpdump's
/// `in_cksum` computes it: 0 when the sum over data holding a checksum is right.
fn in_cksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &byte in *part {
            match odd.take() {
                Some(high) => sum += u64::from(u16::from_be_bytes([high, byte])),
                None => odd = Some(byte),
            }
        }
    }
    if let Some(high) = odd {
        sum += u64::from(u16::from_be_bytes([high, 0]));
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// `in_cksum_shouldbe`: the checksum field value that would have been right.
fn cksum_shouldbe(field: u16, computed: u16) -> u16 {
    let mut s = u32::from(field) + u32::from(computed);
    s = (s & 0xFFFF) + (s >> 16);
    s = (s & 0xFFFF) + (s >> 16);
    s as u16
}
