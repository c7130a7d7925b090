//! Faults and misbehaving clients: idle sessions, trickling bodies, floods
//! of idle connections, and a shutdown in the middle of a load.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::{Server, eventually};

#[test]
fn sessions_without_activity_are_ended_by_the_ttl() {
    let server = Server::start_with(&["--session-ttl", "2s"]);
    let idle = server.create_session("idle");
    let busy = server.create_session("busy");
    let server_id = server.server_session_id();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        server.post_text(&format!("/sessions/{busy}/log"), "still working\n");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(
        server.get(&format!("/sessions/{idle}")).json()["status"],
        "ended"
    );
    assert_eq!(
        server.get(&format!("/sessions/{busy}")).json()["status"],
        "active"
    );
    assert_eq!(
        server.get(&format!("/sessions/{server_id}")).json()["status"],
        "active"
    );
    eventually(
        Duration::from_secs(5),
        "a line about it in the server's log",
        || {
            let log = server.get(&format!("/sessions/{server_id}/log")).text();
            log.contains(&format!(
                "ended session {idle} (idle) after 2 s without activity"
            ))
        },
    );
}

#[test]
fn a_body_trickling_in_is_cut_off() {
    let server = Server::start_with(&["--body-timeout", "2"]);
    let id = server.create_session("slow");
    let request = server
        .request("POST", &format!("/sessions/{id}/log"))
        .header("Content-Type", "text/plain")
        .header("Content-Length", "1000");
    let mut stream = request.connect();
    stream.write_all(&request.to_bytes()).unwrap();
    let started = Instant::now();
    // One byte every 200 ms: never a stall, but never done either.
    let sender = std::thread::spawn({
        let mut stream = stream.try_clone().unwrap();
        move || {
            for _ in 0..100 {
                if stream.write_all(b"x").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    });
    let response = support::read_response(&mut stream);
    response.assert_problem(408, "took longer than 2 s");
    assert!(started.elapsed() < Duration::from_secs(15));
    drop(stream);
    sender.join().unwrap();
    assert_eq!(
        server.get(&format!("/sessions/{id}")).json()["log"]["entries"],
        0
    );
}

#[test]
fn connections_past_the_limit_are_refused_cleanly() {
    let server = Server::start_with(&["--max-connections", "50", "--request-timeout", "30"]);
    let idle: Vec<TcpStream> = (0..1_000)
        .map(|_| TcpStream::connect(("127.0.0.1", server.port)).unwrap())
        .collect();
    eventually(
        Duration::from_secs(10),
        "the idle connections counted",
        || {
            let response = server.get("/health");
            response.status == 503
        },
    );
    let refused = server.get("/sessions/");
    refused.assert_problem(503, "connections open, its limit");
    assert_eq!(refused.header("connection"), Some("close"));
    drop(idle);
    eventually(
        Duration::from_secs(10),
        "service once they are gone",
        || server.get("/health").status == 200,
    );
    // Closed connections are uncounted as their workers get to them.
    eventually(
        Duration::from_secs(10),
        "the closed connections uncounted",
        || {
            server.get("/health").json()["connections"]
                .as_u64()
                .unwrap()
                <= 2
        },
    );
}

#[test]
fn sigterm_under_load_finishes_what_is_in_flight_and_exits_cleanly() {
    let server = Server::start();
    let id = server.create_session("load");
    let port = server.port;
    let stop = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let stop = Arc::clone(&stop);
            let completed = Arc::clone(&completed);
            let id = id.clone();
            std::thread::spawn(move || {
                let body: String = (0..500).map(|i| format!("writer {writer} line {i}\n")).collect();
                while !stop.load(Ordering::Acquire) {
                    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
                        return;
                    };
                    let head = format!(
                        "POST /sessions/{id}/log HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
                         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes())).is_err() {
                        return;
                    }
                    let mut raw = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut stream, &mut raw);
                    if raw.is_empty() {
                        // Accepted as the server stopped taking work: never
                        // read, so nothing of it was applied.
                        return;
                    }
                    let response = support::parse_response(&raw);
                    assert_eq!(response.status, 200, "{}", response.text());
                    assert_eq!(response.json()["appended"], 500, "a whole batch, never part of one");
                    completed.fetch_add(1, Ordering::AcqRel);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    let status = server.terminate();
    stop.store(true, Ordering::Release);
    for writer in writers {
        writer.join().unwrap();
    }
    assert!(status.success(), "exit status {status:?}");
    assert!(completed.load(Ordering::Acquire) > 0);
}

/// Reads one response from a kept-alive connection: its head, then as many
/// body bytes as its `Content-Length` says.
fn read_kept_alive_response(stream: &mut TcpStream) -> support::Response {
    use std::io::Read;
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        raw.push(byte[0]);
    }
    let head = support::parse_response(&raw);
    let length: usize = head.header("content-length").unwrap().parse().unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    raw.extend_from_slice(&body);
    support::parse_response(&raw)
}

/// actix times the head of a connection's first request only: after one
/// response on a kept-alive connection, one byte of the next request held the
/// connection forever, and as many such connections as the limit locked
/// everyone out.
#[test]
fn every_request_head_on_a_kept_alive_connection_must_arrive_in_time() {
    let server = Server::start_with(&["--request-timeout", "2", "--max-connections", "20"]);
    let request = server
        .request("GET", "/health")
        .header("Connection", "keep-alive");
    let stalled: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut stream = request.connect();
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            stream.write_all(&request.to_bytes()).unwrap();
            assert_eq!(read_kept_alive_response(&mut stream).status, 200);
            stream.write_all(b"G").unwrap();
            stream
        })
        .collect();
    server
        .get("/health")
        .assert_problem(503, "connections open, its limit");
    for mut stream in stalled {
        // Without a deadline this read would wait for the socket's timeout
        // and fail.
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut stream, &mut raw).unwrap();
        assert_eq!(support::parse_response(&raw).status, 408);
    }
    eventually(
        Duration::from_secs(10),
        "service once they are closed",
        || server.get("/health").status == 200,
    );
}

/// The head deadline once outlived the request it was armed for: a client
/// sending request after request on one kept-alive connection got a 408
/// `--request-timeout` after its first one (the benchmark found it).
#[test]
fn a_busy_kept_alive_connection_is_never_timed_out() {
    let server = Server::start_with(&["--request-timeout", "1"]);
    let request = server
        .request("GET", "/health")
        .header("Connection", "keep-alive");
    let mut stream = request.connect();
    let started = Instant::now();
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(3) {
        stream.write_all(&request.to_bytes()).unwrap();
        let response = read_kept_alive_response(&mut stream);
        assert_eq!(response.status, 200, "after {answered} answers");
        answered += 1;
    }
    assert!(answered > 10);
}
