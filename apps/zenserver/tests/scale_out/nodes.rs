//! The nodes watch over each other: a node that stops cleanly ends its own
//! session, one that dies has it ended by the others, and a live one never;
//! idle sessions are ended once whichever nodes run `--session-ttl`.

use std::time::Duration;

use serde_json::Value;

use crate::support::{Server, eventually};
use crate::{shared_store, two_nodes, whole_log};

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

/// `--session-ttl` on every node: each idle session is ended once, by
/// whichever node gets there first, and a session kept busy through either
/// node is left alone, as are the nodes' own.
#[test]
fn every_node_ends_idle_sessions_and_each_is_ended_once() {
    let Some(store) = shared_store() else { return };
    let (a, b) = two_nodes(&store, &["--session-ttl", "2s"]);
    let (session_a, session_b) = (own_session(&a, &b), own_session(&b, &a));
    let idle: Vec<String> = (0..40)
        .map(|n| if n % 2 == 0 { &a } else { &b }.create_session("idle"))
        .collect();
    let busy = a.create_session("busy");
    // Busy through both nodes in turn, for longer than twice the TTL.
    for round in 0..20 {
        let node = if round % 2 == 0 { &a } else { &b };
        let appended = node.post_text(&format!("/sessions/{busy}/log"), "still working\n");
        assert_eq!(appended.status, 200, "{}", appended.text());
        std::thread::sleep(Duration::from_millis(300));
    }
    eventually(Duration::from_secs(10), "every idle session ended", || {
        idle.iter().all(|id| status_of(&b, id) == "ended")
    });
    assert_eq!(status_of(&a, &busy), "active");
    assert_eq!(status_of(&a, &session_a), "active");
    assert_eq!(status_of(&a, &session_b), "active");

    // Each ended once: one line about it in the two nodes' logs together,
    // and its end time stays what it was.
    let ended_at: Vec<Value> = idle
        .iter()
        .map(|id| a.get(&format!("/sessions/{id}")).json()["ended"].clone())
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let logs = [&session_a, &session_b]
        .map(|server| whole_log(&a, server).join("\n"))
        .join("\n");
    for (id, ended) in idle.iter().zip(&ended_at) {
        let lines = logs.matches(&format!("ended session {id} (idle)")).count();
        assert_eq!(lines, 1, "session {id} ended {lines} times");
        assert_eq!(&b.get(&format!("/sessions/{id}")).json()["ended"], ended);
    }
}
