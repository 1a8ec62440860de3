//! pcapng: sections (each opened by a Section Header Block, in its own byte
//! order) of blocks; Interface Description Blocks declare interfaces with
//! their link type, snap length and timestamp resolution and offset;
//! Enhanced and Simple Packet Blocks carry packets. Other blocks are skipped
//! unparsed.
//!
//! Allocation: pcap-parser collects a block's options into a `Vec` (of
//! borrowed values) when the block has any, so an EPB with options (a
//! comment, flags, a hash, ...) costs one small allocation; EPBs without
//! options and SPBs allocate nothing. SHBs and IDBs allocate their option
//! list too (once per section or interface).

use pcap_parser::{
    parse_enhancedpacketblock_be, parse_enhancedpacketblock_le, parse_interfacedescriptionblock_be,
    parse_interfacedescriptionblock_le, parse_sectionheaderblock, parse_simplepacketblock_be,
    parse_simplepacketblock_le, InterfaceDescriptionBlock, OptionCode,
};

use super::stream::Stream;
use super::MAX_CAPLEN;
use super::{io_error, parse_failure, read_u32, CaptureError, CaptureErrorKind, LinkType, Record};

/// The Section Header Block type as it appears in the file (a palindrome).
pub(crate) const SHB_MAGIC_BYTES: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const SHB_TYPE: u32 = 0x0A0D_0D0A;
const IDB_TYPE: u32 = 0x0000_0001;
const SPB_TYPE: u32 = 0x0000_0003;
const EPB_TYPE: u32 = 0x0000_0006;
/// Byte-order magic of a little-endian section, as its bytes appear.
const BOM_LE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];
/// Byte-order magic of a big-endian section, as its bytes appear.
const BOM_BE: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];

/// Block type, length and trailing length: the smallest possible block.
const MIN_BLOCK_LEN: usize = 12;
/// Smallest Section Header Block (no options).
const MIN_SHB_LEN: u32 = 28;
/// Offset of the packet bytes in an EPB / SPB.
const EPB_DATA_OFFSET: usize = 28;
const SPB_DATA_OFFSET: usize = 12;
/// Largest block accepted: a maximal packet plus room for options.
const MAX_BLOCK_LEN: u32 = MAX_CAPLEN + 1024 * 1024;

/// What the reader keeps of an Interface Description Block.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: LinkType,
    /// Snap length (0 in the file means [`MAX_CAPLEN`]).
    snaplen: u32,
    /// Timestamp units per second (from `if_tsresol`, default 10^6).
    units_per_sec: u64,
    /// Seconds to add to every timestamp (`if_tsoffset`).
    offset_sec: i64,
}

impl Interface {
    /// Converts a raw 64-bit timestamp to nanoseconds since the epoch
    /// (saturating at 0 and `u64::MAX`; fractions below 1 ns are dropped).
    fn ts_ns(&self, raw: u64) -> u64 {
        let units = self.units_per_sec.max(1);
        let secs = i128::from(raw / units) + i128::from(self.offset_sec);
        let frac_ns = u128::from(raw % units) * 1_000_000_000 / u128::from(units);
        let ns = secs * 1_000_000_000 + frac_ns as i128;
        u64::try_from(ns.max(0)).unwrap_or(u64::MAX)
    }
}

/// Record reader for a pcapng stream.
pub(crate) struct PcapNgParser {
    /// Byte order of the current section.
    big_endian: bool,
    /// Interfaces of the current section, by id.
    interfaces: Vec<Interface>,
}

impl PcapNgParser {
    /// Reads the first Section Header Block; the stream is at offset 0 with the SHB magic.
    pub(crate) fn start(stream: &mut Stream) -> Result<Self, CaptureError> {
        let mut parser = PcapNgParser {
            big_endian: false,
            interfaces: Vec::new(),
        };
        let (block_type, len) = match parser.frame_block(stream)? {
            Some(framed) => framed,
            None => return Err(CaptureError::new(0, CaptureErrorKind::Truncated)),
        };
        if block_type != SHB_TYPE {
            return Err(CaptureError::corrupt(
                0,
                "pcapng stream does not start with a section header block",
            ));
        }
        parser.section_header(stream, len)?;
        Ok(parser)
    }

