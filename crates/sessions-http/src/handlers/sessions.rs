//! `/sessions/` and `/sessions/{id}`: listing, creating, updating, patching,
//! ending and reading sessions.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use sessions_core::{RegistryError, Session, Upserted};

use super::{PlainSessionPath, json_bytes};
use crate::body::read_content;
use crate::wire::{MetadataPatchBody, SessionBody, session_json};
use crate::{ApiError, AppState, query};

/// `GET /sessions/?status=active|ended|all`.
pub(crate) async fn list(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let filter = query::list_query(request.query_string())?;
    Ok(json_bytes(StatusCode::OK, state.live.list_json(filter)))
}

/// `POST /sessions/`: creates a session with a minted id.
pub(crate) async fn create(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    query::no_query(request.query_string())?;
    let body = read_content(&request, payload, &state.limits).await?;
    let new_session = SessionBody::parse(&body)?
        .into_update()
        .into_new_session()
        .map_err(RegistryError::from)?;
    let session = state.store.create(new_session).await?;
    Ok(created(&session))
}

/// `POST /sessions/{id}`: creates the session, or updates the fields given.
pub(crate) async fn upsert(
    PlainSessionPath(id): PlainSessionPath,
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_content(&request, payload, &state.limits).await?;
    let update = SessionBody::parse(&body)?.into_update();
    Ok(match state.store.upsert(id, update).await? {
        Upserted::Created(session) => created(&session),
        Upserted::Updated(session) => session_ok(&session),
    })
}

/// `PUT /sessions/{id}`: merges `{"metadata": {...}}` into the metadata.
pub(crate) async fn patch_metadata(
    PlainSessionPath(id): PlainSessionPath,
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_content(&request, payload, &state.limits).await?;
    let patch = MetadataPatchBody::parse(&body)?;
    let session = state.store.patch_metadata(id, &patch.metadata).await?;
    Ok(session_ok(&session))
}

/// `DELETE /sessions/{id}`: ends the session.
pub(crate) async fn end(
    PlainSessionPath(id): PlainSessionPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(session_ok(&state.store.end(id).await?))
}

/// `GET /sessions/{id}`.
pub(crate) async fn get(
    PlainSessionPath(id): PlainSessionPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(session_ok(&state.store.get(id).await?))
}

/// 200 with the session.
fn session_ok(session: &Session) -> HttpResponse {
    json_bytes(StatusCode::OK, session_json(session))
}

fn created(session: &Session) -> HttpResponse {
    let mut response = json_bytes(StatusCode::CREATED, session_json(session));
    if let Ok(location) = header::HeaderValue::from_str(&format!("/sessions/{}", session.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
