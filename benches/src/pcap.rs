//! Legacy pcap, the two ends the benchmarks need: a writer, and the floor
//! pass that walks the record headers and skips the packet bytes.

use std::io::{self, BufReader, ErrorKind, Read, Seek, Write};

/// Length of the pcap file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a pcap record header.
pub const RECORD_HEADER_LEN: usize = 16;
/// Snap length written in the file header (tcpdump's default).
pub const SNAPLEN: u32 = 262_144;
/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;

/// Writes a little-endian, microsecond pcap.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    packets: u64,
    bytes: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header (`link_type`, snap length [`SNAPLEN`]).
    pub fn new(mut out: W, link_type: u32) -> io::Result<Self> {
        let mut header = [0u8; FILE_HEADER_LEN];
        header[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        header[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        header[20..24].copy_from_slice(&link_type.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter {
            out,
            packets: 0,
            bytes: FILE_HEADER_LEN as u64,
        })
    }

    /// Writes one record; `ts_ns` is cut to microseconds.
    pub fn write(&mut self, ts_ns: u64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let mut header = [0u8; RECORD_HEADER_LEN];
        let secs = u32::try_from(ts_ns / 1_000_000_000)
            .map_err(|_| io::Error::new(ErrorKind::InvalidInput, "timestamp past 2106"))?;
        let usecs = ((ts_ns % 1_000_000_000) / 1_000) as u32;
        let caplen = u32::try_from(data.len())
            .map_err(|_| io::Error::new(ErrorKind::InvalidInput, "record too long"))?;
        header[0..4].copy_from_slice(&secs.to_le_bytes());
        header[4..8].copy_from_slice(&usecs.to_le_bytes());
        header[8..12].copy_from_slice(&caplen.to_le_bytes());
        header[12..16].copy_from_slice(&orig_len.max(caplen).to_le_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(data)?;
        self.packets += 1;
        self.bytes += (RECORD_HEADER_LEN + data.len()) as u64;
        Ok(())
    }

    /// Records written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Bytes written so far, file header included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and hands back the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// What a walk over the record headers found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkSummary {
    /// Records.
    pub packets: u64,
    /// Bytes captured (the records' caplen, summed).
    pub captured_bytes: u64,
    /// Bytes on the wire (the records' orig_len, summed).
    pub wire_bytes: u64,
}

/// Reads up to `buf.len()` bytes; returns how many (fewer only at the end of the input).
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The floor of any pcap reader: reads the file header and every record
/// header, and skips each record's packet bytes without looking at them
/// (`BufReader::seek_relative`, which stays in the buffer when it can).
/// Legacy pcap only, either byte order, micro- or nanosecond.
pub fn walk_records<R: Read + Seek>(reader: &mut BufReader<R>) -> io::Result<WalkSummary> {
    let invalid = |what: &str| io::Error::new(ErrorKind::InvalidData, what.to_string());
    let mut header = [0u8; FILE_HEADER_LEN];
    if read_full(reader, &mut header)? < FILE_HEADER_LEN {
        return Err(invalid("shorter than a pcap file header"));
    }
    let magic = [header[0], header[1], header[2], header[3]];
    let big_endian = match u32::from_le_bytes(magic) {
        0xa1b2_c3d4 | 0xa1b2_3c4d => false,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => true,
        _ => return Err(invalid("not a legacy pcap file")),
    };
    let u32_at = |b: &[u8], at: usize| {
        let raw = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if big_endian {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        }
    };
    let mut summary = WalkSummary::default();
    let mut record = [0u8; RECORD_HEADER_LEN];
    loop {
        match read_full(reader, &mut record)? {
            0 => return Ok(summary),
            RECORD_HEADER_LEN => {}
            _ => return Err(invalid("cut record header")),
        }
        let caplen = u32_at(&record, 8);
        summary.packets += 1;
        summary.captured_bytes += u64::from(caplen);
        summary.wire_bytes += u64::from(u32_at(&record, 12));
        reader.seek_relative(i64::from(caplen))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn a_written_capture_walks_back() {
        let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).unwrap();
        w.write(1_700_000_000_123_456_789, &[1, 2, 3], 60).unwrap();
        w.write(1_700_000_001_000_000_000, &[0; 1500], 1500)
            .unwrap();
        assert_eq!(w.packets(), 2);
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len(), 24 + 16 + 3 + 16 + 1500);
        let mut r = BufReader::new(Cursor::new(&bytes[..]));
        let s = walk_records(&mut r).unwrap();
        assert_eq!(
            s,
            WalkSummary {
                packets: 2,
                captured_bytes: 1503,
                wire_bytes: 1560
            }
        );
        // The microseconds are the nanoseconds cut.
        assert_eq!(
            u32::from_le_bytes(bytes[28..32].try_into().unwrap()),
            123_456
        );
    }

    #[test]
    fn the_walk_counts_what_tcpdump_wrote() {
        let path = crate::corpus::fixtures_dir().join("v4-loss-sack.pcap");
        let mut r = BufReader::new(std::fs::File::open(&path).unwrap());
        let walked = walk_records(&mut r).unwrap();
        let records = crate::corpus::read_records(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(walked.packets, records.len() as u64);
        let captured: usize = records.iter().map(|r| r.data.len()).sum();
        assert_eq!(walked.captured_bytes, captured as u64);
    }

    #[test]
    fn a_cut_record_header_is_an_error() {
        let mut bytes = PcapWriter::new(Vec::new(), 1).unwrap().finish().unwrap();
        bytes.extend_from_slice(&[0; 7]);
        let mut r = BufReader::new(Cursor::new(&bytes[..]));
        assert!(walk_records(&mut r).is_err());
    }
}
