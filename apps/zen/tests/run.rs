//! `zen run` against the real server: the command's output is echoed as it
//! was and stored line by line, the session ends with the exit code and the
//! duration, and zen exits like the command did, server or no server.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use sessions_client::{Level, ReadRequest, SessionStatus, StatusFilter};
use support::{Server, zen, zen_at};

const BOTH_STREAMS: &str = "echo out1; echo err1 >&2; echo '  out2  '; exit 3";

#[test]
fn a_command_runs_in_a_session_that_ends_with_its_exit_code() {
    let server = Server::start();
    let output = zen(&server)
        .args([
            "run", "-q", "--app", "wrapped", "--mode", "test", "--job", "j-1",
        ])
        .args(["--meta", "branch=main", "--meta", "shard=3"])
        .args(["--", "sh", "-c", BOTH_STREAMS])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "out1\n  out2  \n",
        "echoed unchanged"
    );
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "err1\n",
        "and nothing of zen's"
    );

    let client = server.client();
    let ended = client.list(StatusFilter::Ended).unwrap();
    assert_eq!(ended.len(), 1);
    let session = &ended[0];
    assert_eq!(session.status(), SessionStatus::Ended);
    assert_eq!(
        (
            session.appname.as_str(),
            session.mode.as_str(),
            session.jobid.as_deref()
        ),
        ("wrapped", "test", Some("j-1"))
    );
    let metadata = session.metadata.decode();
    assert_eq!(metadata["branch"], "main");
    assert_eq!(metadata["shard"], "3", "values stay strings");
    assert_eq!(metadata["command"], json!(["sh", "-c", BOTH_STREAMS]));
    assert_eq!(metadata["exit_code"], 3);
    assert!(metadata["duration_ms"].is_u64(), "{metadata:?}");

    let log = client
        .read_log(session.id, ReadRequest::Tail { count: 100 })
        .unwrap();
    let mut lines: Vec<(Level, &str)> = log
        .entries
        .iter()
        .map(|entry| (entry.level, entry.message.as_str()))
        .collect();
    let stdout: Vec<&str> = lines
        .iter()
        .filter(|(level, _)| *level == Level::Info)
        .map(|(_, message)| *message)
        .collect();
    assert_eq!(stdout, ["out1", "  out2  "], "in the order written");
    lines.sort();
    assert_eq!(
        lines,
        [
            (Level::Info, "  out2  "),
            (Level::Info, "out1"),
            (Level::Warn, "err1")
        ]
    );
}

#[test]
fn without_a_server_the_command_still_runs_and_zen_warns_once() {
    let output = zen_at(&support::unreachable_url())
        .args([
            "run",
            "-q",
            "--app",
            "offline",
            "--",
            "sh",
            "-c",
            BOTH_STREAMS,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "out1\n  out2  \n"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines.iter().any(|line| line.starts_with(
            "zen: cannot create a session (cannot reach the server at http://127.0.0.1:"
        ) && line.ends_with("); running the command without one")),
        "{stderr}"
    );
    assert!(lines.contains(&"err1"));
}

#[test]
fn a_command_that_cannot_start_is_recorded_and_exits_127() {
    let server = Server::start();
    let output = zen(&server)
        .args([
            "run",
            "-q",
            "--app",
            "missing",
            "--",
            "/nonexistent/command",
            "--flag",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(127));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("zen: cannot run `/nonexistent/command`: "),
        "{stderr}"
    );
    let client = server.client();
    let session = client.list(StatusFilter::Ended).unwrap().remove(0);
    assert_eq!(session.metadata.decode()["exit_code"], 127);
    let log = client
        .read_log(session.id, ReadRequest::Tail { count: 10 })
        .unwrap();
    assert_eq!(log.entries.len(), 1);
    assert_eq!(log.entries[0].level, Level::Error);
    assert!(
        log.entries[0]
            .message
            .starts_with("cannot run `/nonexistent/command`: ")
    );
}

#[test]
fn a_server_that_never_answers_does_not_delay_the_command() {
    let silent = support::SilentServer::start().unwrap();
    let started = std::time::Instant::now();
    let mut child = zen_at(silent.url())
        .args([
            "run",
            "-q",
            "--app",
            "patient",
            "--",
            "sh",
            "-c",
            "echo started; exit 4",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = support::Lines::of(child.stdout.take().unwrap());
    assert_eq!(stdout.next().as_deref(), Some("started"));
    // The bound is 1 s; 5 s keeps a loaded machine from failing the test.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the command started after {:?}",
        started.elapsed()
    );
    let stderr = support::Lines::of(child.stderr.take().unwrap());
    let warning = stderr.next().unwrap();
    assert!(
        warning.starts_with("zen: cannot create a session (the server at http://127.0.0.1:")
            && warning.contains("did not answer within"),
        "{warning}"
    );
    assert!(silent.connections() > 0, "zen did try the server");
    assert_eq!(child.wait().unwrap().code(), Some(4));
}

#[test]
fn the_session_is_announced_and_handed_to_the_command() {
    let server = Server::start();
    let output = zen(&server)
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "echo \"$ZEN_SESSION_ID $ZEN_SERVER\"",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let session = server.client().list(StatusFilter::Ended).unwrap().remove(0);
    assert_eq!(session.appname, "sh", "the command's file name by default");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{} {}\n", session.id, server.url())
    );
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "zen: session {} {}/dashboard/?session={}\n",
            session.id,
            server.url(),
            session.id
        )
    );

    let quiet = zen(&server)
        .args(["run", "-q", "--", "/bin/echo", "hello"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(quiet.stderr).unwrap(), "", "-q");
    let ended = server.client().list(StatusFilter::Ended).unwrap();
    assert!(
        ended.iter().any(|session| session.appname == "echo"),
        "{ended:?}"
    );
}

#[test]
fn a_wrong_token_is_one_clear_warning_and_the_command_still_runs() {
    let server = Server::start_with(&["--token", "s3cret"]);
    let output = zen(&server)
        .args(["--token", "wrong", "run", "-q", "--app", "locked"])
        .args(["--", "sh", "-c", BOTH_STREAMS])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "out1\n  out2  \n"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("zen: "))
        .collect();
    assert_eq!(
        warnings,
        [
            "zen: cannot create a session (this server needs `Authorization: Bearer <token>`; \
          the token is missing or wrong (HTTP 401); pass --token or set ZEN_TOKEN); \
          running the command without one"
        ],
        "{stderr}"
    );
}

#[test]
fn the_duration_is_the_commands_own_not_the_drain_of_its_output() {
    let server = Server::start();
    // The shell exits at once; a job it left behind writes two seconds
    // later, holding the pipe open, and zen waits for that line too.
    let output = zen(&server)
        .args([
            "run",
            "-q",
            "--app",
            "quick",
            "--",
            "sh",
            "-c",
            "(sleep 2; echo late) & exit 0",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "late\n");

    let client = server.client();
    let session = client.list(StatusFilter::Ended).unwrap().remove(0);
    let metadata = session.metadata.decode();
    let duration = metadata["duration_ms"].as_u64().unwrap();
    assert!(
        duration < 1_000,
        "the shell ran for {duration} ms: the job it left behind is not its time"
    );
    let log = client
        .read_log(session.id, ReadRequest::Tail { count: 10 })
        .unwrap();
    assert_eq!(log.entries[0].message, "late", "the late line is stored");
}
