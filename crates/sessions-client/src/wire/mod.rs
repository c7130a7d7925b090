//! The JSON of the API, converted by hand from and to the plain types of
//! `sessions-core`, which know nothing of the wire (the server's
//! `sessions-http` does the same from its side).
//!
//! Requests are written straight into bytes; answers are parsed into a
//! `serde_json::Value` and then picked apart field by field, so an answer that
//! lacks a field is reported by name. Fields this client does not know are
//! ignored: the API may add some.

use jiff::Timestamp;
use serde_json::{Map, Value};
use sessions_core::session_log::{Level, LogEntry, LogSummary, NewEntry};
use sessions_core::{CompactMetadata, Metadata, NewSession, Session, SessionId, SessionUpdate};

use crate::{Appended, Health, LogPage};

/// A session as the server writes it:
/// `{"id","appname","mode","jobid","metadata","created","updated","ended","status","server","log"}`.
/// For programs that print what they read, such as `zen sessions ls --json`.
pub fn session_to_json(session: &Session) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), session.id.to_string().into());
    object.insert("appname".into(), session.appname.clone().into());
    object.insert("mode".into(), session.mode.clone().into());
    object.insert("jobid".into(), session.jobid.clone().into());
    object.insert("metadata".into(), session.metadata.decode().into());
    object.insert("created".into(), timestamp_text(session.created).into());
    object.insert("updated".into(), timestamp_text(session.updated).into());
    object.insert("ended".into(), session.ended.map(timestamp_text).into());
    object.insert("status".into(), session.status().as_str().into());
    object.insert("server".into(), session.server.into());
    let mut log = Map::new();
    log.insert("entries".into(), session.log.entries.into());
    log.insert("cursor".into(), session.log.cursor.into());
    log.insert("dropped".into(), session.log.dropped.into());
    object.insert("log".into(), log.into());
    Value::Object(object)
}

/// A log entry as the server writes it: `{"seq","timestamp","level","message","data"?}`.
pub fn entry_to_json(entry: &LogEntry) -> Value {
    let mut object = Map::new();
    object.insert("seq".into(), entry.seq.into());
    object.insert("timestamp".into(), timestamp_text(entry.timestamp).into());
    object.insert("level".into(), entry.level.as_str().into());
    object.insert("message".into(), entry.message.clone().into());
    if let Some(data) = &entry.data {
        // Compact JSON of an object, parsed from an answer: it parses again.
        let data = serde_json::from_str(data).unwrap_or(Value::Null);
        object.insert("data".into(), data);
    }
    Value::Object(object)
}

/// Timestamps as the API writes them: UTC with three fractional digits.
fn timestamp_text(timestamp: Timestamp) -> String {
    format!("{timestamp:.3}")
}

// Requests.

pub(crate) fn new_session_body(session: &NewSession) -> Vec<u8> {
    let mut object = Map::new();
    object.insert("appname".into(), session.appname.clone().into());
    object.insert("mode".into(), session.mode.clone().into());
    if let Some(jobid) = &session.jobid {
        object.insert("jobid".into(), jobid.clone().into());
    }
    object.insert("metadata".into(), session.metadata.clone().into());
    Value::Object(object).to_string().into_bytes()
}

/// Fields that are `None` are left out, so the server keeps them;
/// `jobid: Some(None)` is sent as `null`, which removes the job id.
pub(crate) fn session_update_body(update: &SessionUpdate) -> Vec<u8> {
    let mut object = Map::new();
    if let Some(appname) = &update.appname {
        object.insert("appname".into(), appname.clone().into());
    }
    if let Some(mode) = &update.mode {
        object.insert("mode".into(), mode.clone().into());
    }
    if let Some(jobid) = &update.jobid {
        object.insert("jobid".into(), jobid.clone().into());
    }
    if let Some(metadata) = &update.metadata {
        object.insert("metadata".into(), metadata.clone().into());
    }
    Value::Object(object).to_string().into_bytes()
}

pub(crate) fn metadata_patch_body(patch: &Metadata) -> Vec<u8> {
    let mut object = Map::new();
    object.insert("metadata".into(), patch.clone().into());
    Value::Object(object).to_string().into_bytes()
}

