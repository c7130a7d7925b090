//! `POST /v1/logs` against the real binary: OTLP/HTTP exports in protobuf
//! and JSON, gzip, partial success, and every refusal the specification
//! names, each in the request's encoding.
//!
//! Protobuf bodies are written here with a few lines of wire format rather
//! than with the server's own decoder crate, so a mistake there cannot hide
//! behind the same mistake here.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use support::{Response, Server, rss};

const INSTANCE: &str = "0123456789abcdef01234567";

// --- A protobuf writer and reader, just big enough for these messages. ---

#[derive(Default)]
struct Proto(Vec<u8>);

impl Proto {
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    fn key(&mut self, field: u64, wire_type: u64) {
        self.varint(field << 3 | wire_type);
    }

    fn uint(mut self, field: u64, value: u64) -> Proto {
        self.key(field, 0);
        self.varint(value);
        self
    }

    fn fixed64(mut self, field: u64, value: u64) -> Proto {
        self.key(field, 1);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    fn bytes(mut self, field: u64, bytes: &[u8]) -> Proto {
        self.key(field, 2);
        self.varint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
        self
    }

    fn string(self, field: u64, text: &str) -> Proto {
        self.bytes(field, text.as_bytes())
    }

    fn message(self, field: u64, message: Proto) -> Proto {
        self.bytes(field, &message.0)
    }
}

/// `AnyValue` kinds by field number: 1 string, 2 bool, 3 int, 4 double,
/// 5 array, 6 key-value list, 7 bytes.
fn text(value: &str) -> Proto {
    Proto::default().string(1, value)
}

fn key_value(key: &str, value: Proto) -> Proto {
    Proto::default().string(1, key).message(2, value)
}

/// A record: time (1), severity number (2) and text (3), body (5),
/// attributes (6), trace id (9), span id (10).
fn record(nanos: u64, severity: u64, body: Proto, attributes: Vec<Proto>) -> Proto {
    let mut record = Proto::default()
        .fixed64(1, nanos)
        .uint(2, severity)
        .message(5, body);
    for attribute in attributes {
        record = record.message(6, attribute);
    }
    record
}

/// An export request with one resource and one scope.
fn request(resource: Vec<Proto>, scope: &str, records: Vec<Proto>) -> Vec<u8> {
    let mut resource_message = Proto::default();
    for attribute in resource {
        resource_message = resource_message.message(1, attribute);
    }
    let mut scope_logs = Proto::default().message(1, Proto::default().string(1, scope));
    for record in records {
        scope_logs = scope_logs.message(2, record);
    }
    let resource_logs = Proto::default()
        .message(1, resource_message)
        .message(2, scope_logs);
    Proto::default().message(1, resource_logs).0
}

/// The fields of a message as (field number, varint or bytes).
fn fields(mut bytes: &[u8]) -> Vec<(u64, Result<u64, Vec<u8>>)> {
    let varint = |bytes: &mut &[u8]| {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = bytes[0];
            *bytes = &bytes[1..];
            value |= u64::from(byte & 0x7F) << shift;
            if byte < 0x80 {
                break;
            }
        }
        value
    };
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes);
        let value = match key & 7 {
            0 => Ok(varint(&mut bytes)),
            2 => {
                let length = varint(&mut bytes) as usize;
                let (value, rest) = bytes.split_at(length);
                bytes = rest;
                Err(value.to_vec())
            }
            other => panic!("wire type {other} in an answer"),
        };
        fields.push((key >> 3, value));
    }
    fields
}

/// `google.rpc.Status`: (code, message).
fn status_of(bytes: &[u8]) -> (u64, String) {
    let mut status = (0, String::new());
    for (field, value) in fields(bytes) {
        match (field, value) {
            (1, Ok(code)) => status.0 = code,
            (2, Err(message)) => status.1 = String::from_utf8(message).unwrap(),
            other => panic!("unexpected field {other:?}"),
        }
    }
    status
}

/// The message of a `google.rpc.Status` in JSON.
fn json_message(response: &Response) -> String {
    response.json()["message"]
        .as_str()
        .expect("a status message")
        .to_owned()
}

/// `ExportLogsServiceResponse`: the partial success's (rejected, message),
/// if any.
fn partial_success_of(bytes: &[u8]) -> Option<(u64, String)> {
    let (_, Err(partial)) = fields(bytes).pop()? else {
        panic!("not a response: {bytes:?}");
    };
    Some(status_of(&partial))
}

