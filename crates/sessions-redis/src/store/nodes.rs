//! The nodes of a deployment watching over each other: each beats on its
//! own server session, and the others end the server session of a node
//! that stopped beating, since it can no longer end it itself.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use jiff::{SignedDuration, Timestamp};
use redis::Cmd;
use sessions_core::{RegistryError, SessionId, millisecond_now};

use super::{EndOutcome, Ending, Shared};

impl Shared {
    /// Records that this node is alive, on its own session and in the index
    /// of servers. A node whose session the others ended (it was cut off
    /// from Redis for longer than the timeout) says so once.
    pub(crate) async fn beat(&self) {
        let Some(own) = self.server_session.get().copied() else {
            return;
        };
        let now = millisecond_now().as_millisecond();
        let beat = now.to_string();
        let alive = match self.run(&self.scripts.beat, own, &[beat.as_bytes()]).await {
            Ok(answer) => answer == redis::Value::Int(1),
            Err(_) => return,
        };
        if !alive {
            if !self.declared_dead.swap(true, Ordering::AcqRel) {
                log::warn!(
                    "session {own}, this node's own, was ended by another node, which took this \
                     node for dead; the server's log goes to stderr only from now on"
                );
            }
            return;
        }
        let _ = self
            .query::<()>(&Cmd::zadd(self.keys.servers(), own.to_string(), now))
            .await;
    }

    /// Ends the server sessions of the nodes whose last heartbeat is older
    /// than the node timeout. Only called once this node has seen Redis
    /// answer for longer than that timeout, so that after an outage the
    /// nodes that are alive have beaten again first.
    pub(crate) async fn end_dead_nodes(self: &Arc<Self>) {
        let timeout = SignedDuration::try_from(self.node_timeout).unwrap_or(SignedDuration::MAX);
        let Ok(beat_before) = Timestamp::now().checked_sub(timeout) else {
            return;
        };
        let stale: Vec<String> = match self
            .query(
                Cmd::new()
                    .arg("ZRANGEBYSCORE")
                    .arg(self.keys.servers())
                    .arg("-inf")
                    .arg(format!("({}", beat_before.as_millisecond())),
            )
            .await
        {
            Ok(stale) => stale,
            Err(_) => return,
        };
        let own = self.server_session.get().copied();
        for id in stale.iter().filter_map(|id| id.parse::<SessionId>().ok()) {
            if Some(id) == own {
                continue;
            }
            match Arc::clone(self)
                .end(id, Ending::DeadServer { beat_before })
                .await
            {
                Ok(EndOutcome::Ended(_)) => {
                    log::info!(
                        "ended session {id}, the server session of a node with no heartbeat for {} s",
                        self.node_timeout.as_secs()
                    );
                    self.forget_server(id).await;
                }
                // Another node got there first.
                Ok(EndOutcome::AlreadyEnded(_)) | Err(RegistryError::NotFound(_)) => {
                    self.forget_server(id).await;
                }
                // Beat since: alive after all. Unavailable: next time.
                Ok(EndOutcome::Kept) | Err(_) => {}
            }
        }
    }

    /// This node stops: its own session ends, and it leaves the index.
    pub(crate) async fn end_own_session(self: Arc<Self>) {
        let Some(own) = self.server_session.get().copied() else {
            return;
        };
        if Arc::clone(&self).end(own, Ending::OwnServer).await.is_ok() {
            self.forget_server(own).await;
        }
    }

    async fn forget_server(&self, id: SessionId) {
        let _ = self
            .query::<()>(&Cmd::zrem(self.keys.servers(), id.to_string()))
            .await;
    }
}
