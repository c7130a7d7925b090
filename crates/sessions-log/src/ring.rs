//! The log ring: appends, eviction and the budgets that drive it.

use std::collections::VecDeque;

use jiff::Timestamp;

use crate::NewEntry;
use crate::byte_ring::ByteRing;
use crate::record::{MAX_HEADER_BYTES, RecordHeader};

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
            max_bytes: max_bytes.max(MAX_HEADER_BYTES + CHECKPOINT_BYTES),
        }
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }
}

/// Every this many entries, the ring notes where an entry starts, so a read
/// that begins in the middle walks at most this many headers to get there.
pub(crate) const CHECKPOINT_EVERY: u64 = 32;

/// Bytes a checkpoint costs, counted against the byte budget.
pub(crate) const CHECKPOINT_BYTES: usize = std::mem::size_of::<(u64, Mark)>();

/// Where a record starts in the arena, and its timestamp.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mark {
    pub(crate) position: u64,
    pub(crate) timestamp_ms: i64,
}

/// A log that keeps its newest entries within [`RingLimits`].
///
/// Entries are records in one byte arena (see `record.rs`): no per-entry
/// allocation and about three bytes of header for a short line, the
/// timestamp stored as the difference to the entry before.
#[derive(Debug)]
pub struct LogRing {
    limits: RingLimits,
    /// The records, oldest first.
    pub(crate) text: ByteRing,
    len: usize,
    /// `seq` of the oldest retained entry, or of the next one when empty.
    pub(crate) first_seq: u64,
    /// Entries evicted over the log's lifetime.
    dropped: u64,
    /// The oldest retained record; meaningful while `len > 0`.
    pub(crate) head: Mark,
    /// The newest entry's timestamp: the next one is stored relative to it.
    last_timestamp_ms: i64,
    /// Every [`CHECKPOINT_EVERY`]th retained entry, by `seq`, oldest first.
    pub(crate) checkpoints: VecDeque<(u64, Mark)>,
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
            text: ByteRing::default(),
            len: 0,
            first_seq: 1,
            dropped: 0,
            head: Mark::default(),
            last_timestamp_ms: 0,
            checkpoints: VecDeque::new(),
        }
    }

    pub fn limits(&self) -> RingLimits {
        self.limits
    }

    /// Bytes an entry with this much text costs against the byte budgets,
    /// when its timestamp is within 64 ms of the entry before (otherwise one
    /// to eight bytes more).
    pub fn entry_cost(message_bytes: usize, data_bytes: usize) -> usize {
        RecordHeader::encoded_len(message_bytes, data_bytes, 0) + message_bytes + data_bytes
    }

    /// The most an entry with this much text can cost, whatever its
    /// timestamp and wherever it lands: the bound to check "could this ever
    /// fit" against.
    pub fn max_entry_cost(message_bytes: usize, data_bytes: usize) -> usize {
        MAX_HEADER_BYTES + message_bytes + data_bytes + CHECKPOINT_BYTES
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the retained entries cost, their bookkeeping included.
    pub fn retained_bytes(&self) -> usize {
        self.text.len() + self.checkpoints.len() * CHECKPOINT_BYTES
    }

    /// `seq` of the newest entry ever appended, 0 if none.
    pub fn last_seq(&self) -> u64 {
        self.next_seq() - 1
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.first_seq + self.len as u64
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
            let bytes = LogRing::max_entry_cost(entry.message.len(), data_len);
            if bytes > self.limits.max_bytes {
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
        let timestamp_ms = entry.timestamp.as_millisecond();
        let mut header = [0u8; MAX_HEADER_BYTES];
        let header_len = RecordHeader::encode(
            entry.message.len(),
            data.len(),
            entry.level,
            timestamp_ms.saturating_sub(self.last_timestamp_ms),
            &mut header,
        );
        let seq = self.next_seq();
        let checkpoint = seq.is_multiple_of(CHECKPOINT_EVERY);
        let cost = header_len
            + entry.message.len()
            + data.len()
            + if checkpoint { CHECKPOINT_BYTES } else { 0 };
        while self.len > 0
            && (self.len >= self.limits.max_entries
                || self.retained_bytes() + cost > self.limits.max_bytes)
        {
            self.evict_oldest();
        }
        let position = self.text.push(&[
            &header[..header_len],
            entry.message.as_bytes(),
            data.as_bytes(),
        ]);
        let mark = Mark {
            position,
            timestamp_ms,
        };
        if self.len == 0 {
            self.head = mark;
        }
        if checkpoint {
            self.checkpoints.push_back((seq, mark));
        }
        self.len += 1;
        self.last_timestamp_ms = timestamp_ms;
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
        let capacity = self.checkpoints.capacity();
        let len = self.checkpoints.len();
        if capacity > 16 && len <= capacity / 2 {
            self.checkpoints.shrink_to(len + len / 4);
        }
    }

    /// Once a log is full by its entry budget, each new entry replaces an old
    /// one of about its size, so the arena needs little room beyond what it
    /// holds: trim the slack its growth left.
    fn fit_if_full(&mut self) {
        if self.len >= self.limits.max_entries {
            self.text.fit(self.text.len() / 16);
        }
    }

    /// Bytes allocated for this log, slack included.
    pub fn allocated_bytes(&self) -> usize {
        self.text.capacity() + self.checkpoints.capacity() * CHECKPOINT_BYTES
    }

    fn evict_oldest(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        let oldest = self.header_at(self.head.position);
        let next = self.head.position + oldest.record_len() as u64;
        self.text.release_before(next);
        self.first_seq += 1;
        self.dropped += 1;
        self.len -= 1;
        if self.len > 0 {
            let delta_ms = self.header_at(next).delta_ms;
            self.head = Mark {
                position: next,
                timestamp_ms: self.head.timestamp_ms + delta_ms,
            };
        }
        while self
            .checkpoints
            .front()
            .is_some_and(|(seq, _)| *seq < self.first_seq)
        {
            self.checkpoints.pop_front();
        }
        true
    }

    /// The header of the record at `position`.
    pub(crate) fn header_at(&self, position: u64) -> RecordHeader {
        let available = (self.text.end_position() - position) as usize;
        let (first, second) = self.text.get(position, available.min(MAX_HEADER_BYTES));
        if second.is_empty() {
            return RecordHeader::decode(first);
        }
        let mut bytes = [0u8; MAX_HEADER_BYTES];
        bytes[..first.len()].copy_from_slice(first);
        bytes[first.len()..first.len() + second.len()].copy_from_slice(second);
        RecordHeader::decode(&bytes[..first.len() + second.len()])
    }

    /// Where the record of `seq` (a retained entry) starts, and its
    /// timestamp: from the nearest checkpoint at or before it, walking at most
    /// [`CHECKPOINT_EVERY`] headers.
    pub(crate) fn locate(&self, seq: u64) -> Mark {
        let nearest = self.checkpoints.partition_point(|(at, _)| *at <= seq);
        let (mut at, mut mark) = match nearest.checked_sub(1).and_then(|i| self.checkpoints.get(i))
        {
            Some(&(at, mark)) => (at, mark),
            None => (self.first_seq, self.head),
        };
        while at < seq {
            let record = self.header_at(mark.position);
            mark.position += record.record_len() as u64;
            mark.timestamp_ms += self.header_at(mark.position).delta_ms;
            at += 1;
        }
        mark
    }

    pub(crate) fn timestamp_from(millis: i64) -> Timestamp {
        // Every stored value came from a valid `Timestamp`.
        Timestamp::from_millisecond(millis).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EntryData, Level, ReadRequest};

    pub(crate) fn entry(message: &str) -> NewEntry {
        NewEntry::new(Timestamp::UNIX_EPOCH, Level::Info, message)
    }

    #[test]
    fn a_short_line_costs_three_bytes_beyond_its_text() {
        assert_eq!(LogRing::entry_cost(60, 0), 63);
        let mut ring = LogRing::new(RingLimits::DEFAULT);
        ring.append(&vec![entry(&"m".repeat(60)); 31]).unwrap();
        assert_eq!(ring.retained_bytes(), 31 * 63);
        ring.append(&[entry(&"m".repeat(60))]).unwrap();
        assert_eq!(
            ring.retained_bytes(),
            32 * 63 + CHECKPOINT_BYTES,
            "every 32nd entry also pays for a checkpoint"
        );
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
        let message = "m".repeat(30);
        let budget = 3 * LogRing::entry_cost(30, 0);
        let mut ring = LogRing::new(RingLimits::new(100, budget));
        ring.append(&vec![entry(&message); 3]).unwrap();
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
                bytes: LogRing::max_entry_cost(100, 0),
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
        let read = ring.read(ReadRequest::Tail { count: 1 });
        let stored = read.entries().next().unwrap();
        assert_eq!(stored.level, Level::Warn);
        assert_eq!(stored.data.as_deref(), Some(r#"{"k":[1,{"a":null}]}"#));
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
        // Checkpoints freed along the way may take a couple more.
        assert!((8..=10).contains(&ring.len()), "{}", ring.len());
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
