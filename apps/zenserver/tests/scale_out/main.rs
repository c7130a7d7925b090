//! Several zenserver nodes over one Redis store: what one node changes the
//! others serve, the active-session cap holds across them, and the nodes
//! watch over each other (`nodes.rs`); nodes killed, Redis killed or
//! restarted, and a cluster master failing lose nothing acknowledged
//! (`outages.rs`); what an earlier version left in Redis still works
//! (`formats.rs`); appends to many sessions share scripts on a single
//! Redis, and each stays whole and on its own (`shared_scripts.rs`).
//!
//! These run in the Redis pass of `cargo xtask test`, which starts a Redis
//! and a Redis Cluster and names them in `ZEN_TEST_STORE` and
//! `ZEN_TEST_CLUSTER`; the tests that stop Redis start one of their own. On
//! the memory store there is nothing to share, and they say so and return.

#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod formats;
mod nodes;
mod outages;
mod shared_scripts;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, eventually, in_parallel};
use tungstenite::Message;
use zenserver_test_support::{RedisServer, test_store, unique_prefix};

/// The shared store two nodes run on: the cluster when there is one.
pub(crate) fn shared_store() -> Option<String> {
    let cluster = std::env::var("ZEN_TEST_CLUSTER")
        .ok()
        .filter(|url| !url.is_empty());
    let store = cluster.or_else(test_store);
    if store.is_none() {
        eprintln!("not run: the memory store has no second node (set ZEN_TEST_STORE)");
    }
    store
}

/// A node of the deployment `prefix` on `redis`, with `extra` flags.
pub(crate) fn node_on(redis: &RedisServer, prefix: &str, extra: &[&str]) -> Server {
    let url = redis.url();
    let mut args = vec!["--store", &url, "--store-prefix", prefix];
    args.extend_from_slice(extra);
    Server::start_with(&args)
}

/// Two nodes on `store` under one fresh prefix: one deployment.
pub(crate) fn two_nodes(store: &str, extra: &[&str]) -> (Server, Server) {
    let prefix = unique_prefix();
    let mut args = vec!["--store", store, "--store-prefix", &prefix];
    args.extend_from_slice(extra);
    (Server::start_with(&args), Server::start_with(&args))
}

pub(crate) fn log_of(server: &Server, id: &str, query: &str) -> Value {
    let response = server.get(&format!("/sessions/{id}/log?{query}"));
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

pub(crate) fn messages(log: &Value) -> Vec<String> {
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["message"].as_str().unwrap().to_owned())
        .collect()
}

/// Every line of a log, read page by page; fails if any was dropped.
pub(crate) fn whole_log(server: &Server, id: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cursor = 0;
    loop {
        let page = log_of(server, id, &format!("cursor={cursor}&limit=10000"));
        assert_eq!(page["dropped"], 0);
        lines.extend(messages(&page));
        cursor = page["cursor"].as_u64().unwrap();
        if page["more"] == false {
            return lines;
        }
    }
}

pub(crate) fn listed(server: &Server, id: &str) -> Option<Value> {
    let list = server.get("/sessions/?status=all").json();
    list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["id"] == id)
        .cloned()
}
#[test]
fn what_one_node_writes_the_other_serves() {
    let Some(store) = shared_store() else { return };
    let (a, b) = two_nodes(&store, &[]);
    let id = a.create_session("editor");
    let on_b = b.get(&format!("/sessions/{id}"));
    assert_eq!(on_b.status, 200, "{}", on_b.text());
    assert_eq!(on_b.json()["appname"], "editor");

    let appended = a.post_text(&format!("/sessions/{id}/log"), "one\ntwo\nthree\n");
    assert_eq!(appended.status, 200, "{}", appended.text());
    assert_eq!(appended.json()["cursor"], 3);
    let log = log_of(&b, &id, "cursor=0");
    assert_eq!(messages(&log), ["one", "two", "three"]);
    assert_eq!(log["cursor"], 3);
    assert_eq!(log["reset"], false);

    // Metadata patched on B, ended on A: both see both.
    let patched = b
        .request("PUT", &format!("/sessions/{id}"))
        .json(&json!({"metadata": {"branch": "main"}}))
        .send();
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(
        a.request("DELETE", &format!("/sessions/{id}"))
            .send()
            .status,
        200
    );
    let ended = b.get(&format!("/sessions/{id}")).json();
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["metadata"]["branch"], "main");

    // The lists are each node's own copy, kept current by notifications.
    eventually(Duration::from_secs(5), "B's list to show the end", || {
        listed(&b, &id).is_some_and(|session| session["status"] == "ended")
    });
    // Each node has its own server session, and both see both.
    let servers = |node: &Server| {
        let list = node.get("/sessions/").json();
        list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|session| session["server"] == true)
            .count()
    };
    eventually(
        Duration::from_secs(5),
        "both server sessions on both",
        || servers(&a) == 2 && servers(&b) == 2,
    );
}

#[test]
fn a_long_poll_on_one_node_wakes_on_an_append_through_the_other() {
    let Some(store) = shared_store() else { return };
    let (a, b) = two_nodes(&store, &[]);
    let id = a.create_session("build");
    std::thread::scope(|scope| {
        let poll = scope.spawn(|| log_of(&b, &id, "cursor=0&wait=30"));
        // The poll is waiting (nothing to return yet) before the append.
        std::thread::sleep(Duration::from_millis(300));
        let appended = a.post_text(&format!("/sessions/{id}/log"), "woken\n");
        assert_eq!(appended.status, 200);
        let log = poll.join().unwrap();
        assert_eq!(messages(&log), ["woken"], "the poll returned the append");
    });
}

#[test]
fn a_watcher_on_one_node_sees_a_change_made_on_the_other() {
    let Some(store) = shared_store() else { return };
    let (a, b) = two_nodes(&store, &[]);
    let (mut socket, _) =
        tungstenite::connect(format!("ws://127.0.0.1:{}/sessions/ws", b.port)).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
    }
    let id = a.create_session("watched");
    loop {
        let Message::Text(text) = socket.read().unwrap() else {
            continue;
        };
        let list: Value = serde_json::from_str(&text).unwrap();
        let sessions = list["sessions"].as_array().unwrap();
        if sessions.iter().any(|session| session["id"] == id.as_str()) {
            break;
        }
    }
}

#[test]
fn concurrent_creates_over_two_nodes_stop_exactly_at_the_cap() {
    let Some(store) = shared_store() else { return };
    const CAP: usize = 300;
    const CREATES: usize = 2_000;
    let cap = CAP.to_string();
    let (a, b) = two_nodes(&store, &["--max-active-sessions", &cap]);
    let nodes = [&a, &b];
    let statuses: Vec<u16> = in_parallel(16, |worker| {
        (0..CREATES / 16)
            .map(|_| {
                nodes[worker % 2]
                    .post_json("/sessions/", &json!({"appname": "flood", "mode": "test"}))
                    .status
            })
            .collect::<Vec<u16>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let mut counts: HashMap<u16, usize> = HashMap::new();
    for status in statuses {
        *counts.entry(status).or_default() += 1;
    }
    // The two nodes' own sessions count against the cap too.
    assert_eq!(counts.get(&201), Some(&(CAP - 2)), "{counts:?}");
    assert_eq!(
        counts.get(&429).copied().unwrap_or(0) + CAP - 2,
        CREATES,
        "{counts:?}"
    );
    let health = b.get("/health").json();
    assert_eq!(health["sessions"]["active"], CAP, "{health}");
}
