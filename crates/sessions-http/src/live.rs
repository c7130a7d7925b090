//! Live updates: the session list, serialized once per change and shared by
//! every WebSocket watcher (and, through [`ListCache`], by every reader of
//! `GET /sessions/`).
//!
//! One publisher task watches the store. When something changes it writes
//! `{"type":"sessions","server":...,"sessions":[...]}` once, into a `Bytes`,
//! and puts it in the [`SnapshotFeed`]; two lists a second at most (bursts of
//! two), and the latest list again after five quiet seconds. Each watcher's connection pulls
//! the newest list from the feed only when its socket can take more, so a
//! slow watcher skips lists instead of queueing them, and costs the others
//! nothing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::web::Bytes;
use event_listener::{Event, EventListener};
use sessions_core::{SessionStore, StatusFilter};
use tokio::time::Instant;

use crate::wire::session_list_json;

mod list_cache;

pub(crate) use list_cache::ListCache;

/// How long the list may go without a push, at most.
pub(crate) const MAX_PUSH_INTERVAL: Duration = Duration::from_secs(5);

/// The session list for watchers, and the count of watchers.
#[derive(Debug)]
pub struct LiveUpdates {
    store: Arc<dyn SessionStore>,
    feed: SnapshotFeed,
    lists: ListCache,
    watchers: AtomicUsize,
    closing: AtomicBool,
    /// Notified when `closing` is set.
    closed: Event,
}

/// One serialized session list.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// Grows by one with every push, changed list or not.
    pub(crate) push: u64,
    /// The store's change version the list was taken at.
    pub(crate) version: u64,
    /// A push of an unchanged list, sent so that watchers hear from the
    /// server at least every [`MAX_PUSH_INTERVAL`].
    pub(crate) heartbeat: bool,
    pub(crate) list: List,
}

/// A session list as JSON, and as a permessage-deflate message for the
/// watchers that negotiated compression: both made once, shared by all.
#[derive(Debug, Clone)]
pub(crate) struct List {
    pub(crate) json: Bytes,
    pub(crate) deflated: Bytes,
}

impl List {
    fn new(json: Vec<u8>) -> List {
        let deflated = deflate_message(&json);
        List {
            json: Bytes::from(json),
            deflated,
        }
    }
}

