//! What synack concludes about a whole connection.

use synack_core::flow::Endpoint;

use crate::annotation::{EndpointStates, Role, RoleSet};

mod packed;

pub use packed::{Packed, PackedVerdicts};

/// How the connection opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenKind {
    /// SYN, SYN-ACK, ACK.
    ThreeWay,
    /// Two SYNs crossed.
    Simultaneous,
    /// A three-way handshake with data on the SYN accepted by Fast Open.
    FastOpen,
    /// Picked up after the handshake.
    Midstream,
    /// The handshake never completed.
    Incomplete,
}

impl OpenKind {
    /// Every kind, in declaration order.
    pub const ALL: [OpenKind; 5] = [
        OpenKind::ThreeWay,
        OpenKind::Simultaneous,
        OpenKind::FastOpen,
        OpenKind::Midstream,
        OpenKind::Incomplete,
    ];

    /// Stable name.
    pub const fn name(self) -> &'static str {
        match self {
            OpenKind::ThreeWay => "three-way",
            OpenKind::Simultaneous => "simultaneous",
            OpenKind::FastOpen => "fast-open",
            OpenKind::Midstream => "midstream",
            OpenKind::Incomplete => "incomplete",
        }
    }
}

/// How the connection closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseKind {
    /// Both FINs, one side first.
    Fin,
    /// Both FINs crossed.
    Simultaneous,
    /// Only one side sent a FIN.
    HalfOpen,
    /// A RST ended it.
    Reset,
    /// No FIN and no RST seen.
    None,
}

impl CloseKind {
    /// Every kind, in declaration order.
    pub const ALL: [CloseKind; 5] = [
        CloseKind::Fin,
        CloseKind::Simultaneous,
        CloseKind::HalfOpen,
        CloseKind::Reset,
        CloseKind::None,
    ];

    /// Stable name.
    pub const fn name(self) -> &'static str {
        match self {
            CloseKind::Fin => "fin",
            CloseKind::Simultaneous => "simultaneous",
            CloseKind::HalfOpen => "half-open",
            CloseKind::Reset => "reset",
            CloseKind::None => "none",
        }
    }
}

/// Client or server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The SYN's sender (or the heuristic's pick midstream).
    Client,
    /// The other endpoint.
    Server,
}

impl Side {
    /// Stable name.
    pub const fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// Options one side offered in its SYN or SYN-ACK.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideOptions {
    /// MSS.
    pub mss: Option<u16>,
    /// Window scale shift.
    pub wscale: Option<u8>,
    /// SACK permitted.
    pub sack_permitted: bool,
    /// Timestamps.
    pub timestamps: bool,
}

/// Per-direction counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets.
    pub packets: u64,
    /// Payload bytes (as the IP headers give them).
    pub bytes: u64,
}

/// What is known of a connection so far (the facts the C ABI and Wireshark show mid-capture).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionFacts {
    /// How it opened (or `Incomplete` while the handshake runs).
    pub open: OpenKind,
    /// SYN to SYN-ACK, microseconds.
    pub rtt_syn_synack_us: Option<u64>,
    /// SYN-ACK to the ACK that completes the handshake, microseconds.
    pub rtt_synack_ack_us: Option<u64>,
    /// Client's offered options.
    pub client_options: SideOptions,
    /// Server's offered options.
    pub server_options: SideOptions,
    /// How it closed, so far (`None` while no FIN or RST was seen).
    pub close: CloseKind,
    /// Who sent the first FIN (for a simultaneous close, the first seen).
    pub active_closer: Option<Side>,
}

/// The verdict on a connection, given when it ends, is evicted, or the capture ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Connection number.
    pub conn: u64,
    /// Frame number of its first packet.
    pub first_frame: u64,
    /// Frame number of its last packet.
    pub last_frame: u64,
    /// The client.
    pub client: Endpoint,
    /// The server.
    pub server: Endpoint,
    /// Time of the first packet, ns since the epoch.
    pub start_ns: u64,
    /// Time of the last packet.
    pub end_ns: u64,
    /// Client to server.
    pub c2s: Counters,
    /// Server to client.
    pub s2c: Counters,
    /// Wireshark's tcp.completeness bitmask (1 SYN, 2 SYN-ACK, 4 ACK, 8 DATA, 16 FIN, 32 RST).
    pub completeness: u8,
    /// Zeek's conn_state (S0, S1, SF, REJ, ...).
    pub conn_state: &'static str,
    /// Zeek's history letters.
    pub history: History,
    /// The facts: how it opened and closed, RTTs, options.
    pub facts: ConnectionFacts,
    /// Retransmitted SYNs.
    pub syn_retransmissions: u32,
    /// Both endpoints' final states.
    pub final_states: EndpointStates,
    /// Roles seen in the connection.
    pub roles_seen: RoleSet,
    /// Frame of each role's first packet (indexed as `Role::ALL`).
    pub role_frames: [Option<u64>; 8],
    /// Labels that run-time plugins put on the connection, `(name, value)`
    /// in plugin order (empty without plugins; see `plugin_host`).
    pub labels: Vec<(String, String)>,
}

