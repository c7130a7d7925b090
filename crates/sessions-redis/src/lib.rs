//! The Redis and Redis Cluster store of zenserver Sessions: every node that
//! names the same Redis and prefix serves one set of sessions, and sessions
//! and logs outlive the nodes.
//!
//! Each change is one atomic step in Redis (a Lua script, `scripts.rs`) on
//! the keys of one session, which share a cluster slot (`keys.rs`), and is
//! published on the deployment's change channel in the same step. Every node
//! keeps its own copy of the session directory from those messages
//! (`directory.rs`, `follow.rs`), which serves the list, the WebSocket
//! watchers and the counts; everything else is asked of Redis.
//!
//! The store runs its IO on a tokio runtime of its own, so its futures can
//! be awaited from actix's workers or from a plain thread alike. While Redis
//! cannot be reached, every operation that needs it fails at once with
//! `RegistryError::Unavailable` and nothing is half-written; the connection
//! is made again by itself.
//!
//! All Redis code of the workspace lives here. This crate must never know
//! about HTTP; it implements `SessionStore` and nothing else depends on its
//! inside.

mod codec;
mod connection;
mod directory;
mod follow;
mod health;
mod keys;
mod scripts;
mod store;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::Timestamp;
use sessions_core::session_log::{AppendOutcome, EntrySink, NewEntry, ReadRequest, ReadSummary};
use sessions_core::{
    Limits, Metadata, NewSession, RegistryError, Session, SessionId, SessionStore, SessionUpdate,
    StatusFilter, StoreFuture, StoreHealth, StoreStats, Upserted, Wakeup,
};

pub use crate::connection::StoreAddress;
pub use crate::scripts::ENTRY_OVERHEAD_BYTES;
pub use crate::store::RedisStore;

use crate::connection::Connection;
use crate::store::{EndOutcome, Ending, Joined, Shared, batch_arguments, deliver};

/// Threads of the store's runtime: one per two cores. The runtime only
/// waits on Redis and reads its answers, about a quarter of a node's CPU
/// per request; more threads than that take cores from actix's workers
/// and make them wake each other. On two cores one thread served 8 % more
/// single appends and 15 % more cursor reads than two (docs/performance.md).
fn runtime_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1))
}

/// How a node takes part in its deployment.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// What every key of the deployment starts with (`--store-prefix`):
    /// nodes with the same Redis and prefix serve one set of sessions.
    pub prefix: String,
    /// How long a node may go without a heartbeat (one a second) before
    /// the others end its server session (`--node-timeout`).
    pub node_timeout: Duration,
    /// Replicas that must have an append before it is answered (Redis
    /// `WAIT`, up to [`REPLICA_WAIT`]); 0 answers at once
    /// (`--store-replicas`).
    pub replicas: u32,
}

/// How long an append waits for its replicas before it is answered 503.
pub const REPLICA_WAIT: Duration = Duration::from_secs(1);

impl RedisStore {
    /// A store at `address`. Connects in the background: a store whose
    /// Redis is away opens all the same, reports itself unavailable and
    /// serves once Redis answers.
    pub fn open(
        address: StoreAddress,
        options: &RedisOptions,
        limits: Limits,
    ) -> Result<RedisStore, String> {
        let prefix = &options.prefix;
        if prefix.is_empty() || prefix.contains(['{', '}', ' ']) {
            return Err(format!(
                "--store-prefix `{prefix}`: use a non-empty name without braces or spaces"
            ));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(runtime_threads())
            .thread_name("redis-store")
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start the store's runtime: {error}"))?;
        let (pushes, pushed) = tokio::sync::mpsc::unbounded_channel();
        let shared = {
            let _inside = runtime.enter();
            let connection = Connection::open(&address, None::<fn(_) -> Result<(), ()>>)
                .map_err(|error| error.to_string())?;
            // A fresh connection each time the subscription is made again.
            let subscriber_address = address.clone();
            let open_subscriber = move || {
                let pushes = pushes.clone();
                Connection::open(
                    &subscriber_address,
                    Some(move |push| pushes.send(push).map_err(drop)),
                )
            };
            let shared = Arc::new(Shared::new(limits, address, options, connection));
            runtime.spawn(follow::follow_changes(Arc::clone(&shared), pushed));
            runtime.spawn(follow::subscribe(Arc::clone(&shared), open_subscriber));
            runtime.spawn(follow::keep_in_touch(Arc::clone(&shared)));
            shared
        };
        Ok(RedisStore {
            shared,
            runtime: Some(runtime),
        })
    }
}

impl SessionStore for RedisStore {
    fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    fn create(&self, session: NewSession) -> StoreFuture<'_, Session> {
        Box::pin(self.spawn(Arc::clone(&self.shared).create(session, false)))
    }

