//! Many writers, one follower: nothing is lost without being counted, nothing
//! is seen twice, batches stay whole.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;

use serde_json::Value;
use support::Server;

const WRITERS: usize = 8;
const ENTRIES_PER_WRITER: usize = 10_000;
const BATCH: usize = 100;

#[test]
fn eight_writers_and_a_long_polling_follower() {
    let server = Server::start_with(&["--max-log-entries", "10000"]);
    let id = server.create_session("stress");
    let log = format!("/sessions/{id}/log");
    let total = (WRITERS * ENTRIES_PER_WRITER) as u64;

    let (seen, dropped) = std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let server = &server;
            let log = &log;
            scope.spawn(move || {
                for batch in 0..ENTRIES_PER_WRITER / BATCH {
                    let body: String = (0..BATCH)
                        .map(|i| format!("{writer} {batch} {i}\n"))
                        .collect();
                    let response = server.post_text(log, &body);
                    assert_eq!(response.status, 200, "{}", response.text());
                    assert_eq!(response.json()["appended"], BATCH);
                }
            });
        }
        let follower = scope.spawn(|| {
            let mut cursor = 0u64;
            let mut seen: Vec<(u64, String)> = Vec::new();
            let mut dropped = 0u64;
            while cursor < total {
                let read = server
                    .get(&format!("{log}?cursor={cursor}&wait=10&limit=10000"))
                    .json();
                assert_eq!(read["reset"], false);
                let read_dropped = read["dropped"].as_u64().unwrap();
                let first_expected = cursor + read_dropped + 1;
                let entries = read["entries"].as_array().unwrap();
                for (expected_seq, entry) in (first_expected..).zip(entries) {
                    let seq = entry["seq"].as_u64().unwrap();
                    assert_eq!(
                        seq, expected_seq,
                        "strictly increasing, gaps only where counted as dropped"
                    );
                    seen.push((seq, entry["message"].as_str().unwrap().to_owned()));
                }
                dropped += read_dropped;
                let next = read["cursor"].as_u64().unwrap();
                assert!(next >= cursor);
                cursor = next;
            }
            (seen, dropped)
        });
        follower.join().unwrap()
    });

    assert_eq!(
        seen.len() as u64 + dropped,
        total,
        "every entry seen or counted as dropped"
    );
    let session: Value = server.get(&format!("/sessions/{id}")).json();
    assert_eq!(session["log"]["cursor"], total);
    assert_eq!(session["log"]["entries"], 10_000);
    assert_eq!(session["log"]["dropped"], total - 10_000);

    // /metrics counts the same, across eight writers: every entry appended
    // (the server's own log too) and every one evicted.
    let server_log = |server: &Server| -> Value {
        let id = server.server_session_id();
        server.get(&format!("/sessions/{id}")).json()["log"].clone()
    };
    let own_before = server_log(&server);
    let metrics = server.get("/metrics").text();
    assert_eq!(
        own_before,
        server_log(&server),
        "the server logged meanwhile"
    );
    let sample = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(
        sample("zenserver_log_entries_appended_total"),
        total + own_before["cursor"].as_u64().unwrap()
    );
    assert_eq!(own_before["dropped"], 0);
    assert_eq!(
        sample("zenserver_log_entries_dropped_total"),
        total - 10_000
    );

    // Batches never interleave: within a batch, seq and line number advance
    // together, whichever part of the batch the follower saw.
    let mut batches: HashMap<(u64, u64), Vec<(u64, u64)>> = HashMap::new();
    for (seq, message) in &seen {
        let parts: Vec<u64> = message
            .split(' ')
            .map(|part| part.parse().unwrap())
            .collect();
        batches
            .entry((parts[0], parts[1]))
            .or_default()
            .push((*seq, parts[2]));
    }
    for ((writer, batch), entries) in &batches {
        let (first_seq, first_line) = entries[0];
        for (seq, line) in entries {
            assert_eq!(
                seq - first_seq,
                line - first_line,
                "batch {writer}/{batch} interleaved"
            );
        }
    }
    // The final state holds whole, contiguous batches too.
    let retained = server.get(&format!("{log}?offset=0&limit=10000")).json();
    let lines: Vec<u64> = retained["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            entry["message"]
                .as_str()
                .unwrap()
                .rsplit(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let first_full = lines.iter().position(|line| *line == 0).unwrap();
    for (offset, line) in lines[first_full..].iter().enumerate() {
        assert_eq!(*line as usize, offset % BATCH);
    }
}
