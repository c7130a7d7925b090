//! `/sessions/ws` against the real binary: the first list, pushes after every
//! kind of change, the heartbeat push, many watchers, a watcher that never
//! reads, refused upgrades, floods and shutdown.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, eventually};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

type Socket = WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>;

fn watch(server: &Server) -> Socket {
    let (socket, response) =
        tungstenite::connect(format!("ws://127.0.0.1:{}/sessions/ws", server.port)).unwrap();
    assert_eq!(response.status(), 101);
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
    }
    socket
}

/// The next session list; fails if none comes within the read timeout.
fn next_list(socket: &mut Socket) -> Value {
    loop {
        match socket.read().unwrap() {
            Message::Text(text) => {
                let list: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(list["type"], "sessions");
                return list;
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// Reads lists until one satisfies `seen`, failing after `within`.
fn wait_for_list(
    socket: &mut Socket,
    within: Duration,
    what: &str,
    seen: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        assert!(
            Instant::now() < deadline,
            "no push showed {what} within {within:?}"
        );
        let list = next_list(socket);
        if seen(&list) {
            return list;
        }
    }
}

fn session<'a>(list: &'a Value, id: &str) -> Option<&'a Value> {
    list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
}

#[test]
fn the_first_list_arrives_on_connect() {
    let server = Server::start();
    let id = server.create_session("editor");
    server.request("DELETE", &format!("/sessions/{id}")).send();
    let mut socket = watch(&server);
    let list = next_list(&mut socket);
    assert_eq!(list["server"], server.server_session_id());
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "active and ended");
    let ended = session(&list, &id).unwrap();
    assert_eq!(ended["status"], "ended");
    assert_eq!(
        *ended,
        server.get(&format!("/sessions/{id}")).json(),
        "the same JSON as GET"
    );
}

#[test]
fn every_kind_of_change_is_pushed_within_two_seconds() {
    let server = Server::start();
    let mut socket = watch(&server);
    next_list(&mut socket);
    let within = Duration::from_secs(2);

    let id = server.create_session("editor");
    wait_for_list(&mut socket, within, "the new session", |list| {
        session(list, &id).is_some()
    });

    server.post_json(&format!("/sessions/{id}"), &json!({"mode": "cooking"}));
    wait_for_list(&mut socket, within, "the update", |list| {
        session(list, &id).is_some_and(|s| s["mode"] == "cooking")
    });

    server
        .request("PUT", &format!("/sessions/{id}"))
        .json(&json!({"metadata": {"map": "Arena"}}))
        .send();
    wait_for_list(&mut socket, within, "the metadata", |list| {
        session(list, &id).is_some_and(|s| s["metadata"]["map"] == "Arena")
    });

    server.post_text(&format!("/sessions/{id}/log"), "one line\n");
    wait_for_list(&mut socket, within, "the log summary", |list| {
        session(list, &id).is_some_and(|s| s["log"]["entries"] == 1)
    });

    server.request("DELETE", &format!("/sessions/{id}")).send();
    wait_for_list(&mut socket, within, "the end", |list| {
        session(list, &id).is_some_and(|s| s["status"] == "ended")
    });
}

#[test]
fn the_list_is_pushed_again_after_five_quiet_seconds() {
    let server = Server::start();
    let mut socket = watch(&server);
    // The server's own session takes the server's log lines, and on a
    // Redis store the first of them may land after the first list: a
    // change, pushed at once. What must not come is the same list again
    // before the quiet spell is over.
    let mut last = next_list(&mut socket);
    let mut last_at = Instant::now();
    let deadline = last_at + Duration::from_secs(30);
    loop {
        let list = next_list(&mut socket);
        if list == last {
            assert!(
                last_at.elapsed() >= Duration::from_secs(3),
                "a push came without a change"
            );
            return;
        }
        assert!(Instant::now() < deadline, "the list kept changing for 30 s");
        last = list;
        last_at = Instant::now();
    }
}

#[test]
fn two_hundred_watchers_all_see_the_same_change() {
    let server = Server::start();
    let mut sockets: Vec<Socket> = (0..200).map(|_| watch(&server)).collect();
    for socket in &mut sockets {
        next_list(socket);
    }
    assert_eq!(server.get("/health").json()["websocket_clients"], 200);
    let id = server.create_session("broadcast");
    let mut seen = Vec::new();
    for socket in &mut sockets {
        let list = wait_for_list(socket, Duration::from_secs(5), "the broadcast", |list| {
            session(list, &id).is_some()
        });
        seen.push(list.to_string());
    }
    assert!(
        seen.windows(2).all(|pair| pair[0] == pair[1]),
        "every watcher got the same bytes"
    );
    drop(sockets);
    eventually(Duration::from_secs(10), "closed watchers reaped", || {
        server.get("/health").json()["websocket_clients"] == 0
    });
}

