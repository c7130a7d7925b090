//! Starting a zenserver for a case, and reading its CPU time and memory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Starts `binary` on a free loopback port with `args`.
    pub(crate) fn start(binary: &Path, args: &[&str]) -> anyhow::Result<Server> {
        let mut child = Command::new(binary)
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let Some(port) = line.trim().rsplit(':').next().and_then(|p| p.parse().ok()) else {
            bail!("unexpected first line {line:?}");
        };
        Ok(Server {
            child,
            port,
            _stdout: stdout,
        })
    }

    /// User plus system CPU time the server used so far.
    pub(crate) fn cpu_time(&self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the command name, which is in parentheses.
        let after = stat.rsplit(')').next().context("bad /proc stat")?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        // The kernel reports in clock ticks, 100 per second on Linux.
        Ok(Duration::from_millis(ticks * 10))
    }

    /// Resident memory now and at its peak, in bytes.
    pub(crate) fn memory(&self) -> anyhow::Result<(u64, u64)> {
        let pid = self.child.id();
        Ok((
            proc_status_bytes(pid, "VmRSS:")?,
            proc_status_bytes(pid, "VmHWM:")?,
        ))
    }
}

/// A size field (`VmRSS:`, `VmHWM:`) of a process's `/proc/PID/status`, in
/// bytes.
pub(crate) fn proc_status_bytes(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("bad line")?
        .parse()?;
    Ok(kib * 1024)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
