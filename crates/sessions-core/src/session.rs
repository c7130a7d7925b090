//! Sessions as the rest of the world sees them, and the changes it asks for.

use std::sync::Arc;

use jiff::Timestamp;
use sessions_log::LogSummary;

use crate::{SessionId, ValidationError};

/// A session's free-form properties: a JSON object.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// A copy of one session's state, taken at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub appname: String,
    pub mode: String,
    pub jobid: Option<String>,
    pub metadata: CompactMetadata,
    pub created: Timestamp,
    /// Last change of any kind: properties, metadata, a log append, the end.
    pub updated: Timestamp,
    pub ended: Option<Timestamp>,
    /// True only for the server's own session.
    pub server: bool,
    pub log: LogSummary,
}

impl Session {
    pub fn status(&self) -> SessionStatus {
        if self.ended.is_some() {
            SessionStatus::Ended
        } else {
            SessionStatus::Active
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    Active,
    Ended,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::Ended => "ended",
        }
    }
}

/// Now, at the millisecond precision every timestamp of the model has: the
/// one clock of the server (sessions, entries without a timestamp of their
/// own, the server's own log).
pub fn millisecond_now() -> Timestamp {
    Timestamp::from_millisecond(Timestamp::now().as_millisecond()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Which sessions a listing returns, and in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Active sessions, newest created first.
    #[default]
    Active,
    /// Retained ended sessions, most recently ended first.
    Ended,
    /// Both, newest created first.
    All,
}

impl StatusFilter {
    pub fn parse(name: &str) -> Option<StatusFilter> {
        match name {
            "active" => Some(StatusFilter::Active),
            "ended" => Some(StatusFilter::Ended),
            "all" => Some(StatusFilter::All),
            _ => None,
        }
    }
}

/// The properties of a session about to be created.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSession {
    pub appname: String,
    pub mode: String,
    pub jobid: Option<String>,
    pub metadata: Metadata,
}

/// A create-or-update request: fields that are `Some` replace, fields that are
/// `None` stay as they are. `appname` and `mode` are required to create.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionUpdate {
    pub appname: Option<String>,
    pub mode: Option<String>,
    /// `Some(None)` removes the job id.
    pub jobid: Option<Option<String>>,
    /// Replaces the metadata as a whole; see
    /// `SessionRegistry::patch_metadata` to merge.
    pub metadata: Option<Metadata>,
}

impl SessionUpdate {
    /// The session this update would create, if it names everything a new
    /// session needs.
    pub fn into_new_session(self) -> Result<NewSession, ValidationError> {
        Ok(NewSession {
            appname: self
                .appname
                .ok_or(ValidationError::MissingField("appname"))?,
            mode: self.mode.ok_or(ValidationError::MissingField("mode"))?,
            jobid: self.jobid.flatten(),
            metadata: self.metadata.unwrap_or_default(),
        })
    }
}

/// Metadata as it is kept: compact JSON text of an object, shared between
/// the registry and every snapshot taken of it.
///
/// Kept as text because its size is then exactly what the limit measures
/// (parsed JSON can take many times its text in memory), and because
/// responses copy it out verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactMetadata(Arc<str>);

impl CompactMetadata {
    pub fn encode(metadata: &Metadata) -> CompactMetadata {
        CompactMetadata(
            serde_json::Value::Object(metadata.clone())
                .to_string()
                .into(),
        )
    }

    /// The JSON text, always an object.
    pub fn as_json(&self) -> &str {
        &self.0
    }

    /// Bytes of the compact JSON text.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.as_ref() == "{}"
    }

    /// The metadata as a JSON object.
    pub fn decode(&self) -> Metadata {
        // Only `encode` builds these, from an object: parsing cannot fail.
        serde_json::from_str(&self.0).unwrap_or_default()
    }
}

impl Default for CompactMetadata {
    fn default() -> CompactMetadata {
        CompactMetadata("{}".into())
    }
}

/// Whether a create-or-update created or updated.
#[derive(Debug, Clone, PartialEq)]
pub enum Upserted {
    Created(Session),
    Updated(Session),
}