/// `{"entries":[...]}`, every entry with its timestamp and level, `data`
/// copied verbatim: it is compact JSON of an object already.
pub(crate) fn entries_body(entries: &[NewEntry]) -> Vec<u8> {
    let text_bytes: usize = entries.iter().map(estimated_entry_bytes).sum();
    let mut out = Vec::with_capacity(16 + text_bytes);
    out.extend_from_slice(b"{\"entries\":[");
    // Entries written together share their timestamp (a command's output
    // is stamped per read): it is formatted once for all of them.
    let mut last_timestamp: Option<(Timestamp, String)> = None;
    for (index, entry) in entries.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        if last_timestamp
            .as_ref()
            .is_none_or(|(timestamp, _)| *timestamp != entry.timestamp)
        {
            last_timestamp = Some((entry.timestamp, timestamp_text(entry.timestamp)));
        }
        let timestamp = last_timestamp
            .as_ref()
            .map_or("", |(_, text)| text.as_str());
        out.extend_from_slice(b"{\"timestamp\":\"");
        out.extend_from_slice(timestamp.as_bytes());
        out.extend_from_slice(b"\",\"level\":\"");
        out.extend_from_slice(entry.level.as_str().as_bytes());
        out.extend_from_slice(b"\",\"message\":");
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, &entry.message);
        if let Some(data) = &entry.data {
            out.extend_from_slice(b",\"data\":");
            out.extend_from_slice(data.as_json().as_bytes());
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// About what an entry adds to an append body: its text plus the fixed
/// parts. Escaping can make it longer; batches leave room for that.
pub(crate) fn estimated_entry_bytes(entry: &NewEntry) -> usize {
    80 + entry.message.len() + entry.data.as_ref().map_or(0, |data| data.as_json().len())
}

// Answers.

pub(crate) fn parse_session(value: &Value) -> Result<Session, String> {
    let fields = Fields::of(value, "a session")?;
    let id = fields.str("id")?;
    let id: SessionId = id.parse().map_err(|error| format!("`id`: {error}"))?;
    let log = Fields::of(fields.get("log")?, "`log`")?;
    Ok(Session {
        id,
        appname: fields.str("appname")?.to_owned(),
        mode: fields.str("mode")?.to_owned(),
        jobid: fields.optional_str("jobid")?.map(str::to_owned),
        metadata: CompactMetadata::encode(fields.object("metadata")?),
        created: fields.timestamp("created")?,
        updated: fields.timestamp("updated")?,
        ended: fields.optional_timestamp("ended")?,
        server: fields.bool("server")?,
        log: LogSummary {
            entries: usize::try_from(log.u64("entries")?).unwrap_or(usize::MAX),
            cursor: log.u64("cursor")?,
            dropped: log.u64("dropped")?,
            // Not part of the API: what the entries cost is the server's business.
            bytes: 0,
        },
    })
}

pub(crate) fn parse_session_list(value: &Value) -> Result<Vec<Session>, String> {
    let fields = Fields::of(value, "a session list")?;
    match fields.get("sessions")? {
        Value::Array(sessions) => sessions.iter().map(parse_session).collect(),
        _ => Err("`sessions` is not an array".into()),
    }
}

pub(crate) fn parse_log_page(value: &Value) -> Result<LogPage, String> {
    let fields = Fields::of(value, "a log read")?;
    let entries = match fields.get("entries")? {
        Value::Array(entries) => entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                parse_entry(entry).map_err(|error| format!("entry {index}: {error}"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err("`entries` is not an array".into()),
    };
    Ok(LogPage {
        entries,
        cursor: fields.u64("cursor")?,
        dropped: fields.u64("dropped")?,
        more: fields.bool("more")?,
        reset: fields.bool("reset")?,
        total: fields.u64("total")?,
        offset: fields.u64("offset")?,
    })
}

fn parse_entry(value: &Value) -> Result<LogEntry, String> {
    let fields = Fields::of(value, "an entry")?;
    let level = fields.str("level")?;
    let level = Level::parse(level).map_err(|error| format!("`level`: {error}"))?;
    let data = match value.get("data") {
        None | Some(Value::Null) => None,
        Some(Value::Object(data)) => Some(Value::Object(data.clone()).to_string()),
        Some(_) => return Err("`data` is not an object".into()),
    };
    Ok(LogEntry {
        seq: fields.u64("seq")?,
        timestamp: fields.timestamp("timestamp")?,
        level,
        message: fields.str("message")?.to_owned(),
        data,
    })
}

pub(crate) fn parse_appended(value: &Value) -> Result<Appended, String> {
    let fields = Fields::of(value, "an append result")?;
    Ok(Appended {
        appended: usize::try_from(fields.u64("appended")?).unwrap_or(usize::MAX),
        cursor: fields.u64("cursor")?,
    })
}

pub(crate) fn parse_health(value: &Value) -> Result<Health, String> {
    let fields = Fields::of(value, "a health report")?;
    let sessions = Fields::of(fields.get("sessions")?, "`sessions`")?;
    Ok(Health {
        version: fields.str("version")?.to_owned(),
        uptime: std::time::Duration::from_secs(fields.u64("uptime_s")?),
        active_sessions: sessions.u64("active")?,
        ended_sessions: sessions.u64("ended")?,
        websocket_clients: fields.u64("websocket_clients")?,
        log_memory_bytes: fields.u64("log_memory_bytes")?,
    })
}

/// The `title` and `detail` of a problem+json body. Answers that are not one
/// (the bare 408 of a stalled request head, a proxy's page) keep their text
/// as the detail, or the reason phrase when they have none.
pub(crate) fn parse_problem(status: u16, reason: &str, body: &[u8]) -> (String, String) {
    if let Ok(Value::Object(problem)) = serde_json::from_slice::<Value>(body) {
        let text = |name: &str| problem.get(name).and_then(Value::as_str).map(str::to_owned);
        if let Some(detail) = text("detail") {
            return (text("title").unwrap_or_else(|| reason.to_owned()), detail);
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let detail = if text.is_empty() {
        format!("the server answered {status} {reason}")
    } else {
        // One line, and not a whole page of it.
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(300)
            .collect()
    };
    (reason.to_owned(), detail)
}

/// The fields of one JSON object, each read with an error that names it.
struct Fields<'a> {
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn of(value: &'a Value, what: &str) -> Result<Fields<'a>, String> {
        match value {
            Value::Object(object) => Ok(Fields { object }),
            _ => Err(format!("{what} is not a JSON object")),
        }
    }

    fn get(&self, name: &str) -> Result<&'a Value, String> {
        self.object
            .get(name)
            .ok_or_else(|| format!("`{name}` is missing"))
    }

    fn str(&self, name: &str) -> Result<&'a str, String> {
        self.get(name)?
            .as_str()
            .ok_or_else(|| format!("`{name}` is not a string"))
    }

    fn optional_str(&self, name: &str) -> Result<Option<&'a str>, String> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.str(name).map(Some),
        }
    }

    fn u64(&self, name: &str) -> Result<u64, String> {
        self.get(name)?
            .as_u64()
            .ok_or_else(|| format!("`{name}` is not a non-negative integer"))
    }

    fn bool(&self, name: &str) -> Result<bool, String> {
        self.get(name)?
            .as_bool()
            .ok_or_else(|| format!("`{name}` is not a boolean"))
    }

    fn object(&self, name: &str) -> Result<&'a Metadata, String> {
        self.get(name)?
            .as_object()
            .ok_or_else(|| format!("`{name}` is not an object"))
    }

    fn timestamp(&self, name: &str) -> Result<Timestamp, String> {
        let text = self.str(name)?;
        text.parse()
            .map_err(|error| format!("`{name}` `{text}` is not an RFC 3339 timestamp: {error}"))
    }

    fn optional_timestamp(&self, name: &str) -> Result<Option<Timestamp>, String> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.timestamp(name).map(Some),
        }
    }
}

#[cfg(test)]
mod tests;
