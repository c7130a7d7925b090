//! Turning what Redis answers into domain types, and entries into script
//! arguments. What Redis holds was written by this crate, but it is read
//! as untrusted all the same: a field that does not parse is an error, not
//! a panic.

use std::borrow::Cow;

use jiff::Timestamp;
use redis::Value;
use sessions_core::session_log::{EntryRef, Level, LogSummary, NewEntry};
use sessions_core::{CompactMetadata, Metadata, Session, SessionId};

/// Something in Redis is not what this crate writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) String);

impl Malformed {
    fn new(what: impl Into<String>) -> Malformed {
        Malformed(what.into())
    }
}

pub(crate) fn text(value: &Value) -> Result<Cow<'_, str>, Malformed> {
    match value {
        Value::BulkString(bytes) => Ok(String::from_utf8_lossy(bytes)),
        Value::SimpleString(text) => Ok(Cow::Borrowed(text)),
        Value::Okay => Ok(Cow::Borrowed("OK")),
        other => Err(Malformed::new(format!("expected text, got {other:?}"))),
    }
}

pub(crate) fn number(value: &Value) -> Result<u64, Malformed> {
    match value {
        Value::Int(number) => {
            u64::try_from(*number).map_err(|_| Malformed::new("a negative number"))
        }
        other => text(other)?
            .parse()
            .map_err(|_| Malformed::new(format!("expected a number, got {other:?}"))),
    }
}

pub(crate) fn array(value: &Value) -> Result<&[Value], Malformed> {
    match value {
        Value::Array(values) => Ok(values),
        other => Err(Malformed::new(format!("expected an array, got {other:?}"))),
    }
}

/// The values of an array, taken rather than copied.
pub(crate) fn into_array(value: Value) -> Result<Vec<Value>, Malformed> {
    match value {
        Value::Array(values) => Ok(values),
        other => Err(Malformed::new(format!("expected an array, got {other:?}"))),
    }
}

/// A script's answer: its status word and what follows it.
pub(crate) fn status(value: &Value) -> Result<(Cow<'_, str>, &[Value]), Malformed> {
    let values = array(value)?;
    let (first, rest) = values
        .split_first()
        .ok_or_else(|| Malformed::new("an empty answer"))?;
    Ok((text(first)?, rest))
}

fn milliseconds(text: &str) -> Result<Timestamp, Malformed> {
    text.parse::<i64>()
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .ok_or_else(|| Malformed::new(format!("`{text}` is not a time")))
}

/// A session from its hash, given as field and value pairs (HGETALL).
pub(crate) fn session(id: SessionId, pairs: &Value) -> Result<Session, Malformed> {
    let pairs = array(pairs)?;
    let mut fields = std::collections::HashMap::new();
    for pair in pairs.chunks(2) {
        if let [name, value] = pair {
            fields.insert(text(name)?.into_owned(), text(value)?.into_owned());
        }
    }
    let field = |name: &str| {
        fields
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| Malformed::new(format!("session {id} has no `{name}`")))
    };
    let seq = |name: &str| -> Result<u64, Malformed> {
        field(name)?
            .parse()
            .map_err(|_| Malformed::new(format!("session {id}: `{name}` is not a number")))
    };
    let metadata: Metadata = serde_json::from_str(field("metadata")?)
        .map_err(|error| Malformed::new(format!("session {id}: metadata: {error}")))?;
    let first = seq("first")?;
    let next = seq("next")?;
    Ok(Session {
        id,
        appname: field("appname")?.to_owned(),
        mode: field("mode")?.to_owned(),
        jobid: fields.get("jobid").cloned(),
        metadata: CompactMetadata::encode(&metadata),
        created: milliseconds(field("created")?)?,
        updated: milliseconds(field("updated")?)?,
        ended: fields
            .get("ended")
            .map(|ended| milliseconds(ended))
            .transpose()?,
        server: field("server")? == "1",
        log: LogSummary {
            entries: next.saturating_sub(first) as usize,
            cursor: next.saturating_sub(1),
            dropped: first.saturating_sub(1),
            bytes: seq("bytes")? as usize,
        },
    })
}

/// One stream entry, `[id, [field, value, ...]]`, as the entry it stores.
pub(crate) fn entry(value: &Value) -> Result<EntryRef<'_>, Malformed> {
    let [id, fields] = array(value)? else {
        return Err(Malformed::new("a stream entry that is not [id, fields]"));
    };
    let id = text(id)?;
    let seq = id
        .strip_prefix("0-")
        .and_then(|seq| seq.parse().ok())
        .ok_or_else(|| Malformed::new(format!("stream id `{id}`")))?;
    let mut timestamp = None;
    let mut level = None;
    let mut message = None;
    let mut data = None;
    for pair in array(fields)?.chunks(2) {
        let [name, value] = pair else { continue };
        match text(name)?.as_ref() {
            "t" => timestamp = Some(milliseconds(&text(value)?)?),
            "l" => {
                level = Some(
                    Level::parse(&text(value)?)
                        .map_err(|error| Malformed::new(error.to_string()))?,
                )
            }
            "m" => message = Some(text(value)?),
            "d" => data = Some(text(value)?),
            _ => {}
        }
    }
    let missing = |name: &str| Malformed::new(format!("entry {seq} has no `{name}`"));
    Ok(EntryRef {
        seq,
        timestamp: timestamp.ok_or_else(|| missing("t"))?,
        level: level.ok_or_else(|| missing("l"))?,
        message: message.ok_or_else(|| missing("m"))?,
        data,
    })
}

