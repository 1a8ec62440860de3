//! The TCP part of a line: print-tcp.c's `tcp_print`, with its options,
//! print-mptcp.c's `mptcp_print`, and after `length N` the HTTP and SSH
//! printers of its port dispatch (app.rs).

use super::app;
use super::ip::Segment;
use super::{in_cksum, Conversations, Get, Halt, Line, Step};

const FIN: u8 = 0x01;
pub(super) const SYN: u8 = 0x02;
const RST: u8 = 0x04;
pub(super) const ACK: u8 = 0x10;
const URG: u8 = 0x20;

/// Flag letters in the order of print-tcp.c's `tcp_flag_values`.
const FLAG_LETTERS: [(u8, u8); 8] = [
    (0x01, b'F'),
    (0x02, b'S'),
    (0x04, b'R'),
    (0x08, b'P'),
    (0x10, b'.'),
    (0x20, b'U'),
    (0x40, b'E'),
    (0x80, b'W'),
];

/// Writes the TCP part of the line.
pub(super) fn write(
    line: &mut Line<'_>,
    conversations: &mut Conversations<'_>,
    seg: &Segment<'_>,
) -> Step {
    line.proto = "tcp";
    let tp = seg.tcp;
    let mut length = seg.length;
    if tp.len() < 4 {
        line.addr(seg.src);
        line.text(" > ");
        line.addr(seg.dst);
        line.byte(b':');
        return Err(Halt::Trunc);
    }
    let sport = tp.u16_at(0)?;
    let dport = tp.u16_at(2)?;
    if seg.next_is_tcp {
        line.addr(seg.src);
        line.byte(b'.');
        line.num(sport);
        line.text(" > ");
        line.addr(seg.dst);
        line.byte(b'.');
    } else {
        line.num(sport);
        line.text(" > ");
    }
    line.num(dport);
    line.text(": ");
    if tp.len() < 20 {
        return Err(Halt::Trunc);
    }
    let mut hlen = u32::from(tp[12] >> 4) * 4;
    if hlen < 20 {
        line.print(format_args!(
            " tcp {} [bad hdr length {} - too short, < 20]",
            length.wrapping_sub(hlen),
            hlen
        ));
        return Err(Halt::End);
    }
    let mut seq = tp.u32_at(4)?;
    let mut ack = tp.u32_at(8)?;
    let win = tp.u16_at(14)?;
    let urp = tp.u16_at(18)?;
    let flags = tp[13];
    line.text("Flags [");
    if flags == 0 {
        line.text("none");
    }
    for (bit, letter) in FLAG_LETTERS {
        if flags & bit != 0 {
            line.byte(letter);
        }
    }
    line.text("]");

    // Relative sequence numbers: print-tcp.c's tcp_seq_hash.
    let (mut rev, mut thseq, mut thack) = (false, 0u32, 0u32);
    if !conversations.absolute && flags & ACK != 0 {
        let (src, dst) = (seg.src, seg.dst);
        rev = sport > dport || (sport == dport && src > dst);
        let mut key = ([0u8; 16], [0u8; 16], 0u32);
        let (a, b, port) = if rev {
            (dst, src, u32::from(dport) << 16 | u32::from(sport))
        } else {
            (src, dst, u32::from(sport) << 16 | u32::from(dport))
        };
        key.0[..a.len()].copy_from_slice(a);
        key.1[..b.len()].copy_from_slice(b);
        key.2 = port;
        let table = if seg.v6 {
            &mut *conversations.v6
        } else {
            &mut *conversations.v4
        };
        let entry = match table.get_mut(&key) {
            Some(base) if flags & SYN == 0 => {
                if rev {
                    seq = seq.wrapping_sub(base.1);
                    ack = ack.wrapping_sub(base.0);
                } else {
                    seq = seq.wrapping_sub(base.0);
                    ack = ack.wrapping_sub(base.1);
                }
                *base
            }
            _ => {
                let base = if rev {
                    (ack.wrapping_sub(1), seq)
                } else {
                    (seq, ack.wrapping_sub(1))
                };
                table.insert(key, base);
                base
            }
        };
        (thseq, thack) = entry;
    }
    if hlen > length {
        line.print(format_args!(
            " [bad hdr length {hlen} - too long, > {length}]"
        ));
        return Err(Halt::End);
    }

    if line.verbose > 0 && !seg.fragmented && tp.len() >= length as usize {
        let data = &tp[..length as usize];
        let sum = if seg.v6 {
            let mut pseudo = [0u8; 40];
            pseudo[..16].copy_from_slice(seg.src);
            pseudo[16..32].copy_from_slice(seg.pseudo_dst);
            pseudo[32..36].copy_from_slice(&length.to_be_bytes());
            pseudo[39] = 6;
            in_cksum(&[&pseudo, data])
        } else {
            let mut pseudo = [0u8; 12];
            pseudo[..4].copy_from_slice(seg.src);
            pseudo[4..8].copy_from_slice(seg.pseudo_dst);
            pseudo[9] = 6;
            pseudo[10..12].copy_from_slice(&(length as u16).to_be_bytes());
            in_cksum(&[&pseudo, data])
        };
        let field = tp.u16_at(16)?;
        line.text(", cksum 0x");
        line.hex(field.into(), 4);
        if sum != 0 {
            line.text(" (incorrect -> 0x");
            line.hex(super::cksum_shouldbe(field, sum).into(), 4);
            line.byte(b')');
        } else {
            line.text(" (correct)");
        }
    }

    length -= hlen;
    if line.verbose > 1 || length > 0 || flags & (SYN | FIN | RST) != 0 {
        line.text(", seq ");
        line.num(seq);
        if length > 0 {
            line.byte(b':');
            line.num(seq.wrapping_add(length));
        }
    }
    if flags & ACK != 0 {
        line.text(", ack ");
        line.num(ack);
    }
    line.text(", win ");
    line.num(win);
    if flags & URG != 0 {
        line.text(", urg ");
        line.num(urp);
    }

    if hlen > 20 {
        hlen -= 20;
        line.text(", options [");
        let options = Options {
            tp,
            flags,
            rev,
            thseq,
            thack,
            payload_complete: tp.len() as u64 >= u64::from(seg.length),
        };
        let mut ch = None;
        match options.write(line, hlen, &mut ch) {
            Ok(()) => {}
            Err(OptStop::Bad) => {
                line.text("[bad opt]");
                if ch.is_some() {
                    line.text("]");
                }
                return Err(Halt::End);
            }
            Err(OptStop::Trunc) => {
                line.trunc_mark();
                if ch.is_some() {
                    line.text(">");
                }
                return Err(Halt::End);
            }
            Err(OptStop::Halt(h)) => return Err(h),
        }
        line.text("]");
    }
    line.text(", length ");
    line.num(length);
    write_payload(line, tp, sport, dport, flags, length)
}

