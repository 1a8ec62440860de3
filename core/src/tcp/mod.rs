//! TCP: the header view, its option walker and checksum verification.

mod checksum;
mod flags;
mod header;
mod options;

pub use checksum::PseudoHeader;
pub use flags::TcpFlags;
pub use header::{TcpError, TcpHeader, TCP_MIN_HEADER_LEN};
pub use options::{
    MalformedOption, MalformedReason, OptionIter, SackBlocks, TcpOption, TFO_EXPERIMENT_ID,
};
