//! The thread that registers `zen run`'s session and ships the buffered
//! lines to it, so nothing the server does can hold up the command.
//!
//! The session's id is minted by zen before the command starts (the command
//! gets it in its environment), and registered here, in the background:
//! a server that is slow to answer delays the session, never the command.
//! Lines wait in the [`OutputBuffer`] meanwhile.
//!
//! A batch that fails because the server cannot be reached or does not
//! answer is tried again, with a growing pause, for as long as the command
//! runs; the buffer takes the new lines meanwhile and gives up the oldest
//! when full. Once the command has ended, the rest is flushed while the
//! server takes batches, within [`FLUSH_DEADLINE`]; when that passes, or
//! the server takes nothing for [`FLUSH_STALL`], only the last
//! [`LAST_LINES`] lines are kept and tried for [`LAST_LINES_GRACE`] more,
//! so the end of the output gets through whenever the server can take it.
//! A signal to zen after the command ended goes straight to the last
//! lines, for [`HURRIED_GRACE`]. A refusal (the session is
//! gone, a bad token) stops shipping for good: what is left is counted as
//! dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sessions_client::{BatchLimits, Client, ClientError, EntryBatch, SessionId, SessionUpdate};

use super::buffer::{OutputBuffer, Taken};
use crate::follow::eprintln_quiet;
use crate::lines::LINGER;

/// How long the rest of the output may take to reach the server once the
/// command ended, as long as the server keeps taking batches.
pub(crate) const FLUSH_DEADLINE: Duration = Duration::from_secs(60);
/// How long the server may take no batch at all once the command ended.
pub(crate) const FLUSH_STALL: Duration = Duration::from_secs(10);
/// What is kept of the output when the flush runs out of time.
pub(crate) const LAST_LINES: u64 = 1_000;
/// How long the last lines may still take after [`FLUSH_DEADLINE`].
pub(crate) const LAST_LINES_GRACE: Duration = Duration::from_secs(5);
/// How long they may take when zen was signalled after the command ended.
pub(crate) const HURRIED_GRACE: Duration = Duration::from_secs(2);

/// Batches as large as the server's defaults allow comfortably: fewer
/// requests is what makes a million lines a second possible.
const SHIP_LIMITS: BatchLimits = BatchLimits {
    max_entries: 5_000,
    max_bytes: 2 << 20,
};
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_RETRY_PAUSE: Duration = Duration::from_secs(2);

/// One warning per run: the command's own output matters more.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    given: AtomicBool,
}

impl Warnings {
    pub(crate) fn warn(&self, line: &str) {
        if !self.given.swap(true, Ordering::Relaxed) {
            eprintln_quiet(line);
        }
    }
}

/// How shipping went, once the buffer is empty and closed.
#[derive(Debug)]
pub(crate) struct Shipped {
    /// The session, when it was registered.
    pub(crate) session: Option<SessionId>,
}

/// Starts the thread. It returns once the buffer is closed and everything
/// in it was shipped or given up.
pub(crate) fn start(
    client: Option<Arc<Client>>,
    id: SessionId,
    registration: SessionUpdate,
    buffer: Arc<OutputBuffer>,
    warnings: Arc<Warnings>,
) -> JoinHandle<Shipped> {
    std::thread::spawn(move || {
        let Some(client) = client else {
            buffer.discard_all();
            return Shipped { session: None };
        };
        if let Err(error) = client.upsert(id, &registration) {
            warnings.warn(&format!(
                "zen: cannot create a session ({}); running the command without one",
                error
            ));
            buffer.discard_all();
            return Shipped { session: None };
        }
        let mut shipper = Shipper {
            client: &client,
            id,
            buffer: &buffer,
            warnings: &warnings,
            trimmed_at: None,
            last_stored: Instant::now(),
        };
        shipper.ship_everything();
        Shipped { session: Some(id) }
    })
}

