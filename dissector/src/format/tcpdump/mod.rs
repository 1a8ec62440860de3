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
use std::fmt;
use std::io::{self, Write};

use rustc_hash::FxHashMap;

use synack_core::capture::Packet;
use synack_core::frame::{self, Decoded, FrameError, Layer, TcpFrame};
use synack_core::ip::IpHeader;
use synack_core::link::{self, Network};

use time::{Clock, TimeVal};

use super::digits::{two_digits, DIGIT_PAIRS, HEX_DIGITS, OCTETS};

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
    conversations_v4: FxHashMap<ConversationKey, (u32, u32)>,
    conversations_v6: FxHashMap<ConversationKey, (u32, u32)>,
    /// The line being built, written out whole (reused from packet to packet).
    buf: Vec<u8>,
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
            conversations_v4: FxHashMap::default(),
            conversations_v6: FxHashMap::default(),
            buf: Vec::new(),
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
        self.buf.clear();
        let mut line = Line {
            buf: &mut self.buf,
            proto: "",
            verbose: self.opts.verbose,
        };
        if self.opts.frame_numbers {
            // "%5u  " of an unsigned int.
            line.padded(u64::from(packet.frame as u32), 5, b' ');
            line.text("  ");
        }
        if !record_is_valid(packet) {
            write_invalid_header(&mut line, packet);
            return out.write_all(&self.buf);
        }
        self.clock.write(
            &mut line,
            self.opts.timestamps,
            TimeVal::from_ns(packet.ts_ns),
        );
        if packet.link_type.0 == LINKTYPE_LINUX_SLL2 {
            let names = self.interface_names.get_or_insert_with(interface_names);
            write_sll2_prefix(&mut line, names, packet.data);
        }
        let wire_len = write_pppoe_prefix(&mut line, packet, ip_offset)
            .unwrap_or_else(|| packet.orig_len.saturating_sub(ip_offset as u32));
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
        if let Err(Halt::Trunc) = result {
            line.trunc_mark();
        }
        line.byte(b'\n');
        out.write_all(&self.buf)
    }
}

/// SLL2 lines start with the interface name (`%-5s`, looked up by index in
/// `names`, as tcpdump does on this machine) and the packet type (`%-3s`).
fn write_sll2_prefix(line: &mut Line<'_>, names: &HashMap<u32, String>, data: &[u8]) {
    let (Some(index), Some(&pkttype)) = (data.get(4..8), data.get(10)) else {
        return;
    };
    let index = u32::from_be_bytes([index[0], index[1], index[2], index[3]]);
    let name = names.get(&index).map_or("?", String::as_str);
    let kind = match pkttype {
        0 => "In",
        1 => "B",
        2 => "M",
        3 => "P",
        4 => "Out",
        _ => "?",
    };
    line.print(format_args!("{name:<5} {kind:<3} "));
}