// --- Helpers for requests. ---

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn export(server: &Server, content_type: &str, body: &[u8]) -> Response {
    server
        .request("POST", "/v1/logs")
        .header("Content-Type", content_type)
        .body(body)
        .send()
}

fn export_protobuf(server: &Server, body: &[u8]) -> Response {
    export(server, "application/x-protobuf", body)
}

fn export_json(server: &Server, body: &Value) -> Response {
    export(server, "application/json", body.to_string().as_bytes())
}

fn entries(server: &Server, id: &str) -> Vec<Value> {
    let log = server.get(&format!("/sessions/{id}/log")).json();
    log["entries"].as_array().unwrap().clone()
}

/// A JSON export request with one resource whose instance id is `INSTANCE`.
fn json_request(records: Value) -> Value {
    json!({"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "json-tool"}},
            {"key": "service.instance.id", "value": {"stringValue": INSTANCE}}
        ]},
        "scopeLogs": [{"scope": {"name": "main"}, "logRecords": records}]
    }]})
}

// --- The tests. ---

#[test]
fn a_protobuf_export_becomes_a_session_with_its_entries() {
    let server = Server::start();
    let body = request(
        vec![
            key_value("service.name", text("cook")),
            key_value("service.instance.id", text(INSTANCE)),
            key_value("zen.mode", text("nightly")),
            key_value("host.name", text("devbox")),
            key_value("process.pid", Proto::default().uint(3, 4711)),
        ],
        "cooker",
        vec![
            record(1_700_000_000_001_000_000, 5, text("loading"), Vec::new()),
            record(
                1_700_000_000_002_000_000,
                13,
                text("slow shader"),
                vec![
                    key_value("shader", text("M_Rock")),
                    key_value("ms", Proto::default().fixed64(4, 12.5f64.to_bits())),
                    key_value("cached", Proto::default().uint(2, 1)),
                ],
            )
            .bytes(9, &[0xAB; 16])
            .bytes(10, &[0xCD; 8]),
            record(
                1_700_000_000_003_000_000,
                21,
                Proto::default().uint(3, 7),
                Vec::new(),
            ),
        ],
    );
    let response = export_protobuf(&server, &body);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("application/x-protobuf")
    );
    assert_eq!(partial_success_of(&response.body), None);

    let session = server.get(&format!("/sessions/{INSTANCE}")).json();
    assert_eq!(session["appname"], "cook");
    assert_eq!(session["mode"], "nightly");
    assert_eq!(
        session["metadata"],
        json!({"service.instance.id": INSTANCE, "host.name": "devbox", "process.pid": 4711})
    );
    let entries = entries(&server, INSTANCE);
    assert_eq!(
        entries,
        [
            json!({"seq": 1, "timestamp": "2023-11-14T22:13:20.001Z", "level": "debug", "message": "loading",
                   "data": {"scope": "cooker"}}),
            json!({"seq": 2, "timestamp": "2023-11-14T22:13:20.002Z", "level": "warn", "message": "slow shader",
                   "data": {"shader": "M_Rock", "ms": 12.5, "cached": true, "scope": "cooker",
                            "trace_id": "abababababababababababababababab", "span_id": "cdcdcdcdcdcdcdcd"}}),
            json!({"seq": 3, "timestamp": "2023-11-14T22:13:20.003Z", "level": "error", "message": "7",
                   "data": {"scope": "cooker", "severity": "FATAL"}}),
        ]
    );
}

#[test]
fn a_gzipped_json_export_is_answered_in_json() {
    let server = Server::start();
    let body = json_request(json!([
        {"timeUnixNano": "1700000000000000000", "severityNumber": 9,
         "body": {"kvlistValue": {"values": [{"key": "step", "value": {"intValue": "2"}}]}}},
        {"observedTimeUnixNano": 1700000000500000000u64, "severityText": "WARNING",
         "body": {"stringValue": "plain"}, "traceId": "5B8EFFF798038103D269B633813FC60C"}
    ]));
    let response = server
        .request("POST", "/v1/logs")
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(&gzip(body.to_string().as_bytes()))
        .send();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.json(), json!({}));
    let entries = entries(&server, INSTANCE);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["message"], r#"{"step":2}"#);
    assert_eq!(entries[0]["level"], "info");
    assert_eq!(entries[1]["timestamp"], "2023-11-14T22:13:20.500Z");
    assert_eq!(entries[1]["level"], "warn");
    assert_eq!(
        entries[1]["data"]["trace_id"],
        "5b8efff798038103d269b633813fc60c"
    );
}

