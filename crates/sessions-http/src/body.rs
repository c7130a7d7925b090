//! Reading request bodies within their size and time limits.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;
use sessions_otlp::GunzipError;

use crate::{ApiError, HttpLimits};

/// Reads the whole body as [`read_body`] does and undoes its
/// `Content-Encoding`: none (or `identity`) as it is, gzip decompressed within
/// the same size limit (past it, 413); any other coding is refused (415)
/// before the body is read. Every route that reads a body reads it here, so
/// none takes a compressed body for text.
pub(crate) async fn read_content(
    request: &HttpRequest,
    payload: Payload,
    limits: &HttpLimits,
) -> Result<Bytes, ApiError> {
    let gzipped = is_gzipped(request)?;
    let body = read_body(request, payload, limits).await?;
    if !gzipped {
        return Ok(body);
    }
    let limit = limits.max_body_bytes;
    match sessions_otlp::gunzip(&body, limit) {
        Ok(decompressed) => Ok(Bytes::from(decompressed)),
        Err(GunzipError::TooLarge { limit }) => Err(ApiError::DecompressedBodyTooLarge { limit }),
        Err(other) => Err(ApiError::InvalidBody(other.to_string())),
    }
}

/// Whether the body is gzip-compressed; 415 for a coding the server does not
/// know.
fn is_gzipped(request: &HttpRequest) -> Result<bool, ApiError> {
    let Some(value) = request.headers().get(header::CONTENT_ENCODING) else {
        return Ok(false);
    };
    let coding = value.to_str().unwrap_or("(not text)").trim();
    if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
        Ok(true)
    } else if coding.is_empty() || coding.eq_ignore_ascii_case("identity") {
        Ok(false)
    } else {
        let shown: String = coding.chars().take(100).collect();
        Err(ApiError::UnsupportedMediaType(format!(
            "content encoding `{shown}` is not supported; send the body as it is or with gzip"
        )))
    }
}

/// Reads the whole body. A `Content-Length` over the limit is refused before
/// reading anything; a body that grows past it, or stalls between two chunks
/// for longer than allowed, is refused as soon as that happens. A client that
/// disconnects mid-body gets an error here, so nothing half-read is ever
/// applied.
async fn read_body(
    request: &HttpRequest,
    mut payload: Payload,
    limits: &HttpLimits,
) -> Result<Bytes, ApiError> {
    let limit = limits.max_body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    // Reserve what the declared length says only up to a little: a client
    // that sends headers alone must not make the server hold megabytes.
    let mut body =
        BytesMut::with_capacity(declared.map_or(0, |length| length as usize).min(64 << 10));
    let deadline = tokio::time::Instant::now() + limits.body_timeout;
    loop {
        let stall = tokio::time::Instant::now() + limits.body_stall_timeout;
        let Ok(chunk) = tokio::time::timeout_at(stall.min(deadline), payload.next()).await else {
            close_after_response(payload);
            return Err(if stall <= deadline {
                ApiError::BodyStalled {
                    seconds: limits.body_stall_timeout.as_secs(),
                }
            } else {
                ApiError::BodyTooSlow {
                    seconds: limits.body_timeout.as_secs(),
                }
            });
        };
        match chunk {
            None => return Ok(body.freeze()),
            Some(Err(error)) => {
                return Err(ApiError::InvalidBody(format!(
                    "the body could not be read: {error}"
                )));
            }
            Some(Ok(chunk)) => {
                if body.len() + chunk.len() > limit {
                    close_after_response(payload);
                    return Err(ApiError::BodyTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

/// Makes actix close the connection after the error response to a body that
/// was not read to its end.
///
/// Actix closes such a connection only if the body's payload is still alive
/// when the response goes out; a dropped chunked payload is instead drained
/// for as long as the client keeps sending, which a hostile client can make
/// forever. So the payload is kept a moment longer than the response takes.
/// It buffers little meanwhile: actix stops reading when nobody consumes it.
fn close_after_response(payload: Payload) {
    actix_web::rt::spawn(async move {
        actix_web::rt::time::sleep(std::time::Duration::from_secs(1)).await;
        drop(payload);
    });
}

/// A request's `Content-Type`: the header as sent, for messages, and its
/// essence (RFC 9110: type and subtype, lowercase, without parameters such
/// as `charset`).
#[derive(Debug)]
pub(crate) struct MediaType<'a> {
    pub(crate) sent: &'a str,
    pub(crate) essence: String,
}

/// The `Content-Type` of `request`, if it has one.
pub(crate) fn media_type(request: &HttpRequest) -> Option<MediaType<'_>> {
    let sent = request
        .headers()
        .get(header::CONTENT_TYPE)?
        .to_str()
        .unwrap_or("(not text)");
    let essence = sent.split(';').next().unwrap_or_default().trim();
    Some(MediaType {
        sent,
        essence: essence.to_ascii_lowercase(),
    })
}

/// What the `Content-Type` of a log append says about its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogBodyKind {
    Text,
    Json,
}

impl LogBodyKind {
    /// `text/plain` or no content type: lines of text. So is
    /// `application/x-www-form-urlencoded`, because that is what curl sends for
    /// `--data-binary @file` unless told otherwise. `application/json` or any
    /// `+json` type: JSON. Parameters such as `charset` are ignored (bodies are
    /// UTF-8). Anything else is refused with 415.
    pub(crate) fn of(request: &HttpRequest) -> Result<LogBodyKind, ApiError> {
        let Some(MediaType {
            sent: text,
            essence,
        }) = media_type(request)
        else {
            return Ok(LogBodyKind::Text);
        };
        match essence.as_str() {
            "text/plain" | "application/x-www-form-urlencoded" => Ok(LogBodyKind::Text),
            "application/json" => Ok(LogBodyKind::Json),
            other if other.starts_with("application/") && other.ends_with("+json") => {
                Ok(LogBodyKind::Json)
            }
            _ => Err(ApiError::UnsupportedMediaType(format!(
                "content type `{text}` is not supported here; send text/plain (one entry per line) or application/json"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn check_coding(content_encoding: Option<&str>, expected: Option<bool>) {
        let mut request = TestRequest::post();
        if let Some(value) = content_encoding {
            request = request.insert_header((header::CONTENT_ENCODING, value));
        }
        let gzipped = is_gzipped(&request.to_http_request()).ok();
        assert_eq!(gzipped, expected, "{content_encoding:?}");
    }

    #[test]
    fn content_codings_are_gzip_or_nothing() {
        check_coding(None, Some(false));
        check_coding(Some("identity"), Some(false));
        check_coding(Some(""), Some(false));
        check_coding(Some("gzip"), Some(true));
        check_coding(Some("GZIP"), Some(true));
        check_coding(Some("x-gzip"), Some(true));
        check_coding(Some("deflate"), None);
        check_coding(Some("br"), None);
        check_coding(Some("gzip, gzip"), None);
    }
}
