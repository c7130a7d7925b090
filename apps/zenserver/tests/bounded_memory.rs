//! Driven past every count and size limit at once (at reduced sizes), the
//! server keeps to each of them and its memory stays within the bound
//! docs/architecture.md derives from them.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::Server;

#[test]
fn every_limit_holds_when_driven_past_it() {
    let server = Server::start_with(&[
        "--max-active-sessions",
        "40",
        "--max-ended-sessions",
        "20",
        "--max-log-entries",
        "500",
        "--max-log-bytes",
        "64KiB",
        "--max-log-memory",
        "1MiB",
        "--max-metadata",
        "4KiB",
    ]);
    let baseline = support::rss(server.pid());
    let filler = "m".repeat(1_000);
    let metadata = json!({"blob": "b".repeat(3_900)});
    for round in 0..6 {
        let mut created = Vec::new();
        for i in 0..60 {
            let response = server.post_json(
                "/sessions/",
                &json!({"appname": format!("r{round}-{i}"), "mode": "load", "metadata": metadata}),
            );
            match response.status {
                201 => created.push(response.json()["id"].as_str().unwrap().to_owned()),
                429 => response.assert_problem(429, "are active"),
                other => panic!("unexpected {other}: {}", response.text()),
            }
        }
        for id in &created {
            let lines: String = (0..200).map(|n| format!("{n} {filler}\n")).collect();
            assert_eq!(
                server
                    .post_text(&format!("/sessions/{id}/log"), &lines)
                    .status,
                200
            );
        }
        let health = server.get("/health").json();
        assert!(
            health["sessions"]["active"].as_u64().unwrap() <= 40,
            "{health}"
        );
        assert!(
            health["sessions"]["ended"].as_u64().unwrap() <= 20,
            "{health}"
        );
        assert!(
            health["log_memory_bytes"].as_u64().unwrap() <= 1 << 20,
            "{health}"
        );
        for id in created {
            server.request("DELETE", &format!("/sessions/{id}")).send();
        }
    }
    let health = server.get("/health").json();
    assert_eq!(
        health["sessions"]["ended"], 20,
        "the history holds exactly its limit"
    );
    assert!(health["log_memory_bytes"].as_u64().unwrap() <= 1 << 20);
    for session in server.get("/sessions/?status=all").json()["sessions"]
        .as_array()
        .unwrap()
    {
        assert!(session["log"]["entries"].as_u64().unwrap() <= 500);
    }
    // The bound of docs/architecture.md at these limits: twice the shared log
    // budget, plus every session at its largest (names and metadata), plus
    // allocator and runtime slack, which dominates at these small sizes.
    let sessions = 40 + 20 + 1;
    let bound = 2 * (1 << 20) + sessions * (4 << 10) * 4 + (24 << 20);
    let grown = support::rss(server.pid()).saturating_sub(baseline);
    assert!(
        grown < bound as u64,
        "RSS grew by {grown} bytes, bound {bound}"
    );
}

/// 2,000 sessions with 4 KB of metadata each: a session list of about 8 MB.
fn server_with_a_large_list(extra_args: &[&str]) -> Server {
    let server = Server::start_with(extra_args);
    let metadata = json!({"blob": "b".repeat(4_000)});
    for i in 0..2_000 {
        let response = server.post_json(
            "/sessions/",
            &json!({"appname": format!("big-{i}"), "mode": "load", "metadata": metadata}),
        );
        assert_eq!(response.status, 201, "{}", response.text());
    }
    server
}

/// Opens a connection, sends `request` and never reads a byte of the answer.
fn stalled_reader(server: &Server, request: &[u8]) -> std::net::TcpStream {
    use std::io::Write;
    let mut stream = server.request("GET", "/").connect();
    stream.write_all(request).unwrap();
    stream
}

fn websocket_upgrade(port: u16) -> Vec<u8> {
    format!(
        "GET /sessions/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// Waits for the server to settle, then reads its RSS.
fn settled_rss(server: &Server) -> u64 {
    std::thread::sleep(std::time::Duration::from_secs(2));
    support::rss(server.pid())
}

/// Once, every watcher and every reader of the list held a full copy of it in
/// its connection's write buffer: 300 watchers that never read pinned 2.5 GB.
#[test]
fn clients_that_stop_reading_pin_little_memory_and_are_closed() {
    const MIB: u64 = 1 << 20;
    let server = server_with_a_large_list(&["--write-timeout", "4s"]);
    let list = server.get("/sessions/?status=all");
    assert!(list.body.len() > 8_000_000, "{} bytes", list.body.len());
    let baseline = settled_rss(&server);

    let upgrade = websocket_upgrade(server.port);
    let watchers: Vec<_> = (0..300)
        .map(|_| stalled_reader(&server, &upgrade))
        .collect();
    let with_watchers = settled_rss(&server);
    assert!(
        with_watchers < baseline + 100 * MIB,
        "300 stalled watchers: RSS {} MiB -> {} MiB",
        baseline / MIB,
        with_watchers / MIB
    );

    let list_request = server
        .request("GET", "/sessions/?status=all")
        .header("Connection", "keep-alive")
        .to_bytes();
    let readers: Vec<_> = (0..100)
        .map(|_| stalled_reader(&server, &list_request))
        .collect();
    let with_readers = settled_rss(&server);
    assert!(
        with_readers < baseline + 100 * MIB,
        "and 100 stalled list readers: RSS {} MiB -> {} MiB",
        baseline / MIB,
        with_readers / MIB
    );

    // The server closes every one of them once its socket has taken nothing
    // for the write timeout, WebSocket or not.
    support::eventually(
        std::time::Duration::from_secs(30),
        "every stalled connection to be closed by the server",
        || server.get("/health").json()["connections"] == 1,
    );
    assert_eq!(server.get("/health").json()["websocket_clients"], 0);
    drop((watchers, readers));
    let after = settled_rss(&server);
    eprintln!(
        "RSS: {} MiB at the start, {} MiB with 300 stalled watchers, {} MiB with 100 \
         stalled list readers too, {} MiB after",
        baseline / MIB,
        with_watchers / MIB,
        with_readers / MIB,
        after / MIB
    );
    assert!(
        after < baseline + 20 * MIB,
        "after they are gone: RSS {} MiB, {} MiB at the start",
        after / MIB,
        baseline / MIB
    );
}
