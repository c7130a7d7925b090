//! The values that go into a log and come out of it.

use std::borrow::Cow;

use jiff::Timestamp;

use crate::Level;

/// Structured data attached to an entry: a JSON object kept as compact JSON
/// text, so the ring stores it as bytes and a reader copies it out verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryData(String);

impl EntryData {
    /// Serializes `object` compactly. Only objects are accepted, so the type
    /// itself guarantees that `data` is an object.
    pub fn from_object(object: &serde_json::Map<String, serde_json::Value>) -> EntryData {
        EntryData(serde_json::Value::Object(object.clone()).to_string())
    }

    pub fn as_json(&self) -> &str {
        &self.0
    }
}

/// Cuts a message longer than `limit` bytes at a character boundary and marks
/// the cut with `…`, for writers that would rather keep a shortened line
/// than lose it to the server's message limit.
pub fn truncate_message(message: &mut String, limit: usize) {
    const MARK: &str = "…";
    if message.len() <= limit {
        return;
    }
    let mut end = limit.saturating_sub(MARK.len());
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.truncate(end);
    if message.len() + MARK.len() <= limit {
        message.push_str(MARK);
    }
}

/// An entry on its way into a log; the log assigns its `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub timestamp: Timestamp,
    pub level: Level,
    pub message: String,
    pub data: Option<EntryData>,
}

impl NewEntry {
    pub fn new(timestamp: Timestamp, level: Level, message: impl Into<String>) -> NewEntry {
        NewEntry {
            timestamp,
            level,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: EntryData) -> NewEntry {
        self.data = Some(data);
        self
    }
}

/// An entry as it is stored, borrowed from the log it was read from.
///
/// The text is borrowed straight from the log's storage unless it happens to
/// wrap around the end of it, then it is copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef<'a> {
    pub seq: u64,
    /// Millisecond precision: the log keeps no finer time.
    pub timestamp: Timestamp,
    pub level: Level,
    pub message: Cow<'a, str>,
    /// Compact JSON text of an object.
    pub data: Option<Cow<'a, str>>,
}

impl EntryRef<'_> {
    pub fn to_owned_entry(&self) -> LogEntry {
        LogEntry {
            seq: self.seq,
            timestamp: self.timestamp,
            level: self.level,
            message: self.message.clone().into_owned(),
            data: self.data.clone().map(Cow::into_owned),
        }
    }
}

/// An owned copy of a stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub seq: u64,
    pub timestamp: Timestamp,
    pub level: Level,
    pub message: String,
    pub data: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_within_the_limit_and_on_a_char_boundary() {
        let check = |text: &str, limit: usize, expected: &str| {
            let mut message = text.to_owned();
            truncate_message(&mut message, limit);
            assert_eq!(message, expected, "{text:?} to {limit}");
            assert!(message.len() <= limit || text.len() <= limit);
        };
        check("ééééé", 6, "é…");
        check("fits", 4, "fits");
        check("abcdef", 2, "");
        check("abcdef", 5, "ab…");
    }
}
