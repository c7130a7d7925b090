//! The one boundary between the HTTP adapter and wherever sessions live.
//!
//! The in-memory `SessionRegistry` is one store; a Redis store is another.
//! The adapter is handed an `Arc<dyn SessionStore>` and never learns which.
//! Operations that may need IO return boxed futures, so a store may do its
//! IO on whatever runtime it likes while its callers await it from theirs;
//! the memory store answers them ready-made. What a watcher of the session
//! list needs (the list, its version, waiting for it to change) is answered
//! at once from the store's own copy: a store that keeps its sessions
//! elsewhere keeps a copy of the directory current on every node.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use jiff::Timestamp;
use sessions_log::{AppendOutcome, EntrySink, NewEntry, ReadRequest, ReadSummary};

use crate::{
    Limits, Metadata, NewSession, RegistryError, Session, SessionId, SessionUpdate, StatusFilter,
    Upserted,
};

/// What a store operation gives back, once it is done.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RegistryError>> + Send + 'a>>;

/// Resolves when what it was made for may have changed: a log grew, a
/// session ended or left, the session list changed, or the store is shutting
/// down. It carries no result: look again to see what happened, and expect
/// an occasional wake-up with nothing new. Put a timeout around it.
pub type Wakeup = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where sessions and their logs are kept, with the rules of the domain
/// applied: every limit, all-or-nothing batches that never interleave,
/// per-session `seq` from 1, merge-patch metadata, idempotent ends.
///
/// Every method takes `&self` and may be called from many threads at once.
pub trait SessionStore: Send + Sync + fmt::Debug {
    fn limits(&self) -> &Limits;

    /// Creates a session with a freshly minted id.
    fn create(&self, session: NewSession) -> StoreFuture<'_, Session>;

    /// Creates the session `id`, or updates it if it is active. Updating an
    /// ended session is refused.
    fn upsert(&self, id: SessionId, update: SessionUpdate) -> StoreFuture<'_, Upserted>;

    /// Merges `patch` into an active session's metadata (RFC 7396), all or
    /// nothing.
    fn patch_metadata<'a>(&'a self, id: SessionId, patch: &'a Metadata)
    -> StoreFuture<'a, Session>;

    /// Ends an active session; ending an ended one returns it unchanged.
    fn end(&self, id: SessionId) -> StoreFuture<'_, Session>;

    fn get(&self, id: SessionId) -> StoreFuture<'_, Session>;

    /// Appends a batch to an active session's log: all of it or nothing,
    /// never interleaved with another batch.
    fn append<'a>(
        &'a self,
        id: SessionId,
        entries: &'a [NewEntry],
    ) -> StoreFuture<'a, AppendOutcome>;

    /// Reads a session's log (active or retained ended), handing the entries
    /// to `sink` oldest first, and says where the read leaves off.
    fn read_log<'a>(
        &'a self,
        id: SessionId,
        request: ReadRequest,
        sink: &'a mut (dyn EntrySink + Send),
    ) -> StoreFuture<'a, ReadSummary>;

    /// A wake-up for entries newer than `cursor`, or `None` when waiting
    /// would be pointless: such entries exist already, the session has
    /// ended, or the store is shutting down.
    fn wait_for_log(&self, id: SessionId, cursor: u64) -> StoreFuture<'_, Option<Wakeup>>;

    /// Ends every active session (the server's own excepted) with no change
    /// since `idle_since`, each once, and returns them.
    fn end_idle(&self, idle_since: Timestamp) -> StoreFuture<'_, Vec<Session>>;

    /// Creates this server's own session: it cannot be ended, and it is the
    /// one session marked `server` that this server logs into.
    fn create_server_session(&self, session: NewSession) -> StoreFuture<'_, Session>;

    fn server_session_id(&self) -> Option<SessionId>;

    /// The sessions `filter` selects, in its order (see [`StatusFilter`]).
    fn list(&self, filter: StatusFilter) -> Vec<Session>;

    /// A number that grows whenever anything a watcher of the session list
    /// could see changes.
    fn change_version(&self) -> u64;

    /// A wake-up for the next change after `version`, or `None` when there
    /// is one already or the store is shutting down.
    fn wait_for_change(&self, version: u64) -> Option<Wakeup>;

    /// Counts for `/health` and `/metrics`.
    fn stats(&self) -> StoreStats;

    /// Whether the store answers, for `/health`.
    fn health(&self) -> StoreHealth;

    /// Wakes every waiter and makes new waits return at once, so the server
    /// can stop without waiting for them to time out.
    fn shut_down(&self);

    fn is_shutting_down(&self) -> bool;

    /// The server stops for good, after its last request: a store shared
    /// by several servers ends this one's own session, which no one else
    /// would end but after a heartbeat timeout. The memory store, which
    /// goes with its server, has nothing to do.
    fn close(&self) -> StoreFuture<'_, ()>;
}

/// What a store holds and has taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    pub active_sessions: usize,
    pub ended_sessions: usize,
    /// Bytes retained by all logs together, as the global log budget counts
    /// them.
    pub log_bytes: usize,
    /// Entries appended through this server since it started.
    pub entries_appended: u64,
    /// Entries evicted to keep logs within their limits (not those of
    /// sessions forgotten whole) since this server started.
    pub entries_evicted: u64,
}

/// Whether a store answers, and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreHealth {
    /// `memory`, `redis`, `redis-cluster`.
    pub kind: &'static str,
    pub ok: bool,
    /// Why it is not ok, or where it is; empty when there is nothing to say.
    pub detail: String,
}
