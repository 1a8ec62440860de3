//! Zeek's connection history: the letters, the once-only mask (`hist_seen`)
//! and the logarithmic counters (`ScaledHistoryEntry`), in a fixed buffer.

/// Most letters kept; Zeek's string is unbounded, but past a handful of
/// repeated SYNs/FINs/RSTs with new sequence numbers nothing new is learned.
pub(super) const HISTORY_CAPACITY: usize = 96;

/// `TCP_Endpoint::HistoryMasks`; a responder's bits are shifted up by 16.
pub(super) mod mask {
    pub const SYN: u32 = 0x1;
    pub const FIN: u32 = 0x2;
    pub const RST: u32 = 0x4;
    pub const FIN_RST: u32 = 0x8;
    pub const DATA: u32 = 0x10;
    pub const ACK: u32 = 0x20;
    pub const MULTI_FLAG: u32 = 0x40;
}

/// The history string and the mask of letters already seen.
///
/// In C's order: the mask, which every packet reads, and the length lead
/// the letters, which only a new letter writes.
#[derive(Clone)]
#[repr(C)]
pub(super) struct History {
    seen: u32,
    len: usize,
    buf: [u8; HISTORY_CAPACITY],
}

impl std::fmt::Debug for History {
    /// The letters and the mask, not the room past the letters (a history
    /// cleared for a new connection keeps the old letters there).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("letters", &self.as_str())
            .field("seen", &self.seen)
            .finish()
    }
}

impl History {
    pub(super) fn new() -> History {
        History {
            buf: [0; HISTORY_CAPACITY],
            len: 0,
            seen: 0,
        }
    }

    /// No letters and nothing seen, as [`History::new`]: the letters past
    /// the length are never read.
    pub(super) fn clear(&mut self) {
        self.len = 0;
        self.seen = 0;
    }

    /// `Connection::AddHistory`.
    pub(super) fn add(&mut self, code: u8) {
        if self.len < HISTORY_CAPACITY {
            self.buf[self.len] = code;
            self.len += 1;
        }
    }

    /// `TCP_Endpoint::CheckHistory`: adds the letter (lowercase for the
    /// responder) unless its mask bit is already set. True when it was set.
    pub(super) fn check(&mut self, is_orig: bool, mask: u32, code: u8) -> bool {
        let mask = if is_orig { mask } else { mask << 16 };
        if self.seen & mask != 0 {
            return true;
        }
        self.seen |= mask;
        self.add_for(is_orig, code);
        false
    }

    /// `TCP_Endpoint::AddHistory`: the letter, lowercase for the responder.
    pub(super) fn add_for(&mut self, is_orig: bool, code: u8) {
        self.add(if is_orig {
            code
        } else {
            code.to_ascii_lowercase()
        });
    }

    /// The roles were swapped after the fact: as if they had been swapped
    /// before the first packet (`^` first, every letter's case swapped, the
    /// two halves of the mask exchanged).
    pub(super) fn flip_retroactively(&mut self) {
        let n = self.len.min(HISTORY_CAPACITY - 1);
        self.buf.copy_within(0..n, 1);
        self.buf[0] = b'^';
        for b in &mut self.buf[1..=n] {
            if b.is_ascii_uppercase() {
                *b = b.to_ascii_lowercase();
            } else if b.is_ascii_lowercase() {
                *b = b.to_ascii_uppercase();
            }
        }
        self.len = n + 1;
        self.seen = self.seen.rotate_left(16);
    }

    /// The room of the letters, and how many it holds (the bytes past
    /// them are not letters).
    pub(super) fn room(&self) -> (&[u8; HISTORY_CAPACITY], usize) {
        (&self.buf, self.len)
    }

    pub(super) fn as_str(&self) -> &str {
        // Only ASCII letters and '^' are ever stored.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

/// A counter whose history letter repeats at 1, 10, 100, ... occurrences
/// (`Connection::ScaledHistoryEntry` with base 10).
#[derive(Clone, Copy, Debug)]
pub(super) struct Scaled {
    count: u32,
    threshold: u32,
}

impl Scaled {
    pub(super) fn new() -> Scaled {
        Scaled {
            count: 0,
            threshold: 1,
        }
    }

    /// Counts one occurrence; true when a letter is due.
    pub(super) fn hit(&mut self) -> bool {
        self.count = self.count.wrapping_add(1);
        if self.count != self.threshold {
            return false;
        }
        let next = self.threshold.wrapping_mul(10);
        if next <= self.threshold {
            self.count = 0;
        } else {
            self.threshold = next;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_letters_at_powers_of_ten() {
        let mut s = Scaled::new();
        let hits: Vec<u32> = (1..=1000).filter(|_| s.hit()).collect();
        assert_eq!(hits.len(), 4);
    }

    #[test]
    fn retroactive_flip_swaps_case_and_mask() {
        let mut h = History::new();
        assert!(!h.check(true, mask::SYN, b'H'));
        assert!(!h.check(false, mask::ACK, b'A'));
        h.flip_retroactively();
        assert_eq!(h.as_str(), "^hA");
        // The SYN bit now belongs to the responder, the ACK bit to the originator.
        assert!(h.check(false, mask::SYN, b'H'));
        assert!(h.check(true, mask::ACK, b'A'));
    }
}
