//! The wire conversions, checked against answers copied from `docs/api.md`.

use jiff::Timestamp;
use serde_json::{Value, json};
use sessions_core::session_log::{EntryData, Level, NewEntry};
use sessions_core::{Metadata, NewSession, SessionUpdate};

use super::*;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn object(value: Value) -> Metadata {
    match value {
        Value::Object(object) => object,
        other => panic!("not an object: {other}"),
    }
}

const SESSION: &str = r#"{"id":"65a1f00dcafe0123456789ab","appname":"build-agent","mode":"cook",
    "jobid":"nightly-4711","metadata":{"config":{"name":"Development","lto":true},"shard":3},
    "created":"2026-11-27T15:09:12.084Z","updated":"2026-11-27T15:09:12.714Z","ended":null,
    "status":"active","server":false,"log":{"entries":7,"cursor":7,"dropped":0}}"#;

#[test]
fn a_session_round_trips_through_its_json() {
    let session = parse_session(&json(SESSION)).unwrap();
    assert_eq!(session.id.to_string(), "65a1f00dcafe0123456789ab");
    assert_eq!(session.jobid.as_deref(), Some("nightly-4711"));
    assert_eq!(
        session.metadata.as_json(),
        r#"{"config":{"name":"Development","lto":true},"shard":3}"#,
        "keys keep their order"
    );
    assert_eq!(session.log.entries, 7);
    assert_eq!(session_to_json(&session), json(SESSION));
}

fn check_session_error(change: impl FnOnce(&mut Map<String, Value>), expected: &str) {
    let mut value = object(json(SESSION));
    change(&mut value);
    let error = parse_session(&Value::Object(value)).unwrap_err();
    assert!(error.starts_with(expected), "{error}");
}

#[test]
fn a_malformed_session_is_refused_by_field() {
    check_session_error(
        |s| {
            s.remove("appname");
        },
        "`appname` is missing",
    );
    check_session_error(
        |s| {
            s.insert("id".into(), "65a1".into());
        },
        "`id`: `65a1` is not a session id: expected 24 hex digits",
    );
    check_session_error(
        |s| {
            s.insert("created".into(), "yesterday".into());
        },
        "`created` `yesterday` is not an RFC 3339 timestamp: ",
    );
    check_session_error(
        |s| {
            s.insert("metadata".into(), json!([1]));
        },
        "`metadata` is not an object",
    );
    check_session_error(
        |s| {
            s.insert(
                "log".into(),
                json!({"entries": -1, "cursor": 0, "dropped": 0}),
            );
        },
        "`entries` is not a non-negative integer",
    );
}

#[test]
fn a_log_read_keeps_entries_and_their_data() {
    let page = parse_log_page(&json(
        r#"{"entries":[
            {"seq":4,"timestamp":"2026-11-27T15:09:16.159Z","level":"error","message":"Cook failed","data":{"exit_code":3,"package":"/Game/Maps/Arena"}},
            {"seq":5,"timestamp":"2026-11-27T15:09:13.500Z","level":"warn","message":"Retrying cook"}],
            "cursor":5,"dropped":2,"more":true,"reset":false,"total":6,"offset":3}"#,
    ))
    .unwrap();
    assert_eq!(page.entries.len(), 2);
    assert_eq!(page.entries[0].level, Level::Error);
    assert_eq!(
        page.entries[0].data.as_deref(),
        Some(r#"{"exit_code":3,"package":"/Game/Maps/Arena"}"#)
    );
    assert_eq!(page.entries[1].data, None);
    assert_eq!((page.cursor, page.dropped, page.more), (5, 2, true));
    assert_eq!((page.total, page.offset, page.reset), (6, 3, false));
    assert_eq!(
        entry_to_json(&page.entries[0]),
        json(
            r#"{"seq":4,"timestamp":"2026-11-27T15:09:16.159Z","level":"error","message":"Cook failed","data":{"exit_code":3,"package":"/Game/Maps/Arena"}}"#
        )
    );
    let bad = json(
        r#"{"entries":[{"seq":1,"timestamp":"2026-11-27T15:09:16.159Z","level":"loud","message":""}],
        "cursor":1,"dropped":0,"more":false,"reset":false,"total":1,"offset":0}"#,
    );
    assert!(
        parse_log_page(&bad)
            .unwrap_err()
            .starts_with("entry 0: `level`: unknown level `loud`")
    );
}

#[test]
fn request_bodies_say_only_what_is_asked() {
    let check = |body: Vec<u8>, expected: &str| {
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    };
    check(
        new_session_body(&NewSession {
            appname: "editor".into(),
            mode: "interactive".into(),
            jobid: None,
            metadata: object(json!({"project": "Lyra"})),
        }),
        r#"{"appname":"editor","mode":"interactive","metadata":{"project":"Lyra"}}"#,
    );
    check(session_update_body(&SessionUpdate::default()), "{}");
    check(
        session_update_body(&SessionUpdate {
            mode: Some("cook".into()),
            jobid: Some(None),
            ..SessionUpdate::default()
        }),
        r#"{"mode":"cook","jobid":null}"#,
    );
    check(
        metadata_patch_body(&object(json!({"map": "Arena", "branch": null}))),
        r#"{"metadata":{"map":"Arena","branch":null}}"#,
    );
    let at: Timestamp = "2026-11-27T15:09:16.159Z".parse().unwrap();
    check(
        entries_body(&[
            NewEntry::new(at, Level::Info, "line \"one\"\n"),
            NewEntry::new(at, Level::Warn, "two")
                .with_data(EntryData::from_object(&object(json!({"n": 2})))),
        ]),
        r#"{"entries":[{"timestamp":"2026-11-27T15:09:16.159Z","level":"info","message":"line \"one\"\n"},{"timestamp":"2026-11-27T15:09:16.159Z","level":"warn","message":"two","data":{"n":2}}]}"#,
    );
}

#[test]
fn problems_become_title_and_detail() {
    let check = |status: u16, reason: &str, body: &str, expected: (&str, &str)| {
        let (title, detail) = parse_problem(status, reason, body.as_bytes());
        assert_eq!((title.as_str(), detail.as_str()), expected, "{body}");
    };
    check(
        404,
        "Not Found",
        r#"{"type":"about:blank","title":"Not Found","status":404,"detail":"session 65a1f00dcafe0123456789ac does not exist"}"#,
        (
            "Not Found",
            "session 65a1f00dcafe0123456789ac does not exist",
        ),
    );
    check(
        408,
        "Request Timeout",
        "",
        ("Request Timeout", "the server answered 408 Request Timeout"),
    );
    check(
        502,
        "Bad Gateway",
        "<html>\n  <body>bad   gateway</body>\n</html>",
        ("Bad Gateway", "<html> <body>bad gateway</body> </html>"),
    );
}

#[test]
fn health_reads_every_counter() {
    let health = parse_health(&json(
        r#"{"status":"ok","version":"0.1.0","uptime_s":1,"sessions":{"active":1,"ended":0},"websocket_clients":0,"log_memory_bytes":542}"#,
    ))
    .unwrap();
    assert_eq!(health.version, "0.1.0");
    assert_eq!(health.active_sessions, 1);
    assert_eq!(health.log_memory_bytes, 542);
}
