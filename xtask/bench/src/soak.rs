//! Soak: a mixed load for a set number of minutes (sessions created,
//! updated, patched, appended to and ended; long-poll followers; WebSocket
//! watchers), then checks that every follower saw strictly increasing seqs
//! with every gap counted in `dropped`, and reports RSS at start and end.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

use crate::http::{expect_ok, request};
use crate::report::Report;
use crate::server::Server;
use crate::ws::Watcher;

const WRITERS: usize = 4;
const WATCHERS: usize = 20;

#[derive(Debug, Default)]
struct Counters {
    sessions: AtomicU64,
    entries: AtomicU64,
    followed: AtomicU64,
    follower_entries: AtomicU64,
    follower_dropped: AtomicU64,
    pushes: AtomicU64,
}

pub(crate) fn run(binary: &Path, minutes: u64, report: &mut Report) -> anyhow::Result<()> {
    let minutes = minutes.clamp(1, 240);
    eprintln!("soak: {minutes} min of mixed load");
    // Small logs, so eviction and `dropped` are part of the load.
    let server = Server::start(
        binary,
        &["--max-log-entries", "300", "--max-ended-sessions", "200"],
    )?;
    let port = server.port;
    std::thread::sleep(Duration::from_millis(300));
    let (rss_start, _) = server.memory()?;
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let deadline = Instant::now() + Duration::from_secs(minutes * 60);

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (stop, counters) = (Arc::clone(&stop), Arc::clone(&counters));
        writers.push(std::thread::spawn(move || {
            write_sessions(port, writer, &stop, &counters)
        }));
    }
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let (stop, counters) = (Arc::clone(&stop), Arc::clone(&counters));
        watchers.push(std::thread::spawn(move || watch(port, &stop, &counters)));
    }
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        std::thread::sleep(
            Duration::from_secs(5).min(deadline.saturating_duration_since(Instant::now())),
        );
        samples.push(server.memory()?.0);
    }
    stop.store(true, Ordering::Release);
    for writer in writers {
        writer
            .join()
            .map_err(|_| anyhow::anyhow!("a writer panicked"))??;
    }
    let (rss_end, peak) = server.memory()?;
    // Watchers end when the server goes away.
    drop(server);
    for watcher in watchers {
        watcher
            .join()
            .map_err(|_| anyhow::anyhow!("a watcher panicked"))??;
    }
    let c = &counters;
    let load = |counter: &AtomicU64| counter.load(Ordering::Acquire);
    ensure!(load(&c.followed) > 0, "no log was followed to its end");
    let case = format!("soak/{minutes}min");
    report.add(
        &case,
        "sessions",
        json!(load(&c.sessions)),
        load(&c.sessions).to_string(),
    );
    report.add(
        &case,
        "entries appended",
        json!(load(&c.entries)),
        load(&c.entries).to_string(),
    );
    report.add(
        &case,
        "logs followed",
        json!(load(&c.followed)),
        load(&c.followed).to_string(),
    );
    report.add(
        &case,
        "followers: seen + dropped",
        json!([load(&c.follower_entries), load(&c.follower_dropped)]),
        format!(
            "{} + {} (all accounted for)",
            load(&c.follower_entries),
            load(&c.follower_dropped)
        ),
    );
    report.add(
        &case,
        "WebSocket pushes",
        json!(load(&c.pushes)),
        load(&c.pushes).to_string(),
    );
    report.add(
        &case,
        "RSS start → end",
        json!([rss_start, rss_end, peak]),
        format!(
            "{:.1} MB → {:.1} MB (peak {:.1} MB)",
            mb(rss_start),
            mb(rss_end),
            mb(peak)
        ),
    );
    let last_half = &samples[samples.len() / 2..];
    let drift = last_half.iter().max().copied().unwrap_or(0) as f64
        - last_half.iter().min().copied().unwrap_or(0) as f64;
    report.add(
        &case,
        "RSS drift, second half",
        json!(drift),
        format!("{:.1} MB", drift / 1e6),
    );
    Ok(())
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// One writer: session after session, each created, followed, updated,
/// patched, appended to in batches and ended.
fn write_sessions(
    port: u16,
    writer: usize,
    stop: &AtomicBool,
    counters: &Counters,
) -> anyhow::Result<()> {
    let mut round = 0u64;
    while !stop.load(Ordering::Acquire) {
        round += 1;
        let created: Value = serde_json::from_slice(&expect_ok(
            port,
            "POST",
            "/sessions/",
            &json!({"appname": format!("soak-{writer}"), "mode": "soak", "jobid": format!("round-{round}")}).to_string(),
        )?)?;
        let id = created["id"].as_str().context("no id")?.to_owned();
        counters.sessions.fetch_add(1, Ordering::AcqRel);
        let follower = {
            let id = id.clone();
            std::thread::spawn(move || follow(port, &id))
        };
        expect_ok(
            port,
            "POST",
            &format!("/sessions/{id}"),
            &json!({"mode": "soak-busy"}).to_string(),
        )?;
        for batch in 0..30 {
            let entries: Vec<Value> = (0..100)
                .map(|i| {
                    let level = ["info", "warn", "debug"][i % 3];
                    json!({"message": format!("w{writer} r{round} b{batch} i{i}"), "level": level})
                })
                .collect();
            expect_ok(
                port,
                "POST",
                &format!("/sessions/{id}/log"),
                &json!({"entries": entries}).to_string(),
            )?;
            counters.entries.fetch_add(100, Ordering::AcqRel);
            if batch % 10 == 0 {
                let patch = json!({"metadata": {"batch": batch}}).to_string();
                expect_ok(port, "PUT", &format!("/sessions/{id}"), &patch)?;
            }
        }
        expect_ok(port, "DELETE", &format!("/sessions/{id}"), "")?;
        let (seen, dropped, last) = follower
            .join()
            .map_err(|_| anyhow::anyhow!("a follower panicked"))??;
        ensure!(
            seen + dropped == last,
            "session {id}: saw {seen}, dropped {dropped}, of {last}"
        );
        counters.followed.fetch_add(1, Ordering::AcqRel);
        counters.follower_entries.fetch_add(seen, Ordering::AcqRel);
        counters
            .follower_dropped
            .fetch_add(dropped, Ordering::AcqRel);
    }
    Ok(())
}

