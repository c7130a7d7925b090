//! The `log` backend against the real server: bursts arrive whole or are
//! counted exactly, logging never waits for the server, and sessions are
//! joined or ended as configured.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use log::Log;
use serde_json::Value;
use sessions_client::{
    Client, Level, LogEntry, LoggerConfig, LoggerError, LoggerHandle, SessionId, SessionLogger,
    SessionStatus,
};
use support::{Server, whole_log};

const BURST: usize = 50_000;

/// A server whose logs keep a whole burst.
fn roomy_server() -> Server {
    Server::start_with(&["--max-log-entries", "100000", "--max-log-bytes", "64MiB"])
}

fn log_burst(logger: &SessionLogger) {
    for index in 0..BURST {
        logger.log(
            &log::Record::builder()
                .level(log::Level::Info)
                .target("burst")
                .args(format_args!("record {index}"))
                .build(),
        );
    }
}

/// Checks that the session holds the shipped records in order, each once,
/// and reports of exactly the dropped ones.
fn check_accounting(client: &Client, handle: LoggerHandle) {
    let id = handle.session_id();
    let stats = handle.shutdown();
    assert_eq!(stats.lost, 0);
    assert_eq!(stats.shipped + stats.dropped, BURST as u64, "{stats:?}");
    let entries = whole_log(client, id);
    let (reports, records): (Vec<&LogEntry>, Vec<&LogEntry>) =
        entries.iter().partition(|entry| entry.level == Level::Warn);
    let reported: u64 = reports
        .iter()
        .map(|entry| {
            let data: Value = serde_json::from_str(entry.data.as_deref().unwrap()).unwrap();
            data["dropped_records"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(
        reported, stats.dropped,
        "every dropped record is reported once"
    );
    assert_eq!(records.len() as u64, stats.shipped);
    let numbers: Vec<usize> = records
        .iter()
        .map(|entry| {
            entry
                .message
                .strip_prefix("record ")
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        numbers.windows(2).all(|pair| pair[0] < pair[1]),
        "in order, each once"
    );
    assert_eq!(records[0].data.as_deref(), Some(r#"{"target":"burst"}"#));
    let session = client.get(id).unwrap();
    assert_eq!(
        session.status(),
        SessionStatus::Ended,
        "a created session ends with its logger"
    );
}

#[test]
fn a_burst_that_fits_the_buffer_arrives_whole() {
    let server = roomy_server();
    let (logger, handle) = SessionLogger::start(
        LoggerConfig::new("burst")
            .server(server.url())
            .capacity(BURST),
    )
    .unwrap();
    log_burst(&logger);
    let stats = handle.stats();
    assert_eq!(stats.dropped, 0);
    assert!(handle.flush());
    assert_eq!(handle.stats().shipped, BURST as u64);
    check_accounting(&server.client(), handle);
}

#[test]
fn a_burst_never_waits_for_a_stalled_server_and_counts_what_it_drops() {
    let server = roomy_server();
    let (logger, handle) = SessionLogger::start(
        LoggerConfig::new("stalled")
            .server(server.url())
            .capacity(1_000),
    )
    .unwrap();
    // A stopped server accepts connections and answers nothing: if logging
    // waited for it, this burst would not finish until it was continued.
    let signal = |name: &str| {
        let status = Command::new("kill")
            .args([name, &server.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    signal("-STOP");
    log_burst(&logger);
    signal("-CONT");
    let stats = handle.stats();
    // The buffer holds 1,000 and the stalled append took one batch; a batch
    // or two may have slipped through before the server stopped.
    assert!(
        stats.dropped >= (BURST - 5_000) as u64,
        "only what fits the buffer got through: {stats:?}"
    );
    check_accounting(&server.client(), handle);
}

#[test]
fn a_joined_session_gets_records_and_metadata_and_stays_active() {
    let server = Server::start();
    let client = server.client();
    let id = server.create_session("parent").id;
    let (logger, handle) = SessionLogger::start(
        LoggerConfig::new("child")
            .server(server.url())
            .join(id)
            .metadata("worker", 2)
            .level(log::LevelFilter::Debug),
    )
    .unwrap();
    assert_eq!(
        handle.session().unwrap().appname,
        "parent",
        "joined as it is"
    );
    let pairs = [("asset", "T_Rock_01")];
    logger.log(
        &log::Record::builder()
            .level(log::Level::Warn)
            .target("cook")
            .args(format_args!("texture missing"))
            .key_values(&pairs)
            .build(),
    );
    logger.log(
        &log::Record::builder()
            .level(log::Level::Trace)
            .args(format_args!("below the level"))
            .build(),
    );
    assert_eq!(handle.shutdown().shipped, 1);
    let session = client.get(id).unwrap();
    assert_eq!(session.status(), SessionStatus::Active);
    assert_eq!(session.metadata.as_json(), r#"{"worker":2}"#);
    let entries = whole_log(&client, id);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].message, "texture missing");
    assert_eq!(
        entries[0].data.as_deref(),
        Some(r#"{"target":"cook","asset":"T_Rock_01"}"#)
    );
}

#[test]
fn joining_creates_a_missing_session_and_refuses_an_ended_one() {
    let server = Server::start();
    let client = server.client();
    let id: SessionId = "65a1f00dcafe0123456789ab".parse().unwrap();
    let handle = SessionLogger::start(LoggerConfig::new("first").server(server.url()).join(id))
        .unwrap()
        .1;
    assert_eq!(handle.session().unwrap().appname, "first");
    drop(handle);
    client.end(id).unwrap();
    let refused = SessionLogger::start(LoggerConfig::new("late").server(server.url()).join(id));
    assert!(matches!(refused, Err(LoggerError::Ended(ended)) if ended == id));
}

#[test]
fn records_for_a_session_that_was_ended_elsewhere_are_counted_lost() {
    let server = Server::start();
    let (logger, handle) =
        SessionLogger::start(LoggerConfig::new("orphan").server(server.url())).unwrap();
    server.client().end(handle.session_id()).unwrap();
    logger.log(
        &log::Record::builder()
            .level(log::Level::Error)
            .args(format_args!("nobody hears this"))
            .build(),
    );
    assert!(handle.flush());
    assert_eq!(handle.stats().lost, 1);
    assert_eq!(handle.last_error().unwrap().status(), Some(409));
}

#[test]
fn an_unreachable_server_fails_the_start_with_a_clear_error() {
    let error =
        SessionLogger::start(LoggerConfig::new("nowhere").server(support::unreachable_url()))
            .unwrap_err();
    assert!(
        error.to_string().starts_with(
            "cannot register the log session: cannot reach the server at http://127.0.0.1:"
        ),
        "{error}"
    );
}

#[test]
fn a_server_that_never_answers_holds_the_program_up_for_a_second_at_most() {
    let silent = support::SilentServer::start().unwrap();
    let started = Instant::now();
    let (logger, handle) = SessionLogger::start(
        LoggerConfig::new("patient")
            .server(silent.url())
            .flush_timeout(Duration::from_millis(200)),
    )
    .unwrap();
    // The bound is 1 s; 5 s keeps a loaded machine from failing the test.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(handle.session().is_none(), "still registering");
    let planned = handle.session_id();
    let logging = Instant::now();
    for index in 0..100 {
        logger.log(
            &log::Record::builder()
                .level(log::Level::Info)
                .args(format_args!("waiting {index}"))
                .build(),
        );
    }
    assert!(
        logging.elapsed() < Duration::from_secs(5),
        "logging never waits"
    );
    let stopping = Instant::now();
    drop(handle);
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "nor does shutting down"
    );
    assert_eq!(planned.to_string().len(), 24);
}
