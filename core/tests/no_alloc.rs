//! Decoding a frame down to its last TCP option allocates nothing.
//!
//! A counting global allocator wraps the system one. Real frames of every
//! link type the corpus has are read into memory first (reading a capture may
//! allocate); then, with counting switched on for this thread only (the test
//! harness runs other threads), each frame is decoded, every header field is
//! read, every option walked (SACK blocks included), the checksum verified,
//! the flow key built and errors formatted into a stack buffer. The count must
//! stay at zero.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use synack_core::capture::{CaptureReader, LinkType};
use synack_core::flow::{Endpoint, FlowKey};
use synack_core::frame::{self, Decoded};
use synack_core::tcp::{OptionIter, PseudoHeader, TcpOption};

/// The system allocator, counting allocations made while this thread's flag is set.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

/// Serialises the measured sections, so that `ALLOCATIONS` counts one at a time.
static MEASURING: Mutex<()> = Mutex::new(());

fn note_allocation() {
    // `try_with`: the flag may be gone while the thread shuts down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with counting on for this thread; returns its result and the allocations it made.
fn allocations_in<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let _one_at_a_time = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    (result, ALLOCATIONS.load(Ordering::SeqCst) - before)
}

/// A fixed-size `fmt::Write` sink on the stack (formatting into it allocates nothing).
struct StackText {
    buf: [u8; 256],
    len: usize,
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let room = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn display_len(what: &dyn fmt::Display) -> usize {
    let mut text = StackText {
        buf: [0; 256],
        len: 0,
    };
    write!(text, "{what}").expect("fits the stack buffer");
    text.len
}

/// What a walk over the frames saw, so the test can tell it did real work.
#[derive(Debug, Default)]
struct Seen {
    frames: usize,
    tcp: usize,
    options: usize,
    sack_blocks: usize,
    malformed: usize,
    errors: usize,
    checksums_ok: usize,
    sum: u64,
}

/// Decodes `data` down to its last TCP option, reading everything.
fn walk_frame(link: LinkType, data: &[u8], seen: &mut Seen) {
    seen.frames += 1;
    let f = match frame::decode(link, data) {
        Ok(Decoded::Tcp(f)) => f,
        Ok(_) => return,
        Err(e) => {
            seen.errors += 1;
            seen.sum += display_len(&e) as u64;
            return;
        }
    };
    seen.tcp += 1;
    let (src, dst) = (f.ip.src(), f.ip.dst());
    let h = f.tcp;
    let fields = [
        u64::from(h.src_port()),
        u64::from(h.dst_port()),
        u64::from(h.seq()),
        u64::from(h.ack()),
        u64::from(h.data_offset()),
        h.header_len() as u64,
        u64::from(h.flags().0),
        u64::from(h.flags().syn()) + u64::from(h.flags().reserved()),
        u64::from(h.window()),
        u64::from(h.checksum()),
        u64::from(h.urgent_ptr()),
        h.payload().len() as u64,
        h.payload_len() as u64,
        h.segment_len() as u64,
        u64::from(h.is_truncated()) + u64::from(h.options_truncated()),
        h.fixed_header()[0].into(),
        f.tcp_offset as u64 + u64::from(f.first_fragment),
        display_len(&h.flags()) as u64,
    ];
    seen.sum = fields
        .iter()
        .fold(seen.sum, |a, &v| a.wrapping_mul(31).wrapping_add(v));
    if h.verify_checksum(&PseudoHeader { src, dst }) == Some(true) {
        seen.checksums_ok += 1;
    }
    let (key, _) = FlowKey::new(
        Endpoint {
            addr: src,
            port: h.src_port(),
        },
        Endpoint {
            addr: dst,
            port: h.dst_port(),
        },
    );
    black_box(key);
    for item in h.options() {
        match item {
            Ok(opt) => {
                seen.options += 1;
                seen.sum += u64::from(opt.kind()) + opt.len() as u64;
                match opt {
                    TcpOption::Sack(blocks) => {
                        for (left, right) in blocks.iter() {
                            seen.sack_blocks += 1;
                            seen.sum += u64::from(right.wrapping_sub(left));
                        }
                    }
                    TcpOption::Timestamps { tsval, tsecr } => seen.sum += u64::from(tsval ^ tsecr),
                    TcpOption::Mss(v) | TcpOption::UserTimeout { timeout: v, .. } => {
                        seen.sum += u64::from(v)
                    }
                    TcpOption::WindowScale(v) => seen.sum += u64::from(v),
                    TcpOption::Md5Signature(sig) => seen.sum += u64::from(sig[0]),
                    TcpOption::Authentication { mac: d, .. }
                    | TcpOption::Mptcp { data: d, .. }
                    | TcpOption::FastOpen { cookie: d, .. }
                    | TcpOption::Experimental { data: d, .. }
                    | TcpOption::Unknown { data: d, .. } => seen.sum += d.len() as u64,
                    TcpOption::Eol | TcpOption::Nop | TcpOption::SackPermitted => {}
                }
            }
            Err(m) => {
                seen.malformed += 1;
                seen.sum += display_len(&m) as u64;
            }
        }
    }
    seen.sum += OptionIter::padding(h.options_raw()).len() as u64;
    black_box(h.payload());
}

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");

/// Captures with every link type of the corpus, options of all sorts (SACK,
/// TFO, MPTCP, malformed ones), IPv6, fragments, cut headers, pcap and pcapng.
const CAPTURES: &[&str] = &[
    "misc/one-tcp-pkt1-mss-sackperm-ts-nop-winscale-options.pcap",
    "misc/simple_http_sll2.pcap",
    "zeek/Traces/tcp/options.pcap",
    "zeek/Traces/tcp/option-sack.pcap",
    "zeek/Traces/tcp/option-27.pcap",
    "zeek/Traces/tcp/tcp-fast-open.pcap",
    "zeek/Traces/tcp/truncated-header.pcap",
    "zeek/Traces/tcp/payload-syn.pcap",
    "zeek/Traces/tcp/retransmit-timeout.pcapng",
    "zeek/Traces/tcp/timestamp.pcap",
    "tcpdump-4.99.3/mptcp-v0.pcap",
    "tcpdump-4.99.3/mptcp-v1.pcap",
    "tcpdump-4.99.3/tcp-auth-heapoverflow.pcap",
    "tcpdump-4.99.3/bgp_vpn_attrset.pcap",
    "tcpdump-4.99.3/scps_invalid.pcap",
    "tcpdump-4.99.3/mptcp-aa-echo.pcap",
    "pcapplusplus/TcpPacketWithOptions.pcap",
    "pcapplusplus/tcp-malformed.pcap",
    "pcapplusplus/ipv4-options.pcap",
    "pcapplusplus/frag_http_req.pcap",
    "pcapplusplus/one_ipv6_http_stream.pcap",
    "pcapplusplus/null_loopback.pcap",
    "pcapplusplus/CiscoHDLC.pcap",
    "pcapplusplus/linktype_ipv6.pcap",
    "pcapplusplus/dns_over_tcp.pcapng",
    "pcapplusplus/TcpPacketNoOptionsAccEcn.pcap",
];

/// Reads the frames of `CAPTURES` into memory (this part may allocate).
fn load_frames() -> Vec<(LinkType, Vec<u8>)> {
    let mut frames = Vec::new();
    for rel in CAPTURES {
        let path = PathBuf::from(CORPUS).join(rel);
        let mut reader =
            CaptureReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        while let Some(packet) = reader.next_packet() {
            let packet = packet.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            frames.push((packet.link_type, packet.data.to_vec()));
        }
    }
    frames
}

#[test]
fn decoding_down_to_the_last_option_allocates_nothing() {
    let frames = load_frames();
    let mut seen = Seen::default();
    let ((), allocations) = allocations_in(|| {
        for (link, data) in &frames {
            walk_frame(*link, data, &mut seen);
        }
    });
    black_box(seen.sum);
    assert_eq!(
        allocations, 0,
        "decoding {} frames allocated {allocations} times",
        seen.frames
    );
    // The walk did real work: TCP frames, options of all sorts, a verified checksum.
    assert_eq!(seen.frames, frames.len());
    assert!(seen.tcp > 200, "{seen:?}");
    assert!(seen.options > 1000, "{seen:?}");
    assert!(seen.sack_blocks > 0, "{seen:?}");
    assert!(seen.malformed > 0, "{seen:?}");
    assert!(seen.errors > 0, "{seen:?}");
    assert!(seen.checksums_ok > 0, "{seen:?}");
}

#[test]
fn the_counter_sees_allocations() {
    let (v, allocations) = allocations_in(|| black_box(Vec::<u8>::with_capacity(16)));
    drop(v);
    assert_eq!(allocations, 1);
    // Other threads' allocations are not counted. (A first spawn warms up
    // what the standard library sets up once, e.g. the minimum stack size.)
    std::thread::scope(|s| {
        s.spawn(|| 0usize).join().unwrap();
    });
    let (_, allocations) = allocations_in(|| {
        std::thread::scope(|s| {
            s.spawn(|| black_box(vec![0u8; 16]).len()).join().unwrap();
        })
    });
    // Spawning allocates on this thread (the thread's state), but the other
    // thread's vector is not counted: the same as spawning a thread that allocates nothing.
    let (_, spawn_only) = allocations_in(|| {
        std::thread::scope(|s| {
            s.spawn(|| 0usize).join().unwrap();
        })
    });
    assert_eq!(allocations, spawn_only);
}
