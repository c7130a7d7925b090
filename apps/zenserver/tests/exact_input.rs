//! Input is exact or refused: timestamps, numbers, nesting and content
//! codings, against the real binary. Nothing a client sends is stored
//! changed without a word.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;

use serde_json::{Value, json};
use support::{Server, check_refused};

fn append_json(server: &Server, id: &str, body: &str) -> support::Response {
    server
        .request("POST", &format!("/sessions/{id}/log"))
        .header("Content-Type", "application/json")
        .body(body.as_bytes())
        .send()
}

#[test]
fn timestamps_are_rfc3339_exactly() {
    let server = Server::start();
    let id = server.create_session("clock");
    for (sent, stored) in [
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"),
        ("2026-01-02t03:04:05.6789+01:00", "2026-01-02T02:04:05.678Z"),
        ("9999-12-30T22:00:00Z", "9999-12-30T22:00:00.000Z"),
    ] {
        let body = json!({"message": sent, "timestamp": sent}).to_string();
        assert_eq!(append_json(&server, &id, &body).status, 200, "{sent}");
        let last = server.get(&format!("/sessions/{id}/log?tail=1")).json();
        assert_eq!(last["entries"][0]["timestamp"], stored, "{sent}");
    }
    for sent in [
        "-000001-01-01T00:00:00Z",
        "+002026-01-02T03:04:05Z",
        "2026-01-02 03:04:05Z",
        "2026-01-02T03:04:05",
        "9999-12-31T23:59:59.999Z",
        "0000-01-01T00:00:00+01:00",
    ] {
        let body = json!({"message": "m", "timestamp": sent}).to_string();
        check_refused(
            &server,
            || append_json(&server, &id, &body),
            400,
            "timestamp",
        );
    }
}

#[test]
fn numbers_that_would_change_are_refused_and_the_rest_kept() {
    let server = Server::start();
    let id = server.create_session("numbers");
    let kept = r#"{"metadata":{"big":18446744073709551615,"min":-9223372036854775808,"half":0.5,"negative_zero":-0.0}}"#;
    let response = server
        .request("PUT", &format!("/sessions/{id}"))
        .header("Content-Type", "application/json")
        .body(kept.as_bytes())
        .send();
    assert_eq!(response.status, 200, "{}", response.text());
    let text = server.get(&format!("/sessions/{id}")).text();
    assert!(text.contains(r#""big":18446744073709551615"#), "{text}");
    assert!(text.contains(r#""min":-9223372036854775808"#), "{text}");
    assert!(text.contains(r#""negative_zero":-0.0"#), "{text}");

    for number in ["18446744073709551616", "-0", "1e999999", "1e-999999"] {
        let metadata = format!(r#"{{"metadata":{{"n":{number}}}}}"#);
        check_refused(
            &server,
            || {
                server
                    .request("PUT", &format!("/sessions/{id}"))
                    .header("Content-Type", "application/json")
                    .body(metadata.as_bytes())
                    .send()
            },
            400,
            number.trim_start_matches('-'),
        );
        let create = format!(r#"{{"appname":"a","mode":"m","metadata":{{"n":[{number}]}}}}"#);
        check_refused(
            &server,
            || {
                server
                    .request("POST", "/sessions/")
                    .header("Content-Type", "application/json")
                    .body(create.as_bytes())
                    .send()
            },
            400,
            "would",
        );
        let entry = format!(
            r#"{{"entries":[{{"message":"ok"}},{{"message":"m","data":{{"n":{number}}}}}]}}"#
        );
        check_refused(
            &server,
            || append_json(&server, &id, &entry),
            400,
            "entry 1",
        );
    }
}

/// Nested `depth` levels: the object itself and `depth - 1` inside it.
fn nested(depth: usize) -> Value {
    (1..depth).fold(json!({}), |inner, _| json!({ "n": inner }))
}

/// The server once took metadata 125 deep, and then listing sessions failed
/// for every client built on serde_json (its limit is 128 levels).
#[test]
fn metadata_and_data_nest_at_most_64_deep_and_every_answer_parses() {
    let server = Server::start();
    let deepest = server.post_json(
        "/sessions/",
        &json!({"appname": "deep", "mode": "m", "metadata": nested(64)}),
    );
    assert_eq!(deepest.status, 201, "{}", deepest.text());
    let id = deepest.json()["id"].as_str().unwrap().to_owned();
    let entry = json!({"message": "deep", "data": nested(64)}).to_string();
    assert_eq!(append_json(&server, &id, &entry).status, 200);
    // What a Rust client does with the answers: parse them with serde_json.
    for path in [
        "/sessions/?status=all".to_owned(),
        format!("/sessions/{id}"),
        format!("/sessions/{id}/log"),
    ] {
        let text = server.get(&path).text();
        serde_json::from_str::<Value>(&text).unwrap_or_else(|error| panic!("{path}: {error}"));
    }

    check_refused(
        &server,
        || {
            server.post_json(
                "/sessions/",
                &json!({"appname": "d", "mode": "m", "metadata": nested(65)}),
            )
        },
        400,
        "`metadata` nests 65 levels deep; the limit is 64",
    );
    check_refused(
        &server,
        || {
            server
                .request("PUT", &format!("/sessions/{id}"))
                .json(&json!({"metadata": {"more": nested(64)}}))
                .send()
        },
        400,
        "nests 65 levels deep",
    );
    let too_deep = json!({"message": "m", "data": nested(65)}).to_string();
    check_refused(
        &server,
        || append_json(&server, &id, &too_deep),
        400,
        "entry 0: `data` nests 65 levels deep; the limit is 64",
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A gzip body on the log route was once appended as text: binary lines.
#[test]
fn compressed_bodies_are_decoded_or_refused() {
    let server = Server::start_with(&["--max-body", "64KiB"]);
    let created = server
        .request("POST", "/sessions/")
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(&gzip(br#"{"appname":"zipped","mode":"m"}"#))
        .send();
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let appended = server
        .request("POST", &format!("/sessions/{id}/log"))
        .header("Content-Type", "text/plain")
        .header("Content-Encoding", "gzip")
        .body(&gzip(b"first line\nsecond line\n"))
        .send();
    assert_eq!(appended.json()["appended"], 2, "{}", appended.text());
    let log = server.get(&format!("/sessions/{id}/log")).json();
    assert_eq!(log["entries"][1]["message"], "second line");

    let log_path = format!("/sessions/{id}/log");
    check_refused(
        &server,
        || {
            server
                .request("POST", &log_path)
                .header("Content-Encoding", "br")
                .body(b"line\n")
                .send()
        },
        415,
        "content encoding `br` is not supported",
    );
    check_refused(
        &server,
        || {
            server
                .request("POST", &log_path)
                .header("Content-Encoding", "gzip")
                .body(b"not gzip at all\n")
                .send()
        },
        400,
        "",
    );
    // Within the same limit once decompressed as the body itself.
    let bomb = gzip(&vec![b'a'; 1 << 20]);
    assert!(bomb.len() < 64 << 10);
    check_refused(
        &server,
        || {
            server
                .request("POST", &log_path)
                .header("Content-Encoding", "gzip")
                .body(&bomb)
                .send()
        },
        413,
        "once decompressed",
    );
}
