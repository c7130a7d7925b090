//! The background thread: takes records from the buffer and appends them to
//! the session in batches.
//!
//! Batching needs no timer: while one append is on its way, records pile up
//! in the buffer, and the next batch takes all of them (up to a batch's
//! limits). A quiet program sends each record as it comes; a busy one sends
//! fewer, larger requests.
//!
//! A batch is retried only when no answer came. If the answer was merely
//! late (a timeout), the server may have stored it already, and the retry
//! stores it twice: for a log, a repeated line beats a missing one.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crossbeam_channel::{Receiver, TryRecvError};
use jiff::Timestamp;
use sessions_core::log::{EntryData, Level, NewEntry};
use sessions_core::{Metadata, SessionId};

use super::{IN_WORKER, Message, Shared};
use crate::{BatchLimits, Client, ClientError, EntryBatch};

/// Attempts per batch while the server cannot be reached, and the pause
/// before the first retry (doubled for each further one).
const ATTEMPTS: u32 = 3;
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(250);

pub(super) struct Worker {
    pub(super) client: Client,
    pub(super) session: SessionId,
    pub(super) receiver: Receiver<Message>,
    pub(super) shared: Arc<Shared>,
    pub(super) end_on_shutdown: bool,
    /// False when the session could not be registered: nothing is stored.
    pub(super) registered: bool,
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
        let overflow = self.shared.unreported.swap(0, Ordering::Relaxed);
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
        for attempt in 1..=ATTEMPTS {
            match self.client.append_entries(self.session, &entries) {
                Ok(_) => {
                    self.shared.shipped.fetch_add(records, Ordering::Relaxed);
                    return;
                }
                Err(error)
                    if error.is_transport()
                        && attempt < ATTEMPTS
                        && !self.shared.stopping.load(Ordering::Relaxed) =>
                {
                    std::thread::sleep(pause);
                    pause *= 2;
                }
                Err(error) => {
                    self.shared.lost.fetch_add(records, Ordering::Relaxed);
                    // The report did not arrive either; the next batch makes it.
                    self.shared
                        .unreported
                        .fetch_add(overflow, Ordering::Relaxed);
                    *refused = is_final(&error);
                    self.shared.note_error(error);
                    return;
                }
            }
        }
    }
}

/// The session is unknown or ended, or the server refuses us: no later
/// append can succeed either. (A 400 or 413 refuses one batch only.)
fn is_final(error: &ClientError) -> bool {
    matches!(error.status(), Some(401 | 403 | 404 | 409))
}

/// The warn entry that says how many records the full buffer turned away.
pub(super) fn overflow_report(dropped: u64) -> NewEntry {
    let mut data = Metadata::new();
    data.insert("dropped_records".into(), dropped.into());
    NewEntry::new(
        Timestamp::now(),
        Level::Warn,
        format!("{dropped} log records were dropped: they came faster than they could be sent"),
    )
    .with_data(EntryData::from_object(&data))
}
