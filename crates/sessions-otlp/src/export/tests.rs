//! Tests of exports against a real registry.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Kind;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::json;
use sessions_core::session_log::{LogEntry, ReadRequest, RingLimits};
use sessions_core::{Metadata, NewSession, Session, SessionRegistry};

use super::*;
use crate::value::tests::{any, pair, string};

const INSTANCE: &str = "65a1f00dcafe0123456789ab";
const OTHER_INSTANCE: &str = "65a1f00dcafe0123456789ac";

fn now() -> Timestamp {
    "2026-11-27T15:09:12.084Z".parse().unwrap()
}

fn record(severity_number: i32, body: &str) -> LogRecord {
    LogRecord {
        severity_number,
        body: Some(string(body)),
        ..LogRecord::default()
    }
}

fn resource_logs(attributes: Vec<KeyValue>, records: Vec<LogRecord>) -> ResourceLogs {
    ResourceLogs {
        resource: Some(Resource {
            attributes,
            ..Resource::default()
        }),
        scope_logs: vec![ScopeLogs {
            log_records: records,
            ..ScopeLogs::default()
        }],
        ..ResourceLogs::default()
    }
}

fn instance(id: &str, name: &str) -> Vec<KeyValue> {
    vec![
        pair("service.name", string(name)),
        pair("service.instance.id", string(id)),
    ]
}

fn run(registry: &SessionRegistry, resources: Vec<ResourceLogs>) -> ExportOutcome {
    let request = ExportLogsServiceRequest {
        resource_logs: resources,
    };
    // The memory store's futures are ready when made: one poll finishes them.
    let mut export = std::pin::pin!(export(registry, &request, now()));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match export.as_mut().poll(&mut context) {
        std::task::Poll::Ready(outcome) => outcome.expect("the memory store is always available"),
        std::task::Poll::Pending => panic!("an export to the memory store waited"),
    }
}

fn session(registry: &SessionRegistry, id: &str) -> Session {
    registry.get(id.parse().unwrap()).unwrap()
}

fn log(registry: &SessionRegistry, id: &str) -> Vec<LogEntry> {
    let request = ReadRequest::After {
        cursor: 0,
        limit: 10_000,
    };
    registry
        .read_log(id.parse().unwrap(), request, |read| {
            read.entries().map(|entry| entry.to_owned_entry()).collect()
        })
        .unwrap()
}

fn messages(registry: &SessionRegistry, id: &str) -> Vec<String> {
    log(registry, id)
        .into_iter()
        .map(|entry| entry.message)
        .collect()
}

fn metadata(value: serde_json::Value) -> Metadata {
    value.as_object().cloned().unwrap()
}

