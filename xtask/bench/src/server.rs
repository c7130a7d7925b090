//! Starting a zenserver for a case, and reading its CPU time and memory.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use zenserver_test_support::ZenServer;

pub(crate) struct Server {
    process: ZenServer,
    pub(crate) port: u16,
}

impl Server {
    /// Starts `binary` on a free loopback port with `args`, logging
    /// warnings and errors only.
    pub(crate) fn start(binary: &Path, args: &[&str]) -> anyhow::Result<Server> {
        let process = ZenServer::launch(binary)
            .args(["--bind", "127.0.0.1"])
            .args(args)
            .env("RUST_LOG", "warn")
            .start()?;
        Ok(Server {
            port: process.port(),
            process,
        })
    }

    /// User plus system CPU time the server used so far.
    pub(crate) fn cpu_time(&self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.process.pid()))?;
        // Fields after the command name, which is in parentheses.
        let after = stat.rsplit(')').next().context("bad /proc stat")?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        // The kernel reports in clock ticks, 100 per second on Linux.
        Ok(Duration::from_millis(ticks * 10))
    }

    /// Resident memory now and at its peak, in bytes.
    pub(crate) fn memory(&self) -> anyhow::Result<(u64, u64)> {
        let pid = self.process.pid();
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
