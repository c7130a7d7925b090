//! The sessions of the directory by id, with the counts that are read on
//! every append kept as the sessions change.

use std::collections::HashMap;
use std::ops::Deref;

use sessions_core::{Session, SessionId};

/// The sessions by id, with the counts [`super::Directory::counts`] answers kept
/// as the sessions change: every append step reads them for the log
/// budget, and counting ten thousand sessions again each time would cost
/// more than the append. Changes go through its methods, which keep the
/// counts; reading goes through the map it derefs to.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    by_id: HashMap<SessionId, Session>,
    ended: usize,
    log_bytes: usize,
}

impl Sessions {
    pub(super) fn new(by_id: HashMap<SessionId, Session>) -> Sessions {
        let mut sessions = Sessions {
            by_id,
            ended: 0,
            log_bytes: 0,
        };
        for session in sessions.by_id.values() {
            sessions.ended += usize::from(session.ended.is_some());
            sessions.log_bytes += session.log.bytes;
        }
        sessions
    }

    pub(super) fn insert(&mut self, session: Session) -> Option<Session> {
        self.ended += usize::from(session.ended.is_some());
        self.log_bytes += session.log.bytes;
        let previous = self.by_id.insert(session.id, session);
        if let Some(previous) = &previous {
            self.uncount(previous);
        }
        previous
    }

    pub(super) fn remove(&mut self, id: SessionId) -> Option<Session> {
        let removed = self.by_id.remove(&id);
        if let Some(removed) = &removed {
            self.uncount(removed);
        }
        removed
    }

    /// What `change` answers for the session `id`, changed by it; `None`
    /// when there is no such session.
    pub(super) fn change<T>(
        &mut self,
        id: SessionId,
        change: impl FnOnce(&mut Session) -> T,
    ) -> Option<T> {
        let session = self.by_id.get_mut(&id)?;
        let (ended_before, bytes_before) = (session.ended.is_some(), session.log.bytes);
        let answer = change(session);
        let (ended_after, bytes_after) = (session.ended.is_some(), session.log.bytes);
        self.ended = self.ended + usize::from(ended_after) - usize::from(ended_before);
        self.log_bytes = self.log_bytes + bytes_after - bytes_before;
        Some(answer)
    }

    /// How many of the sessions have ended.
    pub(super) fn ended(&self) -> usize {
        self.ended
    }

    /// What all their logs retain, in bytes.
    pub(super) fn log_bytes(&self) -> usize {
        self.log_bytes
    }

    fn uncount(&mut self, session: &Session) {
        self.ended -= usize::from(session.ended.is_some());
        self.log_bytes -= session.log.bytes;
    }
}

impl Deref for Sessions {
    type Target = HashMap<SessionId, Session>;

    fn deref(&self) -> &Self::Target {
        &self.by_id
    }
}