#[test]
fn the_first_export_creates_the_session_and_appends_every_record() {
    let registry = SessionRegistry::new(Limits::default());
    let mut attributes = instance(INSTANCE, "cook");
    attributes.push(pair("host.name", string("devbox")));
    let outcome = run(
        &registry,
        vec![resource_logs(
            attributes,
            vec![record(5, "one"), record(13, "two"), record(21, "three")],
        )],
    );
    assert_eq!(
        outcome,
        ExportOutcome {
            accepted: 3,
            rejected: 0,
            message: String::new()
        }
    );
    let session = session(&registry, INSTANCE);
    assert_eq!(session.appname, "cook");
    assert_eq!(session.mode, "otlp");
    assert_eq!(
        session.metadata.decode(),
        metadata(json!({"service.instance.id": INSTANCE, "host.name": "devbox"}))
    );
    let entries = log(&registry, INSTANCE);
    let levels: Vec<&str> = entries.iter().map(|entry| entry.level.as_str()).collect();
    assert_eq!(levels, ["debug", "warn", "error"]);
    assert_eq!(messages(&registry, INSTANCE), ["one", "two", "three"]);
    assert_eq!(entries[0].timestamp, now(), "no time in the record");
    assert_eq!(entries[2].data.as_deref(), Some(r#"{"severity":"FATAL"}"#));
}

#[test]
fn later_exports_keep_the_session_up_to_date() {
    let registry = SessionRegistry::new(Limits::default());
    let id: SessionId = INSTANCE.parse().unwrap();
    run(
        &registry,
        vec![resource_logs(
            instance(INSTANCE, "cook"),
            vec![record(9, "a")],
        )],
    );
    registry
        .patch_metadata(id, &metadata(json!({"note": "set by hand"})))
        .unwrap();
    let updated_before = session(&registry, INSTANCE).updated;

    let mut attributes = instance(INSTANCE, "cook-renamed");
    attributes.push(pair("zen.mode", string("nightly")));
    attributes.push(pair("deployment.environment", string("ci")));
    let outcome = run(
        &registry,
        vec![resource_logs(attributes, vec![record(9, "b")])],
    );
    assert_eq!(outcome.accepted, 1);
    let session = session(&registry, INSTANCE);
    assert_eq!(session.appname, "cook-renamed");
    assert_eq!(session.mode, "nightly");
    assert_eq!(
        session.metadata.decode(),
        metadata(json!({
            "service.instance.id": INSTANCE,
            "note": "set by hand",
            "deployment.environment": "ci"
        }))
    );
    assert!(session.updated >= updated_before);
    assert_eq!(messages(&registry, INSTANCE), ["a", "b"]);
}

#[test]
fn an_unchanged_resource_changes_nothing_but_the_log() {
    let registry = SessionRegistry::new(Limits::default());
    let resources = || vec![resource_logs(instance(INSTANCE, "cook"), Vec::new())];
    run(&registry, resources());
    let version = registry.change_version();
    let outcome = run(&registry, resources());
    assert_eq!(outcome, ExportOutcome::default());
    assert_eq!(registry.change_version(), version);
}

#[test]
fn an_ended_session_refuses_its_records_and_others_go_on() {
    let registry = SessionRegistry::new(Limits::default());
    run(
        &registry,
        vec![resource_logs(instance(INSTANCE, "cook"), Vec::new())],
    );
    registry.end(INSTANCE.parse().unwrap()).unwrap();
    let outcome = run(
        &registry,
        vec![
            resource_logs(
                instance(INSTANCE, "cook"),
                vec![record(9, "late"), record(9, "later")],
            ),
            resource_logs(instance(OTHER_INSTANCE, "other"), vec![record(9, "fine")]),
        ],
    );
    assert_eq!(outcome.accepted, 1);
    assert_eq!(outcome.rejected, 2);
    assert_eq!(
        outcome.message,
        "refused 2 log records: 2 because session 65a1f00dcafe0123456789ab has ended and takes no more records (a program that starts again needs another service.instance.id or process.pid)"
    );
    assert!(messages(&registry, INSTANCE).is_empty());
    assert_eq!(messages(&registry, OTHER_INSTANCE), ["fine"]);
}

#[test]
fn the_server_session_takes_no_exports() {
    let registry = SessionRegistry::new(Limits::default());
    let server = registry
        .create_server_session(NewSession {
            appname: "zenserver".into(),
            mode: "server".into(),
            ..NewSession::default()
        })
        .unwrap();
    let id = server.id.to_string();
    let outcome = run(
        &registry,
        vec![resource_logs(
            instance(&id, "intruder"),
            vec![record(9, "x")],
        )],
    );
    assert_eq!(outcome.rejected, 1);
    assert!(
        outcome.message.contains("is the server's own"),
        "{}",
        outcome.message
    );
    assert_eq!(session(&registry, &id).appname, "zenserver");
}

#[test]
fn records_over_a_limit_are_refused_one_by_one() {
    let registry = SessionRegistry::new(Limits {
        max_message_bytes: 8,
        log: RingLimits::new(100, 64),
        ..Limits::default()
    });
    let big_data = LogRecord {
        attributes: vec![pair("blob", string(&"x".repeat(100)))],
        ..record(9, "data")
    };
    let outcome = run(
        &registry,
        vec![resource_logs(
            instance(INSTANCE, "cook"),
            vec![
                record(9, "short"),
                record(9, "far too long"),
                big_data,
                record(9, "also ok"),
                record(9, "too long again"),
            ],
        )],
    );
    assert_eq!(outcome.accepted, 2);
    assert_eq!(outcome.rejected, 3);
    assert_eq!(
        outcome.message,
        "refused 3 log records: 2 because a body is over the message limit of 8 bytes | 1 because a record needs more than a whole log may hold (64 bytes)"
    );
    assert_eq!(messages(&registry, INSTANCE), ["short", "also ok"]);
}

#[test]
fn sessions_beyond_the_active_limit_are_refused() {
    let registry = SessionRegistry::new(Limits {
        max_active_sessions: 1,
        ..Limits::default()
    });
    let outcome = run(
        &registry,
        vec![
            resource_logs(instance(INSTANCE, "first"), vec![record(9, "in")]),
            resource_logs(instance(OTHER_INSTANCE, "second"), vec![record(9, "out")]),
        ],
    );
    assert_eq!((outcome.accepted, outcome.rejected), (1, 1));
    assert_eq!(
        outcome.message,
        "refused 1 log record: 1 because 1 sessions are active, the most allowed; end some before creating more"
    );
}

#[test]
fn attributes_over_the_metadata_limit_are_refused() {
    let registry = SessionRegistry::new(Limits {
        max_metadata_bytes: 32,
        ..Limits::default()
    });
    let mut attributes = instance(INSTANCE, "cook");
    attributes.push(pair("big", string(&"x".repeat(40))));
    let outcome = run(
        &registry,
        vec![resource_logs(attributes, vec![record(9, "x")])],
    );
    assert_eq!(outcome.rejected, 1);
    assert!(
        outcome
            .message
            .contains("the resource's attributes break a limit: `metadata` is"),
        "{}",
        outcome.message
    );
    assert!(registry.get(INSTANCE.parse().unwrap()).is_err());
}

#[test]
fn large_exports_are_appended_in_batches_in_order() {
    let registry = SessionRegistry::new(Limits {
        max_batch_entries: 2,
        ..Limits::default()
    });
    let records: Vec<LogRecord> = (0..5).map(|n| record(9, &n.to_string())).collect();
    let mut resource = resource_logs(instance(INSTANCE, "cook"), records);
    resource.scope_logs.push(ScopeLogs {
        log_records: vec![record(9, "5")],
        ..ScopeLogs::default()
    });
    let outcome = run(&registry, vec![resource]);
    assert_eq!(outcome.accepted, 6);
    assert_eq!(
        messages(&registry, INSTANCE),
        ["0", "1", "2", "3", "4", "5"]
    );
}

#[test]
fn resources_without_an_instance_id_land_in_a_derived_session() {
    let registry = SessionRegistry::new(Limits::default());
    let attributes = || {
        vec![
            pair("service.name", string("tool")),
            pair("process.pid", any(Kind::IntValue(99))),
        ]
    };
    run(
        &registry,
        vec![resource_logs(attributes(), vec![record(9, "a")])],
    );
    run(
        &registry,
        vec![resource_logs(attributes(), vec![record(9, "b")])],
    );
    let sessions = registry.list(sessions_core::StatusFilter::All);
    assert_eq!(sessions.len(), 1);
    let id = sessions[0].id.to_string();
    assert_eq!(messages(&registry, &id), ["a", "b"]);
    let no_resource = ResourceLogs {
        resource: None,
        ..resource_logs(Vec::new(), vec![record(9, "c")])
    };
    run(&registry, vec![no_resource]);
    let unknown = registry
        .list(sessions_core::StatusFilter::All)
        .into_iter()
        .find(|session| session.appname == "unknown_service")
        .unwrap();
    assert_eq!(messages(&registry, &unknown.id.to_string()), ["c"]);
}

#[test]
fn the_message_names_at_most_five_reasons() {
    let mut refusals = Refusals::default();
    for n in 0..7 {
        refusals.add(n + 1, format!("reason {n}"));
    }
    refusals.add(0, "nothing".into());
    refusals.add(2, "reason 0".into());
    assert_eq!(refusals.total, 30);
    assert_eq!(
        refusals.message(),
        "refused 30 log records: 3 because reason 0 | 2 because reason 1 | 3 because reason 2 | 4 because reason 3 | 5 because reason 4 | 13 for other reasons"
    );
}
