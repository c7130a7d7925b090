//! Which entries a read gets, and handing them out.

use std::borrow::Cow;

use crate::EntryRef;
use crate::ring::{EntryHeader, LogRing};

/// The three ways to read a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRequest {
    /// Entries with `seq > cursor`, oldest first, at most `limit`.
    ///
    /// A cursor ahead of the log (it was taken from an earlier incarnation of
    /// the session) is read as 0 and the read is marked as a reset.
    After { cursor: u64, limit: usize },
    /// Retained entries `offset..offset + limit`, where offset 0 is the oldest
    /// retained entry.
    Page { offset: u64, limit: usize },
    /// The newest `count` entries.
    Tail { count: usize },
}

/// The answer to a [`ReadRequest`]: which entries, and where to go on from.
#[derive(Debug, Clone)]
pub struct LogRead<'a> {
    ring: &'a LogRing,
    start_index: usize,
    count: usize,
    cursor: u64,
    dropped: u64,
    more: bool,
    reset: bool,
}

impl LogRing {
    pub fn read(&self, request: ReadRequest) -> LogRead<'_> {
        let total = self.len() as u64;
        let first_seq = self.first_seq;
        let next_seq = self.next_seq();
        match request {
            ReadRequest::After { cursor, limit } => {
                let reset = cursor >= next_seq;
                let after = if reset { 0 } else { cursor };
                let start_seq = (after + 1).max(first_seq);
                let available = next_seq - start_seq;
                let count = available.min(limit as u64);
                LogRead {
                    ring: self,
                    start_index: (start_seq - first_seq) as usize,
                    count: count as usize,
                    // When nothing is returned this is still past every
                    // evicted entry, so a dropped count is never reported twice.
                    cursor: start_seq + count - 1,
                    dropped: first_seq - 1 - after.min(first_seq - 1),
                    more: count < available,
                    reset,
                }
            }
            ReadRequest::Page { offset, limit } => {
                let start = offset.min(total);
                let count = (limit as u64).min(total - start);
                self.window(start, count)
            }
            ReadRequest::Tail { count } => {
                let count = (count as u64).min(total);
                self.window(total - count, count)
            }
        }
    }

    /// A read of `count` retained entries from index `start`, for the
    /// position-based requests (page and tail).
    fn window(&self, start: u64, count: u64) -> LogRead<'_> {
        LogRead {
            ring: self,
            start_index: start as usize,
            count: count as usize,
            cursor: self.first_seq + start + count - 1,
            dropped: self.first_seq - 1,
            more: start + count < self.len() as u64,
            reset: false,
        }
    }
}

impl<'a> LogRead<'a> {
    /// The entries, oldest first.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = EntryRef<'a>> + use<'a> {
        let ring = self.ring;
        let first_seq = ring.first_seq + self.start_index as u64;
        ring.headers
            .range(self.start_index..self.start_index + self.count)
            .enumerate()
            .map(move |(i, header)| entry_ref(ring, first_seq + i as u64, header))
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `seq` to pass as the next cursor: that of the newest entry returned,
    /// or, when none was, the position the read stopped at.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// For a cursor read: entries after the cursor that were evicted before
    /// this read. For page and tail reads: all entries evicted so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether entries newer than the returned ones are retained.
    pub fn more(&self) -> bool {
        self.more
    }

    /// Whether the cursor was ahead of the log and was read as 0.
    pub fn reset(&self) -> bool {
        self.reset
    }

    /// Index of the first returned entry among the retained ones.
    pub fn offset(&self) -> usize {
        self.start_index
    }

    /// Entries retained in the log now.
    pub fn total(&self) -> usize {
        self.ring.len()
    }
}

fn entry_ref<'a>(ring: &'a LogRing, seq: u64, header: &EntryHeader) -> EntryRef<'a> {
    let message_len = header.message_len as usize;
    let (first, second) = ring
        .text
        .get(header.position, message_len + header.data_len());
    let text = join(first, second);
    let (message, data) = match text {
        Cow::Borrowed(bytes) => (
            Cow::Borrowed(&bytes[..message_len]),
            Cow::Borrowed(&bytes[message_len..]),
        ),
        Cow::Owned(bytes) => (
            Cow::Owned(bytes[..message_len].to_vec()),
            Cow::Owned(bytes[message_len..].to_vec()),
        ),
    };
    EntryRef {
        seq,
        timestamp: LogRing::timestamp_of(header),
        level: header.level(),
        message: into_text(message),
        data: (header.data_len() > 0).then(|| into_text(data)),
    }
}

fn join<'a>(first: &'a [u8], second: &'a [u8]) -> Cow<'a, [u8]> {
    if second.is_empty() {
        Cow::Borrowed(first)
    } else {
        Cow::Owned([first, second].concat())
    }
}

