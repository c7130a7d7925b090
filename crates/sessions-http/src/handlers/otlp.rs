//! `POST /v1/logs`: OpenTelemetry log exports over OTLP/HTTP.
//!
//! `sessions-otlp` decodes the request and maps it onto the registry; this
//! module does the HTTP around it, by the OTLP/HTTP specification where it
//! differs from the rest of the API: the answer comes in the encoding of
//! the request (`application/x-protobuf` or `application/json`), and a
//! request refused once its encoding is known gets a `google.rpc.Status` in
//! that encoding instead of problem+json. A `Content-Type` that names
//! neither encoding (415) leaves nothing to answer in, so that one is
//! problem+json, as are the access checks, which run before any route.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use sessions_core::millisecond_now;
use sessions_otlp::{DecodeLimits, Encoding, decode, encode_response, encode_status};

use crate::body::{MediaType, media_type, read_content};
use crate::{ApiError, AppState, query};

/// `POST /v1/logs`. Checks in order: the content type (415), the query
/// (none allowed, 400), the content coding (415), the body's size and pace
/// (413, 408), decompression (413 past the body limit, 400), what the
/// request would take decoded (records at most the batch limit, lists at
/// most eight times the body limit, 400) and decoding (400). Then every
/// resource and record is applied, and what could not be is reported in
/// `partial_success`, still with 200.
pub(crate) async fn export(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ExportError> {
    let encoding = encoding_of(&request).map_err(|error| ExportError {
        encoding: None,
        error,
    })?;
    let refuse = |error: ApiError| ExportError {
        encoding: Some(encoding),
        error,
    };
    query::no_query(request.query_string()).map_err(refuse)?;
    let body = read_content(&request, payload, &state.limits)
        .await
        .map_err(refuse)?;
    // As many records as one append may take, and lists (attributes,
    // values) in proportion to the body limit: decoded, a message is many
    // times its size on the wire, so counting first bounds the memory.
    let limits = DecodeLimits::new(
        state.store.limits().max_batch_entries,
        state.limits.max_body_bytes,
    );
    let export_request = decode(&body, encoding, &limits)
        .map_err(|error| refuse(ApiError::InvalidBody(error.to_string())))?;
    let outcome = sessions_otlp::export(state.store.as_ref(), &export_request, millisecond_now())
        .await
        .map_err(|error| refuse(ApiError::from(error)))?;
    if outcome.rejected > 0 {
        log::debug!(target: "zenserver::otlp", "{}", outcome.message);
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, encoding.content_type()))
        .body(encode_response(&outcome, encoding)))
}

/// A refused export: problem+json when the request's encoding is unknown,
/// otherwise a `google.rpc.Status` in that encoding.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub(crate) struct ExportError {
    encoding: Option<Encoding>,
    error: ApiError,
}

impl ResponseError for ExportError {
    fn status_code(&self) -> StatusCode {
        self.error.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let Some(encoding) = self.encoding else {
            return self.error.error_response();
        };
        let status = self.status_code();
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, encoding.content_type()));
        if let ApiError::UnsupportedMediaType(_) = self.error {
            // RFC 9110: a 415 for a content coding says which ones would do.
            response.insert_header((
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("gzip, identity"),
            ));
        }
        if let Some(seconds) = self.error.retry_after() {
            // OTLP exporters honour it for 503 (the specification's
            // "retryable" answers).
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        if self.error.closes_connection() {
            response.force_close();
        }
        response.body(encode_status(
            rpc_code(status),
            &self.error.to_string(),
            encoding,
        ))
    }
}

/// The `google.rpc.Code` closest to an HTTP status. OTLP clients ignore it;
/// it is there for people reading the answer.
fn rpc_code(status: StatusCode) -> i32 {
    const INVALID_ARGUMENT: i32 = 3;
    const DEADLINE_EXCEEDED: i32 = 4;
    const UNKNOWN: i32 = 2;
    match status {
        StatusCode::REQUEST_TIMEOUT => DEADLINE_EXCEEDED,
        status if status.is_client_error() => INVALID_ARGUMENT,
        _ => UNKNOWN,
    }
}

/// The encoding the `Content-Type` names; parameters are ignored.
fn encoding_of(request: &HttpRequest) -> Result<Encoding, ApiError> {
    let Some(MediaType { sent, essence }) = media_type(request) else {
        return Err(ApiError::UnsupportedMediaType(
            "the request has no content type; send application/x-protobuf or application/json"
                .into(),
        ));
    };
    if essence == Encoding::Protobuf.content_type() {
        Ok(Encoding::Protobuf)
    } else if essence == Encoding::Json.content_type() {
        Ok(Encoding::Json)
    } else {
        let shown: String = sent.chars().take(100).collect();
        Err(ApiError::UnsupportedMediaType(format!(
            "content type `{shown}` is not an OTLP encoding; send application/x-protobuf or application/json"
        )))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn check_encoding(content_type: Option<&str>, expected: Option<Encoding>) {
        let mut request = TestRequest::post();
        if let Some(value) = content_type {
            request = request.insert_header((header::CONTENT_TYPE, value));
        }
        let encoding = encoding_of(&request.to_http_request()).ok();
        assert_eq!(encoding, expected, "{content_type:?}");
    }

    #[test]
    fn content_types_name_the_encoding() {
        check_encoding(Some("application/x-protobuf"), Some(Encoding::Protobuf));
        check_encoding(Some("Application/X-Protobuf"), Some(Encoding::Protobuf));
        check_encoding(Some("application/json"), Some(Encoding::Json));
        check_encoding(
            Some("application/json; charset=utf-8"),
            Some(Encoding::Json),
        );
        check_encoding(None, None);
        check_encoding(Some("text/plain"), None);
        check_encoding(Some("application/protobuf"), None);
        check_encoding(Some("application/problem+json"), None);
        check_encoding(Some("application/jsonx"), None);
    }

    #[test]
    fn statuses_have_rpc_codes() {
        assert_eq!(rpc_code(StatusCode::BAD_REQUEST), 3);
        assert_eq!(rpc_code(StatusCode::PAYLOAD_TOO_LARGE), 3);
        assert_eq!(rpc_code(StatusCode::REQUEST_TIMEOUT), 4);
        assert_eq!(rpc_code(StatusCode::SERVICE_UNAVAILABLE), 2);
    }
}
