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

/// The script arguments of one entry: timestamp, level, message, whether
/// there is data, data.
pub(crate) fn entry_arguments(entry: &NewEntry) -> [Vec<u8>; 5] {
    let data = entry.data.as_ref().map(|data| data.as_json());
    [
        entry.timestamp.as_millisecond().to_string().into_bytes(),
        entry.level.as_str().as_bytes().to_vec(),
        entry.message.as_bytes().to_vec(),
        if data.is_some() {
            b"1".to_vec()
        } else {
            b"0".to_vec()
        },
        data.unwrap_or("").as_bytes().to_vec(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
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
