//! BPF filters on capture records, as tcpdump applies them to a file.
//!
//! The expression is compiled by libpcap (through the `pcap` crate) once per
//! link type met in the capture, and run on each record's raw bytes with
//! libpcap's `bpf_filter`, given the record's captured and wire lengths
//! (so `greater`/`less` see the wire length, as in tcpdump).

use std::os::raw::c_uint;

use std::sync::atomic::{AtomicU64, Ordering};

use pcap::{BpfInstruction, BpfProgram, Capture};
use synack_core::capture::LinkType;

extern "C" {
    /// libpcap's classic BPF interpreter (pcap/bpf.h).
    fn bpf_filter(
        pc: *const BpfInstruction,
        pkt: *const u8,
        wirelen: c_uint,
        buflen: c_uint,
    ) -> c_uint;
}

/// A filter expression and its programs, compiled on first use per link type.
pub struct BpfFilter {
    expr: String,
    programs: Vec<(LinkType, BpfProgram)>,
    /// A record rewritten for the filter (BSD loopback in the other byte order).
    scratch: Vec<u8>,
}

impl std::fmt::Debug for BpfFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BpfFilter")
            .field("expr", &self.expr)
            .field(
                "link_types",
                &self.programs.iter().map(|(l, _)| l.0).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl BpfFilter {
    /// A filter for `expr`, or `None` when it is empty (everything passes).
    pub fn new(expr: &str) -> Option<BpfFilter> {
        let expr = expr.trim();
        (!expr.is_empty()).then(|| BpfFilter {
            expr: expr.to_string(),
            programs: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// The expression.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// Compiles the expression for `link` (without running it), to report a
    /// bad expression before any record is read.
    pub fn check(&mut self, link: LinkType) -> Result<(), String> {
        self.program(link).map(|_| ())
    }

    fn program(&mut self, link: LinkType) -> Result<&BpfProgram, String> {
        let at = match self.programs.iter().position(|(l, _)| *l == link) {
            Some(at) => at,
            None => {
                let program = compile(&self.expr, link)?;
                self.programs.push((link, program));
                self.programs.len() - 1
            }
        };
        Ok(&self.programs[at].1)
    }

    /// True when the record passes the filter.
    pub fn matches(&mut self, link: LinkType, data: &[u8], orig_len: u32) -> Result<bool, String> {
        self.program(link)?;
        let Some((_, program)) = self.programs.iter().find(|(l, _)| *l == link) else {
            return Ok(true);
        };
        let data = if link.0 == LINKTYPE_NULL {
            host_order_null(data, &mut self.scratch)
        } else {
            data
        };
        let insns = program.get_instructions();
        if insns.is_empty() {
            return Ok(true);
        }
        let buflen = c_uint::try_from(data.len()).unwrap_or(c_uint::MAX);
        let wirelen = orig_len.max(buflen);
        // SAFETY: `insns` is the program libpcap compiled (BpfInstruction is a
        // transparent wrapper of `struct bpf_insn`), alive for the call; the
        // interpreter reads at most `buflen` bytes of `data`.
        let verdict = unsafe { bpf_filter(insns.as_ptr(), data.as_ptr(), wirelen, buflen) };
        Ok(verdict != 0)
    }
}

/// Compiles `expr` for records of link type `link` as tcpdump compiles it
/// for a capture file: libpcap's code generator treats a savefile and a live
/// handle differently (e.g. on BSD loopback it accepts every BSD value of
/// AF_INET6 only when reading a file), so the program is compiled on a
/// handle opened on a header-only pcap file of that link type (libpcap also
/// maps the LINKTYPE_ value to its DLT_ value there).
fn compile(expr: &str, link: LinkType) -> Result<BpfProgram, String> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let fail = |e: &dyn std::fmt::Display| format!("cannot compile the filter: {e}");
    let path = std::env::temp_dir().join(format!(
        "synack-bpf-{}-{}-{}.pcap",
        std::process::id(),
        link.0,
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let mut header = Vec::with_capacity(24);
    header.extend(0xa1b2_c3d4u32.to_ne_bytes());
    header.extend(2u16.to_ne_bytes());
    header.extend(4u16.to_ne_bytes());
    header.extend([0u8; 8]);
    header.extend(262_144u32.to_ne_bytes());
    header.extend(link.0.to_ne_bytes());
    std::fs::write(&path, &header).map_err(|e| fail(&e))?;
    let opened = Capture::from_file(&path);
    let _ = std::fs::remove_file(&path);
    let handle = opened.map_err(|e| fail(&e))?;
    handle.compile(expr, true).map_err(|e| {
        format!(
            "bad filter expression '{expr}' for link type {}: {e}",
            link.0
        )
    })
}

/// LINKTYPE_NULL (BSD loopback): its 4-byte address family is in the byte
/// order of the machine that wrote the capture.
const LINKTYPE_NULL: u32 = 0;

/// libpcap hands filters a BSD loopback header in the host's byte order; when
/// `data` was written in the other order, `scratch` gets a copy in host order.
fn host_order_null<'a>(data: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    let Some(family) = data.get(..4) else {
        return data;
    };
    let native = u32::from_ne_bytes([family[0], family[1], family[2], family[3]]);
    // Families are small numbers: one written in the other order reads huge.
    if native <= 0xFFFF || native.swap_bytes() > 0xFFFF {
        return data;
    }
    scratch.clear();
    scratch.extend_from_slice(data);
    scratch[..4].copy_from_slice(&native.swap_bytes().to_ne_bytes());
    scratch
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame with IPv4 and a TCP header from port 40000 to `dport`.
    fn frame(dport: u16) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend([0x08, 0x00]);
        f.extend([
            0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        f.extend(40000u16.to_be_bytes());
        f.extend(dport.to_be_bytes());
        f.extend([0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
        f
    }

    #[test]
    fn port_filter_on_ethernet() {
        let mut f = BpfFilter::new("tcp port 80").unwrap();
        let eth = LinkType(1);
        assert!(f.matches(eth, &frame(80), 54).unwrap());
        assert!(!f.matches(eth, &frame(81), 54).unwrap());
    }

    #[test]
    fn raw_ip_link_type_is_mapped() {
        let mut f = BpfFilter::new("tcp dst port 80").unwrap();
        let raw = frame(80)[14..].to_vec();
        assert!(f.matches(LinkType(101), &raw, 40).unwrap());
    }

    #[test]
    fn bsd_loopback_in_either_byte_order_and_any_bsd_inet6() {
        let mut f = BpfFilter::new("tcp").unwrap();
        let ip4 = &frame(80)[14..];
        for family in [2u32.to_le_bytes(), 2u32.to_be_bytes()] {
            let mut rec = family.to_vec();
            rec.extend(ip4);
            assert!(f.matches(LinkType(0), &rec, rec.len() as u32).unwrap());
        }
        // An IPv6 header with next header TCP, under Darwin's AF_INET6 (30).
        let mut rec = 30u32.to_le_bytes().to_vec();
        rec.extend([0x60, 0, 0, 0, 0, 20, 6, 64]);
        rec.extend([0u8; 32]);
        rec.extend(&ip4[20..]);
        assert!(f.matches(LinkType(0), &rec, rec.len() as u32).unwrap());
        let mut udp = BpfFilter::new("udp").unwrap();
        assert!(!udp.matches(LinkType(0), &rec, rec.len() as u32).unwrap());
    }

    #[test]
    fn wire_length_is_used() {
        let mut f = BpfFilter::new("greater 100").unwrap();
        assert!(!f.matches(LinkType(1), &frame(80), 54).unwrap());
        assert!(f.matches(LinkType(1), &frame(80), 1500).unwrap());
    }

    #[test]
    fn bad_expressions_and_empty_filters() {
        assert!(BpfFilter::new("  ").is_none());
        let mut f = BpfFilter::new("tcp port").unwrap();
        assert!(f.check(LinkType(1)).is_err());
    }
}
