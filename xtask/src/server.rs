//! Starting a zenserver binary for a task (the smoke test, the conformance
//! run) and stopping it again, whatever happens in between.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

/// A running server, killed when dropped (also when a check fails).
pub(crate) struct Server {
    child: Child,
    /// Kept open: a server printing into a closed pipe would fail.
    _stdout: BufReader<ChildStdout>,
    /// `127.0.0.1:PORT`.
    pub(crate) address: String,
}

impl Server {
    /// Starts `binary` on a free loopback port with `args`, with no `ZEN_*`
    /// setting of the caller's environment leaking in, and reads the address
    /// from its first line, `zenserver listening on http://127.0.0.1:PORT`.
    pub(crate) fn start(binary: &Path, args: &[&str]) -> Result<Server, String> {
        let mut command = Command::new(binary);
        command
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ZEN_") {
                command.env_remove(key);
            }
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err("the server has no stdout".into());
        };
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let address = read
            .ok()
            .and_then(|_| line.trim().strip_prefix("zenserver listening on http://"))
            .map(str::to_owned);
        match address {
            Some(address) => Ok(Server {
                child,
                _stdout: stdout,
                address,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("the server printed {line:?}, not its address"))
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
