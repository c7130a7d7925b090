//! The answers of `GET /sessions/`, serialized once per store version.
//!
//! A list of thousands of sessions with large metadata runs to megabytes.
//! Serialized per request, a hundred clients asking at once (and reading
//! slowly) held a hundred copies; cached by the store's change version,
//! every request between two changes shares one `Bytes`.

use std::sync::{Arc, Mutex, PoisonError};

use actix_web::web::Bytes;
use sessions_core::{SessionStore, StatusFilter};

use crate::wire::session_list_json;

/// The newest serialized list of each [`StatusFilter`], with the store
/// version it was taken at.
#[derive(Debug)]
pub(crate) struct ListCache {
    store: Arc<dyn SessionStore>,
    /// Active, ended, all. A lock per filter, held while serializing, so
    /// that requests arriving together wait for one serialization and share
    /// it instead of each making their own.
    slots: [Mutex<Option<CachedList>>; 3],
}

#[derive(Debug)]
struct CachedList {
    version: u64,
    json: Bytes,
}

impl ListCache {
    pub(crate) fn new(store: Arc<dyn SessionStore>) -> ListCache {
        ListCache {
            store,
            slots: Default::default(),
        }
    }

    /// The current list for `filter`: the cached one if nothing changed
    /// since it was taken, else a new one, kept for the requests after.
    pub(crate) fn get(&self, filter: StatusFilter) -> Bytes {
        let index = match filter {
            StatusFilter::Active => 0,
            StatusFilter::Ended => 1,
            StatusFilter::All => 2,
        };
        let mut slot = self.slots[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Read before listing: the store bumps its version after a change
        // is visible, so the list is at least as new as the version it is
        // kept under.
        let version = self.store.change_version();
        if let Some(cached) = slot.as_ref()
            && cached.version == version
        {
            return cached.json.clone();
        }
        let json = Bytes::from(session_list_json(&self.store.list(filter)));
        *slot = Some(CachedList {
            version,
            json: json.clone(),
        });
        json
    }
}

#[cfg(test)]
mod tests {
    use sessions_core::{Limits, NewSession, SessionRegistry};

    use super::*;

    fn create(registry: &SessionRegistry, appname: &str) {
        registry
            .create(NewSession {
                appname: appname.into(),
                mode: "test".into(),
                ..NewSession::default()
            })
            .unwrap();
    }

    #[test]
    fn requests_between_changes_share_one_list_and_a_change_is_seen_at_once() {
        let registry = Arc::new(SessionRegistry::new(Limits::default()));
        let cache = ListCache::new(registry.clone());
        create(&registry, "first");
        let one = cache.get(StatusFilter::Active);
        let two = cache.get(StatusFilter::Active);
        assert_eq!(one.as_ptr(), two.as_ptr(), "shared, not serialized again");
        create(&registry, "second");
        let three = cache.get(StatusFilter::Active);
        assert!(String::from_utf8_lossy(&three).contains("\"second\""));
        assert!(!String::from_utf8_lossy(&cache.get(StatusFilter::Ended)).contains("first"));
    }
}
