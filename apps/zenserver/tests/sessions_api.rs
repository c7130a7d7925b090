//! The session routes against the real binary: every row of the API table
//! that concerns sessions, and every way to get them wrong.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Server, check_refused};

fn ids(list: &Value) -> Vec<String> {
    list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|session| session["server"] == false)
        .map(|session| session["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn create_with_a_minted_id() {
    let server = Server::start();
    for path in ["/sessions/", "/sessions"] {
        let response = server.post_json(
            path,
            &json!({"appname": "editor", "mode": "interactive", "jobid": "job-7", "metadata": {"project": "Lyra", "nested": {"a": [1, 2]}}}),
        );
        assert_eq!(response.status, 201, "{}", response.text());
        let session = response.json();
        let id = session["id"].as_str().unwrap();
        assert_eq!(id.len(), 24);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(
            response.header("location"),
            Some(format!("/sessions/{id}").as_str())
        );
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(session["appname"], "editor");
        assert_eq!(session["mode"], "interactive");
        assert_eq!(session["jobid"], "job-7");
        assert_eq!(
            session["metadata"],
            json!({"project": "Lyra", "nested": {"a": [1, 2]}})
        );
        assert_eq!(session["status"], "active");
        assert_eq!(session["server"], false);
        assert_eq!(session["ended"], Value::Null);
        assert_eq!(
            session["log"],
            json!({"entries": 0, "cursor": 0, "dropped": 0})
        );
        let created = session["created"].as_str().unwrap();
        assert_eq!(created.len(), "2026-01-01T00:00:00.000Z".len(), "{created}");
        assert!(created.ends_with('Z'));
        assert_eq!(server.get(&format!("/sessions/{id}")).json(), session);
    }
}

#[test]
fn create_or_update_by_id() {
    let server = Server::start();
    let path = "/sessions/65A1F00DCAFE0123456789AB";
    let created = server.post_json(
        path,
        &json!({"appname": "agent", "mode": "build", "metadata": {"a": 1}}),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        created.json()["id"],
        "65a1f00dcafe0123456789ab",
        "ids are written in lowercase"
    );
    assert_eq!(
        created.header("location"),
        Some("/sessions/65a1f00dcafe0123456789ab")
    );

    let updated = server.post_json(path, &json!({"mode": "cook", "jobid": "j1"}));
    assert_eq!(updated.status, 200, "{}", updated.text());
    let session = updated.json();
    assert_eq!(
        (session["appname"].as_str(), session["mode"].as_str()),
        (Some("agent"), Some("cook"))
    );
    assert_eq!(session["jobid"], "j1");
    assert_eq!(session["metadata"], json!({"a": 1}), "absent fields stay");

    let replaced = server
        .post_json(path, &json!({"metadata": {"b": 2}, "jobid": null}))
        .json();
    assert_eq!(
        replaced["metadata"],
        json!({"b": 2}),
        "metadata given in POST replaces"
    );
    assert_eq!(replaced["jobid"], Value::Null, "null removes the job id");

    let touched = server.request("POST", path).send();
    assert_eq!(
        touched.status, 200,
        "an empty body updates nothing but `updated`"
    );
}

#[test]
fn metadata_keeps_the_order_of_its_keys() {
    let server = Server::start();
    let body = r#"{"appname": "a", "mode": "m", "metadata": {"zeta": 1, "alpha": {"y": 2, "b": 3}, "mid": 4}}"#;
    let created = server
        .request("POST", "/sessions/")
        .header("Content-Type", "application/json")
        .body(body.as_bytes())
        .send();
    let text = created.text();
    assert!(
        text.contains(r#""metadata":{"zeta":1,"alpha":{"y":2,"b":3},"mid":4}"#),
        "{text}"
    );
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let patched = server
        .request("PUT", &format!("/sessions/{id}"))
        .header("Content-Type", "application/json")
        .body(br#"{"metadata": {"alpha": null, "new": 5}}"#)
        .send()
        .text();
    assert!(
        patched.contains(r#""metadata":{"zeta":1,"mid":4,"new":5}"#),
        "{patched}"
    );
}

#[test]
fn merge_patch_metadata() {
    let server = Server::start();
    let id = server.create_session("editor");
    let path = format!("/sessions/{id}");
    let first = server
        .request("PUT", &path)
        .json(&json!({"metadata": {"a": 1, "b": {"c": 2, "d": 3}}}))
        .send();
    assert_eq!(first.status, 200, "{}", first.text());
    let second = server
        .request("PUT", &path)
        .json(&json!({"metadata": {"a": null, "b": {"c": null, "e": 4}, "f": [1]}}))
        .send();
    assert_eq!(
        second.json()["metadata"],
        json!({"b": {"d": 3, "e": 4}, "f": [1]})
    );
}

#[test]
fn end_keeps_the_session_readable() {
    let server = Server::start();
    let id = server.create_session("tool");
    server.post_text(&format!("/sessions/{id}/log"), "last words\n");
    let ended = server.request("DELETE", &format!("/sessions/{id}")).send();
    assert_eq!(ended.status, 200, "{}", ended.text());
    let session = ended.json();
    assert_eq!(session["status"], "ended");
    assert!(session["ended"].is_string());
    let again = server.request("DELETE", &format!("/sessions/{id}")).send();
    assert_eq!(
        (again.status, again.json()),
        (200, session.clone()),
        "ending twice changes nothing"
    );
    assert_eq!(server.get(&format!("/sessions/{id}")).json(), session);
    let log = server.get(&format!("/sessions/{id}/log")).json();
    assert_eq!(log["entries"][0]["message"], "last words");
}

#[test]
fn listing_by_status_and_order() {
    let server = Server::start();
    let first = server.create_session("first");
    let second = server.create_session("second");
    let third = server.create_session("third");
    server
        .request("DELETE", &format!("/sessions/{third}"))
        .send();
    server
        .request("DELETE", &format!("/sessions/{first}"))
        .send();

    let active = server.get("/sessions/");
    assert_eq!(active.status, 200);
    assert_eq!(ids(&active.json()), std::slice::from_ref(&second));
    assert_eq!(
        ids(&server.get("/sessions/?status=active").json()),
        std::slice::from_ref(&second)
    );
    assert_eq!(
        ids(&server.get("/sessions/?status=ended").json()),
        [first.clone(), third.clone()],
        "most recently ended first"
    );
    assert_eq!(
        ids(&server.get("/sessions?status=all").json()),
        [third, second, first],
        "newest created first"
    );
}

#[test]
fn active_sessions_are_capped_with_429() {
    let server = Server::start_with(&["--max-active-sessions", "3"]);
    let a = server.create_session("a");
    server.create_session("b");
    let refused = server.post_json("/sessions/", &json!({"appname": "c", "mode": "m"}));
    refused.assert_problem(429, "3 sessions are active");
    let by_id = server.post_json(
        "/sessions/0123456789abcdef01234567",
        &json!({"appname": "c", "mode": "m"}),
    );
    by_id.assert_problem(429, "active");
    server.request("DELETE", &format!("/sessions/{a}")).send();
    server.create_session("c");
}

#[test]
fn ended_history_is_bounded() {
    let server = Server::start_with(&["--max-ended-sessions", "2"]);
    let ids: Vec<String> = (0..3)
        .map(|i| server.create_session(&format!("s{i}")))
        .collect();
    for id in &ids {
        server.request("DELETE", &format!("/sessions/{id}")).send();
    }
    server
        .get(&format!("/sessions/{}", ids[0]))
        .assert_problem(404, "does not exist");
    assert_eq!(server.get(&format!("/sessions/{}", ids[2])).status, 200);
}

#[test]
fn bad_session_requests_are_refused_and_change_nothing() {
    let server = Server::start();
    let id = server.create_session("editor");
    let path = format!("/sessions/{id}");
    let post = |path: &str, body: &str| {
        let path = path.to_owned();
        let body = body.to_owned();
        let server = &server;
        move || {
            server
                .request("POST", &path)
                .header("Content-Type", "application/json")
                .body(body.as_bytes())
                .send()
        }
    };
    check_refused(
        &server,
        post("/sessions/", "{not json"),
        400,
        "invalid body",
    );
    for (body, fragment) in [
        ("[1, 2]", "found an array where an object belongs"),
        (r#"["editor", "batch"]"#, "found an array"),
        ("\"editor\"", "found a string"),
        ("null", "found null"),
        (
            r#"{"appname": null, "mode": "m"}"#,
            "invalid type: null, expected a string",
        ),
        (r#"{"appname": "a", "mode": null}"#, "invalid type: null"),
        (
            r#"{"appname": "a", "mode": "m", "metadata": null}"#,
            "invalid type: null, expected a map",
        ),
    ] {
        check_refused(&server, post("/sessions/", body), 400, fragment);
    }
    check_refused(
        &server,
        || {
            server
                .request("PUT", &path)
                .json(&json!(["metadata"]))
                .send()
        },
        400,
        "found an array",
    );
    check_refused(
        &server,
        post("/sessions/", r#"{"appname": 5, "mode": "m"}"#),
        400,
        "invalid type: integer `5`",
    );
    check_refused(
        &server,
        post(
            "/sessions/",
            r#"{"appname": "a", "mode": "m", "color": "red"}"#,
        ),
        400,
        "unknown field `color`",
    );
    check_refused(
        &server,
        post("/sessions/", r#"{"mode": "m"}"#),
        400,
        "`appname` is required",
    );
    check_refused(
        &server,
        post("/sessions/", r#"{"appname": "a"}"#),
        400,
        "`mode` is required",
    );
    check_refused(
        &server,
        post("/sessions/", r#"{"appname": "", "mode": "m"}"#),
        400,
        "`appname` must not be empty",
    );
    check_refused(
        &server,
        post(
            "/sessions/",
            r#"{"appname": "a", "mode": "m", "metadata": [1]}"#,
        ),
        400,
        "invalid type: sequence",
    );
    let long = "x".repeat(257);
    check_refused(
        &server,
        post(
            "/sessions/",
            &format!(r#"{{"appname": "{long}", "mode": "m"}}"#),
        ),
        400,
        "`appname` is 257 bytes long; the limit is 256",
    );
    check_refused(
        &server,
        post(
            "/sessions/",
            &format!(r#"{{"appname": "a", "mode": "m", "jobid": "{long}"}}"#),
        ),
        400,
        "`jobid` is 257 bytes",
    );
    let big = "y".repeat(64 << 10);
    check_refused(
        &server,
        post(
            "/sessions/",
            &format!(r#"{{"appname": "a", "mode": "m", "metadata": {{"k": "{big}"}}}}"#),
        ),
        400,
        "`metadata` is 65544 bytes as compact JSON; the limit is 65536",
    );
    check_refused(
        &server,
        post(&path, r#"{"appname": ""}"#),
        400,
        "must not be empty",
    );
    check_refused(
        &server,
        post("/sessions/not-an-id", r#"{"appname": "a", "mode": "m"}"#),
        400,
        "`not-an-id` is not a session id: expected 24 hex digits",
    );
    check_refused(
        &server,
        post(
            "/sessions/0123456789abcdef0123456",
            r#"{"appname": "a", "mode": "m"}"#,
        ),
        400,
        "24 hex digits",
    );
    check_refused(
        &server,
        || server.get("/sessions/zzzzzzzzzzzzzzzzzzzzzzzz"),
        400,
        "not a session id",
    );
    check_refused(
        &server,
        || server.get("/sessions/0123456789abcdef01234567"),
        404,
        "session 0123456789abcdef01234567 does not exist",
    );
    check_refused(
        &server,
        || {
            server
                .request("PUT", "/sessions/0123456789abcdef01234567")
                .json(&json!({"metadata": {}}))
                .send()
        },
        404,
        "does not exist",
    );
    check_refused(
        &server,
        || {
            server
                .request("DELETE", "/sessions/0123456789abcdef01234567")
                .send()
        },
        404,
        "does not exist",
    );
    check_refused(
        &server,
        || {
            server
                .request("PUT", &path)
                .json(&json!({"metadata": 5}))
                .send()
        },
        400,
        "invalid type: integer `5`, expected a map",
    );
    check_refused(
        &server,
        || server.request("PUT", &path).json(&json!({})).send(),
        400,
        "missing field `metadata`",
    );
    check_refused(
        &server,
        || {
            server
                .request("PUT", &path)
                .json(&json!({"metadata": {}, "x": 1}))
                .send()
        },
        400,
        "unknown field `x`",
    );
    check_refused(
        &server,
        || {
            server
                .request("PUT", &path)
                .json(&json!({"metadata": {"k": big}}))
                .send()
        },
        400,
        "`metadata` is",
    );
    check_refused(
        &server,
        || server.get("/sessions/?status=gone"),
        400,
        "query parameter `status`: `gone` is not one of active, ended, all",
    );
    check_refused(
        &server,
        || server.get("/sessions/?stat=all"),
        400,
        "`stat`: is not known here",
    );
    check_refused(
        &server,
        || server.request("PATCH", &path).send(),
        405,
        "PATCH is not allowed here",
    );
    check_refused(
        &server,
        || server.get("/no/such/route"),
        404,
        "there is no endpoint at /no/such/route",
    );

    let server_id = server.server_session_id();
    check_refused(
        &server,
        || {
            server
                .request("DELETE", &format!("/sessions/{server_id}"))
                .send()
        },
        409,
        "is the server's own session and cannot be ended",
    );

    server.request("DELETE", &path).send();
    check_refused(
        &server,
        post(&path, r#"{"mode": "again"}"#),
        409,
        "has ended",
    );
    check_refused(
        &server,
        || {
            server
                .request("PUT", &path)
                .json(&json!({"metadata": {"a": 1}}))
                .send()
        },
        409,
        "has ended",
    );
}

#[test]
fn method_not_allowed_names_the_allowed_methods() {
    let server = Server::start();
    let response = server.request("DELETE", "/sessions/").send();
    response.assert_problem(405, "DELETE is not allowed here; allowed: GET, POST");
    assert_eq!(response.header("allow"), Some("GET, POST"));
}
