//! The long polls waiting on a log, by session: what an append message
//! wakes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use event_listener::Event;
use sessions_core::{SessionId, Wakeup};

/// The map is first swept of sessions nobody waits on at this size.
const FIRST_SWEEP: usize = 1024;

/// The event each session's long polls wait on. An event lives as long as
/// someone waits on it; its entry here stays until the next sweep, which
/// comes once the map has doubled since the last one. So the map stays
/// within twice the sessions waited on, and starting a long poll costs the
/// same with ten thousand others waiting as with none (a sweep at every
/// new session, once past a fixed size, would walk them all each time).
#[derive(Debug)]
pub(super) struct LogWaiters(Mutex<Events>);

#[derive(Debug)]
struct Events {
    by_session: HashMap<SessionId, Weak<Event>>,
    sweep_at: usize,
}

impl Default for LogWaiters {
    fn default() -> LogWaiters {
        LogWaiters(Mutex::new(Events {
            by_session: HashMap::new(),
            sweep_at: FIRST_SWEEP,
        }))
    }
}

impl LogWaiters {
    /// A wake-up for the next [`LogWaiters::wake`] of `id`; listening
    /// starts now.
    pub(super) fn listen(&self, id: SessionId) -> Wakeup {
        let event = {
            let mut events = self.lock();
            match events.by_session.get(&id).and_then(Weak::upgrade) {
                Some(event) => event,
                None => {
                    if events.by_session.len() >= events.sweep_at {
                        events
                            .by_session
                            .retain(|_, event| event.strong_count() > 0);
                        events.sweep_at = FIRST_SWEEP.max(2 * events.by_session.len());
                    }
                    let event = Arc::new(Event::new());
                    events.by_session.insert(id, Arc::downgrade(&event));
                    event
                }
            }
        };
        let listener = event.listen();
        Box::pin(async move {
            // The event lives as long as someone listens to it.
            let _event = event;
            listener.await;
        })
    }

    pub(super) fn wake(&self, id: SessionId) {
        let event = self.lock().by_session.get(&id).and_then(Weak::upgrade);
        if let Some(event) = event {
            event.notify(usize::MAX);
        }
    }

    pub(super) fn wake_all(&self) {
        let events: Vec<Arc<Event>> = self
            .lock()
            .by_session
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for event in events {
            event.notify(usize::MAX);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Events> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn id(n: u32) -> SessionId {
        format!("{n:024x}").parse().unwrap()
    }

    #[test]
    fn sessions_nobody_waits_on_are_swept_and_the_others_still_wake() {
        let waiters = LogWaiters::default();
        let waiting: Vec<Wakeup> = (0..3_000).map(|n| waiters.listen(id(n))).collect();
        for n in 3_000..20_000 {
            drop(waiters.listen(id(n)));
            let entries = waiters.lock().by_session.len();
            assert!(
                entries <= 2 * 3_000 + 1,
                "{entries} entries for 3,000 waited on"
            );
        }
        for n in 0..3_000 {
            waiters.wake(id(n));
        }
        for wakeup in waiting {
            assert!(wakeup.now_or_never().is_some(), "every long poll woke");
        }
    }

    #[test]
    fn waking_all_wakes_every_session_waited_on() {
        let waiters = LogWaiters::default();
        let waiting: Vec<Wakeup> = (0..10).map(|n| waiters.listen(id(n))).collect();
        waiters.wake_all();
        for wakeup in waiting {
            assert!(wakeup.now_or_never().is_some());
        }
    }
}
