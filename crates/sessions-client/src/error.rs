//! What can go wrong when talking to the server.

use std::time::Duration;

/// Why a request failed.
///
/// [`ClientError::Api`] means the server understood the request and refused
/// it; it carries the status and the `detail` of the server's problem+json
/// answer, a sentence meant for people. Every other variant means no usable
/// answer arrived. Messages name the server's address, so a one-line report
/// of the error says where the client was looking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with an error status. A refused token (401) also
    /// says how to give one.
    #[error("{detail} (HTTP {status}){}", token_hint(*.status))]
    Api {
        status: u16,
        /// The status code's reason phrase, such as `Not Found`.
        title: String,
        /// What the server says is wrong, and often how to fix it.
        detail: String,
    },
    /// No connection could be made: nothing listens there, the name does not
    /// resolve, or connecting took longer than the connect timeout.
    #[error("cannot reach the server at {url}: {reason}; is zenserver running there?")]
    Unreachable { url: String, reason: String },
    /// Connected, but no answer came within the read timeout.
    #[error("the server at {url} did not answer within {} s", .after.as_secs_f64())]
    Timeout { url: String, after: Duration },
    /// The connection broke, or the server spoke something other than HTTP.
    #[error("talking to the server at {url} failed: {reason}")]
    Transport { url: String, reason: String },
    /// An answer arrived but is not what the API promises for this request.
    #[error("the server at {url} sent an answer this client does not understand: {reason}")]
    InvalidResponse { url: String, reason: String },
    /// The configured base URL cannot be used.
    #[error("`{url}` is not a server address this client can use: {reason}")]
    InvalidUrl { url: String, reason: String },
}

/// What a 401 adds to its message: where the token comes from, for `zen`
/// (`--token`) and for programs that read the environment
/// (`Client::from_env`, `LoggerConfig::from_env`).
fn token_hint(status: u16) -> &'static str {
    if status == 401 {
        "; pass --token or set ZEN_TOKEN"
    } else {
        ""
    }
}

impl ClientError {
    /// The HTTP status, when the server answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's `detail`, when it answered with an error.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ClientError::Api { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// True when no answer arrived at all: the server is down, unreachable or
    /// too slow. Trying again later may work; the request itself was fine.
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            ClientError::Unreachable { .. }
                | ClientError::Timeout { .. }
                | ClientError::Transport { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(error: ClientError, expected: &str) {
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn messages_fit_on_one_line_and_say_where() {
        check(
            ClientError::Api {
                status: 404,
                title: "Not Found".into(),
                detail: "session 65a1f00dcafe0123456789ac does not exist".into(),
            },
            "session 65a1f00dcafe0123456789ac does not exist (HTTP 404)",
        );
        check(
            ClientError::Unreachable {
                url: "http://127.0.0.1:1".into(),
                reason: "connection refused".into(),
            },
            "cannot reach the server at http://127.0.0.1:1: connection refused; is zenserver running there?",
        );
        check(
            ClientError::Timeout {
                url: "http://127.0.0.1:8558".into(),
                after: Duration::from_millis(2500),
            },
            "the server at http://127.0.0.1:8558 did not answer within 2.5 s",
        );
    }
}