#[test]
fn records_an_ended_session_cannot_take_are_a_partial_success() {
    let server = Server::start();
    let records = json!([{"body": {"stringValue": "first"}}]);
    assert_eq!(export_json(&server, &json_request(records)).status, 200);
    assert_eq!(
        server
            .request("DELETE", &format!("/sessions/{INSTANCE}"))
            .send()
            .status,
        200
    );

    let late = json!([{"body": {"stringValue": "late"}}, {"body": {"stringValue": "later"}}]);
    let response = export_json(&server, &json_request(late));
    assert_eq!(response.status, 200, "{}", response.text());
    let answer = response.json();
    assert_eq!(answer["partialSuccess"]["rejectedLogRecords"], "2");
    let message = answer["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert!(
        message.contains(&format!("session {INSTANCE} has ended")),
        "{message}"
    );

    let body = request(
        vec![key_value("service.instance.id", text(INSTANCE))],
        "",
        vec![record(1, 9, text("also late"), Vec::new())],
    );
    let response = export_protobuf(&server, &body);
    assert_eq!(response.status, 200);
    let (rejected, message) = partial_success_of(&response.body).unwrap();
    assert_eq!(rejected, 1);
    assert!(
        message.starts_with("refused 1 log record: 1 because session"),
        "{message}"
    );
    assert_eq!(entries(&server, INSTANCE).len(), 1);
}

#[test]
fn records_over_the_message_limit_are_refused_one_by_one() {
    let server = Server::start_with(&["--max-message", "16"]);
    let records = json!([
        {"body": {"stringValue": "short"}},
        {"body": {"stringValue": "this body is far too long"}},
        {"body": {"stringValue": "short again"}}
    ]);
    let answer = export_json(&server, &json_request(records)).json();
    assert_eq!(answer["partialSuccess"]["rejectedLogRecords"], "1");
    let messages: Vec<Value> = entries(&server, INSTANCE)
        .iter()
        .map(|entry| entry["message"].clone())
        .collect();
    assert_eq!(messages, ["short", "short again"]);
}

#[test]
fn other_content_types_are_refused_with_415() {
    let server = Server::start();
    for content_type in ["text/plain", "application/protobuf", "application/xml"] {
        export(&server, content_type, b"{}").assert_problem(415, "not an OTLP encoding");
    }
    server
        .request("POST", "/v1/logs")
        .body(b"{}")
        .send()
        .assert_problem(415, "has no content type");

    let response = server
        .request("POST", "/v1/logs")
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "br")
        .body(b"{}")
        .send();
    assert_eq!(response.status, 415);
    assert_eq!(response.header("accept-encoding"), Some("gzip, identity"));
    assert_eq!(response.json()["code"], 3);
}

#[test]
fn undecodable_bodies_are_refused_with_a_status_in_their_encoding() {
    let server = Server::start();
    for body in [&b"\xff\xff\xff"[..], b"\x0a\x05\x12", b"not protobuf"] {
        let response = export_protobuf(&server, body);
        assert_eq!(response.status, 400);
        assert_eq!(
            response.header("content-type"),
            Some("application/x-protobuf")
        );
        let (code, message) = status_of(&response.body);
        assert_eq!(code, 3);
        assert!(
            message.contains("not a protobuf ExportLogsServiceRequest"),
            "{message}"
        );
    }
    let bad_id = request(
        Vec::new(),
        "",
        vec![record(1, 9, text("x"), Vec::new()).bytes(9, &[1; 5])],
    );
    let (_, message) = status_of(&export_protobuf(&server, &bad_id).body);
    assert!(message.contains("`traceId` is 5 bytes long"), "{message}");

    for (body, fragment) in [
        ("{", "EOF while parsing"),
        ("[]", "expected an object"),
        (
            r#"{"resourceLogs": [{"resource": []}]}"#,
            "expected an object",
        ),
        (
            r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "soon"}]}]}]}"#,
            "invalid digit",
        ),
    ] {
        let response = export(&server, "application/json", body.as_bytes());
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.header("content-type"), Some("application/json"));
        let status = response.json();
        assert_eq!(status["code"], 3);
        let message = status["message"].as_str().unwrap();
        assert!(message.contains(fragment), "{body}: {message}");
    }
    let response = server
        .request("POST", "/v1/logs")
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(b"{}")
        .send();
    assert_eq!(response.status, 400);
    assert!(json_message(&response).contains("gzip"));
    let response = server
        .request("POST", "/v1/logs?debug=1")
        .header("Content-Type", "application/json")
        .body(b"{}")
        .send();
    assert_eq!(response.status, 400);
    assert!(json_message(&response).contains("debug"));
    assert_eq!(server.visible_state(), json!([]), "nothing was created");
}

