//! What synack says about one packet: its role, the endpoints' states, warnings.
//!
//! Defined once here; every sink (text, JSON, C ABI, Wireshark) renders these.

use std::fmt;

/// The part a packet plays in the opening or closing of its connection.
///
/// Ordered by the connection's life: when a packet fills several roles, the
/// latest is its role and the others are listed as combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// SYN: the opener's request.
    Handshake1,
    /// SYN-ACK: the answer.
    Handshake2,
    /// The client's first ACK of the server's SYN.
    Handshake3,
    /// The FIN of the side that closes first (active close).
    Teardown1,
    /// The first segment from the peer whose acknowledgment covers an active FIN.
    Teardown2,
    /// The other side's FIN (passive close).
    Teardown3,
    /// The first segment whose acknowledgment covers the passive FIN.
    Teardown4,
    /// RST.
    Reset,
}

impl Role {
    /// All roles in order.
    pub const ALL: [Role; 8] = [
        Role::Handshake1,
        Role::Handshake2,
        Role::Handshake3,
        Role::Teardown1,
        Role::Teardown2,
        Role::Teardown3,
        Role::Teardown4,
        Role::Reset,
    ];

    /// The stable name used in every output: `handshake-1` .. `teardown-4`, `reset`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Handshake1 => "handshake-1",
            Role::Handshake2 => "handshake-2",
            Role::Handshake3 => "handshake-3",
            Role::Teardown1 => "teardown-1",
            Role::Teardown2 => "teardown-2",
            Role::Teardown3 => "teardown-3",
            Role::Teardown4 => "teardown-4",
            Role::Reset => "reset",
        }
    }

    /// A short human label: `handshake 1/3`, `teardown 2/4`, `reset`.
    pub fn label(self) -> &'static str {
        match self {
            Role::Handshake1 => "handshake 1/3",
            Role::Handshake2 => "handshake 2/3",
            Role::Handshake3 => "handshake 3/3",
            Role::Teardown1 => "teardown 1/4",
            Role::Teardown2 => "teardown 2/4",
            Role::Teardown3 => "teardown 3/4",
            Role::Teardown4 => "teardown 4/4",
            Role::Reset => "reset",
        }
    }

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of roles, without allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RoleSet(u8);

impl RoleSet {
    /// The empty set.
    pub const EMPTY: RoleSet = RoleSet(0);

    /// Adds a role.
    pub fn insert(&mut self, role: Role) {
        self.0 |= role.bit();
    }
    /// Removes a role.
    pub fn remove(&mut self, role: Role) {
        self.0 &= !role.bit();
    }
    /// True when the role is in the set.
    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }
    /// The roles in either set.
    pub fn union(self, other: RoleSet) -> RoleSet {
        RoleSet(self.0 | other.0)
    }
    /// The roles of this set that are not in `other`.
    pub fn without(self, other: RoleSet) -> RoleSet {
        RoleSet(self.0 & !other.0)
    }
    /// True when the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The latest role in the set: its highest bit (most packets have none).
    pub fn latest(self) -> Option<Role> {
        let highest = u8::BITS.checked_sub(self.0.leading_zeros() + 1)?;
        Role::ALL.get(highest as usize).copied()
    }
    /// The roles in life order: the set bits from the lowest, each taken
    /// off in turn (as many steps as roles, not one per role there is).
    pub fn iter(self) -> impl Iterator<Item = Role> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let lowest = bits.trailing_zeros() as usize;
            bits &= bits.wrapping_sub(1);
            Role::ALL.get(lowest).copied()
        })
    }
    /// The raw bits (bit n is `Role::ALL[n]`), as the C ABI carries them.
    pub fn bits(self) -> u8 {
        self.0
    }
}

/// What kind of reset a RST is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResetKind {
    /// From the SYN's receiver before it sent any SYN-ACK: the connection was refused.
    Refused,
    /// After a FIN was seen in the connection.
    AfterClose,
    /// Any other RST: the connection was aborted.
    Abort,
}

impl ResetKind {
    /// Stable name: `refused`, `after-close`, `abort`.
    pub fn name(self) -> &'static str {
        match self {
            ResetKind::Refused => "refused",
            ResetKind::AfterClose => "after-close",
            ResetKind::Abort => "abort",
        }
    }
}

/// RFC 9293 connection states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// Waiting for a connection request.
    Listen,
    /// Sent a SYN, waiting for the answer.
    SynSent,
    /// Received a SYN and answered it, waiting for the ACK.
    SynReceived,
    /// Open: data flows both ways.
    Established,
    /// Sent a FIN (active close), not yet acknowledged.
    FinWait1,
    /// Own FIN acknowledged, waiting for the peer's FIN.
    FinWait2,
    /// Received the peer's FIN first (passive close), own FIN not yet sent.
    CloseWait,
    /// Both FINs crossed; own FIN not yet acknowledged.
    Closing,
    /// Passive closer, own FIN sent, waiting for its ACK.
    LastAck,
    /// Active closer, both FINs done, waiting out 2 MSL.
    TimeWait,
    /// No connection.
    Closed,
}

