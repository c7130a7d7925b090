//! The domain model of zenserver Sessions, in parts for different kinds of
//! users.
//!
//! **The model**, for everyone (servers, clients, tools): a *session* is one
//! client process talking to the server (an editor, a build agent, a CLI
//! tool) with its name and mode, free-form metadata and a log. Here are its
//! ids ([`SessionId`], and [`IdMinter`] for clients that name their session
//! before it exists), snapshots ([`Session`]), what clients ask for
//! ([`NewSession`], [`SessionUpdate`]), [`Limits`], RFC 7396 merge patches,
//! and the log's entry types ([`session_log`]).
//!
//! **The store boundary**, for servers and the stores they run on:
//! [`SessionStore`] is everything the HTTP adapter may ask of wherever
//! sessions live, as runtime-agnostic boxed futures, so a store may do IO on
//! its own runtime. The registry below is the in-memory store; others (Redis)
//! live in their own crates.
//!
//! **The registry**, for servers (the `registry` feature, on by default;
//! client crates turn it off): `SessionRegistry` holds every active session
//! and a bounded history of ended ones, applies the rules for creating,
//! updating and ending them, and keeps all of it within [`Limits`], counts
//! and bytes alike. Concurrency is designed around the hot path, appending
//! to a log: the registry's directory is behind a read-write lock that an
//! append holds only long enough to find its session, and each session has
//! its own lock, so appends to different sessions never wait for each other.
//! Waiting for new log entries (long polls) is offered as a runtime-agnostic
//! future, `Waiter`; there is no executor, timer or thread in here.
//!
//! **Log records** (the `log-records` feature), for programs that ship their
//! own `log` records into a session: [`log_records`] turns a record into an
//! entry and queues it without ever making the logging thread wait.
//!
//! This crate never does IO, never logs, and knows nothing about HTTP or actix:
//! errors are typed ([`RegistryError`]), and turning them into responses is the
//! business of the adapter that serves them.

mod error;
mod id;
mod limits;
#[cfg(feature = "log-records")]
pub mod log_records;
mod merge_patch;
#[cfg(feature = "registry")]
mod registry;
mod rules;
mod session;
mod store;

pub use error::{RegistryError, ValidationError};
pub use id::{IdMinter, ParseSessionIdError, SessionId};
pub use limits::{Limits, MAX_JSON_DEPTH, json_depth};
pub use merge_patch::{merge_patch, merge_patch_object};
#[cfg(feature = "registry")]
pub use registry::{SessionRegistry, Waiter};
pub use rules::{check_batch, encode_metadata};
pub use session::{
    CompactMetadata, Metadata, NewSession, Session, SessionStatus, SessionUpdate, StatusFilter,
    Upserted, millisecond_now,
};
pub use store::{SessionStore, StoreFuture, StoreHealth, StoreStats, Wakeup};

/// The log types, re-exported so users of this crate need not name a second
/// one. Not `log`, which would shadow the `log` crate in every user's code.
pub use sessions_log as session_log;
