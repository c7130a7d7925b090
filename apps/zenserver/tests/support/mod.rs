//! Test support: start the real `zenserver` binary on a free loopback port
//! and talk HTTP/1.1 to it over a plain socket, so every byte of a request
//! (Host, Origin, bodies, lengths) is under the test's control.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;
use zenserver_test_support::ZenServer;

/// No single exchange may take longer than this; a hung server fails the test
/// instead of hanging it.
const IO_TIMEOUT: Duration = Duration::from_secs(90);

pub struct Server {
    process: ZenServer,
    pub port: u16,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts the binary on a free port with `args`; its log goes to the
    /// test's stderr.
    pub fn start_with(args: &[&str]) -> Server {
        let process = ZenServer::launch(env!("CARGO_BIN_EXE_zenserver"))
            .args(args)
            .start()
            .unwrap();
        Server {
            port: process.port(),
            process,
        }
    }

    pub fn request(&self, method: &str, path: &str) -> Request {
        Request {
            port: self.port,
            method: method.to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path).send()
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request("POST", path).json(body).send()
    }

    pub fn post_text(&self, path: &str, body: &str) -> Response {
        self.request("POST", path)
            .header("Content-Type", "text/plain")
            .body(body.as_bytes())
            .send()
    }

    /// Creates a session and returns its id.
    pub fn create_session(&self, appname: &str) -> String {
        let response = self.post_json(
            "/sessions/",
            &serde_json::json!({"appname": appname, "mode": "test"}),
        );
        assert_eq!(response.status, 201, "{}", response.text());
        response.json()["id"].as_str().unwrap().to_owned()
    }

    pub fn server_session_id(&self) -> String {
        let list = self.get("/sessions/").json();
        list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|session| session["server"] == true)
            .expect("the server's session is listed")["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Everything a client can see, except the server's own session whose
    /// log grows on its own: to check that a refused request changed nothing.
    pub fn visible_state(&self) -> Value {
        let list = self.get("/sessions/?status=all").json();
        let sessions: Vec<Value> = list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|session| session["server"] == false)
            .map(|session| {
                let id = session["id"].as_str().unwrap();
                let log = self.get(&format!("/sessions/{id}/log?limit=10000")).json();
                serde_json::json!({"session": session, "log": log})
            })
            .collect();
        Value::Array(sessions)
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(self) -> std::process::ExitStatus {
        self.process.terminate(IO_TIMEOUT).unwrap()
    }
}

pub struct Request {
    port: u16,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: &[u8]) -> Request {
        self.body = body.to_vec();
        self
    }

    pub fn json(self, value: &Value) -> Request {
        self.header("Content-Type", "application/json")
            .body(value.to_string().as_bytes())
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(key, _)| key.eq_ignore_ascii_case(name))
    }

    /// The request's bytes. `Host` and `Content-Length` are added unless the
    /// test set them itself.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.path);
        if !self.has_header("host") {
            head.push_str(&format!("Host: 127.0.0.1:{}\r\n", self.port));
        }
        if !self.has_header("content-length") && (!self.body.is_empty() || self.method != "GET") {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if !self.has_header("connection") {
            head.push_str("Connection: close\r\n");
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    pub fn send(self) -> Response {
        let mut stream = self.connect();
        stream.write_all(&self.to_bytes()).unwrap();
        read_response(&mut stream)
    }

    /// Sends the request to a server that may be gone: `None` when it
    /// cannot connect or the answer breaks off.
    pub fn try_send(self) -> Option<Response> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
        stream.write_all(&self.to_bytes()).ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).ok()?;
        raw.windows(4)
            .any(|window| window == b"\r\n\r\n")
            .then(|| parse_response(&raw))
    }

    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text()))
    }

    /// Asserts an RFC 9457 problem with `status` whose detail contains
    /// `fragment`.
    pub fn assert_problem(&self, status: u16, fragment: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let problem = self.json();
        assert_eq!(problem["type"], "about:blank");
        assert_eq!(problem["status"], status);
        assert!(problem["title"].is_string());
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(fragment),
            "detail {detail:?} should mention {fragment:?}"
        );
    }
}

/// Reads one response from a connection the server will close.
pub fn read_response(stream: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    // A reset after the response (the server closing a connection whose body
    // it did not read) still leaves the response readable.
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

pub fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    if status == 100 {
        return parse_response(rest);
    }
    let chunked = headers
        .iter()
        .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        raw = &raw[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// Sends a request that must be refused with `status` and a detail
/// containing `fragment`, and checks that the server still answers and that
/// nothing a client can see changed.
pub fn check_refused(
    server: &Server,
    response: impl FnOnce() -> Response,
    status: u16,
    fragment: &str,
) {
    let before = server.visible_state();
    response().assert_problem(status, fragment);
    assert_eq!(
        server.get("/health").status,
        200,
        "the server still answers"
    );
    assert_eq!(server.visible_state(), before, "nothing changed");
}

/// Resident memory of a process, in bytes.
pub fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Polls `condition` until it holds, failing after `timeout`.
pub fn eventually(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `work` for each of `workers` on a thread of its own, all at once,
/// and answers what each returned, in worker order.
pub fn in_parallel<T: Send>(workers: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| scope.spawn(move || work(worker)))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    })
}
