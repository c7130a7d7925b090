//! This node's copy of the session directory: what the list, the WebSocket
//! watchers and the counts are served from, without asking Redis. It is
//! kept current by this node's own changes and by the change messages of
//! every node, and loaded whole at start, after a reconnection and now and
//! then in case a message was lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use event_listener::Event;
use jiff::Timestamp;
use sessions_core::{Session, SessionId, StatusFilter, Wakeup};

mod log_waiters;
mod sessions;

use self::log_waiters::LogWaiters;
use self::sessions::Sessions;

#[derive(Debug, Default)]
pub(crate) struct Directory {
    sessions: RwLock<Sessions>,
    /// When each session was last put, changed or removed here, counted in
    /// `edits`: a load that began before then must not undo it. Entries
    /// older than the last load are dropped by it.
    edited: Mutex<HashMap<SessionId, u64>>,
    edits: AtomicU64,
    version: AtomicU64,
    changed: Event,
    log_waiters: LogWaiters,
}

/// What an append message says about a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogState {
    pub(crate) first: u64,
    pub(crate) next: u64,
    pub(crate) bytes: usize,
    pub(crate) updated: Timestamp,
}

impl Directory {
    /// Takes `session` as it is now. Watchers hear of it and long polls on
    /// it wake only when something changed: the same session comes back
    /// from every node's message and every reload.
    pub(crate) fn put(&self, session: Session) {
        let id = session.id;
        let previous = {
            let mut sessions = self.write();
            self.edit(id);
            sessions.insert(session.clone())
        };
        if previous.as_ref() != Some(&session) {
            self.note_change();
        }
        if previous.is_none_or(|previous| log_moved(&previous, &session)) {
            self.wake_log_waiters(id);
        }
    }

    pub(crate) fn remove(&self, id: SessionId) {
        let removed = {
            let mut sessions = self.write();
            self.edit(id);
            sessions.remove(id).is_some()
        };
        if removed {
            self.note_change();
        }
        self.wake_log_waiters(id);
    }

    /// Where a load of the whole directory begins: pass it to `replace`.
    pub(crate) fn begin_load(&self) -> u64 {
        self.edits.load(Ordering::Acquire)
    }

    /// Takes `sessions`, loaded whole since `began` ([`Directory::begin_load`]),
    /// as the directory; what differs is announced as `put` and `remove`
    /// would. A session put, changed or removed here since the load began
    /// is kept as it is here: the load may predate it.
    pub(crate) fn replace(&self, sessions: Vec<Session>, began: u64) {
        let mut loaded: HashMap<SessionId, Session> = sessions
            .into_iter()
            .map(|session| (session.id, session))
            .collect();
        let (changed, moved) = {
            let mut current = self.write();
            let mut edited = self.lock_edited();
            let newer_here = |id: &SessionId| edited.get(id).is_some_and(|at| *at >= began);
            for (id, session) in current.iter() {
                if newer_here(id) {
                    loaded.insert(*id, session.clone());
                }
            }
            loaded.retain(|id, _| !newer_here(id) || current.contains_key(id));
            let mut moved: Vec<SessionId> = current
                .iter()
                .filter(|(id, old)| loaded.get(id).is_none_or(|new| log_moved(old, new)))
                .map(|(id, _)| *id)
                .collect();
            moved.extend(loaded.keys().filter(|id| !current.contains_key(id)));
            let changed = **current != loaded;
            *current = Sessions::new(loaded);
            edited.retain(|_, at| *at >= began);
            (changed, moved)
        };
        if changed {
            self.note_change();
        }
        for id in moved {
            self.wake_log_waiters(id);
        }
    }

    /// Takes the log's new state from an append, unless what is known is
    /// newer already (messages of two nodes may cross).
    pub(crate) fn log_appended(&self, id: SessionId, state: LogState) {
        let changed = {
            let mut sessions = self.write();
            let changed = sessions.change(id, |session| {
                // Appends move `next` on, evictions `first`.
                let newer =
                    (state.next, state.first) > (session.log.cursor + 1, session.log.dropped + 1);
                if newer {
                    session.log.entries = (state.next - state.first) as usize;
                    session.log.cursor = state.next - 1;
                    session.log.dropped = state.first - 1;
                    session.log.bytes = state.bytes;
                    session.updated = session.updated.max(state.updated);
                }
                newer
            }) == Some(true);
            if changed {
                self.edit(id);
            }
            changed
        };
        if changed {
            self.note_change();
        }
        self.wake_log_waiters(id);
    }

