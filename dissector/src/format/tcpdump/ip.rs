//! The IP part of a line: print-ip.c's `ip_print`, print-ip6.c's
//! `ip6_print` with the extension headers it walks (print-ip6opts.c,
//! print-frag6.c, print-rt6.c), and AH (print-ah.c), down to the TCP segment.

use std::fmt;
use std::io::Write;

use super::{in_cksum, Addr, Get, Halt, Line, Step};

const TCP: u8 = 6;
const UDP: u8 = 17;
const DCCP: u8 = 33;
const SCTP: u8 = 132;
const AH: u8 = 51;

/// What the TCP printer needs from the IP layer.
pub(super) struct Segment<'a> {
    /// IPv6 rather than IPv4.
    pub v6: bool,
    /// Source address bytes.
    pub src: &'a [u8],
    /// Destination address bytes.
    pub dst: &'a [u8],
    /// Destination of the checksum pseudo-header (the final hop of a source route).
    pub pseudo_dst: &'a [u8],
    /// The fixed IP header's protocol / next header is TCP (otherwise tcpdump
    /// prints the ports without addresses).
    pub next_is_tcp: bool,
    /// The TCP bytes as tcpdump may read them (captured, within the IP length).
    pub tcp: &'a [u8],
    /// The TCP length the IP layer gives.
    pub length: u32,
    /// In a fragment (the checksum is not verified).
    pub fragmented: bool,
}

/// Writes the IP part of a packet whose IP header starts `ip` (the rest of
/// the captured frame); `wire_len` is the length on the wire from there.
pub(super) fn write<'a, W: Write>(
    line: &mut Line<'_, W>,
    ip: &'a [u8],
    wire_len: u32,
) -> Step<Segment<'a>> {
    match ip.first().map(|b| b >> 4) {
        Some(4) => write_v4(line, ip, wire_len),
        Some(6) => write_v6(line, ip, wire_len),
        _ => Err(Halt::End),
    }
}

fn ipproto_name(p: u8) -> &'static str {
    match p {
        0 => "Options",
        1 => "ICMP",
        2 => "IGMP",
        4 => "IPIP",
        6 => "TCP",
        8 => "EGP",
        9 => "IGRP",
        17 => "UDP",
        33 => "DCCP",
        41 => "IPv6",
        43 => "Routing",
        44 => "Fragment",
        46 => "RSVP",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        55 => "Mobile IP",
        58 => "ICMPv6",
        62 => "Mobile IP (old)",
        88 => "EIGRP",
        89 => "OSPF",
        103 => "PIM",
        108 => "Compressed IP",
        112 => "VRRP",
        113 => "PGM",
        132 => "SCTP",
        135 => "Mobility",
        143 => "Ethernet",
        _ => "unknown",
    }
}

