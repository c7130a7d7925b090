//! The log ring: appends, eviction and the budgets that drive it.

use std::collections::VecDeque;

use jiff::Timestamp;

use crate::byte_ring::ByteRing;
use crate::{Level, NewEntry};

/// The two budgets of one log. Whichever is exceeded first evicts the oldest
/// entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingLimits {
    max_entries: usize,
    max_bytes: usize,
}

impl RingLimits {
    /// 10,000 entries and 8 MiB.
    pub const DEFAULT: RingLimits = RingLimits {
        max_entries: 10_000,
        max_bytes: 8 << 20,
    };

    /// A log keeps at least one entry, and at least one header's worth of bytes,
    /// whatever is asked for: a log that can hold nothing cannot have a cursor.
    pub fn new(max_entries: usize, max_bytes: usize) -> RingLimits {
        RingLimits {
            max_entries: max_entries.max(1),
            max_bytes: max_bytes.max(HEADER_BYTES),
        }
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }
}

/// Bytes every entry costs on top of its text: the fixed-size header.
pub(crate) const HEADER_BYTES: usize = std::mem::size_of::<EntryHeader>();

/// The longest `data` a header can describe; far above any body limit.
const MAX_DATA_BYTES: usize = (1 << 28) - 1;

/// What an entry looks like in the ring: 24 bytes, text kept in the arena.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryHeader {
    pub(crate) timestamp_ms: i64,
    /// Arena position of the message; `data` follows it directly.
    pub(crate) position: u64,
    pub(crate) message_len: u32,
    /// Length of `data` in the low 28 bits (0 = none; an object is never
    /// empty text), the level in the top 4.
    data_len_and_level: u32,
}

impl EntryHeader {
    pub(crate) fn data_len(&self) -> usize {
        (self.data_len_and_level & MAX_DATA_BYTES as u32) as usize
    }

    pub(crate) fn level(&self) -> Level {
        Level::from_bits((self.data_len_and_level >> 28) as u8)
    }

    fn text_len(&self) -> usize {
        self.message_len as usize + self.data_len()
    }
}

/// A log that keeps its newest entries within [`RingLimits`].
#[derive(Debug)]
pub struct LogRing {
    limits: RingLimits,
    pub(crate) headers: VecDeque<EntryHeader>,
    pub(crate) text: ByteRing,
    /// `seq` of `headers[0]`, or of the next entry when the log is empty.
    pub(crate) first_seq: u64,
    /// Entries evicted over the log's lifetime.
    dropped: u64,
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    pub appended: usize,
    /// `seq` of the newest entry in the log after the append (0 if it never
    /// held one).
    pub cursor: u64,
    /// Entries this append evicted to stay within budget.
    pub evicted: u64,
}

/// Counters describing a log, cheap to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogSummary {
    /// Entries retained now.
    pub entries: usize,
    /// `seq` of the newest entry ever appended (0 if none).
    pub cursor: u64,
    /// Entries evicted so far.
    pub dropped: u64,
    /// Bytes the retained entries cost, headers included.
    pub bytes: usize,
}

/// Why an append was refused. Nothing of the batch was appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    #[error("entry {index} needs {bytes} bytes, more than the whole log may hold ({limit} bytes)")]
    EntryTooLarge {
        index: usize,
        bytes: usize,
        limit: usize,
    },
}

impl LogRing {
    pub fn new(limits: RingLimits) -> LogRing {
        LogRing {
            limits,
            headers: VecDeque::new(),
            text: ByteRing::default(),
            first_seq: 1,
            dropped: 0,
        }
    }

    pub fn limits(&self) -> RingLimits {
        self.limits
    }

    /// Bytes an entry with this much text costs against the byte budgets.
    pub fn entry_cost(message_bytes: usize, data_bytes: usize) -> usize {
        HEADER_BYTES + message_bytes + data_bytes
    }

