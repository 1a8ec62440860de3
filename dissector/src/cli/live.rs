//! Live capture from an interface with libpcap (the `pcap` crate).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pcap::{Active, Capture};
use synack_core::capture::{LinkType, Packet};

use super::source::Next;

/// A live capture, stopped by Ctrl-C (SIGINT), SIGTERM or SIGHUP.
pub struct LiveSource {
    iface: String,
    cap: Capture<Active>,
    link: LinkType,
    frames: u64,
    nanos: bool,
    stop: Arc<AtomicBool>,
}

impl LiveSource {
    /// Opens `iface` (not promiscuous, snap length 262144, 100 ms read
    /// timeout) with the kernel filter `filter` (empty: none), and installs
    /// the Ctrl-C handler.
    pub fn open(iface: &str, filter: &str) -> Result<LiveSource, String> {
        let fail = |e: pcap::Error| format!("{iface}: {e}");
        let inactive = Capture::from_device(iface)
            .map_err(fail)?
            .promisc(false)
            .snaplen(262_144)
            .timeout(100);
        #[cfg(target_os = "linux")]
        let (inactive, nanos) = (inactive.precision(pcap::Precision::Nano), true);
        #[cfg(not(target_os = "linux"))]
        let nanos = false;
        let mut cap = inactive.open().map_err(fail)?;
        if !filter.is_empty() {
            cap.filter(filter, true)
                .map_err(|e| format!("bad filter expression '{filter}': {e}"))?;
        }
        let link = LinkType(cap.get_datalink().0 as u32);
        let _ = writeln!(
            std::io::stderr().lock(),
            "synack: listening on {iface}, link-type {}, snapshot length 262144 bytes",
            link.0
        );
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        // libpcap may block in poll() until a packet comes (TPACKET_V3 waits
        // for the kernel to hand over a block): breaking its loop wakes it.
        // ctrlc runs this in a thread of its own, not in the signal handler.
        let wake = cap.breakloop_handle();
        ctrlc::set_handler(move || {
            flag.store(true, Ordering::SeqCst);
            wake.breakloop();
        })
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
        Ok(LiveSource {
            iface: iface.to_string(),
            cap,
            link,
            frames: 0,
            nanos,
            stop,
        })
    }
}

impl LiveSource {
    /// The next record, borrowing the capture's buffer.
    pub fn next_record(&mut self) -> Next<'_> {
        if self.stop.load(Ordering::SeqCst) {
            return Next::End;
        }
        match self.cap.next_packet() {
            Ok(p) => {
                self.frames += 1;
                let sec = u64::try_from(p.header.ts.tv_sec).unwrap_or(0);
                let frac = u64::try_from(p.header.ts.tv_usec).unwrap_or(0);
                let frac_ns = if self.nanos { frac } else { frac * 1000 };
                Next::Packet(Packet {
                    frame: self.frames,
                    ts_ns: sec * 1_000_000_000 + frac_ns,
                    link_type: self.link,
                    interface: 0,
                    data: p.data,
                    orig_len: p.header.len,
                })
            }
            Err(pcap::Error::TimeoutExpired) => Next::Idle,
            Err(pcap::Error::NoMorePackets) => Next::End,
            Err(e) => {
                if self.stop.load(Ordering::SeqCst) {
                    Next::End
                } else {
                    Next::Failed(format!("{}: {e}", self.iface))
                }
            }
        }
    }

    /// tcpdump's closing statistics, on standard error.
    pub fn finish(&mut self) {
        let mut err = std::io::stderr().lock();
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        let _ = writeln!(
            err,
            "{} packet{} captured",
            self.frames,
            plural(self.frames)
        );
        if let Ok(s) = self.cap.stats() {
            let (r, d) = (u64::from(s.received), u64::from(s.dropped));
            let _ = writeln!(err, "{r} packet{} received by filter", plural(r));
            let _ = writeln!(err, "{d} packet{} dropped by kernel", plural(d));
        }
    }
}
