//! A program's own `log` records, shipped into a session: the conversion of
//! a record into an entry, and the bounded queue between the threads that
//! log and the one thread that stores or sends.
//!
//! Both the server (its own session) and the client library (a program's
//! session) ship their records this way, so a record reads the same in
//! either: its level, its message, and its target and key-values as `data`.
//!
//! The queue never makes a logging thread wait: a record that finds it full
//! is dropped and counted, and the count is reported in the session with the
//! next batch ([`overflow_report`]). Blocking is left to the receiving
//! thread, which waits for records on purpose.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use log::kv::{Key, Value, VisitSource};

use crate::session_log::{EntryData, Level, NewEntry};
use crate::{Metadata, millisecond_now};

/// A record as an entry. Converts on the thread that logs, because a record
/// borrows from it.
pub fn entry_from_record(record: &log::Record<'_>) -> NewEntry {
    let message = match record.args().as_str() {
        Some(text) => text.to_owned(),
        None => record.args().to_string(),
    };
    let mut data = Metadata::new();
    data.insert("target".into(), record.target().into());
    // Visiting into a map cannot fail.
    let _ = record.key_values().visit(&mut DataVisitor(&mut data));
    NewEntry::new(millisecond_now(), session_level(record.level()), message)
        .with_data(EntryData::from_object(&data))
}

/// The four levels of a session log; `trace` counts as `debug`.
pub fn session_level(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug | log::Level::Trace => Level::Debug,
    }
}

/// The `warn` entry that says how many records a full queue turned away.
pub fn overflow_report(dropped: u64) -> NewEntry {
    let mut data = Metadata::new();
    data.insert("dropped_records".into(), dropped.into());
    NewEntry::new(
        millisecond_now(),
        Level::Warn,
        format!("{dropped} log records were dropped: they came faster than they could be stored"),
    )
    .with_data(EntryData::from_object(&data))
}

/// A bounded queue whose senders never wait, and the count of what it
/// turned away. The receiver is a plain channel receiver.
pub fn lossy_queue<T>(capacity: usize) -> (LossySender<T>, Receiver<T>) {
    let (sender, receiver) = crossbeam_channel::bounded(capacity);
    let sender = LossySender {
        sender,
        drops: Arc::default(),
    };
    (sender, receiver)
}

/// The sending side of [`lossy_queue`]. Clones share the queue and the count.
pub struct LossySender<T> {
    sender: Sender<T>,
    drops: Arc<Drops>,
}

impl<T> std::fmt::Debug for LossySender<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LossySender")
            .field("queued", &self.sender.len())
            .field("drops", &self.drops)
            .finish()
    }
}

impl<T> Clone for LossySender<T> {
    fn clone(&self) -> LossySender<T> {
        LossySender {
            sender: self.sender.clone(),
            drops: Arc::clone(&self.drops),
        }
    }
}

impl<T> LossySender<T> {
    /// Queues `item` if there is room, without waiting; a full queue drops it
    /// and counts it. A queue whose receiver is gone takes nothing and
    /// counts nothing: the shipping has ended on purpose.
    pub fn offer(&self, item: T) {
        if let Err(TrySendError::Full(_)) = self.sender.try_send(item) {
            self.drops.unreported.fetch_add(1, Ordering::Relaxed);
            self.drops.total.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The channel itself, for messages that must not be dropped and may
    /// wait (a flush, a shutdown).
    pub fn channel(&self) -> &Sender<T> {
        &self.sender
    }

    /// The count of what the queue turned away.
    pub fn drops(&self) -> &Arc<Drops> {
        &self.drops
    }
}

/// What a [`lossy_queue`] turned away: in all, and since the last report.
#[derive(Debug, Default)]
pub struct Drops {
    unreported: AtomicU64,
    total: AtomicU64,
}

impl Drops {
    /// Every item dropped since the queue was made.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// The items dropped since the last call, to be reported now.
    pub fn take_unreported(&self) -> u64 {
        self.unreported.swap(0, Ordering::Relaxed)
    }

    /// Puts back a count taken for a report that could not be delivered, so
    /// the next report includes it.
    pub fn restore_unreported(&self, count: u64) {
        self.unreported.fetch_add(count, Ordering::Relaxed);
    }
}

/// Collects key-values into `data`; a key given twice keeps its last value,
/// and a key named `target` replaces the record's target.
struct DataVisitor<'a>(&'a mut Metadata);

impl<'kvs> VisitSource<'kvs> for DataVisitor<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        self.0.insert(key.as_str().to_owned(), json_value(&value));
        Ok(())
    }
}

