//! Batches of entries that fit one append request.
//!
//! The server refuses a whole batch for one message over its limit, and a
//! whole body over its size limit; a client that ships what others wrote
//! (log records, a command's output) cuts messages and batches to size
//! before sending, so one long line never costs the lines around it.

use sessions_core::session_log::{NewEntry, truncate_message};

/// The server's default `--max-message`: longer messages are cut to it.
pub const MAX_MESSAGE_BYTES: usize = 64 << 10;

/// When a batch counts as full. Well below the server's defaults (10,000
/// entries, 4 MiB bodies), so one request stays quick to send and to append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_entries: usize,
    /// Estimated JSON bytes of the batch.
    pub max_bytes: usize,
}

impl Default for BatchLimits {
    /// 1,000 entries or 1 MiB.
    fn default() -> BatchLimits {
        BatchLimits {
            max_entries: 1_000,
            max_bytes: 1 << 20,
        }
    }
}

/// Entries collected for one [`crate::Client::append_entries`].
#[derive(Debug, Default)]
pub struct EntryBatch {
    entries: Vec<NewEntry>,
    bytes: usize,
    limits: BatchLimits,
}

impl EntryBatch {
    pub fn new(limits: BatchLimits) -> EntryBatch {
        EntryBatch {
            entries: Vec::new(),
            bytes: 0,
            limits,
        }
    }

    /// Adds `entry`, its message cut to [`MAX_MESSAGE_BYTES`]. A batch takes
    /// entries past its limits (check [`EntryBatch::is_full`] before
    /// pushing); one entry over is still far from the server's.
    pub fn push(&mut self, mut entry: NewEntry) {
        truncate_message(&mut entry.message, MAX_MESSAGE_BYTES);
        self.bytes += crate::wire::estimated_entry_bytes(&entry);
        self.entries.push(entry);
    }

    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.limits.max_entries.max(1) || self.bytes >= self.limits.max_bytes
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// About how many bytes of request body the entries take.
    pub fn estimated_bytes(&self) -> usize {
        self.bytes
    }

    pub fn limits(&self) -> BatchLimits {
        self.limits
    }

    pub fn entries(&self) -> &[NewEntry] {
        &self.entries
    }

    /// Empties the batch, handing out what it held.
    pub fn take(&mut self) -> Vec<NewEntry> {
        self.bytes = 0;
        std::mem::take(&mut self.entries)
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use sessions_core::session_log::Level;

    use super::*;

    fn check(message: &str, limit: usize, expected: &str) {
        let mut cut = message.to_owned();
        truncate_message(&mut cut, limit);
        assert_eq!(cut, expected, "{message:?} to {limit}");
        assert!(cut.len() <= limit);
    }

    #[test]
    fn messages_are_cut_on_a_character_boundary() {
        check("fits", 4, "fits");
        check("abcdef", 5, "ab…");
        check("ééééé", 6, "é…");
        check("ééééé", 7, "éé…");
        check("abcdef", 2, "");
    }

    #[test]
    fn a_batch_is_full_at_either_limit() {
        let entry = |message: &str| NewEntry::new(Timestamp::UNIX_EPOCH, Level::Info, message);
        let mut batch = EntryBatch::new(BatchLimits {
            max_entries: 3,
            max_bytes: 1_000,
        });
        batch.push(entry("one"));
        batch.push(entry("two"));
        assert!(!batch.is_full());
        batch.push(entry("three"));
        assert!(batch.is_full());
        assert_eq!(batch.take().len(), 3);
        assert!(batch.is_empty() && !batch.is_full());
        batch.push(entry(&"x".repeat(2_000)));
        assert!(batch.is_full(), "by bytes");
        batch.push(entry(&"y".repeat(100_000)));
        assert_eq!(batch.entries()[1].message.len(), MAX_MESSAGE_BYTES);
    }
}