#[test]
fn bodies_over_the_limit_are_refused_with_413_compressed_or_not() {
    let server = Server::start_with(&["--max-body", "64KiB"]);
    let large = vec![b' '; 65 << 10];
    let response = export(&server, "application/json", &large);
    assert_eq!(response.status, 413);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert!(json_message(&response).contains("65536"));

    // 64 KiB of compressed body is within the limit; what it expands to is
    // not. Multi-member gzip makes a large bomb cheaply.
    let member = gzip(&vec![b' '; 1 << 20]);
    let bomb: Vec<u8> = member.repeat((60 << 10) / member.len());
    assert!(bomb.len() < 64 << 10);
    let response = server
        .request("POST", "/v1/logs")
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "gzip")
        .body(&bomb)
        .send();
    assert_eq!(response.status, 413);
    let (_, message) = status_of(&response.body);
    assert_eq!(
        message,
        "the body is larger than the limit of 65536 bytes once decompressed"
    );
}

#[test]
fn requests_over_the_batch_limit_are_refused_before_decoding() {
    let server = Server::start_with(&["--max-batch-entries", "5"]);
    let records = (0..6).map(|_| Proto::default()).collect();
    let response = export_protobuf(&server, &request(Vec::new(), "", records));
    assert_eq!(response.status, 400);
    let (_, message) = status_of(&response.body);
    assert_eq!(
        message,
        "the request holds 6 log records; the limit is 5 per request: export smaller batches"
    );
    let records = json!([{}, {}, {}, {}, {}]);
    assert_eq!(export_json(&server, &json_request(records)).status, 200);
    let records = json!([{}, {}, {}, {}, {}, {}]);
    let response = export_json(&server, &json_request(records));
    assert_eq!(response.status, 400);
    assert!(json_message(&response).contains("holds 6 log records"));
}

#[test]
fn lists_that_would_take_too_much_memory_are_refused_before_decoding() {
    // Lists may take eight times the body limit decoded: 512 KiB here.
    let server = Server::start_with(&["--max-body", "64KiB"]);
    // 30,000 empty attributes: two bytes each on the wire, 64 decoded.
    let empty = Proto([0x32, 0x00].repeat(30_000));
    let response = export_protobuf(&server, &request(Vec::new(), "", vec![empty]));
    assert_eq!(response.status, 400);
    let (_, message) = status_of(&response.body);
    assert!(
        message.starts_with("the request's records, attributes and values would take 19"),
        "{message}"
    );
    let attributes = vec![json!({}); 20_000];
    let response = export_json(&server, &json_request(json!([{"attributes": attributes}])));
    assert_eq!(response.status, 400);
    assert!(json_message(&response).contains("the limit is 524288 bytes"));
    assert_eq!(server.visible_state(), json!([]), "nothing was created");

    // Attributes as programs write them are far from the limit.
    let attributes = (0..1_000)
        .map(|i| key_value(&format!("attribute.{i}"), text("value")))
        .collect();
    let record = record(1, 9, text("many attributes"), attributes);
    let response = export_protobuf(&server, &request(Vec::new(), "", vec![record]));
    assert_eq!(response.status, 200);
}

