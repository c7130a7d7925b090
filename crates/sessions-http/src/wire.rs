//! The JSON shapes of the API, converted by hand from and to the plain types
//! of `sessions-core`, which know nothing of the wire.

use std::io::Write;

use serde::{Deserialize, Deserializer, Serialize};
use sessions_core::session_log::{EntryRef, EntrySink, LogSummary, ReadSummary};
use sessions_core::{Metadata, Session, SessionUpdate};

use crate::ApiError;
use crate::json_numbers::check_numbers;

/// A session as JSON:
/// `{"id","appname","mode","jobid","metadata","created","updated","ended","status","server","log"}`.
/// Written by hand so the metadata, kept as compact JSON, is copied verbatim.
pub(crate) fn session_json(session: &Session) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + session.metadata.len());
    write_session(&mut out, session);
    out
}

/// `{"sessions":[...]}`.
pub(crate) fn session_list_json(sessions: &[Session]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + sessions.len() * 320);
    out.extend_from_slice(b"{\"sessions\":[");
    for (index, session) in sessions.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_session(&mut out, session);
    }
    out.extend_from_slice(b"]}");
    out
}

fn write_session(out: &mut Vec<u8>, session: &Session) {
    let LogSummary {
        entries,
        cursor,
        dropped,
        ..
    } = session.log;
    let _ = write!(out, "{{\"id\":\"{}\",\"appname\":", session.id);
    write_string(out, &session.appname);
    out.extend_from_slice(b",\"mode\":");
    write_string(out, &session.mode);
    out.extend_from_slice(b",\"jobid\":");
    match &session.jobid {
        Some(jobid) => write_string(out, jobid),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"metadata\":");
    out.extend_from_slice(session.metadata.as_json().as_bytes());
    let _ = write!(
        out,
        ",\"created\":\"{:.3}\",\"updated\":\"{:.3}\",\"ended\":",
        session.created, session.updated
    );
    match session.ended {
        Some(ended) => {
            let _ = write!(out, "\"{ended:.3}\"");
        }
        None => out.extend_from_slice(b"null"),
    }
    let _ = write!(
        out,
        ",\"status\":\"{}\",\"server\":{},\"log\":{{\"entries\":{entries},\"cursor\":{cursor},\"dropped\":{dropped}}}}}",
        session.status().as_str(),
        session.server,
    );
}