fn write_v4<'a, W: Write>(
    line: &mut Line<'_, W>,
    ip: &'a [u8],
    wire_len: u32,
) -> Step<Segment<'a>> {
    line.proto = "ip";
    line.text("IP ")?;
    ip.bytes_at(0, 20)?;
    if wire_len < 20 {
        line.print(format_args!("truncated-ip {wire_len}"))?;
        return Err(Halt::End);
    }
    let hlen = usize::from(ip[0] & 0x0F) * 4;
    if hlen < 20 {
        line.print(format_args!("bad-hlen {hlen}"))?;
        return Err(Halt::End);
    }
    let len = u32::from(ip.u16_at(2)?);
    if wire_len < len {
        line.print(format_args!(
            "truncated-ip - {} bytes missing! ",
            len - wire_len
        ))?;
    }
    if (len as usize) < hlen {
        line.print(format_args!("bad-len {len}"))?;
        return Err(Halt::End);
    }
    // The snapshot ends with the IP datagram.
    let ip = &ip[..ip.len().min(len as usize)];
    let len = len as usize - hlen;
    let off = ip.u16_at(6)?;
    let proto = ip.u8_at(9)?;
    let (src, dst) = (ip.bytes_at(12, 4)?, ip.bytes_at(16, 4)?);
    if line.verbose > 0 {
        let tos = ip.u8_at(1)?;
        line.print(format_args!("(tos 0x{tos:x}"))?;
        match tos & 3 {
            1 => line.text(",ECT(1)")?,
            2 => line.text(",ECT(0)")?,
            3 => line.text(",CE")?,
            _ => {}
        }
        let ttl = ip.u8_at(8)?;
        if ttl >= 1 {
            line.print(format_args!(", ttl {ttl}"))?;
        }
        line.print(format_args!(
            ", id {}, offset {}, flags [{}], proto {} ({})",
            ip.u16_at(4)?,
            u32::from(off & 0x1FFF) * 8,
            FragFlags(off),
            ipproto_name(proto),
            proto
        ))?;
        line.print(format_args!(", length {}", ip.u16_at(2)?))?;
        let mut truncated = false;
        if hlen > 20 {
            line.text(", options (")?;
            if !write_ip_options(line, &ip[20..hlen.min(ip.len())], hlen - 20)? {
                line.text(" [truncated-option]")?;
                truncated = true;
            }
            line.text(")")?;
        }
        if let Some(header) = ip.get(..hlen) {
            let sum = in_cksum(&[header]);
            if sum != 0 {
                let field = ip.u16_at(10)?;
                line.print(format_args!(
                    ", bad cksum {:x} (->{:x})!",
                    field,
                    super::cksum_shouldbe(field, sum)
                ))?;
            }
        }
        line.text(")\n    ")?;
        if truncated {
            line.print(format_args!("{} > {}: ", Addr(src), Addr(dst)))?;
            return Err(Halt::Trunc);
        }
    }
    if off & 0x1FFF != 0 {
        line.print(format_args!(
            "{} > {}: ip-proto-{}",
            Addr(src),
            Addr(dst),
            proto
        ))?;
        return Err(Halt::End);
    }
    if ![TCP, UDP, SCTP, DCCP].contains(&proto) {
        line.print(format_args!("{} > {}: ", Addr(src), Addr(dst)))?;
    }
    if ip.len() < hlen {
        line.print(format_args!(
            " [remaining caplen({}) < header length({})]",
            ip.len(),
            hlen
        ))?;
        return Err(Halt::Trunc);
    }
    let pseudo_dst = if hlen == 20 {
        dst
    } else {
        ipv4_final_dst(&ip[20..hlen]).unwrap_or(dst)
    };
    let (tcp_at, length) = demux(line, ip, hlen, len, proto)?;
    Ok(Segment {
        v6: false,
        src,
        dst,
        pseudo_dst,
        next_is_tcp: proto == TCP,
        tcp: ip.get(tcp_at..).unwrap_or(&[]),
        length,
        fragmented: off & 0x2000 != 0,
    })
}

/// `ip_demux_print` down to TCP, through AH headers: returns the offset of
/// the TCP header in `packet` and the TCP length.
fn demux<W: Write>(
    line: &mut Line<'_, W>,
    packet: &[u8],
    mut at: usize,
    mut len: usize,
    mut nh: u8,
) -> Step<(usize, u32)> {
    loop {
        match nh {
            TCP => return Ok((at, len as u32)),
            AH => {
                line.proto = "ah";
                nh = packet.u8_at(at)?;
                let advance = write_ah(line, &packet[at..])?;
                at += advance;
                len = len.wrapping_sub(advance);
            }
            _ => return Err(Halt::End),
        }
    }
}

/// print-ah.c's `ah_print`; returns the header length.
fn write_ah<W: Write>(line: &mut Line<'_, W>, ah: &[u8]) -> Step<usize> {
    line.text("AH")?;
    let ah_len = ah.u8_at(1)?;
    let hdr_len = (usize::from(ah_len) + 2) * 4;
    line.text("(")?;
    if line.verbose > 0 {
        line.print(format_args!("length={ah_len}({hdr_len}-bytes),"))?;
    }
    let reserved = ah.u16_at(2)?;
    if reserved != 0 {
        line.print(format_args!("reserved=0x{reserved:x}[MustBeZero],"))?;
    }
    line.print(format_args!("spi=0x{:08x},", ah.u32_at(4)?))?;
    line.print(format_args!("seq=0x{:x},", ah.u32_at(8)?))?;
    line.text("icv=0x")?;
    for at in 12..hdr_len {
        line.print(format_args!("{:02x}", ah.u8_at(at)?))?;
    }
    line.text("): ")?;
    Ok(hdr_len)
}

