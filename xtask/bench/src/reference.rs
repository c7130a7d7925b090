//! The reference servers the cases are measured against, each started on a
//! free loopback port with a throwaway directory, and stopped when dropped:
//! nginx serving static files, and Redis.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A free loopback port (there is a small race until the server binds it).
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// A directory under the system's temporary one, removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> anyhow::Result<Scratch> {
        let path =
            std::env::temp_dir().join(format!("zenserver-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed when dropped.
pub(crate) struct Process {
    child: Child,
    pub(crate) port: u16,
    _scratch: Scratch,
}

impl Process {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx serving `files` (name, bytes) from its root with `workers` worker
/// processes, logging nothing.
pub(crate) fn nginx(workers: usize, files: &[(&str, &[u8])]) -> anyhow::Result<Process> {
    let scratch = Scratch::new("nginx")?;
    let root = scratch.0.join("root");
    std::fs::create_dir_all(&root)?;
    for (name, bytes) in files {
        std::fs::write(root.join(name), bytes)?;
    }
    let port = free_port()?;
    let dir = scratch.0.display();
    let config = format!(
        "worker_processes {workers};\ndaemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  default_type application/json;\n  sendfile on;\n  tcp_nopush on;\n\
           keepalive_requests 1000000;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
           fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
           server {{ listen 127.0.0.1:{port}; root {root}; }}\n}}\n",
        root = root.display()
    );
    let config_path = scratch.0.join("nginx.conf");
    std::fs::write(&config_path, config)?;
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&config_path)
        .arg("-p")
        .arg(&scratch.0)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start nginx")?;
    wait_for_port(port)?;
    Ok(Process {
        child,
        port,
        _scratch: scratch,
    })
}

/// Redis with persistence off.
pub(crate) fn redis() -> anyhow::Result<Process> {
    let scratch = Scratch::new("redis")?;
    let port = free_port()?;
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(&scratch.0)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start redis-server")?;
    wait_for_port(port)?;
    Ok(Process {
        child,
        port,
        _scratch: scratch,
    })
}

fn wait_for_port(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("nothing listens on port {port}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// `redis-benchmark ... --csv`; requests per second.
pub(crate) fn redis_benchmark(port: u16, args: &[&str]) -> anyhow::Result<f64> {
    let output = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--csv"])
        .args(args)
        .output()
        .context("cannot run redis-benchmark")?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "test","rps","avg_latency_ms",...; the second line holds the figures.
    let line = text
        .lines()
        .nth(1)
        .context("redis-benchmark printed no figures")?;
    let rps = line
        .split(',')
        .nth(1)
        .map(|field| field.trim_matches('"'))
        .context("no rps column")?;
    Ok(rps.parse()?)
}

/// `redis-cli ARGS`, its output.
pub(crate) fn redis_cli(port: u16, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .context("cannot run redis-cli")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