#[test]
fn hostile_bodies_at_the_default_limits_keep_memory_bounded() {
    let server = Server::start();
    // 4 MiB of `{}` attributes, each needing its `key` filled in: once
    // 760 MB while it was decoded.
    let attributes = vec!["{}"; (4 << 20) / 3 - 100].join(",");
    let body = format!(
        r#"{{"resourceLogs": [{{"scopeLogs": [{{"logRecords": [{{"attributes": [{attributes}]}}]}}]}}]}}"#
    );
    // Values twenty arrays deep: serde copies each array value before
    // reading it, and the copies of the ones around it are still held.
    let mut value = format!(
        r#"{{"arrayValue": {{"values": [{}]}}}}"#,
        vec!["{}"; 150_000].join(",")
    );
    for _ in 1..20 {
        value = format!(r#"{{"arrayValue": {{"values": [{value}]}}}}"#);
    }
    let nested = format!(
        r#"{{"resourceLogs": [{{"scopeLogs": [{{"logRecords": [{{"body": {value}}}]}}]}}]}}"#
    );
    let before = rss(server.pid());
    for body in [&body, &nested, &body, &nested] {
        let response = export(&server, "application/json", body.as_bytes());
        assert_eq!(response.status, 400, "{}", response.text());
    }
    let grown = rss(server.pid()).saturating_sub(before);
    assert!(grown < 64 << 20, "RSS grew by {grown} bytes");
}

#[test]
fn a_gzip_bomb_keeps_memory_bounded() {
    let server = Server::start();
    // 4 MiB of gzip members, each 16 MiB of spaces: about 4 GiB if it were
    // all decompressed; the limit stops it at 4 MiB.
    let member = gzip(&vec![b' '; 16 << 20]);
    let bomb: Vec<u8> = member.repeat((4 << 20) / member.len() - 1);
    let before = rss(server.pid());
    for _ in 0..4 {
        let response = server
            .request("POST", "/v1/logs")
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip")
            .body(&bomb)
            .send();
        assert_eq!(response.status, 413, "{}", response.text());
    }
    let grown = rss(server.pid()).saturating_sub(before);
    assert!(grown < 64 << 20, "RSS grew by {grown} bytes");
}

#[test]
fn access_rules_apply_as_everywhere() {
    let server = Server::start_with(&["--token", "s3cret"]);
    let body = json_request(json!([{"body": {"stringValue": "x"}}])).to_string();
    let without = export(&server, "application/json", body.as_bytes());
    without.assert_problem(401, "Bearer");
    let foreign = server
        .request("POST", "/v1/logs")
        .header("Authorization", "Bearer s3cret")
        .header("Origin", "http://evil.example")
        .header("Content-Type", "application/json")
        .body(body.as_bytes())
        .send();
    foreign.assert_problem(403, "origin");
    let allowed = server
        .request("POST", "/v1/logs")
        .header("Authorization", "Bearer s3cret")
        .header("Content-Type", "application/json")
        .body(body.as_bytes())
        .send();
    assert_eq!(allowed.status, 200, "{}", allowed.text());

    let get = server
        .request("GET", "/v1/logs")
        .header("Authorization", "Bearer s3cret")
        .send();
    get.assert_problem(405, "GET is not allowed");
    assert_eq!(get.header("allow"), Some("POST"));
}

#[test]
fn the_same_process_keeps_its_session_and_its_metadata_up_to_date() {
    let server = Server::start();
    let resource = |version: &str| {
        json!({"attributes": [
            {"key": "service.name", "value": {"stringValue": "agent"}},
            {"key": "process.pid", "value": {"intValue": "99"}},
            {"key": "service.version", "value": {"stringValue": version}}
        ]})
    };
    for (version, message) in [("1.0", "one"), ("1.1", "two")] {
        let body = json!({"resourceLogs": [{
            "resource": resource(version),
            "scopeLogs": [{"logRecords": [{"body": {"stringValue": message}}]}]
        }]});
        assert_eq!(export_json(&server, &body).status, 200);
    }
    let sessions = server.get("/sessions/").json();
    let agents: Vec<&Value> = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|session| session["appname"] == "agent")
        .collect();
    assert_eq!(agents.len(), 1, "{sessions}");
    let agent = agents[0];
    assert_eq!(agent["mode"], "otlp");
    assert_eq!(
        agent["metadata"],
        json!({"process.pid": 99, "service.version": "1.1"})
    );
    let id = agent["id"].as_str().unwrap();
    let messages: Vec<Value> = entries(&server, id)
        .iter()
        .map(|entry| entry["message"].clone())
        .collect();
    assert_eq!(messages, ["one", "two"]);
}