/// Numbers and booleans stay what they are; everything else becomes its
/// `Display` text.
fn json_value(value: &Value<'_>) -> serde_json::Value {
    if let Some(boolean) = value.to_bool() {
        return boolean.into();
    }
    if let Some(integer) = value.to_i64() {
        return integer.into();
    }
    if let Some(integer) = value.to_u64() {
        return integer.into();
    }
    if let Some(number) = value.to_f64().and_then(serde_json::Number::from_f64) {
        return number.into();
    }
    match value.to_borrowed_str() {
        Some(text) => text.into(),
        None => value.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(record: &log::Record<'_>, level: Level, message: &str, data: &str) {
        let entry = entry_from_record(record);
        assert_eq!(entry.level, level);
        assert_eq!(entry.message, message);
        assert_eq!(entry.data.as_ref().map(EntryData::as_json), Some(data));
        assert_eq!(entry.timestamp.subsec_nanosecond() % 1_000_000, 0);
    }

    #[test]
    fn key_values_go_into_data_with_their_types() {
        let pairs: [(&str, Value<'_>); 5] = [
            ("user", Value::from("ana")),
            ("items", Value::from(3u32)),
            ("delta", Value::from(-2i64)),
            ("ratio", Value::from(0.5f64)),
            ("ok", Value::from(true)),
        ];
        check(
            &log::Record::builder()
                .level(log::Level::Info)
                .target("shop::checkout")
                .args(format_args!("checkout done"))
                .key_values(&pairs)
                .build(),
            Level::Info,
            "checkout done",
            r#"{"target":"shop::checkout","user":"ana","items":3,"delta":-2,"ratio":0.5,"ok":true}"#,
        );
        let path = std::path::Path::new("/tmp/x").display();
        let display: [(&str, Value<'_>); 1] = [("path", Value::from_display(&path))];
        check(
            &log::Record::builder()
                .level(log::Level::Trace)
                .target("io")
                .args(format_args!("read {} bytes", 12))
                .key_values(&display)
                .build(),
            Level::Debug,
            "read 12 bytes",
            r#"{"target":"io","path":"/tmp/x"}"#,
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        let (sender, receiver) = lossy_queue(2);
        let other = sender.clone();
        for item in 0..5 {
            sender.offer(item);
        }
        other.offer(5);
        assert_eq!(receiver.try_iter().collect::<Vec<_>>(), [0, 1]);
        let drops = sender.drops();
        assert_eq!(drops.total(), 4);
        assert_eq!(drops.take_unreported(), 4);
        assert_eq!(drops.take_unreported(), 0, "taken once");
        drops.restore_unreported(4);
        assert_eq!(
            drops.take_unreported(),
            4,
            "a report that failed comes back"
        );
        assert_eq!(drops.total(), 4);

        sender.offer(6);
        assert_eq!(receiver.try_iter().collect::<Vec<_>>(), [6]);
        drop(receiver);
        sender.offer(7);
        assert_eq!(drops.total(), 4, "a closed queue is not a full one");
    }

    #[test]
    fn the_overflow_report_names_the_count() {
        let report = overflow_report(3);
        assert_eq!(report.level, Level::Warn);
        assert!(report.message.starts_with("3 log records were dropped"));
        assert_eq!(
            report.data.as_ref().map(EntryData::as_json),
            Some(r#"{"dropped_records":3}"#)
        );
    }
}
