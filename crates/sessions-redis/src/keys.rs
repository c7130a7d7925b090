//! Where things are kept in Redis, under one deployment's prefix.
//!
//! A session's keys put its id in braces, Redis Cluster's hash tag, so they
//! share one slot and one script can change them together; the keys that
//! span sessions live wherever their own name puts them.

use sessions_core::SessionId;

#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.to_owned(),
        }
    }

    /// The hash of one session's fields and its log's bookkeeping.
    pub(crate) fn session(&self, id: SessionId) -> String {
        format!("{}:{{{id}}}:session", self.prefix)
    }

    /// The stream of one session's log entries.
    pub(crate) fn log(&self, id: SessionId) -> String {
        format!("{}:{{{id}}}:log", self.prefix)
    }

    /// What each retained entry of one session's log costs, 3 bytes each.
    pub(crate) fn costs(&self, id: SessionId) -> String {
        format!("{}:{{{id}}}:costs", self.prefix)
    }

    /// The count of active sessions, against the cap of all nodes together.
    pub(crate) fn active(&self) -> String {
        format!("{}:active", self.prefix)
    }

    /// Every session id, scored by creation time: what a node loads its
    /// directory from.
    pub(crate) fn index(&self) -> String {
        format!("{}:sessions", self.prefix)
    }

    /// Ended session ids, scored by the time they ended: the history that
    /// `max_ended_sessions` bounds.
    pub(crate) fn ended(&self) -> String {
        format!("{}:ended", self.prefix)
    }

    /// The servers' own sessions, scored by their node's last heartbeat:
    /// where the nodes look for one that died.
    pub(crate) fn servers(&self) -> String {
        format!("{}:servers", self.prefix)
    }

    /// The channel every change is published on.
    pub(crate) fn channel(&self) -> String {
        format!("{}:changes", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sessions_keys_share_one_hash_tag() {
        let id: SessionId = "65a1f00dcafe0123456789ab".parse().unwrap();
        let keys = Keys::new("zen");
        assert_eq!(keys.session(id), "zen:{65a1f00dcafe0123456789ab}:session");
        assert_eq!(keys.log(id), "zen:{65a1f00dcafe0123456789ab}:log");
        // Redis Cluster hashes only what is between the first braces.
        let tag = |key: &str| key[key.find('{').unwrap()..=key.find('}').unwrap()].to_owned();
        assert_eq!(tag(&keys.session(id)), tag(&keys.log(id)));
        assert_eq!(tag(&keys.session(id)), tag(&keys.costs(id)));
        assert_eq!(tag(&keys.session(id)), format!("{{{id}}}"));
    }
}
