//! Request handlers, one module per resource.

pub(crate) mod health;
pub(crate) mod log;
pub(crate) mod metrics;
pub(crate) mod otlp;
pub(crate) mod sessions;
pub(crate) mod ws;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use sessions_core::SessionId;

use crate::pieces::Pieces;
use crate::{ApiError, query};

/// The `{id}` of a session route, parsed once here at the edge (400 when it
/// is not 24 hex digits). Routes that take query parameters parse them
/// after it, so a bad id is reported first.
pub(crate) struct SessionPath(pub(crate) SessionId);

impl FromRequest for SessionPath {
    type Error = ApiError;
    type Future = Ready<Result<SessionPath, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let text = request.match_info().get("id").unwrap_or_default();
        ready(text.parse().map(SessionPath).map_err(ApiError::from))
    }
}

/// A session route that takes no query parameters: its `{id}` (checked
/// first), and then a refusal of any query string.
pub(crate) struct PlainSessionPath(pub(crate) SessionId);

impl FromRequest for PlainSessionPath {
    type Error = ApiError;
    type Future = Ready<Result<PlainSessionPath, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let result = SessionPath::from_request(request, payload)
            .into_inner()
            .and_then(|SessionPath(id)| {
                query::no_query(request.query_string())?;
                Ok(PlainSessionPath(id))
            });
        ready(result)
    }
}

fn json_response(status: StatusCode, value: &impl Serialize) -> HttpResponse {
    json_bytes(status, serde_json::to_vec(value).unwrap_or_default())
}

/// A response of JSON already written; large ones go out in pieces, so the
/// connection never copies them whole (see `pieces.rs`).
fn json_bytes(status: StatusCode, body: impl Into<Bytes>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(ContentType::json())
        .body(Pieces::new(body.into()))
}

/// Answers requests for paths that have no route.
pub(crate) async fn no_route(request: HttpRequest) -> HttpResponse {
    ApiError::NoRoute(request.path().chars().take(200).collect()).error_response()
}

/// A handler answering 405 with the methods a resource does allow.
pub(crate) fn method_not_allowed(
    allow: &'static str,
) -> impl Fn(HttpRequest) -> std::future::Ready<HttpResponse> + Clone {
    move |request: HttpRequest| {
        let error = ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allow,
        };
        std::future::ready(error.error_response())
    }
}