/// Follows a log with long polls until the session ended and everything was
/// read; checks that seqs only grow and that every gap was reported.
/// Returns entries seen, entries reported dropped, and the last seq.
fn follow(port: u16, id: &str) -> anyhow::Result<(u64, u64, u64)> {
    let (mut cursor, mut seen, mut dropped) = (0u64, 0u64, 0u64);
    loop {
        let (status, body) = request(
            port,
            "GET",
            &format!("/sessions/{id}/log?cursor={cursor}&wait=2&limit=100"),
            "",
        )?;
        ensure!(status == 200, "follow {id}: {status}");
        let read: Value = serde_json::from_slice(&body)?;
        let gap = read["dropped"].as_u64().context("dropped")?;
        let entries = read["entries"].as_array().context("entries")?;
        for (expected, entry) in (cursor + gap + 1..).zip(entries) {
            let seq = entry["seq"].as_u64().context("seq")?;
            ensure!(
                seq == expected,
                "follow {id}: seq {seq} where {expected} was due, with {gap} dropped"
            );
            seen += 1;
        }
        dropped += gap;
        cursor = read["cursor"].as_u64().context("cursor")?;
        if !read["more"].as_bool().unwrap_or(false) {
            let (_, session) = request(port, "GET", &format!("/sessions/{id}"), "")?;
            let session: Value = serde_json::from_slice(&session)?;
            if session["status"] == "ended" && session["log"]["cursor"].as_u64() == Some(cursor) {
                return Ok((seen, dropped, cursor));
            }
        }
    }
}

/// A WebSocket watcher that counts the lists pushed to it until the server
/// goes away at the end of the run.
fn watch(port: u16, stop: &AtomicBool, counters: &Counters) -> anyhow::Result<()> {
    let mut watcher = Watcher::connect(port, true)?;
    loop {
        match watcher.next_frame() {
            Ok(frame) if frame.is_text() => {
                counters.pushes.fetch_add(1, Ordering::AcqRel);
            }
            Ok(frame) if frame.is_close() => bail!("the server closed a watcher"),
            Ok(_) => {}
            Err(_) if stop.load(Ordering::Acquire) => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}