/// The IPv4 fragmentation flags, `bittok2str(ip_frag_values, "none", ...)`.
struct FragFlags(u16);

impl fmt::Display for FragFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for (bit, name) in [(0x2000, "+"), (0x4000, "DF"), (0x8000, "rsvd")] {
            if self.0 & bit != 0 {
                write!(f, "{sep}{name}")?;
                sep = ", ";
            }
        }
        if sep.is_empty() {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// `ip_finddst`: the last address of a loose or strict source route option.
fn ipv4_final_dst(options: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    while at < options.len() {
        let kind = options[at];
        let len = match kind {
            0 => return None,
            1 => 1,
            _ => {
                let len = usize::from(*options.get(at + 1)?);
                if len < 2 {
                    return None;
                }
                len
            }
        };
        let option = options.get(at..at + len)?;
        if (kind == 131 || kind == 137) && len >= 7 {
            return Some(&option[len - 4..]);
        }
        at += len;
    }
    None
}

/// `ip_optprint`: returns false when an option is cut (tcpdump's -1).
fn write_ip_options<W: Write>(line: &mut Line<'_, W>, cp: &[u8], mut length: usize) -> Step<bool> {
    let mut at = 0;
    let mut sep = "";
    while length > 0 {
        line.text(sep)?;
        sep = ",";
        let code = cp.u8_at(at)?;
        match code {
            0 => line.text("EOL")?,
            1 => line.text("NOP")?,
            68 => line.text("timestamp")?,
            130 => line.text("security")?,
            7 => line.text("RR")?,
            137 => line.text("SSRR")?,
            131 => line.text("LSRR")?,
            148 => line.text("RA")?,
            82 => line.text("traceroute")?,
            _ => line.print(format_args!("unknown {code}"))?,
        }
        let option_len = if code == 0 || code == 1 {
            1
        } else {
            let l = usize::from(cp.u8_at(at + 1)?);
            if l < 2 {
                line.print(format_args!(" [bad length {l}]"))?;
                return Ok(true);
            }
            l
        };
        if option_len > length {
            line.print(format_args!(" [bad length {option_len}]"))?;
            return Ok(true);
        }
        let Some(option) = cp.get(at..at + option_len) else {
            return Ok(false);
        };
        match code {
            0 => return Ok(true),
            68 if !write_ip_timestamps(line, option)? => return Ok(false),
            7 | 131 | 137 => write_ip_route(line, option)?,
            148 => {
                if option_len < 4 {
                    line.print(format_args!(" [bad length {option_len}]"))?;
                } else {
                    let value = option.u16_at(2)?;
                    if value != 0 {
                        line.print(format_args!(" value {value}"))?;
                    }
                }
            }
            _ => {}
        }
        at += option_len;
        length -= option_len;
    }
    Ok(true)
}

/// `ip_printroute`.
fn write_ip_route<W: Write>(line: &mut Line<'_, W>, cp: &[u8]) -> Step {
    let length = cp.len();
    if length < 3 {
        return line.print(format_args!(" [bad length {length}]"));
    }
    if (length + 1) & 3 != 0 {
        line.print(format_args!(" [bad length {length}]"))?;
    }
    let ptr = usize::from(cp.u8_at(2)?).wrapping_sub(1);
    if !(3..=length + 1).contains(&ptr) || (ptr + 1) & 3 != 0 {
        line.print(format_args!(" [bad ptr {}]", cp[2]))?;
    }
    let mut len = 3;
    while len < length {
        let Some(addr) = cp.get(len..len + 4) else {
            // ND_TCHECK_4 inside the option, which was checked whole: cannot happen
            // but for a length not a multiple of 4; tcpdump reports it truncated.
            return Err(Halt::Trunc);
        };
        line.print(format_args!(" {}", Addr(addr)))?;
        if ptr > len {
            line.text(",")?;
        }
        len += 4;
    }
    Ok(())
}

/// `ip_printts`: returns false when cut.
fn write_ip_timestamps<W: Write>(line: &mut Line<'_, W>, cp: &[u8]) -> Step<bool> {
    let length = cp.len();
    if length < 4 {
        line.print(format_args!("[bad length {length}]"))?;
        return Ok(true);
    }
    line.text(" TS{")?;
    let flags = cp.u8_at(3)?;
    let hoplen = if flags & 0xF != 0 { 8 } else { 4 };
    if (length - 4) & (hoplen - 1) != 0 {
        line.print(format_args!("[bad length {length}]"))?;
    }
    let ptr = usize::from(cp.u8_at(2)?).wrapping_sub(1);
    let mut len = 0;
    if ptr < 4 || (ptr.wrapping_sub(4)) & (hoplen - 1) != 0 || ptr > length + 1 {
        line.print(format_args!("[bad ptr {}]", cp[2]))?;
    }
    let known = match flags & 0xF {
        0 => {
            line.text("TSONLY")?;
            true
        }
        1 => {
            line.text("TS+ADDR")?;
            true
        }
        3 => {
            line.text("PRESPEC")?;
            true
        }
        other => {
            line.print(format_args!("[bad ts type {other}]"))?;
            false
        }
    };
    if known {
        let mut kind = " ";
        len = 4;
        while len < length {
            if ptr == len {
                kind = " ^ ";
            }
            let Some(hop) = cp.get(len..len + hoplen) else {
                return Ok(false);
            };
            let ts = hop.u32_at(hoplen - 4)?;
            if hoplen == 8 {
                line.print(format_args!("{kind}{ts}@{}", Addr(&hop[..4])))?;
            } else {
                line.print(format_args!("{kind}{ts}@"))?;
            }
            kind = " ";
            len += hoplen;
        }
    }
    line.text(if ptr == len { " ^ " } else { "" })?;
    if flags >> 4 != 0 {
        line.print(format_args!(" [{} hops not recorded]}} ", flags >> 4))?;
    } else {
        line.text("}")?;
    }
    Ok(true)
}

fn write_v6<'a, W: Write>(
    line: &mut Line<'_, W>,
    ip6: &'a [u8],
    wire_len: u32,
) -> Step<Segment<'a>> {
    line.proto = "ip6";
    ip6.bytes_at(0, 40)?;
    if wire_len < 40 {
        line.print(format_args!("truncated-ip6 {wire_len}"))?;
        return Err(Halt::End);
    }
    line.text("IP6 ")?;
    let mut payload_len = u32::from(ip6.u16_at(4)?);
    let mut len = if payload_len != 0 {
        let len = payload_len + 40;
        if wire_len < len {
            line.print(format_args!(
                "truncated-ip6 - {} bytes missing!",
                len - wire_len
            ))?;
        }
        len
    } else {
        wire_len + 40
    };
    let mut nh = ip6.u8_at(6)?;
    if line.verbose > 0 {
        let flow = ip6.u32_at(0)?;
        line.text("(")?;
        if flow & 0x0ff0_0000 != 0 {
            line.print(format_args!("class 0x{:02x}, ", (flow & 0x0ff0_0000) >> 20))?;
        }
        if flow & 0x000f_ffff != 0 {
            line.print(format_args!("flowlabel 0x{:05x}, ", flow & 0x000f_ffff))?;
        }
        line.print(format_args!(
            "hlim {}, next-header {} ({}) payload length: {}) ",
            ip6.u8_at(7)?,
            ipproto_name(nh),
            nh,
            payload_len
        ))?;
    }
    let (src, dst) = (&ip6[8..24], &ip6[24..40]);
    let first_nh = nh;
    let mut snap = &ip6[..ip6.len().min(len as usize)];
    let mut cp = 0usize;
    let mut advance = 40usize;
    let mut total_advance = 0usize;
    let mut ph = 255u8;
    let mut fragmented = false;
    let mut found_extension_header = false;
    let mut found_jumbo = false;
    let mut found_hbh = false;
    while cp < snap.len() && advance > 0 {
        if (len as usize) < advance {
            return Err(Halt::Trunc);
        }
        cp += advance;
        len -= advance as u32;
        total_advance += advance;
        if cp == 40 && ![TCP, UDP, DCCP, SCTP].contains(&nh) {
            line.print(format_args!("{} > {}: ", Addr(src), Addr(dst)))?;
        }
        match nh {
            0 => {
                if found_hbh {
                    line.text("[The Hop-by-Hop Options header was already found] (invalid)")?;
                    return Err(Halt::End);
                }
                if ph != 255 {
                    line.text(
                        "[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)",
                    )?;
                    return Err(Halt::End);
                }
                let adv = write_ip6_options_header(
                    line,
                    &snap[cp..],
                    true,
                    &mut found_jumbo,
                    &mut payload_len,
                )?;
                if payload_len == 0 && !found_jumbo {
                    line.text("[No valid Jumbo Payload Hop-by-Hop option found] (invalid)")?;
                    return Err(Halt::End);
                }
                advance = adv.ok_or(Halt::End)?;
                found_extension_header = true;
                found_hbh = true;
                nh = snap.u8_at(cp)?;
            }
            60 => {
                advance = write_ip6_options_header(line, &snap[cp..], false, &mut false, &mut 0)?
                    .ok_or(Halt::End)?;
                found_extension_header = true;
                nh = snap.u8_at(cp)?;
            }
            44 => {
                line.proto = "frag6";
                let frag = &snap[cp..];
                let offlg = frag.u16_at(2)?;
                let rest = (40 + u64::from(ip6.u16_at(4)?))
                    .wrapping_sub(cp as u64)
                    .wrapping_sub(8);
                if line.verbose > 0 {
                    line.print(format_args!(
                        "frag (0x{:08x}:{}|{})",
                        frag.u32_at(4)?,
                        offlg & 0xFFF8,
                        rest
                    ))?;
                } else {
                    line.print(format_args!("frag ({}|{})", offlg & 0xFFF8, rest))?;
                }
                if offlg & 0xFFF8 != 0 {
                    return Err(Halt::End);
                }
                line.text(" ")?;
                advance = 8;
                if snap.len() <= cp + advance {
                    return Err(Halt::End);
                }
                found_extension_header = true;
                nh = snap.u8_at(cp)?;
                fragmented = true;
            }
            43 => {
                snap.u8_at(cp)?;
                advance = write_rt6(line, &snap[cp..])?;
                found_extension_header = true;
                nh = snap.u8_at(cp)?;
            }
            62 | 135 => return Err(Halt::End),
            _ => {
                if found_jumbo {
                    len = payload_len + 40;
                    if (len as usize) < total_advance {
                        return Err(Halt::Trunc);
                    }
                    if wire_len < len {
                        line.print(format_args!(
                            "truncated-ip6 - {} bytes missing!",
                            len - wire_len
                        ))?;
                    }
                    snap = &ip6[..ip6.len().min(len as usize)];
                    len -= total_advance as u32;
                } else if payload_len == 0 {
                    if found_extension_header {
                        return Err(Halt::Trunc);
                    }
                    snap = &ip6[..40];
                    len = 0;
                }
                let pseudo_dst = ip6_final_dst(ip6, snap).unwrap_or(dst);
                let (tcp_at, length) = demux(line, snap, cp, len as usize, nh)?;
                return Ok(Segment {
                    v6: true,
                    src,
                    dst,
                    pseudo_dst,
                    next_is_tcp: first_nh == TCP,
                    tcp: snap.get(tcp_at..).unwrap_or(&[]),
                    length,
                    fragmented,
                });
            }
        }
        ph = nh;
        line.proto = "ip6";
    }
    Err(Halt::End)
}

