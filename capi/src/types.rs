//! The plain `#[repr(C)]` types of the C ABI: enums, header, frame, annotation,
//! verdict and packet structs. cbindgen turns them into `include/synack.h`.
//!
//! Every enum is `int32_t`-sized (`#[repr(i32)]`); structs hold only integers,
//! fixed arrays, `bool` and pointers.

use std::os::raw::c_char;

// Defined with the plugin ABI, which uses them too.
pub use crate::plugin_host::{synack_direction, synack_endpoint};

/// Version of the C ABI: raised whenever a function, struct layout or enum
/// value changes incompatibly. The shared library's SONAME is
/// `libsynack.so.<SYNACK_ABI_VERSION>`.
pub const SYNACK_ABI_VERSION: u32 = 1;

/// Size of `synack_verdict::history`, the terminating NUL included.
pub const SYNACK_HISTORY_LEN: usize = 32;

/// Size of `synack_verdict::conn_state`, the terminating NUL included.
pub const SYNACK_CONN_STATE_LEN: usize = 8;

/// Return codes. `SYNACK_STATUS_OK` (0) and `SYNACK_STATUS_NOT_TCP` (1) are
/// not errors; every error is negative. Functions that iterate return 1 for
/// an item, 0 at the end and a negative status on error instead.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_status {
    /// Success.
    Ok = 0,
    /// The frame was read but carries no TCP header to annotate (not TCP, a
    /// later IP fragment, a tunnel, an ICMP error quoting TCP). Not an error.
    NotTcp = 1,
    /// A required pointer argument was NULL.
    ErrNull = -1,
    /// An argument is out of range (a length above `PTRDIFF_MAX`, an unknown
    /// enum value, a configuration value of 0 where 1 or more is needed, a path
    /// that is not UTF-8).
    ErrInvalid = -2,
    /// The buffer is too short for the header it must hold.
    ErrShort = -3,
    /// The bytes break the protocol's rules (e.g. a TCP data offset below 5).
    ErrMalformed = -4,
    /// The link type is not one synack reads.
    ErrUnsupported = -5,
    /// Reading a file failed.
    ErrIo = -6,
    /// The file is not a pcap or pcapng capture, or is damaged or cut short.
    ErrFormat = -7,
    /// A plugin could not be loaded (no such file, not a shared object, no
    /// `synack_plugin_descriptor_v1` symbol, an invalid descriptor).
    ErrPlugin = -8,
    /// A plugin was built for another plugin ABI version.
    ErrAbi = -9,
    /// An internal error (a Rust panic) was caught at the boundary; the
    /// handle it happened on should be freed. `synack_last_error` says what.
    ErrInternal = -10,
}

/// The part a packet plays in the opening or closing of its connection. The
/// values 0..7 are also bit numbers in the role bit sets
/// (`synack_annotation::combines`, `synack_verdict::roles_seen`).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_role {
    /// No role.
    None = -1,
    /// SYN: the opener's request.
    Handshake1 = 0,
    /// SYN-ACK: the answer.
    Handshake2 = 1,
    /// The client's first ACK of the server's SYN.
    Handshake3 = 2,
    /// The FIN of the side that closes first (active close).
    Teardown1 = 3,
    /// The first segment from the peer whose acknowledgment covers an active FIN.
    Teardown2 = 4,
    /// The other side's FIN (passive close).
    Teardown3 = 5,
    /// The first segment whose acknowledgment covers the passive FIN.
    Teardown4 = 6,
    /// RST.
    Reset = 7,
}

/// RFC 9293 connection states.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_state {
    /// Nothing can be known (e.g. a connection picked up midstream).
    Unknown = -1,
    /// LISTEN.
    Listen = 0,
    /// SYN-SENT.
    SynSent = 1,
    /// SYN-RECEIVED.
    SynReceived = 2,
    /// ESTABLISHED.
    Established = 3,
    /// FIN-WAIT-1.
    FinWait1 = 4,
    /// FIN-WAIT-2.
    FinWait2 = 5,
    /// CLOSE-WAIT.
    CloseWait = 6,
    /// CLOSING.
    Closing = 7,
    /// LAST-ACK.
    LastAck = 8,
    /// TIME-WAIT.
    TimeWait = 9,
    /// CLOSED.
    Closed = 10,
}

