//! Every error the API answers, and the one place that turns them into
//! RFC 9457 `application/problem+json` responses.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use sessions_core::{ParseSessionIdError, RegistryError};

/// What a client is told to wait before asking again while the store is
/// away: reconnecting takes about that long.
const STORE_RETRY_AFTER_SECONDS: &str = "1";

/// An error answer. Its `Display` is the problem's `detail`: a sentence that
/// tells the client what to fix.
///
/// Not `#[non_exhaustive]`: only this workspace uses it, and every match on
/// it is exhaustive, so a new variant cannot go unmapped.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    InvalidId(#[from] ParseSessionIdError),
    /// A body that is not what the route takes: bad JSON, wrong types, unknown
    /// fields, invalid UTF-8.
    #[error("{0}")]
    InvalidBody(String),
    /// A header the server cannot read one way only (repeated, say).
    #[error("{0}")]
    InvalidHeader(String),
    #[error("query parameter `{parameter}`: {reason}")]
    InvalidQuery { parameter: String, reason: String },
    #[error("the body is larger than the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// A compressed body, read whole, that grows past the limit when
    /// decompressed (a "zip bomb"): refused without closing the connection.
    #[error("the body is larger than the limit of {limit} bytes once decompressed")]
    DecompressedBodyTooLarge { limit: usize },
    #[error("the request body stalled for more than {seconds} s")]
    BodyStalled { seconds: u64 },
    #[error("the request body took longer than {seconds} s to arrive")]
    BodyTooSlow { seconds: u64 },
    #[error("the server has {limit} connections open, its limit; try again later")]
    TooManyConnections { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("this server needs `Authorization: Bearer <token>`; the token is missing or wrong")]
    Unauthorized,
    #[error("this endpoint speaks WebSocket only: {0}")]
    NotAWebSocket(String),
    #[error("there is no endpoint at {0}")]
    NoRoute(String),
    #[error("{method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed { method: String, allow: &'static str },
}

/// The problem document (RFC 9457).
#[derive(Debug, Serialize)]
struct Problem<'a> {
    r#type: &'static str,
    title: &'a str,
    status: u16,
    detail: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Registry(error) => match error {
                RegistryError::NotFound(_) => StatusCode::NOT_FOUND,
                RegistryError::Ended(_) | RegistryError::ServerSession(_) => StatusCode::CONFLICT,
                RegistryError::TooManyActiveSessions { .. } => StatusCode::TOO_MANY_REQUESTS,
                RegistryError::Invalid(_) => StatusCode::BAD_REQUEST,
                RegistryError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            },
            ApiError::InvalidId(_)
            | ApiError::InvalidBody(_)
            | ApiError::InvalidHeader(_)
            | ApiError::InvalidQuery { .. }
            | ApiError::NotAWebSocket(_) => StatusCode::BAD_REQUEST,
            ApiError::BodyTooLarge { .. } | ApiError::DecompressedBodyTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::BodyStalled { .. } | ApiError::BodyTooSlow { .. } => {
                StatusCode::REQUEST_TIMEOUT
            }
            ApiError::TooManyConnections { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let problem = Problem {
            r#type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.to_string(),
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            ApiError::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, *allow));
            }
            _ => {}
        }
        if let Some(seconds) = self.retry_after() {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        if self.closes_connection() {
            response.force_close();
        }
        response.body(serde_json::to_vec(&problem).unwrap_or_default())
    }
}

impl ApiError {
    /// Seconds to wait before asking again, for errors that go away by
    /// themselves.
    pub(crate) fn retry_after(&self) -> Option<&'static str> {
        match self {
            ApiError::Registry(RegistryError::Unavailable(_)) => Some(STORE_RETRY_AFTER_SECONDS),
            _ => None,
        }
    }

    /// Whether the connection must be closed after the answer: the rest of
    /// the body was never read, so it cannot carry another request (or the
    /// server has too many connections already).
    pub(crate) fn closes_connection(&self) -> bool {
        matches!(
            self,
            ApiError::BodyTooLarge { .. }
                | ApiError::BodyStalled { .. }
                | ApiError::BodyTooSlow { .. }
                | ApiError::TooManyConnections { .. }
        )
    }
}