/// `hbhopt_process` (hop-by-hop) and `dstopt_process` (destination options):
/// returns the header length, or `None` when cut (the mark is then written).
fn write_ip6_options_header<W: Write>(
    line: &mut Line<'_, W>,
    header: &[u8],
    hop_by_hop: bool,
    found_jumbo: &mut bool,
    payload_len: &mut u32,
) -> Step<Option<usize>> {
    line.proto = if hop_by_hop { "hbhopt" } else { "dstopt" };
    let hdr_len = (usize::from(header.u8_at(1)?) + 1) << 3;
    let cut = |line: &mut Line<'_, W>| -> Step<Option<usize>> {
        let proto = line.proto;
        line.print(format_args!(" [|{proto}]"))?;
        Ok(None)
    };
    let Some(header) = header.get(..hdr_len) else {
        return cut(line);
    };
    line.text(if hop_by_hop { "HBH " } else { "DSTOPT " })?;
    if hop_by_hop || line.verbose > 0 {
        let jumbo = if hop_by_hop {
            Some((found_jumbo, payload_len))
        } else {
            None
        };
        if !write_ip6_options(line, &header[2..], jumbo)? {
            return cut(line);
        }
    }
    Ok(Some(hdr_len))
}

/// `ip6_opt_process`: returns false when cut (tcpdump's -1).
fn write_ip6_options<W: Write>(
    line: &mut Line<'_, W>,
    bp: &[u8],
    mut jumbo: Option<(&mut bool, &mut u32)>,
) -> Step<bool> {
    let len = bp.len();
    if len == 0 {
        return Ok(true);
    }
    let v = line.verbose > 0;
    let mut seen_jumbo = false;
    let mut i = 0;
    while i < len {
        let kind = bp.u8_at(i)?;
        let optlen = if kind == 0 {
            1
        } else if i + 1 < len {
            usize::from(bp.u8_at(i + 1)?) + 2
        } else {
            return Ok(false);
        };
        if i + optlen > len {
            return Ok(false);
        }
        match kind {
            0 => {
                if v {
                    line.text("(pad1)")?;
                }
            }
            1 => {
                if len - i < 2 {
                    line.text("(padn: trunc)")?;
                    return Ok(false);
                }
                if v {
                    line.text("(padn)")?;
                }
            }
            5 => {
                if len - i < 4 {
                    line.text("(rtalert: trunc)")?;
                    return Ok(false);
                }
                let l = bp.u8_at(i + 1)?;
                if l != 2 {
                    line.print(format_args!("(rtalert: invalid len {l})"))?;
                    return Ok(false);
                }
                if v {
                    line.print(format_args!("(rtalert: 0x{:04x}) ", bp.u16_at(i + 2)?))?;
                }
            }
            0xC2 => {
                if len - i < 6 {
                    line.text("(jumbo: trunc)")?;
                    return Ok(false);
                }
                let l = bp.u8_at(i + 1)?;
                if l != 4 {
                    line.print(format_args!("(jumbo: invalid len {l})"))?;
                    return Ok(false);
                }
                let jumbolen = bp.u32_at(i + 2)?;
                if seen_jumbo {
                    if v {
                        line.print(format_args!("(jumbo: {jumbolen} - already seen) "))?;
                    }
                } else {
                    seen_jumbo = true;
                    match jumbo.as_mut() {
                        None => {
                            if v {
                                line.print(format_args!(
                                    "(jumbo: {jumbolen} - not a hop-by-hop option) "
                                ))?;
                            }
                        }
                        Some((_, payload_len)) if **payload_len != 0 => {
                            if v {
                                line.print(format_args!(
                                    "(jumbo: {jumbolen} - payload len != 0) "
                                ))?;
                            }
                        }
                        Some((found, payload_len)) => {
                            if jumbolen < 65536 {
                                if v {
                                    line.print(format_args!("(jumbo: {jumbolen} - < 65536) "))?;
                                }
                            } else {
                                **found = true;
                                **payload_len = jumbolen;
                                if v {
                                    line.print(format_args!("(jumbo: {jumbolen}) "))?;
                                }
                            }
                        }
                    }
                }
            }
            0xC9 => {
                if len - i < 18 {
                    line.text("(homeaddr: trunc)")?;
                    return Ok(false);
                }
                let l = bp.u8_at(i + 1)?;
                if l < 16 {
                    line.print(format_args!("(homeaddr: invalid len {l})"))?;
                    return Ok(false);
                }
                if v {
                    line.print(format_args!("(homeaddr: {}", Addr(bp.bytes_at(i + 2, 16)?)))?;
                    if l > 16 && !write_ip6_sub_options(line, &bp[i + 18..i + optlen])? {
                        return Ok(false);
                    }
                    line.text(")")?;
                }
            }
            _ => {
                if len - i < 2 {
                    line.print(format_args!("(type {kind}: trunc)"))?;
                    return Ok(false);
                }
                if v {
                    line.print(format_args!(
                        "(opt_type 0x{:02x}: len={})",
                        kind,
                        bp.u8_at(i + 1)?
                    ))?;
                }
            }
        }
        i += optlen;
    }
    if v {
        line.text(" ")?;
    }
    Ok(true)
}