/// What `tcp_print` does with the data after `length N`: nothing without
/// data; the ` [remaining caplen(C) < header length(H)]` mark and a
/// truncation when the header was not captured whole; nothing for a RST
/// with `-v` (its `print_tcp_rst_data` is not followed); else the port
/// dispatch, of which the HTTP and SSH printers are followed.
fn write_payload(
    line: &mut Line<'_>,
    tp: &[u8],
    sport: u16,
    dport: u16,
    flags: u8,
    length: u32,
) -> Step {
    if length == 0 {
        return Ok(());
    }
    let header_len = usize::from(tp[12] >> 4) * 4;
    if tp.len() < header_len {
        line.print(format_args!(
            " [remaining caplen({}) < header length({header_len})]",
            tp.len()
        ));
        return Err(Halt::Trunc);
    }
    if flags & RST != 0 && line.verbose > 0 {
        return Ok(());
    }
    match app::dispatch(sport, dport) {
        Some(app) => app::write(line, app, &tp[header_len..], length),
        None => Ok(()),
    }
}

/// How the option walk stopped early: print-tcp.c's `bad` and `trunc`
/// labels, or a longjmp / write error.
enum OptStop {
    Bad,
    Trunc,
    Halt(Halt),
}

impl From<Halt> for OptStop {
    fn from(h: Halt) -> Self {
        OptStop::Halt(h)
    }
}

