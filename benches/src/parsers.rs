//! One `read_all` function per parser: the fairness rule of the benchmarks.
//!
//! Each function parses the bytes with its library's own API and then reads
//! every header field and every option value, handing each value to a
//! [`Sink`]. In the benchmarks the sink is [`BlackBox`], which passes every
//! value through [`std::hint::black_box`] (what `criterion::black_box` is
//! now), so the compiler can skip none of the reads and every parser pays the
//! same per value. In the tests the sink is a `Vec<u64>`, and every parser
//! must give the same values in the same order on every input: so no parser
//! reads less than another.
//!
//! The values, in order (the same for every parser):
//!
//! 1. source port, destination port, sequence number, acknowledgment number,
//!    data offset (in 32-bit words), the eight flags of byte 13 as one value,
//!    the NS/AE bit (byte 12, bit 0), window, checksum, urgent pointer;
//! 2. for each option up to the end of the option list (EOL ends the walk and
//!    gives nothing): its kind, then its values: MSS: the size; window scale:
//!    the shift; SACK-permitted and NOP: nothing more; SACK: every left and
//!    right edge; timestamps: TSval and TSecr; any other kind: its length.
//!
//! Flags: where a library hands out one boolean per flag (etherparse,
//! smoltcp), the eight are read one by one and packed into the byte; where it
//! hands out the byte (pnet, pdu, synack), the byte is taken. Where a library
//! gives an option's raw bytes only (pnet), its values are decoded here with
//! `from_be_bytes`, as a user of that library has to. pdu has no accessor for
//! the NS bit, so it is read from the header bytes pdu returns.
//!
//! The whole-frame functions ([`synack_frame`], [`etherparse_sliced`],
//! [`etherparse_lax`]) first give the IP source and destination address (an
//! IPv4 address as one value, an IPv6 address as two) and then the TCP values
//! above.
//!
//! A parse error is a panic: the inputs are all valid, and a parser that
//! rejected one would make its timing meaningless.

use std::hint::black_box;
use std::net::IpAddr;

use synack_core::capture::LinkType;
use synack_core::frame::{self, Decoded};
use synack_core::tcp::{MalformedOption, TcpHeader, TcpOption};

/// Where a `read_all` function puts what it reads.
pub trait Sink {
    /// Takes one value.
    fn put(&mut self, value: u64);
}

/// The benchmarks' sink: every value goes through [`black_box`] and is dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct BlackBox;

impl Sink for BlackBox {
    #[inline(always)]
    fn put(&mut self, value: u64) {
        black_box(value);
    }
}

/// The tests' sink: keeps every value.
impl Sink for Vec<u64> {
    fn put(&mut self, value: u64) {
        self.push(value);
    }
}

/// Packs eight flag booleans (CWR first) into byte 13's layout.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
fn flag_byte(
    cwr: bool,
    ece: bool,
    urg: bool,
    ack: bool,
    psh: bool,
    rst: bool,
    syn: bool,
    fin: bool,
) -> u64 {
    (u64::from(cwr) << 7)
        | (u64::from(ece) << 6)
        | (u64::from(urg) << 5)
        | (u64::from(ack) << 4)
        | (u64::from(psh) << 3)
        | (u64::from(rst) << 2)
        | (u64::from(syn) << 1)
        | u64::from(fin)
}

/// Puts an IP address: IPv4 as one value, IPv6 as its two halves.
#[inline(always)]
fn put_addr(sink: &mut impl Sink, addr: IpAddr) {
    match addr {
        IpAddr::V4(a) => sink.put(u64::from(u32::from(a))),
        IpAddr::V6(a) => {
            let v = u128::from(a);
            sink.put((v >> 64) as u64);
            sink.put(v as u64);
        }
    }
}

/// synack: [`TcpHeader::parse`] and a walk of [`TcpHeader::options`] by
/// internal iteration (`fold`), which reads Linux's common layouts in one
/// step; the closure is marked `#[inline(always)]`, as a user's closure
/// must be for the option kinds to be known where it runs.
#[inline]
pub fn synack_tcp<S: Sink>(bytes: &[u8], sink: &mut S) {
    let tcp = TcpHeader::parse(bytes, bytes.len()).expect("synack parses the input");
    synack_fields(&tcp, sink);
}