struct Shipper<'a> {
    client: &'a Client,
    id: SessionId,
    buffer: &'a OutputBuffer,
    warnings: &'a Warnings,
    /// When the flush ran out of time and was cut down to the last lines.
    trimmed_at: Option<Instant>,
    /// When the server last took a batch.
    last_stored: Instant,
}

impl Shipper<'_> {
    fn ship_everything(&mut self) {
        let mut batch = EntryBatch::new(SHIP_LIMITS);
        loop {
            let far = Instant::now() + Duration::from_secs(3600);
            // The command's lines in the batch: what is lost if it is.
            let mut lines = match self.buffer.take(&mut batch, far) {
                Taken::Some { lines } => lines,
                Taken::Nothing => continue,
                Taken::Finished => return,
            };
            // Small batches wait a moment for company; under load the
            // buffer fills a batch at once and nothing waits.
            let linger_until = Instant::now() + LINGER;
            while !batch.is_full() {
                match self.buffer.take(&mut batch, linger_until) {
                    Taken::Some { lines: more } => lines += more,
                    Taken::Nothing | Taken::Finished => break,
                }
            }
            match self.send_with_retries(&batch) {
                Sent::Stored => {}
                Sent::Abandoned => self.buffer.count_dropped(lines),
                Sent::Refused => {
                    self.buffer.count_dropped(lines);
                    self.buffer.discard_all();
                }
            }
            batch.take();
        }
    }

    fn send_with_retries(&mut self, batch: &EntryBatch) -> Sent {
        let mut pause = FIRST_RETRY_PAUSE;
        let mut failed_before = false;
        loop {
            if self.trim_when_out_of_time() && failed_before {
                // This batch is older than the last lines: they go first.
                return Sent::Abandoned;
            }
            let error = match self.client.append_entries(self.id, batch.entries()) {
                Ok(_) => {
                    self.last_stored = Instant::now();
                    return Sent::Stored;
                }
                Err(error) => error,
            };
            failed_before = true;
            if !is_worth_retrying(&error) {
                self.warnings.warn(&format!(
                    "zen: cannot store the command's output in session {} ({}); the command goes on",
                    self.id,
                    error
                ));
                return Sent::Refused;
            }
            self.warnings.warn(&format!(
                "zen: cannot store the command's output in session {} for now ({}); trying again, keeping the newest lines meanwhile",
                self.id,
                error
            ));
            if self.out_of_time() {
                return Sent::Refused;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(LONGEST_RETRY_PAUSE);
        }
    }

    /// Past the flush deadline, or when the server stalls the flush,
    /// everything but the last lines goes. True when this call did it.
    fn trim_when_out_of_time(&mut self) -> bool {
        let Some(ended) = self.buffer.closed_at() else {
            return false;
        };
        let stalled = ended.max(self.last_stored).elapsed() > FLUSH_STALL;
        let out_of_time = stalled || ended.elapsed() > FLUSH_DEADLINE;
        if self.trimmed_at.is_some() || !(out_of_time || self.buffer.hurried()) {
            return false;
        }
        self.trimmed_at = Some(Instant::now());
        self.buffer.keep_only_last(LAST_LINES);
        true
    }

    /// The last lines had their chance too.
    fn out_of_time(&self) -> bool {
        let grace = if self.buffer.hurried() {
            HURRIED_GRACE
        } else {
            LAST_LINES_GRACE
        };
        self.trimmed_at
            .is_some_and(|trimmed_at| trimmed_at.elapsed() > grace)
    }
}

/// What became of a batch.
enum Sent {
    Stored,
    /// Given up to let the last lines through first.
    Abandoned,
    /// It will never be stored, nor anything after it.
    Refused,
}

/// Transport failures and overload may pass; a refusal will not.
fn is_worth_retrying(error: &ClientError) -> bool {
    error.is_transport() || matches!(error.status(), Some(408 | 429 | 500..=599))
}
