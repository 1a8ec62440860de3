//! MPTCP options: print-mptcp.c's `mptcp_print`.

use super::tcp::{ACK, SYN};
use super::{Get, Line, Step};

/// print-mptcp.c's `mptcp_print` over the whole option (kind and length
/// included): returns false where tcpdump reports `[bad opt]`.
pub(super) fn write_mptcp(line: &mut Line<'_>, opt: &[u8], flags: u8) -> Step<bool> {
    line.proto = "mptcp";
    let len = opt.len();
    if len < 3 {
        return Ok(false);
    }
    let subtype = (opt.u8_at(2)? >> 4).min(8);
    const NAMES: [&str; 9] = [
        "capable",
        "join",
        "dss",
        "add-addr",
        "rem-addr",
        "prio",
        "fail",
        "fast-close",
        "unknown",
    ];
    line.byte(b' ');
    line.num(len as u64);
    line.byte(b' ');
    line.text(NAMES[usize::from(subtype)]);
    match subtype {
        0 => {
            let syn_ok = (len == 12 || len == 4) && flags & SYN != 0;
            let ack_ok = (len == 20 || len == 22) && flags & (SYN | ACK) == ACK;
            if !syn_ok && !ack_ok {
                return Ok(false);
            }
            let version = opt.u8_at(2)? & 0xF;
            if version > 1 {
                line.print(format_args!(" Unknown Version ({version})"));
                return Ok(true);
            }
            line.text(" v");
            line.num(version);
            if opt.u8_at(3)? & 0x80 != 0 {
                line.text(" csum");
            }
            if len == 12 || len >= 20 {
                line.text(" {0x");
                line.hex(opt.u64_at(4)?, 0);
                if len >= 20 {
                    line.text(",0x");
                    line.hex(opt.u64_at(12)?, 0);
                }
                line.text("}");
            }
        }
        1 => {
            let ok = (len == 12 && flags & SYN != 0)
                || (len == 16 && flags & (SYN | ACK) == SYN | ACK)
                || (len == 24 && flags & ACK != 0);
            if !ok {
                return Ok(false);
            }
            if len != 24 {
                if opt.u8_at(2)? & 1 != 0 {
                    line.text(" backup");
                }
                line.text(" id ");
                line.num(opt.u8_at(3)?);
            }
            match len {
                12 => {
                    line.text(" token 0x");
                    line.hex(opt.u32_at(4)?.into(), 0);
                    line.text(" nonce 0x");
                    line.hex(opt.u32_at(8)?.into(), 0);
                }
                16 => {
                    line.text(" hmac 0x");
                    line.hex(opt.u64_at(4)?, 0);
                    line.text(" nonce 0x");
                    line.hex(opt.u32_at(12)?.into(), 0);
                }
                _ => {
                    line.text(" hmac 0x");
                    line.hex_bytes(opt.bytes_at(4, 20)?);
                }
            }
        }
        2 => {
            if len < 4 || flags & SYN != 0 {
                return Ok(false);
            }
            let f = opt.u8_at(3)?;
            if f & 0x10 != 0 {
                line.text(" fin");
            }
            let mut at = 4;
            let mut left = len - 4;
            if f & 0x01 != 0 {
                line.text(" ack ");
                if !dss_number(line, opt, &mut at, &mut left, f & 0x02 != 0)? {
                    return Ok(false);
                }
            }
            if f & 0x04 != 0 {
                line.text(" seq ");
                if !dss_number(line, opt, &mut at, &mut left, f & 0x08 != 0)? {
                    return Ok(false);
                }
                if left < 4 {
                    return Ok(false);
                }
                line.text(" subseq ");
                line.num(opt.u32_at(at)?);
                at += 4;
                left -= 4;
                if left < 2 {
                    return Ok(false);
                }
                line.text(" len ");
                line.num(opt.u16_at(at)?);
                at += 2;
                left -= 2;
                if left >= 2 {
                    line.text(" csum 0x");
                    line.hex(opt.u16_at(at)?.into(), 0);
                    left -= 2;
                }
            }
            if left != 0 {
                return Ok(false);
            }
        }
        3 => {
            if ![8, 10, 16, 18, 20, 22, 28, 30].contains(&len) {
                return Ok(false);
            }
            let echo = match opt.u8_at(2)? & 0xF {
                0x6 => "v0-ip6",
                0x4 => "v0-ip4",
                0x1 => "v1-echo",
                0x0 => "v1",
                _ => "[bad version/echo]",
            };
            line.byte(b' ');
            line.text(echo);
            line.text(" id ");
            line.num(opt.u8_at(3)?);
            if matches!(len, 8 | 10 | 16 | 18) {
                line.byte(b' ');
                line.addr(opt.bytes_at(4, 4)?);
                if len == 10 || len == 18 {
                    line.text(":");
                    line.num(opt.u16_at(8)?);
                }
                if len == 16 {
                    line.text(" hmac 0x");
                    line.hex(opt.u64_at(8)?, 0);
                }
                if len == 18 {
                    line.text(" hmac 0x");
                    line.hex(opt.u64_at(10)?, 0);
                }
            } else {
                line.byte(b' ');
                line.addr(opt.bytes_at(4, 16)?);
                if len == 22 || len == 30 {
                    line.text(":");
                    line.num(opt.u16_at(20)?);
                }
                if len == 28 {
                    line.text(" hmac 0x");
                    line.hex(opt.u64_at(20)?, 0);
                }
                if len == 30 {
                    line.text(" hmac 0x");
                    line.hex(opt.u64_at(22)?, 0);
                }
            }
        }
        4 => {
            if len < 4 {
                return Ok(false);
            }
            line.text(" id");
            for i in 0..len - 3 {
                line.text(" ");
                line.num(opt.u8_at(3 + i)?);
            }
        }
        5 => {
            if len != 3 && len != 4 {
                return Ok(false);
            }
            if opt.u8_at(2)? & 1 != 0 {
                line.text(" backup");
            } else {
                line.text(" non-backup");
            }
            if len == 4 {
                line.text(" id ");
                line.num(opt.u8_at(3)?);
            }
        }
        6 => {
            if len != 12 {
                return Ok(false);
            }
            line.text(" seq ");
            line.num(opt.u64_at(4)?);
        }
        7 => {
            if len != 12 {
                return Ok(false);
            }
            line.text(" key 0x");
            line.hex(opt.u64_at(4)?, 0);
        }
        _ => {}
    }
    Ok(true)
}

/// A DSS option's data ACK or data sequence number at `*at`: eight bytes
/// when `wide`, else four. Moves `at` past it and takes it from `left`;
/// false (tcpdump's `[bad opt]`) when fewer bytes are left.
fn dss_number(
    line: &mut Line<'_>,
    opt: &[u8],
    at: &mut usize,
    left: &mut usize,
    wide: bool,
) -> Step<bool> {
    let size = if wide { 8 } else { 4 };
    if *left < size {
        return Ok(false);
    }
    let n = if wide {
        opt.u64_at(*at)?
    } else {
        opt.u32_at(*at)?.into()
    };
    line.num(n);
    *at += size;
    *left -= size;
    Ok(true)
}
