//! One HTTP exchange with the server, through a ureq agent, and the mapping
//! of everything that can go wrong on the way to a [`ClientError`].
//!
//! This is the only module that knows ureq; the routes in `client.rs` only
//! say method, path and body.

use std::io;
use std::time::Duration;

use serde_json::Value;
use ureq::http::{StatusCode, Uri};

use crate::{ClientConfig, ClientError};

/// Largest answer read. A log read returns at most 10,000 entries from a log
/// of at most 8 MiB (by default), which JSON escaping can grow several times.
const MAX_ANSWER_BYTES: u64 = 64 << 20;

#[derive(Debug)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    config: ClientConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Delete,
}

/// A request body and its content type.
#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) content_type: &'static str,
    pub(crate) bytes: Vec<u8>,
}

/// A successful answer: its status and its JSON.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) json: Value,
}

impl Transport {
    pub(crate) fn new(config: ClientConfig) -> Result<Transport, ClientError> {
        check_base_url(config.base_url())?;
        let agent_config = ureq::Agent::config_builder()
            // Error statuses are answers: their problem+json is read below.
            .http_status_as_error(false)
            // The server is local; a proxy from the environment would only
            // stand between them.
            .proxy(None)
            .max_redirects(0)
            .user_agent(format!("sessions-client/{}", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(config.connect_timeout()))
            .timeout_send_request(Some(config.read_timeout()))
            .timeout_send_body(Some(config.read_timeout()))
            .timeout_recv_response(Some(config.read_timeout()))
            .timeout_recv_body(Some(config.read_timeout()))
            .build();
        Ok(Transport {
            agent: ureq::Agent::new_with_config(agent_config),
            config,
        })
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends one request. `wait` is how long the server may hold it on
    /// purpose (a long poll); the answer may take that much longer.
    pub(crate) fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Body>,
        wait: Duration,
    ) -> Result<Answer, ClientError> {
        let url = format!("{}{path_and_query}", self.config.base_url());
        let result = match method {
            Method::Get => self.prepare(self.agent.get(&url), wait).call(),
            Method::Delete => self.prepare(self.agent.delete(&url), wait).call(),
            Method::Post | Method::Put => {
                let builder = match method {
                    Method::Post => self.agent.post(&url),
                    _ => self.agent.put(&url),
                };
                let builder = self.prepare(builder, wait);
                match body {
                    Some(body) => builder
                        .header("Content-Type", body.content_type)
                        .send(&body.bytes[..]),
                    None => builder.send_empty(),
                }
            }
        };
        let mut response = result.map_err(|error| self.transport_error(error, wait))?;
        let status = response.status();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|error| self.transport_error(error, wait))?;
        if !status.is_success() {
            return Err(api_error(status, &bytes));
        }
        let json =
            serde_json::from_slice(&bytes).map_err(|error| ClientError::InvalidResponse {
                url: self.config.base_url().to_owned(),
                reason: format!(
                    "{} {path_and_query} answered {status} with no JSON: {error}",
                    method.as_str()
                ),
            })?;
        Ok(Answer {
            status: status.as_u16(),
            json,
        })
    }

    /// Headers every request carries, and a longer answer timeout for long polls.
    fn prepare<B>(
        &self,
        builder: ureq::RequestBuilder<B>,
        wait: Duration,
    ) -> ureq::RequestBuilder<B> {
        let mut builder = builder.header("Accept", "application/json");
        if let Some(token) = self.config.token() {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        if !wait.is_zero() {
            builder = builder
                .config()
                .timeout_recv_response(Some(self.config.read_timeout() + wait))
                .build();
        }
        builder
    }

    fn transport_error(&self, error: ureq::Error, wait: Duration) -> ClientError {
        let url = self.config.base_url().to_owned();
        let unreachable = |reason: String| ClientError::Unreachable {
            url: url.clone(),
            reason,
        };
        let timeout = || ClientError::Timeout {
            url: url.clone(),
            after: self.config.read_timeout() + wait,
        };
        match error {
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                unreachable(format!(
                    "no connection within {} s",
                    self.config.connect_timeout().as_secs_f64()
                ))
            }
            ureq::Error::Timeout(_) => timeout(),
            ureq::Error::HostNotFound => unreachable("the host name does not resolve".into()),
            ureq::Error::ConnectionFailed => unreachable("the connection failed".into()),
            ureq::Error::Io(error) => match error.kind() {
                io::ErrorKind::ConnectionRefused => unreachable("connection refused".into()),
                io::ErrorKind::AddrNotAvailable
                | io::ErrorKind::NetworkUnreachable
                | io::ErrorKind::HostUnreachable => unreachable(error.to_string()),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => timeout(),
                _ => ClientError::Transport {
                    url,
                    reason: error.to_string(),
                },
            },
            ureq::Error::BadUri(reason) => ClientError::InvalidUrl { url, reason },
            ureq::Error::BodyExceedsLimit(limit) => ClientError::InvalidResponse {
                url,
                reason: format!("the answer is larger than {limit} bytes"),
            },
            other => ClientError::Transport {
                url,
                reason: other.to_string(),
            },
        }
    }
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

fn api_error(status: StatusCode, body: &[u8]) -> ClientError {
    let reason = status.canonical_reason().unwrap_or("Error");
    let (title, detail) = crate::wire::parse_problem(status.as_u16(), reason, body);
    ClientError::Api {
        status: status.as_u16(),
        title,
        detail,
    }
}

/// Only plain `http://host[:port][/prefix]`: the server speaks HTTP without
/// TLS, and the client builds paths and queries itself.
fn check_base_url(base_url: &str) -> Result<(), ClientError> {
    let invalid = |reason: &str| ClientError::InvalidUrl {
        url: base_url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = base_url
        .parse()
        .map_err(|_| invalid("expected http://HOST:PORT"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(invalid(
                "https is not supported; zenserver speaks plain HTTP, so use http://",
            ));
        }
        _ => return Err(invalid("expected http://HOST:PORT")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("there is no host in it"));
    }
    if uri.query().is_some() {
        return Err(invalid("a server address has no query string"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(base_url: &str, expected: Result<(), &str>) {
        let result = check_base_url(base_url).map_err(|error| error.to_string());
        assert_eq!(
            result.as_ref().map_err(String::as_str).copied(),
            expected,
            "{base_url}"
        );
    }

    #[test]
    fn only_plain_http_addresses_are_accepted() {
        check("http://127.0.0.1:8558", Ok(()));
        check("http://localhost:8558", Ok(()));
        check("http://[::1]:8558", Ok(()));
        check("http://zen.local/prefix", Ok(()));
        check(
            "https://127.0.0.1:8558",
            Err(
                "`https://127.0.0.1:8558` is not a server address this client can use: https is not supported; zenserver speaks plain HTTP, so use http://",
            ),
        );
        check(
            "127.0.0.1:8558",
            Err(
                "`127.0.0.1:8558` is not a server address this client can use: expected http://HOST:PORT",
            ),
        );
        check(
            "",
            Err("`` is not a server address this client can use: expected http://HOST:PORT"),
        );
        check(
            "http://127.0.0.1:8558?x=1",
            Err(
                "`http://127.0.0.1:8558?x=1` is not a server address this client can use: a server address has no query string",
            ),
        );
    }
}
