//! The floor of the side-by-side comparison: reads a legacy pcap's record
//! headers and skips the packet bytes, nothing more, and prints
//! `PACKETS CAPTURED_BYTES WIRE_BYTES`. No tool that reads every record can
//! be faster on the same file.
//!
//! Usage: `pcap_walk FILE`

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

use synack_benches::pcap::walk_records;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        eprintln!("usage: pcap_walk FILE");
        return ExitCode::from(2);
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("pcap_walk: {}: {e}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    match walk_records(&mut BufReader::with_capacity(1 << 20, file)) {
        Ok(s) => {
            println!("{} {} {}", s.packets, s.captured_bytes, s.wire_bytes);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pcap_walk: {}: {e}", path.to_string_lossy());
            ExitCode::FAILURE
        }
    }
}
