//! Several sessions' append steps in one script. On a single Redis, the
//! steps that arrive while another runs wait, and go together in the next
//! script: a script's fixed cost (starting it, a round trip, a wake-up each
//! way) is then paid once for all of them, which is what
//! appends spread over many sessions spend most on. A lone step still goes
//! at once. In a cluster each session's keys live in a slot of their own,
//! so each step runs alone, as it would here with nothing waiting.
//!
//! This is group commit across sessions; `append_queue` is the same within
//! one session, and hands this module one step per session at a time.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jiff::Timestamp;
use redis::Value;
use sessions_core::{RegistryError, SessionId, millisecond_now};
use tokio::sync::oneshot;

use super::{Shared, malformed};
use crate::codec::{self, EncodedBatch, Malformed};
use crate::connection::StoreAddress;
use crate::scripts::ENTRY_OVERHEAD_BYTES;

/// Steps join a script while it holds at most this many sessions, entries
/// and bytes, so that one script keeps Redis busy for a few milliseconds
/// at most. The first step always goes, whatever its size (one session's
/// group is bounded by `append_queue`'s limits, or is a single batch).
const SCRIPT_SESSIONS: usize = 64;
const SCRIPT_ENTRIES: usize = 4_000;
const SCRIPT_BYTES: usize = 1 << 20;

/// The append script's answer for one session, and the time it was
/// appended at (the log's `updated`).
pub(crate) type StepAnswer = Result<(Value, Timestamp), RegistryError>;

/// One session's step: its batches, and where its answer goes.
#[derive(Debug)]
struct Step {
    id: SessionId,
    batches: Vec<EncodedBatch>,
    answer: oneshot::Sender<StepAnswer>,
}

impl Step {
    fn entries(&self) -> usize {
        self.batches.iter().map(EncodedBatch::entries).sum()
    }

    fn bytes(&self) -> usize {
        self.batches.iter().map(EncodedBatch::bytes).sum()
    }
}

#[derive(Debug, Default)]
struct Waiting {
    /// Whether a task is running scripts; it takes every step that waits.
    running: bool,
    steps: VecDeque<Step>,
}

/// The steps waiting for the script under way.
#[derive(Debug, Default)]
pub(crate) struct AppendSteps(Mutex<Waiting>);

impl AppendSteps {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `step`; true when no script was under way, and the caller is
    /// to run the scripts.
    fn join(&self, step: Step) -> bool {
        let mut waiting = self.lock();
        waiting.steps.push_back(step);
        !std::mem::replace(&mut waiting.running, true)
    }

    /// The steps for the next script, as many as one takes; none, and the
    /// running given up, when none wait.
    fn next_script(&self) -> Vec<Step> {
        let mut waiting = self.lock();
        let mut script = Vec::new();
        let (mut entries, mut bytes) = (0, 0);
        while let Some(next) = waiting.steps.front() {
            entries += next.entries();
            bytes += next.bytes();
            let full =
                script.len() == SCRIPT_SESSIONS || entries > SCRIPT_ENTRIES || bytes > SCRIPT_BYTES;
            if full && !script.is_empty() {
                break;
            }
            script.extend(waiting.steps.pop_front());
        }
        if script.is_empty() {
            waiting.running = false;
        }
        script
    }
}

/// The right to run the scripts. Should its holder stop before giving it
/// up (a panic, the runtime shutting down), dropping it gives it up, and
/// the steps waiting are answered with an error rather than left waiting
/// for ever.
struct Runner {
    shared: Arc<Shared>,
    held: bool,
}

impl Runner {
    fn next_script(&mut self) -> Vec<Step> {
        let script = self.shared.append_steps.next_script();
        self.held = !script.is_empty();
        script
    }

