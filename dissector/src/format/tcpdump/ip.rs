//! The IPv4 part of a line: print-ip.c's `ip_print` with the IP options, and
//! AH (print-ah.c), down to the TCP segment (IPv6 is in `ip6`).

use super::{in_cksum, Get, Halt, Line, Step};

pub(super) const TCP: u8 = 6;
pub(super) const UDP: u8 = 17;
pub(super) const DCCP: u8 = 33;
pub(super) const SCTP: u8 = 132;
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
pub(super) fn write<'a>(line: &mut Line<'_>, ip: &'a [u8], wire_len: u32) -> Step<Segment<'a>> {
    match ip.first().map(|b| b >> 4) {
        Some(4) => write_v4(line, ip, wire_len),
        Some(6) => super::ip6::write_v6(line, ip, wire_len),
        _ => Err(Halt::End),
    }
}

pub(super) fn ipproto_name(p: u8) -> &'static str {
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

fn write_v4<'a>(line: &mut Line<'_>, ip: &'a [u8], wire_len: u32) -> Step<Segment<'a>> {
    line.proto = "ip";
    line.text("IP ");
    ip.bytes_at(0, 20)?;
    if wire_len < 20 {
        line.print(format_args!("truncated-ip {wire_len}"));
        return Err(Halt::End);
    }
    let hlen = usize::from(ip[0] & 0x0F) * 4;
    if hlen < 20 {
        line.print(format_args!("bad-hlen {hlen}"));
        return Err(Halt::End);
    }
    let len = u32::from(ip.u16_at(2)?);
    if wire_len < len {
        line.print(format_args!(
            "truncated-ip - {} bytes missing! ",
            len - wire_len
        ));
    }
    if (len as usize) < hlen {
        line.print(format_args!("bad-len {len}"));
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
        line.text("(tos 0x");
        line.hex(tos.into(), 0);
        match tos & 3 {
            1 => line.text(",ECT(1)"),
            2 => line.text(",ECT(0)"),
            3 => line.text(",CE"),
            _ => {}
        }
        let ttl = ip.u8_at(8)?;
        if ttl >= 1 {
            line.text(", ttl ");
            line.num(ttl);
        }
        line.text(", id ");
        line.num(ip.u16_at(4)?);
        line.text(", offset ");
        line.num(u32::from(off & 0x1FFF) * 8);
        line.text(", flags [");
        write_frag_flags(line, off);
        line.text("], proto ");
        line.text(ipproto_name(proto));
        line.text(" (");
        line.num(proto);
        line.text("), length ");
        line.num(ip.u16_at(2)?);
        let mut truncated = false;
        if hlen > 20 {
            line.text(", options (");
            if !write_ip_options(line, &ip[20..hlen.min(ip.len())], hlen - 20)? {
                line.text(" [truncated-option]");
                truncated = true;
            }
            line.text(")");
        }
        if let Some(header) = ip.get(..hlen) {
            let sum = in_cksum(&[header]);
            if sum != 0 {
                let field = ip.u16_at(10)?;
                line.print(format_args!(
                    ", bad cksum {:x} (->{:x})!",
                    field,
                    super::cksum_shouldbe(field, sum)
                ));
            }
        }
        line.text(")\n    ");
        if truncated {
            write_addresses(line, src, dst);
            return Err(Halt::Trunc);
        }
    }
    if off & 0x1FFF != 0 {
        write_addresses(line, src, dst);
        line.text("ip-proto-");
        line.num(proto);
        return Err(Halt::End);
    }
    if ![TCP, UDP, SCTP, DCCP].contains(&proto) {
        write_addresses(line, src, dst);
    }
    if ip.len() < hlen {
        line.print(format_args!(
            " [remaining caplen({}) < header length({})]",
            ip.len(),
            hlen
        ));
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

/// `SRC > DST: `, where the next printer does not print the addresses.
pub(super) fn write_addresses(line: &mut Line<'_>, src: &[u8], dst: &[u8]) {
    line.addr(src);
    line.text(" > ");
    line.addr(dst);
    line.text(": ");
}

/// `ip_demux_print` down to TCP, through AH headers: returns the offset of
/// the TCP header in `packet` and the TCP length.
pub(super) fn demux(
    line: &mut Line<'_>,
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
fn write_ah(line: &mut Line<'_>, ah: &[u8]) -> Step<usize> {
    line.text("AH");
    let ah_len = ah.u8_at(1)?;
    let hdr_len = (usize::from(ah_len) + 2) * 4;
    line.text("(");
    if line.verbose > 0 {
        line.print(format_args!("length={ah_len}({hdr_len}-bytes),"));
    }
    let reserved = ah.u16_at(2)?;
    if reserved != 0 {
        line.print(format_args!("reserved=0x{reserved:x}[MustBeZero],"));
    }
    line.print(format_args!("spi=0x{:08x},", ah.u32_at(4)?));
    line.print(format_args!("seq=0x{:x},", ah.u32_at(8)?));
    line.text("icv=0x");
    for at in 12..hdr_len {
        line.hex(ah.u8_at(at)?.into(), 2);
    }
    line.text("): ");
    Ok(hdr_len)
}

/// The IPv4 fragmentation flags of `off`, `bittok2str(ip_frag_values, "none", ...)`.
fn write_frag_flags(line: &mut Line<'_>, off: u16) {
    let mut sep = "";
    for (bit, name) in [(0x2000, "+"), (0x4000, "DF"), (0x8000, "rsvd")] {
        if off & bit != 0 {
            line.text(sep);
            line.text(name);
            sep = ", ";
        }
    }
    if sep.is_empty() {
        line.text("none");
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
fn write_ip_options(line: &mut Line<'_>, cp: &[u8], mut length: usize) -> Step<bool> {
    let mut at = 0;
    let mut sep = "";
    while length > 0 {
        line.text(sep);
        sep = ",";
        let code = cp.u8_at(at)?;
        match code {
            0 => line.text("EOL"),
            1 => line.text("NOP"),
            68 => line.text("timestamp"),
            130 => line.text("security"),
            7 => line.text("RR"),
            137 => line.text("SSRR"),
            131 => line.text("LSRR"),
            148 => line.text("RA"),
            82 => line.text("traceroute"),
            _ => line.print(format_args!("unknown {code}")),
        }
        let option_len = if code == 0 || code == 1 {
            1
        } else {
            let l = usize::from(cp.u8_at(at + 1)?);
            if l < 2 {
                line.print(format_args!(" [bad length {l}]"));
                return Ok(true);
            }
            l
        };
        if option_len > length {
            line.print(format_args!(" [bad length {option_len}]"));
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
                    line.print(format_args!(" [bad length {option_len}]"));
                } else {
                    let value = option.u16_at(2)?;
                    if value != 0 {
                        line.print(format_args!(" value {value}"));
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
fn write_ip_route(line: &mut Line<'_>, cp: &[u8]) -> Step {
    let length = cp.len();
    if length < 3 {
        line.print(format_args!(" [bad length {length}]"));
        return Ok(());
    }
    if (length + 1) & 3 != 0 {
        line.print(format_args!(" [bad length {length}]"));
    }
    let ptr = usize::from(cp.u8_at(2)?).wrapping_sub(1);
    if !(3..=length + 1).contains(&ptr) || (ptr + 1) & 3 != 0 {
        line.print(format_args!(" [bad ptr {}]", cp[2]));
    }
    let mut len = 3;
    while len < length {
        let Some(addr) = cp.get(len..len + 4) else {
            // ND_TCHECK_4 inside the option, which was checked whole: cannot happen
            // but for a length not a multiple of 4; tcpdump reports it truncated.
            return Err(Halt::Trunc);
        };
        line.byte(b' ');
        line.addr(addr);
        if ptr > len {
            line.text(",");
        }
        len += 4;
    }
    Ok(())
}

/// `ip_printts`: returns false when cut.
fn write_ip_timestamps(line: &mut Line<'_>, cp: &[u8]) -> Step<bool> {
    let length = cp.len();
    if length < 4 {
        line.print(format_args!("[bad length {length}]"));
        return Ok(true);
    }
    line.text(" TS{");
    let flags = cp.u8_at(3)?;
    let hoplen = if flags & 0xF != 0 { 8 } else { 4 };
    if (length - 4) & (hoplen - 1) != 0 {
        line.print(format_args!("[bad length {length}]"));
    }
    let ptr = usize::from(cp.u8_at(2)?).wrapping_sub(1);
    let mut len = 0;
    if ptr < 4 || (ptr.wrapping_sub(4)) & (hoplen - 1) != 0 || ptr > length + 1 {
        line.print(format_args!("[bad ptr {}]", cp[2]));
    }
    let known = match flags & 0xF {
        0 => {
            line.text("TSONLY");
            true
        }
        1 => {
            line.text("TS+ADDR");
            true
        }
        3 => {
            line.text("PRESPEC");
            true
        }
        other => {
            line.print(format_args!("[bad ts type {other}]"));
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
            line.print(format_args!("{kind}{ts}@"));
            if hoplen == 8 {
                line.addr(&hop[..4]);
            }
            kind = " ";
            len += hoplen;
        }
    }
    line.text(if ptr == len { " ^ " } else { "" });
    if flags >> 4 != 0 {
        line.print(format_args!(" [{} hops not recorded]}} ", flags >> 4));
    } else {
        line.text("}");
    }
    Ok(true)
}
