//! Test support for `zen`: the real `zenserver` on a free loopback port
//! (through the workspace's test-support crate), and the `zen` binary
//! pointed at it.

#![allow(dead_code, unused_imports, clippy::unwrap_used, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::process::Command;

pub use zenserver_test_support::{
    SilentServer, ZenServer as Server, unreachable_url, wait_bounded, whole_log,
};

/// `zen` with the server's address, and nothing from the environment that
/// would change what it does.
pub fn zen(server: &Server) -> Command {
    zen_at(server.url())
}

pub fn zen_at(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zen"));
    command
        .env("ZEN_SERVER", url)
        .env_remove("ZEN_TOKEN")
        .env_remove("NO_COLOR");
    command
}

/// The lines of a child's output, read on a thread of their own, so a test
/// can wait for the next one without hanging when it never comes.
pub struct Lines {
    receiver: std::sync::mpsc::Receiver<String>,
}

impl Lines {
    pub fn of(stream: impl std::io::Read + Send + 'static) -> Lines {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Lines { receiver }
    }

    /// The next line, or `None` when the stream ended or nothing came
    /// within 30 s.
    pub fn next(&self) -> Option<String> {
        self.receiver
            .recv_timeout(std::time::Duration::from_secs(30))
            .ok()
    }
}