/// What kind of reset a RST is.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_reset_kind {
    /// Not a reset.
    None = -1,
    /// From the SYN's receiver before any SYN-ACK: the connection was refused.
    Refused = 0,
    /// After a FIN was seen in the connection.
    AfterClose = 1,
    /// Any other RST: the connection was aborted.
    Abort = 2,
}

/// How a connection opened.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_open_kind {
    /// SYN, SYN-ACK, ACK.
    ThreeWay = 0,
    /// Two SYNs crossed.
    Simultaneous = 1,
    /// A three-way handshake with data on the SYN accepted by Fast Open.
    FastOpen = 2,
    /// Picked up after the handshake.
    Midstream = 3,
    /// The handshake never completed (or is still running).
    Incomplete = 4,
}

/// How a connection closed.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_close_kind {
    /// Both FINs, one side first.
    Fin = 0,
    /// Both FINs crossed.
    Simultaneous = 1,
    /// Only one side sent a FIN.
    HalfOpen = 2,
    /// A RST ended it.
    Reset = 3,
    /// No FIN and no RST seen.
    None = 4,
}

/// Client or server.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_side {
    /// Neither (e.g. no FIN was sent).
    None = -1,
    /// The SYN's sender (or the heuristic's pick midstream).
    Client = 0,
    /// The other endpoint.
    Server = 1,
}

/// Why a connection's verdict was given.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_end_reason {
    /// Closed and its TIME-WAIT ran out.
    Closed = 0,
    /// Idle past the timeout.
    Idle = 1,
    /// Evicted to stay under the connection cap.
    Evicted = 2,
    /// A new connection took its 4-tuple.
    Reused = 3,
    /// The capture ended (`synack_tracker_finish`).
    CaptureEnd = 4,
}

/// What a frame holds, as far as TCP is concerned.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_frame_kind {
    /// A TCP segment: every field of `synack_frame` is set.
    Tcp = 0,
    /// A later fragment of a TCP datagram: addresses and `fragment_offset` are set, no TCP header.
    TcpFragment = 1,
    /// Not TCP (ARP, UDP, ICMP echo, ...).
    NotTcp = 2,
    /// A tunnel (GRE, IP-in-IP, MPLS, Geneve, VXLAN, GTP-U): out of scope.
    Tunnel = 3,
    /// An ICMP error quoting a TCP header: out of scope.
    IcmpQuotedTcp = 4,
    /// A link type synack does not read.
    UnsupportedLink = 5,
}

/// Why a TCP option could not be read.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_option_error {
    /// The option is well formed.
    None = 0,
    /// The kind is the last byte: its length byte is missing.
    MissingLength = 1,
    /// The length byte is 0 or 1.
    LengthBelowTwo = 2,
    /// The length runs past the end of the header.
    PastHeader = 3,
    /// The length does not fit the kind.
    WrongLength = 4,
    /// The capture ends inside the option (the snap length cut the header):
    /// not a fault of the packet.
    CutByCapture = 5,
}

