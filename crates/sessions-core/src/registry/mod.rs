//! The registry: every active session and a bounded history of ended ones.

mod cell;
mod log;
mod memory;
mod store;
mod waiter;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use jiff::Timestamp;
use sessions_log::LogRing;

use self::cell::{SessionCell, SessionState};
use crate::{
    CompactMetadata, IdMinter, Limits, Metadata, NewSession, RegistryError, Session, SessionId,
    SessionUpdate, StatusFilter, Upserted, encode_metadata, merge_patch_object, millisecond_now,
};

pub use self::waiter::Waiter;

/// Holds all sessions and enforces the rules and [`Limits`] of the domain.
///
/// Every method takes `&self` and is safe to call from many threads. Lock
/// order, to keep it free of deadlocks: the directory before a session, never
/// a session before the directory, never two sessions at once.
///
/// Memory: besides the per-log budgets, all logs together stay within
/// [`Limits::max_log_memory`]. Above it the oldest ended sessions are
/// forgotten first, then the largest active logs evict their oldest entries,
/// until they are 1/64 below it ([`Limits::log_memory_target`]).
#[derive(Debug)]
pub struct SessionRegistry {
    limits: Limits,
    minter: IdMinter,
    directory: RwLock<Directory>,
    /// Bytes retained by all logs in the directory; changed only while the
    /// session whose log changed is locked, so it never goes below zero.
    log_memory: AtomicUsize,
    /// Held by whoever is bringing `log_memory` back within budget.
    rebalancing: Mutex<()>,
    shutting_down: AtomicBool,
    /// Grows by one on every change a watcher of the session list could see.
    change_version: AtomicU64,
    /// Notified with every change of `change_version`, and at shutdown.
    changed: event_listener::Event,
    /// Entries appended to any log since the registry was made.
    entries_appended: AtomicU64,
    /// Entries evicted from logs to keep within their limits or the shared
    /// budget (not those of sessions forgotten whole).
    entries_evicted: AtomicU64,
}

#[derive(Debug, Default)]
struct Directory {
    sessions: HashMap<SessionId, Arc<SessionCell>>,
    /// Ended sessions still retained, the one that ended longest ago first.
    ended: VecDeque<SessionId>,
    active: usize,
    server: Option<SessionId>,
}