/// Stored text was valid UTF-8 when it went in (it came from `&str`), so the
/// lossy conversion never replaces anything; it only spares an `unwrap`.
fn into_text(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    match bytes {
        Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use proptest::prelude::*;

    use super::*;
    use crate::{EntryData, Level, NewEntry, RingLimits};

    fn numbered(seq: u64, size: usize) -> NewEntry {
        let message = format!("{seq}:{}", "m".repeat(size));
        let mut entry = NewEntry::new(Timestamp::UNIX_EPOCH, Level::Info, message);
        if seq.is_multiple_of(3) {
            let mut object = serde_json::Map::new();
            object.insert("seq".into(), seq.into());
            entry = entry.with_data(EntryData::from_object(&object));
        }
        entry
    }

    fn seq_of(entry: &EntryRef<'_>) -> u64 {
        let (number, _) = entry.message.split_once(':').unwrap();
        number.parse().unwrap()
    }

    fn seqs(read: &LogRead<'_>) -> Vec<u64> {
        read.entries().map(|entry| entry.seq).collect()
    }

    fn check_cursor(ring: &LogRing, cursor: u64, limit: usize, expected: (&[u64], u64, u64, bool)) {
        let read = ring.read(ReadRequest::After { cursor, limit });
        let (entries, next_cursor, dropped, more) = expected;
        assert_eq!(
            (
                seqs(&read).as_slice(),
                read.cursor(),
                read.dropped(),
                read.more()
            ),
            (entries, next_cursor, dropped, more),
            "cursor={cursor} limit={limit}"
        );
    }

    /// A ring holding seqs 4..=8 (three evicted).
    fn evicted_ring() -> LogRing {
        let mut ring = LogRing::new(RingLimits::new(5, 1 << 20));
        for seq in 1..=8 {
            ring.append(&[numbered(seq, 1)]).unwrap();
        }
        ring
    }

    #[test]
    fn cursor_reads() {
        let ring = evicted_ring();
        check_cursor(&ring, 0, 100, (&[4, 5, 6, 7, 8], 8, 3, false));
        check_cursor(&ring, 2, 100, (&[4, 5, 6, 7, 8], 8, 1, false));
        check_cursor(&ring, 3, 2, (&[4, 5], 5, 0, true));
        check_cursor(&ring, 6, 100, (&[7, 8], 8, 0, false));
        check_cursor(&ring, 8, 100, (&[], 8, 0, false));
        check_cursor(&ring, 1, 0, (&[], 3, 2, true));
    }

    #[test]
    fn a_cursor_ahead_of_the_log_resets_to_zero() {
        let ring = evicted_ring();
        let read = ring.read(ReadRequest::After {
            cursor: 9,
            limit: 2,
        });
        assert!(read.reset());
        assert_eq!((seqs(&read), read.dropped()), (vec![4, 5], 3));
        assert!(
            !ring
                .read(ReadRequest::After {
                    cursor: 8,
                    limit: 2
                })
                .reset()
        );
    }

    #[test]
    fn empty_log_reads() {
        let ring = LogRing::new(RingLimits::DEFAULT);
        check_cursor(&ring, 0, 10, (&[], 0, 0, false));
        let read = ring.read(ReadRequest::After {
            cursor: 5,
            limit: 1,
        });
        assert!(read.reset());
        assert_eq!(read.cursor(), 0);
        let tail = ring.read(ReadRequest::Tail { count: 3 });
        assert_eq!((tail.len(), tail.cursor(), tail.total()), (0, 0, 0));
    }

    #[test]
    fn page_and_tail_reads() {
        let ring = evicted_ring();
        let page = ring.read(ReadRequest::Page {
            offset: 1,
            limit: 2,
        });
        assert_eq!(
            (seqs(&page), page.cursor(), page.more()),
            (vec![5, 6], 6, true)
        );
        assert_eq!((page.offset(), page.total(), page.dropped()), (1, 5, 3));
        let past_end = ring.read(ReadRequest::Page {
            offset: 9,
            limit: 2,
        });
        assert_eq!(
            (seqs(&past_end), past_end.cursor(), past_end.more()),
            (vec![], 8, false)
        );
        let tail = ring.read(ReadRequest::Tail { count: 2 });
        assert_eq!(
            (seqs(&tail), tail.cursor(), tail.offset()),
            (vec![7, 8], 8, 3)
        );
        let none = ring.read(ReadRequest::Tail { count: 0 });
        assert_eq!((seqs(&none), none.cursor()), (vec![], 8));
    }

    #[test]
    fn entries_carry_their_text_even_across_the_arena_wrap() {
        let mut ring = LogRing::new(RingLimits::new(4, 1 << 20));
        for seq in 1..=50 {
            ring.append(&[numbered(seq, (seq as usize * 37) % 90)])
                .unwrap();
            for entry in ring
                .read(ReadRequest::After {
                    cursor: 0,
                    limit: 10,
                })
                .entries()
            {
                assert_eq!(seq_of(&entry), entry.seq);
                let has_data = entry.seq.is_multiple_of(3);
                assert_eq!(entry.data.is_some(), has_data);
                if let Some(data) = entry.data {
                    assert_eq!(data, format!(r#"{{"seq":{}}}"#, entry.seq));
                }
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        Append { count: usize, size: usize },
        Follow { limit: usize },
        Squeeze { bytes: usize },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (1usize..40, 0usize..200).prop_map(|(count, size)| Step::Append { count, size }),
            3 => (0usize..30).prop_map(|limit| Step::Follow { limit }),
            1 => (0usize..2_000).prop_map(|bytes| Step::Squeeze { bytes }),
        ]
    }

    proptest! {
        /// A follower that always passes back the cursor it was given never sees
        /// an entry twice or out of order, and everything it did not see was
        /// counted in `dropped`, exactly once.
        #[test]
        fn a_cursor_follower_sees_everything_once(
            max_entries in 1usize..60,
            max_bytes in 200usize..4_000,
            steps in prop::collection::vec(step(), 1..80),
        ) {
            let mut ring = LogRing::new(RingLimits::new(max_entries, max_bytes));
            let mut appended = 0u64;
            let mut cursor = 0u64;
            let mut seen = 0u64;
            let mut dropped = 0u64;
            let follow = |ring: &LogRing, limit: usize, cursor: &mut u64, seen: &mut u64, dropped: &mut u64| {
                let read = ring.read(ReadRequest::After { cursor: *cursor, limit });
                prop_assert!(!read.reset());
                let mut previous = *cursor + read.dropped();
                for entry in read.entries() {
                    prop_assert_eq!(entry.seq, previous + 1, "no gap a follower is not told of");
                    prop_assert_eq!(seq_of(&entry), entry.seq, "text belongs to its entry");
                    previous = entry.seq;
                }
                prop_assert!(read.cursor() >= *cursor);
                prop_assert_eq!(read.cursor(), previous);
                *seen += read.len() as u64;
                *dropped += read.dropped();
                *cursor = read.cursor();
                Ok(())
            };
            for step in steps {
                match step {
                    Step::Append { count, size } => {
                        let batch: Vec<NewEntry> = (1..=count as u64).map(|i| numbered(appended + i, size)).collect();
                        if ring.append(&batch).is_ok() {
                            appended += count as u64;
                        }
                    }
                    Step::Follow { limit } => follow(&ring, limit, &mut cursor, &mut seen, &mut dropped)?,
                    Step::Squeeze { bytes } => { ring.evict_bytes(bytes); }
                }
                prop_assert!(ring.len() <= max_entries);
                prop_assert!(ring.retained_bytes() <= max_bytes.max(24));
                prop_assert_eq!(ring.last_seq(), appended);
            }
            loop {
                follow(&ring, 1_000, &mut cursor, &mut seen, &mut dropped)?;
                if cursor == ring.last_seq() { break; }
            }
            prop_assert_eq!(seen + dropped, appended);
        }

        /// Pages and tails cut the same retained window as a cursor read from 0.
        #[test]
        fn page_and_tail_agree_with_the_window(
            appended in 0u64..120,
            max_entries in 1usize..50,
            page_size in 1usize..20,
            tail in 0usize..60,
        ) {
            let mut ring = LogRing::new(RingLimits::new(max_entries, 1 << 20));
            for seq in 1..=appended {
                ring.append(&[numbered(seq, 3)]).unwrap();
            }
            let all = seqs(&ring.read(ReadRequest::After { cursor: 0, limit: usize::MAX }));
            prop_assert_eq!(all.len(), ring.len());
            let expected: Vec<u64> = (appended + 1 - all.len() as u64..=appended).collect();
            prop_assert_eq!(&all, &expected);

            let mut paged = Vec::new();
            let mut offset = 0;
            loop {
                let page = ring.read(ReadRequest::Page { offset, limit: page_size });
                prop_assert_eq!(page.total(), all.len());
                paged.extend(seqs(&page));
                offset += page.len() as u64;
                if !page.more() { break; }
            }
            prop_assert_eq!(&paged, &all);

            let tail_read = ring.read(ReadRequest::Tail { count: tail });
            let tail_seqs = seqs(&tail_read);
            prop_assert_eq!(&tail_seqs[..], &all[all.len() - tail.min(all.len())..]);
            prop_assert_eq!(tail_read.cursor(), appended);
        }
    }
}
