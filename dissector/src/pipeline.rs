//! One step of the packet path, shared by every front end: a captured record
//! is decoded, its TCP segment tracked, and the result handed to a sink.

use synack_core::capture::Packet;
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
    /// No TCP segment to track, and why.
    Skipped(Skipped),
}

/// Why a record gives no TCP segment to track.
#[derive(Debug)]
pub enum Skipped {
    /// A later IP fragment of a TCP datagram (no TCP header in it).
    TcpFragment,
    /// Not TCP.
    NotTcp,
    /// May carry TCP, but out of scope.
    Unsupported(Unsupported),
    /// Could not be decoded down to TCP: the frame is reported, the capture goes on.
    Malformed(FrameError),
}

/// The TCP frame of a decoded record, where it was decoded, or why there is
/// none to track.
#[inline(always)]
pub fn tcp_of<'d, 'a>(
    decoded: &'d Result<Decoded<'a>, FrameError>,
) -> Result<&'d TcpFrame<'a>, Skipped> {
    match decoded {
        Ok(Decoded::Tcp(frame)) => Ok(frame),
        _ => Err(skipped(decoded)),
    }
}

/// Why a decoded record gives no TCP segment to track.
#[cold]
fn skipped(decoded: &Result<Decoded<'_>, FrameError>) -> Skipped {
    match decoded {
        Ok(Decoded::Tcp(_)) => unreachable!("a TCP segment is tracked, not skipped"),
        Ok(Decoded::TcpFragment { .. }) => Skipped::TcpFragment,
        Ok(Decoded::NotTcp) => Skipped::NotTcp,
        Ok(Decoded::Unsupported(u)) => Skipped::Unsupported(*u),
        Err(e) => Skipped::Malformed(*e),
    }
}

/// What became of one decoded record: its TCP frame, borrowed where it was
/// decoded, and what synack says about it; or why it gives no TCP segment.
pub type Tracked<'d, 'a> = Result<(&'d TcpFrame<'a>, Annotation), Skipped>;

/// The tracker's facts of a decoded segment, and whether its checksum
/// verified when asked (a bad one is a warning, as captures made with
/// offloading are full of them; None: not verified, or not captured whole).
/// Always inlined: returned from a call, the segment is built and then
/// copied, which costs a twentieth of a packet's instructions.
#[inline(always)]
pub fn segment_of(frame: &TcpFrame<'_>, verify_checksums: bool) -> (Segment, Option<bool>) {
    let mut segment = Segment::from_frame(frame);
    let checksum_ok = check_checksum(frame, &mut segment, verify_checksums);
    (segment, checksum_ok)
}

/// Verifies the checksum of `frame` when asked, and warns in `segment` of a
/// bad one; whether it verified (None: not verified, or not captured whole).
#[inline(always)]
fn check_checksum(frame: &TcpFrame<'_>, segment: &mut Segment, verify: bool) -> Option<bool> {
    if !verify {
        return None;
    }
    let pseudo = PseudoHeader {
        src: segment.src.addr,
        dst: segment.dst.addr,
    };
    let checksum_ok = frame.tcp.verify_checksum(&pseudo);
    if checksum_ok == Some(false) {
        segment.warnings.insert(Warning::BadChecksum);
    }
    checksum_ok
}

/// Decodes records and tracks their connections.
pub struct Pipeline {
    tracker: Tracker,
    verify_checksums: bool,
}

impl Pipeline {
    /// A pipeline with the tracker's limits; checksums are verified when asked.
    pub fn new(config: TrackerConfig, verify_checksums: bool) -> Pipeline {
        Pipeline {
            tracker: Tracker::new(config),
            verify_checksums,
        }
    }

    /// The tracker, for its verdicts.
    pub fn tracker(&mut self) -> &mut Tracker {
        &mut self.tracker
    }

    /// Takes in one captured record.
    pub fn process<'a>(&mut self, packet: &Packet<'a>) -> Outcome<'a> {
        let decoded = frame::decode(packet.link_type, packet.data);
        match self.track_decoded(packet, &decoded) {
            Ok((frame, annotation)) => Outcome::Tcp {
                frame: frame.clone(),
                annotation,
            },
            Err(skipped) => Outcome::Skipped(skipped),
        }
    }

    /// Takes in one captured record that the caller decoded with
    /// [`frame::decode`], as [`Pipeline::process`] does, but leaves the
    /// frame where it was decoded (an outcome is a copy of it). Each layer
    /// of `Result` a frame passes through is a copy of it too, so `decoded`
    /// is matched here by reference and the segment tracked from there.
    /// Always inlined: it is the packet path of the command's loop.
    #[inline(always)]
    pub fn track_decoded<'d, 'a>(
        &mut self,
        packet: &Packet<'_>,
        decoded: &'d Result<Decoded<'a>, FrameError>,
    ) -> Tracked<'d, 'a> {
        let frame = tcp_of(decoded)?;
        Ok((frame, self.track(packet, frame)))
    }

    /// Tracks the segment of `frame`. Not through `segment_of`: the segment
    /// would be copied in and out of the pair it returns.
    #[inline(always)]
    fn track(&mut self, packet: &Packet<'_>, frame: &TcpFrame<'_>) -> Annotation {
        let mut segment = Segment::from_frame(frame);
        let checksum_ok = check_checksum(frame, &mut segment, self.verify_checksums);
        self.tracker
            .observe(packet.frame, packet.ts_ns, &segment, checksum_ok)
    }
}