    /// Reads blocks up to and including the next packet; `Ok(None)` at a clean end of file.
    ///
    /// Never inlined: the pcap case, inlined next to it, keeps its registers.
    #[inline(never)]
    pub(crate) fn next_record(
        &mut self,
        stream: &mut Stream,
    ) -> Result<Option<Record>, CaptureError> {
        loop {
            let (block_type, len) = match self.frame_block(stream)? {
                Some(framed) => framed,
                None => return Ok(None),
            };
            match block_type {
                SHB_TYPE => self.section_header(stream, len)?,
                IDB_TYPE => self.interface_description(stream, len)?,
                EPB_TYPE => return self.enhanced_packet(stream, len).map(Some),
                SPB_TYPE => return self.simple_packet(stream, len).map(Some),
                _ => stream.consume(len),
            }
        }
    }

    /// Brings the whole next block into the window and checks its framing.
    /// Returns its type (in the byte order of its section) and length, or
    /// `None` at a clean end of file. A Section Header Block switches the
    /// byte order before its length is read.
    fn frame_block(&mut self, stream: &mut Stream) -> Result<Option<(u32, usize)>, CaptureError> {
        let start = stream.offset();
        if !stream.fill(MIN_BLOCK_LEN).map_err(io_error(start))? {
            return if stream.available().is_empty() {
                Ok(None)
            } else {
                Err(CaptureError::new(start, CaptureErrorKind::Truncated))
            };
        }
        let head = stream.available();
        let big_endian = if head.get(..4) == Some(&SHB_MAGIC_BYTES[..]) {
            match head.get(8..12) {
                Some(bom) if bom == BOM_LE => false,
                Some(bom) if bom == BOM_BE => true,
                _ => {
                    return Err(CaptureError::corrupt(
                        start,
                        "section header block with an unknown byte-order magic",
                    ))
                }
            }
        } else {
            self.big_endian
        };
        let block_type = read_u32(head, 0, big_endian);
        let len = read_u32(head, 4, big_endian);
        if block_type == SHB_TYPE && len < MIN_SHB_LEN {
            return Err(CaptureError::corrupt(
                start,
                format!("section header block length {len} is below the minimum of {MIN_SHB_LEN}"),
            ));
        }
        if (len as usize) < MIN_BLOCK_LEN || len & 3 != 0 || len > MAX_BLOCK_LEN {
            return Err(CaptureError::corrupt(
                start,
                format!("block type {block_type:#x} has an invalid length of {len} bytes"),
            ));
        }
        let len = len as usize;
        if !stream.fill(len).map_err(io_error(start))? {
            return Err(CaptureError::new(start, CaptureErrorKind::Truncated));
        }
        let trailer = read_u32(stream.available(), len - 4, big_endian);
        if trailer as usize != len {
            return Err(CaptureError::corrupt(
                start,
                format!("block length {len} at the start but {trailer} at the end"),
            ));
        }
        Ok(Some((block_type, len)))
    }

    /// The framed block of `len` bytes at the window start.
    fn block(stream: &Stream, len: usize) -> &[u8] {
        stream.available().get(..len).unwrap_or(&[])
    }

    /// A Section Header Block: new byte order, no interfaces yet.
    fn section_header(&mut self, stream: &mut Stream, len: usize) -> Result<(), CaptureError> {
        let start = stream.offset();
        let shb = match parse_sectionheaderblock(Self::block(stream, len)) {
            Ok((_, shb)) => shb,
            Err(e) => {
                return Err(CaptureError::corrupt(
                    start,
                    format!("bad section header block: {}", parse_failure(&e)),
                ))
            }
        };
        if shb.major_version != 1 {
            return Err(CaptureError::corrupt(
                start,
                format!(
                    "unsupported pcapng version {}.{}",
                    shb.major_version, shb.minor_version
                ),
            ));
        }
        self.big_endian = shb.big_endian();
        self.interfaces.clear();
        stream.consume(len);
        Ok(())
    }