/// synack as [`synack_tcp`], with the options walked by a `for` loop
/// (`next`, one option a step): what a user who writes the loop gets.
#[inline]
pub fn synack_tcp_stepped<S: Sink>(bytes: &[u8], sink: &mut S) {
    let tcp = TcpHeader::parse(bytes, bytes.len()).expect("synack parses the input");
    synack_header_fields(&tcp, sink);
    for option in tcp.options() {
        synack_option(option, sink);
    }
}

#[inline(always)]
fn synack_fields<S: Sink>(tcp: &TcpHeader<'_>, sink: &mut S) {
    synack_header_fields(tcp, sink);
    tcp.options().fold(
        (),
        #[inline(always)]
        |(), option| synack_option(option, sink),
    );
}

#[inline(always)]
fn synack_header_fields<S: Sink>(tcp: &TcpHeader<'_>, sink: &mut S) {
    sink.put(u64::from(tcp.src_port()));
    sink.put(u64::from(tcp.dst_port()));
    sink.put(u64::from(tcp.seq()));
    sink.put(u64::from(tcp.ack()));
    sink.put(u64::from(tcp.data_offset()));
    let flags = tcp.flags();
    sink.put(u64::from(flags.0 & 0xff));
    sink.put(u64::from(flags.ae()));
    sink.put(u64::from(tcp.window()));
    sink.put(u64::from(tcp.checksum()));
    sink.put(u64::from(tcp.urgent_ptr()));
}

/// One item of synack's option walk; EOL, the walk's last item, gives
/// nothing. Inlined wherever the walk yields an item, so that the match
/// folds where the option's kind is known.
#[inline(always)]
fn synack_option<S: Sink>(option: Result<TcpOption<'_>, MalformedOption>, sink: &mut S) {
    let option = option.expect("synack reads every option");
    if option == TcpOption::Eol {
        return;
    }
    sink.put(u64::from(option.kind()));
    match option {
        TcpOption::Mss(v) => sink.put(u64::from(v)),
        TcpOption::WindowScale(s) => sink.put(u64::from(s)),
        TcpOption::Nop | TcpOption::SackPermitted => {}
        TcpOption::Sack(blocks) => {
            for (left, right) in blocks.iter() {
                sink.put(u64::from(left));
                sink.put(u64::from(right));
            }
        }
        TcpOption::Timestamps { tsval, tsecr } => {
            sink.put(u64::from(tsval));
            sink.put(u64::from(tsecr));
        }
        other => sink.put(other.len() as u64),
    }
}

/// The etherparse reads, shared by `TcpHeaderSlice` and `TcpSlice` (same method names, no common trait).
macro_rules! etherparse_fields {
    ($tcp:expr, $sink:expr) => {{
        let tcp = $tcp;
        let sink = $sink;
        sink.put(u64::from(tcp.source_port()));
        sink.put(u64::from(tcp.destination_port()));
        sink.put(u64::from(tcp.sequence_number()));
        sink.put(u64::from(tcp.acknowledgment_number()));
        sink.put(u64::from(tcp.data_offset()));
        sink.put(flag_byte(
            tcp.cwr(),
            tcp.ece(),
            tcp.urg(),
            tcp.ack(),
            tcp.psh(),
            tcp.rst(),
            tcp.syn(),
            tcp.fin(),
        ));
        sink.put(u64::from(tcp.ns()));
        sink.put(u64::from(tcp.window_size()));
        sink.put(u64::from(tcp.checksum()));
        sink.put(u64::from(tcp.urgent_pointer()));
        for option in tcp.options_iterator() {
            use etherparse::TcpOptionElement as E;
            match option.expect("etherparse reads every option") {
                E::Noop => sink.put(1),
                E::MaximumSegmentSize(v) => {
                    sink.put(2);
                    sink.put(u64::from(v));
                }
                E::WindowScale(s) => {
                    sink.put(3);
                    sink.put(u64::from(s));
                }
                E::SelectiveAcknowledgementPermitted => sink.put(4),
                E::SelectiveAcknowledgement(first, rest) => {
                    sink.put(5);
                    sink.put(u64::from(first.0));
                    sink.put(u64::from(first.1));
                    for (left, right) in rest.into_iter().flatten() {
                        sink.put(u64::from(left));
                        sink.put(u64::from(right));
                    }
                }
                E::Timestamp(tsval, tsecr) => {
                    sink.put(8);
                    sink.put(u64::from(tsval));
                    sink.put(u64::from(tsecr));
                }
            }
        }
    }};
}

