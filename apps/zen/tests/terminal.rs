//! `zen run` on a terminal: the command gets a pseudo-terminal, so it sees
//! a terminal, writes colours, and its standard output and error keep their
//! order; the log keeps the text without escape sequences. Runs zen under
//! util-linux's `script`, which gives it a terminal.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Stdio};

use sessions_client::{Level, ReadRequest, StatusFilter};
use support::Server;

const SCRIPT: &str = "test -t 1 && echo tty; \
    printf '\\033[31mred\\033[0m\\n'; echo out; echo err >&2; echo out2; \
    printf ' 50%%\\r100%%\\n'";

/// Runs `zen run ARGS -- sh -c SCRIPT` on a terminal; returns what the
/// terminal showed.
fn run_on_a_terminal(server: &Server, args: &str) -> String {
    let zen = env!("CARGO_BIN_EXE_zen");
    let inner = format!("{zen} run -q {args} -- sh -c \"{SCRIPT}\"");
    let output = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .env("SHELL", "/bin/sh")
        .env("ZEN_SERVER", server.url())
        .env_remove("ZEN_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux's `script` runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stored(server: &Server, app: &str) -> Vec<(Level, String)> {
    let client = server.client();
    let ended = client.list(StatusFilter::Ended).unwrap();
    let session = ended.iter().find(|session| session.appname == app).unwrap();
    client
        .read_log(session.id, ReadRequest::Tail { count: 100 })
        .unwrap()
        .entries
        .into_iter()
        .map(|entry| (entry.level, entry.message))
        .collect()
}

#[test]
fn on_a_terminal_the_command_gets_one_and_keeps_its_order_and_colours() {
    let server = Server::start();
    let shown = run_on_a_terminal(&server, "--app pty");
    assert!(
        shown.contains("\u{1b}[31mred\u{1b}[0m"),
        "colours kept: {shown:?}"
    );
    let lines: Vec<(Level, &str)> = ["tty", "red", "out", "err", "out2", "100%"]
        .into_iter()
        .map(|line| (Level::Info, line))
        .collect();
    let stored = stored(&server, "pty");
    let stored: Vec<(Level, &str)> = stored
        .iter()
        .map(|(level, message)| (*level, message.as_str()))
        .collect();
    assert_eq!(stored, lines, "in the order written, as text");
}

#[test]
fn without_a_pseudo_terminal_the_streams_stay_apart() {
    let server = Server::start();
    run_on_a_terminal(&server, "--no-pty --app pipes");
    let mut stored = stored(&server, "pipes");
    stored.sort();
    let mut expected = vec![
        (Level::Info, "\u{1b}[31mred\u{1b}[0m".to_owned()),
        (Level::Info, "out".to_owned()),
        (Level::Info, "out2".to_owned()),
        (Level::Info, " 50%\r100%".to_owned()),
        (Level::Warn, "err".to_owned()),
    ];
    expected.sort();
    assert_eq!(stored, expected, "no terminal: byte for byte, as in a pipe");
}

/// `zen sessions log ID ARGS` on a terminal whose zone is India's (a POSIX
/// rule, so no zoneinfo is needed); returns what the terminal showed.
fn log_on_a_terminal(server: &Server, id: &str, args: &str) -> String {
    let zen = env!("CARGO_BIN_EXE_zen");
    let inner = format!("{zen} sessions log {id} {args}");
    let output = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .env("SHELL", "/bin/sh")
        .env("TZ", "IST-5:30")
        .env("ZEN_SERVER", server.url())
        .env("NO_COLOR", "1")
        .env_remove("ZEN_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux's `script` runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn on_a_terminal_times_are_local_unless_utc_is_asked_for() {
    let server = Server::start();
    let session = server.create_session("clock");
    let entry = sessions_client::NewEntry::new(
        "2026-01-02T03:04:05.678Z".parse().unwrap(),
        Level::Info,
        "tick",
    );
    server
        .client()
        .append_entries(session.id, &[entry])
        .unwrap();
    let id = session.id.to_string();

    let local = log_on_a_terminal(&server, &id, "");
    assert!(
        local.contains("2026-01-02 08:34:05.678 info  tick"),
        "local time: {local:?}"
    );
    let utc = log_on_a_terminal(&server, &id, "--utc");
    assert!(
        utc.contains("2026-01-02T03:04:05.678Z info  tick"),
        "UTC: {utc:?}"
    );
    let piped = support::zen(&server)
        .args(["sessions", "log", &id])
        .env("TZ", "IST-5:30")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&piped.stdout).contains("2026-01-02T03:04:05.678Z info  tick"),
        "in a pipe, UTC: {piped:?}"
    );
}