    pub(crate) fn list(&self, filter: StatusFilter) -> Vec<Session> {
        let mut sessions: Vec<Session> = self
            .read()
            .values()
            .filter(|session| match filter {
                StatusFilter::Active => session.ended.is_none(),
                StatusFilter::Ended => session.ended.is_some(),
                StatusFilter::All => true,
            })
            .cloned()
            .collect();
        match filter {
            // The one that ended last first, as the memory store lists them.
            StatusFilter::Ended => sessions.sort_by_key(|session| std::cmp::Reverse(session.ended)),
            StatusFilter::Active | StatusFilter::All => {
                sessions.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)))
            }
        }
        sessions
    }

    /// Active and ended sessions, and bytes all logs retain.
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let sessions = self.read();
        (
            sessions.len() - sessions.ended(),
            sessions.ended(),
            sessions.log_bytes(),
        )
    }

    /// The ended session that ended longest ago.
    pub(crate) fn oldest_ended(&self) -> Option<SessionId> {
        self.read()
            .values()
            .filter(|session| session.ended.is_some())
            .min_by_key(|session| (session.ended, session.id))
            .map(|session| session.id)
    }

    /// The session whose log retains the most bytes, if any retains some.
    pub(crate) fn largest_log(&self) -> Option<SessionId> {
        self.read()
            .values()
            .filter(|session| session.log.bytes > 0)
            .max_by_key(|session| (session.log.bytes, session.id))
            .map(|session| session.id)
    }

    /// Active sessions (not this or any node's own) unchanged since
    /// `idle_since`, by this node's copy.
    pub(crate) fn idle_since(&self, idle_since: Timestamp) -> Vec<SessionId> {
        self.read()
            .values()
            .filter(|s| !s.server && s.ended.is_none() && s.updated < idle_since)
            .map(|s| s.id)
            .collect()
    }

    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    pub(crate) fn wait_for_change(&self, version: u64) -> Option<Wakeup> {
        let listener = self.changed.listen();
        (self.version() == version).then(|| Box::pin(listener) as Wakeup)
    }

    /// Wakes every change waiter, for shutdown.
    pub(crate) fn wake_all(&self) {
        self.changed.notify(usize::MAX);
        self.log_waiters.wake_all();
    }

    /// A wake-up for the next change of `id`'s log; listening starts now,
    /// so a change between this call and the look that follows it still
    /// wakes it.
    pub(crate) fn listen_to_log(&self, id: SessionId) -> Wakeup {
        self.log_waiters.listen(id)
    }

    pub(crate) fn wake_log_waiters(&self, id: SessionId) {
        self.log_waiters.wake(id);
    }

    /// Records that `id` was edited here; called with the sessions locked,
    /// so a load sees every edit either in Redis or here.
    fn edit(&self, id: SessionId) {
        let at = self.edits.fetch_add(1, Ordering::AcqRel);
        self.lock_edited().insert(id, at);
    }

    fn lock_edited(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, u64>> {
        self.edited.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn note_change(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
        self.changed.notify(usize::MAX);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Sessions> {
        self.sessions.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Sessions> {
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether a long poll on the session has something new to see: entries,
/// evictions, or its end.
fn log_moved(old: &Session, new: &Session) -> bool {
    old.log != new.log || old.ended != new.ended
}

#[cfg(test)]
mod tests {
    use sessions_core::{CompactMetadata, Metadata};

    use super::*;

    fn session(id: SessionId, cursor: u64) -> Session {
        let created = Timestamp::from_millisecond(1_764_000_000_000).unwrap();
        let mut session = Session {
            id,
            appname: "editor".into(),
            mode: "interactive".into(),
            jobid: None,
            metadata: CompactMetadata::encode(&Metadata::new()),
            created,
            updated: created,
            ended: None,
            server: false,
            log: Default::default(),
        };
        session.log.cursor = cursor;
        session.log.entries = cursor as usize;
        session
    }

    #[test]
    fn the_same_session_again_is_no_change_and_wakes_no_long_poll() {
        let directory = Directory::default();
        let id = id(1);
        directory.put(session(id, 3));
        let version = directory.version();
        let wakeup = directory.listen_to_log(id);
        directory.put(session(id, 3));
        directory.replace(vec![session(id, 3)], directory.begin_load());
        assert_eq!(directory.version(), version, "watchers hear of no change");
        assert!(
            futures_util::FutureExt::now_or_never(wakeup).is_none(),
            "the long poll still waits"
        );

        let wakeup = directory.listen_to_log(id);
        directory.replace(vec![session(id, 4)], directory.begin_load());
        assert!(directory.version() > version);
        assert!(futures_util::FutureExt::now_or_never(wakeup).is_some());
    }

    #[test]
    fn a_session_gone_from_a_reload_wakes_its_long_polls() {
        let directory = Directory::default();
        let (kept, gone) = (id(1), id(2));
        directory.replace(
            vec![session(kept, 1), session(gone, 1)],
            directory.begin_load(),
        );
        let wakeup = directory.listen_to_log(gone);
        directory.replace(vec![session(kept, 1)], directory.begin_load());
        assert!(futures_util::FutureExt::now_or_never(wakeup).is_some());
        assert_eq!(directory.list(StatusFilter::All).len(), 1);
    }

    #[test]
    fn the_counts_follow_every_change() {
        let directory = Directory::default();
        let recount = |directory: &Directory| {
            let sessions = directory.list(StatusFilter::All);
            let ended = sessions.iter().filter(|s| s.ended.is_some()).count();
            let bytes = sessions.iter().map(|s| s.log.bytes).sum::<usize>();
            (sessions.len() - ended, ended, bytes)
        };
        let with_bytes = |id, bytes| {
            let mut session = session(id, 1);
            session.log.bytes = bytes;
            session
        };
        let at = Timestamp::from_millisecond(1_764_000_000_000).unwrap();
        directory.put(with_bytes(id(1), 100));
        directory.put(with_bytes(id(2), 50));
        assert_eq!(directory.counts(), (2, 0, 150));
        // Put again, larger and ended.
        let mut ended = with_bytes(id(2), 70);
        ended.ended = Some(at);
        directory.put(ended);
        assert_eq!(directory.counts(), (1, 1, 170));
        let state = |next, bytes| LogState {
            first: 1,
            next,
            bytes,
            updated: at,
        };
        directory.log_appended(id(1), state(5, 300));
        assert_eq!(directory.counts(), (1, 1, 370));
        // An older message changes nothing, nor one for an unknown session.
        directory.log_appended(id(1), state(3, 200));
        directory.log_appended(id(9), state(3, 200));
        assert_eq!(directory.counts(), (1, 1, 370));
        assert_eq!(directory.counts(), recount(&directory));
        directory.remove(id(1));
        directory.remove(id(1));
        assert_eq!(directory.counts(), (0, 1, 70));
        directory.replace(
            vec![with_bytes(id(3), 5), with_bytes(id(4), 6)],
            directory.begin_load(),
        );
        assert_eq!(directory.counts(), (2, 0, 11));
        assert_eq!(directory.counts(), recount(&directory));
    }

    fn id(n: u8) -> SessionId {
        format!("{n:024x}").parse().unwrap()
    }

    #[test]
    fn a_load_that_began_before_a_change_here_does_not_undo_it() {
        let directory = Directory::default();
        let (old, made, forgotten) = (id(1), id(2), id(3));
        directory.put(session(old, 1));
        directory.put(session(forgotten, 1));
        let began = directory.begin_load();
        // While the load reads Redis: a session made here, another
        // forgotten, and an append to the first.
        directory.put(session(made, 0));
        directory.remove(forgotten);
        directory.put(session(old, 5));
        // The load saw none of it.
        directory.replace(vec![session(old, 1), session(forgotten, 1)], began);
        let listed: Vec<(SessionId, u64)> = directory
            .list(StatusFilter::All)
            .iter()
            .map(|session| (session.id, session.log.cursor))
            .collect();
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert!(listed.contains(&(old, 5)));
        assert!(listed.contains(&(made, 0)));
        // A later load is taken whole.
        directory.replace(vec![session(old, 6)], directory.begin_load());
        assert_eq!(directory.list(StatusFilter::All).len(), 1);
    }
}
