//! The real `zenserver` binary, started on a free loopback port for a test,
//! a benchmark or an xtask, and stopped again whatever happens in between.
//!
//! Every suite that drives the binary from outside (the server's own
//! integration tests, the client library's, `zen`'s, the benchmarks and
//! xtask's conformance, interop and smoke runs) starts it through
//! [`ZenServer::launch`], so "start it on port 0 and read the address it
//! prints" is written once.
//!
//! `RedisServer` and `RedisCluster` do the same for real Redis processes,
//! for the Redis pass of the suites (`ZEN_TEST_STORE`, read by
//! [`Launch::start`]).
//!
//! Dev-only: no product crate may depend on this one. Standard library only,
//! so that xtask, which must build in seconds, can use it too.

mod redis;

pub use crate::redis::{RedisCluster, RedisServer, redis_installed};

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The store the suites run on, when not the memory store: `ZEN_TEST_STORE`
/// (`redis://…` or `redis+cluster://…`).
pub fn test_store() -> Option<String> {
    std::env::var("ZEN_TEST_STORE")
        .ok()
        .filter(|store| !store.is_empty() && store != "memory")
}

/// A key prefix no other server of any test run uses, for servers that
/// share one Redis.
pub fn unique_prefix() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!(
        "test-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// What the server prints first, followed by its URL.
const ANNOUNCEMENT: &str = "zenserver listening on ";

/// A running server, killed when dropped (also when a test fails).
#[derive(Debug)]
pub struct ZenServer {
    child: Child,
    url: String,
    port: u16,
    /// Kept open: a server printing into a closed pipe would fail.
    _stdout: BufReader<ChildStdout>,
}

/// How to start a server; [`ZenServer::launch`] makes one.
#[derive(Debug)]
pub struct Launch {
    binary: PathBuf,
    port: u16,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    quiet: bool,
}

impl ZenServer {
    /// A server of `binary` on a free port, with no arguments, its log on
    /// this process's stderr, and nothing of this process's environment
    /// that would change it (`ZEN_*`, `RUST_LOG`).
    pub fn launch(binary: impl AsRef<Path>) -> Launch {
        Launch {
            binary: binary.as_ref().to_owned(),
            port: 0,
            args: Vec::new(),
            env: Vec::new(),
            quiet: false,
        }
    }

    /// The `zenserver` of this build ([`zenserver_binary`]) on a free port
    /// with `args`, its log thrown away: the server as a test of another
    /// package meets it. Panics when it does not start.
    pub fn start_with(args: &[&str]) -> ZenServer {
        ZenServer::start_on(0, args)
    }

    pub fn start() -> ZenServer {
        ZenServer::start_with(&[])
    }

    /// As [`ZenServer::start_with`], on `port`: a server can come back where
    /// it was, as after a restart.
    pub fn start_on(port: u16, args: &[&str]) -> ZenServer {
        ZenServer::launch(zenserver_binary())
            .port(port)
            .args(args)
            .quiet()
            .start()
            .unwrap_or_else(|error| panic!("zenserver did not start: {error}"))
    }

    /// `http://127.0.0.1:PORT`, as the server announced it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        self.url.strip_prefix("http://").unwrap_or(&self.url)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit.
    pub fn terminate(mut self, timeout: Duration) -> io::Result<ExitStatus> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            return Err(io::Error::other("kill -TERM failed"));
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the server did not stop after SIGTERM",
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[cfg(feature = "client")]
impl ZenServer {
    /// A client of this server.
    pub fn client(&self) -> sessions_client::Client {
        sessions_client::Client::new(sessions_client::ClientConfig::new(self.url()))
            .unwrap_or_else(|error| panic!("no client for {}: {error}", self.url()))
    }

    /// A new session of `appname`, mode `test`.
    pub fn create_session(&self, appname: &str) -> sessions_client::Session {
        self.client()
            .create(&sessions_client::NewSession {
                appname: appname.into(),
                mode: "test".into(),
                ..sessions_client::NewSession::default()
            })
            .unwrap_or_else(|error| panic!("cannot create a session: {error}"))
    }
}

impl Drop for ZenServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Launch {
    /// Listens on `port` instead of a free one: a server can come back where
    /// it was, as after a restart.
    pub fn port(mut self, port: u16) -> Launch {
        self.port = port;
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Launch
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Launch {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Throws the server's log (stderr) away.
    pub fn quiet(mut self) -> Launch {
        self.quiet = true;
        self
    }

    /// Starts the server and waits for the line that gives its address.
    ///
    /// With `ZEN_TEST_STORE` set (`cargo xtask test` sets it for its second
    /// run of the suites), a server not given a `--store` of its own runs on
    /// that store, under a prefix of its own unless given one, so every
    /// suite runs unchanged on every store.
    pub fn start(mut self) -> io::Result<ZenServer> {
        if let Some(store) = test_store() {
            let named = |flag: &str| self.args.iter().any(|arg| arg == flag);
            if !named("--store") {
                if !named("--store-prefix") {
                    let prefix = unique_prefix();
                    self.args.extend(["--store-prefix".into(), prefix.into()]);
                }
                self.args.extend(["--store".into(), store.into()]);
            }
        }
        let mut command = Command::new(&self.binary);
        command
            .args(["--port", &self.port.to_string()])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if self.quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            });
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ZEN_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command.envs(self.env);
        let mut child = command.spawn().map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot start {}: {error}", self.binary.display()),
            )
        })?;
        let announced = read_announcement(&mut child);
        match announced {
            Ok((url, port, stdout)) => Ok(ZenServer {
                child,
                url,
                port,
                _stdout: stdout,
            }),
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(error)
            }
        }
    }
}