/// `ip6_sopt_print` (sub-options of the home address option).
fn write_ip6_sub_options<W: Write>(line: &mut Line<'_, W>, bp: &[u8]) -> Step<bool> {
    let len = bp.len();
    let mut i = 0;
    while i < len {
        let kind = bp.u8_at(i)?;
        let optlen = if kind == 0 {
            1
        } else if i + 1 < len {
            usize::from(bp.u8_at(i + 1)?) + 2
        } else {
            return Ok(false);
        };
        if i + optlen > len {
            return Ok(false);
        }
        match kind {
            0 => line.text(", pad1")?,
            1 => {
                if len - i < 2 {
                    line.text(", padn: trunc")?;
                    return Ok(false);
                }
                line.text(", padn")?;
            }
            _ => {
                if len - i < 2 {
                    line.print(format_args!(", sopt_type {kind}: trunc)"))?;
                    return Ok(false);
                }
                line.print(format_args!(
                    ", sopt_type 0x{:02x}: len={}",
                    kind,
                    bp.u8_at(i + 1)?
                ))?;
            }
        }
        i += optlen;
    }
    Ok(true)
}

/// print-rt6.c's `rt6_print`: returns the header length.
fn write_rt6<W: Write>(line: &mut Line<'_, W>, dp: &[u8]) -> Step<usize> {
    line.proto = "rt6";
    line.text("RT6")?;
    let len = dp.u8_at(1)?;
    line.print(format_args!(" (len={len}"))?;
    let kind = dp.u8_at(2)?;
    line.print(format_args!(", type={kind}"))?;
    if kind == 0 {
        line.text(" [Deprecated]")?;
    }
    line.print(format_args!(", segleft={}", dp.u8_at(3)?))?;
    let segments_at = match kind {
        0 | 2 => {
            let reserved = dp.u32_at(4)?;
            if reserved != 0 || line.verbose > 0 {
                line.print(format_args!(", rsv=0x{reserved:x}"))?;
            }
            8
        }
        4 => {
            line.print(format_args!(", last-entry={}", dp.u8_at(4)?))?;
            let flags = dp.u8_at(5)?;
            if flags != 0 || line.verbose > 0 {
                line.print(format_args!(", flags=0x{flags:x}"))?;
            }
            line.print(format_args!(", tag={:x}", dp.u16_at(6)?))?;
            8
        }
        _ => {
            line.text(" (unknown type) (invalid)")?;
            return Err(Halt::End);
        }
    };
    if len % 2 == 1 {
        line.print(format_args!(" (invalid length {len}) (invalid)"))?;
        return Err(Halt::End);
    }
    for i in 0..usize::from(len / 2) {
        let addr = dp.bytes_at(segments_at + 16 * i, 16)?;
        line.print(format_args!(", [{i}]{}", Addr(addr)))?;
    }
    line.text(") ")?;
    Ok((usize::from(len) + 1) << 3)
}

