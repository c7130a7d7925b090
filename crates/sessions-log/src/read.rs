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
    summary: ReadSummary,
}

/// Everything about a read except its entries: how many it returned and
/// where to go on from. This is what a store hands back next to the entries
/// it gave an [`EntrySink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadSummary {
    /// Entries returned.
    pub returned: usize,
    /// The `seq` to pass as the next cursor: that of the newest entry
    /// returned, or, when none was, the position the read stopped at.
    pub cursor: u64,
    /// For a cursor read: entries after the cursor that were evicted before
    /// this read. For page and tail reads: all entries evicted so far.
    pub dropped: u64,
    /// Whether entries newer than the returned ones are retained.
    pub more: bool,
    /// Whether the cursor was ahead of the log and was read as 0.
    pub reset: bool,
    /// Entries retained in the log now.
    pub total: usize,
    /// Index of the first returned entry among the retained ones.
    pub offset: usize,
}

/// Takes the entries of a read, oldest first, one at a time: the entries
/// borrow from the store (a log locked for the read), so a sink keeps what
/// it needs, typically by serializing it there and then.
pub trait EntrySink {
    /// Told how many entries are coming, when the store knows, before the
    /// first one.
    fn reserve(&mut self, _entries: usize) {}

    fn entry(&mut self, entry: &EntryRef<'_>);
}

impl LogRing {
    pub fn read(&self, request: ReadRequest) -> LogRead<'_> {
        LogRead {
            ring: self,
            summary: ReadSummary::of(self.first_seq, self.next_seq(), request),
        }
    }
}

impl ReadSummary {
    /// Where a read of a log that retains `first_seq..next_seq` leaves off:
    /// the arithmetic of every [`ReadRequest`], for any store that keeps
    /// `seq`s contiguous. Entries `offset..offset + returned` of the
    /// retained ones are the read's.
    pub fn of(first_seq: u64, next_seq: u64, request: ReadRequest) -> ReadSummary {
        let total = next_seq - first_seq;
        match request {
            ReadRequest::After { cursor, limit } => {
                let reset = cursor >= next_seq;
                let after = if reset { 0 } else { cursor };
                let start_seq = (after + 1).max(first_seq);
                let available = next_seq - start_seq;
                let count = available.min(limit as u64);
                ReadSummary {
                    returned: count as usize,
                    // When nothing is returned this is still past every
                    // evicted entry, so a dropped count is never reported
                    // twice.
                    cursor: start_seq + count - 1,
                    dropped: first_seq - 1 - after.min(first_seq - 1),
                    more: count < available,
                    reset,
                    total: total as usize,
                    offset: (start_seq - first_seq) as usize,
                }
            }
            ReadRequest::Page { offset, limit } => {
                let start = offset.min(total);
                let count = (limit as u64).min(total - start);
                ReadSummary::window(first_seq, total, start, count)
            }
            ReadRequest::Tail { count } => {
                let count = (count as u64).min(total);
                ReadSummary::window(first_seq, total, total - count, count)
            }
        }
    }

    /// A read of `count` retained entries from index `start`, for the
    /// position-based requests (page and tail).
    fn window(first_seq: u64, total: u64, start: u64, count: u64) -> ReadSummary {
        ReadSummary {
            returned: count as usize,
            cursor: first_seq + start + count - 1,
            dropped: first_seq - 1,
            more: start + count < total,
            reset: false,
            total: total as usize,
            offset: start as usize,
        }
    }
}

impl<'a> LogRead<'a> {
    /// The entries, oldest first.
    pub fn entries(&self) -> Entries<'a> {
        let ring = self.ring;
        let seq = ring.first_seq + self.summary.offset as u64;
        let (position, previous_ms) = if self.summary.returned == 0 {
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
            remaining: self.summary.returned,
            position,
            previous_ms,
        }
    }

    pub fn len(&self) -> usize {
        self.summary.returned
    }

    pub fn is_empty(&self) -> bool {
        self.summary.returned == 0
    }

    /// Where the read leaves off (see [`ReadSummary`]).
    pub fn summary(&self) -> ReadSummary {
        self.summary
    }

    /// Hands every entry to `sink`, oldest first, and says where the read
    /// leaves off.
    pub fn write_to(&self, sink: &mut (impl EntrySink + ?Sized)) -> ReadSummary {
        sink.reserve(self.len());
        for entry in self.entries() {
            sink.entry(&entry);
        }
        self.summary
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
