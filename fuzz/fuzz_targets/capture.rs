//! `CaptureReader::from_reader` over the input bytes (pcap, pcapng, or either
//! gzipped): every packet is read until the end or an error, checked, and
//! decoded with `frame::decode` (see `synack_fuzz::check_decode`).
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use synack_core::capture::{CaptureErrorKind, CaptureReader, MAX_CAPLEN};

fuzz_target!(|data: &[u8]| {
    let mut reader = match CaptureReader::from_reader(Cursor::new(data.to_vec())) {
        Ok(r) => r,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            if data.is_empty() {
                assert!(matches!(e.kind, CaptureErrorKind::UnknownFormat));
            }
            return;
        }
    };
    let _ = reader.format();
    let mut frames = 0u64;
    loop {
        match reader.next_packet() {
            None => break,
            Some(Ok(p)) => {
                frames += 1;
                assert_eq!(
                    p.frame, frames,
                    "frame numbers must count from 1 without gaps"
                );
                assert!(p.data.len() <= MAX_CAPLEN as usize);
                assert_eq!(
                    p.is_truncated(),
                    (p.data.len() as u64) < u64::from(p.orig_len)
                );
                synack_fuzz::check_decode(p.link_type, p.data);
            }
            Some(Err(e)) => {
                assert!(!e.to_string().is_empty());
                let _ = format!("{e:?}");
                break;
            }
        }
    }
    // After the end or an error, nothing more comes.
    assert!(reader.next_packet().is_none());
    assert!(reader.next_packet().is_none());
    let _ = format!("{reader:?}");
});
