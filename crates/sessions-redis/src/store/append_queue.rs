//! Group commit for appends: the appends to one session that arrive while
//! its previous step runs in Redis wait, and go together in the next step,
//! one script for all of them. A session fed by many writers then costs
//! Redis one step per round trip instead of one per request, and a lone
//! append still goes at once. Each batch stays whole and in one piece,
//! with the answer it would have had alone.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sessions_core::session_log::AppendOutcome;
use sessions_core::{RegistryError, SessionId};
use tokio::sync::oneshot;

use super::Shared;
use crate::codec::EncodedBatch;

/// Batches join a group while it holds at most this many entries and
/// bytes, so one step keeps Redis busy for a few milliseconds at most. A
/// single batch may be larger, up to its own limits.
const GROUP_ENTRIES: usize = 2_000;
const GROUP_BYTES: usize = 1 << 20;

type Answer = Result<AppendOutcome, RegistryError>;

#[derive(Debug)]
struct Waiting {
    batch: EncodedBatch,
    bytes: usize,
    answer: oneshot::Sender<Answer>,
}

/// For each session with a step under way, the batches waiting for it.
/// A session is in the map exactly while some task holds its turn.
#[derive(Debug, Default)]
pub(crate) struct AppendQueues(Mutex<HashMap<SessionId, VecDeque<Waiting>>>);

/// Where an append stands once it has asked for its session's turn.
pub(crate) enum Joined {
    /// No step was under way: the caller holds the turn, and runs its
    /// batch with [`Turn::append`] on the store's runtime.
    Turn(Turn, EncodedBatch),
    /// Queued behind the step under way; the answer comes here, on
    /// whichever executor awaits it.
    Queued(Queued),
}

impl AppendQueues {
    fn lock(&self) -> MutexGuard<'_, HashMap<SessionId, VecDeque<Waiting>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn join(&self, id: SessionId, batch: EncodedBatch) -> Result<EncodedBatch, Queued> {
        // Weighed before taking the lock, which every append to any
        // session goes through.
        let bytes = batch.bytes();
        let mut queues = self.lock();
        match queues.get_mut(&id) {
            Some(queue) => {
                let (answer, answered) = oneshot::channel();
                queue.push_back(Waiting {
                    batch,
                    bytes,
                    answer,
                });
                Err(Queued(answered))
            }
            None => {
                queues.insert(id, VecDeque::new());
                Ok(batch)
            }
        }
    }

    /// The batches that waited for `id`'s step, as many as one group
    /// takes; `None`, and the turn given up, when none did.
    fn next_group(&self, id: SessionId) -> Option<Vec<Waiting>> {
        let mut queues = self.lock();
        let queue = queues.get_mut(&id)?;
        let mut group = Vec::new();
        let (mut entries, mut bytes) = (0, 0);
        while let Some(next) = queue.front() {
            entries += next.batch.entries();
            bytes += next.bytes;
            if !group.is_empty() && (entries > GROUP_ENTRIES || bytes > GROUP_BYTES) {
                break;
            }
            group.extend(queue.pop_front());
        }
        if group.is_empty() {
            queues.remove(&id);
            return None;
        }
        Some(group)
    }
}

/// An append waiting behind the step under way.
pub(crate) struct Queued(oneshot::Receiver<Answer>);

impl Queued {
    /// The append's answer, on whichever executor awaits it: no hop to
    /// the store's runtime.
    pub(crate) async fn answer(self) -> Answer {
        self.0.await.unwrap_or_else(|_| {
            Err(RegistryError::Unavailable(
                "the store stopped before the append was made".into(),
            ))
        })
    }
}

/// The turn to append to one session. Should its holder stop before
/// giving it up (a panic, the runtime shutting down, a task never
/// started), dropping it gives it up, and the batches waiting are
/// answered with an error rather than left waiting for ever.
pub(crate) struct Turn {
    shared: Arc<Shared>,
    id: SessionId,
    held: bool,
}

impl Turn {
    fn next_group(&mut self) -> Option<Vec<Waiting>> {
        let group = self.shared.append_queues.next_group(self.id);
        self.held = group.is_some();
        group
    }

    /// Appends the batch that took the turn, then hands whatever queued
    /// meanwhile to a task of its own, so that this caller is answered
    /// now. Runs on the store's runtime.
    pub(crate) async fn append(mut self, batch: EncodedBatch) -> Answer {
        let id = self.id;
        let answer = self
            .shared
            .append_batches(id, vec![batch])
            .await
            .and_then(|outcomes| {
                outcomes.into_iter().next().ok_or_else(|| {
                    RegistryError::Unavailable(format!("session {id}: an append had no answer"))
                })
            });
        if let Some(group) = self.next_group() {
            tokio::spawn(self.run_groups(group));
        }
        answer
    }

    /// Runs the groups that queue behind each other until no batch waits.
    async fn run_groups(mut self, mut group: Vec<Waiting>) {
        loop {
            let (batches, answers): (Vec<_>, Vec<_>) = group
                .into_iter()
                .map(|waiting| (waiting.batch, waiting.answer))
                .unzip();
            match self.shared.append_batches(self.id, batches).await {
                Ok(outcomes) => {
                    for (answer, outcome) in answers.into_iter().zip(outcomes) {
                        let _ = answer.send(Ok(outcome));
                    }
                }
                Err(error) => {
                    for answer in answers {
                        let _ = answer.send(Err(error.clone()));
                    }
                }
            }
            match self.next_group() {
                Some(next) => group = next,
                None => return,
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.held {
            self.shared.append_queues.lock().remove(&self.id);
        }
    }
}

impl Shared {
    /// Asks for the turn to append `batch` to `id`: it is the caller's
    /// when no step for the session is under way, else the batch waits
    /// for the next step, together with whatever else waited.
    pub(crate) fn join_append(self: &Arc<Self>, id: SessionId, batch: EncodedBatch) -> Joined {
        match self.append_queues.join(id, batch) {
            Ok(batch) => Joined::Turn(
                Turn {
                    shared: Arc::clone(self),
                    id,
                    held: true,
                },
                batch,
            ),
            Err(queued) => Joined::Queued(queued),
        }
    }
}