/// Opens a WebSocket with a raw handshake, offering `extensions`; returns
/// the stream, positioned after the response head, and the head.
fn raw_watcher(port: u16, extensions: Option<&str>) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let offer = extensions
        .map(|offer| format!("Sec-WebSocket-Extensions: {offer}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET /sessions/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    (stream, head)
}

/// Opens a WebSocket with a raw handshake and never reads from it again.
fn stalled_watcher(port: u16) -> TcpStream {
    raw_watcher(port, None).0
}

/// Reads one frame: its first byte (FIN, RSV1, opcode) and its payload.
fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut start = [0u8; 2];
    stream.read_exact(&mut start).unwrap();
    let len = match start[1] & 0x7f {
        126 => {
            let mut bytes = [0u8; 2];
            stream.read_exact(&mut bytes).unwrap();
            u16::from_be_bytes(bytes) as usize
        }
        127 => {
            let mut bytes = [0u8; 8];
            stream.read_exact(&mut bytes).unwrap();
            u64::from_be_bytes(bytes) as usize
        }
        short => short as usize,
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).unwrap();
    (start[0], payload)
}

fn inflate(message: &[u8]) -> Vec<u8> {
    let mut input = message.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut inflated = Vec::new();
    let _ = flate2::read::DeflateDecoder::new(&input[..]).read_to_end(&mut inflated);
    inflated
}

#[test]
fn lists_are_compressed_once_for_clients_that_ask() {
    let server = Server::start();
    for i in 0..50 {
        server.post_json(
            "/sessions/",
            &json!({"appname": format!("agent-{i}"), "mode": "build", "metadata": {"branch": "main"}}),
        );
    }
    std::thread::sleep(Duration::from_millis(1_200));
    let (mut plain, head) = raw_watcher(server.port, None);
    assert!(!head.contains("sec-websocket-extensions"));
    let (first, json) = read_frame(&mut plain);
    assert_eq!(first, 0x81, "final text frame, not compressed");

    let offer = "permessage-deflate; client_max_window_bits";
    let (mut compressed, head) = raw_watcher(server.port, Some(offer));
    assert!(
        head.contains("sec-websocket-extensions: permessage-deflate; server_no_context_takeover"),
        "{head}"
    );
    let (first, deflated) = read_frame(&mut compressed);
    assert_eq!(first, 0xc1, "final text frame with RSV1: compressed");
    assert!(
        deflated.len() * 4 < json.len(),
        "{} of {}",
        deflated.len(),
        json.len()
    );
    assert_eq!(inflate(&deflated), json, "the same list");

    // A window smaller than the one the shared lists are made with cannot be
    // honored: that client gets plain lists.
    let (mut limited, head) = raw_watcher(
        server.port,
        Some("permessage-deflate; server_max_window_bits=10"),
    );
    assert!(!head.contains("sec-websocket-extensions"));
    assert_eq!(read_frame(&mut limited).0, 0x81);

    // Later pushes are compressed too.
    server.create_session("after");
    let (first, deflated) = read_frame(&mut compressed);
    assert_eq!(first, 0xc1);
    assert!(
        String::from_utf8(inflate(&deflated))
            .unwrap()
            .contains("\"after\"")
    );
}

#[test]
fn a_new_watcher_does_not_get_its_first_list_twice() {
    let server = Server::start();
    let mut socket = watch(&server);
    next_list(&mut socket);
    // A change, then a watcher that connects before it is pushed: it starts
    // with a fresh list, and must not get the same list again from the push.
    server.create_session("fresh");
    let (mut late, _) = raw_watcher(server.port, None);
    let (_, first) = read_frame(&mut late);
    assert!(String::from_utf8_lossy(&first).contains("\"fresh\""));
    let started = Instant::now();
    let (_, second) = read_frame(&mut late);
    assert!(
        second != first || started.elapsed() >= Duration::from_secs(3),
        "the same list came twice right away"
    );
}

