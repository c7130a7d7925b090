//! What the fuzz targets share: a registry with one session, and a way to
//! see everything a client could see of it.

use jiff::Timestamp;
use serde_json::Value;
use sessions_core::session_log::ReadRequest;
use sessions_core::{Limits, NewSession, SessionId, SessionRegistry};

/// The time entries without their own timestamp get.
pub fn now() -> Timestamp {
    Timestamp::from_millisecond(1_700_000_000_000).expect("a valid time")
}

/// A registry with default limits and one active session.
pub fn registry() -> (SessionRegistry, SessionId) {
    let registry = SessionRegistry::new(Limits::default());
    let session = registry
        .create(NewSession {
            appname: "fuzz".into(),
            mode: "fuzz".into(),
            ..NewSession::default()
        })
        .expect("a session can be created");
    (registry, session.id)
}

/// Every retained entry, as a client reads them.
pub fn entries(registry: &SessionRegistry, id: SessionId) -> Vec<Value> {
    let body = registry
        .read_log(
            id,
            ReadRequest::After {
                cursor: 0,
                limit: usize::MAX,
            },
            sessions_http::fuzzing::log_read_json,
        )
        .expect("the session exists");
    let read: Value = serde_json::from_slice(&body).expect("reads are JSON");
    match read {
        Value::Object(mut read) => match read.remove("entries") {
            Some(Value::Array(entries)) => entries,
            _ => panic!("a read without entries"),
        },
        _ => panic!("a read that is not an object"),
    }
}

/// The session and its log as a client would see them, to check that a
/// refused request changed nothing.
pub fn visible_state(registry: &SessionRegistry, id: SessionId) -> String {
    let session = registry.get(id).expect("the session exists");
    let json = sessions_http::fuzzing::session_json(&session);
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&json),
        Value::Array(entries(registry, id))
    )
}

/// The canonical name of a level given by a client, or `None` if unknown.
pub fn level_name(given: &str) -> Option<&'static str> {
    match given.to_ascii_lowercase().as_str() {
        "debug" | "trace" => Some("debug"),
        "info" => Some("info"),
        "warn" | "warning" => Some("warn"),
        "error" | "fatal" | "critical" => Some("error"),
        _ => None,
    }
}

/// A timestamp as responses write it: UTC, milliseconds.
pub fn written(timestamp: Timestamp) -> String {
    let millis = Timestamp::from_millisecond(timestamp.as_millisecond()).expect("in range");
    format!("{millis:.3}")
}
