//! The registry as a [`SessionStore`]: the embedded, in-memory store.
//!
//! Nothing here waits on IO, so every future is made ready: the work is done
//! when the method is called, and awaiting only hands the answer over.

use std::future::ready;
use std::sync::atomic::Ordering;

use jiff::Timestamp;
use sessions_log::{AppendOutcome, EntrySink, NewEntry, ReadRequest, ReadSummary};

use super::SessionRegistry;
use crate::store::{SessionStore, StoreFuture, StoreHealth, StoreStats, Wakeup};
use crate::{
    Limits, Metadata, NewSession, RegistryError, Session, SessionId, SessionUpdate, StatusFilter,
    Upserted,
};

fn answer<'a, T: Send + 'a>(result: Result<T, RegistryError>) -> StoreFuture<'a, T> {
    Box::pin(ready(result))
}

impl SessionStore for SessionRegistry {
    fn limits(&self) -> &Limits {
        SessionRegistry::limits(self)
    }

    fn create(&self, session: NewSession) -> StoreFuture<'_, Session> {
        answer(SessionRegistry::create(self, session))
    }

    fn upsert(&self, id: SessionId, update: SessionUpdate) -> StoreFuture<'_, Upserted> {
        answer(SessionRegistry::upsert(self, id, update))
    }

    fn patch_metadata<'a>(
        &'a self,
        id: SessionId,
        patch: &'a Metadata,
    ) -> StoreFuture<'a, Session> {
        answer(SessionRegistry::patch_metadata(self, id, patch))
    }

    fn end(&self, id: SessionId) -> StoreFuture<'_, Session> {
        answer(SessionRegistry::end(self, id))
    }

    fn get(&self, id: SessionId) -> StoreFuture<'_, Session> {
        answer(SessionRegistry::get(self, id))
    }

    fn append<'a>(
        &'a self,
        id: SessionId,
        entries: &'a [NewEntry],
    ) -> StoreFuture<'a, AppendOutcome> {
        answer(SessionRegistry::append(self, id, entries))
    }

    fn read_log<'a>(
        &'a self,
        id: SessionId,
        request: ReadRequest,
        sink: &'a mut (dyn EntrySink + Send),
    ) -> StoreFuture<'a, ReadSummary> {
        answer(SessionRegistry::read_log(self, id, request, |read| {
            read.write_to(sink)
        }))
    }

    fn wait_for_log(&self, id: SessionId, cursor: u64) -> StoreFuture<'_, Option<Wakeup>> {
        answer(
            SessionRegistry::wait_for_log(self, id, cursor)
                .map(|waiter| waiter.map(|waiter| Box::pin(waiter) as Wakeup)),
        )
    }

    fn end_idle(&self, idle_since: Timestamp) -> StoreFuture<'_, Vec<Session>> {
        answer(Ok(SessionRegistry::end_idle(self, idle_since)))
    }

    fn create_server_session(&self, session: NewSession) -> StoreFuture<'_, Session> {
        answer(SessionRegistry::create_server_session(self, session))
    }

    fn server_session_id(&self) -> Option<SessionId> {
        SessionRegistry::server_session_id(self)
    }

    fn list(&self, filter: StatusFilter) -> Vec<Session> {
        SessionRegistry::list(self, filter)
    }

    fn change_version(&self) -> u64 {
        SessionRegistry::change_version(self)
    }

    fn wait_for_change(&self, version: u64) -> Option<Wakeup> {
        SessionRegistry::wait_for_change(self, version).map(|waiter| Box::pin(waiter) as Wakeup)
    }

    fn stats(&self) -> StoreStats {
        let directory = self.read_directory();
        StoreStats {
            active_sessions: directory.active,
            ended_sessions: directory.ended.len(),
            log_bytes: self.log_memory(),
            entries_appended: self.entries_appended.load(Ordering::Relaxed),
            entries_evicted: self.entries_evicted.load(Ordering::Relaxed),
        }
    }

    fn health(&self) -> StoreHealth {
        StoreHealth {
            kind: "memory",
            ok: true,
            detail: String::new(),
        }
    }

    fn shut_down(&self) {
        SessionRegistry::shut_down(self);
    }

    fn is_shutting_down(&self) -> bool {
        SessionRegistry::is_shutting_down(self)
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}