/// For IP in a PPPoE session, writes what print-pppoe.c prints before the
/// IP part, and returns the length the IP layer is given (the PPPoE length,
/// less the PPP header).
fn write_pppoe_prefix(line: &mut Line<'_>, packet: &Packet<'_>, ip_offset: usize) -> Option<u32> {
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
        _ => return None,
    };
    let mut ether_type = be16(type_at);
    while let Some(0x8100 | 0x9100 | 0x9200 | 0x88A8) = ether_type {
        type_at = body_at + 2;
        body_at += 4;
        ether_type = be16(type_at);
    }
    if ether_type != Some(0x8864) || body_at + 6 > ip_offset {
        return None;
    }
    let pppoe = &data[body_at..body_at + 6];
    let (version, kind) = (pppoe[0] >> 4, pppoe[0] & 0x0F);
    if version != 1 {
        line.print(format_args!(" [ver {version}]"));
    }
    if kind != 1 {
        line.print(format_args!(" [type {kind}]"));
    }
    line.text("PPPoE ");
    let length = packet.orig_len.saturating_sub(body_at as u32 + 6);
    let mut pppoe_length = u32::from(u16::from_be_bytes([pppoe[4], pppoe[5]]));
    if pppoe_length > length {
        line.print(format_args!(" [len {pppoe_length} > {length}!]"));
        pppoe_length = length;
    }
    let session = u16::from_be_bytes([pppoe[2], pppoe[3]]);
    if session != 0 {
        line.print(format_args!(" [ses 0x{session:x}]"));
    }
    line.byte(b' ');
    let ppp_header_len = (ip_offset - body_at - 6) as u32;
    Some(pppoe_length.saturating_sub(ppp_header_len))
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
fn write_invalid_header(line: &mut Line<'_>, packet: &Packet<'_>) {
    let caplen = packet.data.len() as u64;
    let len = u64::from(packet.orig_len);
    let max = u64::from(MAXIMUM_SNAPLEN);
    let mut first = true;
    let mut item = |line: &mut Line<'_>, text: fmt::Arguments<'_>| {
        line.text(if first { "[Invalid header:" } else { "," });
        first = false;
        line.print(text);
    };
    if caplen == 0 {
        item(line, format_args!(" caplen==0"));
    }
    if len == 0 {
        item(line, format_args!(" len==0"));
    } else if len < caplen {
        item(line, format_args!(" len({len}) < caplen({caplen})"));
    }
    if caplen > max {
        item(line, format_args!(" caplen({caplen}) > {max}"));
    }
    if len > max {
        item(line, format_args!(" len({len}) > {max}"));
    }
    line.text("]\n");
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
    /// A field was read past the captured bytes: tcpdump's longjmp, which
    /// prints ` [|proto]` with the protocol being printed.
    Trunc,
    /// The printer returned early, having printed its own mark.
    End,
}

type Step<T = ()> = Result<T, Halt>;

/// The line being built, and tcpdump's `ndo_protocol` (named in ` [|proto]`).
struct Line<'b> {
    buf: &'b mut Vec<u8>,
    proto: &'static str,
    verbose: u8,
}

