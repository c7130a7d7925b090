//! A `log` backend that ships every record into a session.
//!
//! The thread that logs only formats the record and offers it to a bounded
//! channel: it never waits for the network, nor for room in the channel.
//! When the channel is full the record is counted and dropped, and the count
//! reaches the session as a `warn` entry in the next batch. One background
//! thread takes records out and appends them in batches (`worker.rs`). That
//! thread's own records (the HTTP client logs too) are never shipped, so it
//! cannot feed itself.
//!
//! Registering the session is that thread's first job, and starting the
//! logger waits for it at most [`REGISTRATION_WAIT`]: a server that answers
//! in time makes a refusal or an unreachable server an error of `start`, as
//! a program would want; one that does not answer in time no longer holds
//! the program up. The id of a new session is minted here, so it is known
//! at once either way; records wait in the buffer until the session exists.

mod config;
mod worker;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, Sender};
use log::LevelFilter;
use sessions_core::log_records::{Drops, LossySender, entry_from_record, lossy_queue};
use sessions_core::{IdMinter, Session, SessionId, SessionUpdate, Upserted};

pub use config::LoggerConfig;

use crate::{Client, ClientError};

/// How long starting a logger waits for the session to be registered
/// before it lets the program go on and registers in the background.
pub const REGISTRATION_WAIT: Duration = Duration::from_secs(1);

thread_local! {
    /// Set on the background thread: its records must not go back in.
    static IN_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// The `log::Log` implementation. [`SessionLogger::install`] makes it the
/// process's logger; [`SessionLogger::start`] hands it out, for programs that
/// combine loggers themselves.
#[derive(Debug)]
pub struct SessionLogger {
    queue: LossySender<Message>,
    level: LevelFilter,
    flush_timeout: Duration,
}

/// Owns the background thread. [`LoggerHandle::flush`] waits until what was
/// logged before has been sent; dropping the handle, or
/// [`LoggerHandle::shutdown`], flushes and stops the thread, and ends the
/// session if the configuration says so.
#[derive(Debug)]
#[must_use = "dropping the handle shuts the logger down at once"]
pub struct LoggerHandle {
    id: SessionId,
    /// As registered, when that finished while `start` waited.
    session: Option<Session>,
    sender: Sender<Message>,
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
    flush_timeout: Duration,
}

/// What became of the records so far. Every record the logger accepted
/// (enabled at its level) is in exactly one of these, or still buffered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoggerStats {
    /// Stored in the session.
    pub shipped: u64,
    /// Turned away because the buffer was full; reported in the session.
    pub dropped: u64,
    /// Taken from the buffer but not stored: the server refused them or could
    /// not be reached. See [`LoggerHandle::last_error`].
    pub lost: u64,
}

/// Why a logger could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggerError {
    #[error("cannot register the log session: {0}")]
    Client(#[from] ClientError),
    #[error("session {0} has ended; a logger cannot join it")]
    Ended(SessionId),
    #[error("another logger is installed already; the `log` crate takes one per process")]
    AlreadyInstalled,
    #[error("cannot start the logger's thread: {0}")]
    Thread(#[source] std::io::Error),
}

enum Message {
    Record(sessions_core::session_log::NewEntry),
    /// Answered once everything before it has been sent.
    Flush(Sender<()>),
    /// Answered once everything before it has been sent and the session
    /// ended (if it is to be); the thread then stops.
    Stop(Sender<()>),
}

/// Counters the logger, the handle and the thread share.
#[derive(Debug, Default)]
struct Shared {
    /// Records the full buffer turned away.
    drops: Arc<Drops>,
    shipped: AtomicU64,
    lost: AtomicU64,
    /// The handle stopped waiting for the thread: no more retries.
    stopping: AtomicBool,
    last_error: Mutex<Option<ClientError>>,
}

impl Shared {
    /// Whether the latest error means nothing will ever be stored.
    fn last_error_is_final(&self) -> bool {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(worker::is_final)
    }

    fn note_error(&self, error: ClientError) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }
}

impl SessionLogger {
    /// Registers (or joins) the session, starts the background thread and
    /// makes this the process's `log` logger at the configured level.
    ///
    /// Fails when the server cannot be reached or refuses the session within
    /// [`REGISTRATION_WAIT`]; the program can then log some other way. A
    /// server that does not answer by then is registered with in the
    /// background: this never blocks for longer. Keep the handle for as long
    /// as the program logs.
    pub fn install(config: LoggerConfig) -> Result<LoggerHandle, LoggerError> {
        let level = config.level;
        let (logger, handle) = SessionLogger::start(config)?;
        if log::set_boxed_logger(Box::new(logger)).is_err() {
            // Dropping the handle stops the thread, and ends a session it created.
            drop(handle);
            return Err(LoggerError::AlreadyInstalled);
        }
        log::set_max_level(level);
        Ok(handle)
    }