impl SessionRegistry {
    pub fn new(limits: Limits) -> SessionRegistry {
        SessionRegistry {
            limits,
            minter: IdMinter::new(),
            directory: RwLock::default(),
            log_memory: AtomicUsize::new(0),
            rebalancing: Mutex::new(()),
            shutting_down: AtomicBool::new(false),
            change_version: AtomicU64::new(0),
            changed: event_listener::Event::new(),
            entries_appended: AtomicU64::new(0),
            entries_evicted: AtomicU64::new(0),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Creates the server's own session: it cannot be ended, and it is the one
    /// session marked `server`. There is at most one; a second call returns the
    /// first.
    pub fn create_server_session(&self, session: NewSession) -> Result<Session, RegistryError> {
        session.validate(&self.limits)?;
        let metadata = encode_metadata(&session.metadata, &self.limits)?;
        let mut directory = self.write_directory();
        if let Some(existing) = directory.server.and_then(|id| directory.sessions.get(&id)) {
            return Ok(existing.snapshot());
        }
        let id = self.minter.mint();
        let created = self.insert_locked(&mut directory, id, session, metadata, true)?;
        directory.server = Some(id);
        Ok(created)
    }

    pub fn server_session_id(&self) -> Option<SessionId> {
        self.read_directory().server
    }

    /// Creates a session with a freshly minted id.
    pub fn create(&self, session: NewSession) -> Result<Session, RegistryError> {
        session.validate(&self.limits)?;
        let metadata = encode_metadata(&session.metadata, &self.limits)?;
        let id = self.minter.mint();
        let mut directory = self.write_directory();
        self.insert_locked(&mut directory, id, session, metadata, false)
    }

    /// Creates the session `id`, or updates it if it is active. Updating an
    /// ended session is refused.
    pub fn upsert(&self, id: SessionId, update: SessionUpdate) -> Result<Upserted, RegistryError> {
        update.validate(&self.limits)?;
        let metadata = match &update.metadata {
            Some(metadata) => Some(encode_metadata(metadata, &self.limits)?),
            None => None,
        };
        if let Some(cell) = self.find(id) {
            return self.update(&cell, update, metadata).map(Upserted::Updated);
        }
        let mut directory = self.write_directory();
        // Someone may have created it since the lookup above.
        if let Some(cell) = directory.sessions.get(&id).cloned() {
            drop(directory);
            return self.update(&cell, update, metadata).map(Upserted::Updated);
        }
        let session = update.into_new_session()?;
        self.insert_locked(
            &mut directory,
            id,
            session,
            metadata.unwrap_or_default(),
            false,
        )
        .map(Upserted::Created)
    }

    fn update(
        &self,
        cell: &SessionCell,
        update: SessionUpdate,
        metadata: Option<CompactMetadata>,
    ) -> Result<Session, RegistryError> {
        let mut state = cell.lock();
        if state.ended.is_some() {
            return Err(RegistryError::Ended(cell.id));
        }
        if let Some(appname) = update.appname {
            state.appname = appname;
        }
        if let Some(mode) = update.mode {
            state.mode = mode;
        }
        if let Some(jobid) = update.jobid {
            state.jobid = jobid;
        }
        if let Some(metadata) = metadata {
            state.metadata = metadata;
        }
        state.updated = millisecond_now();
        let session = cell.snapshot_locked(&state);
        drop(state);
        self.note_change();
        Ok(session)
    }

    /// Merges `patch` into the metadata of an active session as a JSON merge
    /// patch (RFC 7396): `null` removes a key, objects merge, anything else
    /// replaces. All or nothing: a result over the metadata limit changes
    /// nothing.
    pub fn patch_metadata(
        &self,
        id: SessionId,
        patch: &Metadata,
    ) -> Result<Session, RegistryError> {
        let cell = self.find(id).ok_or(RegistryError::NotFound(id))?;
        let mut state = cell.lock();
        if state.ended.is_some() {
            return Err(RegistryError::Ended(id));
        }
        let mut merged = state.metadata.decode();
        merge_patch_object(&mut merged, patch);
        state.metadata = encode_metadata(&merged, &self.limits)?;
        state.updated = millisecond_now();
        let session = cell.snapshot_locked(&state);
        drop(state);
        self.note_change();
        Ok(session)
    }

    /// Ends an active session: it moves to the history of ended sessions and
    /// its log stays readable while it is retained. Ending an ended session
    /// changes nothing and returns it.
    pub fn end(&self, id: SessionId) -> Result<Session, RegistryError> {
        self.end_if(id, |_| true)?
            .ok_or(RegistryError::NotFound(id))
    }

    /// Ends every active session (the server's own excepted) that has not
    /// changed since `idle_since`: no create, update, metadata patch or log
    /// append after it. Returns the sessions it ended.
    pub fn end_idle(&self, idle_since: Timestamp) -> Vec<Session> {
        let candidates: Vec<SessionId> = self
            .read_directory()
            .sessions
            .values()
            .filter(|cell| !cell.server)
            .map(|cell| cell.id)
            .collect();
        candidates
            .into_iter()
            .filter_map(|id| {
                // Looked at again under the lock: an append may have come in.
                self.end_if(id, |state| {
                    state.ended.is_none() && state.updated < idle_since
                })
                .ok()
                .flatten()
            })
            .collect()
    }

    /// Ends `id` if `condition` holds for its state while it is locked;
    /// `Ok(None)` when it does not.
    fn end_if(
        &self,
        id: SessionId,
        condition: impl FnOnce(&SessionState) -> bool,
    ) -> Result<Option<Session>, RegistryError> {
        let mut directory = self.write_directory();
        let cell = directory
            .sessions
            .get(&id)
            .cloned()
            .ok_or(RegistryError::NotFound(id))?;
        if cell.server {
            return Err(RegistryError::ServerSession(id));
        }
        let mut state = cell.lock();
        if !condition(&state) {
            return Ok(None);
        }
        if state.ended.is_some() {
            return Ok(Some(cell.snapshot_locked(&state)));
        }
        let ended = millisecond_now();
        state.ended = Some(ended);
        state.updated = ended;
        let session = cell.snapshot_locked(&state);
        drop(state);
        cell.wake_log_waiters();
        directory.active -= 1;
        directory.ended.push_back(id);
        while directory.ended.len() > self.limits.max_ended_sessions {
            self.forget_oldest_ended(&mut directory);
        }
        drop(directory);
        self.note_change();
        Ok(Some(session))
    }

    pub fn get(&self, id: SessionId) -> Result<Session, RegistryError> {
        self.find(id)
            .map(|cell| cell.snapshot())
            .ok_or(RegistryError::NotFound(id))
    }

    /// The sessions `filter` selects, in its order (see [`StatusFilter`]).
    pub fn list(&self, filter: StatusFilter) -> Vec<Session> {
        let cells: Vec<Arc<SessionCell>> = {
            let directory = self.read_directory();
            match filter {
                StatusFilter::Ended => directory
                    .ended
                    .iter()
                    .rev()
                    .filter_map(|id| directory.sessions.get(id).cloned())
                    .collect(),
                StatusFilter::Active | StatusFilter::All => {
                    directory.sessions.values().cloned().collect()
                }
            }
        };
        let mut sessions: Vec<Session> = cells.iter().map(|cell| cell.snapshot()).collect();
        match filter {
            StatusFilter::Ended => {}
            StatusFilter::Active => {
                sessions.retain(|session| session.ended.is_none());
                sort_newest_created_first(&mut sessions);
            }
            StatusFilter::All => sort_newest_created_first(&mut sessions),
        }
        sessions
    }

    /// Active sessions now, the server's own included.
    pub fn active_count(&self) -> usize {
        self.read_directory().active
    }

    /// Ended sessions retained now.
    pub fn ended_count(&self) -> usize {
        self.read_directory().ended.len()
    }

    /// A number that grows whenever anything a watcher of the session list
    /// could see changes: sessions created, updated, ended or forgotten, logs
    /// appended to.
    pub fn change_version(&self) -> u64 {
        self.change_version.load(Ordering::Acquire)
    }

    /// A waiter for the next change after `version` (see
    /// [`SessionRegistry::change_version`]), or `None` when there is one
    /// already or the registry is shutting down.
    pub fn wait_for_change(&self, version: u64) -> Option<Waiter> {
        // Listen before looking, so a change in between still wakes it.
        let listener = self.changed.listen();
        let settled = self.change_version() != version || self.is_shutting_down();
        (!settled).then(|| Waiter::new(listener))
    }

    /// Wakes every long poll and change waiter and makes new ones return at
    /// once, so the server can stop without waiting for them to time out.
    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::Release);
        for cell in self.read_directory().sessions.values() {
            cell.wake_log_waiters();
        }
        self.changed.notify(usize::MAX);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    fn insert_locked(
        &self,
        directory: &mut Directory,
        id: SessionId,
        session: NewSession,
        metadata: CompactMetadata,
        server: bool,
    ) -> Result<Session, RegistryError> {
        if directory.active >= self.limits.max_active_sessions {
            return Err(RegistryError::TooManyActiveSessions {
                limit: self.limits.max_active_sessions,
            });
        }
        let created = millisecond_now();
        let cell = Arc::new(SessionCell::new(
            id,
            created,
            server,
            SessionState {
                appname: session.appname,
                mode: session.mode,
                jobid: session.jobid,
                metadata,
                updated: created,
                ended: None,
                log: LogRing::new(self.limits.log),
            },
        ));
        let snapshot = cell.snapshot();
        directory.sessions.insert(id, cell);
        directory.active += 1;
        self.note_change();
        Ok(snapshot)
    }

    /// Drops the ended session that ended longest ago, log and all.
    fn forget_oldest_ended(&self, directory: &mut Directory) -> bool {
        let Some(id) = directory.ended.pop_front() else {
            return false;
        };
        if let Some(cell) = directory.sessions.remove(&id) {
            self.release_log_memory(&cell);
            cell.wake_log_waiters();
        }
        self.note_change();
        true
    }

    fn find(&self, id: SessionId) -> Option<Arc<SessionCell>> {
        self.read_directory().sessions.get(&id).cloned()
    }

    fn read_directory(&self) -> RwLockReadGuard<'_, Directory> {
        self.directory
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_directory(&self) -> RwLockWriteGuard<'_, Directory> {
        self.directory
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn note_change(&self) {
        self.change_version.fetch_add(1, Ordering::AcqRel);
        self.changed.notify(usize::MAX);
    }
}

fn sort_newest_created_first(sessions: &mut [Session]) {
    sessions.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
}

#[cfg(test)]
mod tests;
