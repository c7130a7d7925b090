//! The `log` backend through a server restart and an outage: it registers
//! its session again when the server no longer knows it, keeps its records
//! while the server is away, and counts exactly those that did not fit.
//! And the environment a program run by `zen run` finds.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use log::Log;
use serde_json::Value;
use sessions_client::{
    Client, ClientConfig, Level, LoggerConfig, ReadRequest, SessionId, SessionLogger,
};
use support::Server;

fn log_numbered(logger: &SessionLogger, prefix: &str, count: usize) {
    for index in 0..count {
        logger.log(
            &log::Record::builder()
                .level(log::Level::Info)
                .args(format_args!("{prefix} {index}"))
                .build(),
        );
    }
}

/// Every message of the log, with the sum of the drop reports apart.
fn messages_and_reported_drops(client: &Client, id: SessionId) -> (Vec<String>, u64) {
    let page = client
        .read_log(id, ReadRequest::Tail { count: 10_000 })
        .unwrap();
    let mut reported = 0;
    let mut messages = Vec::new();
    for entry in page.entries {
        if entry.level == Level::Warn {
            let data: Value = serde_json::from_str(entry.data.as_deref().unwrap()).unwrap();
            reported += data["dropped_records"].as_u64().unwrap();
        } else {
            messages.push(entry.message);
        }
    }
    (messages, reported)
}

#[test]
fn after_a_restart_the_session_comes_back_and_nothing_is_lost() {
    let port = support::free_port();
    let server = Server::start_on(port, &[]);
    let (logger, handle) = SessionLogger::start(
        LoggerConfig::new("survivor")
            .server(server.url())
            .mode("restart")
            .metadata("shard", "3")
            .flush_timeout(Duration::from_secs(20)),
    )
    .unwrap();
    log_numbered(&logger, "before", 500);
    assert!(handle.flush());

    drop(server);
    log_numbered(&logger, "during", 1_000);
    std::thread::sleep(Duration::from_millis(300));
    let server = Server::start_on(port, &[]);
    log_numbered(&logger, "after", 500);
    assert!(handle.flush(), "{:?}", handle.last_error());

    let stats = handle.stats();
    assert_eq!((stats.shipped, stats.dropped, stats.lost), (2_000, 0, 0));
    let client = server.client();
    let session = client.get(handle.session_id()).unwrap();
    assert_eq!(
        (session.appname.as_str(), session.mode.as_str()),
        ("survivor", "restart")
    );
    assert_eq!(
        session.metadata.decode()["shard"],
        "3",
        "the same properties"
    );
    let (messages, reported) = messages_and_reported_drops(&client, session.id);
    let expected: Vec<String> = (0..1_000)
        .map(|index| format!("during {index}"))
        .chain((0..500).map(|index| format!("after {index}")))
        .collect();
    assert_eq!(messages, expected, "in order, each once");
    assert_eq!(reported, 0);
}

#[test]
fn an_outage_longer_than_the_buffer_costs_exactly_counted_records() {
    let port = support::free_port();
    let server = Server::start_on(port, &[]);
    let (logger, handle) = SessionLogger::start(
        LoggerConfig::new("outage")
            .server(server.url())
            .capacity(100)
            .flush_timeout(Duration::from_secs(20)),
    )
    .unwrap();
    drop(server);
    log_numbered(&logger, "record", 5_000);
    let server = Server::start_on(port, &[]);
    assert!(handle.flush(), "{:?}", handle.last_error());
    let stats = handle.stats();
    assert_eq!(stats.lost, 0, "{stats:?}");
    assert!(stats.dropped > 0, "a 100-record buffer overflows");
    assert_eq!(stats.shipped + stats.dropped, 5_000, "{stats:?}");
    let (messages, reported) = messages_and_reported_drops(&server.client(), handle.session_id());
    assert_eq!(messages.len() as u64, stats.shipped);
    assert_eq!(reported, stats.dropped, "each dropped record reported once");
}

#[test]
fn the_client_and_the_logger_take_their_server_from_the_environment() {
    let server = Server::start();
    let session = server.create_session("parent");
    // Child processes: the environment is set only in them.
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "from_the_environment_in_a_child", "--nocapture"])
        .env("ZEN_SERVER", server.url())
        .env("ZEN_SESSION_ID", session.id.to_string())
        .env("FROM_ENV_CHILD", "1")
        .env_remove("ZEN_TOKEN")
        .status()
        .unwrap();
    assert!(status.success());
    let (messages, _) = messages_and_reported_drops(&server.client(), session.id);
    assert_eq!(messages, ["from a child"]);
}

/// Runs only as the child of the test above.
#[test]
fn from_the_environment_in_a_child() {
    if std::env::var_os("FROM_ENV_CHILD").is_none() {
        return;
    }
    let client = Client::from_env().unwrap();
    assert_eq!(
        client.config().base_url(),
        std::env::var("ZEN_SERVER").unwrap()
    );
    assert_eq!(client.config().token(), None);
    let (logger, handle) = SessionLogger::start(LoggerConfig::from_env("child")).unwrap();
    assert_eq!(
        handle.session_id().to_string(),
        std::env::var("ZEN_SESSION_ID").unwrap(),
        "joins the session zen run made"
    );
    logger.log(
        &log::Record::builder()
            .level(log::Level::Info)
            .args(format_args!("from a child"))
            .build(),
    );
    let stats = handle.shutdown();
    assert_eq!(stats.shipped, 1);
    let token = ClientConfig::from_env().token().map(str::to_owned);
    assert_eq!(token, None);
}