    /// An Interface Description Block: the next interface id of the section.
    fn interface_description(
        &mut self,
        stream: &mut Stream,
        len: usize,
    ) -> Result<(), CaptureError> {
        let start = stream.offset();
        let block = Self::block(stream, len);
        let parsed = if self.big_endian {
            parse_interfacedescriptionblock_be(block)
        } else {
            parse_interfacedescriptionblock_le(block)
        };
        let idb = match parsed {
            Ok((_, idb)) => idb,
            Err(e) => {
                return Err(CaptureError::corrupt(
                    start,
                    format!("bad interface description block: {}", parse_failure(&e)),
                ))
            }
        };
        let interface = interface_from(&idb, self.big_endian)
            .map_err(|what| CaptureError::corrupt(start, what))?;
        self.interfaces.push(interface);
        stream.consume(len);
        Ok(())
    }

    /// The interface `id` of the current section.
    fn interface(&self, id: u32, offset: u64) -> Result<Interface, CaptureError> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .copied()
            .ok_or(CaptureError::new(
                offset,
                CaptureErrorKind::UnknownInterface(id),
            ))
    }

    /// An Enhanced Packet Block.
    fn enhanced_packet(&mut self, stream: &mut Stream, len: usize) -> Result<Record, CaptureError> {
        let start = stream.offset();
        let block = Self::block(stream, len);
        let parsed = if self.big_endian {
            parse_enhancedpacketblock_be(block)
        } else {
            parse_enhancedpacketblock_le(block)
        };
        let epb = match parsed {
            Ok((_, epb)) => epb,
            Err(e) => {
                return Err(CaptureError::corrupt(
                    start,
                    format!("bad enhanced packet block: {}", parse_failure(&e)),
                ))
            }
        };
        let interface = self.interface(epb.if_id, start)?;
        if epb.caplen > interface.snaplen {
            return Err(CaptureError::corrupt(
                start,
                format!(
                    "captured length {} exceeds the snap length {} of interface {}",
                    epb.caplen, interface.snaplen, epb.if_id
                ),
            ));
        }
        // The parser took the padded packet bytes out of the block, so this
        // holds; checked anyway so a slip cannot lend out foreign bytes.
        let caplen = (epb.caplen as usize).min(epb.data.len());
        let raw_ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
        let data_start = stream.position() + EPB_DATA_OFFSET;
        let record = Record {
            data: data_start..data_start + caplen,
            ts_ns: interface.ts_ns(raw_ts),
            link_type: interface.link_type,
            interface: epb.if_id,
            orig_len: epb.origlen,
        };
        stream.consume(len);
        Ok(record)
    }

    /// A Simple Packet Block: interface 0, no timestamp; the captured length is
    /// the original length cut to the block and to the snap length.
    fn simple_packet(&mut self, stream: &mut Stream, len: usize) -> Result<Record, CaptureError> {
        let start = stream.offset();
        let block = Self::block(stream, len);
        let parsed = if self.big_endian {
            parse_simplepacketblock_be(block)
        } else {
            parse_simplepacketblock_le(block)
        };
        let spb = match parsed {
            Ok((_, spb)) => spb,
            Err(e) => {
                return Err(CaptureError::corrupt(
                    start,
                    format!("bad simple packet block: {}", parse_failure(&e)),
                ))
            }
        };
        let interface = self.interface(0, start)?;
        let caplen = (spb.origlen as usize)
            .min(spb.data.len())
            .min(interface.snaplen as usize);
        let data_start = stream.position() + SPB_DATA_OFFSET;
        let record = Record {
            data: data_start..data_start + caplen,
            ts_ns: 0,
            link_type: interface.link_type,
            interface: 0,
            orig_len: spb.origlen,
        };
        stream.consume(len);
        Ok(record)
    }
}

