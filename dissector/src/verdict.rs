//! What synack concludes about a whole connection.

use synack_core::flow::Endpoint;

use crate::annotation::{EndpointStates, Role, RoleSet};

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
    /// Stable name.
    pub fn name(self) -> &'static str {
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
    /// Stable name.
    pub fn name(self) -> &'static str {
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
    pub fn name(self) -> &'static str {
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
    pub history: String,
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