/// etherparse: `TcpHeaderSlice::from_slice` and its `options_iterator()`.
#[inline]
pub fn etherparse_tcp<S: Sink>(bytes: &[u8], sink: &mut S) {
    let tcp = etherparse::TcpHeaderSlice::from_slice(bytes).expect("etherparse parses the input");
    etherparse_fields!(&tcp, sink);
}

/// smoltcp: `wire::TcpPacket::new_checked` and a `TcpOption::parse` loop over `options()`.
#[inline]
pub fn smoltcp_tcp<S: Sink>(bytes: &[u8], sink: &mut S) {
    use smoltcp::wire::{TcpOption, TcpPacket};
    let tcp = TcpPacket::new_checked(bytes).expect("smoltcp parses the input");
    sink.put(u64::from(tcp.src_port()));
    sink.put(u64::from(tcp.dst_port()));
    sink.put(u64::from(tcp.seq_number().0 as u32));
    sink.put(u64::from(tcp.ack_number().0 as u32));
    sink.put(u64::from(tcp.header_len() / 4));
    sink.put(flag_byte(
        tcp.cwr(),
        tcp.ece(),
        tcp.urg(),
        tcp.ack(),
        tcp.psh(),
        tcp.rst(),
        tcp.syn(),
        tcp.fin(),
    ));
    sink.put(u64::from(tcp.ns()));
    sink.put(u64::from(tcp.window_len()));
    sink.put(u64::from(tcp.checksum()));
    sink.put(u64::from(tcp.urgent_at()));
    let mut options = tcp.options();
    while !options.is_empty() {
        let (rest, option) = TcpOption::parse(options).expect("smoltcp reads every option");
        match option {
            TcpOption::EndOfList => break,
            TcpOption::NoOperation => sink.put(1),
            TcpOption::MaxSegmentSize(v) => {
                sink.put(2);
                sink.put(u64::from(v));
            }
            TcpOption::WindowScale(s) => {
                sink.put(3);
                sink.put(u64::from(s));
            }
            TcpOption::SackPermitted => sink.put(4),
            TcpOption::SackRange(blocks) => {
                sink.put(5);
                for (left, right) in blocks.into_iter().flatten() {
                    sink.put(u64::from(left));
                    sink.put(u64::from(right));
                }
            }
            TcpOption::TimeStamp { tsval, tsecr } => {
                sink.put(8);
                sink.put(u64::from(tsval));
                sink.put(u64::from(tsecr));
            }
            TcpOption::Unknown { kind, data } => {
                sink.put(u64::from(kind));
                sink.put(data.len() as u64 + 2);
            }
        }
        options = rest;
    }
}

/// Reads a big-endian u32 at `at` of an option's value bytes (pnet hands out raw bytes).
#[inline(always)]
fn be_u32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// pnet_packet: `tcp::TcpPacket::new` and `get_options_iter()`; option values
/// are raw bytes there, decoded here.
#[inline]
pub fn pnet_tcp<S: Sink>(bytes: &[u8], sink: &mut S) {
    use pnet_packet::tcp::TcpPacket;
    use pnet_packet::Packet;
    let tcp = TcpPacket::new(bytes).expect("pnet parses the input");
    sink.put(u64::from(tcp.get_source()));
    sink.put(u64::from(tcp.get_destination()));
    sink.put(u64::from(tcp.get_sequence()));
    sink.put(u64::from(tcp.get_acknowledgement()));
    sink.put(u64::from(tcp.get_data_offset()));
    sink.put(u64::from(tcp.get_flags()));
    sink.put(u64::from(tcp.get_reserved() & 1));
    sink.put(u64::from(tcp.get_window()));
    sink.put(u64::from(tcp.get_checksum()));
    sink.put(u64::from(tcp.get_urgent_ptr()));
    for option in tcp.get_options_iter() {
        let kind = option.get_number().0;
        if kind == 0 {
            break;
        }
        sink.put(u64::from(kind));
        let data = option.payload();
        match kind {
            1 | 4 => {}
            2 => sink.put(u64::from(u16::from_be_bytes([data[0], data[1]]))),
            3 => sink.put(u64::from(data[0])),
            5 => {
                for block in data.chunks_exact(8) {
                    sink.put(u64::from(be_u32(block, 0)));
                    sink.put(u64::from(be_u32(block, 4)));
                }
            }
            8 => {
                sink.put(u64::from(be_u32(data, 0)));
                sink.put(u64::from(be_u32(data, 4)));
            }
            _ => sink.put(data.len() as u64 + 2),
        }
    }
}

