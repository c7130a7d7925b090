//! Several zenserver nodes over one Redis store: what one node changes the
//! others serve, the active-session cap holds across them, a node killed
//! mid-write leaves no partial batch, and Redis going away or restarting
//! loses nothing acknowledged.
//!
//! These run in the Redis pass of `cargo xtask test`, which starts a Redis
//! and a Redis Cluster and names them in `ZEN_TEST_STORE` and
//! `ZEN_TEST_CLUSTER`; the tests that stop Redis start one of their own. On
//! the memory store there is nothing to share, and they say so and return.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, eventually};
use tungstenite::Message;
use zenserver_test_support::{RedisServer, test_store, unique_prefix};

/// The shared store two nodes run on: the cluster when there is one.
fn shared_store() -> Option<String> {
    let cluster = std::env::var("ZEN_TEST_CLUSTER")
        .ok()
        .filter(|url| !url.is_empty());
    let store = cluster.or_else(test_store);
    if store.is_none() {
        eprintln!("not run: the memory store has no second node (set ZEN_TEST_STORE)");
    }
    store
}

/// Two nodes on `store` under one fresh prefix: one deployment.
fn two_nodes(store: &str, extra: &[&str]) -> (Server, Server) {
    let prefix = unique_prefix();
    let mut args = vec!["--store", store, "--store-prefix", &prefix];
    args.extend_from_slice(extra);
    (Server::start_with(&args), Server::start_with(&args))
}

fn log_of(server: &Server, id: &str, query: &str) -> Value {
    let response = server.get(&format!("/sessions/{id}/log?{query}"));
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

fn messages(log: &Value) -> Vec<String> {
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["message"].as_str().unwrap().to_owned())
        .collect()
}

