//! `/sessions/{id}/log`: reading (with long polls) and appending.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use sessions_core::session_log::ReadRequest;
use sessions_core::{SessionId, millisecond_now};

use super::{SessionPath, json_bytes, json_response};
use crate::body::{LogBodyKind, read_content};
use crate::log_body::{parse_json, parse_text};
use crate::wire::{AppendedJson, log_read_json};
use crate::{ApiError, AppState, query};

/// `GET /sessions/{id}/log`. With `wait`, a cursor read that finds nothing
/// new waits until something arrives, the session ends, the server shuts down
/// or the time is up, then reads once more.
pub(crate) async fn read(
    SessionPath(id): SessionPath,
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query::log_read_query_within(request.query_string(), state.limits.max_wait)?;
    let (mut body, returned, cursor) = read_once(&state, id, query.request)?;
    let may_wait = match query.request {
        ReadRequest::After { limit, .. } => limit > 0,
        _ => false,
    };
    if returned == 0
        && may_wait
        && !query.wait.is_zero()
        && let Some(waiter) = state.registry.wait_for_log(id, cursor)?
    {
        let waiting = state.metrics.long_poll_waits();
        // Timing out is the normal end of a long poll with nothing new.
        let _ = actix_web::rt::time::timeout(query.wait, waiter).await;
        drop(waiting);
        (body, _, _) = read_once(&state, id, query.request)?;
    }
    Ok(json_bytes(StatusCode::OK, body))
}

/// One read, serialized while the session is locked: the body, how many
/// entries it holds, and its cursor.
fn read_once(
    state: &AppState,
    id: SessionId,
    request: ReadRequest,
) -> Result<(Vec<u8>, usize, u64), ApiError> {
    Ok(state.registry.read_log(id, request, |read| {
        (log_read_json(read), read.len(), read.cursor())
    })?)
}

/// `POST /sessions/{id}/log`: appends text lines or JSON entries, all or
/// nothing.
pub(crate) async fn append(
    SessionPath(id): SessionPath,
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let level = query::log_append_query(request.query_string())?;
    let kind = LogBodyKind::of(&request)?;
    let body = read_content(&request, payload, &state.limits).await?;
    let now = millisecond_now();
    let entries = match kind {
        LogBodyKind::Text => parse_text(&body, level, now)?,
        LogBodyKind::Json => parse_json(&body, level, now)?,
    };
    let outcome = state.registry.append(id, &entries)?;
    Ok(json_response(
        StatusCode::OK,
        &AppendedJson {
            appended: outcome.appended,
            cursor: outcome.cursor,
        },
    ))
}
