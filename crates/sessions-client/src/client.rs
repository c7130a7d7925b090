//! Every route of the API as one blocking method.

use std::time::Duration;

use sessions_core::session_log::{Level, NewEntry, ReadRequest};
use sessions_core::{
    Metadata, NewSession, Session, SessionId, SessionUpdate, StatusFilter, Upserted,
};

use crate::transport::{Answer, Body, Method, Transport};
use crate::{Appended, ClientConfig, ClientError, Health, LogPage, wire};

/// A blocking client of one server. Cheap to share between threads
/// (`&Client` is enough); connections are kept alive and reused.
#[derive(Debug)]
pub struct Client {
    transport: Transport,
}

impl Client {
    /// A client for the server `config` names. Fails only when the base URL
    /// cannot be used; nothing is sent yet.
    pub fn new(config: ClientConfig) -> Result<Client, ClientError> {
        Ok(Client {
            transport: Transport::new(config)?,
        })
    }

    /// A client for the server named by `ZEN_SERVER` and `ZEN_TOKEN`; see
    /// [`ClientConfig::from_env`].
    pub fn from_env() -> Result<Client, ClientError> {
        Client::new(ClientConfig::from_env())
    }

    pub fn config(&self) -> &ClientConfig {
        self.transport.config()
    }

    /// Where the server's dashboard shows session `id` and its log.
    pub fn dashboard_url(&self, id: SessionId) -> String {
        format!("{}/dashboard/?session={id}", self.config().base_url())
    }

    /// `GET /health`: needs no token.
    pub fn health(&self) -> Result<Health, ClientError> {
        let answer = self.get_path("/health")?;
        self.parse(&answer, wire::parse_health)
    }

    /// `GET /sessions/?status=...`: active and all newest created first,
    /// ended most recently ended first.
    pub fn list(&self, filter: StatusFilter) -> Result<Vec<Session>, ClientError> {
        let status = match filter {
            StatusFilter::Active => "active",
            StatusFilter::Ended => "ended",
            StatusFilter::All => "all",
        };
        let answer = self.get_path(&format!("/sessions/?status={status}"))?;
        self.parse(&answer, wire::parse_session_list)
    }

    /// `POST /sessions/`: creates a session with an id the server mints.
    pub fn create(&self, session: &NewSession) -> Result<Session, ClientError> {
        let body = json_body(wire::new_session_body(session));
        let answer = self.send(Method::Post, "/sessions/", Some(body))?;
        self.parse(&answer, wire::parse_session)
    }

    /// `POST /sessions/{id}`: creates the session with this id (`appname`
    /// and `mode` are then required) or updates it: fields that are `Some`
    /// replace, the others stay. An ended session is refused (409).
    pub fn upsert(&self, id: SessionId, update: &SessionUpdate) -> Result<Upserted, ClientError> {
        let body = json_body(wire::session_update_body(update));
        let answer = self.send(Method::Post, &format!("/sessions/{id}"), Some(body))?;
        let session = self.parse(&answer, wire::parse_session)?;
        Ok(if answer.status == 201 {
            Upserted::Created(session)
        } else {
            Upserted::Updated(session)
        })
    }

    /// `PUT /sessions/{id}`: merges `patch` into the metadata as a JSON merge
    /// patch (RFC 7396): objects merge key by key, `null` removes a key.
    pub fn patch_metadata(&self, id: SessionId, patch: &Metadata) -> Result<Session, ClientError> {
        let body = json_body(wire::metadata_patch_body(patch));
        let answer = self.send(Method::Put, &format!("/sessions/{id}"), Some(body))?;
        self.parse(&answer, wire::parse_session)
    }

    /// `DELETE /sessions/{id}`: ends the session (ending it again changes
    /// nothing) and returns it; its log stays readable.
    pub fn end(&self, id: SessionId) -> Result<Session, ClientError> {
        let answer = self.send(Method::Delete, &format!("/sessions/{id}"), None)?;
        self.parse(&answer, wire::parse_session)
    }

    /// `GET /sessions/{id}`: an active or retained ended session.
    pub fn get(&self, id: SessionId) -> Result<Session, ClientError> {
        let answer = self.get_path(&format!("/sessions/{id}"))?;
        self.parse(&answer, wire::parse_session)
    }

    /// `GET /sessions/{id}/log`: a cursor, page or tail read that answers at
    /// once. `limit` and `count` above 10,000 read as 10,000.
    pub fn read_log(&self, id: SessionId, request: ReadRequest) -> Result<LogPage, ClientError> {
        let query = match request {
            ReadRequest::After { cursor, limit } => format!("cursor={cursor}&limit={limit}"),
            ReadRequest::Page { offset, limit } => format!("offset={offset}&limit={limit}"),
            ReadRequest::Tail { count } => format!("tail={count}"),
        };
        let answer = self.get_path(&format!("/sessions/{id}/log?{query}"))?;
        self.parse(&answer, wire::parse_log_page)
    }

    /// A long poll: entries after `cursor`, waiting up to `wait` (at most
    /// 60 s, whole seconds) for one to arrive. The answer has no entries when
    /// the time ran out; it comes at once when the session has ended.
    pub fn wait_for_log(
        &self,
        id: SessionId,
        cursor: u64,
        limit: usize,
        wait: Duration,
    ) -> Result<LogPage, ClientError> {
        let seconds = wait.as_secs().min(60);
        let path = format!("/sessions/{id}/log?cursor={cursor}&limit={limit}&wait={seconds}");
        let answer = self
            .transport
            .send(Method::Get, &path, None, Duration::from_secs(seconds))?;
        self.parse(&answer, wire::parse_log_page)
    }

    /// `POST /sessions/{id}/log` with text: every non-blank line becomes one
    /// entry at `level`, stamped with the server's time. All or nothing.
    pub fn append_text(
        &self,
        id: SessionId,
        level: Level,
        text: &str,
    ) -> Result<Appended, ClientError> {
        let body = Body {
            content_type: "text/plain; charset=utf-8",
            bytes: text.as_bytes().to_vec(),
        };
        let path = format!("/sessions/{id}/log?level={level}");
        let answer = self.send(Method::Post, &path, Some(body))?;
        self.parse(&answer, wire::parse_appended)
    }

    /// `POST /sessions/{id}/log` with JSON entries, in one request: all of
    /// them are appended, in order and together, or none is. See
    /// [`crate::EntryBatch`] to keep a batch within the server's limits.
    pub fn append_entries(
        &self,
        id: SessionId,
        entries: &[NewEntry],
    ) -> Result<Appended, ClientError> {
        let body = json_body(wire::entries_body(entries));
        let answer = self.send(Method::Post, &format!("/sessions/{id}/log"), Some(body))?;
        self.parse(&answer, wire::parse_appended)
    }

    fn get_path(&self, path: &str) -> Result<Answer, ClientError> {
        self.transport.send(Method::Get, path, None, Duration::ZERO)
    }

    fn send(&self, method: Method, path: &str, body: Option<Body>) -> Result<Answer, ClientError> {
        self.transport.send(method, path, body, Duration::ZERO)
    }

    fn parse<T>(
        &self,
        answer: &Answer,
        parse: impl FnOnce(&serde_json::Value) -> Result<T, String>,
    ) -> Result<T, ClientError> {
        parse(&answer.json).map_err(|reason| ClientError::InvalidResponse {
            url: self.config().base_url().to_owned(),
            reason,
        })
    }
}

fn json_body(bytes: Vec<u8>) -> Body {
    Body {
        content_type: "application/json",
        bytes,
    }
}
