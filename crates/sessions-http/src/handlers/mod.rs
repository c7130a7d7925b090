//! Request handlers, one module per resource.

pub(crate) mod health;
pub(crate) mod log;
pub(crate) mod otlp;
pub(crate) mod sessions;
pub(crate) mod ws;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use sessions_core::SessionId;

use crate::ApiError;
use crate::pieces::Pieces;

/// The `{id}` of the path, parsed once here at the edge.
fn session_id(request: &HttpRequest) -> Result<SessionId, ApiError> {
    let text = request.match_info().get("id").unwrap_or_default();
    Ok(text.parse()?)
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
