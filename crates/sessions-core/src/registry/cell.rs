//! One session inside the registry: its lock and what it guards.

use std::sync::{Mutex, MutexGuard, PoisonError};

use event_listener::Event;
use jiff::Timestamp;
use sessions_log::LogRing;

use crate::{CompactMetadata, Session, SessionId};

/// A session's home in the registry. Fields that never change sit outside the
/// lock, so listings and lookups can read them freely.
#[derive(Debug)]
pub(super) struct SessionCell {
    pub(super) id: SessionId,
    pub(super) created: Timestamp,
    pub(super) server: bool,
    state: Mutex<SessionState>,
    /// Notified when entries are appended, when the session ends, when it leaves
    /// the registry and when the registry shuts down: whatever a long poll on
    /// this log must stop waiting for.
    pub(super) log_changed: Event,
}

/// What a session's lock guards.
#[derive(Debug)]
pub(super) struct SessionState {
    pub(super) appname: String,
    pub(super) mode: String,
    pub(super) jobid: Option<String>,
    pub(super) metadata: CompactMetadata,
    pub(super) updated: Timestamp,
    pub(super) ended: Option<Timestamp>,
    pub(super) log: LogRing,
}

impl SessionCell {
    pub(super) fn new(
        id: SessionId,
        created: Timestamp,
        server: bool,
        state: SessionState,
    ) -> SessionCell {
        SessionCell {
            id,
            created,
            server,
            state: Mutex::new(state),
            log_changed: Event::new(),
        }
    }

    /// Locks the session. A panic while the lock was held cannot leave the
    /// state half-changed (every change is validated before it is applied), so
    /// a poisoned lock is simply taken over.
    pub(super) fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn snapshot(&self) -> Session {
        self.snapshot_locked(&self.lock())
    }

    pub(super) fn snapshot_locked(&self, state: &SessionState) -> Session {
        Session {
            id: self.id,
            appname: state.appname.clone(),
            mode: state.mode.clone(),
            jobid: state.jobid.clone(),
            metadata: state.metadata.clone(),
            created: self.created,
            updated: state.updated,
            ended: state.ended,
            server: self.server,
            log: state.log.summary(),
        }
    }

    pub(super) fn wake_log_waiters(&self) {
        self.log_changed.notify(usize::MAX);
    }
}