    pub fn len(&self) -> usize {
        self.headers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Bytes the retained entries cost, headers included.
    pub fn retained_bytes(&self) -> usize {
        self.text.len() + self.headers.len() * HEADER_BYTES
    }

    /// `seq` of the newest entry ever appended, 0 if none.
    pub fn last_seq(&self) -> u64 {
        self.next_seq() - 1
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.first_seq + self.headers.len() as u64
    }

    pub fn summary(&self) -> LogSummary {
        LogSummary {
            entries: self.len(),
            cursor: self.last_seq(),
            dropped: self.dropped,
            bytes: self.retained_bytes(),
        }
    }

    /// Appends a batch: all of it, or nothing if any entry could never fit.
    /// Older entries are evicted as needed, including earlier entries of this
    /// same batch when the batch alone exceeds a budget.
    pub fn append(&mut self, entries: &[NewEntry]) -> Result<AppendOutcome, AppendError> {
        for (index, entry) in entries.iter().enumerate() {
            let data_len = entry.data.as_ref().map_or(0, |data| data.as_json().len());
            let bytes = LogRing::entry_cost(entry.message.len(), data_len);
            if bytes > self.limits.max_bytes
                || data_len > MAX_DATA_BYTES
                || entry.message.len() > u32::MAX as usize
            {
                return Err(AppendError::EntryTooLarge {
                    index,
                    bytes,
                    limit: self.limits.max_bytes,
                });
            }
        }
        let dropped_before = self.dropped;
        for entry in entries {
            self.push(entry);
        }
        if self.dropped > dropped_before {
            self.shrink_if_sparse();
            self.fit_if_full();
        }
        Ok(AppendOutcome {
            appended: entries.len(),
            cursor: self.last_seq(),
            evicted: self.dropped - dropped_before,
        })
    }

    fn push(&mut self, entry: &NewEntry) {
        let data = entry.data.as_ref().map_or("", |data| data.as_json());
        let cost = LogRing::entry_cost(entry.message.len(), data.len());
        while !self.headers.is_empty()
            && (self.headers.len() >= self.limits.max_entries
                || self.retained_bytes() + cost > self.limits.max_bytes)
        {
            self.evict_oldest();
        }
        let position = self.text.push(&[entry.message.as_bytes(), data.as_bytes()]);
        if self.headers.len() == self.headers.capacity() {
            // Half again, never past the entry budget: a full log's headers
            // take exactly what they need, not the next power of two.
            let len = self.headers.len();
            let room = self.limits.max_entries.saturating_sub(len).max(1);
            self.headers.reserve_exact((len / 2).max(8).min(room));
        }
        self.headers.push_back(EntryHeader {
            timestamp_ms: entry.timestamp.as_millisecond(),
            position,
            message_len: entry.message.len() as u32,
            data_len_and_level: data.len() as u32 | (u32::from(entry.level.to_bits()) << 28),
        });
    }

    /// Evicts oldest entries until at least `bytes` were freed or the log is
    /// empty; returns the bytes freed. Used when all logs together exceed their
    /// shared budget.
    pub fn evict_bytes(&mut self, bytes: usize) -> usize {
        let before = self.retained_bytes();
        while before - self.retained_bytes() < bytes && self.evict_oldest() {}
        self.shrink_if_sparse();
        before - self.retained_bytes()
    }

    /// Gives memory back after entries were evicted, so that a log's
    /// allocation stays within twice what it retains (large entries replacing
    /// many small ones, or a log cut down by the shared budget) instead of
    /// keeping its peak forever.
    fn shrink_if_sparse(&mut self) {
        self.text.shrink_if_sparse();
        let capacity = self.headers.capacity();
        let len = self.headers.len();
        if capacity > 64 && len <= capacity / 2 {
            self.headers.shrink_to(len + len / 4);
        }
    }

    /// Once a log is full by its entry budget, each new entry replaces an old
    /// one of about its size, so the text arena needs little room beyond what
    /// it holds: trim the slack its growth left.
    fn fit_if_full(&mut self) {
        if self.headers.len() >= self.limits.max_entries {
            self.text.fit(self.text.len() / 16);
        }
    }

    /// Bytes allocated for this log, slack included.
    pub fn allocated_bytes(&self) -> usize {
        self.text.capacity() + self.headers.capacity() * HEADER_BYTES
    }

    fn evict_oldest(&mut self) -> bool {
        let Some(oldest) = self.headers.pop_front() else {
            return false;
        };
        let released_to = oldest.position + oldest.text_len() as u64;
        self.text.release_before(released_to);
        self.first_seq += 1;
        self.dropped += 1;
        true
    }

    pub(crate) fn timestamp_of(header: &EntryHeader) -> Timestamp {
        // Every stored value came from a valid `Timestamp`.
        Timestamp::from_millisecond(header.timestamp_ms).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntryData;

    pub(crate) fn entry(message: &str) -> NewEntry {
        NewEntry::new(Timestamp::UNIX_EPOCH, Level::Info, message)
    }

    #[test]
    fn header_stays_small() {
        assert_eq!(HEADER_BYTES, 24);
    }

    #[test]
    fn evicts_at_exactly_the_entry_capacity() {
        let mut ring = LogRing::new(RingLimits::new(3, 1 << 20));
        let outcome = ring.append(&[entry("a"), entry("b"), entry("c")]).unwrap();
        assert_eq!((outcome.cursor, outcome.evicted), (3, 0));
        assert_eq!(ring.len(), 3);
        let outcome = ring.append(&[entry("d")]).unwrap();
        assert_eq!((outcome.cursor, outcome.evicted), (4, 1));
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.first_seq, 2);
        assert_eq!(ring.summary().dropped, 1);
    }

    #[test]
    fn evicts_to_stay_within_the_byte_budget() {
        let budget = 3 * LogRing::entry_cost(10, 0);
        let mut ring = LogRing::new(RingLimits::new(100, budget));
        ring.append(&vec![entry("0123456789"); 3]).unwrap();
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.retained_bytes(), budget);
        ring.append(&[entry("x")]).unwrap();
        assert_eq!(ring.len(), 3, "one old entry made room");
        assert!(ring.retained_bytes() <= budget);
    }

