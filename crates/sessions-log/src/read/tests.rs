//! Reads: the window each request gets, and a follower that never sees an
//! entry twice, checked against logs whose timestamps jump both ways.

use jiff::Timestamp;
use proptest::prelude::*;

use super::*;
use crate::{EntryData, Level, NewEntry, RingLimits};

/// Mostly close together, every fourth one far away, before or after:
/// the stored differences take every size.
fn timestamp_for(seq: u64) -> Timestamp {
    let millis = if seq.is_multiple_of(4) {
        seq.wrapping_mul(2_654_435_761) % 1_000_000_000_000
    } else {
        1_000_000 + seq * 10
    };
    Timestamp::from_millisecond(millis as i64).unwrap()
}

fn numbered(seq: u64, size: usize) -> NewEntry {
    let message = format!("{seq}:{}", "m".repeat(size));
    let mut entry = NewEntry::new(timestamp_for(seq), Level::Info, message);
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

/// The seqs a read returns, checking each entry got its own text and
/// timestamp back.
fn seqs(read: &LogRead<'_>) -> Vec<u64> {
    read.entries()
        .map(|entry| {
            assert_eq!(seq_of(&entry), entry.seq);
            assert_eq!(entry.timestamp, timestamp_for(entry.seq));
            entry.seq
        })
        .collect()
}

fn check_cursor(ring: &LogRing, cursor: u64, limit: usize, expected: (&[u64], u64, u64, bool)) {
    let read = ring.read(ReadRequest::After { cursor, limit });
    let (entries, next_cursor, dropped, more) = expected;
    assert_eq!(
        (
            seqs(&read).as_slice(),
            read.summary().cursor,
            read.summary().dropped,
            read.summary().more
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
    assert!(read.summary().reset);
    assert_eq!((seqs(&read), read.summary().dropped), (vec![4, 5], 3));
    assert!(
        !ring
            .read(ReadRequest::After {
                cursor: 8,
                limit: 2
            })
            .summary()
            .reset
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
    assert!(read.summary().reset);
    assert_eq!(read.summary().cursor, 0);
    let tail = ring.read(ReadRequest::Tail { count: 3 });
    assert_eq!(
        (tail.len(), tail.summary().cursor, tail.summary().total),
        (0, 0, 0)
    );
}

#[test]
fn page_and_tail_reads() {
    let ring = evicted_ring();
    let page = ring.read(ReadRequest::Page {
        offset: 1,
        limit: 2,
    });
    assert_eq!(
        (seqs(&page), page.summary().cursor, page.summary().more),
        (vec![5, 6], 6, true)
    );
    assert_eq!(
        (
            page.summary().offset,
            page.summary().total,
            page.summary().dropped
        ),
        (1, 5, 3)
    );
    let past_end = ring.read(ReadRequest::Page {
        offset: 9,
        limit: 2,
    });
    assert_eq!(
        (
            seqs(&past_end),
            past_end.summary().cursor,
            past_end.summary().more
        ),
        (vec![], 8, false)
    );
    let tail = ring.read(ReadRequest::Tail { count: 2 });
    assert_eq!(
        (seqs(&tail), tail.summary().cursor, tail.summary().offset),
        (vec![7, 8], 8, 3)
    );
    let none = ring.read(ReadRequest::Tail { count: 0 });
    assert_eq!((seqs(&none), none.summary().cursor), (vec![], 8));
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

#[test]
fn reads_can_start_anywhere_in_a_long_log() {
    let mut ring = LogRing::new(RingLimits::new(500, 1 << 20));
    for seq in 1..=1_234 {
        ring.append(&[numbered(seq, seq as usize % 7)]).unwrap();
    }
    for offset in 0..500u64 {
        let page = ring.read(ReadRequest::Page { offset, limit: 40 });
        let first = 735 + offset;
        let expected: Vec<u64> = (first..(first + 40).min(1_235)).collect();
        assert_eq!(seqs(&page), expected, "offset {offset}");
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
            prop_assert!(!read.summary().reset);
            let mut previous = *cursor + read.summary().dropped;
            for entry in read.entries() {
                prop_assert_eq!(entry.seq, previous + 1, "no gap a follower is not told of");
                prop_assert_eq!(seq_of(&entry), entry.seq, "text belongs to its entry");
                prop_assert_eq!(entry.timestamp, timestamp_for(entry.seq));
                previous = entry.seq;
            }
            prop_assert!(read.summary().cursor >= *cursor);
            prop_assert_eq!(read.summary().cursor, previous);
            *seen += read.len() as u64;
            *dropped += read.summary().dropped;
            *cursor = read.summary().cursor;
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
            prop_assert!(ring.retained_bytes() <= max_bytes);
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
            prop_assert_eq!(page.summary().total, all.len());
            paged.extend(seqs(&page));
            offset += page.len() as u64;
            if !page.summary().more { break; }
        }
        prop_assert_eq!(&paged, &all);

        let tail_read = ring.read(ReadRequest::Tail { count: tail });
        let tail_seqs = seqs(&tail_read);
        prop_assert_eq!(&tail_seqs[..], &all[all.len() - tail.min(all.len())..]);
        prop_assert_eq!(tail_read.summary().cursor, appended);
    }
}