fn read_announcement(child: &mut Child) -> io::Result<(String, u16, BufReader<ChildStdout>)> {
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("the server has no stdout"))?;
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix(ANNOUNCEMENT)
        .ok_or_else(|| io::Error::other(format!("the server printed {line:?}, not its address")))?
        .to_owned();
    let port = url
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no port in {url:?}")))?;
    Ok((url, port, stdout))
}

/// The `zenserver` binary of this build, for suites of other packages
/// (Cargo names `CARGO_BIN_EXE_zenserver` only to the package that has it):
/// next to the running test's executable in the target directory, built
/// first when it is not there yet (a workspace test run has built it).
pub fn zenserver_binary() -> PathBuf {
    // target/debug/deps/<this test> -> target/debug/zenserver
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .unwrap_or_default();
    let binary = dir.join(format!("zenserver{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "--package", "zenserver", "--bin", "zenserver"])
            .status()
            .is_ok_and(|status| status.success());
        assert!(built, "building zenserver failed");
    }
    binary
}

/// Waits for `child` to exit; kills it and panics after `limit`, so a hang
/// fails the test instead of stalling the run.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child did not exit within {limit:?}");
            }
            Err(error) => panic!("cannot wait for the child: {error}"),
        }
    }
}

/// Every entry of a session's log, oldest first, read with cursors; panics
/// when the server evicted any (the test's limits were meant to hold all).
#[cfg(feature = "client")]
pub fn whole_log(
    client: &sessions_client::Client,
    id: sessions_client::SessionId,
) -> Vec<sessions_client::LogEntry> {
    let mut entries = Vec::new();
    let mut cursor = 0;
    loop {
        let request = sessions_client::ReadRequest::After {
            cursor,
            limit: 10_000,
        };
        let page = client
            .read_log(id, request)
            .unwrap_or_else(|error| panic!("cannot read the log of {id}: {error}"));
        assert_eq!(page.dropped, 0, "the server evicted entries of {id}");
        entries.extend(page.entries);
        cursor = page.cursor;
        if !page.more {
            return entries;
        }
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| panic!("no free loopback port: {error}"))
}

/// An address where nothing listens: a port that was free a moment ago.
pub fn unreachable_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A server that accepts connections and never answers: the worst a client
/// can meet. Connections stay open until the process ends.
#[derive(Debug)]
pub struct SilentServer {
    url: String,
    accepted: Arc<AtomicUsize>,
}

impl SilentServer {
    pub fn start() -> io::Result<SilentServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        std::thread::spawn(move || {
            let mut open: Vec<TcpStream> = Vec::new();
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::Relaxed);
                open.push(stream);
            }
        });
        Ok(SilentServer { url, accepted })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}
