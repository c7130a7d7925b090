//! Where the server is, how to prove who we are, and how long to wait.

use std::fmt;
use std::time::Duration;

/// How a [`crate::Client`] reaches the server.
///
/// The read timeout bounds every wait for the server once a request is sent;
/// a long poll adds its own `wait` to it, so following a log never times out
/// just because nothing happened.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    base_url: String,
    token: Option<String>,
    connect_timeout: Duration,
    read_timeout: Duration,
}

impl ClientConfig {
    /// Where `zenserver` listens when started without flags.
    pub const DEFAULT_URL: &str = "http://127.0.0.1:8558";

    /// A server at `base_url` (such as `http://127.0.0.1:8558`; a trailing
    /// `/` is ignored), no token, 5 s to connect and 30 s to answer.
    pub fn new(base_url: impl Into<String>) -> ClientConfig {
        let base_url: String = base_url.into();
        ClientConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: None,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
        }
    }

    /// The server `zen` would use: `ZEN_SERVER` (or the default address)
    /// and `ZEN_TOKEN`, as `zen run` passes them on to the commands it runs.
    /// Reading the environment is the program's choice; nothing else in
    /// this crate does.
    pub fn from_env() -> ClientConfig {
        let base_url = std::env::var("ZEN_SERVER")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| ClientConfig::DEFAULT_URL.to_owned());
        let config = ClientConfig::new(base_url);
        match std::env::var("ZEN_TOKEN") {
            Ok(token) => config.with_token(token),
            Err(_) => config,
        }
    }

    /// Sends `Authorization: Bearer <token>` with every request. An empty
    /// token means none, as it does for the server's `--token`.
    pub fn with_token(mut self, token: impl Into<String>) -> ClientConfig {
        let token: String = token.into();
        self.token = (!token.is_empty()).then_some(token);
        self
    }

    pub fn with_connect_timeout(mut self, timeout: Duration) -> ClientConfig {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for each answer (a long poll's `wait` comes on top).
    pub fn with_read_timeout(mut self, timeout: Duration) -> ClientConfig {
        self.read_timeout = timeout;
        self
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }
}

impl Default for ClientConfig {
    /// The local server at its default address.
    fn default() -> ClientConfig {
        ClientConfig::new(ClientConfig::DEFAULT_URL)
    }
}

/// The token stays out of debug output, and so out of logs.
impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes_and_empty_tokens_are_dropped() {
        let config = ClientConfig::new("http://127.0.0.1:8558/").with_token("");
        assert_eq!(config.base_url(), "http://127.0.0.1:8558");
        assert_eq!(config.token(), None);
        let config = config.with_token("s3cret");
        assert_eq!(config.token(), Some("s3cret"));
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
