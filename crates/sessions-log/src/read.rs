//! Which entries a read gets, and handing them out.

use std::borrow::Cow;

use crate::EntryRef;
use crate::record::RecordHeader;
use crate::ring::LogRing;

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
    pub fn entries(&self) -> Entries<'a> {
        let ring = self.ring;
        let seq = ring.first_seq + self.start_index as u64;
        let (position, previous_ms) = if self.count == 0 {
            (0, 0)
        } else {
            let mark = ring.locate(seq);
            let first = ring.header_at(mark.position);
            // Stored so that adding the first record's own delta gives its
            // timestamp back, like every later record's.
            (
                mark.position,
                mark.timestamp_ms.wrapping_sub(first.delta_ms),
            )
        };
        Entries {
            ring,
            seq,
            remaining: self.count,
            position,
            previous_ms,
        }
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

/// The entries of a [`LogRead`], walked record by record through the arena.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    ring: &'a LogRing,
    seq: u64,
    remaining: usize,
    /// Where the next record starts.
    position: u64,
    /// The timestamp of the record before the next one.
    previous_ms: i64,
}

impl<'a> Iterator for Entries<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        if self.remaining == 0 {
            return None;
        }
        let header = self.ring.header_at(self.position);
        let timestamp_ms = self.previous_ms.wrapping_add(header.delta_ms);
        let entry = entry_ref(self.ring, self.seq, self.position, &header, timestamp_ms);
        self.remaining -= 1;
        self.seq += 1;
        self.position += header.record_len() as u64;
        self.previous_ms = timestamp_ms;
        Some(entry)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Entries<'_> {}

fn entry_ref<'a>(
    ring: &'a LogRing,
    seq: u64,
    position: u64,
    header: &RecordHeader,
    timestamp_ms: i64,
) -> EntryRef<'a> {
    let message_len = header.message_len;
    let (first, second) = ring.text.get(
        position + header.header_len as u64,
        message_len + header.data_len,
    );
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
        timestamp: LogRing::timestamp_from(timestamp_ms),
        level: header.level,
        message: into_text(message),
        data: (header.data_len > 0).then(|| into_text(data)),
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
mod tests;
