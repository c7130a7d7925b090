//! The store's side of `/metrics`: every operation that may do IO, timed
//! and its failures counted, whatever the store. `MeasuredStore` wraps the
//! store the binary hands over, so no handler has to remember to measure.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use jiff::Timestamp;
use sessions_core::session_log::{AppendOutcome, EntrySink, NewEntry, ReadRequest, ReadSummary};
use sessions_core::{
    Limits, Metadata, NewSession, RegistryError, Session, SessionId, SessionStore, SessionUpdate,
    StatusFilter, StoreFuture, StoreHealth, StoreStats, Upserted, Wakeup,
};

use super::histogram::Histogram;
use super::write_histogram;

/// The operations measured, in the order of [`StoreTable`]'s arrays: a
/// fixed set, so the label values are bounded.
const OPERATIONS: [&str; 11] = [
    "create",
    "upsert",
    "patch_metadata",
    "end",
    "get",
    "append",
    "read_log",
    "wait_for_log",
    "end_idle",
    "create_server_session",
    "close",
];

#[derive(Clone, Copy)]
enum Operation {
    Create,
    Upsert,
    PatchMetadata,
    End,
    Get,
    Append,
    ReadLog,
    WaitForLog,
    EndIdle,
    CreateServerSession,
    Close,
}

/// Latency and failures per operation.
#[derive(Debug, Default)]
pub(crate) struct StoreTable {
    latency: [Histogram; OPERATIONS.len()],
    /// Operations that failed because the store was unavailable (503), as
    /// opposed to answers such as "not found", which are the store working.
    errors: [AtomicU64; OPERATIONS.len()],
}

impl StoreTable {
    pub(crate) fn render(&self, out: &mut String) {
        out.push_str(
            "# HELP zenserver_store_errors_total Store operations that failed because the store was unavailable.\n\
             # TYPE zenserver_store_errors_total counter\n",
        );
        for (name, errors) in OPERATIONS.iter().zip(&self.errors) {
            let _ = writeln!(
                out,
                "zenserver_store_errors_total{{operation=\"{name}\"}} {}",
                errors.load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP zenserver_store_operation_duration_seconds Time the store took to answer, by operation.\n\
             # TYPE zenserver_store_operation_duration_seconds histogram\n",
        );
        for (name, histogram) in OPERATIONS.iter().zip(&self.latency) {
            let labels = format!("operation=\"{name}\"");
            write_histogram(
                out,
                "zenserver_store_operation_duration_seconds",
                &labels,
                histogram,
            );
        }
    }
}

/// A store whose operations are measured into a [`StoreTable`].
#[derive(Debug)]
pub(crate) struct MeasuredStore {
    pub(crate) inner: Arc<dyn SessionStore>,
    pub(crate) table: Arc<StoreTable>,
}

impl MeasuredStore {
    fn measure<'a, T: 'a>(
        &'a self,
        operation: Operation,
        future: StoreFuture<'a, T>,
    ) -> StoreFuture<'a, T> {
        let started = Instant::now();
        Box::pin(async move {
            let answer = future.await;
            let index = operation as usize;
            self.table.latency[index].observe(started.elapsed());
            if matches!(answer, Err(RegistryError::Unavailable(_))) {
                self.table.errors[index].fetch_add(1, Ordering::Relaxed);
            }
            answer
        })
    }
}

impl SessionStore for MeasuredStore {
    fn limits(&self) -> &Limits {
        self.inner.limits()
    }

    fn create(&self, session: NewSession) -> StoreFuture<'_, Session> {
        self.measure(Operation::Create, self.inner.create(session))
    }

    fn upsert(&self, id: SessionId, update: SessionUpdate) -> StoreFuture<'_, Upserted> {
        self.measure(Operation::Upsert, self.inner.upsert(id, update))
    }

    fn patch_metadata<'a>(
        &'a self,
        id: SessionId,
        patch: &'a Metadata,
    ) -> StoreFuture<'a, Session> {
        self.measure(
            Operation::PatchMetadata,
            self.inner.patch_metadata(id, patch),
        )
    }

    fn end(&self, id: SessionId) -> StoreFuture<'_, Session> {
        self.measure(Operation::End, self.inner.end(id))
    }

    fn get(&self, id: SessionId) -> StoreFuture<'_, Session> {
        self.measure(Operation::Get, self.inner.get(id))
    }

    fn append<'a>(
        &'a self,
        id: SessionId,
        entries: &'a [NewEntry],
    ) -> StoreFuture<'a, AppendOutcome> {
        self.measure(Operation::Append, self.inner.append(id, entries))
    }

    fn read_log<'a>(
        &'a self,
        id: SessionId,
        request: ReadRequest,
        sink: &'a mut (dyn EntrySink + Send),
    ) -> StoreFuture<'a, ReadSummary> {
        self.measure(Operation::ReadLog, self.inner.read_log(id, request, sink))
    }

    fn wait_for_log(&self, id: SessionId, cursor: u64) -> StoreFuture<'_, Option<Wakeup>> {
        self.measure(Operation::WaitForLog, self.inner.wait_for_log(id, cursor))
    }

    fn end_idle(&self, idle_since: Timestamp) -> StoreFuture<'_, Vec<Session>> {
        self.measure(Operation::EndIdle, self.inner.end_idle(idle_since))
    }

    fn create_server_session(&self, session: NewSession) -> StoreFuture<'_, Session> {
        self.measure(
            Operation::CreateServerSession,
            self.inner.create_server_session(session),
        )
    }

    fn server_session_id(&self) -> Option<SessionId> {
        self.inner.server_session_id()
    }

    fn list(&self, filter: StatusFilter) -> Vec<Session> {
        self.inner.list(filter)
    }

    fn change_version(&self) -> u64 {
        self.inner.change_version()
    }

    fn wait_for_change(&self, version: u64) -> Option<Wakeup> {
        self.inner.wait_for_change(version)
    }

    fn stats(&self) -> StoreStats {
        self.inner.stats()
    }

    fn health(&self) -> StoreHealth {
        self.inner.health()
    }

    fn shut_down(&self) {
        self.inner.shut_down();
    }

    fn is_shutting_down(&self) -> bool {
        self.inner.is_shutting_down()
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        self.measure(Operation::Close, self.inner.close())
    }
}