/// pdu: `TcpPdu::new` and `options()`; the NS bit is read from the header bytes (pdu has no accessor).
#[inline]
pub fn pdu_tcp<S: Sink>(bytes: &[u8], sink: &mut S) {
    use pdu::TcpOption;
    let tcp = pdu::TcpPdu::new(bytes).expect("pdu parses the input");
    sink.put(u64::from(tcp.source_port()));
    sink.put(u64::from(tcp.destination_port()));
    sink.put(u64::from(tcp.sequence_number()));
    sink.put(u64::from(tcp.acknowledgement_number()));
    sink.put(u64::from(tcp.data_offset()));
    sink.put(u64::from(tcp.flags()));
    sink.put(u64::from(tcp.buffer()[12] & 1));
    sink.put(u64::from(tcp.window_size()));
    sink.put(u64::from(tcp.checksum()));
    sink.put(u64::from(tcp.urgent_pointer()));
    for option in tcp.options() {
        match option {
            TcpOption::NoOp => sink.put(1),
            TcpOption::Mss { size } => {
                sink.put(2);
                sink.put(u64::from(size));
            }
            TcpOption::WindowScale { shift } => {
                sink.put(3);
                sink.put(u64::from(shift));
            }
            TcpOption::SackPermitted => sink.put(4),
            TcpOption::Sack { blocks } => {
                sink.put(5);
                for (left, right) in blocks.into_iter().flatten() {
                    sink.put(u64::from(left));
                    sink.put(u64::from(right));
                }
            }
            TcpOption::Timestamp { val, ecr } => {
                sink.put(8);
                sink.put(u64::from(val));
                sink.put(u64::from(ecr));
            }
            TcpOption::Raw { option, data } => {
                sink.put(u64::from(option));
                sink.put(data.len() as u64 + 2);
            }
        }
    }
}

/// synack: [`frame::decode`] on an Ethernet frame, then the addresses and the TCP values.
#[inline]
pub fn synack_frame<S: Sink>(bytes: &[u8], sink: &mut S) {
    let Decoded::Tcp(frame) = frame::decode(LinkType(1), bytes).expect("synack decodes the frame")
    else {
        panic!("synack finds no TCP in the frame");
    };
    put_addr(sink, frame.ip.src());
    put_addr(sink, frame.ip.dst());
    synack_fields(&frame.tcp, sink);
}

/// etherparse: `SlicedPacket::from_ethernet`, then the addresses and the TCP values.
#[inline]
pub fn etherparse_sliced<S: Sink>(bytes: &[u8], sink: &mut S) {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    let packet = SlicedPacket::from_ethernet(bytes).expect("etherparse slices the frame");
    match packet.net {
        Some(NetSlice::Ipv4(ip)) => {
            let h = ip.header();
            put_addr(sink, IpAddr::V4(h.source_addr()));
            put_addr(sink, IpAddr::V4(h.destination_addr()));
        }
        Some(NetSlice::Ipv6(ip)) => {
            let h = ip.header();
            put_addr(sink, IpAddr::V6(h.source_addr()));
            put_addr(sink, IpAddr::V6(h.destination_addr()));
        }
        _ => panic!("etherparse finds no IP in the frame"),
    }
    let Some(TransportSlice::Tcp(tcp)) = packet.transport else {
        panic!("etherparse finds no TCP in the frame");
    };
    etherparse_fields!(&tcp, sink);
}