impl Verdict {
    /// Frame number of the first packet with `role`.
    pub fn frame_of(&self, role: Role) -> Option<u64> {
        self.role_frames[role as usize]
    }
}

/// Zeek's history letters, read as a `str` (it derefs to one, prints as one,
/// and equals the same text in a `String`).
///
/// Kept in the verdict itself up to [`History::INLINE`] letters, as many as
/// Zeek's model keeps, so that a verdict costs no allocation for them; a
/// longer text is kept on the heap.
#[derive(Clone)]
pub struct History(HistoryText);

#[derive(Clone)]
enum HistoryText {
    Inline {
        letters: [u8; History::INLINE],
        len: u8,
    },
    Heap(Box<str>),
}

impl History {
    /// The most letters kept inline.
    pub const INLINE: usize = 96;

    /// The letters of `text`.
    pub fn new(text: &str) -> History {
        History(match text.len() {
            len @ 0..=History::INLINE => {
                let mut letters = [0; History::INLINE];
                letters[..len].copy_from_slice(text.as_bytes());
                HistoryText::Inline {
                    letters,
                    len: len as u8,
                }
            }
            _ => HistoryText::Heap(text.into()),
        })
    }

    /// The first `len` letters of `room`, which are ASCII (as Zeek's model
    /// keeps them): the room is copied whole, cheaper than the letters
    /// alone, and the bytes past them are never read.
    pub(crate) fn from_ascii_room(room: &[u8; History::INLINE], len: usize) -> History {
        debug_assert!(room[..len].is_ascii());
        History(HistoryText::Inline {
            letters: *room,
            len: len as u8,
        })
    }

    /// The letters as bytes (cheaper than [`History::as_str`], which checks
    /// that they are text).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            HistoryText::Inline { letters, len } => &letters[..usize::from(*len)],
            HistoryText::Heap(text) => text.as_bytes(),
        }
    }

    /// True when there are no letters.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The letters as text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            HistoryText::Inline { letters, len } => {
                std::str::from_utf8(&letters[..usize::from(*len)]).expect("copied from a str")
            }
            HistoryText::Heap(text) => text,
        }
    }
}

impl Default for History {
    /// No letters.
    fn default() -> History {
        History::new("")
    }
}

impl std::ops::Deref for History {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for History {
    fn eq(&self, other: &History) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for History {}

impl PartialEq<String> for History {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<str> for History {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for History {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<History> for String {
    fn eq(&self, other: &History) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<History> for str {
    fn eq(&self, other: &History) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<History> for &str {
    fn eq(&self, other: &History) -> bool {
        *self == other.as_str()
    }
}

impl std::fmt::Debug for History {
    /// As a `String`'s: quoted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_reads_as_its_text_inline_or_not() {
        for len in [
            0,
            1,
            8,
            History::INLINE - 1,
            History::INLINE,
            History::INLINE + 1,
            500,
        ] {
            let text: String = "ShADadFf^".chars().cycle().take(len).collect();
            let history = History::new(&text);
            assert_eq!(&*history, text.as_str());
            assert_eq!(history.as_bytes(), text.as_bytes());
            assert_eq!(history, text);
            assert_eq!(text, history);
            assert_eq!(history, History::new(&text));
            assert_eq!(format!("{history}"), text);
            assert_eq!(format!("{history:?}"), format!("{text:?}"));
        }
        assert_ne!(History::new("Sh"), History::new("ShA"));
        // Copied from a room, only the letters count, not what lies past them.
        let mut room = [b'x'; History::INLINE];
        room[..4].copy_from_slice(b"ShAD");
        for len in [0, 1, 4, History::INLINE] {
            let text = std::str::from_utf8(&room[..len]).unwrap();
            let history = History::from_ascii_room(&room, len);
            assert_eq!(history.as_bytes(), text.as_bytes());
            assert_eq!(history, History::new(text));
            assert_eq!(format!("{history:?}"), format!("{text:?}"));
        }
        assert_eq!(History::default(), "");
        assert!(History::default().is_empty() && !History::new("S").is_empty());
    }
}
