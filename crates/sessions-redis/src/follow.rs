//! Keeping this node current and known: the change messages of every node
//! (a subscription proven by probes), a health check of the connection
//! each second with this node's heartbeat, and loading the directory whole
//! at start, after every (re)subscription and reconnection and every half
//! minute (a message published while this node's subscription was down is
//! otherwise lost).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use redis::{Cmd, PushInfo, PushKind, Value};
use sessions_core::SessionId;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::codec;
use crate::connection::Connection;
use crate::directory::LogState;
use crate::health::Witness;
use crate::store::Shared;

const HEALTH_CHECK_EVERY: Duration = Duration::from_secs(1);
const RELOAD_EVERY: Duration = Duration::from_secs(30);
/// Checks that may fail in a row before the connection is made anew.
const RESET_AFTER_FAILED_CHECKS: u32 = 3;
/// Sessions read at once while loading the directory.
const LOAD_CHUNK: usize = 256;

/// Probes a subscription may miss in a row before it is made again.
const PROBES_MISSED: u64 = 2;

/// Subscribes to the change channel and keeps the subscription working.
/// Every second this node publishes a probe on the channel and expects to
/// hear it back; a subscription that is told of a disconnection, or that
/// misses its probes (in a cluster, the node it was on may have failed
/// without a word), is made again on a fresh connection from `open`, and
/// the directory is then loaded again for what it missed.
pub(crate) async fn subscribe(
    shared: Arc<Shared>,
    open: impl Fn() -> redis::RedisResult<Connection>,
) {
    let channel = shared.keys.channel();
    let mut subscriber: Option<Connection> = None;
    loop {
        let missed = shared.probes.missed();
        if subscriber.is_some() && (shared.health.subscription_broken() || missed > PROBES_MISSED) {
            shared.health.report(
                Witness::Subscription,
                Some(format!("the change subscription missed {missed} probes")),
            );
            subscriber = None;
        }
        match &subscriber {
            None => match open() {
                Ok(fresh) => match fresh.subscribe(&channel).await {
                    Ok(()) => {
                        shared.probes.restart();
                        subscriber = Some(fresh);
                        shared.health.report(Witness::Subscription, None);
                        // What changed before now came with no message: the
                        // directory is loaded again, after the subscription.
                        shared.health.reload_wanted.store(true, Ordering::Release);
                    }
                    Err(error) => log::debug!("subscribing to {channel}: {error}"),
                },
                Err(error) => log::debug!("connecting to subscribe: {error}"),
            },
            Some(_) => {
                let probe = shared.probes.next();
                let _ = shared.query::<()>(&Cmd::publish(&channel, probe)).await;
            }
        }
        tokio::time::sleep(if subscriber.is_some() {
            HEALTH_CHECK_EVERY
        } else {
            Duration::from_millis(250)
        })
        .await;
    }
}

/// Applies every change message to the directory.
pub(crate) async fn follow_changes(shared: Arc<Shared>, mut pushes: UnboundedReceiver<PushInfo>) {
    while let Some(push) = pushes.recv().await {
        match push.kind {
            PushKind::Message => {
                if let Some(Ok(message)) = push.data.get(1).map(codec::text) {
                    apply(&shared, &message);
                }
            }
            PushKind::Disconnection => {
                shared.health.report(
                    Witness::Subscription,
                    Some("the change subscription was disconnected".into()),
                );
            }
            _ => {}
        }
    }
}

fn apply(shared: &Arc<Shared>, message: &str) {
    let mut words = message.split(' ');
    let kind = words.next();
    if kind == Some("P") {
        shared.probes.heard(message);
        return;
    }
    let Some(Ok(id)) = words.next().map(str::parse::<SessionId>) else {
        return;
    };
    match kind {
        Some("L") => {
            let numbers: Vec<i64> = words.filter_map(|word| word.parse().ok()).collect();
            if let [first, next, bytes, updated] = numbers[..]
                && let Ok(updated) = jiff::Timestamp::from_millisecond(updated)
            {
                shared.directory.log_appended(
                    id,
                    LogState {
                        first: first as u64,
                        next: next as u64,
                        bytes: bytes as usize,
                        updated,
                    },
                );
            }
        }
        Some("S") => {
            let shared = Arc::clone(shared);
            tokio::spawn(async move { shared.refresh(id).await });
        }
        Some("D") => shared.directory.remove(id),
        _ => {}
    }
}

/// Checks the connection every second, beats this node's heartbeat and
/// ends the sessions of nodes that stopped beating; loads the directory
/// whole when the connection comes back, and every half minute.
pub(crate) async fn keep_in_touch(shared: Arc<Shared>) {
    let mut loaded: Option<Instant> = None;
    // Since when Redis has answered every check, without a break.
    let mut answering_since: Option<Instant> = None;
    let mut failed_checks: u32 = 0;
    loop {
        let answer = tokio::time::timeout(
            HEALTH_CHECK_EVERY,
            shared.connection.query::<String>(&Cmd::ping()),
        )
        .await;
        if answer.as_ref().is_ok_and(Result::is_ok) {
            failed_checks = 0;
        } else {
            failed_checks += 1;
            if failed_checks.is_multiple_of(RESET_AFTER_FAILED_CHECKS) {
                shared.connection.reset();
            }
        }
        match answer {
            Ok(Ok(_)) => {
                shared.health.report(Witness::Check, None);
                let answering = *answering_since.get_or_insert_with(Instant::now);
                shared.beat().await;
                // After a break, the nodes that are alive get a whole
                // timeout to beat again before any is taken for dead.
                if answering.elapsed() > shared.node_timeout {
                    shared.end_dead_nodes().await;
                }
                let missed = shared.health.reload_wanted.swap(false, Ordering::AcqRel);
                let stale = loaded.is_none_or(|at| at.elapsed() >= RELOAD_EVERY);
                if missed || stale {
                    match load_directory(&shared).await {
                        Ok(()) => loaded = Some(Instant::now()),
                        Err(error) => {
                            shared
                                .health
                                .report(Witness::Check, Some(error.to_string()));
                        }
                    }
                }
            }
            Ok(Err(error)) => {
                answering_since = None;
                shared
                    .health
                    .report(Witness::Check, Some(error.to_string()));
            }
            Err(_) => {
                answering_since = None;
                shared.health.report(
                    Witness::Check,
                    Some(format!(
                        "no answer to PING within {} s",
                        HEALTH_CHECK_EVERY.as_secs()
                    )),
                );
            }
        }
        tokio::time::sleep(HEALTH_CHECK_EVERY).await;
    }
}

async fn load_directory(shared: &Arc<Shared>) -> Result<(), sessions_core::RegistryError> {
    let began = shared.directory.begin_load();
    let ids: Vec<String> = shared
        .query(&Cmd::zrange(shared.keys.index(), 0, -1))
        .await?;
    let ids: Vec<SessionId> = ids.iter().filter_map(|id| id.parse().ok()).collect();
    let mut sessions = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(LOAD_CHUNK) {
        let hashes = join_all(chunk.iter().map(|id| {
            let key = shared.keys.session(*id);
            async move { shared.query::<Value>(&Cmd::hgetall(key)).await }
        }))
        .await;
        for (id, hash) in chunk.iter().zip(hashes) {
            let hash = hash?;
            let empty = matches!(&hash, Value::Array(pairs) if pairs.is_empty());
            // Indexed but not (or no longer) there: skipped.
            if !empty && let Ok(session) = codec::session(*id, &hash) {
                sessions.push(session);
            }
        }
    }
    shared.directory.replace(sessions, began);
    Ok(())
}
