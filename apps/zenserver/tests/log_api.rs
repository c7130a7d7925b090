//! The log routes against the real binary: appends in every encoding, reads in
//! every mode, long polls, and every way to get them wrong.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, check_refused};

fn messages(read: &Value) -> Vec<String> {
    read["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["message"].as_str().unwrap().to_owned())
        .collect()
}

fn seqs(read: &Value) -> Vec<u64> {
    read["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn text_appends_one_entry_per_line() {
    let server = Server::start();
    let id = server.create_session("build");
    let log = format!("/sessions/{id}/log");
    let appended = server.post_text(
        &log,
        "first\r\n\n   \n  indented stays  \nlast without newline",
    );
    assert_eq!(appended.status, 200, "{}", appended.text());
    assert_eq!(appended.json(), json!({"appended": 3, "cursor": 3}));
    let warned = server
        .request("POST", &format!("{log}?level=WARNING"))
        .body(b"no content type is text too\n")
        .send();
    assert_eq!(warned.json(), json!({"appended": 1, "cursor": 4}));
    let read = server.get(&log).json();
    assert_eq!(
        messages(&read),
        [
            "first",
            "  indented stays  ",
            "last without newline",
            "no content type is text too"
        ]
    );
    let levels: Vec<&str> = read["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["info", "info", "info", "warn"]);
    assert_eq!(
        server.post_text(&log, "\n\n  \n").json(),
        json!({"appended": 0, "cursor": 4})
    );
}

#[test]
fn data_keeps_the_order_of_its_keys() {
    let server = Server::start();
    let id = server.create_session("agent");
    let log = format!("/sessions/{id}/log");
    let ordered = server
        .request("POST", &log)
        .header("Content-Type", "application/json")
        .body(br#"{"message": "ordered", "data": {"z": 1, "a": 2}}"#)
        .send();
    assert_eq!(ordered.status, 200);
    let read = server.get(&format!("{log}?tail=1")).text();
    assert!(
        read.contains(r#""data":{"z":1,"a":2}"#),
        "data keeps its key order: {read}"
    );
}

#[test]
fn json_appends_single_entries_and_batches() {
    let server = Server::start();
    let id = server.create_session("agent");
    let log = format!("/sessions/{id}/log");
    let single = server.post_json(
        &log,
        &json!({"message": "hello", "level": "Warning", "data": {"file": "a.cpp", "line": 7}}),
    );
    assert_eq!(single.json(), json!({"appended": 1, "cursor": 1}));
    let batch = server.post_json(
        &log,
        &json!({"entries": [
            {"message": "t", "level": "trace"},
            {"message": "f", "level": "FATAL", "timestamp": "2026-01-02T03:04:05.678+01:00"},
            {"message": "c", "level": "critical"},
            {"message": "unicode ✓ \"quoted\" \u{1F600}"}
        ]}),
    );
    assert_eq!(batch.json(), json!({"appended": 4, "cursor": 5}));
    let entries = server.get(&log).json()["entries"].clone();
    assert_eq!(entries[0]["level"], "warn");
    assert_eq!(entries[0]["data"], json!({"file": "a.cpp", "line": 7}));
    assert_eq!(entries[1]["level"], "debug");
    assert!(entries[1].get("data").is_none(), "no data, no field");
    assert_eq!(entries[2]["level"], "error");
    assert_eq!(entries[2]["timestamp"], "2026-01-02T02:04:05.678Z");
    assert_eq!(entries[3]["level"], "error");
    assert_eq!(entries[4]["message"], "unicode ✓ \"quoted\" \u{1F600}");
    let session = server.get(&format!("/sessions/{id}")).json();
    assert_eq!(
        session["log"],
        json!({"entries": 5, "cursor": 5, "dropped": 0})
    );
}

#[test]
fn reads_by_cursor_offset_and_tail() {
    let server = Server::start_with(&["--max-log-entries", "5"]);
    let id = server.create_session("reader");
    let log = format!("/sessions/{id}/log");
    let lines: String = (1..=8).map(|i| format!("line {i}\n")).collect();
    server.post_text(&log, &lines);

    let all = server.get(&log).json();
    assert_eq!(seqs(&all), [4, 5, 6, 7, 8], "the oldest three were evicted");
    assert_eq!(
        (
            all["cursor"].as_u64(),
            all["dropped"].as_u64(),
            all["more"].as_bool()
        ),
        (Some(8), Some(3), Some(false))
    );
    assert_eq!(
        (all["total"].as_u64(), all["reset"].as_bool()),
        (Some(5), Some(false))
    );

    let page = server.get(&format!("{log}?cursor=4&limit=2")).json();
    assert_eq!(
        (seqs(&page), page["cursor"].as_u64(), page["more"].as_bool()),
        (vec![5, 6], Some(6), Some(true))
    );
    let next = server.get(&format!("{log}?cursor=6&limit=2")).json();
    assert_eq!(
        (seqs(&next), next["more"].as_bool()),
        (vec![7, 8], Some(false))
    );
    let caught_up = server.get(&format!("{log}?cursor=8")).json();
    assert_eq!(
        (seqs(&caught_up), caught_up["cursor"].as_u64()),
        (vec![], Some(8))
    );
    let behind = server.get(&format!("{log}?cursor=1")).json();
    assert_eq!((seqs(&behind)[0], behind["dropped"].as_u64()), (4, Some(2)));

    let ahead = server.get(&format!("{log}?cursor=100")).json();
    assert_eq!(
        (ahead["reset"].as_bool(), seqs(&ahead)),
        (Some(true), vec![4, 5, 6, 7, 8])
    );

    let offset = server.get(&format!("{log}?offset=1&limit=3")).json();
    assert_eq!(
        (
            seqs(&offset),
            offset["offset"].as_u64(),
            offset["total"].as_u64()
        ),
        (vec![5, 6, 7], Some(1), Some(5))
    );
    let past = server.get(&format!("{log}?offset=50")).json();
    assert_eq!(seqs(&past), Vec::<u64>::new());

    let tail = server.get(&format!("{log}?tail=2")).json();
    assert_eq!(
        (seqs(&tail), tail["cursor"].as_u64()),
        (vec![7, 8], Some(8))
    );
    let clamped = server
        .get(&format!(
            "{log}?limit=999999&wait=99999999999999999999999&cursor=7"
        ))
        .json();
    assert_eq!(seqs(&clamped), [8], "over-large values are clamped");
}

#[test]
fn a_long_poll_answers_when_an_entry_arrives() {
    let server = Server::start();
    let id = server.create_session("poller");
    let log = format!("/sessions/{id}/log");
    std::thread::scope(|scope| {
        let poll = scope.spawn(|| server.get(&format!("{log}?cursor=0&wait=60")).json());
        // The poll must be waiting before the append for the test to mean
        // anything; if it is not yet, it finds the entry at once, which is
        // also correct.
        std::thread::sleep(Duration::from_millis(300));
        server.post_text(&log, "wake up\n");
        let read = poll.join().unwrap();
        assert_eq!(messages(&read), ["wake up"]);
        assert_eq!(read["cursor"], 1);
    });
    let quiet = server.get(&format!("{log}?cursor=1&wait=1")).json();
    assert_eq!(
        (seqs(&quiet), quiet["cursor"].as_u64()),
        (vec![], Some(1)),
        "nothing new: empty after the wait"
    );
}

#[test]
fn a_long_poll_answers_when_the_session_ends() {
    let server = Server::start();
    let id = server.create_session("poller");
    std::thread::scope(|scope| {
        let poll = scope.spawn(|| server.get(&format!("/sessions/{id}/log?cursor=0&wait=60")));
        std::thread::sleep(Duration::from_millis(300));
        server.request("DELETE", &format!("/sessions/{id}")).send();
        let response = poll.join().unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(seqs(&response.json()), Vec::<u64>::new());
    });
}

#[test]
fn bad_log_requests_are_refused_and_change_nothing() {
    let server = Server::start();
    let id = server.create_session("editor");
    let log = format!("/sessions/{id}/log");
    server.post_text(&log, "already here\n");
    let json = |body: &str| {
        let body = body.to_owned();
        let server = &server;
        let log = log.clone();
        move || {
            server
                .request("POST", &log)
                .header("Content-Type", "application/json")
                .body(body.as_bytes())
                .send()
        }
    };
    check_refused(&server, json("{oops"), 400, "not a JSON object");
    check_refused(
        &server,
        json(r#"{"message": 5}"#),
        400,
        "entry 0: `message`: invalid type: integer `5`, expected a string",
    );
    check_refused(
        &server,
        json(r#"{"message": "m", "severity": "x"}"#),
        400,
        "entry 0: unknown field `severity`",
    );
    check_refused(
        &server,
        json(r#"{"level": "info"}"#),
        400,
        "entry 0: missing field `message`",
    );
    check_refused(
        &server,
        json(r#"{"message": "m", "level": "loud"}"#),
        400,
        "entry 0: `level`: unknown level `loud`",
    );
    check_refused(
        &server,
        json(r#"{"message": "m", "data": [1, 2]}"#),
        400,
        "entry 0: `data`: invalid type: sequence, expected a map",
    );
    check_refused(
        &server,
        json(r#"{"message": "m", "data": "text"}"#),
        400,
        "expected a map",
    );
    check_refused(
        &server,
        json(r#"{"message": "m", "timestamp": "noon"}"#),
        400,
        "not an RFC 3339 timestamp",
    );
    check_refused(
        &server,
        json(
            r#"{"entries": [{"message": "ok 0"}, {"message": "ok 1"}, {"message": "bad", "level": 3}, {"message": "ok 3"}]}"#,
        ),
        400,
        "entry 2: `level`: invalid type: integer `3`",
    );
    let long_message = "m".repeat((64 << 10) + 1);
    check_refused(
        &server,
        json(&json!({"message": long_message}).to_string()),
        400,
        "entry 0: `message` is 65537 bytes long; the limit is 65536 bytes",
    );
    check_refused(
        &server,
        || server.post_text(&log, &format!("fine\n{long_message}\n")),
        400,
        "entry 1: `message` is 65537 bytes",
    );
    let too_many: Vec<Value> = (0..10_001)
        .map(|i| json!({"message": i.to_string()}))
        .collect();
    check_refused(
        &server,
        json(&json!({"entries": too_many}).to_string()),
        400,
        "a batch holds 10001 entries; the limit is 10000",
    );
    check_refused(
        &server,
        || {
            server
                .request("POST", &log)
                .header("Content-Type", "text/plain")
                .body(b"valid\n\xff\xfe broken\n")
                .send()
        },
        400,
        "not valid UTF-8",
    );
    check_refused(
        &server,
        || {
            server
                .request("POST", &log)
                .header("Content-Type", "image/png")
                .body(b"x")
                .send()
        },
        415,
        "content type `image/png` is not supported",
    );
    check_refused(
        &server,
        || {
            server
                .request("POST", &format!("{log}?level=loud"))
                .body(b"x")
                .send()
        },
        400,
        "query parameter `level`: unknown level `loud`",
    );
    for (query, fragment) in [
        (
            "cursor=-1",
            "query parameter `cursor`: `-1` is not a non-negative integer",
        ),
        ("cursor=abc", "`cursor`: `abc` is not"),
        ("offset=-5", "`offset`: `-5` is not"),
        ("offset=x", "`offset`"),
        ("limit=-1", "`limit`: `-1` is not"),
        ("limit=ten", "`limit`"),
        ("tail=-2", "`tail`"),
        ("wait=soon", "`wait`"),
        ("cursor=1&offset=1", "cannot be combined"),
        ("offset=1&tail=1", "cannot be combined"),
        ("offset=1&wait=5", "only applies to cursor reads"),
        ("cursor=1&cursor=2", "more than once"),
        ("after=1", "`after`: is not known here"),
    ] {
        check_refused(
            &server,
            || server.get(&format!("{log}?{query}")),
            400,
            fragment,
        );
    }
    check_refused(
        &server,
        || server.get("/sessions/nope/log"),
        400,
        "not a session id",
    );
    check_refused(
        &server,
        || server.get("/sessions/0123456789abcdef01234567/log"),
        404,
        "does not exist",
    );
    check_refused(
        &server,
        || server.post_text("/sessions/0123456789abcdef01234567/log", "x"),
        404,
        "does not exist",
    );

    server.request("DELETE", &format!("/sessions/{id}")).send();
    check_refused(
        &server,
        || server.post_text(&log, "too late\n"),
        409,
        "has ended",
    );
}

#[test]
fn bodies_over_the_limit_get_413() {
    let server = Server::start();
    let id = server.create_session("big");
    let log = format!("/sessions/{id}/log");
    let before = server.visible_state();
    // Declared too large: refused from the header alone, before any body.
    let declared = server
        .request("POST", &log)
        .header("Content-Type", "text/plain")
        .header("Content-Length", "4194305")
        .send();
    declared.assert_problem(413, "larger than the limit of 4194304 bytes");
    assert_eq!(declared.header("connection"), Some("close"));
    // Sent too large without a length: refused as soon as it passes the limit.
    let mut stream = server.request("POST", &log).connect();
    let head = format!(
        "POST {log} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 1 << 20, "x".repeat(1 << 20));
    for _ in 0..5 {
        if stream.write_all(chunk.as_bytes()).is_err() {
            break;
        }
    }
    support::read_response(&mut stream).assert_problem(413, "larger than the limit");
    assert_eq!(server.visible_state(), before);

    let small = Server::start_with(&["--max-body", "1KiB"]);
    let id = small.create_session("small");
    small
        .post_text(&format!("/sessions/{id}/log"), &"y".repeat(1025))
        .assert_problem(413, "limit of 1024 bytes");
    assert_eq!(
        small
            .post_text(&format!("/sessions/{id}/log"), &"y".repeat(1024))
            .status,
        200
    );
}

#[test]
fn a_stalled_body_gets_408() {
    let server = Server::start_with(&["--request-timeout", "1"]);
    let id = server.create_session("slow");
    let log = format!("/sessions/{id}/log");
    let request = server
        .request("POST", &log)
        .header("Content-Type", "text/plain")
        .header("Content-Length", "100");
    let mut stream = request.connect();
    let mut bytes = request.to_bytes();
    bytes.extend_from_slice(b"only part of it");
    stream.write_all(&bytes).unwrap();
    support::read_response(&mut stream).assert_problem(408, "stalled");
    assert_eq!(
        server.get(&format!("/sessions/{id}")).json()["log"]["entries"],
        0,
        "nothing half-read was kept"
    );
}

#[test]
fn a_client_that_disconnects_mid_body_leaves_nothing() {
    let server = Server::start();
    let id = server.create_session("flaky");
    let log = format!("/sessions/{id}/log");
    let request = server
        .request("POST", &log)
        .header("Content-Type", "text/plain")
        .header("Content-Length", "1000");
    let mut stream = request.connect();
    let mut bytes = request.to_bytes();
    bytes.extend_from_slice(b"line one\nline two\n");
    stream.write_all(&bytes).unwrap();
    drop(stream);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.get(&format!("/sessions/{id}")).json()["log"]["entries"],
        0
    );
    assert_eq!(server.post_text(&log, "after\n").json()["cursor"], 1);
}