/// `ip6_finddst`: the destination of the checksum pseudo-header, the final
/// one of a routing header when there is one.
fn ip6_final_dst<'a>(ip6: &'a [u8], snap: &'a [u8]) -> Option<&'a [u8]> {
    let mut nh = ip6[6];
    if ![0, 60, 62, 135, 44, 43].contains(&nh) {
        return None;
    }
    let mut dst = &ip6[24..40];
    let mut cp = 0usize;
    let mut advance = 40usize;
    while cp < snap.len() {
        cp += advance;
        match nh {
            0 | 60 | 62 | 135 => {
                advance = (usize::from(*snap.get(cp + 1)?) + 1) << 3;
                nh = *snap.get(cp)?;
            }
            44 => {
                advance = 8;
                nh = *snap.get(cp)?;
            }
            43 => {
                let rt = snap.get(cp..cp + 8)?;
                let len = usize::from(rt[1]);
                match rt[2] {
                    0 | 2 => {
                        if len % 2 == 1 {
                            return Some(dst);
                        }
                        for i in 0..len / 2 {
                            match snap.get(cp + 8 + 16 * i..cp + 24 + 16 * i) {
                                Some(a) => dst = a,
                                None => return Some(dst),
                            }
                        }
                    }
                    4 => {
                        if len % 2 == 1 {
                            return Some(dst);
                        }
                        if let Some(a) = snap.get(cp + 8..cp + 24) {
                            dst = a;
                        }
                    }
                    _ => {}
                }
                return Some(dst);
            }
            _ => return Some(dst),
        }
    }
    Some(dst)
}