/// Every line of a log, read page by page; fails if any was dropped.
fn whole_log(server: &Server, id: &str) -> Vec<String> {
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

fn listed(server: &Server, id: &str) -> Option<Value> {
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
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..16)
            .map(|worker| {
                scope.spawn(move || {
                    (0..CREATES / 16)
                        .map(|_| {
                            nodes[worker % 2]
                                .post_json(
                                    "/sessions/",
                                    &json!({"appname": "flood", "mode": "test"}),
                                )
                                .status
                        })
                        .collect::<Vec<u16>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });
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

#[test]
fn killing_a_node_mid_write_loses_no_acknowledged_batch() {
    let Some(store) = shared_store() else { return };
    // Logs large enough that nothing is evicted: every line must be there.
    let (a, b) = two_nodes(
        &store,
        &["--max-log-entries", "1000000", "--max-log-bytes", "64MiB"],
    );
    let id = a.create_session("writers");
    let stop = AtomicBool::new(false);
    let acknowledged: Vec<Vec<usize>> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4)
            .map(|writer| {
                let (a, id, stop) = (&a, &id, &stop);
                scope.spawn(move || {
                    let mut acknowledged = Vec::new();
                    for batch in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let body: String = (0..10)
                            .map(|line| format!("w{writer} b{batch} l{line}\n"))
                            .collect();
                        let response = a
                            .request("POST", &format!("/sessions/{id}/log"))
                            .header("Content-Type", "text/plain")
                            .body(body.as_bytes())
                            .try_send();
                        match response {
                            Some(response) if response.status == 200 => acknowledged.push(batch),
                            Some(_) => {}
                            None => break,
                        }
                    }
                    acknowledged
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1_500));
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &a.pid().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
        writers
            .into_iter()
            .map(|writer| writer.join().unwrap())
            .collect()
    });
    assert!(
        acknowledged.iter().all(|batches| !batches.is_empty()),
        "every writer had batches acknowledged before the kill"
    );

    let lines = whole_log(&b, &id);
    // Batches never interleave and are whole: every run of ten lines is
    // one batch, lines 0 to 9.
    assert_eq!(
        lines.len() % 10,
        0,
        "a partial batch: {} lines",
        lines.len()
    );
    let mut stored: Vec<Vec<usize>> = vec![Vec::new(); 4];
    for batch in lines.chunks(10) {
        let (writer, number) = parse_line(&batch[0]);
        for (line, text) in batch.iter().enumerate() {
            assert_eq!(text, &format!("w{writer} b{number} l{line}"), "{batch:?}");
        }
        stored[writer].push(number);
    }
    for (writer, acknowledged) in acknowledged.iter().enumerate() {
        for batch in acknowledged {
            assert!(
                stored[writer].contains(batch),
                "writer {writer}'s acknowledged batch {batch} is lost"
            );
        }
    }
}

fn parse_line(line: &str) -> (usize, usize) {
    let mut words = line.split(' ');
    let writer = words.next().unwrap()[1..].parse().unwrap();
    let batch = words.next().unwrap()[1..].parse().unwrap();
    (writer, batch)
}

/// A node of a deployment on `redis`, under `prefix`.
fn node_on(redis: &RedisServer, prefix: &str) -> Server {
    Server::start_with(&["--store", &redis.url(), "--store-prefix", prefix])
}

#[test]
fn restarting_every_node_and_redis_loses_nothing_and_cursors_continue() {
    if test_store().is_none() {
        eprintln!("not run: the Redis pass runs it (set ZEN_TEST_STORE)");
        return;
    }
    let mut redis = RedisServer::start().unwrap();
    let prefix = unique_prefix();
    let node = node_on(&redis, &prefix);
    let id = node.create_session("durable");
    let lines: String = (1..=1_000).map(|line| format!("line {line}\n")).collect();
    assert_eq!(
        node.post_text(&format!("/sessions/{id}/log"), &lines)
            .status,
        200
    );
    let cursor = log_of(&node, &id, "cursor=0&limit=10000")["cursor"].clone();
    assert_eq!(cursor, 1_000);

    let killed = std::process::Command::new("kill")
        .args(["-KILL", &node.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    redis.restart().unwrap();
    let node = node_on(&redis, &prefix);

    let session = node.get(&format!("/sessions/{id}")).json();
    assert_eq!(session["appname"], "durable");
    let log = log_of(&node, &id, "cursor=0&limit=10000");
    assert_eq!(messages(&log).len(), 1_000);
    assert_eq!(messages(&log)[999], "line 1000");
    // A client carries on from its cursor: nothing reset, seq continues.
    assert_eq!(
        node.post_text(&format!("/sessions/{id}/log"), "after\n")
            .status,
        200
    );
    let next = log_of(&node, &id, &format!("cursor={cursor}"));
    assert_eq!(next["reset"], false);
    assert_eq!(next["entries"][0]["seq"], 1_001);
    assert_eq!(messages(&next), ["after"]);
}

#[test]
fn while_redis_is_away_requests_get_503_and_service_comes_back() {
    if test_store().is_none() {
        eprintln!("not run: the Redis pass runs it (set ZEN_TEST_STORE)");
        return;
    }
    let mut redis = RedisServer::start().unwrap();
    let prefix = unique_prefix();
    let node = node_on(&redis, &prefix);
    let id = node.create_session("outage");
    assert_eq!(
        node.post_text(&format!("/sessions/{id}/log"), "before\n")
            .status,
        200
    );

    redis.kill();
    let refused = node.post_text(&format!("/sessions/{id}/log"), "during\n");
    refused.assert_problem(503, "");
    assert_eq!(refused.header("retry-after"), Some("1"));
    let created = node.post_json("/sessions/", &json!({"appname": "during", "mode": "test"}));
    created.assert_problem(503, "");
    eventually(
        Duration::from_secs(5),
        "/health to report the store",
        || {
            let health = node.get("/health").json();
            health["store"]["kind"] == "redis" && health["store"]["ok"] == false
        },
    );

    redis.restart().unwrap();
    eventually(Duration::from_secs(15), "service to come back", || {
        node.post_text(&format!("/sessions/{id}/log"), "after\n")
            .status
            == 200
    });
    let health = node.get("/health").json();
    assert_eq!(health["store"]["ok"], true, "{health}");
    // Nothing refused was half-written: the first line and the appends
    // that succeeded after, nothing else.
    let log = messages(&log_of(&node, &id, "cursor=0"));
    assert_eq!(log[0], "before");
    assert!(log[1..].iter().all(|line| line == "after"), "{log:?}");

    // Its change subscription is back too: what another node does shows
    // in its list.
    let other = node_on(&redis, &prefix);
    let made_elsewhere = other.create_session("elsewhere");
    eventually(
        Duration::from_secs(5),
        "a change made on another node",
        || listed(&node, &made_elsewhere).is_some(),
    );
}

#[test]
fn a_node_started_while_redis_is_down_serves_once_it_is_up() {
    if test_store().is_none() {
        eprintln!("not run: the Redis pass runs it (set ZEN_TEST_STORE)");
        return;
    }
    let mut redis = RedisServer::start().unwrap();
    redis.kill();
    let node = node_on(&redis, &unique_prefix());
    let health = node.get("/health").json();
    assert_eq!(health["store"]["ok"], false, "{health}");
    node.post_json("/sessions/", &json!({"appname": "early", "mode": "test"}))
        .assert_problem(503, "");

    redis.restart().unwrap();
    eventually(Duration::from_secs(15), "the node to serve", || {
        node.post_json("/sessions/", &json!({"appname": "late", "mode": "test"}))
            .status
            == 201
    });
    // Its own session is made once the store answers.
    eventually(Duration::from_secs(5), "the server session", || {
        node.get("/sessions/").json()["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|session| session["server"] == true)
    });
}

/// The id of `node`'s own session, told apart from the other nodes' by the
/// address in its metadata.
fn own_session(node: &Server, seen_from: &Server) -> String {
    let address = format!("127.0.0.1:{}", node.port);
    let mut found = None;
    eventually(Duration::from_secs(5), "the node's own session", || {
        let list = seen_from.get("/sessions/?status=all").json();
        found = list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|session| session["server"] == true && session["metadata"]["address"] == address)
            .map(|session| session["id"].as_str().unwrap().to_owned());
        found.is_some()
    });
    found.unwrap()
}

fn status_of(server: &Server, id: &str) -> Value {
    server.get(&format!("/sessions/{id}")).json()["status"].clone()
}

#[test]
fn a_node_that_dies_has_its_session_ended_by_the_others_and_a_live_one_never() {
    let Some(store) = shared_store() else { return };
    let (a, b) = two_nodes(&store, &["--node-timeout", "2s"]);
    let (session_a, session_b) = (own_session(&a, &b), own_session(&b, &a));
    // Both alive for longer than the timeout: neither is taken for dead.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(status_of(&b, &session_a), "active");
    assert_eq!(status_of(&a, &session_b), "active");

    let killed = std::process::Command::new("kill")
        .args(["-KILL", &a.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    eventually(Duration::from_secs(20), "B to end A's session", || {
        status_of(&b, &session_a) == "ended"
    });
    assert_eq!(status_of(&b, &session_b), "active");
    // The cap counts it no more: two nodes' sessions, one of them ended.
    assert_eq!(b.get("/health").json()["sessions"]["active"], 1);
}

#[test]
fn a_node_that_stops_cleanly_ends_its_own_session() {
    let Some(store) = shared_store() else { return };
    let (a, b) = two_nodes(&store, &[]);
    let session_a = own_session(&a, &b);
    assert!(a.terminate().success());
    assert_eq!(status_of(&b, &session_a), "ended");
}
