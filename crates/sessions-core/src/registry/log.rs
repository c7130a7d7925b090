//! Appending to logs, reading them, and waiting for them to grow.

use std::sync::atomic::Ordering;

use sessions_log::{AppendOutcome, LogRead, NewEntry, ReadRequest};

use super::{SessionRegistry, Waiter};
use crate::{RegistryError, SessionId, ValidationError, check_batch, millisecond_now};

impl SessionRegistry {
    /// Appends a batch to an active session's log: all of it, or nothing when
    /// any entry breaks a limit. Batches are appended under the session's lock,
    /// so concurrent batches never interleave.
    pub fn append(
        &self,
        id: SessionId,
        entries: &[NewEntry],
    ) -> Result<AppendOutcome, RegistryError> {
        check_batch(entries, &self.limits)?;
        let cell = self.find(id).ok_or(RegistryError::NotFound(id))?;
        let mut state = cell.lock();
        if state.ended.is_some() {
            return Err(RegistryError::Ended(id));
        }
        let bytes_before = state.log.retained_bytes();
        let outcome = state.log.append(entries).map_err(ValidationError::from)?;
        self.account_log_memory(bytes_before, state.log.retained_bytes());
        self.count_entries(outcome.appended as u64, outcome.evicted);
        if outcome.appended > 0 {
            state.updated = millisecond_now();
        }
        drop(state);
        if outcome.appended > 0 {
            cell.wake_log_waiters();
            self.note_change();
        }
        if self.log_memory.load(Ordering::Acquire) > self.limits.max_log_memory {
            self.enforce_log_memory_budget();
        }
        Ok(outcome)
    }

    pub(super) fn count_entries(&self, appended: u64, evicted: u64) {
        if appended > 0 {
            self.entries_appended.fetch_add(appended, Ordering::Relaxed);
        }
        if evicted > 0 {
            self.entries_evicted.fetch_add(evicted, Ordering::Relaxed);
        }
    }

    /// Reads a session's log (active or retained ended) and hands the read to
    /// `reader` while the session is locked: keep `reader` short, appends to
    /// this session wait for it.
    pub fn read_log<R>(
        &self,
        id: SessionId,
        request: ReadRequest,
        reader: impl FnOnce(&LogRead<'_>) -> R,
    ) -> Result<R, RegistryError> {
        let cell = self.find(id).ok_or(RegistryError::NotFound(id))?;
        let state = cell.lock();
        Ok(reader(&state.log.read(request)))
    }

    /// A waiter for entries newer than `cursor`, or `None` when waiting would
    /// be pointless: such entries exist already, the session has ended, or
    /// the registry is shutting down.
    pub fn wait_for_log(
        &self,
        id: SessionId,
        cursor: u64,
    ) -> Result<Option<Waiter>, RegistryError> {
        let cell = self.find(id).ok_or(RegistryError::NotFound(id))?;
        // Listen before looking, so an append between the look and the wait
        // still wakes the waiter.
        let listener = cell.log_changed.listen();
        let state = cell.lock();
        let settled =
            state.ended.is_some() || state.log.last_seq() > cursor || self.is_shutting_down();
        Ok((!settled).then(|| Waiter::new(listener)))
    }
}
