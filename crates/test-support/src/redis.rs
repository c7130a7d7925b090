//! Real Redis processes on loopback ports for tests and xtask: one server
//! with its append-only file, or a cluster of three masters with a replica
//! each, in a directory of their own that goes away with them.
//!
//! Debian's `redis-server` and `redis-cli` must be on `PATH`; `cargo xtask
//! test` installs them.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::unique_prefix;

/// How long a Redis may take to load its files and answer.
const STARTUP: Duration = Duration::from_secs(20);

/// Cluster nodes talk on their port plus this, Redis's fixed bus offset.
const BUS_OFFSET: u16 = 10_000;

/// One `redis-server` with `appendonly yes`, stopped when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    extra: Vec<String>,
    /// Only the owner of the directory removes it.
    owns_dir: bool,
}

impl RedisServer {
    /// A standalone Redis persisting every write to its append-only file
    /// (`appendfsync always`: a test that kills it must find every
    /// acknowledged write).
    pub fn start() -> io::Result<RedisServer> {
        let dir = scratch_dir()?;
        RedisServer::start_in(dir, free_port_pair(), &[], true)
    }

    /// A replica of `master` (`--replicaof`), once it has caught up.
    pub fn start_replica_of(master: &RedisServer) -> io::Result<RedisServer> {
        let master_port = master.port.to_string();
        let replica = RedisServer::start_in(
            scratch_dir()?,
            free_port_pair(),
            &["--replicaof", "127.0.0.1", &master_port],
            true,
        )?;
        let deadline = Instant::now() + STARTUP;
        while !command(master.port, &["INFO", "replication"])
            .is_ok_and(|info| replica_caught_up(&info))
        {
            if Instant::now() > deadline {
                return Err(io::Error::other("the replica did not catch up"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(replica)
    }

    fn start_in(dir: PathBuf, port: u16, extra: &[&str], owns_dir: bool) -> io::Result<Self> {
        let mut server = RedisServer {
            child: None,
            port,
            dir,
            extra: extra.iter().map(|arg| (*arg).to_owned()).collect(),
            owns_dir,
        };
        server.run()?;
        Ok(server)
    }

    fn run(&mut self) -> io::Result<()> {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--save", "", "--protected-mode", "no"])
            .args(["--maxmemory-policy", "noeviction"])
            .args(["--loglevel", "warning"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| {
                io::Error::new(error.kind(), format!("cannot start redis-server: {error}"))
            })?;
        self.child = Some(child);
        wait_until_ready(self.port)
    }

    /// `redis://127.0.0.1:PORT`, for `--store`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and files, once killed; waits until
    /// it has loaded its data and answers.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        self.run()
    }

    /// Sends one command and returns Redis's reply line (`+OK`, `:1`, ...).
    pub fn command(&self, args: &[&str]) -> io::Result<String> {
        command(self.port, args)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A Redis Cluster of three masters with one replica each, made with
/// `redis-cli --cluster create`, stopped when dropped.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    dir: PathBuf,
}

impl RedisCluster {
    pub fn start() -> io::Result<RedisCluster> {
        let dir = scratch_dir()?;
        let mut nodes = Vec::new();
        for index in 0..6 {
            let node_dir = dir.join(format!("node-{index}"));
            std::fs::create_dir_all(&node_dir)?;
            let node = RedisServer::start_in(
                node_dir,
                free_port_pair(),
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "2000",
                    // A replica takes over however long it was cut off.
                    "--cluster-replica-validity-factor",
                    "0",
                ],
                false,
            )?;
            nodes.push(node);
        }
        let cluster = RedisCluster { nodes, dir };
        let mut create = Command::new("redis-cli");
        create.args(["--cluster", "create"]);
        for node in &cluster.nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let output = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()?;
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&output.stdout)
            )));
        }
        cluster.wait_until_healthy(STARTUP)?;
        cluster.wait_for_replicas(STARTUP)?;
        Ok(cluster)
    }

    /// Waits until every master's replica is online and has everything the
    /// master had when this was called (replication is asynchronous: a
    /// test that kills a master waits here first for what it wrote).
    pub fn wait_for_replicas(&self, limit: Duration) -> io::Result<()> {
        let deadline = Instant::now() + limit;
        let masters = self.masters();
        let mut targets = Vec::new();
        for port in &masters {
            let info = command(*port, &["INFO", "replication"])?;
            targets.push(field_of(&info, "master_repl_offset:").unwrap_or(0));
        }
        loop {
            let caught_up = masters.iter().zip(&targets).all(|(port, target)| {
                command(*port, &["INFO", "replication"])
                    .is_ok_and(|info| replica_offset(&info).is_some_and(|offset| offset >= *target))
            });
            if caught_up {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::other("the Redis replicas did not catch up"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `redis+cluster://127.0.0.1:P1,...`, every node a seed.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    /// The running nodes that serve slots now.
    pub fn masters(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|node| node.child.is_some())
            .filter(|node| command(node.port, &["ROLE"]).is_ok_and(|role| role.contains("master")))
            .map(RedisServer::port)
            .collect()
    }

    /// Kills the node on `port` with SIGKILL.
    pub fn kill_node(&mut self, port: u16) {
        if let Some(node) = self.nodes.iter_mut().find(|node| node.port == port) {
            node.kill();
        }
    }

    /// Waits until every running node reports `cluster_state:ok`.
    pub fn wait_until_healthy(&self, limit: Duration) -> io::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let healthy = self
                .nodes
                .iter()
                .filter(|node| node.child.is_some())
                .all(|node| {
                    command(node.port, &["CLUSTER", "INFO"])
                        .is_ok_and(|info| info.contains("cluster_state:ok"))
                });
            if healthy {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::other("the Redis cluster did not become healthy"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A number field (`master_repl_offset:`) of an `INFO` answer.
fn field_of(info: &str, name: &str) -> Option<u64> {
    info.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|value| value.trim().parse().ok())
}

/// The offset of a master's first replica, from its `INFO replication`,
/// when that replica is online.
fn replica_offset(info: &str) -> Option<u64> {
    let replica = info.lines().find(|line| line.starts_with("slave0:"))?;
    let field = |name: &str| {
        replica
            .split([':', ','])
            .find_map(|pair| pair.strip_prefix(name))
    };
    if field("state=") != Some("online") {
        return None;
    }
    field("offset=")?.parse().ok()
}

/// Whether a master's `INFO replication` shows an online replica with
/// everything the master has.
fn replica_caught_up(info: &str) -> bool {
    let master = field_of(info, "master_repl_offset:");
    master.is_some() && replica_offset(info) >= master
}

fn scratch_dir() -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("zen-redis-{}", unique_prefix()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A free loopback port whose cluster bus port (+10000) is free as well.
fn free_port_pair() -> u16 {
    for _ in 0..1000 {
        let port = crate::free_port();
        let bus_is_free = port
            .checked_add(BUS_OFFSET)
            .is_some_and(|bus| TcpListener::bind(("127.0.0.1", bus)).is_ok());
        if bus_is_free {
            return port;
        }
    }
    panic!("no free pair of loopback ports");
}

fn wait_until_ready(port: u16) -> io::Result<()> {
    let deadline = Instant::now() + STARTUP;
    loop {
        if command(port, &["PING"]).is_ok_and(|reply| reply == "+PONG") {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "redis-server on port {port} did not answer PING"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One command in RESP, followed by QUIT so Redis closes the connection
/// once it has answered; returns the reply's text (a bulk string's
/// content, or every line of an array, enough to look for a word).
fn command(port: u16, args: &[&str]) -> io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    request.push_str("*1\r\n$4\r\nQUIT\r\n");
    stream.write_all(request.as_bytes())?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let reply = reply.strip_suffix("+OK\r\n").unwrap_or(&reply);
    match reply.strip_prefix('$') {
        // A bulk string: its length line, then its text.
        Some(bulk) => Ok(bulk
            .split_once("\r\n")
            .map_or("", |(_, text)| text)
            .trim_end()
            .to_owned()),
        None => Ok(reply.trim_end().to_owned()),
    }
}

/// Whether `redis-server` can be started here.
pub fn redis_installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