    #[test]
    fn refuses_a_batch_with_an_entry_larger_than_the_budget() {
        let mut ring = LogRing::new(RingLimits::new(100, 100));
        ring.append(&[entry("kept")]).unwrap();
        let too_big = "x".repeat(100);
        let error = ring.append(&[entry("fine"), entry(&too_big)]).unwrap_err();
        assert_eq!(
            error,
            AppendError::EntryTooLarge {
                index: 1,
                bytes: 124,
                limit: 100
            }
        );
        assert_eq!(ring.len(), 1, "nothing of the batch was appended");
    }

    #[test]
    fn keeps_level_and_data() {
        let mut ring = LogRing::new(RingLimits::DEFAULT);
        let mut object = serde_json::Map::new();
        object.insert("k".into(), serde_json::json!([1, {"a": null}]));
        let data = EntryData::from_object(&object);
        ring.append(&[NewEntry::new(Timestamp::UNIX_EPOCH, Level::Warn, "m").with_data(data)])
            .unwrap();
        let header = ring.headers[0];
        assert_eq!(header.level(), Level::Warn);
        assert_eq!(header.data_len(), r#"{"k":[1,{"a":null}]}"#.len());
    }

    #[test]
    fn evict_bytes_frees_at_least_what_was_asked() {
        let mut ring = LogRing::new(RingLimits::DEFAULT);
        ring.append(&vec![entry("0123456789"); 10]).unwrap();
        let freed = ring.evict_bytes(LogRing::entry_cost(10, 0) + 1);
        assert_eq!(freed, 2 * LogRing::entry_cost(10, 0));
        assert_eq!(ring.len(), 8);
        assert_eq!(ring.summary().dropped, 2);
        assert_eq!(ring.evict_bytes(usize::MAX), 8 * LogRing::entry_cost(10, 0));
        assert!(ring.is_empty());
        assert_eq!(ring.last_seq(), 10, "seq is never reused");
    }

    #[test]
    fn a_log_cut_down_gives_its_memory_back() {
        let mut ring = LogRing::new(RingLimits::DEFAULT);
        ring.append(&vec![entry("0123456789"); 5_000]).unwrap();
        let peak = ring.allocated_bytes();
        assert!(peak >= 5_000 * LogRing::entry_cost(10, 0));
        ring.evict_bytes(ring.retained_bytes() - 10 * LogRing::entry_cost(10, 0));
        assert_eq!(ring.len(), 10);
        assert!(
            ring.allocated_bytes() < peak / 20,
            "{} of {peak}",
            ring.allocated_bytes()
        );
    }

    #[test]
    fn allocation_stays_within_twice_what_is_retained() {
        let mut ring = LogRing::new(RingLimits::new(1_000, 64 << 10));
        let small = vec![entry("s"); 1_000];
        let large = vec![entry(&"L".repeat(4_000)); 20];
        for round in 0..6 {
            ring.append(if round % 2 == 0 { &small } else { &large })
                .unwrap();
            let retained = ring.retained_bytes();
            let allocated = ring.allocated_bytes();
            assert!(
                allocated <= 2 * retained + 2 * 1_024,
                "round {round}: {allocated} for {retained}"
            );
        }
    }
}
