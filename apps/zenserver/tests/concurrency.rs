//! Many writers, one follower: nothing is lost without being counted, nothing
//! is seen twice, batches stay whole.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use support::{Server, in_parallel};

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

const UNEVEN_WRITERS: usize = 32;
const UNEVEN_BATCHES: u64 = 30;
const TIGHT_ENTRIES: u64 = 700;
const TIGHT_BYTES: u64 = 48 * 1024;
const LEVELS: [&str; 4] = ["info", "warn", "error", "debug"];

/// One entry of writer `writer`'s batch `batch`, as sent: its level,
/// timestamp and data vary, and its message length too, so that both caps
/// bite within and across batches.
fn uneven_entry(writer: u64, batch: u64, k: u64) -> Value {
    let mut entry = json!({
        "message": format!("{writer}/{batch}/{k} {}", "x".repeat(((writer * 7 + batch * 13 + k * 31) % 200) as usize)),
        "level": LEVELS[(k % 4) as usize],
        "timestamp": format!("2026-12-02T10:{:02}:{:02}.{:03}Z", writer % 60, batch % 60, k % 3 + 1),
    });
    if k.is_multiple_of(5) {
        entry["data"] = json!({"writer": writer, "k": k});
    }
    entry
}

/// How many entries writer `writer` sends in batch `batch`: 1 to 60.
fn uneven_size(writer: u64, batch: u64) -> u64 {
    1 + (writer * 17 + batch * 29 + writer * batch) % 60
}

