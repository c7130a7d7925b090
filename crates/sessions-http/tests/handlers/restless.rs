//! A store that wakes its long polls for nothing, as a store shared by
//! several servers may (another node's news about the session, a reload):
//! a long poll must go on waiting until something arrives or its time is
//! up, not answer empty at the first wake-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::StatusCode;
use jiff::Timestamp;
use sessions_core::session_log::{AppendOutcome, EntrySink, NewEntry, ReadRequest, ReadSummary};
use sessions_core::{
    Limits, Metadata, NewSession, Session, SessionId, SessionRegistry, SessionStore, SessionUpdate,
    StatusFilter, StoreFuture, StoreHealth, StoreStats, Upserted, Wakeup,
};

use super::{create, long_poll_woken_by, state_over};

/// The memory store, but each wait for a log wakes at once the first
/// three times.
#[derive(Debug)]
struct RestlessStore {
    inner: SessionRegistry,
    false_alarms: AtomicUsize,
}

impl SessionStore for RestlessStore {
    fn limits(&self) -> &Limits {
        self.inner.limits()
    }
    fn create(&self, session: NewSession) -> StoreFuture<'_, Session> {
        SessionStore::create(&self.inner, session)
    }
    fn upsert(&self, id: SessionId, update: SessionUpdate) -> StoreFuture<'_, Upserted> {
        SessionStore::upsert(&self.inner, id, update)
    }
    fn patch_metadata<'a>(
        &'a self,
        id: SessionId,
        patch: &'a Metadata,
    ) -> StoreFuture<'a, Session> {
        SessionStore::patch_metadata(&self.inner, id, patch)
    }
    fn end(&self, id: SessionId) -> StoreFuture<'_, Session> {
        SessionStore::end(&self.inner, id)
    }
    fn get(&self, id: SessionId) -> StoreFuture<'_, Session> {
        SessionStore::get(&self.inner, id)
    }
    fn append<'a>(
        &'a self,
        id: SessionId,
        entries: &'a [NewEntry],
    ) -> StoreFuture<'a, AppendOutcome> {
        SessionStore::append(&self.inner, id, entries)
    }
    fn read_log<'a>(
        &'a self,
        id: SessionId,
        request: ReadRequest,
        sink: &'a mut (dyn EntrySink + Send),
    ) -> StoreFuture<'a, ReadSummary> {
        SessionStore::read_log(&self.inner, id, request, sink)
    }
    fn wait_for_log(&self, id: SessionId, cursor: u64) -> StoreFuture<'_, Option<Wakeup>> {
        if self.false_alarms.fetch_add(1, Ordering::Relaxed) < 3 {
            let woken_at_once: Wakeup = Box::pin(std::future::ready(()));
            return Box::pin(std::future::ready(Ok(Some(woken_at_once))));
        }
        SessionStore::wait_for_log(&self.inner, id, cursor)
    }
    fn end_idle(&self, idle_since: Timestamp) -> StoreFuture<'_, Vec<Session>> {
        SessionStore::end_idle(&self.inner, idle_since)
    }
    fn create_server_session(&self, session: NewSession) -> StoreFuture<'_, Session> {
        SessionStore::create_server_session(&self.inner, session)
    }
    fn server_session_id(&self) -> Option<SessionId> {
        SessionStore::server_session_id(&self.inner)
    }
    fn list(&self, filter: StatusFilter) -> Vec<Session> {
        SessionStore::list(&self.inner, filter)
    }
    fn change_version(&self) -> u64 {
        SessionStore::change_version(&self.inner)
    }
    fn wait_for_change(&self, version: u64) -> Option<Wakeup> {
        SessionStore::wait_for_change(&self.inner, version)
    }
    fn stats(&self) -> StoreStats {
        SessionStore::stats(&self.inner)
    }
    fn health(&self) -> StoreHealth {
        SessionStore::health(&self.inner)
    }
    fn shut_down(&self) {
        SessionStore::shut_down(&self.inner);
    }
    fn is_shutting_down(&self) -> bool {
        SessionStore::is_shutting_down(&self.inner)
    }
    fn close(&self) -> StoreFuture<'_, ()> {
        SessionStore::close(&self.inner)
    }
}

#[actix_web::test]
async fn a_long_poll_woken_for_nothing_waits_on_for_the_entry() {
    let store = RestlessStore {
        inner: SessionRegistry::new(Limits::default()),
        false_alarms: AtomicUsize::new(0),
    };
    let state = state_over(Arc::new(store), None);
    let id = create(&state, "builder").await;
    let (polled, appended) = long_poll_woken_by(&state, &id, "at last").await;
    assert_eq!(appended.status, StatusCode::OK);
    let polled = polled.json();
    assert_eq!(
        polled["entries"][0]["message"], "at last",
        "the poll answered its false alarm: {polled}"
    );
}
