//! Capture reader against real captures, with figures from tshark 4.0.17.
//!
//! Unless a test says otherwise, the figures come from
//! `tshark -r FILE -T fields -e frame.number -e frame.time_epoch -e frame.len -e frame.cap_len -e frame.interface_id`
//! run on the file named next to them (timestamps written here as
//! nanoseconds since the epoch).

/// Everything lives in `capture` so `cargo test capture` selects these tests.
mod capture {
    use std::io::{self, Cursor, Read, Write};
    use std::path::PathBuf;

    use flate2::write::GzEncoder;
    use flate2::Compression;
    use synack_core::capture::{
        CaptureError, CaptureErrorKind, CaptureFormat, CaptureReader, LinkType, Packet,
    };

    fn corpus(rel: &str) -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/")).join(rel)
    }

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/")).join(name)
    }

    fn bytes_of(path: PathBuf) -> Vec<u8> {
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// An owned copy of what a [`Packet`] says.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Rec {
        frame: u64,
        ts_ns: u64,
        link_type: u32,
        interface: u32,
        data: Vec<u8>,
        orig_len: u32,
    }

    impl From<Packet<'_>> for Rec {
        fn from(p: Packet<'_>) -> Self {
            Rec {
                frame: p.frame,
                ts_ns: p.ts_ns,
                link_type: p.link_type.0,
                interface: p.interface,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
            }
        }
    }

    /// Reads every packet; returns them and the error the reader stopped with.
    /// Also checks that nothing comes after the end or the error.
    fn drain(mut reader: CaptureReader) -> (Vec<Rec>, Option<CaptureError>) {
        let mut out = Vec::new();
        let mut err = None;
        while let Some(item) = reader.next_packet() {
            match item {
                Ok(p) => {
                    assert_eq!(
                        p.frame,
                        out.len() as u64 + 1,
                        "frames are numbered 1, 2, ..."
                    );
                    out.push(Rec::from(p));
                }
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert!(reader.next_packet().is_none(), "nothing after the end");
        assert!(reader.next_packet().is_none(), "nothing after the end");
        (out, err)
    }

    /// Reads a whole capture that must be clean.
    fn read_clean(reader: CaptureReader) -> Vec<Rec> {
        let (recs, err) = drain(reader);
        if let Some(e) = err {
            panic!("unexpected error after {} packets: {e}", recs.len());
        }
        recs
    }

    fn read_path(path: PathBuf) -> (CaptureFormat, Vec<Rec>) {
        let reader =
            CaptureReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        (reader.format(), read_clean(reader))
    }

    fn read_bytes(bytes: Vec<u8>) -> Result<(Vec<Rec>, Option<CaptureError>), CaptureError> {
        CaptureReader::from_reader(Cursor::new(bytes)).map(drain)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// A reader that hands out one byte per `read` call.
    struct OneByte<R>(R);

    impl<R: Read> Read for OneByte<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match buf.first_mut() {
                Some(first) => self.0.read(std::slice::from_mut(first)),
                None => Ok(0),
            }
        }
    }

    /// Checks (frame, ts_ns, frame.len, frame.cap_len, interface) rows.
    fn check_rows(recs: &[Rec], rows: &[(u64, u64, u32, usize, u32)]) {
        for &(frame, ts_ns, len, cap_len, interface) in rows {
            let r = &recs[frame as usize - 1];
            assert_eq!(r.frame, frame);
            assert_eq!(r.ts_ns, ts_ns, "frame {frame} timestamp");
            assert_eq!(r.orig_len, len, "frame {frame} length");
            assert_eq!(r.data.len(), cap_len, "frame {frame} captured length");
            assert_eq!(r.interface, interface, "frame {frame} interface");
        }
    }

    // ---------------------------------------------------------------- pcap

    #[test]
    fn little_endian_microsecond_pcap() {
        // misc/simple_http.pcap: 24 frames
        //   1  1732729516.680626000  74  74
        //   2  1732729516.680644000  74  74
        //   24 1732729516.740928000  66  66
        let (format, recs) = read_path(corpus("misc/simple_http.pcap"));
        assert_eq!(
            format,
            CaptureFormat::Pcap {
                nanosecond: false,
                big_endian: false
            }
        );
        assert_eq!(recs.len(), 24);
        check_rows(
            &recs,
            &[
                (1, 1_732_729_516_680_626_000, 74, 74, 0),
                (2, 1_732_729_516_680_644_000, 74, 74, 0),
                (24, 1_732_729_516_740_928_000, 66, 66, 0),
            ],
        );
        assert!(recs.iter().all(|r| r.link_type == 1));
        assert!(recs.iter().all(|r| r.data.len() == r.orig_len as usize));
        // The first frame is Ethernet carrying IPv4.
        assert_eq!(&recs[0].data[12..14], &[0x08, 0x00]);
    }

    #[test]
    fn linux_sll2_pcap() {
        // misc/simple_http_sll2.pcap: 24 frames
        //   1  1732632335.227290000  80  80
        //   24 1732632335.272022000  72  72
        let (_, recs) = read_path(corpus("misc/simple_http_sll2.pcap"));
        assert_eq!(recs.len(), 24);
        check_rows(
            &recs,
            &[
                (1, 1_732_632_335_227_290_000, 80, 80, 0),
                (24, 1_732_632_335_272_022_000, 72, 72, 0),
            ],
        );
        assert!(recs.iter().all(|r| r.link_type == 276));
    }

    #[test]
    fn nanosecond_pcaps_both_byte_orders() {
        // pcapplusplus/nanosecs_big_endian.pcap and fixtures/nanosecs_le.pcap (made with
        // `editcap -F nsecpcap nanosecs_big_endian.pcap nanosecs_le.pcap`): 10 frames each
        //   1  1766361926.167647291  74  74
        //   2  1766361926.167658091  74  74
        //   10 1766361926.168451894  66  66
        let rows = [
            (1, 1_766_361_926_167_647_291, 74, 74, 0),
            (2, 1_766_361_926_167_658_091, 74, 74, 0),
            (10, 1_766_361_926_168_451_894, 66, 66, 0),
        ];
        let (be_format, be) = read_path(corpus("pcapplusplus/nanosecs_big_endian.pcap"));
        assert_eq!(
            be_format,
            CaptureFormat::Pcap {
                nanosecond: true,
                big_endian: true
            }
        );
        let (le_format, le) = read_path(fixture("nanosecs_le.pcap"));
        assert_eq!(
            le_format,
            CaptureFormat::Pcap {
                nanosecond: true,
                big_endian: false
            }
        );
        assert_eq!(be.len(), 10);
        check_rows(&be, &rows);
        assert_eq!(be, le, "same packets whatever the byte order");
    }

    #[test]
    fn big_endian_microsecond_pcap_from_corpus() {
        // tcpdump-4.99.3/pptp.pcap (big-endian): 23 frames
        //   1  954147395.148077000  62  62
        //   2  954147395.148207000  62  62
        //   23 954147396.347775000  60  60
        let (format, recs) = read_path(corpus("tcpdump-4.99.3/pptp.pcap"));
        assert_eq!(
            format,
            CaptureFormat::Pcap {
                nanosecond: false,
                big_endian: true
            }
        );
        assert_eq!(recs.len(), 23);
        check_rows(
            &recs,
            &[
                (1, 954_147_395_148_077_000, 62, 62, 0),
                (2, 954_147_395_148_207_000, 62, 62, 0),
                (23, 954_147_396_347_775_000, 60, 60, 0),
            ],
        );
        assert!(recs.iter().all(|r| r.link_type == 1));
    }

    /// Rewrites a little-endian pcap's file and record headers big-endian.
    fn pcap_to_big_endian(le: &[u8]) -> Vec<u8> {
        fn swap32(b: &mut [u8], at: usize) {
            b[at..at + 4].reverse();
        }
        let mut b = le.to_vec();
        swap32(&mut b, 0); // magic
        b[4..6].reverse(); // version major
        b[6..8].reverse(); // version minor
        for at in [8, 12, 16, 20] {
            swap32(&mut b, at); // thiszone, sigfigs, snaplen, network
        }
        let mut at = 24;
        while at + 16 <= b.len() {
            let caplen = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
            for field in 0..4 {
                swap32(&mut b, at + 4 * field);
            }
            at += 16 + caplen;
        }
        b
    }

    #[test]
    fn big_endian_pcap_made_by_byte_swapping() {
        let le = bytes_of(corpus("misc/simple_http.pcap"));
        let be = pcap_to_big_endian(&le);
        let reader = CaptureReader::from_reader(Cursor::new(be)).unwrap();
        assert_eq!(
            reader.format(),
            CaptureFormat::Pcap {
                nanosecond: false,
                big_endian: true
            }
        );
        let swapped = read_clean(reader);
        let (_, plain) = read_path(corpus("misc/simple_http.pcap"));
        assert_eq!(swapped.len(), 24);
        assert_eq!(swapped, plain);
    }

    #[test]
    fn modified_pcap() {
        // fixtures/simple_http_modified.pcap, made with
        // `editcap -F modpcap misc/simple_http.pcap simple_http_modified.pcap`:
        // the same 24 frames as misc/simple_http.pcap (tshark agrees).
        let (format, recs) = read_path(fixture("simple_http_modified.pcap"));
        assert_eq!(
            format,
            CaptureFormat::Pcap {
                nanosecond: false,
                big_endian: false
            }
        );
        let (_, plain) = read_path(corpus("misc/simple_http.pcap"));
        assert_eq!(recs, plain);
    }

    #[test]
    fn record_longer_than_the_snap_length_is_cut_as_libpcap_does() {
        // tcpdump-4.99.3/mptcp-dss-oobr.pcap: snap length 73, one record of caplen 74.
        // tshark: 1  1415590328.002213000  74  74 (it ignores the snap length);
        // libpcap (so `tcpdump -xx`) delivers 73 bytes, and so does this reader.
        let (_, recs) = read_path(corpus("tcpdump-4.99.3/mptcp-dss-oobr.pcap"));
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].ts_ns, 1_415_590_328_002_213_000);
        assert_eq!(recs[0].orig_len, 74);
        assert_eq!(recs[0].data.len(), 73);
    }

    #[test]
    fn fcs_bits_of_the_pcap_link_type_are_masked() {
        // tcpdump-4.99.3/tcp_header_heapoverflow.pcap has link type field
        // 0x30000001 (FCS length bits set): Ethernet, as libpcap reads it.
        let (_, recs) = read_path(corpus("tcpdump-4.99.3/tcp_header_heapoverflow.pcap"));
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].link_type, 1);
    }

    // ---------------------------------------------------------------- pcapng

    #[test]
    fn pcapng_with_eleven_interfaces_of_mixed_types_and_resolutions() {
        // pcapplusplus/ldap.pcapng: 11 interfaces (capinfos -I: #2 and #6 Linux SLL,
        // the others Ethernet; #0 #1 #2 #6 #7 nanoseconds, the others microseconds).
        let rows = [
            (1, 1_103_276_405_901_593_000, 1406, 1406, 5),
            (2, 1_103_276_405_901_593_000, 1406, 1406, 4),
            (3, 1_103_541_634_784_940_000, 245, 245, 9),
            (4, 1_132_017_778_382_064_000, 73, 73, 10),
            (5, 1_498_678_221_091_789_000, 184, 184, 3),
            (6, 1_498_678_221_092_728_000, 88, 88, 8),
            (7, 1_695_728_003_815_495_640, 256, 256, 2),
            (8, 1_695_728_003_816_369_129, 375, 375, 6),
            (9, 1_714_724_925_693_629_846, 146, 146, 0),
            (10, 1_714_724_926_063_305_317, 294, 294, 0),
            (24, 1_714_725_683_872_848_324, 110, 110, 0),
            (25, 1_717_403_202_805_000_000, 249, 249, 7),
        ];
        let (format, recs) = read_path(corpus("pcapplusplus/ldap.pcapng"));
        assert_eq!(format, CaptureFormat::PcapNg);
        assert_eq!(recs.len(), 25);
        check_rows(&recs, &rows);
        for r in &recs {
            let expected = if r.interface == 2 || r.interface == 6 {
                113
            } else {
                1
            };
            assert_eq!(r.link_type, expected, "frame {}", r.frame);
        }
    }

    #[test]
    fn pcapng_with_two_interfaces_and_out_of_range_timestamps() {
        // pcapplusplus/pcapng-example.pcapng: 159 frames; 1-59 on interface 0
        // (Ethernet), 60-159 on interface 1 (Linux SLL, snap length 128).
        //   1   1422527998.578402281   74    74    0
        //   59  1422528033.092194163   66    66    0
        //   61  18446744073204.126338000 1444 128  1
        // Interface 1's timestamps lie past what u64 nanoseconds hold (year 2554),
        // so they saturate at u64::MAX.
        let (_, recs) = read_path(corpus("pcapplusplus/pcapng-example.pcapng"));
        assert_eq!(recs.len(), 159);
        check_rows(
            &recs,
            &[
                (1, 1_422_527_998_578_402_281, 74, 74, 0),
                (59, 1_422_528_033_092_194_163, 66, 66, 0),
                (61, u64::MAX, 1444, 128, 1),
            ],
        );
        assert!(recs[..59].iter().all(|r| r.link_type == 1));
        assert!(recs[59..]
            .iter()
            .all(|r| r.link_type == 113 && r.interface == 1));
        assert!(recs[60].data.len() < recs[60].orig_len as usize);
    }

    #[test]
    fn pcapng_with_two_sections() {
        // fixtures/two_sections.pcapng = `cat misc/simple_http_tzsp.pcapng pcapplusplus/mysql.pcapng`
        //   1  1732649625.653099226  485  485  0   (section 1: Ethernet, nanoseconds)
        //   5  1732649625.709217405  584  584  0
        //   6  1772697399.481825000  246  246  0   (section 2: null/loopback, microseconds)
        //   7  1772697399.488532000  661  661  0
        let (_, recs) = read_path(fixture("two_sections.pcapng"));
        assert_eq!(recs.len(), 7);
        check_rows(
            &recs,
            &[
                (1, 1_732_649_625_653_099_226, 485, 485, 0),
                (5, 1_732_649_625_709_217_405, 584, 584, 0),
                (6, 1_772_697_399_481_825_000, 246, 246, 0),
                (7, 1_772_697_399_488_532_000, 661, 661, 0),
            ],
        );
        let links: Vec<u32> = recs.iter().map(|r| r.link_type).collect();
        assert_eq!(links, [1, 1, 1, 1, 1, 0, 0]);
    }

    #[test]
    fn synthetic_pcapng_big_endian_spb_tsresol_tsoffset_and_skipped_blocks() {
        // fixtures/synthetic.pcapng, written by fixtures/make_synthetic_pcapng.py.
        // tshark:
        //   1  1000000001.500000000  54   54  0   (2^-10 s units, if_tsoffset 1e9 s)
        //   2  1700000000.123456789  100  64  1   (raw IP, snap length 64)
        //   3  (no time: SPB)        54   54  0
        //   4  (custom block)        8    8       <- tshark shows the custom block as a
        //                                            frame; libpcap and this reader skip it
        //   5  1700000001.000001000  56   56  0   (second, little-endian section; SLL)
        let (format, recs) = read_path(fixture("synthetic.pcapng"));
        assert_eq!(format, CaptureFormat::PcapNg);
        assert_eq!(recs.len(), 4);
        check_rows(
            &recs,
            &[
                (1, 1_000_000_001_500_000_000, 54, 54, 0),
                (2, 1_700_000_000_123_456_789, 100, 64, 1),
                (3, 0, 54, 54, 0),
                (4, 1_700_000_001_000_001_000, 56, 56, 0),
            ],
        );
        let links: Vec<u32> = recs.iter().map(|r| r.link_type).collect();
        assert_eq!(links, [1, 101, 1, 113]);
        // Packet bytes come out without padding.
        assert_eq!(&recs[0].data[12..14], &[0x08, 0x00]);
        assert_eq!(recs[1].data[0], 0x45);
    }

    #[test]
    fn is_truncated_follows_the_snap_length() {
        let reader = CaptureReader::open(fixture("synthetic.pcapng")).unwrap();
        let mut reader = reader;
        let mut flags = Vec::new();
        while let Some(p) = reader.next_packet() {
            flags.push(p.unwrap().is_truncated());
        }
        assert_eq!(flags, [false, true, false, false]);
    }

    // ---------------------------------------------------------------- sources

    #[test]
    fn gzip_is_read_transparently_from_files_and_readers() {
        for (path, count) in [
            (corpus("misc/simple_http.pcap"), 24),
            (corpus("pcapplusplus/ldap.pcapng"), 25),
            (fixture("synthetic.pcapng"), 4),
        ] {
            let plain = bytes_of(path.clone());
            let (_, expected) = read_path(path);
            assert_eq!(expected.len(), count);

            let gz = gzip(&plain);
            let (recs, err) = read_bytes(gz.clone()).unwrap();
            assert!(err.is_none());
            assert_eq!(recs, expected);

            let file = std::env::temp_dir().join(format!(
                "synack-capture-test-{}-{count}.gz",
                std::process::id()
            ));
            std::fs::write(&file, &gz).unwrap();
            let from_file = CaptureReader::open(&file).map(read_clean);
            std::fs::remove_file(&file).unwrap();
            assert_eq!(from_file.unwrap(), expected);

            let one_byte = CaptureReader::from_reader(OneByte(Cursor::new(gz))).unwrap();
            assert_eq!(read_clean(one_byte), expected);
        }
    }

    #[test]
    fn concatenated_gzip_members_read_as_one_stream() {
        let plain = bytes_of(corpus("misc/simple_http.pcap"));
        let (head, tail) = plain.split_at(1000);
        let mut gz = gzip(head);
        gz.extend(gzip(tail));
        let (recs, err) = read_bytes(gz).unwrap();
        assert!(err.is_none());
        assert_eq!(recs.len(), 24);
    }

    #[test]
    fn one_byte_reads_give_the_same_packets() {
        for path in [
            corpus("misc/simple_http.pcap"),
            corpus("tcpdump-4.99.3/pptp.pcap"),
            corpus("pcapplusplus/pcapng-example.pcapng"),
            fixture("synthetic.pcapng"),
            fixture("two_sections.pcapng"),
            fixture("simple_http_modified.pcap"),
        ] {
            let bytes = bytes_of(path.clone());
            let (_, expected) = read_path(path);
            let reader = CaptureReader::from_reader(OneByte(Cursor::new(bytes))).unwrap();
            assert_eq!(read_clean(reader), expected);
        }
    }

    /// A pcap with one record far larger than the reader's initial 64 KiB window.
    fn pcap_with_big_record(caplen: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(0xa1b2_c3d4u32.to_le_bytes());
        b.extend(2u16.to_le_bytes());
        b.extend(4u16.to_le_bytes());
        b.extend([0; 8]);
        b.extend(0u32.to_le_bytes()); // snaplen 0: no limit
        b.extend(1u32.to_le_bytes());
        for (i, len) in [60, caplen, 60].into_iter().enumerate() {
            b.extend((1_000 + i as u32).to_le_bytes());
            b.extend(5u32.to_le_bytes());
            b.extend(len.to_le_bytes());
            b.extend(len.to_le_bytes());
            b.extend((0..len).map(|j| (j % 253) as u8));
        }
        b
    }

    #[test]
    fn records_bigger_than_the_initial_buffer() {
        let big = 3 * 1024 * 1024 + 7;
        let bytes = pcap_with_big_record(big);
        for reader in [
            CaptureReader::from_reader(Cursor::new(bytes.clone())).unwrap(),
            CaptureReader::from_reader(OneByte(Cursor::new(bytes.clone()))).unwrap(),
            CaptureReader::from_reader(Cursor::new(gzip(&bytes))).unwrap(),
        ] {
            let recs = read_clean(reader);
            assert_eq!(recs.len(), 3);
            assert_eq!(recs[1].data.len(), big as usize);
            assert!(recs[1]
                .data
                .iter()
                .enumerate()
                .all(|(j, &x)| x == (j % 253) as u8));
            assert_eq!(recs[2].ts_ns, 1_002_000_005_000);
        }
    }

    /// Fails with `kind` once `ok_bytes` were handed out; returns `Interrupted` on every fourth call.
    struct Failing {
        data: Cursor<Vec<u8>>,
        ok_bytes: u64,
        calls: u32,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls & 3 == 0 {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "try again"));
            }
            let left = self.ok_bytes - self.data.position();
            if left == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(left as usize).min(100);
            self.data.read(&mut buf[..n])
        }
    }

    #[test]
    fn read_errors_are_reported_after_the_complete_packets() {
        let bytes = bytes_of(corpus("misc/simple_http.pcap"));
        // Records of simple_http.pcap start at 24, 24+16+74=114, 204, ...
        let reader = CaptureReader::from_reader(Failing {
            data: Cursor::new(bytes),
            ok_bytes: 150,
            calls: 0,
        })
        .unwrap();
        let (recs, err) = drain(reader);
        assert_eq!(recs.len(), 1);
        let err = err.unwrap();
        assert_eq!(err.offset, 114);
        assert!(matches!(&err.kind, CaptureErrorKind::Io(e) if e.to_string() == "disk on fire"));
        assert!(std::error::Error::source(&err).is_some());
    }

    // ---------------------------------------------------------------- damage

    /// How a capture cut at `cut` bytes must read.
    #[derive(Debug, PartialEq)]
    enum CutOutcome {
        /// Opening fails.
        OpenError(u64, &'static str),
        /// `n` packets, then a clean end.
        Clean(usize),
        /// `n` packets, then `Truncated` at the offset.
        Truncated(usize, u64),
    }

    fn kind_name(kind: &CaptureErrorKind) -> &'static str {
        match kind {
            CaptureErrorKind::Io(_) => "io",
            CaptureErrorKind::UnknownFormat => "unknown format",
            CaptureErrorKind::Truncated => "truncated",
            CaptureErrorKind::Corrupt(_) => "corrupt",
            CaptureErrorKind::UnknownInterface(_) => "unknown interface",
        }
    }

    /// Reads `bytes` and checks the packets read are the first ones of `full`.
    fn outcome(bytes: Vec<u8>, full: &[Rec]) -> CutOutcome {
        match read_bytes(bytes) {
            Err(e) => CutOutcome::OpenError(e.offset, kind_name(&e.kind)),
            Ok((recs, err)) => {
                assert_eq!(
                    recs[..],
                    full[..recs.len()],
                    "packets before the cut are intact"
                );
                match err {
                    None => CutOutcome::Clean(recs.len()),
                    Some(e) => {
                        assert!(
                            matches!(e.kind, CaptureErrorKind::Truncated),
                            "unexpected {e}"
                        );
                        CutOutcome::Truncated(recs.len(), e.offset)
                    }
                }
            }
        }
    }

    /// Record or block boundaries: (start, end, carries a packet).
    fn pcap_records(b: &[u8]) -> Vec<(usize, usize, bool)> {
        let mut out = vec![(0, 24, false)];
        let mut at = 24;
        while at < b.len() {
            let caplen = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
            out.push((at, at + 16 + caplen, true));
            at += 16 + caplen;
        }
        out
    }

    fn pcapng_blocks(b: &[u8]) -> Vec<(usize, usize, bool)> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut be = false;
        while at < b.len() {
            if b[at..at + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
                be = b[at + 8..at + 12] == [0x1a, 0x2b, 0x3c, 0x4d];
            }
            let word = |off: usize| -> u32 {
                let raw: [u8; 4] = b[at + off..at + off + 4].try_into().unwrap();
                if be {
                    u32::from_be_bytes(raw)
                } else {
                    u32::from_le_bytes(raw)
                }
            };
            let (btype, len) = (word(0), word(4) as usize);
            out.push((at, at + len, btype == 6 || btype == 3));
            at += len;
        }
        out
    }

    /// What cutting the file at `cut` must give, from its record layout.
    fn expected_cut(layout: &[(usize, usize, bool)], cut: usize) -> CutOutcome {
        if cut < 4 {
            return CutOutcome::OpenError(0, "unknown format");
        }
        let header_end = layout[0].1;
        if cut < header_end {
            return CutOutcome::OpenError(0, "truncated");
        }
        let packets = layout
            .iter()
            .filter(|&&(_, end, packet)| packet && end <= cut)
            .count();
        match layout
            .iter()
            .find(|&&(start, end, _)| start < cut && cut < end)
        {
            Some(&(start, _, _)) => CutOutcome::Truncated(packets, start as u64),
            None => CutOutcome::Clean(packets),
        }
    }

    #[test]
    fn pcap_cut_at_every_byte() {
        let bytes = bytes_of(corpus("misc/simple_http.pcap"));
        let (_, full) = read_path(corpus("misc/simple_http.pcap"));
        let layout = pcap_records(&bytes);
        for cut in 0..=bytes.len() {
            let got = outcome(bytes[..cut].to_vec(), &full);
            assert_eq!(got, expected_cut(&layout, cut), "cut at {cut}");
        }
    }

    #[test]
    fn pcapng_cut_at_every_byte() {
        for path in [fixture("synthetic.pcapng"), fixture("two_sections.pcapng")] {
            let bytes = bytes_of(path.clone());
            let (_, full) = read_path(path);
            let layout = pcapng_blocks(&bytes);
            for cut in 0..=bytes.len() {
                let got = outcome(bytes[..cut].to_vec(), &full);
                assert_eq!(got, expected_cut(&layout, cut), "cut at {cut}");
            }
        }
    }

    #[test]
    fn cut_through_a_one_byte_reader_too() {
        let bytes = bytes_of(fixture("synthetic.pcapng"));
        let (_, full) = read_path(fixture("synthetic.pcapng"));
        let layout = pcapng_blocks(&bytes);
        for cut in (0..=bytes.len()).step_by(7) {
            let reader = CaptureReader::from_reader(OneByte(Cursor::new(bytes[..cut].to_vec())));
            let got = match reader {
                Err(e) => CutOutcome::OpenError(e.offset, kind_name(&e.kind)),
                Ok(r) => match drain(r) {
                    (recs, None) => CutOutcome::Clean(recs.len()),
                    (recs, Some(e)) => {
                        assert_eq!(recs[..], full[..recs.len()]);
                        CutOutcome::Truncated(recs.len(), e.offset)
                    }
                },
            };
            assert_eq!(got, expected_cut(&layout, cut), "cut at {cut}");
        }
    }

    #[test]
    fn gzip_cut_anywhere_gives_a_prefix_then_truncated() {
        let plain = bytes_of(corpus("misc/simple_http.pcap"));
        let (_, full) = read_path(corpus("misc/simple_http.pcap"));
        let layout = pcap_records(&plain);
        let gz = gzip(&plain);
        for cut in 0..gz.len() {
            match read_bytes(gz[..cut].to_vec()) {
                Err(e) => {
                    // Cut inside the gzip header or before 4 bytes came out.
                    assert_eq!(e.offset, 0, "cut at {cut}: {e}");
                    assert!(
                        matches!(
                            e.kind,
                            CaptureErrorKind::Truncated | CaptureErrorKind::UnknownFormat
                        ),
                        "cut at {cut}: {e}"
                    );
                }
                Ok((recs, err)) => {
                    assert_eq!(recs[..], full[..recs.len()], "cut at {cut}");
                    let err = err.unwrap_or_else(|| panic!("cut at {cut}: no error"));
                    assert!(
                        matches!(err.kind, CaptureErrorKind::Truncated),
                        "cut at {cut}: {err}"
                    );
                    // The error names the start of the first record not delivered
                    // (or the end of the data when only the gzip trailer is missing).
                    let next = layout.get(recs.len() + 1).map_or(plain.len(), |r| r.0);
                    assert_eq!(err.offset as usize, next, "cut at {cut}");
                }
            }
        }
    }

    #[test]
    fn empty_short_and_unknown_inputs() {
        for bytes in [
            &b""[..],
            b"\xd4",
            b"\xd4\xc3\xb2",
            b"GET / HTTP/1.1\r\n\r\n",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
            b"\x0a\x0d\x0d", // pcapng magic cut short
        ] {
            let err = read_bytes(bytes.to_vec()).unwrap_err();
            assert_eq!(err.offset, 0);
            assert!(matches!(err.kind, CaptureErrorKind::UnknownFormat), "{err}");
        }
        // Gzip of nothing, and gzip of garbage.
        let err = read_bytes(gzip(b"")).unwrap_err();
        assert!(matches!(err.kind, CaptureErrorKind::UnknownFormat), "{err}");
        let err = read_bytes(gzip(b"not a capture at all")).unwrap_err();
        assert!(matches!(err.kind, CaptureErrorKind::UnknownFormat), "{err}");
        // Broken gzip data is an I/O error.
        let mut gz = gzip(&bytes_of(corpus("misc/simple_http.pcap")));
        for b in &mut gz[10..40] {
            *b ^= 0x5a;
        }
        let broken = match read_bytes(gz) {
            Err(e) => e,
            Ok((_, err)) => err.expect("error"),
        };
        assert!(matches!(broken.kind, CaptureErrorKind::Io(_)), "{broken}");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = CaptureReader::open(fixture("no-such-file.pcap")).unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(matches!(err.kind, CaptureErrorKind::Io(_)));
    }

    #[test]
    fn huge_pcap_caplen_is_corrupt_after_the_good_packets() {
        let mut bytes = bytes_of(corpus("misc/simple_http.pcap"));
        let layout = pcap_records(&bytes);
        let third = layout[3].0; // third record
        for bad in [0x7fff_ffffu32, 256 * 1024 * 1024 + 1, u32::MAX] {
            bytes[third + 8..third + 12].copy_from_slice(&bad.to_le_bytes());
            let (recs, err) = read_bytes(bytes.clone()).unwrap();
            assert_eq!(recs.len(), 2);
            let err = err.unwrap();
            assert_eq!(err.offset, third as u64);
            assert!(matches!(err.kind, CaptureErrorKind::Corrupt(_)), "{err}");
        }
    }

    /// Overwrites the u32 at `at` (little-endian file).
    fn poke(bytes: &mut [u8], at: usize, value: u32) {
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    #[test]
    fn damaged_pcapng_blocks() {
        let good = bytes_of(fixture("two_sections.pcapng"));
        let layout = pcapng_blocks(&good);
        // layout: 0 SHB, 1 IDB, 2 EPB, 3 EPB, ...
        let epb = layout[3].0;
        let idb = layout[1].0;
        let corrupt = |bytes: Vec<u8>| -> (usize, CaptureError) {
            let (recs, err) = read_bytes(bytes).unwrap();
            (recs.len(), err.expect("an error"))
        };

        // Block length not a multiple of 4.
        let mut b = good.clone();
        poke(&mut b, epb + 4, (layout[3].1 - epb) as u32 + 1);
        let (n, e) = corrupt(b);
        assert_eq!((n, e.offset), (1, epb as u64));
        assert!(matches!(e.kind, CaptureErrorKind::Corrupt(_)), "{e}");

        // Block length absurd.
        let mut b = good.clone();
        poke(&mut b, epb + 4, 0xffff_fff0);
        let (n, e) = corrupt(b);
        assert_eq!((n, e.offset), (1, epb as u64));
        assert!(matches!(e.kind, CaptureErrorKind::Corrupt(_)), "{e}");

        // Block length below the minimum.
        let mut b = good.clone();
        poke(&mut b, epb + 4, 8);
        let (_, e) = corrupt(b);
        assert_eq!(e.offset, epb as u64);
        assert!(matches!(e.kind, CaptureErrorKind::Corrupt(_)), "{e}");

        // Trailing length differs from the leading one.
        let mut b = good.clone();
        poke(&mut b, layout[3].1 - 4, 4);
        let (n, e) = corrupt(b);
        assert_eq!((n, e.offset), (1, epb as u64));
        assert!(matches!(e.kind, CaptureErrorKind::Corrupt(_)), "{e}");

        // EPB caplen larger than its block.
        let mut b = good.clone();
        poke(&mut b, epb + 20, 60_000);
        let (n, e) = corrupt(b);
        assert_eq!((n, e.offset), (1, epb as u64));
        assert!(matches!(e.kind, CaptureErrorKind::Corrupt(_)), "{e}");

        // EPB caplen over the interface's snap length.
        let mut b = good.clone();
        poke(&mut b, idb + 12, 100); // snaplen of interface 0
        let (n, e) = corrupt(b);
        assert_eq!(n, 0);
        assert_eq!(e.offset, layout[2].0 as u64);
        assert!(matches!(e.kind, CaptureErrorKind::Corrupt(_)), "{e}");

        // EPB on an interface nobody declared.
        let mut b = good.clone();
        poke(&mut b, epb + 8, 3);
        let (n, e) = corrupt(b);
        assert_eq!((n, e.offset), (1, epb as u64));
        assert!(
            matches!(e.kind, CaptureErrorKind::UnknownInterface(3)),
            "{e}"
        );

        // Interfaces do not carry over into the next section: drop section 2's IDB.
        let second_shb = layout
            .iter()
            .position(|&(s, _, _)| s > 0 && good[s..s + 4] == [0x0a, 0x0d, 0x0d, 0x0a])
            .unwrap();
        let (idb2_start, idb2_end, _) = layout[second_shb + 1];
        let mut b = good[..idb2_start].to_vec();
        b.extend(&good[idb2_end..]);
        let (n, e) = corrupt(b);
        assert_eq!((n, e.offset), (5, idb2_start as u64));
        assert!(
            matches!(e.kind, CaptureErrorKind::UnknownInterface(0)),
            "{e}"
        );

        // Unknown byte-order magic in the second section header.
        let mut b = good.clone();
        let shb2 = layout[second_shb].0;
        poke(&mut b, shb2 + 8, 0x1234_5678);
        let (n, e) = corrupt(b);
        assert_eq!((n, e.offset), (5, shb2 as u64));
        assert!(matches!(e.kind, CaptureErrorKind::Corrupt(_)), "{e}");

        // Bad first section header: an open error at 0.
        let mut b = good.clone();
        poke(&mut b, 8, 0x1234_5678);
        let e = read_bytes(b).unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(matches!(e.kind, CaptureErrorKind::Corrupt(_)), "{e}");

        // Out-of-range if_tsresol: the IDB is rejected.
        let synthetic = bytes_of(fixture("synthetic.pcapng"));
        let at = synthetic
            .windows(8)
            .position(|w| w == [0, 9, 0, 1, 0x8a, 0, 0, 0]) // option 9, length 1, 0x8a (big-endian)
            .unwrap();
        let mut b = synthetic.clone();
        b[at + 4] = 20; // 10^20 units per second does not fit
        let (n, e) = corrupt(b);
        assert_eq!(n, 0);
        assert!(
            matches!(e.kind, CaptureErrorKind::Corrupt(ref s) if s.contains("if_tsresol")),
            "{e}"
        );
    }

    #[test]
    fn spb_before_any_interface_is_an_unknown_interface() {
        // SHB (little-endian, no options) then an SPB.
        let mut b = Vec::new();
        b.extend([0x0a, 0x0d, 0x0d, 0x0a]);
        b.extend(28u32.to_le_bytes());
        b.extend(0x1a2b_3c4du32.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(0u16.to_le_bytes());
        b.extend((-1i64).to_le_bytes());
        b.extend(28u32.to_le_bytes());
        b.extend(3u32.to_le_bytes());
        b.extend(20u32.to_le_bytes());
        b.extend(4u32.to_le_bytes());
        b.extend([1, 2, 3, 4]);
        b.extend(20u32.to_le_bytes());
        let (recs, err) = read_bytes(b).unwrap();
        assert!(recs.is_empty());
        let err = err.unwrap();
        assert_eq!(err.offset, 28);
        assert!(matches!(err.kind, CaptureErrorKind::UnknownInterface(0)));
    }

    #[test]
    fn error_messages_name_the_offset() {
        let bytes = bytes_of(corpus("misc/simple_http.pcap"));
        let (_, err) = read_bytes(bytes[..1234].to_vec()).unwrap();
        let err = err.unwrap();
        let layout = pcap_records(&bytes);
        let start = layout.iter().find(|r| r.0 < 1234 && 1234 < r.1).unwrap().0;
        assert_eq!(
            err.to_string(),
            format!("byte offset {start}: file ends inside a record")
        );
        let err = read_bytes(b"nope".to_vec()).unwrap_err();
        assert!(err.to_string().starts_with("byte offset 0: "), "{err}");
    }

    /// xorshift64*: a small deterministic generator for the damage test.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_damage_never_panics() {
        let mut rng = Rng(0x5eed_cafe_f00d_1234);
        for path in [
            corpus("misc/simple_http.pcap"),
            corpus("tcpdump-4.99.3/pptp.pcap"),
            fixture("synthetic.pcapng"),
            fixture("two_sections.pcapng"),
            fixture("simple_http_modified.pcap"),
        ] {
            let good = bytes_of(path);
            for _ in 0..1500 {
                let mut b = good.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(b.len());
                    b[at] = match rng.below(4) {
                        0 => 0,
                        1 => 0xff,
                        _ => rng.next() as u8,
                    };
                }
                if rng.below(4) == 0 {
                    let cut = rng.below(b.len());
                    b.truncate(cut);
                }
                if let Ok(mut reader) = CaptureReader::from_reader(Cursor::new(b)) {
                    let mut n = 0;
                    while let Some(item) = reader.next_packet() {
                        n += 1;
                        assert!(n < 100_000);
                        if let Ok(p) = item {
                            assert!(p.data.len() <= 256 * 1024 * 1024);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn reader_is_send_and_link_type_is_plain_data() {
        fn is_send<T: Send>() {}
        is_send::<CaptureReader>();
        assert_eq!(LinkType(1), LinkType(1));
    }
}
