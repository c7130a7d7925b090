//! Every client call against the real server: what it sends arrives, what
//! comes back is read right, and every refusal becomes the right error.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::TcpListener;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;
use sessions_client::{
    Client, ClientConfig, ClientError, EntryData, Level, Metadata, NewEntry, NewSession,
    ReadRequest, SessionId, SessionStatus, SessionUpdate, StatusFilter, Upserted,
};
use support::Server;

fn metadata(value: serde_json::Value) -> Metadata {
    value.as_object().unwrap().clone()
}

fn messages(entries: &[sessions_client::LogEntry]) -> Vec<&str> {
    entries.iter().map(|entry| entry.message.as_str()).collect()
}

#[test]
fn sessions_are_created_updated_patched_listed_and_ended() {
    let server = Server::start();
    let client = server.client();

    let health = client.health().unwrap();
    assert_eq!(health.active_sessions, 1, "the server's own");

    let minted = client
        .create(&NewSession {
            appname: "editor".into(),
            mode: "interactive".into(),
            jobid: None,
            metadata: metadata(json!({"project": "Lyra", "branch": "main"})),
        })
        .unwrap();
    assert_eq!(minted.status(), SessionStatus::Active);
    assert_eq!(
        minted.metadata.as_json(),
        r#"{"project":"Lyra","branch":"main"}"#
    );
    assert_eq!(client.get(minted.id).unwrap(), minted);

    let chosen: SessionId = "65A1F00DCAFE0123456789AB".parse().unwrap();
    let created = client
        .upsert(
            chosen,
            &SessionUpdate {
                appname: Some("build-agent".into()),
                mode: Some("batch".into()),
                jobid: Some(Some("nightly-4711".into())),
                metadata: None,
            },
        )
        .unwrap();
    let Upserted::Created(created) = created else {
        panic!("expected a new session: {created:?}")
    };
    assert_eq!(created.id.to_string(), "65a1f00dcafe0123456789ab");
    assert_eq!(created.jobid.as_deref(), Some("nightly-4711"));

    let updated = client
        .upsert(
            chosen,
            &SessionUpdate {
                mode: Some("cook".into()),
                jobid: Some(None),
                metadata: Some(metadata(
                    json!({"config": {"lto": false}, "platform": "Win64"}),
                )),
                ..SessionUpdate::default()
            },
        )
        .unwrap();
    let Upserted::Updated(updated) = updated else {
        panic!("expected an update: {updated:?}")
    };
    assert_eq!(
        (updated.appname.as_str(), updated.mode.as_str()),
        ("build-agent", "cook")
    );
    assert_eq!(updated.jobid, None, "null removed it");

    let patched = client
        .patch_metadata(
            chosen,
            &metadata(json!({"config": {"lto": true}, "platform": null, "shard": 3})),
        )
        .unwrap();
    assert_eq!(
        patched.metadata.as_json(),
        r#"{"config":{"lto":true},"shard":3}"#
    );

    let active = client.list(StatusFilter::Active).unwrap();
    let ids: Vec<SessionId> = active.iter().map(|session| session.id).collect();
    assert_eq!(ids[..2], [chosen, minted.id], "newest created first");
    assert!(active.last().unwrap().server);

    let ended = client.end(minted.id).unwrap();
    assert_eq!(ended.status(), SessionStatus::Ended);
    assert_eq!(
        client.end(minted.id).unwrap(),
        ended,
        "ending again changes nothing"
    );
    let ended_list = client.list(StatusFilter::Ended).unwrap();
    assert_eq!(ended_list, [ended]);
    assert_eq!(client.list(StatusFilter::All).unwrap().len(), 3);
}

#[test]
fn logs_are_appended_and_read_every_way() {
    let server = Server::start();
    let client = server.client();
    let id = server.create_session("reader").id;

    let appended = client
        .append_text(id, Level::Warn, "first\r\n\n   \nsecond\n")
        .unwrap();
    assert_eq!(
        (appended.appended, appended.cursor),
        (2, 2),
        "blank lines skipped"
    );
    let at: Timestamp = "2026-11-27T15:09:16.159Z".parse().unwrap();
    let data = EntryData::from_object(&metadata(
        json!({"exit_code": 3, "package": "/Game/Maps/Arena"}),
    ));
    let appended = client
        .append_entries(
            id,
            &[
                NewEntry::new(at, Level::Error, "Cook failed").with_data(data.clone()),
                NewEntry::new(at, Level::Debug, "  spaces kept  "),
            ],
        )
        .unwrap();
    assert_eq!((appended.appended, appended.cursor), (2, 4));

    let all = client
        .read_log(
            id,
            ReadRequest::After {
                cursor: 0,
                limit: 1_000,
            },
        )
        .unwrap();
    assert_eq!(
        messages(&all.entries),
        ["first", "second", "Cook failed", "  spaces kept  "]
    );
    let levels: Vec<Level> = all.entries.iter().map(|entry| entry.level).collect();
    assert_eq!(
        levels,
        [Level::Warn, Level::Warn, Level::Error, Level::Debug]
    );
    assert_eq!(all.entries[2].timestamp, at);
    assert_eq!(all.entries[2].data.as_deref(), Some(data.as_json()));
    assert_eq!(
        (all.cursor, all.total, all.more, all.reset),
        (4, 4, false, false)
    );

    let after = client
        .read_log(
            id,
            ReadRequest::After {
                cursor: 1,
                limit: 2,
            },
        )
        .unwrap();
    assert_eq!(messages(&after.entries), ["second", "Cook failed"]);
    assert!(after.more);
    let page = client
        .read_log(
            id,
            ReadRequest::Page {
                offset: 3,
                limit: 10,
            },
        )
        .unwrap();
    assert_eq!(
        (messages(&page.entries), page.offset),
        (vec!["  spaces kept  "], 3)
    );
    let tail = client.read_log(id, ReadRequest::Tail { count: 2 }).unwrap();
    assert_eq!(messages(&tail.entries), ["Cook failed", "  spaces kept  "]);
    let ahead = client
        .read_log(
            id,
            ReadRequest::After {
                cursor: 42,
                limit: 1,
            },
        )
        .unwrap();
    assert!(ahead.reset);

    // A long poll that finds entries answers at once; one that finds none
    // waits, and answers when a line arrives from elsewhere.
    let at_once = client
        .wait_for_log(id, 3, 100, Duration::from_secs(30))
        .unwrap();
    assert_eq!(messages(&at_once.entries), ["  spaces kept  "]);
    let writer = {
        let client = server.client();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            client.append_text(id, Level::Info, "late line").unwrap()
        })
    };
    let waited = client
        .wait_for_log(id, 4, 100, Duration::from_secs(30))
        .unwrap();
    assert_eq!(messages(&waited.entries), ["late line"]);
    writer.join().unwrap();
    let quiet = client
        .wait_for_log(id, 5, 100, Duration::from_secs(1))
        .unwrap();
    assert!(quiet.entries.is_empty());
    assert_eq!(quiet.cursor, 5);
}