/// etherparse: `LaxSlicedPacket::from_ethernet` (tolerates cut and inconsistent
/// lengths, as synack does), then the addresses and the TCP values.
#[inline]
pub fn etherparse_lax<S: Sink>(bytes: &[u8], sink: &mut S) {
    use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
    let packet = LaxSlicedPacket::from_ethernet(bytes).expect("etherparse slices the frame");
    match packet.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            put_addr(sink, IpAddr::V4(h.source_addr()));
            put_addr(sink, IpAddr::V4(h.destination_addr()));
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            put_addr(sink, IpAddr::V6(h.source_addr()));
            put_addr(sink, IpAddr::V6(h.destination_addr()));
        }
        _ => panic!("etherparse finds no IP in the frame"),
    }
    let Some(TransportSlice::Tcp(tcp)) = packet.transport else {
        panic!("etherparse finds no TCP in the frame");
    };
    etherparse_fields!(&tcp, sink);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::{FRAME_INPUTS, TCP_INPUTS};

    type Recorder = fn(&[u8], &mut Vec<u64>);

    const TCP: [(&str, Recorder); 6] = [
        ("synack", synack_tcp::<Vec<u64>>),
        ("synack-for-loop", synack_tcp_stepped::<Vec<u64>>),
        ("etherparse", etherparse_tcp::<Vec<u64>>),
        ("smoltcp", smoltcp_tcp::<Vec<u64>>),
        ("pnet_packet", pnet_tcp::<Vec<u64>>),
        ("pdu", pdu_tcp::<Vec<u64>>),
    ];

    const FRAME: [(&str, Recorder); 3] = [
        ("synack", synack_frame::<Vec<u64>>),
        ("etherparse-sliced", etherparse_sliced::<Vec<u64>>),
        ("etherparse-lax", etherparse_lax::<Vec<u64>>),
    ];

    fn record(f: Recorder, bytes: &[u8]) -> Vec<u64> {
        let mut values = Vec::new();
        f(bytes, &mut values);
        values
    }

    #[test]
    fn every_tcp_parser_reads_the_same_values() {
        for input in TCP_INPUTS {
            let reference = record(TCP[0].1, input.bytes);
            for (name, f) in TCP {
                assert_eq!(
                    record(f, input.bytes),
                    reference,
                    "{name} on {}",
                    input.name
                );
            }
        }
    }

    #[test]
    fn every_frame_parser_reads_the_same_values() {
        for input in FRAME_INPUTS {
            let reference = record(FRAME[0].1, input.bytes);
            for (name, f) in FRAME {
                assert_eq!(
                    record(f, input.bytes),
                    reference,
                    "{name} on {}",
                    input.name
                );
            }
        }
    }

    #[test]
    fn the_values_are_the_ones_on_the_wire() {
        // The SYN: ports 59496 -> 5001, MSS 1460, SACK-permitted, TS, NOP, WS 10.
        let v = record(synack_tcp::<Vec<u64>>, crate::inputs::TCP_SYN.bytes);
        assert_eq!(&v[..2], &[59496, 5001]);
        assert_eq!(v[4], 10, "data offset");
        assert_eq!(v[5], 0x02, "SYN");
        let options = &v[10..];
        assert_eq!(options, &[2, 1460, 4, 8, 0xe7bc_c9bc, 0, 1, 3, 10]);
        // The SACK ACK: three blocks, six edges.
        // NOP, NOP, TS (2 values), NOP, NOP, SACK (6 edges).
        let v = record(synack_tcp::<Vec<u64>>, crate::inputs::TCP_ACK_SACK3.bytes);
        let options = &v[10..];
        assert_eq!(options.len(), 14);
        assert_eq!(&options[..3], &[1, 1, 8]);
        assert_eq!(&options[5..8], &[1, 1, 5]);
        // The bare header: the ten fixed values only.
        assert_eq!(
            record(synack_tcp::<Vec<u64>>, crate::inputs::TCP_BARE.bytes).len(),
            10
        );
    }
}