/// A batch as the append script takes it: one layout character per
/// entry, saying which of its arguments follow, and the arguments. An
/// entry's timestamp and level are left out when they are the previous
/// entry's, so a batch of lines from one moment costs Redis little more
/// than its messages.
#[derive(Debug, Default)]
pub(crate) struct EncodedBatch {
    /// Per entry `'0'` plus [`TIMESTAMP_FOLLOWS`], [`LEVEL_FOLLOWS`] and
    /// [`DATA_FOLLOWS`] as they apply.
    pub(crate) layout: Vec<u8>,
    /// Per entry, in order: timestamp (milliseconds) and level when they
    /// follow, message, data (JSON) when it follows.
    pub(crate) arguments: Vec<Vec<u8>>,
}

pub(crate) const TIMESTAMP_FOLLOWS: u8 = 1;
pub(crate) const LEVEL_FOLLOWS: u8 = 2;
pub(crate) const DATA_FOLLOWS: u8 = 4;

impl EncodedBatch {
    pub(crate) fn new(entries: &[NewEntry]) -> EncodedBatch {
        let mut batch = EncodedBatch {
            layout: Vec::with_capacity(entries.len()),
            arguments: Vec::with_capacity(entries.len() + 2),
        };
        // The timestamp (milliseconds) and level the script holds.
        let mut previous: Option<(i64, Level)> = None;
        for entry in entries {
            let milliseconds = entry.timestamp.as_millisecond();
            let mut flags = 0;
            if previous.is_none_or(|(previous, _)| previous != milliseconds) {
                flags |= TIMESTAMP_FOLLOWS;
                batch.arguments.push(milliseconds.to_string().into_bytes());
            }
            if previous.is_none_or(|(_, previous)| previous != entry.level) {
                flags |= LEVEL_FOLLOWS;
                batch
                    .arguments
                    .push(entry.level.as_str().as_bytes().to_vec());
            }
            batch.arguments.push(entry.message.as_bytes().to_vec());
            if let Some(data) = &entry.data {
                flags |= DATA_FOLLOWS;
                batch.arguments.push(data.as_json().as_bytes().to_vec());
            }
            batch.layout.push(b'0' + flags);
            previous = Some((milliseconds, entry.level));
        }
        batch
    }

    pub(crate) fn entries(&self) -> usize {
        self.layout.len()
    }

    /// What the arguments weigh, to keep a step's arguments bounded.
    pub(crate) fn bytes(&self) -> usize {
        self.arguments.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use sessions_core::session_log::EntryData;

    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn a_batch_names_a_timestamp_or_level_only_when_it_changes() {
        let at = |ms| Timestamp::from_millisecond(ms).unwrap();
        let data = serde_json::json!({"k": 1});
        let entries = [
            NewEntry::new(at(1_000), Level::Info, "one"),
            NewEntry::new(at(1_000), Level::Info, "two"),
            NewEntry::new(at(1_000), Level::Error, "three")
                .with_data(EntryData::from_object(data.as_object().unwrap())),
            NewEntry::new(at(2_000), Level::Error, ""),
        ];
        let batch = EncodedBatch::new(&entries);
        assert_eq!(batch.layout, b"3061");
        assert_eq!(batch.entries(), 4);
        let arguments: Vec<&[u8]> = batch.arguments.iter().map(Vec::as_slice).collect();
        assert_eq!(
            arguments,
            [
                &b"1000"[..],
                b"info",
                b"one",
                b"two",
                b"error",
                b"three",
                br#"{"k":1}"#,
                b"2000",
                b"",
            ]
        );
        let bytes: usize = arguments.iter().map(|argument| argument.len()).sum();
        assert_eq!(batch.bytes(), bytes);
    }

    #[test]
    fn a_stream_entry_reads_back_as_its_entry() {
        let value = Value::Array(vec![
            bulk("0-42"),
            Value::Array(vec![
                bulk("t"),
                bulk("1764672000123"),
                bulk("l"),
                bulk("warn"),
                bulk("m"),
                bulk("disk is full"),
                bulk("d"),
                bulk(r#"{"free":0}"#),
            ]),
        ]);
        let entry = entry(&value).unwrap();
        assert_eq!(entry.seq, 42);
        assert_eq!(entry.timestamp.as_millisecond(), 1_764_672_000_123);
        assert_eq!(entry.level, Level::Warn);
        assert_eq!(entry.message, "disk is full");
        assert_eq!(entry.data.as_deref(), Some(r#"{"free":0}"#));
    }

    #[test]
    fn what_this_crate_did_not_write_is_an_error_not_a_panic() {
        assert!(entry(&bulk("nonsense")).is_err());
        assert!(entry(&Value::Array(vec![bulk("1-1"), Value::Array(vec![])])).is_err());
        let id: SessionId = "65a1f00dcafe0123456789ab".parse().unwrap();
        assert!(session(id, &Value::Array(vec![bulk("appname")])).is_err());
    }
}
