//! The parsers of this crate, reachable from the fuzz targets in `fuzz/`.
//! Compiled only with the `fuzzing` feature; not an API.

use std::time::Duration;

use jiff::Timestamp;
use sessions_core::session_log::{Level, LogRead, NewEntry, ReadRequest};
use sessions_core::{Metadata, Session, SessionUpdate, StatusFilter};

/// A JSON log append body, as `POST /sessions/{id}/log` reads it.
pub fn parse_json_log(body: &[u8], level: Level, now: Timestamp) -> Result<Vec<NewEntry>, String> {
    crate::log_body::parse_json(body, level, now).map_err(|error| error.to_string())
}

/// A text log append body.
pub fn parse_text_log(body: &[u8], level: Level, now: Timestamp) -> Result<Vec<NewEntry>, String> {
    crate::log_body::parse_text(body, level, now).map_err(|error| error.to_string())
}

/// A `POST /sessions/{id}` body.
pub fn parse_session_body(body: &[u8]) -> Result<SessionUpdate, String> {
    crate::wire::SessionBody::parse(body)
        .map(crate::wire::SessionBody::into_update)
        .map_err(|error| error.to_string())
}

/// A `PUT /sessions/{id}` body: the metadata merge patch.
pub fn parse_metadata_patch(body: &[u8]) -> Result<Metadata, String> {
    crate::wire::MetadataPatchBody::parse(body)
        .map(|patch| patch.metadata)
        .map_err(|error| error.to_string())
}

/// The query of `GET /sessions/{id}/log`.
pub fn parse_log_read_query(query: &str) -> Result<(ReadRequest, Duration), String> {
    crate::query::log_read_query(query)
        .map(|parsed| (parsed.request, parsed.wait))
        .map_err(|error| error.to_string())
}

/// The query of `GET /sessions/`.
pub fn parse_list_query(query: &str) -> Result<StatusFilter, String> {
    crate::query::list_query(query).map_err(|error| error.to_string())
}

/// The query of `POST /sessions/{id}/log`.
pub fn parse_append_query(query: &str) -> Result<Level, String> {
    crate::query::log_append_query(query).map_err(|error| error.to_string())
}

/// A log read as the response body writes it.
pub fn log_read_json(read: &LogRead<'_>) -> Vec<u8> {
    let mut json = crate::wire::LogReadJson::new();
    let summary = read.write_to(&mut json);
    json.finish(&summary)
}

/// A session as the response body writes it.
pub fn session_json(session: &Session) -> Vec<u8> {
    crate::wire::session_json(session)
}