    fn upsert(&self, id: SessionId, update: SessionUpdate) -> StoreFuture<'_, Upserted> {
        Box::pin(self.spawn(Arc::clone(&self.shared).upsert(id, update)))
    }

    fn patch_metadata<'a>(
        &'a self,
        id: SessionId,
        patch: &'a Metadata,
    ) -> StoreFuture<'a, Session> {
        Box::pin(self.spawn(Arc::clone(&self.shared).patch_metadata(id, patch.clone())))
    }

    fn end(&self, id: SessionId) -> StoreFuture<'_, Session> {
        let ending = self.spawn(Arc::clone(&self.shared).end(id, Ending::Asked));
        Box::pin(async move {
            match ending.await? {
                EndOutcome::Ended(session) | EndOutcome::AlreadyEnded(session) => Ok(session),
                // An asked end keeps nothing: no rule to keep it by.
                EndOutcome::Kept => Err(RegistryError::NotFound(id)),
            }
        })
    }

    fn get(&self, id: SessionId) -> StoreFuture<'_, Session> {
        Box::pin(self.spawn(Arc::clone(&self.shared).get(id)))
    }

    fn append<'a>(
        &'a self,
        id: SessionId,
        entries: &'a [NewEntry],
    ) -> StoreFuture<'a, AppendOutcome> {
        let arguments = match batch_arguments(entries, &self.shared.limits) {
            Ok(arguments) => arguments,
            Err(error) => return Box::pin(std::future::ready(Err(error))),
        };
        match self.shared.join_append(id, arguments) {
            Joined::Turn(turn, batch) => Box::pin(self.spawn(turn.append(batch))),
            Joined::Queued(queued) => Box::pin(queued.answer()),
        }
    }

    fn read_log<'a>(
        &'a self,
        id: SessionId,
        request: ReadRequest,
        sink: &'a mut (dyn EntrySink + Send),
    ) -> StoreFuture<'a, ReadSummary> {
        let reading = self.spawn(Arc::clone(&self.shared).read(id, request));
        Box::pin(async move { deliver(&reading.await?, id, request, sink) })
    }

    fn wait_for_log(&self, id: SessionId, cursor: u64) -> StoreFuture<'_, Option<Wakeup>> {
        // Listen before looking, so an append in between still wakes it.
        let wakeup = self.shared.directory.listen_to_log(id);
        let looking = self.spawn(Arc::clone(&self.shared).worth_waiting(id, cursor));
        Box::pin(async move { Ok(looking.await?.then_some(wakeup)) })
    }

    fn end_idle(&self, idle_since: Timestamp) -> StoreFuture<'_, Vec<Session>> {
        let candidates = self.shared.directory.idle_since(idle_since);
        let shared = Arc::clone(&self.shared);
        Box::pin(self.spawn(async move {
            let mut ended = Vec::new();
            for id in candidates {
                // Each node may try; the script ends each session once,
                // and only the call that ended it reports it.
                if let Ok(EndOutcome::Ended(session)) = Arc::clone(&shared)
                    .end(id, Ending::Idle { since: idle_since })
                    .await
                {
                    ended.push(session);
                }
            }
            Ok(ended)
        }))
    }

    fn create_server_session(&self, session: NewSession) -> StoreFuture<'_, Session> {
        let shared = Arc::clone(&self.shared);
        let creating = self.spawn(async move {
            let session = Arc::clone(&shared).create(session, true).await?;
            let _ = shared.server_session.set(session.id);
            // In the index of servers at once, so it is watched over.
            shared.beat().await;
            Ok(session)
        });
        Box::pin(creating)
    }

    fn server_session_id(&self) -> Option<SessionId> {
        self.shared.server_session.get().copied()
    }

    fn list(&self, filter: StatusFilter) -> Vec<Session> {
        self.shared.directory.list(filter)
    }

    fn change_version(&self) -> u64 {
        self.shared.directory.version()
    }

    fn wait_for_change(&self, version: u64) -> Option<Wakeup> {
        if self.is_shutting_down() {
            return None;
        }
        self.shared.directory.wait_for_change(version)
    }

    fn stats(&self) -> StoreStats {
        let (active_sessions, ended_sessions, log_bytes) = self.shared.directory.counts();
        StoreStats {
            active_sessions,
            ended_sessions,
            log_bytes,
            entries_appended: self.shared.appended.load(Ordering::Relaxed),
            entries_evicted: self.shared.evicted.load(Ordering::Relaxed),
        }
    }

    fn health(&self) -> StoreHealth {
        let problem = self.shared.health.problem();
        StoreHealth {
            kind: self.shared.address.kind(),
            ok: problem.is_none(),
            detail: problem.unwrap_or_default(),
        }
    }

    fn shut_down(&self) {
        self.shared.shutting_down.store(true, Ordering::Release);
        self.shared.directory.wake_all();
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        let shared = Arc::clone(&self.shared);
        let ending = self.spawn(async move {
            shared.end_own_session().await;
            Ok(())
        });
        Box::pin(ending)
    }

    fn is_shutting_down(&self) -> bool {
        self.shared.shutting_down.load(Ordering::Acquire)
    }
}