/// The status and the server's own words, for each kind of refusal.
fn check(result: Result<impl std::fmt::Debug, ClientError>, status: u16, detail: &str) {
    let error = result.unwrap_err();
    assert_eq!(error.status(), Some(status), "{error}");
    assert_eq!(error.detail(), Some(detail), "{error}");
    assert!(!error.is_transport());
}

#[test]
fn refusals_carry_their_status_and_detail() {
    let server = Server::start();
    let client = server.client();
    let unknown: SessionId = "65a1f00dcafe0123456789ac".parse().unwrap();
    let not_found = "session 65a1f00dcafe0123456789ac does not exist";
    check(client.get(unknown), 404, not_found);
    check(client.end(unknown), 404, not_found);
    check(
        client.patch_metadata(unknown, &Metadata::new()),
        404,
        not_found,
    );
    check(
        client.read_log(unknown, ReadRequest::Tail { count: 1 }),
        404,
        not_found,
    );
    check(
        client.append_text(unknown, Level::Info, "x"),
        404,
        not_found,
    );

    check(
        client.create(&NewSession {
            appname: String::new(),
            mode: "x".into(),
            ..NewSession::default()
        }),
        400,
        "`appname` must not be empty",
    );
    check(
        client.upsert(
            unknown,
            &SessionUpdate {
                mode: Some("batch".into()),
                ..SessionUpdate::default()
            },
        ),
        400,
        "`appname` is required to create a session",
    );
    let id = server.create_session("short-lived").id;
    check(
        client.append_entries(
            id,
            &[NewEntry::new(
                Timestamp::now(),
                Level::Info,
                "x".repeat(70_000),
            )],
        ),
        400,
        "entry 0: `message` is 70000 bytes long; the limit is 65536 bytes",
    );

    client.end(id).unwrap();
    let ended = format!("session {id} has ended; ended sessions are read-only");
    check(client.append_text(id, Level::Info, "late"), 409, &ended);
    check(client.upsert(id, &SessionUpdate::default()), 409, &ended);
    let own = client
        .list(StatusFilter::Active)
        .unwrap()
        .into_iter()
        .find(|session| session.server)
        .unwrap();
    check(
        client.end(own.id),
        409,
        &format!(
            "session {} is the server's own session and cannot be ended",
            own.id
        ),
    );
}

#[test]
fn a_server_with_a_token_wants_it() {
    let server = Server::start_with(&["--token", "s3cret"]);
    let without = server.client();
    check(
        without.list(StatusFilter::Active),
        401,
        "this server needs `Authorization: Bearer <token>`; the token is missing or wrong",
    );
    assert!(
        without
            .list(StatusFilter::Active)
            .unwrap_err()
            .to_string()
            .ends_with("(HTTP 401); pass --token or set ZEN_TOKEN"),
        "a refused token says how to give one"
    );
    assert!(without.health().is_ok(), "health needs no token");
    let wrong = Client::new(ClientConfig::new(server.url()).with_token("guess")).unwrap();
    assert_eq!(
        wrong.list(StatusFilter::Active).unwrap_err().status(),
        Some(401)
    );
    let with = Client::new(ClientConfig::new(server.url()).with_token("s3cret")).unwrap();
    assert_eq!(with.list(StatusFilter::Active).unwrap().len(), 1);
}

#[test]
fn no_answer_is_a_transport_error_that_says_where() {
    let url = support::unreachable_url();
    let client = Client::new(ClientConfig::new(&url)).unwrap();
    let error = client.health().unwrap_err();
    assert!(error.is_transport());
    assert_eq!(
        error.to_string(),
        format!(
            "cannot reach the server at {url}: connection refused; is zenserver running there?"
        )
    );

    // Something that accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let client =
        Client::new(ClientConfig::new(&url).with_read_timeout(Duration::from_millis(300))).unwrap();
    let error = client.list(StatusFilter::All).unwrap_err();
    assert!(
        matches!(error, ClientError::Timeout { after, .. } if after == Duration::from_millis(300)),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("the server at {url} did not answer within 0.3 s")
    );

    let https = Client::new(ClientConfig::new("https://127.0.0.1:8558")).unwrap_err();
    assert!(matches!(https, ClientError::InvalidUrl { .. }), "{https:?}");
}