/// Many writers sending batches of uneven sizes into one session whose caps
/// are tight: a store may group concurrent batches (the Redis store runs
/// those that arrive together in one step), and each must still answer
/// as if alone, stay whole and contiguous, keep every field it was sent
/// with, and leave the log within both caps.
#[test]
fn thirty_two_writers_with_uneven_batches_under_tight_caps() {
    let server = Server::start_with(&[
        "--max-log-entries",
        &TIGHT_ENTRIES.to_string(),
        "--max-log-bytes",
        &format!("{}KiB", TIGHT_BYTES / 1024),
    ]);
    let id = server.create_session("uneven");
    let log = format!("/sessions/{id}/log");

    // Per batch: (writer, batch, size, cursor answered).
    let answered: Vec<(u64, u64, u64, u64)> = in_parallel(UNEVEN_WRITERS, |writer| {
        let writer = writer as u64;
        (0..UNEVEN_BATCHES)
            .map(|batch| {
                let size = uneven_size(writer, batch);
                let entries: Vec<Value> =
                    (0..size).map(|k| uneven_entry(writer, batch, k)).collect();
                let response = server.post_json(&log, &json!({"entries": entries}));
                assert_eq!(response.status, 200, "{}", response.text());
                let answer = response.json();
                assert_eq!(answer["appended"], size);
                (writer, batch, size, answer["cursor"].as_u64().unwrap())
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();

    // The answered cursors place each batch at `cursor - size + 1 ..=
    // cursor`; together they cover every seq once.
    let total: u64 = answered.iter().map(|(_, _, size, _)| size).sum();
    let mut owner: Vec<Option<(u64, u64, u64)>> = vec![None; total as usize + 1];
    for &(writer, batch, size, cursor) in &answered {
        for k in 0..size {
            let seq = (cursor + 1 - size + k) as usize;
            assert!(owner[seq].is_none(), "seq {seq} answered to two batches");
            owner[seq] = Some((writer, batch, k));
        }
    }
    assert!(owner[1..].iter().all(Option::is_some), "a seq nobody got");

    let session: Value = server.get(&format!("/sessions/{id}")).json();
    let retained = session["log"]["entries"].as_u64().unwrap();
    assert_eq!(session["log"]["cursor"], total);
    assert_eq!(session["log"]["dropped"], total - retained);
    assert!(retained <= TIGHT_ENTRIES, "{retained} entries kept");
    assert!(retained > 100, "the caps keep the newest entries, not none");

    // What is kept is the newest entries, each exactly as its batch sent it.
    let read = server.get(&format!("{log}?offset=0&limit=10000")).json();
    let entries = read["entries"].as_array().unwrap();
    assert_eq!(entries.len() as u64, retained);
    for (seq, entry) in (total - retained + 1..).zip(entries) {
        assert_eq!(entry["seq"], seq);
        let (writer, batch, k) = owner[seq as usize].unwrap();
        let sent = uneven_entry(writer, batch, k);
        assert_eq!(entry["message"], sent["message"], "seq {seq}");
        assert_eq!(entry["level"], sent["level"], "seq {seq}");
        assert_eq!(entry["data"], sent["data"], "seq {seq}");
        assert_eq!(entry["timestamp"], sent["timestamp"], "seq {seq}");
    }
    // Whatever a store counts besides, an entry costs its text at least.
    let text_bytes: usize = entries
        .iter()
        .map(|entry| {
            let data = &entry["data"];
            entry["message"].as_str().unwrap().len()
                + if data.is_null() {
                    0
                } else {
                    data.to_string().len()
                }
        })
        .sum();
    assert!(text_bytes as u64 <= TIGHT_BYTES, "{text_bytes} bytes kept");
}

const EVICTING_CAP: u64 = 500;
const EVICTING_LINES: u64 = 20_000;

/// The entries of one read, checked to be contiguous and each the line its
/// `seq` names (the only writer writes line `seq` as entry `seq`); the
/// read's `cursor` is its last seq.
fn contiguous_lines(read: &Value) -> Vec<u64> {
    let entries = read["entries"].as_array().unwrap();
    let seqs: Vec<u64> = entries
        .iter()
        .map(|entry| {
            let seq = entry["seq"].as_u64().unwrap();
            assert_eq!(entry["message"], format!("line {seq}"), "{read}");
            seq
        })
        .collect();
    for pair in seqs.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "a read with a gap: {read}");
    }
    if let Some(last) = seqs.last() {
        assert_eq!(read["cursor"], *last, "{read}");
    }
    seqs
}

/// Tails and cursor reads while one writer pushes the log through its cap
/// forty times over: every read is one consistent cut of the log (its
/// entries, `total`, `dropped` and `cursor` agree, whatever was evicted
/// between them), a tail is the newest entries, and a cursor from past the
/// end resets to the oldest.
#[test]
fn tails_and_cursor_reads_are_consistent_while_the_log_evicts() {
    let cap = EVICTING_CAP.to_string();
    let server = Server::start_with(&["--max-log-entries", &cap]);
    let id = server.create_session("evicting");
    let log = format!("/sessions/{id}/log");
    let written = AtomicU64::new(0);

    std::thread::scope(|scope| {
        scope.spawn(|| {
            for batch in 0..EVICTING_LINES / 100 {
                let body: String = (1..=100)
                    .map(|k| format!("line {}\n", batch * 100 + k))
                    .collect();
                assert_eq!(server.post_text(&log, &body).status, 200);
                written.store((batch + 1) * 100, Ordering::Release);
            }
        });
        let readers: Vec<_> = (0..4u64)
            .map(|reader| {
                let (server, log, written) = (&server, &log, &written);
                scope.spawn(move || {
                    // Each reader reads until the writer is done, and at
                    // least fifty times.
                    for reads in 1.. {
                        let before = written.load(Ordering::Acquire);
                        if before == EVICTING_LINES && reads > 50 {
                            return;
                        }
                        match reads % 3 {
                            0 => {
                                let read = server.get(&format!("{log}?tail=50")).json();
                                let seqs = contiguous_lines(&read);
                                let total = read["total"].as_u64().unwrap();
                                assert_eq!(seqs.len() as u64, total.min(50), "{read}");
                                assert!(total <= EVICTING_CAP, "{read}");
                                assert!(seqs.last().copied().unwrap_or(0) >= before, "{read}");
                            }
                            1 => {
                                let cursor = before.saturating_sub(reader * 300);
                                let read = server
                                    .get(&format!("{log}?cursor={cursor}&limit=200"))
                                    .json();
                                assert_eq!(read["reset"], false, "{read}");
                                let seqs = contiguous_lines(&read);
                                let dropped = read["dropped"].as_u64().unwrap();
                                if let Some(first) = seqs.first() {
                                    assert_eq!(*first, cursor + dropped + 1, "{read}");
                                }
                                assert!(seqs.len() <= 200);
                            }
                            _ => {
                                // Past the end: far past, or just past.
                                let cursor = if reads % 2 == 0 {
                                    u64::MAX / 2
                                } else {
                                    before + 1_000_000
                                };
                                let read = server
                                    .get(&format!("{log}?cursor={cursor}&limit=10"))
                                    .json();
                                assert_eq!(read["reset"], true, "{read}");
                                let seqs = contiguous_lines(&read);
                                let total = read["total"].as_u64().unwrap();
                                assert_eq!(seqs.len() as u64, total.min(10), "{read}");
                                if let Some(oldest) = seqs.first() {
                                    assert!(oldest + EVICTING_CAP > before, "{read}");
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        for reader in readers {
            reader.join().unwrap();
        }
    });
    let tail = server.get(&format!("{log}?tail=5")).json();
    let expected: Vec<u64> = (EVICTING_LINES - 4..=EVICTING_LINES).collect();
    assert_eq!(contiguous_lines(&tail), expected);
    assert_eq!(tail["total"], EVICTING_CAP);
}