struct Options<'a> {
    /// The TCP header (as captured and within the IP length).
    tp: &'a [u8],
    flags: u8,
    rev: bool,
    thseq: u32,
    thack: u32,
    /// The payload was captured whole (for the MD5 option's message).
    payload_complete: bool,
}

impl Options<'_> {
    /// The option loop of `tcp_print`; `hlen` is the option space the data
    /// offset announces; `ch` is the separator, set after the first option.
    fn write(
        &self,
        line: &mut Line<'_>,
        mut hlen: u32,
        ch: &mut Option<u8>,
    ) -> Result<(), OptStop> {
        let tp = self.tp;
        let mut cp = 20usize;
        while hlen > 0 {
            if let Some(c) = *ch {
                line.byte(c);
            }
            let opt = tp.u8_at(cp)?;
            cp += 1;
            let len: u32 = if opt == 0 || opt == 1 {
                1
            } else {
                let len = u32::from(tp.u8_at(cp)?);
                cp += 1;
                if len < 2 || len > hlen {
                    return Err(OptStop::Bad);
                }
                hlen -= 1;
                len
            };
            hlen -= 1;
            // LENCHECK: `l` bytes must be left in the header and captured.
            let lencheck = |l: u32| -> Result<(), OptStop> {
                if l > hlen {
                    Err(OptStop::Bad)
                } else if tp.len() < cp + l as usize {
                    Err(OptStop::Trunc)
                } else {
                    Ok(())
                }
            };
            match opt {
                0 => line.text("eol"),
                1 => line.text("nop"),
                2 => line.text("mss"),
                3 => line.text("wscale"),
                4 => line.text("sackOK"),
                5 => line.text("sack"),
                6 => line.text("echo"),
                7 => line.text("echoreply"),
                8 => line.text("TS"),
                11 => line.text("cc"),
                12 => line.text("ccnew"),
                13 => {}
                19 => line.text("md5"),
                20 => line.text("scps"),
                28 => line.text("uto"),
                29 => line.text("tcp-ao"),
                30 => line.text("mptcp"),
                34 => line.text("tfo"),
                254 => line.text("exp"),
                _ => {
                    line.text("unknown-");
                    line.num(opt);
                }
            }
            let mut datalen: u32 = 0;
            match opt {
                2 => {
                    datalen = 2;
                    lencheck(datalen)?;
                    line.byte(b' ');
                    line.num(tp.u16_at(cp)?);
                }
                3 => {
                    datalen = 1;
                    lencheck(datalen)?;
                    line.byte(b' ');
                    line.num(tp.u8_at(cp)?);
                }
                5 => {
                    datalen = len - 2;
                    if datalen & 7 != 0 {
                        line.text(" invalid sack");
                    } else {
                        line.byte(b' ');
                        line.num(datalen / 8);
                        line.byte(b' ');
                        let mut i = 0;
                        while i < datalen {
                            lencheck(i + 4)?;
                            let mut s = tp.u32_at(cp + i as usize)?;
                            lencheck(i + 8)?;
                            let mut e = tp.u32_at(cp + i as usize + 4)?;
                            let base = if self.rev { self.thseq } else { self.thack };
                            s = s.wrapping_sub(base);
                            e = e.wrapping_sub(base);
                            line.byte(b'{');
                            line.num(s);
                            line.byte(b':');
                            line.num(e);
                            line.byte(b'}');
                            i += 8;
                        }
                    }
                }
                6 | 7 | 11 | 12 | 13 => {
                    datalen = 4;
                    lencheck(datalen)?;
                    line.byte(b' ');
                    line.num(tp.u32_at(cp)?);
                }
                8 => {
                    datalen = 8;
                    lencheck(datalen)?;
                    line.text(" val ");
                    line.num(tp.u32_at(cp)?);
                    line.text(" ecr ");
                    line.num(tp.u32_at(cp + 4)?);
                }
                19 => {
                    datalen = 16;
                    lencheck(datalen)?;
                    line.text(" ");
                    // Debian's tcpdump is built with libcrypto, without -M.
                    if !self.payload_complete {
                        line.text("snaplen too short, ");
                    } else {
                        line.text("shared secret not supplied with -M, ");
                    }
                    line.text("can't check - ");
                    line.hex_bytes(tp.bytes_at(cp, 16)?);
                }
                20 => {
                    datalen = 2;
                    lencheck(datalen)?;
                    line.print(format_args!(
                        " cap {:02x} id {}",
                        tp.u8_at(cp)?,
                        tp.u8_at(cp + 1)?
                    ));
                }
                29 => {
                    datalen = len - 2;
                    if datalen < 2 {
                        line.text(" (invalid)");
                    } else {
                        lencheck(1)?;
                        line.print(format_args!(" keyid {}", tp.u8_at(cp)?));
                        lencheck(2)?;
                        line.print(format_args!(" rnextkeyid {}", tp.u8_at(cp + 1)?));
                        if datalen > 2 {
                            line.text(" mac 0x");
                            for i in 2..datalen {
                                lencheck(i + 1)?;
                                line.hex(tp.u8_at(cp + i as usize)?.into(), 2);
                            }
                        }
                    }
                }
                0 | 1 | 4 => {}
                28 => {
                    datalen = 2;
                    lencheck(datalen)?;
                    let mut utoval = u32::from(tp.u16_at(cp)?);
                    line.print(format_args!(" 0x{utoval:x}"));
                    if utoval & 1 != 0 {
                        utoval = (utoval >> 1) * 60;
                    } else {
                        utoval >>= 1;
                    }
                    line.print(format_args!(" {utoval}"));
                }
                30 => {
                    datalen = len - 2;
                    lencheck(datalen)?;
                    let option = &tp[cp - 2..cp - 2 + len as usize];
                    if !super::mptcp::write_mptcp(line, option, self.flags)? {
                        return Err(OptStop::Bad);
                    }
                }
                34 => {
                    datalen = len - 2;
                    lencheck(datalen)?;
                    line.text(" ");
                    write_fastopen(line, &tp[cp..cp + datalen as usize], false);
                }
                254 => {
                    datalen = len - 2;
                    lencheck(datalen)?;
                    if datalen < 2 {
                        return Err(OptStop::Bad);
                    }
                    let magic = tp.u16_at(cp)?;
                    line.text("-");
                    if magic == 0xF989 {
                        write_fastopen(line, &tp[cp + 2..cp + datalen as usize], true);
                    } else {
                        line.print(format_args!("{magic:04x}"));
                    }
                }
                _ => {
                    datalen = len - 2;
                    if datalen > 0 {
                        line.text(" 0x");
                    }
                    for i in 0..datalen {
                        lencheck(i + 1)?;
                        line.hex(tp.u8_at(cp + i as usize)?.into(), 2);
                    }
                }
            }
            cp += datalen as usize;
            hlen -= datalen;
            datalen += 1;
            if opt != 0 && opt != 1 {
                datalen += 1;
            }
            if datalen != len {
                line.print(format_args!("[len {len}]"));
            }
            *ch = Some(b',');
            if opt == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// `print_tcp_fastopen_option`.
fn write_fastopen(line: &mut Line<'_>, cookie: &[u8], experimental: bool) {
    if experimental {
        line.text("tfo");
    }
    if cookie.is_empty() {
        line.text(" cookiereq");
    } else if cookie.len() & 1 != 0 || cookie.len() < 4 || cookie.len() > 16 {
        line.text(" (invalid)");
    } else {
        line.text(" cookie ");
        line.hex_bytes(cookie);
    }
}