/// The fields of one TCP header. Pointers point into the caller's buffer and
/// are valid as long as that buffer is.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct synack_tcp_header {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Data offset, in 32-bit words (5..15).
    pub data_offset: u8,
    /// Header length in bytes (data offset times 4).
    pub header_len: u16,
    /// The twelve flag bits, as tshark's `tcp.flags` (FIN 0x001, SYN 0x002,
    /// RST 0x004, PSH 0x008, ACK 0x010, URG 0x020, ECE 0x040, CWR 0x080, AE
    /// 0x100, reserved 0xE00).
    pub flags: u16,
    /// Window field (unscaled).
    pub window: u16,
    /// Checksum field.
    pub checksum: u16,
    /// Urgent pointer.
    pub urgent_ptr: u16,
    /// The options bytes as captured (between the fixed header and the data
    /// offset); NULL when `options_len` is 0. Walk them with `synack_tcp_options_init`.
    pub options: *const u8,
    /// Length of `options` (less than `header_len - 20` when the capture cut them).
    pub options_len: usize,
    /// The payload bytes as captured; NULL when `payload_len` is 0.
    pub payload: *const u8,
    /// Payload bytes captured.
    pub payload_len: usize,
    /// The segment's length (header and payload) as the IP layer gives it.
    pub segment_len: usize,
    /// The payload's length as the IP layer gives it (`segment_len - header_len`).
    pub wire_payload_len: usize,
    /// The capture cut the segment (fewer bytes than `segment_len`).
    pub truncated: bool,
    /// The capture cut the options themselves.
    pub options_truncated: bool,
}

/// A walk over the options of one TCP header, without copying: it points
/// into the caller's buffer, which must outlive it. Set it up with
/// `synack_tcp_options_init`; its fields are private to the library.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct synack_tcp_options_iter {
    /// The options bytes (private).
    pub bytes: *const u8,
    /// Their length (private).
    pub len: usize,
    /// Items returned so far (private).
    pub index: usize,
    /// The capture cut the options (private).
    pub cut: bool,
}

/// One SACK block.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct synack_sack_block {
    /// Left edge.
    pub left: u32,
    /// Right edge.
    pub right: u32,
}

/// One TCP option. Pointers point into the buffer the walk was set up on.
/// Only the fields of the option's kind are set; the others are 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct synack_tcp_option {
    /// The kind byte (254 for experimental TCP Fast Open).
    pub kind: u8,
    /// The length as on the wire (1 for EOL and NOP; for a malformed option,
    /// the length byte, 0 when it is missing).
    pub len: u8,
    /// Offset of the kind byte from the start of the options.
    pub offset: usize,
    /// Why the option could not be read; `SYNACK_OPTION_ERROR_NONE` when it could.
    pub error: synack_option_error,
    /// The bytes after kind and length (NULL when there are none, and for a
    /// malformed option).
    pub data: *const u8,
    /// Length of `data`.
    pub data_len: usize,
    /// Kind 2: the MSS.
    pub mss: u16,
    /// Kind 3: the window scale shift.
    pub wscale: u8,
    /// Kind 8: timestamp value.
    pub tsval: u32,
    /// Kind 8: timestamp echo reply.
    pub tsecr: u32,
    /// Kind 5: number of SACK blocks (1 to 4).
    pub sack_count: u8,
    /// Kind 5: the blocks.
    pub sack: [synack_sack_block; 4],
    /// Kind 28: the timeout is in minutes (else seconds).
    pub user_timeout_minutes: bool,
    /// Kind 28: the 15-bit timeout.
    pub user_timeout: u16,
    /// Kind 29: KeyID.
    pub ao_key_id: u8,
    /// Kind 29: RNextKeyID.
    pub ao_rnext_key_id: u8,
    /// Kind 30: the MPTCP subtype.
    pub mptcp_subtype: u8,
    /// Kinds 253 and 254: the experiment identifier (0xF989 for experimental Fast Open).
    pub exid: u16,
    /// Fast Open (kind 34, or 254 with ExID 0xF989): set for both; `body` is the cookie.
    pub fast_open: bool,
    /// The variable part of the option: the Fast Open cookie (empty for a
    /// cookie request), the MD5 digest, the TCP-AO MAC, the MPTCP data
    /// (subtype byte included), an experiment's data after its ExID, an
    /// unknown kind's value, the raw SACK blocks. NULL when empty.
    pub body: *const u8,
    /// Length of `body`.
    pub body_len: usize,
}

