//! A blocking client for the zenserver Sessions API, and a `log` backend
//! that ships a program's log records into its session.
//!
//! [`Client`] has one method per route: listing, creating (with a minted id
//! or one of the caller's), updating, merging metadata, ending and reading
//! sessions, reading logs by cursor, page or tail (and long polls), appending
//! text or JSON entries, and the health check. It speaks in the types of
//! `sessions-core` ([`SessionId`], [`Session`], [`NewSession`],
//! [`SessionUpdate`], [`StatusFilter`], [`Level`], [`NewEntry`],
//! [`LogEntry`]): what the server keeps is what the client hands out. The
//! JSON is converted by hand in `wire`, as the server does on its side, so
//! the core stays free of serialization. Errors are a [`ClientError`] that
//! carries the server's problem+json `detail`, or says why no answer came.
//!
//! [`SessionLogger`] is the `log` backend: records go through a bounded
//! buffer to one background thread that appends them in batches; logging
//! never blocks, and what does not fit is counted and reported.
//!
//! ```no_run
//! use sessions_client::{Client, ClientConfig, Level, NewSession, ReadRequest};
//!
//! let client = Client::new(ClientConfig::new("http://127.0.0.1:8558"))?;
//! let session = client.create(&NewSession {
//!     appname: "cooker".into(),
//!     mode: "batch".into(),
//!     ..NewSession::default()
//! })?;
//! client.append_text(session.id, Level::Info, "cooking 1432 packages\nshaders warm")?;
//! let page = client.read_log(session.id, ReadRequest::Tail { count: 10 })?;
//! assert_eq!(page.entries.len(), 2);
//! client.end(session.id)?;
//! # Ok::<(), sessions_client::ClientError>(())
//! ```
//!
//! Blocking on purpose: the programs this is for (build tools, editors'
//! helpers, command-line tools) have no async runtime, and should not need
//! one to log. This crate must never depend on actix, tokio or any other
//! runtime, nor on `sessions-http`: a tidy test checks.

mod batch;
mod client;
mod config;
mod error;
mod logger;
mod model;
mod transport;
pub mod wire;

pub use batch::{BatchLimits, EntryBatch, MAX_MESSAGE_BYTES};
pub use client::Client;
pub use config::ClientConfig;
pub use error::ClientError;
pub use logger::{
    LoggerConfig, LoggerError, LoggerHandle, LoggerStats, REGISTRATION_WAIT, SessionLogger,
};
pub use model::{Appended, Health, LogPage};
pub use sessions_core::session_log::truncate_message;

/// The types the client speaks in, re-exported so callers need not depend
/// on `sessions-core` themselves.
pub use sessions_core::session_log::{EntryData, Level, LogEntry, NewEntry, ReadRequest};
pub use sessions_core::{
    IdMinter, Metadata, NewSession, Session, SessionId, SessionStatus, SessionUpdate, StatusFilter,
    Upserted,
};
