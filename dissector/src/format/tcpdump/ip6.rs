//! The IPv6 part of a line: print-ip6.c's `ip6_print` with the extension
//! headers it walks (print-ip6opts.c, print-frag6.c, print-rt6.c), and
//! `addrtostr6`.

use super::ip::{demux, ipproto_name, write_addresses, Segment, DCCP, SCTP, TCP, UDP};
use super::{Get, Halt, Line, Step};

/// Writes the IPv6 part of a packet (`ip6` is the rest of the captured frame).
pub(super) fn write_v6<'a>(line: &mut Line<'_>, ip6: &'a [u8], wire_len: u32) -> Step<Segment<'a>> {
    line.proto = "ip6";
    ip6.bytes_at(0, 40)?;
    if wire_len < 40 {
        line.print(format_args!("truncated-ip6 {wire_len}"));
        return Err(Halt::End);
    }
    line.text("IP6 ");
    let mut payload_len = u32::from(ip6.u16_at(4)?);
    let mut len = if payload_len != 0 {
        let len = payload_len + 40;
        if wire_len < len {
            line.print(format_args!(
                "truncated-ip6 - {} bytes missing!",
                len - wire_len
            ));
        }
        len
    } else {
        wire_len + 40
    };
    let mut nh = ip6.u8_at(6)?;
    if line.verbose > 0 {
        let flow = ip6.u32_at(0)?;
        line.text("(");
        if flow & 0x0ff0_0000 != 0 {
            line.print(format_args!("class 0x{:02x}, ", (flow & 0x0ff0_0000) >> 20));
        }
        if flow & 0x000f_ffff != 0 {
            line.print(format_args!("flowlabel 0x{:05x}, ", flow & 0x000f_ffff));
        }
        line.text("hlim ");
        line.num(ip6.u8_at(7)?);
        line.text(", next-header ");
        line.text(ipproto_name(nh));
        line.text(" (");
        line.num(nh);
        line.text(") payload length: ");
        line.num(payload_len);
        line.text(") ");
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
            write_addresses(line, src, dst);
        }
        match nh {
            0 => {
                if found_hbh {
                    line.text("[The Hop-by-Hop Options header was already found] (invalid)");
                    return Err(Halt::End);
                }
                if ph != 255 {
                    line.text(
                        "[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)",
                    );
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
                    line.text("[No valid Jumbo Payload Hop-by-Hop option found] (invalid)");
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
                    ));
                } else {
                    line.print(format_args!("frag ({}|{})", offlg & 0xFFF8, rest));
                }
                if offlg & 0xFFF8 != 0 {
                    return Err(Halt::End);
                }
                line.text(" ");
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
                        ));
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
fn write_ip6_options_header(
    line: &mut Line<'_>,
    header: &[u8],
    hop_by_hop: bool,
    found_jumbo: &mut bool,
    payload_len: &mut u32,
) -> Step<Option<usize>> {
    line.proto = if hop_by_hop { "hbhopt" } else { "dstopt" };
    let hdr_len = (usize::from(header.u8_at(1)?) + 1) << 3;
    let Some(header) = header.get(..hdr_len) else {
        line.trunc_mark();
        return Ok(None);
    };
    line.text(if hop_by_hop { "HBH " } else { "DSTOPT " });
    if hop_by_hop || line.verbose > 0 {
        let jumbo = if hop_by_hop {
            Some((found_jumbo, payload_len))
        } else {
            None
        };
        if !write_ip6_options(line, &header[2..], jumbo)? {
            line.trunc_mark();
            return Ok(None);
        }
    }
    Ok(Some(hdr_len))
}

/// `ip6_opt_process`: returns false when cut (tcpdump's -1).
fn write_ip6_options(
    line: &mut Line<'_>,
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
        let Some(optlen) = option_len(bp, i)? else {
            return Ok(false);
        };
        match kind {
            0 => {
                if v {
                    line.text("(pad1)");
                }
            }
            1 => {
                if len - i < 2 {
                    line.text("(padn: trunc)");
                    return Ok(false);
                }
                if v {
                    line.text("(padn)");
                }
            }
            5 => {
                if len - i < 4 {
                    line.text("(rtalert: trunc)");
                    return Ok(false);
                }
                let l = bp.u8_at(i + 1)?;
                if l != 2 {
                    line.print(format_args!("(rtalert: invalid len {l})"));
                    return Ok(false);
                }
                if v {
                    line.print(format_args!("(rtalert: 0x{:04x}) ", bp.u16_at(i + 2)?));
                }
            }
            0xC2 => {
                if len - i < 6 {
                    line.text("(jumbo: trunc)");
                    return Ok(false);
                }
                let l = bp.u8_at(i + 1)?;
                if l != 4 {
                    line.print(format_args!("(jumbo: invalid len {l})"));
                    return Ok(false);
                }
                let jumbolen = bp.u32_at(i + 2)?;
                if seen_jumbo {
                    if v {
                        line.print(format_args!("(jumbo: {jumbolen} - already seen) "));
                    }
                } else {
                    seen_jumbo = true;
                    match jumbo.as_mut() {
                        None => {
                            if v {
                                line.print(format_args!(
                                    "(jumbo: {jumbolen} - not a hop-by-hop option) "
                                ));
                            }
                        }
                        Some((_, payload_len)) if **payload_len != 0 => {
                            if v {
                                line.print(format_args!("(jumbo: {jumbolen} - payload len != 0) "));
                            }
                        }
                        Some((found, payload_len)) => {
                            if jumbolen < 65536 {
                                if v {
                                    line.print(format_args!("(jumbo: {jumbolen} - < 65536) "));
                                }
                            } else {
                                **found = true;
                                **payload_len = jumbolen;
                                if v {
                                    line.print(format_args!("(jumbo: {jumbolen}) "));
                                }
                            }
                        }
                    }
                }
            }
            0xC9 => {
                if len - i < 18 {
                    line.text("(homeaddr: trunc)");
                    return Ok(false);
                }
                let l = bp.u8_at(i + 1)?;
                if l < 16 {
                    line.print(format_args!("(homeaddr: invalid len {l})"));
                    return Ok(false);
                }
                if v {
                    line.text("(homeaddr: ");
                    line.addr(bp.bytes_at(i + 2, 16)?);
                    if l > 16 && !write_ip6_sub_options(line, &bp[i + 18..i + optlen])? {
                        return Ok(false);
                    }
                    line.text(")");
                }
            }
            _ => {
                if len - i < 2 {
                    line.print(format_args!("(type {kind}: trunc)"));
                    return Ok(false);
                }
                if v {
                    line.print(format_args!(
                        "(opt_type 0x{:02x}: len={})",
                        kind,
                        bp.u8_at(i + 1)?
                    ));
                }
            }
        }
        i += optlen;
    }
    if v {
        line.text(" ");
    }
    Ok(true)
}