/// A frame decoded down to its TCP segment. Offsets are from the start of
/// the frame; pointers in `tcp` point into the caller's buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct synack_frame {
    /// What the frame holds; the fields below are set for `SYNACK_FRAME_KIND_TCP`
    /// (and the addresses, IP fields and `fragment_offset` for `..._TCP_FRAGMENT`).
    pub kind: synack_frame_kind,
    /// Source address and port.
    pub src: synack_endpoint,
    /// Destination address and port.
    pub dst: synack_endpoint,
    /// 4 or 6.
    pub ip_version: u8,
    /// Offset of the IP header.
    pub ip_offset: usize,
    /// Length of the IP header (IPv4 options, IPv6 extension headers included).
    pub ip_header_len: usize,
    /// Offset of the TCP header.
    pub tcp_offset: usize,
    /// Offset of the TCP payload (`tcp_offset + tcp.header_len`).
    pub payload_offset: usize,
    /// The segment came in a first IP fragment (its length is the fragment's).
    pub first_fragment: bool,
    /// For a later fragment: the offset of its data in the datagram.
    pub fragment_offset: u32,
    /// The TCP header.
    pub tcp: synack_tcp_header,
}

/// Options one side offered in its SYN or SYN-ACK. -1 where not offered or not seen.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct synack_side_options {
    /// MSS, or -1.
    pub mss: i32,
    /// Window scale shift, or -1.
    pub wscale: i32,
    /// SACK permitted.
    pub sack_permitted: bool,
    /// Timestamps.
    pub timestamps: bool,
}

/// What is known of a connection so far.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct synack_facts {
    /// How it opened (`SYNACK_OPEN_KIND_INCOMPLETE` while the handshake runs).
    pub open: synack_open_kind,
    /// SYN to SYN-ACK, microseconds, or -1.
    pub rtt_syn_synack_us: i64,
    /// SYN-ACK to the ACK that completes the handshake, microseconds, or -1.
    pub rtt_synack_ack_us: i64,
    /// The client's offered options.
    pub client: synack_side_options,
    /// The server's offered options.
    pub server: synack_side_options,
    /// How it closed so far (`SYNACK_CLOSE_KIND_NONE` while no FIN or RST was seen).
    pub close: synack_close_kind,
    /// Who sent the first FIN so far, or `SYNACK_SIDE_NONE`.
    pub active_closer: synack_side,
}

/// Everything synack says about one TCP packet: the same as a line of
/// `synack --format json`, plus the connection's facts so far.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct synack_annotation {
    /// The frame number given to `synack_tracker_feed`.
    pub frame_number: u64,
    /// The timestamp given to `synack_tracker_feed`, ns.
    pub ts_ns: u64,
    /// Connection number, from 0, in order of first packet.
    pub conn: u64,
    /// Direction relative to the connection's client.
    pub direction: synack_direction,
    /// The packet's role (the latest, when it fills several), or `SYNACK_ROLE_NONE`.
    pub role: synack_role,
    /// The other roles it fills: bit n set for `synack_role` value n.
    pub combines: u8,
    /// For a reset: which kind; else `SYNACK_RESET_KIND_NONE`.
    pub reset_kind: synack_reset_kind,
    /// A retransmitted SYN, SYN-ACK or FIN.
    pub retransmission: bool,
    /// The client's state after this packet.
    pub client_state: synack_state,
    /// The server's state after this packet.
    pub server_state: synack_state,
    /// Oddities in the packet: bit n set for warning n (`synack_warning_name(n)`).
    pub warnings: u32,
    /// The connection's facts after this packet.
    pub facts: synack_facts,
    /// The decoded frame; its pointers point into the bytes given to `synack_tracker_feed`.
    pub frame: synack_frame,
}

/// A label a plugin put on a connection. Both strings are NUL-terminated UTF-8.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct synack_label {
    /// The name, e.g. `app`.
    pub name: *const c_char,
    /// The value, e.g. `http`.
    pub value: *const c_char,
}