/// Compresses one message for permessage-deflate (RFC 7692) with no context
/// takeover: a raw DEFLATE stream, sync-flushed, without the final
/// `00 00 ff ff`. Without context takeover every message stands alone, which
/// is what lets every watcher get the same bytes.
fn deflate_message(json: &[u8]) -> Bytes {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(json.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(json);
    let _ = encoder.flush();
    let mut deflated = std::mem::take(encoder.get_mut());
    if deflated.ends_with(&[0, 0, 0xff, 0xff]) {
        deflated.truncate(deflated.len() - 4);
    }
    Bytes::from(deflated)
}

/// The newest snapshot, and an event for when there is a newer one.
#[derive(Debug)]
pub(crate) struct SnapshotFeed {
    latest: Mutex<Snapshot>,
    pushed: Event,
}

impl SnapshotFeed {
    pub(crate) fn latest(&self) -> Snapshot {
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Listen, then look at `latest`: a push in between still wakes the
    /// listener.
    pub(crate) fn listen(&self) -> EventListener {
        self.pushed.listen()
    }

    /// Replaces the latest list with a newer one of the same push, for the
    /// watchers that connect from now on; those that had this push already
    /// get the change with the next one.
    fn refresh(&self, version: u64, list: List) {
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        if version > latest.version {
            latest.version = version;
            latest.list = list;
        }
    }

    fn push(&self, version: u64, heartbeat: bool, list: List) {
        {
            let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
            latest.push += 1;
            latest.version = version;
            latest.heartbeat = heartbeat;
            latest.list = list;
        }
        self.pushed.notify(usize::MAX);
    }
}

impl LiveUpdates {
    /// Takes the first snapshot right away, so the first watcher never waits.
    pub fn new(store: Arc<dyn SessionStore>) -> Arc<LiveUpdates> {
        let version = store.change_version();
        let list = serialize(store.as_ref());
        Arc::new(LiveUpdates {
            lists: ListCache::new(Arc::clone(&store)),
            store,
            feed: SnapshotFeed {
                latest: Mutex::new(Snapshot {
                    push: 1,
                    version,
                    heartbeat: false,
                    list,
                }),
                pushed: Event::new(),
            },
            watchers: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            closed: Event::new(),
        })
    }

    pub(crate) fn feed(&self) -> &SnapshotFeed {
        &self.feed
    }

    /// The list a new watcher starts with: the latest push if it is current,
    /// else a fresh one, so that nobody starts with a list up to one push
    /// interval old. The fresh list replaces the feed's, so that watchers
    /// connecting together share it: once, each of them serialized its own,
    /// and 300 of them held 300 copies.
    pub(crate) fn first_list(&self) -> Snapshot {
        let latest = self.feed.latest();
        let version = self.store.change_version();
        if latest.version == version {
            return latest;
        }
        self.feed.refresh(version, serialize(self.store.as_ref()));
        self.feed.latest()
    }

    /// `{"sessions":[...]}` for `GET /sessions/?status=`, shared by every
    /// request made while the store does not change.
    pub(crate) fn list_json(&self, filter: StatusFilter) -> Bytes {
        self.lists.get(filter)
    }

    /// Watchers connected now.
    pub fn watchers(&self) -> usize {
        self.watchers.load(Ordering::Acquire)
    }

    /// Counts a watcher for as long as the returned guard lives.
    pub(crate) fn watcher(self: &Arc<Self>) -> WatcherGuard {
        self.watchers.fetch_add(1, Ordering::AcqRel);
        WatcherGuard {
            live: Arc::clone(self),
        }
    }

    /// Asks every watcher connection to close with a normal close frame, and
    /// stops the publisher.
    pub fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.closed.notify(usize::MAX);
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Resolves once [`LiveUpdates::close`] was called.
    pub(crate) async fn wait_closed(&self) {
        loop {
            let listener = self.closed.listen();
            if self.is_closing() {
                return;
            }
            listener.await;
        }
    }

    /// Publishes the session list until [`LiveUpdates::close`] is called or
    /// the store shuts down: at once after a change while the
    /// [`PushBudget`] allows (two a second), and at least every
    /// [`MAX_PUSH_INTERVAL`]. Run it as one task on the server's runtime.
    pub async fn publish(self: Arc<Self>) {
        let store = self.store.as_ref();
        // From the version of the list in the feed, not the store's now:
        // changes made since that list was taken must still be pushed.
        let mut published = self.feed.latest().version;
        let mut pushes = PushBudget::new(Instant::now());
        loop {
            let heartbeat = pushes.latest() + MAX_PUSH_INTERVAL;
            if let Some(change) = store.wait_for_change(published) {
                tokio::select! {
                    _ = change => {}
                    _ = tokio::time::sleep_until(heartbeat) => {}
                    _ = self.wait_closed() => {}
                }
            }
            if self.is_closing() || store.is_shutting_down() {
                return;
            }
            if store.change_version() != published {
                if let Some(allowed) = pushes.next_allowed(Instant::now()) {
                    // Changes meanwhile go out with this push.
                    tokio::select! {
                        _ = tokio::time::sleep_until(allowed) => {}
                        _ = self.wait_closed() => return,
                    }
                }
                let version = store.change_version();
                self.feed.push(version, false, serialize(store));
                published = version;
            } else if Instant::now() >= heartbeat {
                // Nothing changed: the same bytes again, as a heartbeat.
                self.feed.push(published, true, self.feed.latest().list);
            } else {
                continue;
            }
            pushes.record(Instant::now());
        }
    }
}

/// Lists pushed per second, on average, at most.
pub(crate) const PUSHES_PER_SECOND: f64 = 2.0;
/// Pushes that may go out back to back after a quiet spell.
const PUSH_BURST: f64 = 2.0;

/// A token bucket for pushes: [`PUSHES_PER_SECOND`] on average, bursts of
/// [`PUSH_BURST`].
///
/// A bucket rather than a fixed gap or window: with changes arriving exactly
/// as often as pushes are allowed, a fixed gap makes each push wait for the
/// previous one's lateness, and one slow push would delay all that follow;
/// the bucket's spare token absorbs such jitter.
#[derive(Debug, Clone, Copy)]
struct PushBudget {
    tokens: f64,
    counted_at: Instant,
    /// When the latest push went out, for the heartbeat.
    latest: Instant,
}

impl PushBudget {
    /// `start` counts as the latest push (the first list, taken then).
    fn new(start: Instant) -> PushBudget {
        PushBudget {
            tokens: PUSH_BURST - 1.0,
            counted_at: start,
            latest: start,
        }
    }

    fn latest(&self) -> Instant {
        self.latest
    }

    fn refill(&mut self, now: Instant) {
        let earned =
            now.saturating_duration_since(self.counted_at).as_secs_f64() * PUSHES_PER_SECOND;
        self.tokens = (self.tokens + earned).min(PUSH_BURST);
        self.counted_at = self.counted_at.max(now);
    }

    /// When the next push may go out, if not `now`.
    fn next_allowed(&mut self, now: Instant) -> Option<Instant> {
        self.refill(now);
        (self.tokens < 1.0)
            .then(|| now + Duration::from_secs_f64((1.0 - self.tokens) / PUSHES_PER_SECOND))
    }

    fn record(&mut self, at: Instant) {
        self.refill(at);
        self.tokens -= 1.0;
        self.latest = at;
    }
}

/// Keeps a watcher counted; dropped when its connection ends.
#[derive(Debug)]
pub(crate) struct WatcherGuard {
    live: Arc<LiveUpdates>,
}

impl Drop for WatcherGuard {
    fn drop(&mut self) {
        self.live.watchers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// `{"type":"sessions","server":"<id>","sessions":[...active and ended...]}`.
fn serialize(store: &dyn SessionStore) -> List {
    let sessions = store.list(StatusFilter::All);
    let list = session_list_json(&sessions);
    let server = store
        .server_session_id()
        .map(|id| format!("\"{id}\""))
        .unwrap_or_else(|| "null".into());
    let mut out = Vec::with_capacity(list.len() + 64);
    out.extend_from_slice(b"{\"type\":\"sessions\",\"server\":");
    out.extend_from_slice(server.as_bytes());
    out.push(b',');
    // `list` is `{"sessions":[...]}`: splice its inside in.
    out.extend_from_slice(&list[1..]);
    List::new(out)
}

#[cfg(test)]
mod tests {
    use sessions_core::{Limits, NewSession, SessionRegistry};

    use super::*;

    fn session(appname: &str) -> NewSession {
        NewSession {
            appname: appname.into(),
            mode: "test".into(),
            ..NewSession::default()
        }
    }

    /// The publisher once started from the registry's version at the time it
    /// started, so changes between the first list and its start (the
    /// server's start-up log lines) were never pushed.
    #[actix_web::test]
    async fn changes_made_before_the_publisher_starts_are_pushed() {
        let registry = Arc::new(SessionRegistry::new(Limits::default()));
        let live = LiveUpdates::new(registry.clone());
        registry.create(session("early")).unwrap();
        actix_web::rt::spawn(Arc::clone(&live).publish());
        for _ in 0..200 {
            if live.feed().latest().version == registry.change_version() {
                let text = String::from_utf8_lossy(&live.feed().latest().list.json).into_owned();
                assert!(text.contains("\"early\""));
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the change was never pushed");
    }

    #[actix_web::test]
    async fn a_new_watcher_never_starts_with_a_stale_list() {
        let registry = Arc::new(SessionRegistry::new(Limits::default()));
        let live = LiveUpdates::new(registry.clone());
        registry.create(session("unpublished")).unwrap();
        let first = live.first_list();
        assert_eq!(first.version, registry.change_version());
        assert!(String::from_utf8_lossy(&first.list.json).contains("\"unpublished\""));
        assert_eq!(first.push, 1, "it follows on from the feed's push");
    }

    #[test]
    fn the_push_budget_allows_two_a_second() {
        let start = Instant::now();
        let ms = |n: u64| start + Duration::from_millis(n);
        // The first list, taken at start, counts as a push.
        let mut budget = PushBudget::new(start);
        assert_eq!(budget.next_allowed(ms(1)), None, "one token left");
        budget.record(ms(1));
        let next = budget.next_allowed(ms(2)).expect("the bucket is empty");
        assert!(next > ms(400) && next <= ms(501), "{:?}", next - start);
        budget.record(ms(501));
        // Steady changes every 500 ms never wait, even when a push is late.
        for tick in 2..20u64 {
            let late = if tick % 3 == 0 { 40 } else { 0 };
            let now = ms(tick * 500 + late);
            assert_eq!(budget.next_allowed(now), None, "tick {tick}");
            budget.record(now);
        }
        assert_eq!(budget.latest(), ms(19 * 500));
    }

    #[test]
    fn a_burst_of_changes_is_paced_to_two_a_second() {
        let start = Instant::now();
        let mut budget = PushBudget::new(start - Duration::from_secs(10));
        let mut now = start;
        let mut pushes = 0;
        while now < start + Duration::from_secs(10) {
            match budget.next_allowed(now) {
                Some(allowed) => now = allowed,
                None => {
                    budget.record(now);
                    pushes += 1;
                }
            }
        }
        assert!((20..=22).contains(&pushes), "{pushes} pushes in 10 s");
    }

    #[test]
    fn deflated_lists_inflate_to_the_json() {
        use std::io::Read;
        let json = br#"{"type":"sessions","sessions":[]}"#.repeat(100);
        let list = List::new(json.clone());
        assert!(list.deflated.len() < json.len() / 10);
        // A receiver appends the 00 00 ff ff the sender removed (RFC 7692).
        let mut message = list.deflated.to_vec();
        message.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut inflated = Vec::new();
        let _ = flate2::read::DeflateDecoder::new(&message[..]).read_to_end(&mut inflated);
        assert_eq!(inflated, json);
    }

    #[actix_web::test]
    async fn close_stops_the_publisher() {
        let registry = Arc::new(SessionRegistry::new(Limits::default()));
        let live = LiveUpdates::new(registry.clone());
        let publisher = actix_web::rt::spawn(Arc::clone(&live).publish());
        live.close();
        tokio::time::timeout(Duration::from_secs(5), publisher)
            .await
            .expect("the publisher stopped")
            .unwrap();
    }
}