/// `addrtostr6`: RFC 5952-like, but an address whose first 96 bits are zero
/// (or `::ffff:0:0/96`) prints its last 32 bits as an IPv4 address.
pub(super) fn fmt_ipv6(f: &mut fmt::Formatter<'_>, a: &[u8]) -> fmt::Result {
    let mut words = [0u16; 8];
    for (i, w) in words.iter_mut().enumerate() {
        *w = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    }
    let (mut best_base, mut best_len) = (None::<usize>, 0usize);
    let (mut cur_base, mut cur_len) = (None::<usize>, 0usize);
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            if cur_base.is_none() {
                cur_base = Some(i);
                cur_len = 1;
            } else {
                cur_len += 1;
            }
        } else if let Some(base) = cur_base {
            if best_base.is_none() || cur_len > best_len {
                best_base = Some(base);
                best_len = cur_len;
            }
            cur_base = None;
        }
    }
    if let Some(base) = cur_base {
        if best_base.is_none() || cur_len > best_len {
            best_base = Some(base);
            best_len = cur_len;
        }
    }
    if best_base.is_some() && best_len < 2 {
        best_base = None;
    }
    for (i, &w) in words.iter().enumerate() {
        if let Some(base) = best_base {
            if i >= base && i < base + best_len {
                if i == base {
                    f.write_str(":")?;
                }
                continue;
            }
        }
        if i != 0 {
            f.write_str(":")?;
        }
        if i == 6
            && best_base == Some(0)
            && (best_len == 6 || (best_len == 5 && words[5] == 0xFFFF))
        {
            return write!(f, "{}.{}.{}.{}", a[12], a[13], a[14], a[15]);
        }
        write!(f, "{w:x}")?;
    }
    if let Some(base) = best_base {
        if base + best_len == 8 {
            f.write_str(":")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Addr;

    fn v6(s: &str) -> String {
        let a: std::net::Ipv6Addr = s.parse().unwrap();
        Addr(&a.octets()).to_string()
    }

    #[test]
    fn ipv6_text_is_tcpdumps() {
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("2001:db8::1"), "2001:db8::1");
        assert_eq!(v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(v6("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(v6("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");
        assert_eq!(v6("2001:0:0:1:0:0:1:1"), "2001::1:0:0:1:1");
        assert_eq!(v6("fe80::"), "fe80::");
    }
}
