//! Driven past every count and size limit at once (at reduced sizes), the
//! server keeps to each of them and its memory stays within the bound
//! docs/architecture.md derives from them.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::Server;

#[test]
fn every_limit_holds_when_driven_past_it() {
    let server = Server::start_with(&[
        "--max-active-sessions",
        "40",
        "--max-ended-sessions",
        "20",
        "--max-log-entries",
        "500",
        "--max-log-bytes",
        "64KiB",
        "--max-log-memory",
        "1MiB",
        "--max-metadata",
        "4KiB",
    ]);
    let baseline = support::rss(server.pid());
    let filler = "m".repeat(1_000);
    let metadata = json!({"blob": "b".repeat(3_900)});
    for round in 0..6 {
        let mut created = Vec::new();
        for i in 0..60 {
            let response = server.post_json(
                "/sessions/",
                &json!({"appname": format!("r{round}-{i}"), "mode": "load", "metadata": metadata}),
            );
            match response.status {
                201 => created.push(response.json()["id"].as_str().unwrap().to_owned()),
                429 => response.assert_problem(429, "are active"),
                other => panic!("unexpected {other}: {}", response.text()),
            }
        }
        for id in &created {
            let lines: String = (0..200).map(|n| format!("{n} {filler}\n")).collect();
            assert_eq!(
                server
                    .post_text(&format!("/sessions/{id}/log"), &lines)
                    .status,
                200
            );
        }
        let health = server.get("/health").json();
        assert!(
            health["sessions"]["active"].as_u64().unwrap() <= 40,
            "{health}"
        );
        assert!(
            health["sessions"]["ended"].as_u64().unwrap() <= 20,
            "{health}"
        );
        assert!(
            health["log_memory_bytes"].as_u64().unwrap() <= 1 << 20,
            "{health}"
        );
        for id in created {
            server.request("DELETE", &format!("/sessions/{id}")).send();
        }
    }
    let health = server.get("/health").json();
    assert_eq!(
        health["sessions"]["ended"], 20,
        "the history holds exactly its limit"
    );
    assert!(health["log_memory_bytes"].as_u64().unwrap() <= 1 << 20);
    for session in server.get("/sessions/?status=all").json()["sessions"]
        .as_array()
        .unwrap()
    {
        assert!(session["log"]["entries"].as_u64().unwrap() <= 500);
    }
    // The bound of docs/architecture.md at these limits: twice the shared log
    // budget, plus every session at its largest (names and metadata), plus
    // allocator and runtime slack, which dominates at these small sizes.
    let sessions = 40 + 20 + 1;
    let bound = 2 * (1 << 20) + sessions * (4 << 10) * 4 + (24 << 20);
    let grown = support::rss(server.pid()).saturating_sub(baseline);
    assert!(
        grown < bound as u64,
        "RSS grew by {grown} bytes, bound {bound}"
    );
}
