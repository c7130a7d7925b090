//! `SessionLogger::install` as a program uses it: the `log` macros, key-values
//! and all, end up in a new session, which ends when the handle goes. One
//! test only: a process has one logger.

#![allow(clippy::unwrap_used)]

mod support;

use sessions_client::{
    Level, LoggerConfig, LoggerError, ReadRequest, SessionLogger, SessionStatus,
};
use support::Server;

#[test]
fn the_installed_logger_ships_the_macros_and_ends_its_session() {
    let server = Server::start();
    let handle = SessionLogger::install(
        LoggerConfig::new("installed")
            .server(server.url())
            .mode("test")
            .jobid("job-7")
            .metadata("platform", "Win64"),
    )
    .unwrap();
    log::debug!("below the default level");
    log::info!("hello from {}", "the test");
    log::error!(attempt = 2, retry = false; "upload failed");
    log::logger().flush();

    let again = SessionLogger::install(LoggerConfig::new("second").server(server.url()));
    assert!(matches!(again, Err(LoggerError::AlreadyInstalled)));

    let id = handle.session_id();
    let session = server.client().get(id).unwrap();
    assert_eq!(
        (session.appname.as_str(), session.mode.as_str()),
        ("installed", "test")
    );
    assert_eq!(session.jobid.as_deref(), Some("job-7"));
    let metadata = session.metadata.decode();
    assert_eq!(metadata["platform"], "Win64");
    assert_eq!(metadata["pid"], std::process::id());

    let stats = handle.shutdown();
    assert_eq!((stats.shipped, stats.dropped, stats.lost), (2, 0, 0));
    log::info!("after the shutdown: ignored");
    let client = server.client();
    let log = client
        .read_log(id, ReadRequest::Tail { count: 10 })
        .unwrap();
    let entries: Vec<(Level, &str, Option<&str>)> = log
        .entries
        .iter()
        .map(|entry| (entry.level, entry.message.as_str(), entry.data.as_deref()))
        .collect();
    let target = module_path!();
    assert_eq!(
        entries,
        [
            (
                Level::Info,
                "hello from the test",
                Some(format!(r#"{{"target":"{target}"}}"#).as_str())
            ),
            (
                Level::Error,
                "upload failed",
                Some(format!(r#"{{"target":"{target}","attempt":2,"retry":false}}"#).as_str())
            ),
        ]
    );
    assert_eq!(client.get(id).unwrap().status(), SessionStatus::Ended);
}
