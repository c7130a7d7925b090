//! The background thread: takes records from the buffer and appends them to
//! the session in batches.
//!
//! Batching needs no timer: while one append is on its way, records pile up
//! in the buffer, and the next batch takes all of them (up to a batch's
//! limits). A quiet program sends each record as it comes; a busy one sends
//! fewer, larger requests.
//!
//! A batch is retried only when no answer came, or when the server no
//! longer knows the session (404: it restarted and lost everything): then
//! the session is registered again, same id, same properties, and the batch
//! follows. While the server is away the batch is tried again, with growing
//! pauses up to [`LONGEST_RETRY_PAUSE`], for as long as it takes; new
//! records wait in the bounded buffer meanwhile, and those that find it
//! full are counted and reported once the server is back. Only a shutdown
//! that could not wait stops the retries. If an answer was merely late (a
//! timeout), the server may have stored the batch already, and the retry
//! stores it twice: for a log, a repeated line beats a missing one.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crossbeam_channel::{Receiver, TryRecvError};
use sessions_core::log_records::overflow_report;
use sessions_core::{SessionId, SessionUpdate};

use super::{IN_WORKER, Message, Shared};
use crate::{BatchLimits, Client, ClientError, EntryBatch};

/// The pause before the first retry, doubled for each further one up to
/// the longest.
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(100);
pub(super) const LONGEST_RETRY_PAUSE: Duration = Duration::from_secs(2);

pub(super) struct Worker {
    pub(super) client: Client,
    pub(super) session: SessionId,
    pub(super) receiver: Receiver<Message>,
    pub(super) shared: Arc<Shared>,
    pub(super) end_on_shutdown: bool,
    /// False when the session could not be registered: nothing is stored.
    pub(super) registered: bool,
    /// What the session is registered again with after a server restart.
    pub(super) registration: SessionUpdate,
}

impl Worker {
    pub(super) fn run(self) {
        IN_WORKER.with(|flag| flag.set(true));
        let mut batch = EntryBatch::new(BatchLimits::default());
        // Once the session is gone or access is refused, nothing will ever be
        // stored: records are still taken from the buffer, and counted lost.
        let mut refused = !self.registered;
        while let Ok(first) = self.receiver.recv() {
            let mut control = None;
            match first {
                Message::Record(entry) => batch.push(entry),
                other => control = Some(other),
            }
            while control.is_none() && !batch.is_full() {
                match self.receiver.try_recv() {
                    Ok(Message::Record(entry)) => batch.push(entry),
                    Ok(other) => control = Some(other),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            self.ship(&mut batch, &mut refused);
            match control {
                Some(Message::Flush(done)) => {
                    let _ = done.send(());
                }
                Some(Message::Stop(done)) => {
                    if self.end_on_shutdown
                        && !refused
                        && let Err(error) = self.client.end(self.session)
                    {
                        self.shared.note_error(error);
                    }
                    let _ = done.send(());
                    return;
                }
                Some(Message::Record(_)) | None => {}
            }
            // The handle gave up waiting for a shutdown: finish what is
            // buffered, without retries, and stop.
            if self.shared.stopping.load(Ordering::Relaxed) && self.receiver.is_empty() {
                return;
            }
        }
    }

    /// Sends the batch, with a report of records dropped since the last one.
    fn ship(&self, batch: &mut EntryBatch, refused: &mut bool) {
        let records = batch.len() as u64;
        let overflow = self.shared.drops.take_unreported();
        if overflow > 0 {
            batch.push(overflow_report(overflow));
        }
        if batch.is_empty() {
            return;
        }
        let entries = batch.take();
        if *refused {
            self.shared.lost.fetch_add(records, Ordering::Relaxed);
            return;
        }
        let mut pause = FIRST_RETRY_PAUSE;
        loop {
            let error = match self.client.append_entries(self.session, &entries) {
                Ok(_) => {
                    self.shared.shipped.fetch_add(records, Ordering::Relaxed);
                    return;
                }
                Err(error) => error,
            };
            let stopping = self.shared.stopping.load(Ordering::Relaxed);
            let retry = if error.status() == Some(404) && !stopping {
                // The server restarted: the session comes back as it was.
                match self.client.upsert(self.session, &self.registration) {
                    Ok(_) => continue,
                    Err(again) => {
                        let passing = again.is_transport();
                        self.shared.note_error(again);
                        passing
                    }
                }
            } else {
                let passing = error.is_transport();
                self.shared.note_error(error);
                passing
            };
            if !retry || stopping {
                self.shared.lost.fetch_add(records, Ordering::Relaxed);
                // The report did not arrive either; the next batch makes it.
                self.shared.drops.restore_unreported(overflow);
                *refused = !retry && self.shared.last_error_is_final();
                return;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(LONGEST_RETRY_PAUSE);
        }
    }
}

/// The session is unknown (and could not be registered again) or ended,
/// or the server refuses us: no later append can succeed either. (A 400 or
/// 413 refuses one batch only.)
pub(super) fn is_final(error: &ClientError) -> bool {
    matches!(error.status(), Some(401 | 403 | 404 | 409))
}