/// Reads the link type, snap length and timestamp options of an IDB.
///
/// The resolution and offset are decoded here rather than taken from
/// pcap-parser's `if_tsresol`/`if_tsoffset`, which reads the offset
/// little-endian whatever the section's byte order.
fn interface_from(
    idb: &InterfaceDescriptionBlock<'_>,
    big_endian: bool,
) -> Result<Interface, String> {
    let mut units_per_sec = 1_000_000;
    let mut offset_sec = 0;
    for option in &idb.options {
        let value = option.as_bytes().unwrap_or(&[]);
        if option.code == OptionCode::IfTsresol {
            if let Some(&resol) = value.first() {
                units_per_sec = ts_units(resol)
                    .ok_or_else(|| format!("if_tsresol {resol:#04x} is out of range"))?;
            }
        } else if option.code == OptionCode::IfTsoffset {
            if let Some(raw) = value.get(..8).and_then(|v| <[u8; 8]>::try_from(v).ok()) {
                offset_sec = if big_endian {
                    i64::from_be_bytes(raw)
                } else {
                    i64::from_le_bytes(raw)
                };
            }
        }
    }
    let snaplen = match idb.snaplen {
        0 => MAX_CAPLEN,
        s => s.min(MAX_CAPLEN),
    };
    Ok(Interface {
        link_type: LinkType(u32::from(idb.linktype.0 as u16)),
        snaplen,
        units_per_sec,
        offset_sec,
    })
}

/// Timestamp units per second for an `if_tsresol` value: 10^n, or 2^n when
/// the top bit is set. `None` when that does not fit 64 bits.
fn ts_units(resol: u8) -> Option<u64> {
    let exponent = u32::from(resol & 0x7f);
    if resol & 0x80 == 0 {
        10u64.checked_pow(exponent)
    } else {
        2u64.checked_pow(exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_units_powers_of_ten_and_two() {
        assert_eq!(ts_units(6), Some(1_000_000));
        assert_eq!(ts_units(9), Some(1_000_000_000));
        assert_eq!(ts_units(0), Some(1));
        assert_eq!(ts_units(19), Some(10_000_000_000_000_000_000));
        assert_eq!(ts_units(20), None);
        assert_eq!(ts_units(0x80 | 10), Some(1024));
        assert_eq!(ts_units(0x80 | 63), Some(1 << 63));
        assert_eq!(ts_units(0x80 | 64), None);
    }

    #[test]
    fn timestamps_in_several_resolutions() {
        let iface = |units_per_sec, offset_sec| Interface {
            link_type: LinkType(1),
            snaplen: MAX_CAPLEN,
            units_per_sec,
            offset_sec,
        };
        assert_eq!(iface(1_000_000, 0).ts_ns(1_500_000), 1_500_000_000);
        assert_eq!(iface(1_000_000_000, 0).ts_ns(1_234_567_891), 1_234_567_891);
        // 2^-10 s: 1.5 s is 1536 units; 1 unit is 976562.5 ns, cut to 976562.
        assert_eq!(iface(1024, 0).ts_ns(1536), 1_500_000_000);
        assert_eq!(iface(1024, 0).ts_ns(1), 976_562);
        // Picoseconds are cut to nanoseconds.
        assert_eq!(
            iface(1_000_000_000_000, 0).ts_ns(1_000_000_000_999),
            1_000_000_000
        );
        // if_tsoffset shifts whole seconds, either way; before 1970 saturates.
        assert_eq!(iface(1_000_000, 100).ts_ns(1), 100_000_001_000);
        assert_eq!(iface(1_000_000, -1).ts_ns(2_000_000), 1_000_000_000);
        assert_eq!(iface(1_000_000, -10).ts_ns(2_000_000), 0);
        assert_eq!(iface(1, i64::MAX).ts_ns(u64::MAX), u64::MAX);
    }
}
