//! The budget shared by all logs.

use std::sync::atomic::Ordering;

use super::SessionRegistry;
use super::cell::SessionCell;

impl SessionRegistry {
    /// Bytes all logs retain now, headers included.
    pub fn log_memory(&self) -> usize {
        self.log_memory.load(Ordering::Acquire)
    }

    /// Records that a log went from `before` to `after` bytes. Call it while
    /// that log's session is locked.
    pub(super) fn account_log_memory(&self, before: usize, after: usize) {
        if after >= before {
            self.log_memory.fetch_add(after - before, Ordering::AcqRel);
        } else {
            self.log_memory.fetch_sub(before - after, Ordering::AcqRel);
        }
    }

    /// Takes a session's log out of the shared budget as it leaves the
    /// registry, and frees it right away rather than when the last reader lets
    /// go of the session.
    pub(super) fn release_log_memory(&self, cell: &SessionCell) {
        let mut state = cell.lock();
        let before = state.log.retained_bytes();
        state.log.evict_bytes(usize::MAX);
        self.account_log_memory(before, state.log.retained_bytes());
    }

    /// Brings all logs back within [`crate::Limits::max_log_memory`], down to
    /// [`crate::Limits::log_memory_target`]: first by forgetting ended
    /// sessions, the one that ended longest ago first, then by evicting the
    /// oldest entries of the largest active log, repeatedly.
    ///
    /// One thread does this at a time; others that cross the budget meanwhile
    /// leave it to that one instead of queueing up.
    pub(super) fn enforce_log_memory_budget(&self) {
        let Ok(_rebalancing) = self.rebalancing.try_lock() else {
            return;
        };
        let target = self.limits.log_memory_target();
        while self.log_memory() > target {
            let mut directory = self.write_directory();
            if !self.forget_oldest_ended(&mut directory) {
                break;
            }
        }
        while self.log_memory() > target {
            let Some(largest) = self.largest_active_log() else {
                break;
            };
            let mut state = largest.lock();
            let excess = self.log_memory().saturating_sub(target);
            let before = state.log.retained_bytes();
            let dropped_before = state.log.summary().dropped;
            let freed = state.log.evict_bytes(excess);
            self.account_log_memory(before, state.log.retained_bytes());
            self.count_entries(0, state.log.summary().dropped - dropped_before);
            drop(state);
            if freed == 0 {
                break;
            }
            self.note_change();
        }
    }

    fn largest_active_log(&self) -> Option<std::sync::Arc<SessionCell>> {
        let cells: Vec<_> = self.read_directory().sessions.values().cloned().collect();
        cells
            .into_iter()
            .map(|cell| {
                let bytes = cell.lock().log.retained_bytes();
                (bytes, cell)
            })
            .filter(|(bytes, _)| *bytes > 0)
            .max_by_key(|(bytes, _)| *bytes)
            .map(|(_, cell)| cell)
    }
}