impl TcpState {
    /// Every state, in declaration order.
    pub const ALL: [TcpState; 11] = [
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
        TcpState::Closed,
    ];

    /// The RFC name: `LISTEN`, `SYN-SENT`, ... `CLOSED`.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Closed => "CLOSED",
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Both endpoints' states; `None` where nothing can be known (e.g. midstream).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EndpointStates {
    /// The client's state.
    pub client: Option<TcpState>,
    /// The server's state.
    pub server: Option<TcpState>,
}

/// Which way a packet travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server.
    ClientToServer,
    /// Server to client.
    ServerToClient,
}

impl Direction {
    /// Stable name: `c2s` or `s2c`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::ClientToServer => "c2s",
            Direction::ServerToClient => "s2c",
        }
    }
    /// Index of the sending side: 0 client, 1 server.
    pub fn sender(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }
}

/// A problem or oddity in one packet, with a stable code shared by every output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Warning {
    /// An option could not be read (bad length, past the header).
    MalformedOption,
    /// Non-zero bytes after the EOL option.
    NonzeroPadding,
    /// The snap length cut the segment.
    Truncated,
    /// SYN and FIN in one segment.
    SynFin,
    /// SYN and RST in one segment.
    SynRst,
    /// Payload on a SYN without a Fast Open cookie.
    SynDataWithoutTfo,
    /// The checksum does not match (only when verification is requested).
    BadChecksum,
    /// The urgent pointer is set without URG.
    UrgentPointerWithoutUrg,
    /// The acknowledgment field is non-zero without ACK.
    AckNumberWithoutAck,
    /// A reserved flag bit is set.
    ReservedBits,
    /// A segment that fits no connection state (e.g. data before any handshake answer).
    Unexpected,
}

impl Warning {
    /// All warnings, in bit order.
    pub const ALL: [Warning; 11] = [
        Warning::MalformedOption,
        Warning::NonzeroPadding,
        Warning::Truncated,
        Warning::SynFin,
        Warning::SynRst,
        Warning::SynDataWithoutTfo,
        Warning::BadChecksum,
        Warning::UrgentPointerWithoutUrg,
        Warning::AckNumberWithoutAck,
        Warning::ReservedBits,
        Warning::Unexpected,
    ];

    /// The stable code, e.g. `malformed-option`.
    pub fn code(self) -> &'static str {
        match self {
            Warning::MalformedOption => "malformed-option",
            Warning::NonzeroPadding => "nonzero-padding",
            Warning::Truncated => "truncated",
            Warning::SynFin => "syn-fin",
            Warning::SynRst => "syn-rst",
            Warning::SynDataWithoutTfo => "syn-data-without-tfo",
            Warning::BadChecksum => "bad-checksum",
            Warning::UrgentPointerWithoutUrg => "urgent-pointer-without-urg",
            Warning::AckNumberWithoutAck => "ack-number-without-ack",
            Warning::ReservedBits => "reserved-bits",
            Warning::Unexpected => "unexpected",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of warnings, without allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Warnings(u32);

impl Warnings {
    /// Adds a warning.
    pub fn insert(&mut self, w: Warning) {
        self.0 |= w.bit();
    }
    /// True when the warning is present.
    pub fn contains(self, w: Warning) -> bool {
        self.0 & w.bit() != 0
    }
    /// True when there are none.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The warnings in bit order.
    pub fn iter(self) -> impl Iterator<Item = Warning> {
        Warning::ALL.into_iter().filter(move |w| self.contains(*w))
    }
    /// The raw bits (bit n is `Warning::ALL[n]`), as the C ABI carries them.
    pub fn bits(self) -> u32 {
        self.0
    }
}

/// Everything synack says about one TCP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Connection number, from 0, in order of first packet.
    pub conn: u64,
    /// Direction relative to the connection's client.
    pub dir: Direction,
    /// The packet's role (the latest, when it fills several).
    pub role: Option<Role>,
    /// The other roles it fills.
    pub combines: RoleSet,
    /// For `Role::Reset`: which kind.
    pub reset_kind: Option<ResetKind>,
    /// A retransmitted SYN, SYN-ACK or FIN.
    pub retransmission: bool,
    /// Both endpoints' states after this packet.
    pub states: EndpointStates,
    /// Oddities found in the packet.
    pub warnings: Warnings,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_role_is_the_last_in_life_order() {
        for bits in 0..=u8::MAX {
            let set = RoleSet(bits);
            let by_walk = Role::ALL.into_iter().rev().find(|r| set.contains(*r));
            assert_eq!(set.latest(), by_walk, "{bits:08b}");
        }
    }

    #[test]
    fn the_roles_of_a_set_are_walked_in_life_order() {
        for bits in 0..=u8::MAX {
            let set = RoleSet(bits);
            let by_filter: Vec<Role> = Role::ALL.into_iter().filter(|r| set.contains(*r)).collect();
            assert_eq!(set.iter().collect::<Vec<_>>(), by_filter, "{bits:08b}");
        }
    }
}