/// The verdict on a connection: the same fields as `synack conns --format json`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct synack_verdict {
    /// Connection number.
    pub conn: u64,
    /// Frame number of its first packet.
    pub first_frame: u64,
    /// Frame number of its last packet.
    pub last_frame: u64,
    /// The client.
    pub client: synack_endpoint,
    /// The server.
    pub server: synack_endpoint,
    /// Time of the first packet, ns since the epoch.
    pub start_ns: u64,
    /// Time of the last packet.
    pub end_ns: u64,
    /// Packets client to server.
    pub packets_c2s: u64,
    /// Packets server to client.
    pub packets_s2c: u64,
    /// Payload bytes client to server (as the IP headers give them).
    pub bytes_c2s: u64,
    /// Payload bytes server to client.
    pub bytes_s2c: u64,
    /// Wireshark's tcp.completeness bitmask (1 SYN, 2 SYN-ACK, 4 ACK, 8 DATA, 16 FIN, 32 RST).
    pub completeness: u8,
    /// Zeek's conn_state (`S0`, `SF`, `REJ`, ...), NUL-terminated.
    pub conn_state: [c_char; SYNACK_CONN_STATE_LEN],
    /// Zeek's history letters, NUL-terminated; cut to 31 characters when longer.
    pub history: [c_char; SYNACK_HISTORY_LEN],
    /// The history was cut to fit.
    pub history_truncated: bool,
    /// How it closed.
    pub close: synack_close_kind,
    /// Who sent the first FIN, or `SYNACK_SIDE_NONE`.
    pub active_closer: synack_side,
    /// Retransmitted SYNs.
    pub syn_retransmissions: u32,
    /// The facts of the opening (`facts.open` is the JSON's `open`).
    pub facts: synack_facts,
    /// The client's final state.
    pub client_final_state: synack_state,
    /// The server's final state.
    pub server_final_state: synack_state,
    /// Roles seen in the connection: bit n set for `synack_role` value n.
    pub roles_seen: u8,
    /// Frame number of each role's first packet, indexed by `synack_role`
    /// value; 0 where the role was not seen (frame numbers start at 1).
    pub role_frames: [u64; 8],
    /// Why the verdict was given.
    pub end_reason: synack_end_reason,
    /// Labels put on the connection by plugins, in plugin order; NULL when
    /// `label_count` is 0. Owned by the tracker: valid until the next call of
    /// `synack_tracker_next_verdict` or `synack_tracker_free` on it.
    pub labels: *const synack_label,
    /// Number of labels.
    pub label_count: usize,
}

/// One captured record. `data` points into the capture handle's buffer and
/// is valid until the next `synack_capture_next`, `synack_capture_process`
/// or `synack_capture_free` on that handle.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct synack_packet {
    /// 1-based frame number in capture order (as tshark numbers frames).
    pub frame_number: u64,
    /// Timestamp, ns since the Unix epoch.
    pub ts_ns: u64,
    /// Link-layer type (LINKTYPE_*: 1 Ethernet, 113 Linux SLL, 276 SLL2, 101 raw IP, ...).
    pub link_type: u32,
    /// pcapng interface id (0 for pcap).
    pub interface_id: u32,
    /// The captured bytes.
    pub data: *const u8,
    /// Bytes captured.
    pub len: usize,
    /// Length of the packet on the wire (more than `len` when the snap length cut it).
    pub orig_len: u32,
}

/// Limits on what a tracker keeps; `synack_tracker_config_default` fills
/// in the defaults (those of the `synack` command).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct synack_tracker_config {
    /// A connection with no packet for this long ends (ns). Default 300 s.
    pub idle_timeout_ns: u64,
    /// A closed connection ends this long after its last packet (ns). Default 5 s.
    pub time_wait_ns: u64,
    /// The most connections tracked at once (at least 1); past it a closed
    /// connection ends, or when none is closed, the longest idle one. Default 65536.
    pub max_connections: u64,
    /// Verify TCP checksums (a bad one is warning `bad-checksum`). Default false.
    pub verify_checksums: bool,
}