impl Line<'_> {
    /// Appends formatted text (for the rarer parts of a line).
    fn print(&mut self, args: fmt::Arguments<'_>) {
        // Formatting into memory fails only if a `Display` impl does, and
        // none used here does.
        let _ = fmt::Write::write_fmt(self, args);
    }

    /// Appends `s`.
    fn text(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Appends `b`.
    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Appends one byte.
    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    /// Appends tcpdump's truncation mark, ` [|proto]`.
    fn trunc_mark(&mut self) {
        self.text(" [|");
        self.text(self.proto);
        self.byte(b']');
    }

    /// Appends `n` in decimal (`%u`).
    fn num(&mut self, n: impl Into<u64>) {
        self.padded(n.into(), 0, b'0');
    }

    /// Appends `n` in decimal, right-aligned in `width` columns (at most 20)
    /// filled with `fill` (`%5u` with a space, `%02u` with a zero).
    // Inlined: most numbers of every line come here, and the call would be
    // a good part of the work.
    #[inline(always)]
    fn padded(&mut self, n: u64, width: usize, fill: u8) {
        // The digits end at FIELD in `field`; the FIELD bytes from where
        // they start are appended, then cut to length: a copy of fixed
        // size, cheaper than one of variable size.
        const FIELD: usize = 20;
        let mut field = [fill; 2 * FIELD];
        let mut start = FIELD;
        let mut rest = n;
        while rest >= 100 {
            let pair = (rest % 100) as usize * 2;
            rest /= 100;
            start -= 2;
            field[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        if rest >= 10 {
            let pair = rest as usize * 2;
            start -= 2;
            field[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        } else {
            start -= 1;
            field[start] = b'0' + rest as u8;
        }
        start = start.min(FIELD.saturating_sub(width));
        let len = self.buf.len() + FIELD - start;
        self.buf.extend_from_slice(&field[start..][..FIELD]);
        self.buf.truncate(len);
    }

    /// Appends `n` in lowercase hexadecimal, zero-padded to `width` digits
    /// (`%x`, `%04x`).
    fn hex(&mut self, n: u64, width: usize) {
        let len = (64 - n.leading_zeros() as usize).div_ceil(4).max(1);
        self.buf
            .resize(self.buf.len() + width.saturating_sub(len), b'0');
        for i in (0..len).rev() {
            self.byte(HEX_DIGITS[(n >> (4 * i)) as usize & 0xF]);
        }
    }

    /// Appends each byte of `b` as two hexadecimal digits.
    fn hex_bytes(&mut self, b: &[u8]) {
        for &byte in b {
            let digits = [
                HEX_DIGITS[usize::from(byte >> 4)],
                HEX_DIGITS[usize::from(byte & 0xF)],
            ];
            self.bytes(&digits);
        }
    }

    /// Appends an IP address (4 or 16 bytes) as tcpdump prints it with `-n`.
    fn addr(&mut self, a: &[u8]) {
        if let Ok(&v4) = a.try_into() {
            self.ipv4(v4);
        } else if a.len() == 16 {
            ip6::write_ipv6(self, a);
        }
    }

    /// Appends an IPv4 address in dotted decimal.
    fn ipv4(&mut self, a: [u8; 4]) {
        // Each octet's digits are copied 4 bytes at a time into `text`,
        // which is appended whole, then cut to length.
        let mut text = [0u8; 16];
        let mut len = 0;
        for (i, octet) in a.into_iter().enumerate() {
            let digits = OCTETS[usize::from(octet)];
            text[len..len + 4].copy_from_slice(&digits);
            len += usize::from(digits[3]);
            if i < 3 {
                text[len] = b'.';
                len += 1;
            }
        }
        let len = self.buf.len() + len;
        self.buf.extend_from_slice(&text);
        self.buf.truncate(len);
    }
}

impl fmt::Write for Line<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.text(s);
        Ok(())
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
    v4: &'t mut FxHashMap<ConversationKey, (u32, u32)>,
    v6: &'t mut FxHashMap<ConversationKey, (u32, u32)>,
    absolute: bool,
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

#[cfg(test)]
mod tests {
    use super::Line;

    /// What `write` appends to an empty line.
    fn render(write: impl FnOnce(&mut Line<'_>)) -> String {
        let mut buf = Vec::new();
        write(&mut Line {
            buf: &mut buf,
            proto: "tcp",
            verbose: 0,
        });
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn numbers_are_printfs() {
        for n in [0, 7, 10, 99, 100, 65_535, 4_294_967_295, u64::MAX] {
            assert_eq!(render(|l| l.num(n)), n.to_string());
            assert_eq!(render(|l| l.padded(n, 5, b' ')), format!("{n:5}"));
            assert_eq!(render(|l| l.padded(n, 6, b'0')), format!("{n:06}"));
            assert_eq!(render(|l| l.hex(n, 0)), format!("{n:x}"));
            assert_eq!(render(|l| l.hex(n, 4)), format!("{n:04x}"));
        }
        assert_eq!(render(|l| l.hex_bytes(&[0, 0x0f, 0xa0, 0xff])), "000fa0ff");
        assert_eq!(render(|l| l.trunc_mark()), " [|tcp]");
    }

    #[test]
    fn ipv4_addresses() {
        for a in [
            [0, 0, 0, 0],
            [1, 22, 133, 4],
            [255, 255, 255, 255],
            [10, 0, 100, 9],
        ] {
            let expected = std::net::Ipv4Addr::from(a).to_string();
            assert_eq!(render(|l| l.addr(&a)), expected);
        }
        assert_eq!(render(|l| l.addr(&[1, 2, 3])), "");
    }
}
