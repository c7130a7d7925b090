//! Test support: the real `zenserver` binary on a free loopback port, as
//! any client meets it.
//!
//! The binary belongs to another package, so it is found next to this test's
//! own executable in the target directory, and built first when it is not
//! there yet (a workspace test run has built it already).

#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;

use sessions_client::{Client, ClientConfig, NewSession, Session};

pub struct Server {
    child: Child,
    pub url: String,
    /// Kept open: the server may still write to stdout.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts the binary with `--port 0` and `args`, and reads the address
    /// from the line it prints first.
    pub fn start_with(args: &[&str]) -> Server {
        Server::start_on(0, args)
    }

    /// Starts the binary on `port` (0: a free one) with `args`: a server
    /// can come back where it was, as after a restart.
    pub fn start_on(port: u16, args: &[&str]) -> Server {
        let mut child = Command::new(zenserver())
            .args(["--port", &port.to_string()])
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("ZEN_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("zenserver starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("zenserver listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Server {
            child,
            url,
            _stdout: stdout,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn client(&self) -> Client {
        Client::new(ClientConfig::new(&self.url)).unwrap()
    }

    pub fn create_session(&self, appname: &str) -> Session {
        self.client()
            .create(&NewSession {
                appname: appname.into(),
                mode: "test".into(),
                ..NewSession::default()
            })
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An address where nothing listens: a port that was free a moment ago.
pub fn unreachable_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A server that accepts connections and never answers: the worst a client
/// can meet. Connections stay open until the test ends.
pub struct SilentServer {
    pub url: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&accepted);
        std::thread::spawn(move || {
            let mut open = Vec::new();
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                open.push(stream);
            }
        });
        SilentServer { url, accepted }
    }

    pub fn connections(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn zenserver() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            // target/debug/deps/<this test> -> target/debug/zenserver
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().unwrap().parent().unwrap();
            let binary = dir.join(format!("zenserver{}", std::env::consts::EXE_SUFFIX));
            if !binary.exists() {
                let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
                let status = Command::new(cargo)
                    .args(["build", "--package", "zenserver", "--bin", "zenserver"])
                    .status()
                    .unwrap();
                assert!(status.success(), "building zenserver failed");
            }
            binary
        })
        .clone()
}