    /// Registers (or joins) the session and starts the background thread,
    /// without installing anything. Waits for the registration at most
    /// [`REGISTRATION_WAIT`], as [`SessionLogger::install`] does.
    pub fn start(config: LoggerConfig) -> Result<(SessionLogger, LoggerHandle), LoggerError> {
        let client = Client::new(config.client.clone())?;
        let id = config.join.unwrap_or_else(|| IdMinter::new().mint());
        let (queue, receiver) = lossy_queue(config.capacity);
        let shared = Arc::new(Shared {
            drops: Arc::clone(queue.drops()),
            ..Shared::default()
        });
        let (registered, registration_answer) = crossbeam_channel::bounded(1);
        let worker_shared = Arc::clone(&shared);
        let worker_config = config.clone();
        let thread = std::thread::Builder::new()
            .name("session-logger".into())
            .spawn(move || {
                IN_WORKER.with(|flag| flag.set(true));
                let outcome = register(&client, &worker_config, id);
                let (created, accepted) = match &outcome {
                    Ok((_, created)) => (*created, true),
                    Err(_) => (false, false),
                };
                if let Err(LoggerError::Client(error)) = &outcome {
                    worker_shared.note_error(error.clone());
                }
                // Nobody listens once `start` stopped waiting.
                let _ = registered.send(outcome);
                let worker = worker::Worker {
                    client,
                    session: id,
                    receiver,
                    shared: worker_shared,
                    end_on_shutdown: worker_config.end_on_shutdown.unwrap_or(created),
                    registered: accepted,
                    registration: registration(&worker_config),
                };
                worker.run();
            })
            .map_err(LoggerError::Thread)?;
        let session = match registration_answer.recv_timeout(REGISTRATION_WAIT) {
            Ok(Ok((session, _))) => Some(session),
            Ok(Err(error)) => {
                // The thread stops once the channel closes.
                drop(queue);
                let _ = thread.join();
                return Err(error);
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        };
        let sender = queue.channel().clone();
        let logger = SessionLogger {
            queue,
            level: config.level,
            flush_timeout: config.flush_timeout,
        };
        let handle = LoggerHandle {
            id,
            session,
            sender,
            shared,
            worker: Some(thread),
            flush_timeout: config.flush_timeout,
        };
        Ok((logger, handle))
    }
}

/// Registers the session to log into, `id`: a new one minted for this
/// logger, or the one to join. Returns it and whether it was created for
/// this logger.
fn register(
    client: &Client,
    config: &LoggerConfig,
    id: SessionId,
) -> Result<(Session, bool), LoggerError> {
    if config.join.is_none() {
        return match client.upsert(id, &registration(config))? {
            Upserted::Created(session) => Ok((session, true)),
            // A freshly minted id is never taken; if it were, the session
            // is someone else's and not ours to end.
            Upserted::Updated(session) => Ok((session, false)),
        };
    }
    match client.get(id) {
        Ok(session) if session.ended.is_some() => Err(LoggerError::Ended(id)),
        Ok(session) if config.metadata.is_empty() => Ok((session, false)),
        Ok(_) => Ok((client.patch_metadata(id, &config.metadata)?, false)),
        Err(error) if error.status() == Some(404) => {
            // Another process may have created it in the meantime; then
            // this updated it, which is joining all the same.
            match client.upsert(id, &registration(config))? {
                Upserted::Created(session) | Upserted::Updated(session) => Ok((session, false)),
            }
        }
        Err(error) => Err(error.into()),
    }
}

/// What a new session is registered with, and a lost one again: the
/// configured properties, and the program's pid unless given.
fn registration(config: &LoggerConfig) -> SessionUpdate {
    let mut metadata = config.metadata.clone();
    if config.join.is_none() && !metadata.contains_key("pid") {
        metadata.insert("pid".into(), std::process::id().into());
    }
    SessionUpdate {
        appname: Some(config.appname.clone()),
        mode: Some(config.mode.clone()),
        jobid: config.jobid.clone().map(Some),
        metadata: Some(metadata),
    }
}

impl log::Log for SessionLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level && !IN_WORKER.with(Cell::get)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // After a shutdown nothing is shipped any more, by design.
        self.queue.offer(Message::Record(entry_from_record(record)));
    }

    /// Waits (up to the flush timeout) until every record logged before has
    /// been sent.
    fn flush(&self) {
        if !IN_WORKER.with(Cell::get) {
            request(self.queue.channel(), self.flush_timeout, Message::Flush);
        }
    }
}

impl LoggerHandle {
    /// The session as the server registered it, when that happened while
    /// the logger started; `None` when it was still under way (it goes on
    /// in the background).
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The session's id, known from the start.
    pub fn session_id(&self) -> SessionId {
        self.id
    }

    /// Waits until every record logged before this call has been sent (or
    /// given up on). False when that took longer than the flush timeout.
    pub fn flush(&self) -> bool {
        request(&self.sender, self.flush_timeout, Message::Flush)
    }

    pub fn stats(&self) -> LoggerStats {
        LoggerStats {
            shipped: self.shared.shipped.load(Ordering::Relaxed),
            dropped: self.shared.drops.total(),
            lost: self.shared.lost.load(Ordering::Relaxed),
        }
    }

    /// The latest error from the server, if any: why records were lost.
    pub fn last_error(&self) -> Option<ClientError> {
        self.shared
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Flushes, ends the session if it is to be ended, and stops the thread.
    /// Records logged afterwards are ignored.
    pub fn shutdown(mut self) -> LoggerStats {
        self.stop();
        self.stats()
    }

    fn stop(&mut self) {
        let Some(thread) = self.worker.take() else {
            return;
        };
        if request(&self.sender, self.flush_timeout, Message::Stop) {
            let _ = thread.join();
        } else {
            // The server is too slow: leave the thread to finish what is
            // buffered without retrying, rather than hold the program up.
            self.shared.stopping.store(true, Ordering::Relaxed);
        }
    }
}

impl Drop for LoggerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends a control message behind the buffered records and waits for its
/// answer; false when either took longer than `timeout`.
fn request(
    sender: &Sender<Message>,
    timeout: Duration,
    message: fn(Sender<()>) -> Message,
) -> bool {
    let deadline = Instant::now() + timeout;
    let (done, answered) = crossbeam_channel::bounded(1);
    if sender.send_deadline(message(done), deadline).is_err() {
        return false;
    }
    answered.recv_deadline(deadline).is_ok()
}
