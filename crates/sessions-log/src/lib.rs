//! The capped, in-memory log of one session.
//!
//! A [`LogRing`] keeps the newest entries of a session's log within two budgets,
//! a number of entries and a number of bytes; whatever falls out of either is
//! evicted oldest first and counted. Every entry gets a sequence number (`seq`)
//! that starts at 1 and grows by one per entry, so a reader that remembers the
//! last `seq` it saw (its *cursor*) can always tell what is new and how much of
//! it was evicted before it got there.
//!
//! Entries are stored compactly because a server keeps millions of them: each
//! is one record in a byte ring per log, a few bytes of varint header (lengths,
//! level, and the timestamp as a difference to the entry before) followed by
//! the message and its structured `data` as compact JSON. Appending does not
//! allocate per entry.
//!
//! Reads are split in two steps: [`LogRing::read`] works out *which* entries a
//! request gets (pure arithmetic on sequence numbers, see [`ReadRequest`]), and
//! the returned [`LogRead`] hands them out as borrowed [`EntryRef`]s, so a
//! caller can serialize straight from the ring without copying.
//!
//! This crate knows nothing about sessions, HTTP or threads: it does no IO,
//! takes no locks and never logs. Callers own synchronization.

mod byte_ring;
mod entry;
mod level;
mod read;
mod record;
mod ring;

pub use entry::{EntryData, EntryRef, LogEntry, NewEntry, truncate_message};
pub use level::{Level, UnknownLevel};
pub use read::{Entries, EntrySink, LogRead, ReadRequest, ReadSummary};
pub use ring::{AppendError, AppendOutcome, LogRing, LogSummary, RingLimits};