/// A JSON string literal, escaped.
fn write_string(out: &mut Vec<u8>, text: &str) {
    // Writing to a Vec cannot fail, and strings always serialize.
    let _ = serde_json::to_writer(&mut *out, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_display_writes_them() {
        let mut writer = TimestampWriter::default();
        for millis in [
            0,
            1,
            999,
            1_000,
            1_700_000_000_123,
            1_700_000_000_999,
            -1,
            -1_500,
            253_402_207_199_999,
        ] {
            let timestamp = jiff::Timestamp::from_millisecond(millis).unwrap();
            let mut out = Vec::new();
            writer.write(&mut out, timestamp);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("{timestamp:.3}"),
                "{millis}"
            );
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct AppendedJson {
    pub(crate) appended: usize,
    pub(crate) cursor: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct HealthJson {
    pub(crate) status: &'static str,
    pub(crate) version: &'static str,
    pub(crate) uptime_s: u64,
    pub(crate) sessions: HealthSessionsJson,
    pub(crate) websocket_clients: usize,
    pub(crate) connections: usize,
    pub(crate) log_memory_bytes: usize,
    pub(crate) store: HealthStoreJson,
}

#[derive(Debug, Serialize)]
pub(crate) struct HealthStoreJson {
    pub(crate) kind: &'static str,
    pub(crate) ok: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) detail: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct HealthSessionsJson {
    pub(crate) active: usize,
    pub(crate) ended: usize,
}

/// A log read as the store hands its entries over (from the memory store,
/// straight out of the locked ring):
/// `{"entries":[...],"cursor":C,"dropped":D,"more":M,"reset":R,"total":T,"offset":O}`.
#[derive(Debug)]
pub(crate) struct LogReadJson {
    out: Vec<u8>,
    entries: usize,
    timestamps: TimestampWriter,
}

impl LogReadJson {
    pub(crate) fn new() -> LogReadJson {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"{\"entries\":[");
        LogReadJson {
            out,
            entries: 0,
            timestamps: TimestampWriter::default(),
        }
    }

    /// The whole body, ending with where the read left off.
    pub(crate) fn finish(mut self, read: &ReadSummary) -> Vec<u8> {
        let out = &mut self.out;
        out.extend_from_slice(b"],\"cursor\":");
        write_number(out, read.cursor);
        out.extend_from_slice(b",\"dropped\":");
        write_number(out, read.dropped);
        out.extend_from_slice(if read.more {
            b",\"more\":true"
        } else {
            b",\"more\":false"
        });
        out.extend_from_slice(if read.reset {
            b",\"reset\":true"
        } else {
            b",\"reset\":false"
        });
        out.extend_from_slice(b",\"total\":");
        write_number(out, read.total as u64);
        out.extend_from_slice(b",\"offset\":");
        write_number(out, read.offset as u64);
        out.push(b'}');
        self.out
    }
}

impl EntrySink for LogReadJson {
    fn reserve(&mut self, entries: usize) {
        self.out.reserve(entries * 128);
    }

    fn entry(&mut self, entry: &EntryRef<'_>) {
        if self.entries > 0 {
            self.out.push(b',');
        }
        self.entries += 1;
        write_entry(&mut self.out, entry, &mut self.timestamps);
    }
}

/// Entries are written by hand: this is the hot path of every log read,
/// and formatting machinery (`write!`, `Display` of timestamps) cost more
/// than the read itself.
fn write_entry(out: &mut Vec<u8>, entry: &EntryRef<'_>, timestamps: &mut TimestampWriter) {
    out.extend_from_slice(b"{\"seq\":");
    write_number(out, entry.seq);
    out.extend_from_slice(b",\"timestamp\":\"");
    timestamps.write(out, entry.timestamp);
    out.extend_from_slice(b"\",\"level\":\"");
    out.extend_from_slice(entry.level.as_str().as_bytes());
    out.extend_from_slice(b"\",\"message\":");
    write_string(out, &entry.message);
    if let Some(data) = &entry.data {
        // Stored as compact JSON text of an object: copied verbatim.
        out.extend_from_slice(b",\"data\":");
        out.extend_from_slice(data.as_bytes());
    }
    out.push(b'}');
}

fn write_number(out: &mut Vec<u8>, number: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
}

/// Writes timestamps as RFC 3339 UTC with milliseconds. Entries of one read
/// mostly share their second, so the date and time up to the second are
/// formatted once per second and reused.
#[derive(Debug, Default)]
struct TimestampWriter {
    second: Option<i64>,
    /// `2026-11-27T15:04:05.`
    prefix: Vec<u8>,
}

impl TimestampWriter {
    fn write(&mut self, out: &mut Vec<u8>, timestamp: jiff::Timestamp) {
        let millis = timestamp.as_millisecond();
        let second = millis.div_euclid(1_000);
        if self.second != Some(second) {
            let whole = jiff::Timestamp::from_second(second).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            // `{:.0}` writes `...T15:04:05Z`; the prefix drops the `Z`.
            let text = format!("{whole:.0}");
            self.prefix.clear();
            self.prefix
                .extend_from_slice(text.trim_end_matches('Z').as_bytes());
            self.prefix.push(b'.');
            self.second = Some(second);
        }
        out.extend_from_slice(&self.prefix);
        let milli = millis.rem_euclid(1_000) as u16;
        out.extend_from_slice(&[
            b'0' + (milli / 100) as u8,
            b'0' + (milli / 10 % 10) as u8,
            b'0' + (milli % 10) as u8,
            b'Z',
        ]);
    }
}

/// `POST /sessions/` and `POST /sessions/{id}` bodies.
/// `appname`, `mode` and `metadata` may be absent but not `null`; `jobid`
/// may be `null`, which removes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a session object")]
pub(crate) struct SessionBody {
    #[serde(default, deserialize_with = "not_null")]
    appname: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    mode: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    jobid: Option<Option<String>>,
    #[serde(default, deserialize_with = "not_null")]
    metadata: Option<Metadata>,
}

/// A field that, when present, must hold a value: `null` is refused with
/// serde's "invalid type: null" instead of passing for "absent".
fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// Tells a field that is present but `null` from one that is absent.
fn nullable<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

impl SessionBody {
    /// An empty body counts as `{}`.
    pub(crate) fn parse(body: &[u8]) -> Result<SessionBody, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(SessionBody::default());
        }
        parse_json(
            body,
            "a session object such as {\"appname\": \"editor\", \"mode\": \"interactive\"}",
        )
    }

    pub(crate) fn into_update(self) -> SessionUpdate {
        SessionUpdate {
            appname: self.appname,
            mode: self.mode,
            jobid: self.jobid,
            metadata: self.metadata,
        }
    }
}

/// `PUT /sessions/{id}` body: a JSON merge patch for the metadata.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object with `metadata`")]
pub(crate) struct MetadataPatchBody {
    pub(crate) metadata: Metadata,
}

impl MetadataPatchBody {
    pub(crate) fn parse(body: &[u8]) -> Result<MetadataPatchBody, ApiError> {
        parse_json(
            body,
            "{\"metadata\": {...}}, a JSON merge patch of the metadata",
        )
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], expected: &str) -> Result<T, ApiError> {
    let invalid = |error: &dyn std::fmt::Display| {
        ApiError::InvalidBody(format!("invalid body: {error}; expected {expected}"))
    };
    let text = std::str::from_utf8(body).map_err(|error| invalid(&error))?;
    require_object(text).map_err(|error| invalid(&error))?;
    check_numbers(body).map_err(|error| invalid(&error))?;
    serde_json::from_str(text).map_err(|error| invalid(&error))
}

/// serde reads a struct from a JSON array too (fields in order), which would
/// let `["editor", "batch"]` pass for a session. Only objects are accepted.
pub(crate) fn require_object(json: &str) -> Result<(), String> {
    let json = json.trim_start_matches([' ', '\t', '\n', '\r']);
    let found = match json.as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'-' | b'0'..=b'9') => "a number",
        // An object, or something broken that serde describes best.
        _ => return Ok(()),
    };
    Err(format!("found {found} where an object belongs"))
}