    /// Runs scripts until no step waits.
    async fn run(mut self) {
        loop {
            let script = self.next_script();
            if script.is_empty() {
                return;
            }
            let now = millisecond_now();
            match self.shared.run_appends(&script, now).await {
                Ok(answers) => {
                    for (step, answer) in script.into_iter().zip(answers) {
                        let _ = step.answer.send(Ok((answer, now)));
                    }
                }
                Err(error) => {
                    for step in script {
                        let _ = step.answer.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if self.held {
            let mut waiting = self.shared.append_steps.lock();
            waiting.running = false;
            waiting.steps.clear();
        }
    }
}

impl Shared {
    /// Runs one session's append step, alone or with others' that wait
    /// with it.
    pub(crate) async fn append_step(
        self: &Arc<Self>,
        id: SessionId,
        batches: Vec<EncodedBatch>,
    ) -> StepAnswer {
        let (answer, answered) = oneshot::channel();
        let step = Step {
            id,
            batches,
            answer,
        };
        if matches!(self.address, StoreAddress::Cluster(_)) {
            let now = millisecond_now();
            let mut answers = self.run_appends(&[step], now).await?;
            return Ok((answers.swap_remove(0), now));
        }
        if self.append_steps.join(step) {
            let runner = Runner {
                shared: Arc::clone(self),
                held: true,
            };
            // The steps that wait behind this one are run by a task of
            // their own, so that this caller is answered as soon as its
            // own script is.
            tokio::spawn(runner.run());
        }
        answered.await.unwrap_or_else(|_| {
            Err(RegistryError::Unavailable(
                "the store stopped before the append was made".into(),
            ))
        })
    }

    /// Runs the append script for `steps`, one answer per step.
    async fn run_appends(
        &self,
        steps: &[Step],
        now: Timestamp,
    ) -> Result<Vec<Value>, RegistryError> {
        let header = [
            now.as_millisecond().to_string(),
            self.keys.channel(),
            self.limits.log.max_entries().to_string(),
            self.limits.log.max_bytes().to_string(),
            ENTRY_OVERHEAD_BYTES.to_string(),
            steps.len().to_string(),
        ];
        let mut invocation = self.scripts.append.prepare_invoke();
        for arg in &header {
            invocation.arg(arg.as_bytes());
        }
        for step in steps {
            let id = step.id;
            self.session_keys(&mut invocation, id);
            let arguments: usize = step.batches.iter().map(|batch| batch.arguments.len()).sum();
            // id, the number of batches, their sizes and the layout.
            invocation.arg(3 + step.batches.len() + arguments);
            invocation.arg(id.to_string());
            invocation.arg(step.batches.len());
            for batch in &step.batches {
                invocation.arg(batch.entries());
            }
            let layout: Vec<u8> = step
                .batches
                .iter()
                .flat_map(|batch| batch.layout.iter().copied())
                .collect();
            invocation.arg(layout);
            for batch in &step.batches {
                for argument in &batch.arguments {
                    invocation.arg(argument.as_slice());
                }
            }
        }
        let answer = self.invoke(&invocation).await?;
        let answers = codec::into_array(answer).map_err(malformed)?;
        if answers.len() != steps.len() {
            return Err(malformed(Malformed(format!(
                "an append of {} sessions answered for {}",
                steps.len(),
                answers.len()
            ))));
        }
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    use sessions_core::IdMinter;

    use super::*;

    /// A step of one batch of `entries` entries of `bytes` bytes each.
    fn step(entries: usize, bytes: usize) -> Step {
        Step {
            id: IdMinter::new().mint(),
            batches: vec![EncodedBatch {
                layout: vec![b'0'; entries],
                arguments: vec![vec![b'm'; bytes]; entries],
            }],
            answer: oneshot::channel().0,
        }
    }

    fn scripts(steps: Vec<Step>) -> Vec<usize> {
        let queue = AppendSteps::default();
        for step in steps {
            queue.join(step);
        }
        let mut sizes = Vec::new();
        loop {
            let script = queue.next_script();
            if script.is_empty() {
                assert!(!queue.lock().running, "given up with nothing left");
                return sizes;
            }
            sizes.push(script.len());
        }
    }

    #[test]
    fn a_script_takes_at_most_its_sessions_entries_and_bytes() {
        assert_eq!(
            scripts((0..150).map(|_| step(1, 60)).collect()),
            [64, 64, 22]
        );
        assert_eq!(
            scripts((0..10).map(|_| step(1_000, 60)).collect()),
            [4, 4, 2]
        );
        assert_eq!(
            scripts((0..5).map(|_| step(1, 400_000)).collect()),
            [2, 2, 1]
        );
    }

    #[test]
    fn a_step_over_every_bound_still_goes_alone() {
        let steps = vec![step(10_000, 200), step(1, 60), step(1, 60)];
        assert_eq!(scripts(steps), [1, 2]);
    }

    #[test]
    fn only_the_first_to_join_an_idle_queue_runs_the_scripts() {
        let queue = AppendSteps::default();
        assert!(queue.join(step(1, 60)));
        assert!(!queue.join(step(1, 60)));
        assert_eq!(queue.next_script().len(), 2);
        assert!(queue.next_script().is_empty());
        assert!(queue.join(step(1, 60)), "the queue was given up");
    }
}
