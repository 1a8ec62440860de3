//! MPTCP options: print-mptcp.c's `mptcp_print`.

use std::io::Write;

use super::tcp::{ACK, SYN};
use super::{Addr, Get, Line, Step};

/// print-mptcp.c's `mptcp_print` over the whole option (kind and length
/// included): returns false where tcpdump reports `[bad opt]`.
pub(super) fn write_mptcp<W: Write>(line: &mut Line<'_, W>, opt: &[u8], flags: u8) -> Step<bool> {
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
    line.print(format_args!(" {len} {}", NAMES[usize::from(subtype)]))?;
    match subtype {
        0 => {
            let syn_ok = (len == 12 || len == 4) && flags & SYN != 0;
            let ack_ok = (len == 20 || len == 22) && flags & (SYN | ACK) == ACK;
            if !syn_ok && !ack_ok {
                return Ok(false);
            }
            let version = opt.u8_at(2)? & 0xF;
            if version > 1 {
                line.print(format_args!(" Unknown Version ({version})"))?;
                return Ok(true);
            }
            line.print(format_args!(" v{version}"))?;
            if opt.u8_at(3)? & 0x80 != 0 {
                line.text(" csum")?;
            }
            if len == 12 || len >= 20 {
                line.print(format_args!(" {{0x{:x}", opt.u64_at(4)?))?;
                if len >= 20 {
                    line.print(format_args!(",0x{:x}", opt.u64_at(12)?))?;
                }
                line.text("}")?;
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
                    line.text(" backup")?;
                }
                line.print(format_args!(" id {}", opt.u8_at(3)?))?;
            }
            match len {
                12 => line.print(format_args!(
                    " token 0x{:x} nonce 0x{:x}",
                    opt.u32_at(4)?,
                    opt.u32_at(8)?
                ))?,
                16 => line.print(format_args!(
                    " hmac 0x{:x} nonce 0x{:x}",
                    opt.u64_at(4)?,
                    opt.u32_at(12)?
                ))?,
                _ => {
                    line.text(" hmac 0x")?;
                    for b in opt.bytes_at(4, 20)? {
                        line.print(format_args!("{b:02x}"))?;
                    }
                }
            }
        }
        2 => {
            if len < 4 || flags & SYN != 0 {
                return Ok(false);
            }
            let f = opt.u8_at(3)?;
            if f & 0x10 != 0 {
                line.text(" fin")?;
            }
            let mut at = 4;
            let mut left = len - 4;
            if f & 0x01 != 0 {
                line.text(" ack ")?;
                if f & 0x02 != 0 {
                    if left < 8 {
                        return Ok(false);
                    }
                    line.print(format_args!("{}", opt.u64_at(at)?))?;
                    at += 8;
                    left -= 8;
                } else {
                    if left < 4 {
                        return Ok(false);
                    }
                    line.print(format_args!("{}", opt.u32_at(at)?))?;
                    at += 4;
                    left -= 4;
                }
            }
            if f & 0x04 != 0 {
                line.text(" seq ")?;
                if f & 0x08 != 0 {
                    if left < 8 {
                        return Ok(false);
                    }
                    line.print(format_args!("{}", opt.u64_at(at)?))?;
                    at += 8;
                    left -= 8;
                } else {
                    if left < 4 {
                        return Ok(false);
                    }
                    line.print(format_args!("{}", opt.u32_at(at)?))?;
                    at += 4;
                    left -= 4;
                }
                if left < 4 {
                    return Ok(false);
                }
                line.print(format_args!(" subseq {}", opt.u32_at(at)?))?;
                at += 4;
                left -= 4;
                if left < 2 {
                    return Ok(false);
                }
                line.print(format_args!(" len {}", opt.u16_at(at)?))?;
                at += 2;
                left -= 2;
                if left >= 2 {
                    line.print(format_args!(" csum 0x{:x}", opt.u16_at(at)?))?;
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
            line.print(format_args!(" {echo} id {}", opt.u8_at(3)?))?;
            if matches!(len, 8 | 10 | 16 | 18) {
                line.print(format_args!(" {}", Addr(opt.bytes_at(4, 4)?)))?;
                if len == 10 || len == 18 {
                    line.print(format_args!(":{}", opt.u16_at(8)?))?;
                }
                if len == 16 {
                    line.print(format_args!(" hmac 0x{:x}", opt.u64_at(8)?))?;
                }
                if len == 18 {
                    line.print(format_args!(" hmac 0x{:x}", opt.u64_at(10)?))?;
                }
            } else {
                line.print(format_args!(" {}", Addr(opt.bytes_at(4, 16)?)))?;
                if len == 22 || len == 30 {
                    line.print(format_args!(":{}", opt.u16_at(20)?))?;
                }
                if len == 28 {
                    line.print(format_args!(" hmac 0x{:x}", opt.u64_at(20)?))?;
                }
                if len == 30 {
                    line.print(format_args!(" hmac 0x{:x}", opt.u64_at(22)?))?;
                }
            }
        }
        4 => {
            if len < 4 {
                return Ok(false);
            }
            line.text(" id")?;
            for i in 0..len - 3 {
                line.print(format_args!(" {}", opt.u8_at(3 + i)?))?;
            }
        }
        5 => {
            if len != 3 && len != 4 {
                return Ok(false);
            }
            if opt.u8_at(2)? & 1 != 0 {
                line.text(" backup")?;
            } else {
                line.text(" non-backup")?;
            }
            if len == 4 {
                line.print(format_args!(" id {}", opt.u8_at(3)?))?;
            }
        }
        6 => {
            if len != 12 {
                return Ok(false);
            }
            line.print(format_args!(" seq {}", opt.u64_at(4)?))?;
        }
        7 => {
            if len != 12 {
                return Ok(false);
            }
            line.print(format_args!(" key 0x{:x}", opt.u64_at(4)?))?;
        }
        _ => {}
    }
    Ok(true)
}
