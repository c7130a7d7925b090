//! `zen run` at scale: every line of a fast command reaches its session, in
//! order, while the server answers; when the server stalls, the command is
//! not slowed, the lines zen had to drop are counted exactly, and the last
//! lines still arrive.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sessions_client::{Client, Level, Session, StatusFilter};
use support::{Lines, Server, wait_bounded, whole_log, zen};

/// Room for every line of the tests below, so nothing is evicted and what
/// is missing can only be zen's doing.
const ROOMY_SERVER: [&str; 4] = ["--max-log-entries", "1100000", "--max-log-bytes", "64MiB"];

#[test]
fn every_line_of_a_million_is_stored_in_order() {
    let server = Server::start_with(&ROOMY_SERVER);
    let output = zen(&server)
        .args(["run", "--app", "t", "--", "seq", "1000000"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let expected_echo: String = (1..=1_000_000).map(|n| format!("{n}\n")).collect();
    assert!(
        output.stdout == expected_echo.as_bytes(),
        "echoed unchanged"
    );

    let client = server.client();
    let session = only_ended_session(&client);
    assert_eq!(session.metadata.decode()["dropped_lines"], 0);
    let messages: Vec<(Level, String)> = whole_log(&client, session.id)
        .into_iter()
        .map(|entry| (entry.level, entry.message))
        .collect();
    assert_eq!(messages.len(), 1_000_000, "every line, nothing else");
    for (index, (level, message)) in messages.iter().enumerate() {
        assert_eq!(*level, Level::Info);
        assert_eq!(*message, (index + 1).to_string(), "in order");
    }
}

#[test]
fn a_stalled_server_costs_counted_lines_but_never_the_last_ones() {
    const LINES: usize = 200_000;
    let server = Server::start_with(&ROOMY_SERVER);
    let script = format!("read go; seq {LINES}; echo last-line");
    let mut child = zen(&server)
        .args(["run", "--app", "stall", "--buffer", "256KiB"])
        .args(["--", "sh", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = server.client();
    wait_until(|| {
        let active = client.list(StatusFilter::Active).unwrap();
        active.iter().any(|session| session.appname == "stall")
    });
    let stdout = Lines::of(child.stdout.take().unwrap());
    let stderr = Lines::of(child.stderr.take().unwrap());

    // The server stops answering; the command must go on at full speed.
    signal(server.pid(), "STOP");
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let echoed = read_until(&stdout, "last-line");
    signal(server.pid(), "CONT");
    assert_eq!(echoed, LINES + 1, "the echo is complete");
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    assert!(status.success(), "{status:?}");

    let session = only_ended_session(&client);
    let dropped = session.metadata.decode()["dropped_lines"].as_u64().unwrap();
    assert!(dropped > 0, "a 256 KiB buffer cannot hold {LINES} lines");
    let messages: Vec<(Level, String)> = whole_log(&client, session.id)
        .into_iter()
        .map(|entry| (entry.level, entry.message))
        .collect();
    let stored: Vec<&str> = messages
        .iter()
        .filter(|(level, _)| *level == Level::Info)
        .map(|(_, message)| message.as_str())
        .collect();
    assert_eq!(stored.last(), Some(&"last-line"), "the end always arrives");
    assert_eq!(
        stored.len() as u64 + dropped,
        LINES as u64 + 1,
        "stored and dropped add up exactly"
    );
    let numbers: Vec<u64> = stored[..stored.len() - 1]
        .iter()
        .map(|line| line.parse().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]), "in order");
    let gaps: u64 = messages
        .iter()
        .filter(|(level, message)| *level == Level::Warn && message.starts_with("zen: "))
        .map(|(_, message)| message.split(' ').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        gaps, dropped,
        "each gap is marked where it is, with its size"
    );
    let stderr: Vec<String> = std::iter::from_fn(|| stderr.next()).collect();
    assert!(
        stderr.iter().any(
            |line| line.starts_with(&format!("zen: {dropped} lines of output were not stored"))
        ),
        "{stderr:?}"
    );
}

fn only_ended_session(client: &Client) -> Session {
    let mut ended = client.list(StatusFilter::Ended).unwrap();
    assert_eq!(ended.len(), 1, "{ended:?}");
    ended.remove(0)
}

/// Counts lines until `last`, which must come within the helper's timeout.
fn read_until(lines: &Lines, last: &str) -> usize {
    let mut count = 0;
    loop {
        let line = lines.next().expect("the command's output goes on");
        count += 1;
        if line == last {
            return count;
        }
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The server goes away for good while the command runs: zen keeps the
/// lines, tries until its flush deadline, then gives up on all of them,
/// counted exactly, and exits as the command did.
#[test]
fn a_server_that_is_gone_costs_every_line_counted_and_zen_still_ends() {
    let server = Server::start();
    let mut child = zen(&server)
        .args(["run", "-q", "--app", "gone"])
        .args([
            "--",
            "sh",
            "-c",
            "read go; seq 1000; echo last-line; exit 5",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = server.client();
    wait_until(|| {
        let active = client.list(StatusFilter::Active).unwrap();
        active.iter().any(|session| session.appname == "gone")
    });
    drop(server);
    let stdout = Lines::of(child.stdout.take().unwrap());
    let stderr = Lines::of(child.stderr.take().unwrap());
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert_eq!(read_until(&stdout, "last-line"), 1_001, "the command ran");
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(5));
    let stderr: Vec<String> = std::iter::from_fn(|| stderr.next()).collect();
    assert!(
        stderr
            .iter()
            .any(|line| line.starts_with("zen: 1001 lines of output were not stored")),
        "{stderr:?}"
    );
    assert!(
        stderr[0].starts_with("zen: cannot store the command's output in session "),
        "one warning first: {stderr:?}"
    );
}
