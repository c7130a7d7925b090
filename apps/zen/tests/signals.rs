//! Signals sent to `zen run` reach the command, with everything it started;
//! zen waits for it, records how it ended, ends the session and exits as
//! the command did.

#![allow(clippy::unwrap_used)]

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sessions_client::{Client, Level, ReadRequest, Session, StatusFilter};
use support::{Lines, Server, wait_bounded, zen};

/// Traps the three signals, saying which one came, and exits 7 (or gives
/// up after a minute, so a failed test leaves nothing running).
const TRAPPING_SCRIPT: &str = "\
trap 'echo got INT; exit 7' INT
trap 'echo got TERM; exit 7' TERM
trap 'echo got HUP; exit 7' HUP
echo ready
i=0
while [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done";

#[test]
fn int_term_and_hup_reach_a_command_that_traps_them() {
    let server = Server::start();
    for name in ["INT", "TERM", "HUP"] {
        let app = format!("trap-{name}");
        let (mut child, stdout) = start(&server, &app, TRAPPING_SCRIPT);
        assert_eq!(stdout.next().as_deref(), Some("ready"));
        signal(child.id(), name);
        assert_eq!(
            stdout.next(),
            Some(format!("got {name}")),
            "the command got it"
        );
        let status = wait_bounded(&mut child, Duration::from_secs(60));
        assert_eq!(
            status.code(),
            Some(7),
            "{name}: zen exits as the command did"
        );

        let session = ended_session(&server.client(), &app);
        let metadata = session.metadata.decode();
        assert_eq!(metadata["exit_code"], 7, "{metadata:?}");
        assert_eq!(metadata["forwarded_signal"], signal_number(name));
        assert!(metadata.get("signal").is_none(), "{metadata:?}");
        let log = server
            .client()
            .read_log(session.id, ReadRequest::Tail { count: 10 })
            .unwrap();
        // The shell may also report its `sleep` killed, on standard error:
        // which of the two pipes zen reads first is up to the scheduler.
        let last_stdout = log
            .entries
            .iter()
            .rev()
            .find(|entry| entry.level == Level::Info)
            .unwrap();
        assert_eq!(
            last_stdout.message,
            format!("got {name}"),
            "the command's last words are stored"
        );
    }
}

/// The command's background `sleep` is in its process group (`sh -c` has
/// no job control) and must go with it.
#[test]
fn a_command_killed_by_the_signal_takes_zen_with_it() {
    let server = Server::start();
    let (mut child, stdout) = start(&server, "plain", "sleep 60 & echo \"sleeper $!\"; wait");
    let sleeper = sleeper_pid(&stdout);
    signal(child.id(), "TERM");
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    assert_eq!(status.signal(), Some(15), "zen dies of the same signal");
    assert_gone(sleeper);
    let metadata = ended_session(&server.client(), "plain").metadata.decode();
    assert_eq!(metadata["exit_code"], 128 + 15);
    assert_eq!(metadata["signal"], 15);
    assert_eq!(metadata["forwarded_signal"], 15);
}

/// The command ended and the server is gone: zen would keep trying to send
/// the last lines for a while. A first signal cuts that short, a second
/// ends zen at once, by that signal.
#[test]
fn signals_after_the_command_ended_are_for_zen() {
    let server = Server::start();
    let mut child = zen(&server)
        .args(["run", "-q", "--app", "flush", "--", "sh", "-c"])
        .arg("read go; seq 1000; echo done")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = server.client();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client
        .list(StatusFilter::Active)
        .unwrap()
        .iter()
        .any(|session| session.appname == "flush")
    {
        assert!(Instant::now() < deadline, "the session never came");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);
    let stdout = Lines::of(child.stdout.take().unwrap());
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"go\n").unwrap();
    while stdout.next().expect("the command runs to its end") != "done" {}
    // Long enough for zen to have reaped the command.
    std::thread::sleep(Duration::from_secs(1));
    signal(child.id(), "INT");
    std::thread::sleep(Duration::from_millis(200));
    signal(child.id(), "INT");
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    assert_eq!(status.signal(), Some(2), "{status:?}");
}

fn start(server: &Server, app: &str, script: &str) -> (Child, Lines) {
    let mut child = zen(server)
        .args(["run", "--app", app, "--", "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = Lines::of(child.stdout.take().unwrap());
    (child, stdout)
}

fn sleeper_pid(stdout: &Lines) -> u32 {
    let line = stdout.next().unwrap();
    line.strip_prefix("sleeper ").unwrap().parse().unwrap()
}

fn signal_number(name: &str) -> u64 {
    match name {
        "HUP" => 1,
        "INT" => 2,
        "TERM" => 15,
        _ => unreachable!("{name}"),
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The process is gone (or a zombie nobody reaped yet) within 10 s.
fn assert_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| stat.rsplit_once(") ")?.1.chars().next());
        if matches!(state, None | Some('Z' | 'X')) {
            return;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("process {pid} outlived zen");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ended_session(client: &Client, app: &str) -> Session {
    let ended = client.list(StatusFilter::Ended).unwrap();
    ended
        .into_iter()
        .find(|session| session.appname == app)
        .unwrap_or_else(|| panic!("no ended session {app}"))
}
