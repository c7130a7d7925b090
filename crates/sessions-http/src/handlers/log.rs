//! `/sessions/{id}/log`: reading (with long polls) and appending.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use sessions_core::session_log::{ReadRequest, ReadSummary};
use sessions_core::{SessionId, millisecond_now};

use super::{SessionPath, json_bytes, json_response};
use crate::body::{LogBodyKind, read_content};
use crate::log_body::{parse_json, parse_text};
use crate::wire::{AppendedJson, LogReadJson};
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
    let (mut body, mut read) = read_once(&state, id, query.request).await?;
    let may_wait = match query.request {
        ReadRequest::After { limit, .. } => limit > 0,
        _ => false,
    };
    if !may_wait || query.wait.is_zero() {
        return Ok(json_bytes(StatusCode::OK, body));
    }
    let deadline = tokio::time::Instant::now() + query.wait;
    // Again after every wake-up that brought nothing to return: a store
    // may wake its waiters for less than a new entry (another node's news
    // about the session, a reload of its directory).
    while read.returned == 0
        && let Some(wakeup) = state.store.wait_for_log(id, read.cursor).await?
    {
        let waiting = state.metrics.long_poll_waits();
        // Timing out is the normal end of a long poll with nothing new.
        let timed_out = tokio::time::timeout_at(deadline, wakeup).await.is_err();
        drop(waiting);
        (body, read) = read_once(&state, id, query.request).await?;
        if timed_out {
            break;
        }
    }
    Ok(json_bytes(StatusCode::OK, body))
}

/// One read, serialized as the store hands the entries over: the body and
/// where the read left off.
async fn read_once(
    state: &AppState,
    id: SessionId,
    request: ReadRequest,
) -> Result<(Vec<u8>, ReadSummary), ApiError> {
    let mut json = LogReadJson::new();
    let read = state.store.read_log(id, request, &mut json).await?;
    Ok((json.finish(&read), read))
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
    let outcome = state.store.append(id, &entries).await?;
    Ok(json_response(
        StatusCode::OK,
        &AppendedJson {
            appended: outcome.appended,
            cursor: outcome.cursor,
        },
    ))
}
