//! `zen sessions log --tail N` counts the entries that pass `--level` and
//! `--grep`, with `-f` too: an error older than the last N entries is still
//! found.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Stdio;

use jiff::Timestamp;
use sessions_client::{Level, NewEntry, SessionId};
use support::{Lines, Server, zen};

/// A log of `total` info lines with an error and a `needle` line here and
/// there, the newest error well before the last hundred entries.
fn busy_log(server: &Server, total: usize) -> SessionId {
    let session = server.create_session("busy");
    let entries: Vec<NewEntry> = (0..total)
        .map(|index| {
            let (level, message) = match index {
                _ if index % 1_000 == 7 => (Level::Error, format!("error {index}")),
                _ if index % 100 == 3 => (Level::Info, format!("needle {index}")),
                _ => (Level::Info, format!("line {index}")),
            };
            NewEntry::new(Timestamp::now(), level, message)
        })
        .collect();
    for batch in entries.chunks(5_000) {
        server.client().append_entries(session.id, batch).unwrap();
    }
    session.id
}

fn messages(output: &str) -> Vec<&str> {
    output
        .lines()
        .map(|line| line.splitn(3, ' ').nth(2).unwrap().trim_start())
        .collect()
}

fn check(server: &Server, id: SessionId, filters: &[&str], expected: &[&str]) {
    let output = zen(server)
        .args(["sessions", "log", &id.to_string()])
        .args(filters)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(messages(&stdout), expected, "{filters:?}");
}

#[test]
fn the_tail_counts_what_the_filters_let_through() {
    let server = Server::start_with(&["--max-log-entries", "50000"]);
    let id = busy_log(&server, 30_000);
    check(
        &server,
        id,
        &["--level", "error", "--tail", "2"],
        &["error 28007", "error 29007"],
    );
    check(
        &server,
        id,
        &["--tail", "1", "--level", "warn"],
        &["error 29007"],
    );
    check(
        &server,
        id,
        &["--grep", "needle", "--tail", "3"],
        &["needle 29703", "needle 29803", "needle 29903"],
    );
    check(
        &server,
        id,
        &["--grep", "needle 2", "--level", "info", "--tail", "2"],
        &["needle 29803", "needle 29903"],
    );
    check(&server, id, &["--tail", "2"], &["line 29998", "line 29999"]);
    check(&server, id, &["--level", "error", "--tail", "0"], &[]);
    check(&server, id, &["--grep", "nowhere", "--tail", "5"], &[]);
}

#[test]
fn following_with_a_filtered_tail_starts_from_the_matching_entries() {
    let server = Server::start();
    let id = busy_log(&server, 9_000);
    let mut child = KilledOnDrop(
        zen(&server)
            .args(["sessions", "log", &id.to_string(), "-f"])
            .args(["--level", "error", "--tail", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = Lines::of(child.0.stdout.take().unwrap());
    let first = stdout.next().unwrap();
    assert!(first.ends_with("error 8007"), "{first}");
    server
        .client()
        .append_entries(
            id,
            &[
                NewEntry::new(Timestamp::now(), Level::Info, "quiet"),
                NewEntry::new(Timestamp::now(), Level::Error, "fresh error"),
            ],
        )
        .unwrap();
    let next = stdout.next().unwrap();
    assert!(next.ends_with("fresh error"), "{next}");
    server.client().end(id).unwrap();
    assert!(child.0.wait().unwrap().success());
}

/// A follower that a failed assertion must not leave running.
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
