//! `zen sessions ...` against the real server: listing, showing, ending,
//! printing and following logs, appending from a pipe, and the errors a
//! person sees.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::process::Stdio;

use jiff::Timestamp;
use sessions_client::{Level, NewEntry, ReadRequest, SessionStatus};
use support::{Lines, Server, zen, zen_at};

fn stdout_of(command: &mut std::process::Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn sessions_are_listed_shown_and_ended() {
    let server = Server::start();
    let session = server.create_session("lister");
    let id = session.id.to_string();

    let table = stdout_of(zen(&server).args(["sessions", "ls"]));
    let rows: Vec<&str> = table.lines().collect();
    assert!(
        rows[0].starts_with("ID                        APPNAME    MODE    JOBID  STATUS"),
        "{table}"
    );
    assert!(
        rows[1].starts_with(&format!("{id}  lister     test    -      active")),
        "{table}"
    );
    assert!(
        rows[2].contains("  zenserver  server  -      server  "),
        "{table}"
    );

    let json = stdout_of(zen(&server).args(["sessions", "ls", "--status", "all", "--json"]));
    let listed: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(
        listed[0]["log"],
        serde_json::json!({"entries": 0, "cursor": 0, "dropped": 0})
    );

    let shown = stdout_of(zen(&server).args(["sessions", "show", &id]));
    assert!(
        shown.starts_with(&format!(
            "id        {id}\nappname   lister\nmode      test\n"
        )),
        "{shown}"
    );
    assert!(
        shown.ends_with("log       0 entries, cursor 0, 0 dropped\nmetadata  -\n"),
        "{shown}"
    );

    let ended = stdout_of(zen(&server).args(["sessions", "end", &id]));
    assert_eq!(ended, format!("ended {id} (lister, test)\n"));
    assert_eq!(
        server.client().get(session.id).unwrap().status(),
        SessionStatus::Ended
    );
}

#[test]
fn a_log_prints_as_it_was_written_and_filters() {
    let server = Server::start();
    let id = server.create_session("printer").id;
    let at: Timestamp = "2026-11-27T15:09:16.159Z".parse().unwrap();
    let entries = [
        NewEntry::new(at, Level::Debug, "cache warm"),
        NewEntry::new(at, Level::Warn, "shader \u{1b}[31mred\u{1b}[0m  kept"),
        NewEntry::new(at, Level::Error, "shader failed"),
    ];
    server.client().append_entries(id, &entries).unwrap();
    let all = stdout_of(zen(&server).args(["sessions", "log", &id.to_string()]));
    assert_eq!(
        all,
        "2026-11-27T15:09:16.159Z debug cache warm\n\
         2026-11-27T15:09:16.159Z warn  shader \u{1b}[31mred\u{1b}[0m  kept\n\
         2026-11-27T15:09:16.159Z error shader failed\n",
        "raw bytes, and no colours in a pipe"
    );
    let filtered = stdout_of(zen(&server).args([
        "sessions",
        "log",
        &id.to_string(),
        "--level",
        "warn",
        "--grep",
        "failed",
    ]));
    assert_eq!(filtered, "2026-11-27T15:09:16.159Z error shader failed\n");
    let tail =
        stdout_of(zen(&server).args(["sessions", "log", &id.to_string(), "--tail", "1", "--json"]));
    let entry: serde_json::Value = serde_json::from_str(tail.trim_end()).unwrap();
    assert_eq!(entry["seq"], 3);
    assert_eq!(entry["message"], "shader failed");
}

#[test]
fn following_shows_lines_appended_later_and_stops_when_the_session_ends() {
    let server = Server::start();
    let id = server.create_session("followed").id;
    let client = server.client();
    client.append_text(id, Level::Info, "before").unwrap();
    let mut follower = zen(&server)
        .args(["sessions", "log", &id.to_string(), "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Lines::of(follower.stdout.take().unwrap());
    assert!(lines.next().unwrap().ends_with(" info  before"));
    // The follower is now waiting in a long poll.
    client.append_text(id, Level::Warn, "after").unwrap();
    assert!(lines.next().unwrap().ends_with(" warn  after"));
    client.end(id).unwrap();
    assert_eq!(lines.next(), None, "the output ends with the session");
    let status = follower.wait().unwrap();
    assert!(status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut follower.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(stderr, format!("zen: session {id} has ended\n"));
}

#[test]
fn lines_piped_into_append_arrive_in_batches() {
    let server = Server::start();
    let id = server.create_session("piped").id;
    let mut appender = zen(&server)
        .args(["sessions", "append", &id.to_string(), "--level", "warn"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = appender.stdin.take().unwrap();
    let mut input = String::from("first\r\n\n   \n  indented\n");
    for index in 0..2_500 {
        input.push_str(&format!("line {index}\n"));
    }
    input.push_str("no newline at the end");
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    assert!(appender.wait().unwrap().success());
    let log = server
        .client()
        .read_log(
            id,
            ReadRequest::After {
                cursor: 0,
                limit: 10_000,
            },
        )
        .unwrap();
    let messages: Vec<&str> = log
        .entries
        .iter()
        .map(|entry| entry.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2_503);
    assert_eq!(messages[..3], ["first", "  indented", "line 0"]);
    assert_eq!(messages[2_502], "no newline at the end");
    assert!(log.entries.iter().all(|entry| entry.level == Level::Warn));
}

#[test]
fn errors_are_one_clear_line() {
    let check = |output: std::process::Output, expected: &str| {
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(expected), "{stderr}");
    };
    let url = support::unreachable_url();
    check(
        zen_at(&url).args(["sessions", "ls"]).output().unwrap(),
        &format!(
            "zen: error: cannot reach the server at {url}: connection refused; is zenserver running there?\n"
        ),
    );
    let server = Server::start_with(&["--token", "s3cret"]);
    check(
        zen(&server)
            .args(["sessions", "show", "65a1f00dcafe0123456789ab"])
            .output()
            .unwrap(),
        "zen: error: this server needs `Authorization: Bearer <token>`; the token is missing or wrong (HTTP 401); pass --token or set ZEN_TOKEN\n",
    );
    check(
        zen(&server)
            .args([
                "--token",
                "s3cret",
                "sessions",
                "show",
                "65a1f00dcafe0123456789ab",
            ])
            .output()
            .unwrap(),
        "zen: error: session 65a1f00dcafe0123456789ab does not exist (HTTP 404)\n",
    );
}

#[test]
fn a_reader_that_goes_away_ends_zen_quietly() {
    let server = Server::start();
    let id = server.create_session("long").id;
    let lines: String = (0..5_000).map(|index| format!("line {index}\n")).collect();
    server
        .client()
        .append_text(id, Level::Info, &lines)
        .unwrap();
    let mut reader = zen(&server)
        .args(["sessions", "log", &id.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = reader.stdout.take().unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first).unwrap();
    assert!(first.ends_with(" info  line 0\n"));
    // The pipe is closed now, as `| head -n 1` would.
    let output = reader.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "",
        "no panic, no error"
    );
}

#[test]
fn completions_and_help_are_there_for_every_command() {
    let bash = stdout_of(zen_at("http://127.0.0.1:8558").args(["completions", "bash"]));
    assert!(bash.contains("_zen()"), "{bash}");
    for command in [
        &["--help"][..],
        &["sessions", "--help"],
        &["sessions", "ls", "--help"],
        &["sessions", "show", "--help"],
        &["sessions", "end", "--help"],
        &["sessions", "log", "--help"],
        &["sessions", "append", "--help"],
        &["run", "--help"],
        &["completions", "--help"],
    ] {
        let help = stdout_of(zen_at("http://127.0.0.1:8558").args(command));
        let examples = help.split("\nExamples:\n  ").nth(1).unwrap_or_default();
        assert!(examples.contains("zen "), "{command:?}:\n{help}");
    }
}