/// The length of the option (or sub-option) at `i` in `bp`: one byte for
/// Pad1, else its length byte and two; None when it runs past `bp`.
fn option_len(bp: &[u8], i: usize) -> Step<Option<usize>> {
    let optlen = if bp.u8_at(i)? == 0 {
        1
    } else if i + 1 < bp.len() {
        usize::from(bp.u8_at(i + 1)?) + 2
    } else {
        return Ok(None);
    };
    Ok((i + optlen <= bp.len()).then_some(optlen))
}

/// `ip6_sopt_print` (sub-options of the home address option).
fn write_ip6_sub_options(line: &mut Line<'_>, bp: &[u8]) -> Step<bool> {
    let len = bp.len();
    let mut i = 0;
    while i < len {
        let kind = bp.u8_at(i)?;
        let Some(optlen) = option_len(bp, i)? else {
            return Ok(false);
        };
        match kind {
            0 => line.text(", pad1"),
            1 => {
                if len - i < 2 {
                    line.text(", padn: trunc");
                    return Ok(false);
                }
                line.text(", padn");
            }
            _ => {
                if len - i < 2 {
                    line.print(format_args!(", sopt_type {kind}: trunc)"));
                    return Ok(false);
                }
                line.print(format_args!(
                    ", sopt_type 0x{:02x}: len={}",
                    kind,
                    bp.u8_at(i + 1)?
                ));
            }
        }
        i += optlen;
    }
    Ok(true)
}

/// print-rt6.c's `rt6_print`: returns the header length.
fn write_rt6(line: &mut Line<'_>, dp: &[u8]) -> Step<usize> {
    line.proto = "rt6";
    line.text("RT6");
    let len = dp.u8_at(1)?;
    line.print(format_args!(" (len={len}"));
    let kind = dp.u8_at(2)?;
    line.print(format_args!(", type={kind}"));
    if kind == 0 {
        line.text(" [Deprecated]");
    }
    line.print(format_args!(", segleft={}", dp.u8_at(3)?));
    let segments_at = match kind {
        0 | 2 => {
            let reserved = dp.u32_at(4)?;
            if reserved != 0 || line.verbose > 0 {
                line.print(format_args!(", rsv=0x{reserved:x}"));
            }
            8
        }
        4 => {
            line.print(format_args!(", last-entry={}", dp.u8_at(4)?));
            let flags = dp.u8_at(5)?;
            if flags != 0 || line.verbose > 0 {
                line.print(format_args!(", flags=0x{flags:x}"));
            }
            line.print(format_args!(", tag={:x}", dp.u16_at(6)?));
            8
        }
        _ => {
            line.text(" (unknown type) (invalid)");
            return Err(Halt::End);
        }
    };
    if len % 2 == 1 {
        line.print(format_args!(" (invalid length {len}) (invalid)"));
        return Err(Halt::End);
    }
    for i in 0..usize::from(len / 2) {
        let addr = dp.bytes_at(segments_at + 16 * i, 16)?;
        line.print(format_args!(", [{i}]"));
        line.addr(addr);
    }
    line.text(") ");
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
pub(super) fn write_ipv6(line: &mut Line<'_>, a: &[u8]) {
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
                    line.byte(b':');
                }
                continue;
            }
        }
        if i != 0 {
            line.byte(b':');
        }
        if i == 6
            && best_base == Some(0)
            && (best_len == 6 || (best_len == 5 && words[5] == 0xFFFF))
        {
            line.addr(&a[12..]);
            return;
        }
        line.hex(w.into(), 0);
    }
    if let Some(base) = best_base {
        if base + best_len == 8 {
            line.byte(b':');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Line;

    fn v6(s: &str) -> String {
        let a: std::net::Ipv6Addr = s.parse().unwrap();
        let mut buf = Vec::new();
        let mut line = Line {
            buf: &mut buf,
            proto: "",
            verbose: 0,
        };
        line.addr(&a.octets());
        String::from_utf8(buf).unwrap()
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
