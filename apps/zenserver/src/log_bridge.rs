//! Every `log` record of the process goes to stderr (through env_logger) and
//! into the server's own session, so the dashboard shows what the server does.
//!
//! Records travel through a bounded channel to one drain thread that appends
//! them in batches. Logging never blocks the thread that logs: when the
//! channel is full the record is counted as dropped, and the count is written
//! into the session with the next batch. The drain thread's own records go to
//! stderr only, so it can never feed itself.

use std::cell::Cell;
use std::sync::Arc;

use crossbeam_channel::Receiver;
use sessions_core::log_records::{
    Drops, LossySender, entry_from_record, lossy_queue, overflow_report,
};
use sessions_core::session_log::{NewEntry, truncate_message};
use sessions_core::{SessionId, SessionStore};

use crate::blocking::block_on;

/// Records waiting for the drain thread, at most.
const CHANNEL_CAPACITY: usize = 8_192;
/// Records appended per batch, at most.
const BATCH_SIZE: usize = 1_024;

thread_local! {
    /// Set on the drain thread: its records must not go back into the channel.
    static IS_DRAIN_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// The process-wide logger.
struct BridgeLogger {
    stderr: env_logger::Logger,
    queue: LossySender<NewEntry>,
}

/// The receiving end, handed to the drain thread once the server's session
/// exists; records logged before that wait in the channel.
#[derive(Debug)]
pub(crate) struct PendingDrain {
    receiver: Receiver<NewEntry>,
    drops: Arc<Drops>,
}

/// Installs the logger: `RUST_LOG` decides what is logged (default `info`),
/// for stderr and the server's session alike.
pub(crate) fn install() -> PendingDrain {
    let stderr =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).build();
    let (queue, receiver) = lossy_queue(CHANNEL_CAPACITY);
    let drops = Arc::clone(queue.drops());
    let max_level = stderr.filter();
    let logger = BridgeLogger { stderr, queue };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(max_level);
    }
    PendingDrain { receiver, drops }
}

impl log::Log for BridgeLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.stderr.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.stderr.matches(record) {
            return;
        }
        self.stderr.log(record);
        if IS_DRAIN_THREAD.with(Cell::get) {
            return;
        }
        self.queue.offer(entry_from_record(record));
    }

    fn flush(&self) {
        self.stderr.flush();
    }
}

impl PendingDrain {
    /// Starts the drain thread, appending to `session` from now on.
    pub(crate) fn start(self, store: Arc<dyn SessionStore>, session: SessionId) {
        let spawned = std::thread::Builder::new()
            .name("log-drain".into())
            .spawn(move || {
                IS_DRAIN_THREAD.with(|flag| flag.set(true));
                drain(&self.receiver, &self.drops, store.as_ref(), session);
            });
        if let Err(error) = spawned {
            log::error!(
                "the log drain thread could not start: {error}; the server's session gets no log"
            );
        }
    }
}

/// Runs until every sender is gone, which for the process-wide logger is
/// never: the thread ends with the process.
fn drain(
    receiver: &Receiver<NewEntry>,
    drops: &Drops,
    store: &dyn SessionStore,
    session: SessionId,
) {
    let limits = store.limits();
    let batch_size = BATCH_SIZE.min(limits.max_batch_entries).max(1);
    while let Ok(first) = receiver.recv() {
        let mut batch = Vec::with_capacity(batch_size);
        batch.push(first);
        batch.extend(receiver.try_iter().take(batch_size - 1));
        let lost = drops.take_unreported();
        if lost > 0 {
            batch.push(overflow_report(lost));
        }
        for entry in &mut batch {
            truncate_message(&mut entry.message, limits.max_message_bytes);
        }
        for chunk in batch.chunks(batch_size) {
            if let Err(error) = block_on(store.append(session, chunk)) {
                // Goes to stderr only: this is the drain thread.
                log::warn!(
                    "could not store {} server log records: {error}",
                    chunk.len()
                );
            }
        }
    }
}
