//! The server's own session, start-up output and graceful shutdown.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Server, eventually};

#[test]
fn the_server_session_exists_at_start_up_and_logs_it() {
    let server = Server::start();
    let list = server.get("/sessions/").json();
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    let own = &sessions[0];
    assert_eq!(
        (own["appname"].as_str(), own["mode"].as_str()),
        (Some("zenserver"), Some("server"))
    );
    assert_eq!(own["server"], true);
    assert_eq!(own["status"], "active");
    let metadata = &own["metadata"];
    assert_eq!(metadata["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(metadata["pid"], server.pid());
    assert!(
        metadata["host"]
            .as_str()
            .is_some_and(|host| !host.is_empty())
    );
    assert_eq!(metadata["address"], format!("127.0.0.1:{}", server.port));

    let id = own["id"].as_str().unwrap();
    let log = server
        .get(&format!("/sessions/{id}/log?cursor=0&wait=10"))
        .json();
    // Among the first lines (a store may say first that it is connected).
    let listening = format!("listening on http://127.0.0.1:{}", server.port);
    let entries = log["entries"].as_array().unwrap();
    let first = entries
        .iter()
        .take(3)
        .find(|entry| entry["message"].as_str().unwrap().contains(&listening))
        .unwrap_or_else(|| panic!("no `{listening}` in {entries:?}"));
    assert_eq!(first["level"], "info");
    assert_eq!(first["data"]["target"], "zenserver");

    server
        .request("DELETE", &format!("/sessions/{id}"))
        .send()
        .assert_problem(409, "cannot be ended");
    assert_eq!(
        server.get(&format!("/sessions/{id}")).json()["status"],
        "active"
    );
}

#[test]
fn health_reports_version_and_uptime() {
    let server = Server::start();
    let health = server.get("/health");
    assert_eq!(health.status, 200);
    let body: Value = health.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_s"].is_u64());
    assert_eq!(body["sessions"]["active"], 1);
}

#[test]
fn sigterm_answers_long_polls_and_exits_cleanly() {
    let server = Server::start();
    let id = server.create_session("waiting");
    let port = server.port;
    let poll = std::thread::spawn(move || {
        support::parse_response(&raw_get(
            port,
            &format!("/sessions/{id}/log?cursor=0&wait=60"),
        ))
    });
    std::thread::sleep(Duration::from_millis(300));
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    let response = poll.join().unwrap();
    assert_eq!(
        response.status, 200,
        "the long poll was answered, not cut off"
    );
}

#[test]
fn server_log_records_arrive_in_its_session() {
    let server = Server::start();
    let id = server.server_session_id();
    // Records of other crates (actix) come through the same bridge.
    eventually(Duration::from_secs(10), "actix start-up lines", || {
        let log = server.get(&format!("/sessions/{id}/log")).json();
        log["entries"].as_array().unwrap().iter().any(|entry| {
            entry["data"]["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("actix_server"))
        })
    });
}

fn raw_get(port: u16, path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(90)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    raw
}
