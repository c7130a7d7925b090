//! Wherever `zen` takes a session id, a unique prefix of 6 or more hex
//! digits works too; an ambiguous one is an error that lists the matches.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::process::Stdio;

use sessions_client::{ReadRequest, SessionId, SessionStatus, SessionUpdate};
use support::{Server, zen};

const TWINS: [&str; 2] = ["65a1f00dcafe0123456789ab", "65a1f00dcafe0123456789ac"];
const LONER: &str = "65a1f1000000000000000001";

fn create(server: &Server, id: &str, appname: &str) -> SessionId {
    let id: SessionId = id.parse().unwrap();
    server
        .client()
        .upsert(
            id,
            &SessionUpdate {
                appname: Some(appname.into()),
                mode: Some("test".into()),
                ..SessionUpdate::default()
            },
        )
        .unwrap();
    id
}

fn zen_output(server: &Server, args: &[&str]) -> (bool, String, String) {
    let output = zen(server).args(args).output().unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn a_unique_prefix_names_its_session_everywhere() {
    let server = Server::start();
    create(&server, TWINS[0], "twin-a");
    create(&server, TWINS[1], "twin-b");
    let loner = create(&server, LONER, "loner");

    let (ok, shown, _) = zen_output(&server, &["sessions", "show", "65A1F1"]);
    assert!(
        ok && shown.starts_with(&format!("id        {LONER}\n")),
        "{shown}"
    );

    let mut append = zen(&server)
        .args(["sessions", "append", "65a1f10"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    append.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    assert!(append.wait().unwrap().success());
    let log = server
        .client()
        .read_log(loner, ReadRequest::Tail { count: 10 })
        .unwrap();
    assert_eq!(log.entries[0].message, "hello");

    let (ok, printed, _) = zen_output(&server, &["sessions", "log", "65a1f1"]);
    assert!(ok && printed.ends_with(" info  hello\n"), "{printed}");

    let (ok, ended, _) = zen_output(&server, &["sessions", "end", "65a1f1000"]);
    assert_eq!(
        (ok, ended),
        (true, format!("ended {LONER} (loner, test)\n"))
    );
    assert_eq!(
        server.client().get(loner).unwrap().status(),
        SessionStatus::Ended,
        "ended sessions are found too"
    );
    let (ok, _, _) = zen_output(&server, &["sessions", "show", "65a1f1"]);
    assert!(ok);
}

#[test]
fn an_ambiguous_or_unknown_prefix_is_a_clear_error() {
    let server = Server::start();
    create(&server, TWINS[0], "twin-a");
    create(&server, TWINS[1], "twin-b");
    let (ok, _, error) = zen_output(&server, &["sessions", "show", "65a1f0"]);
    assert!(!ok);
    assert!(
        error.starts_with("zen: error: 2 sessions' ids start with 65a1f0: ")
            && error.contains(&format!("{} (twin-a, active)", TWINS[0]))
            && error.contains(&format!("{} (twin-b, active)", TWINS[1]))
            && error.ends_with("; give more digits\n"),
        "{error}"
    );
    let (ok, _, error) = zen_output(&server, &["sessions", "log", "abcdef"]);
    assert!(!ok);
    assert_eq!(error, "zen: error: no session's id starts with abcdef\n");
    let (ok, _, error) = zen_output(&server, &["sessions", "end", "65a1f"]);
    assert!(!ok);
    assert!(
        error.contains("give its 24 hex digits, or the first 6 or more"),
        "{error}"
    );
}
