//! The bookkeeping half of Zeek's TCP reassembler (`Reassembler`,
//! `DataBlockList`, `TCP_Reassembler`): which sequence ranges were seen and
//! delivered, so that an acknowledgment of never-seen data reports a content
//! gap (`G`/`g`) exactly where Zeek's would. Payload bytes are not kept.
//!
//! Sequence numbers are relative (the first data octet is 1), 64 bits wide.

/// Ranges held at most; past half of this, the two ranges separated by the
/// smallest hole are merged before an insertion (Zeek keeps any number, so
/// only a flow with more than 32 outstanding out-of-order pieces can differ).
const CAPACITY: usize = 64;

/// Ranges kept in the connection itself: a side that never holds more at a
/// time never allocates (two cost fewer instructions than four or eight on
/// the 1 GB capture: a smaller connection to build, against more spills).
const INLINE: usize = 2;

/// Where the ranges live: inline until they outgrow it, then in a vector
/// that is kept (and reused) for the rest of the connection.
#[derive(Clone)]
enum Storage {
    Inline {
        len: usize,
        ranges: [(u64, u64); INLINE],
    },
    Heap(Vec<(u64, u64)>),
}

impl Storage {
    fn as_slice(&self) -> &[(u64, u64)] {
        match self {
            Storage::Inline { len, ranges } => &ranges[..*len],
            Storage::Heap(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [(u64, u64)] {
        match self {
            Storage::Inline { len, ranges } => &mut ranges[..*len],
            Storage::Heap(v) => v,
        }
    }

    /// Moves the inline ranges into a vector.
    fn spill(&mut self) {
        if let Storage::Inline { len, ranges } = self {
            let mut v = Vec::with_capacity(4 * INLINE);
            v.extend_from_slice(&ranges[..*len]);
            *self = Storage::Heap(v);
        }
    }

    fn push(&mut self, range: (u64, u64)) {
        match self {
            Storage::Inline { len, ranges } if *len < INLINE => {
                ranges[*len] = range;
                *len += 1;
            }
            Storage::Inline { .. } => self.spill_and_push(range),
            Storage::Heap(v) => v.push(range),
        }
    }

    /// [`push`](Self::push) past the inline ranges (once a connection).
    #[cold]
    fn spill_and_push(&mut self, range: (u64, u64)) {
        self.spill();
        self.push(range);
    }

    fn insert(&mut self, i: usize, range: (u64, u64)) {
        match self {
            Storage::Inline { len, ranges } if *len < INLINE => {
                ranges.copy_within(i..*len, i + 1);
                ranges[i] = range;
                *len += 1;
            }
            Storage::Inline { .. } => {
                self.spill();
                self.insert(i, range);
            }
            Storage::Heap(v) => v.insert(i, range),
        }
    }

    fn remove(&mut self, i: usize) {
        match self {
            Storage::Inline { len, ranges } => {
                ranges.copy_within(i + 1..*len, i);
                *len -= 1;
            }
            Storage::Heap(v) => {
                v.remove(i);
            }
        }
    }

    /// Drops the first `k` ranges.
    fn drop_front(&mut self, k: usize) {
        match self {
            Storage::Inline { len, ranges } => {
                ranges.copy_within(k..*len, 0);
                *len -= k;
            }
            Storage::Heap(v) => {
                v.drain(..k);
            }
        }
    }

    fn clear(&mut self) {
        match self {
            Storage::Inline { len, .. } => *len = 0,
            Storage::Heap(v) => v.clear(),
        }
    }
}

/// The ranges Zeek's `DataBlockList` holds: sorted, non-overlapping,
/// each `[seq, upper)`, with the octets they hold summed as they change.
#[derive(Clone)]
pub(super) struct Blocks {
    storage: Storage,
    /// Octets held: the sum of the ranges' lengths.
    held: u64,
}

impl std::fmt::Debug for Blocks {
    /// The ranges and the sum, not where they are stored (a connection that
    /// once held many ranges keeps its vector).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocks")
            .field("ranges", &self.ranges())
            .field("held", &self.held)
            .finish()
    }
}

impl Blocks {
    pub(super) fn new() -> Blocks {
        Blocks {
            storage: Storage::Inline {
                len: 0,
                ranges: [(0, 0); INLINE],
            },
            held: 0,
        }
    }

    fn ranges(&self) -> &[(u64, u64)] {
        self.storage.as_slice()
    }

    pub(super) fn len(&self) -> usize {
        self.ranges().len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn get(&self, i: usize) -> (u64, u64) {
        self.ranges()[i]
    }

    pub(super) fn clear(&mut self) {
        self.storage.clear();
        self.held = 0;
    }

    /// Upper end of the last range.
    pub(super) fn last_upper(&self) -> Option<u64> {
        self.ranges().last().map(|r| r.1)
    }

    /// Octets held (`DataBlockList::DataSize`).
    pub(super) fn data_size(&self) -> u64 {
        self.held
    }

    /// Drops the leading ranges that end at or before `seq` (the tail of
    /// `DataBlockList::Trim`).
    pub(super) fn trim_front(&mut self, seq: u64) {
        match self.last_upper() {
            // The uppers rise: when the last one goes, all do.
            Some(last_upper) if last_upper <= seq => self.clear(),
            Some(_) => self.drop_leading(seq),
            None => {}
        }
    }

    /// [`trim_front`](Self::trim_front) range by range.
    #[cold]
    fn drop_leading(&mut self, seq: u64) {
        let dropped = self.ranges().iter().take_while(|(_, u)| *u <= seq);
        let (k, octets) = dropped.fold((0, 0), |(k, octets), (s, u)| (k + 1, octets + (u - s)));
        self.storage.drop_front(k);
        self.held -= octets;
    }

    fn insert_at(&mut self, i: usize, range: (u64, u64)) {
        self.storage.insert(i, range);
        self.held += range.1 - range.0;
    }

    /// Keeps room for one insertion's new pieces (at most `len + 1` of them).
    fn make_room(&mut self) {
        if self.len() > CAPACITY / 2 - 1 {
            self.merge_closest();
        }
    }

    /// [`make_room`](Self::make_room)'s merges, down to `CAPACITY / 2 - 1`
    /// ranges.
    #[cold]
    fn merge_closest(&mut self) {
        while self.len() > CAPACITY / 2 - 1 {
            let ranges = self.ranges();
            let i = (0..ranges.len() - 1)
                .min_by_key(|&i| ranges[i + 1].0 - ranges[i].1)
                .unwrap_or(0);
            let ((_, upper), (next_seq, next_upper)) = (ranges[i], ranges[i + 1]);
            // The hole joins the octets held.
            self.held += next_seq - upper;
            self.storage.as_mut_slice()[i].1 = next_upper;
            self.storage.remove(i + 1);
        }
    }

    /// Appends `[seq, upper)`, which lies after every range, once room is
    /// made (`insert`'s in-order case); returns its index.
    #[inline(always)]
    pub(super) fn push(&mut self, seq: u64, upper: u64) -> usize {
        self.make_room();
        self.storage.push((seq, upper));
        self.held += upper - seq;
        self.len() - 1
    }

    /// `DataBlockList::Insert`: adds the parts of `[seq, upper)` not held yet
    /// as new ranges and returns the index of the range Zeek hands to
    /// `BlockInserted`: the first new piece when the insertion starts before
    /// or between ranges, else the existing range holding `seq`, unless the
    /// insertion runs past it, in which case the answer of the remainder.
    /// `seq < upper`.
    pub(super) fn insert(&mut self, seq: u64, upper: u64) -> usize {
        if self.last_upper().is_none_or(|last_upper| last_upper <= seq) {
            // In order: after every range (the uppers rise), as
            // `insert_among` would find.
            return self.push(seq, upper);
        }
        self.make_room();
        self.insert_among(seq, upper)
    }

    /// [`insert`](Self::insert) once room is made, walking the ranges.
    fn insert_among(&mut self, seq: u64, upper: u64) -> usize {
        let mut s = seq;
        let mut answer: Option<usize> = None;
        let mut i = self.ranges().iter().take_while(|(_, u)| *u <= s).count();
        loop {
            if i == self.len() || upper <= self.get(i).0 {
                self.insert_at(i, (s, upper));
                return answer.unwrap_or(i);
            }
            let (b_seq, b_upper) = self.get(i);
            if s < b_seq {
                self.insert_at(i, (s, b_seq));
                answer.get_or_insert(i);
                i += 1;
            }
            if upper <= b_upper {
                return answer.unwrap_or(i);
            }
            s = b_upper;
            i += 1;
        }
    }
}

/// One endpoint's reassembler state.
#[derive(Clone, Debug)]
pub(super) struct Reassembler {
    /// Everything below this was delivered or declared missing.
    pub(super) last_reassem_seq: u64,
    /// Nothing below this is kept (acknowledged).
    pub(super) trim_seq: u64,
    /// Ranges seen and not yet trimmed.
    pub(super) blocks: Blocks,
    /// Zeek gave up on this direction's content.
    pub(super) skip_deliveries: bool,
    /// The end of this direction's data was reported.
    pub(super) did_eof: bool,
}

impl Reassembler {
    pub(super) fn new() -> Reassembler {
        Reassembler {
            last_reassem_seq: 1,
            trim_seq: 1,
            blocks: Blocks::new(),
            skip_deliveries: false,
            did_eof: false,
        }
    }

    /// Starts over as [`Reassembler::new`] starts, where it lies.
    pub(super) fn restart(&mut self) {
        let Reassembler {
            last_reassem_seq,
            trim_seq,
            blocks,
            skip_deliveries,
            did_eof,
        } = self;
        *last_reassem_seq = 1;
        *trim_seq = 1;
        blocks.clear();
        *skip_deliveries = false;
        *did_eof = false;
    }

    /// Stops delivering this direction's content and drops the ranges held
    /// (`ClearBlocks`, `skip_deliveries`).
    pub(super) fn give_up(&mut self) {
        self.blocks.clear();
        self.skip_deliveries = true;
    }

    /// The end of `TrimToSeq`: drops what lies below `seq`.
    pub(super) fn trim(&mut self, seq: u64) {
        self.blocks.trim_front(seq);
        self.trim_seq = self.trim_seq.max(seq);
    }

    /// Octets held above the delivered point (`NumUndeliveredBytes`).
    pub(super) fn num_undelivered(&self) -> u64 {
        self.blocks
            .last_upper()
            .map_or(0, |u| u.saturating_sub(self.last_reassem_seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(b: &Blocks) -> Vec<(u64, u64)> {
        b.ranges().to_vec()
    }

    #[test]
    fn insert_splits_around_held_ranges() {
        let mut b = Blocks::new();
        assert_eq!(b.insert(10, 20), 0);
        assert_eq!(b.insert(30, 40), 1);
        // Covers the hole before, overlaps the first, fills the middle hole.
        assert_eq!(b.insert(5, 35), 0);
        assert_eq!(ranges(&b), vec![(5, 10), (10, 20), (20, 30), (30, 40)]);
        // Starts inside a range and runs past the last one: the new tail.
        assert_eq!(b.insert(35, 50), 4);
        // Entirely inside: the holding range.
        assert_eq!(b.insert(12, 15), 1);
        b.trim_front(30);
        assert_eq!(ranges(&b), vec![(30, 40), (40, 50)]);
    }

    /// The shortcuts of `insert` and `trim_front` against the range-by-range
    /// walks, and the running sum against the ranges, on pseudo-random ranges
    /// around a moving front (held inline, then in a vector).
    #[test]
    fn shortcuts_match_the_walks() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for _ in 0..200 {
            let (mut fast, mut walked) = (Blocks::new(), Blocks::new());
            let mut front = 1u64;
            for _ in 0..200 {
                if next(4) == 0 {
                    front += next(3000);
                    fast.trim_front(front);
                    walked.drop_leading(front);
                } else {
                    let seq = front + next(4000);
                    let upper = seq + 1 + next(1500);
                    walked.make_room();
                    assert_eq!(fast.insert(seq, upper), walked.insert_among(seq, upper));
                }
                assert_eq!(ranges(&fast), ranges(&walked));
                let summed: u64 = ranges(&fast).iter().map(|(s, u)| u - s).sum();
                assert_eq!(fast.data_size(), summed);
            }
        }
    }
}
