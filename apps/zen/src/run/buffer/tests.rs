//! The buffer keeps order, gives up the oldest lines first, and counts and
//! marks every line it gives up.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use sessions_client::{BatchLimits, EntryBatch, Level};

use super::{LineChunk, OutputBuffer, Taken};

fn chunk(lines: &[&str]) -> LineChunk {
    let mut chunk = LineChunk::new(Timestamp::UNIX_EPOCH, Level::Info);
    for line in lines {
        chunk.push(line);
    }
    chunk
}

/// Everything the buffer holds, as the shipper would send it: gaps as
/// `gap N`.
fn drain(buffer: &OutputBuffer, batch_entries: usize) -> Vec<String> {
    buffer.close();
    let mut messages = Vec::new();
    let mut batch = EntryBatch::new(BatchLimits {
        max_entries: batch_entries,
        max_bytes: 1 << 20,
    });
    while matches!(buffer.take(&mut batch, Instant::now()), Taken::Some { .. }) {
        assert!(batch.len() <= batch_entries);
        for entry in batch.take() {
            messages.push(match entry.level {
                Level::Warn => format!("gap {}", entry.message.split(' ').nth(1).unwrap_or("?")),
                _ => entry.message,
            });
        }
    }
    messages
}

#[test]
fn lines_come_out_in_order_in_batches_of_any_size() {
    let buffer = OutputBuffer::new(1 << 20);
    buffer.push(chunk(&["a", "bb", ""]));
    buffer.push(chunk(&[]));
    buffer.push(chunk(&["c", "d"]));
    assert_eq!(drain(&buffer, 2), ["a", "bb", "", "c", "d"]);
    assert_eq!(buffer.dropped(), 0);

    let buffer = OutputBuffer::new(1 << 20);
    let long = "x".repeat(100_000);
    buffer.push(chunk(&[&long, &long, "short"]));
    let mut batch = EntryBatch::new(BatchLimits {
        max_entries: 10,
        max_bytes: 150_000,
    });
    assert_eq!(
        buffer.take(&mut batch, Instant::now()),
        Taken::Some { lines: 1 }
    );
    assert_eq!(batch.len(), 1, "within the bytes, but always one");
    assert_eq!(buffer.dropped(), 0);
}

#[test]
fn when_full_the_oldest_lines_give_way_and_leave_a_counted_gap() {
    let one_chunk = chunk(&["1", "2", "3"]).cost();
    let buffer = OutputBuffer::new(2 * one_chunk);
    buffer.push(chunk(&["1", "2", "3"]));
    buffer.push(chunk(&["4", "5", "6"]));
    buffer.push(chunk(&["7", "8", "9"]));
    buffer.push(chunk(&["x", "y", "z"]));
    assert_eq!(buffer.dropped(), 6);
    assert_eq!(drain(&buffer, 10), ["gap 6", "7", "8", "9", "x", "y", "z"]);
}

#[test]
fn a_gap_stays_where_the_lines_were_after_some_were_taken() {
    let one_chunk = chunk(&["1", "2", "3"]).cost();
    let buffer = OutputBuffer::new(2 * one_chunk);
    buffer.push(chunk(&["1", "2", "3"]));
    let mut batch = EntryBatch::new(BatchLimits {
        max_entries: 2,
        max_bytes: 1 << 20,
    });
    assert_eq!(
        buffer.take(&mut batch, Instant::now()),
        Taken::Some { lines: 2 }
    );
    assert_eq!(batch.len(), 2, "1 and 2 are on their way");
    buffer.push(chunk(&["4", "5", "6"]));
    buffer.push(chunk(&["7", "8", "9"]));
    assert_eq!(buffer.dropped(), 1, "only 3 was still queued");
    assert_eq!(drain(&buffer, 10), ["gap 1", "4", "5", "6", "7", "8", "9"]);
}

#[test]
fn keeping_only_the_last_lines_cuts_inside_a_chunk() {
    let buffer = OutputBuffer::new(1 << 20);
    buffer.push(chunk(&["1", "2", "3"]));
    buffer.push(chunk(&["4", "5", "6"]));
    buffer.keep_only_last(2);
    assert_eq!(buffer.dropped(), 4);
    let mut batch = EntryBatch::default();
    assert_eq!(
        buffer.take(&mut batch, Instant::now()),
        Taken::Some { lines: 2 },
        "the gap marker is no line"
    );
    assert_eq!(batch.len(), 3);
    let buffer = OutputBuffer::new(1 << 20);
    buffer.push(chunk(&["1", "2", "3"]));
    buffer.push(chunk(&["4", "5", "6"]));
    buffer.keep_only_last(2);
    assert_eq!(drain(&buffer, 10), ["gap 4", "5", "6"]);

    let buffer = OutputBuffer::new(1 << 20);
    buffer.push(chunk(&["1"]));
    buffer.keep_only_last(5);
    assert_eq!(drain(&buffer, 10), ["1"], "fewer than kept: nothing goes");
}

#[test]
fn after_discarding_everything_is_counted_and_nothing_kept() {
    let buffer = OutputBuffer::new(1 << 20);
    buffer.push(chunk(&["1", "2"]));
    buffer.discard_all();
    buffer.push(chunk(&["3"]));
    assert_eq!(buffer.dropped(), 3);
    assert_eq!(drain(&buffer, 10), Vec::<String>::new());
}

#[test]
fn take_waits_until_its_deadline_and_knows_when_all_is_done() {
    let buffer = OutputBuffer::new(1 << 20);
    let mut batch = EntryBatch::default();
    let soon = Instant::now() + Duration::from_millis(10);
    assert_eq!(buffer.take(&mut batch, soon), Taken::Nothing);
    buffer.close();
    assert_eq!(buffer.take(&mut batch, soon), Taken::Finished);
}

#[test]
fn a_million_short_lines_fit_in_a_few_dozen_megabytes() {
    let mut total = 0;
    let mut number = 0;
    while number < 1_000_000 {
        // One 64 KiB read of `seq` output holds about 9,000 lines.
        let mut chunk = LineChunk::new(Timestamp::UNIX_EPOCH, Level::Info);
        for _ in 0..9_000 {
            number += 1;
            chunk.push(&number.to_string());
        }
        total += chunk.cost();
    }
    assert!(total < 16 << 20, "{total} bytes");
}
