//! synack-benches: benchmarks of synack against its peers, and the
//! side-by-side runner against tcpdump and tshark. See `BENCHMARKS.md`.
//!
//! * [`inputs`]: the real bytes every parser reads (from the fixture captures);
//! * [`parsers`]: one `read_all` function per parser, the fairness rule;
//! * [`corpus`]: the fixture captures in memory, and the replay that makes a
//!   large capture of the same shape;
//! * [`pcap`]: a pcap writer and the record-header walk (the floor of any reader);
//! * [`side_by_side`]: the runner's measuring and reporting.

pub mod corpus;
pub mod inputs;
pub mod parsers;
pub mod pcap;
pub mod side_by_side;