#[test]
fn a_watcher_that_never_reads_costs_nothing_and_delays_no_one() {
    let server = Server::start();
    // A list of about 1 MB, so every push the server would queue shows.
    let filler = "x".repeat(3_000);
    let ids: Vec<String> = (0..330)
        .map(|i| {
            let response = server.post_json(
                "/sessions/",
                &json!({"appname": format!("s{i}"), "mode": "m", "metadata": {"filler": filler}}),
            );
            response.json()["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let _stalled = stalled_watcher(server.port);
    let mut socket = watch(&server);
    // The first list may predate the last creations by one push interval.
    let full = wait_for_list(
        &mut socket,
        Duration::from_secs(2),
        "all sessions",
        |list| list["sessions"].as_array().unwrap().len() == ids.len() + 1,
    );
    let list_bytes = full.to_string().len() as u64;
    assert!(list_bytes > 1_000_000);

    let change = |n: usize| {
        let id = &ids[n % ids.len()];
        server
            .request("PUT", &format!("/sessions/{id}"))
            .json(&json!({"metadata": {"n": n}}))
            .send();
        (id.clone(), n)
    };
    // Warm up: fill the stalled socket's kernel buffers and the allocator.
    for n in 0..20 {
        change(n);
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = support::rss(server.pid());
    for n in 20..120 {
        let (id, n) = change(n);
        if n % 10 == 0 {
            wait_for_list(
                &mut socket,
                Duration::from_secs(2),
                "a change on time",
                |list| session(list, &id).is_some_and(|s| s["metadata"]["n"] == n),
            );
        } else {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let growth = support::rss(server.pid()).saturating_sub(before);
    // Queueing the lists pushed meanwhile (about twenty) would take over
    // 20 MB; a few lists' worth is allocator noise.
    assert!(
        growth < 4 * list_bytes,
        "memory grew by {growth} bytes while one watcher stalled"
    );
}

fn upgrade(server: &Server, headers: &[(&str, &str)]) -> support::Response {
    let mut request = server
        .request("GET", "/sessions/ws")
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("Sec-WebSocket-Version", "13");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut stream = request.connect();
    stream.write_all(&request.to_bytes()).unwrap();
    let mut raw = vec![0u8; 4096];
    let read = stream.read(&mut raw).unwrap();
    support::parse_response(&raw[..read])
}

#[test]
fn cross_site_and_foreign_host_upgrades_are_refused() {
    let server = Server::start();
    upgrade(&server, &[("Origin", "http://evil.example")])
        .assert_problem(403, "origin `http://evil.example`");
    upgrade(&server, &[("Sec-Fetch-Site", "cross-site")]).assert_problem(403, "Sec-Fetch-Site");
    upgrade(&server, &[("Host", "rebind.attacker.example")]).assert_problem(403, "host");
    let own = format!("http://127.0.0.1:{}", server.port);
    assert_eq!(upgrade(&server, &[("Origin", &own)]).status, 101);
    assert_eq!(
        upgrade(&server, &[]).status,
        101,
        "no Origin: not a browser"
    );
    server
        .get("/sessions/ws")
        .assert_problem(400, "speaks WebSocket only");
    server
        .get("/sessions/ws?follow=1")
        .assert_problem(400, "`follow`");
}

#[test]
fn a_token_is_taken_from_the_query_for_upgrades() {
    let server = Server::start_with(&["--token", "s3cret"]);
    upgrade(&server, &[]).assert_problem(401, "token");
    let (mut socket, _) = tungstenite::connect(format!(
        "ws://127.0.0.1:{}/sessions/ws?token=s3cret",
        server.port
    ))
    .unwrap();
    assert!(matches!(socket.read().unwrap(), Message::Text(_)));
}

#[test]
fn a_flooding_watcher_is_closed_and_others_are_unaffected() {
    let server = Server::start();
    let mut flooder = watch(&server);
    let mut calm = watch(&server);
    next_list(&mut calm);
    for i in 0..2_000 {
        if flooder.send(Message::text(format!("spam {i}"))).is_err() {
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        assert!(Instant::now() < deadline, "the flooder was not closed");
        match flooder.read() {
            Ok(Message::Close(Some(frame))) => break frame.code,
            Ok(_) => {}
            Err(error) => panic!("connection ended without a close frame: {error}"),
        }
    };
    assert_eq!(code, CloseCode::Policy);
    let id = server.create_session("still here");
    wait_for_list(&mut calm, Duration::from_secs(2), "a change", |list| {
        session(list, &id).is_some()
    });
    let mut pinger = watch(&server);
    for _ in 0..2_000 {
        if pinger.send(Message::Ping(Vec::new().into())).is_err() {
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "the pinger was not closed");
        match pinger.read() {
            Ok(Message::Close(Some(frame))) => {
                assert_eq!(frame.code, CloseCode::Policy, "pings count as messages");
                break;
            }
            Ok(_) => {}
            Err(error) => panic!("connection ended without a close frame: {error}"),
        }
    }
    let oversized = "y".repeat(64 << 10);
    let mut big = watch(&server);
    let _ = big.send(Message::text(oversized));
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn shutdown_closes_watchers_with_a_normal_close_frame() {
    let server = Server::start();
    let mut socket = watch(&server);
    next_list(&mut socket);
    let pid = server.pid();
    let closer = std::thread::spawn(move || {
        loop {
            match socket.read() {
                Ok(Message::Close(frame)) => return frame.map(|frame| frame.code),
                Ok(_) => {}
                Err(error) => panic!("no close frame: {error}"),
            }
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let status = server.terminate();
    assert!(status.success(), "pid {pid} exited with {status:?}");
    assert_eq!(closer.join().unwrap(), Some(CloseCode::Normal));
}
