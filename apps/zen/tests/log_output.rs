//! `zen sessions log` by time (`--since`, `--until`) and in each output
//! format (`-o pretty|raw|json`).

#![allow(clippy::unwrap_used)]

mod support;

use jiff::{SignedDuration, Timestamp};
use sessions_client::{Level, NewEntry};
use support::{Server, zen};

fn stdout_of(server: &Server, args: &[&str]) -> String {
    let output = zen(server).args(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn entries_are_chosen_by_time_and_printed_as_asked() {
    let server = Server::start();
    let session = server.create_session("timed");
    let now = Timestamp::now();
    let hours_ago = |hours: i64| now - SignedDuration::from_hours(hours);
    server
        .client()
        .append_entries(
            session.id,
            &[
                NewEntry::new(hours_ago(3), Level::Error, "three hours ago"),
                NewEntry::new(hours_ago(2), Level::Info, "two hours ago"),
                NewEntry::new(now, Level::Info, "just now"),
                NewEntry::new(now, Level::Error, "an error \u{1b}[1mjust now"),
            ],
        )
        .unwrap();
    let id = session.id.to_string();
    let raw = |filters: &[&str]| {
        let mut args = vec!["sessions", "log", id.as_str(), "-o", "raw"];
        args.extend_from_slice(filters);
        stdout_of(&server, &args)
    };
    assert_eq!(
        raw(&["--since", "1h"]),
        "just now\nan error \u{1b}[1mjust now\n",
        "raw: the message alone, byte for byte"
    );
    let ninety_minutes_ago = (now - SignedDuration::from_mins(90)).to_string();
    assert_eq!(
        raw(&["--until", &ninety_minutes_ago]),
        "three hours ago\ntwo hours ago\n"
    );
    assert_eq!(
        raw(&["--since", "150m", "--until", "1h"]),
        "two hours ago\n"
    );
    assert_eq!(
        raw(&["--until", "1h", "--level", "error", "--tail", "1"]),
        "three hours ago\n",
        "the tail counts what the time filters let through"
    );
    assert_eq!(
        raw(&["--since", "1d", "--tail", "1"]),
        "an error \u{1b}[1mjust now\n"
    );

    let json = stdout_of(
        &server,
        &["sessions", "log", &id, "-o", "json", "--since", "1h"],
    );
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["message"], "just now");
    assert_eq!(
        json,
        stdout_of(
            &server,
            &["sessions", "log", &id, "--json", "--since", "1h"]
        )
    );

    let pretty = stdout_of(&server, &["sessions", "log", &id, "--since", "1h"]);
    let lines: Vec<&str> = pretty.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].ends_with(" info  just now"), "{pretty}");
}
