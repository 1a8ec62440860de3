//! One step of the packet path, shared by every front end: a captured record
//! is decoded, its TCP segment tracked, and the result handed to a sink.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;
use synack_core::capture::Packet;
use synack_core::flow::FlowKey;
use synack_core::frame::{self, Decoded, FrameError, TcpFrame, Unsupported};
use synack_core::tcp::PseudoHeader;

use crate::annotation::{Annotation, Warning};
use crate::segment::Segment;
use crate::tracker::{Tracker, TrackerConfig};

/// What became of one captured record.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// A TCP segment, tracked and annotated.
    Tcp {
        /// The decoded frame (views into the record).
        frame: TcpFrame<'a>,
        /// What synack says about it.
        annotation: Annotation,
    },
    /// A later IP fragment of a TCP datagram (no TCP header in it).
    TcpFragment,
    /// Not TCP.
    NotTcp,
    /// May carry TCP, but out of scope.
    Unsupported(Unsupported),
    /// Could not be decoded down to TCP: the frame is reported, the capture goes on.
    Malformed(FrameError),
    /// A TCP segment of a connection another shard tracks (see [`Pipeline::sharded`]).
    OtherShard,
}

/// Decodes records and tracks their connections.
pub struct Pipeline {
    tracker: Tracker,
    verify_checksums: bool,
    shard: Shard,
}

/// Which connections a pipeline tracks: shard `index` of `count`, by flow key hash.
#[derive(Clone, Copy, Debug)]
struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    fn owns(&self, segment: &Segment) -> bool {
        if self.count <= 1 {
            return true;
        }
        let (key, _) = FlowKey::new(segment.src, segment.dst);
        FxBuildHasher.hash_one(key) % self.count == self.index
    }
}

impl Pipeline {
    /// A pipeline with the tracker's limits; checksums are verified when asked
    /// (a bad one is a warning, as captures made with offloading are full of them).
    pub fn new(config: TrackerConfig, verify_checksums: bool) -> Pipeline {
        Pipeline::sharded(config, verify_checksums, 0, 1)
    }

    /// A pipeline that tracks only the connections of shard `index` of `count`
    /// (every connection lands in exactly one shard, whichever way its packets
    /// travel), so that several threads can share one capture.
    pub fn sharded(
        config: TrackerConfig,
        verify_checksums: bool,
        index: u64,
        count: u64,
    ) -> Pipeline {
        Pipeline {
            tracker: Tracker::new(config),
            verify_checksums,
            shard: Shard { index, count },
        }
    }

    /// The tracker, for its verdicts.
    pub fn tracker(&mut self) -> &mut Tracker {
        &mut self.tracker
    }

    /// Takes in one captured record.
    pub fn process<'a>(&mut self, packet: &Packet<'a>) -> Outcome<'a> {
        let decoded = match frame::decode(packet.link_type, packet.data) {
            Ok(d) => d,
            Err(e) => return Outcome::Malformed(e),
        };
        let frame = match decoded {
            Decoded::Tcp(frame) => frame,
            Decoded::TcpFragment { .. } => return Outcome::TcpFragment,
            Decoded::NotTcp => return Outcome::NotTcp,
            Decoded::Unsupported(u) => return Outcome::Unsupported(u),
        };
        let mut segment = Segment::from_frame(&frame);
        if !self.shard.owns(&segment) {
            // Time is the capture's, whichever shard a packet belongs to.
            self.tracker.advance(packet.ts_ns);
            return Outcome::OtherShard;
        }
        let checksum_ok = if self.verify_checksums {
            let pseudo = PseudoHeader {
                src: segment.src.addr,
                dst: segment.dst.addr,
            };
            frame.tcp.verify_checksum(&pseudo)
        } else {
            None
        };
        if checksum_ok == Some(false) {
            segment.warnings.insert(Warning::BadChecksum);
        }
        let annotation = self
            .tracker
            .observe(packet.frame, packet.ts_ns, &segment, checksum_ok);
        Outcome::Tcp { frame, annotation }
    }
}
