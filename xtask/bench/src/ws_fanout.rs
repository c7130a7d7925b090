//! WebSocket fan-out: 1,000 sessions, N watchers, one change every 500 ms
//! for 30 s. Measures the delay from a change to its delivery at every
//! watcher, the server's CPU time per push and its memory.
//!
//! The changed session is the newest, so it comes first in every list and a
//! watcher finds the change in the first bytes of a message: the watchers
//! (threads reading raw frames, on the same two cores as the server) then
//! cost little more than reading their sockets.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::http::expect_ok;
use crate::report::{Report, percentile};
use crate::server::Server;
use crate::ws::Watcher;

const SESSIONS: usize = 1_000;
const CHANGES: u64 = 60;
const CHANGE_INTERVAL: Duration = Duration::from_millis(500);

pub(crate) fn run(binary: &Path, report: &mut Report) -> anyhow::Result<()> {
    // Browsers ask for permessage-deflate; the plain run shows what it saves.
    for (watchers, deflate) in [(100, true), (1_000, true)] {
        run_with(binary, watchers, deflate, report)?;
    }
    Ok(())
}

/// What one watcher saw.
struct Watched {
    /// Each change it saw, with when its message had arrived in full.
    deliveries: Vec<(u64, Instant)>,
    message_bytes: usize,
}

fn run_with(
    binary: &Path,
    watchers: usize,
    deflate: bool,
    report: &mut Report,
) -> anyhow::Result<()> {
    let case = format!(
        "ws-fanout/{watchers}{}",
        if deflate { "" } else { "/plain" }
    );
    eprintln!("{case}: {SESSIONS} sessions, {watchers} watchers, a change every 500 ms for 30 s");
    let server = Server::start(binary, &["--max-active-sessions", "2000"])?;
    let port = server.port;
    for i in 0..SESSIONS - 1 {
        let body = json!({"appname": format!("agent-{i}"), "mode": "build", "jobid": format!("job-{i}"),
            "metadata": {"host": "build-07", "branch": "main"}});
        expect_ok(port, "POST", "/sessions/", &body.to_string())?;
    }
    let target: serde_json::Value = serde_json::from_slice(&expect_ok(
        port,
        "POST",
        "/sessions/",
        &json!({"appname": "bench-target", "mode": "build"}).to_string(),
    )?)?;
    let target = target["id"].as_str().context("no id")?.to_owned();

    let connected = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..watchers)
        .map(|_| {
            let connected = Arc::clone(&connected);
            std::thread::Builder::new()
                .stack_size(128 << 10)
                .spawn(move || watch(port, deflate, &connected))
        })
        .collect::<Result<_, _>>()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while connected.load(Ordering::Acquire) < watchers {
        if Instant::now() > deadline {
            bail!(
                "only {} watchers connected",
                connected.load(Ordering::Acquire)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the first lists go out before measuring.
    std::thread::sleep(Duration::from_secs(2));

    let cpu_before = server.cpu_time()?;
    let start = Instant::now();
    let mut sent = Vec::with_capacity(CHANGES as usize);
    for tick in 1..=CHANGES {
        let at = start + CHANGE_INTERVAL * tick as u32;
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        sent.push(Instant::now());
        let patch = json!({"metadata": {"tick": tick}}).to_string();
        expect_ok(port, "PUT", &format!("/sessions/{target}"), &patch)?;
    }
    std::thread::sleep(Duration::from_millis(1_500));
    let cpu = server.cpu_time()? - cpu_before;
    let (rss, peak_rss) = server.memory()?;
    drop(server);

    let mut delays = Vec::new();
    let mut message_bytes = 0;
    for thread in threads {
        let watched = thread
            .join()
            .map_err(|_| anyhow::anyhow!("a watcher panicked"))??;
        message_bytes = message_bytes.max(watched.message_bytes);
        for (tick, arrived) in watched.deliveries {
            let changed = sent[(tick - 1) as usize];
            delays.push(arrived.saturating_duration_since(changed).as_secs_f64() * 1e3);
        }
    }
    delays.sort_by(f64::total_cmp);
    let expected = watchers as f64 * CHANGES as f64;
    let per_push = cpu.as_secs_f64() * 1e3 / CHANGES as f64;
    let bytes_per_push = (message_bytes * watchers) as f64;
    report.add(
        &case,
        "delay p50",
        json!(percentile(&delays, 50.0)),
        format!("{:.1} ms", percentile(&delays, 50.0)),
    );
    report.add(
        &case,
        "delay p99",
        json!(percentile(&delays, 99.0)),
        format!("{:.1} ms", percentile(&delays, 99.0)),
    );
    report.add(
        &case,
        "changes delivered",
        json!(delays.len() as f64 / expected),
        format!("{:.1} %", 100.0 * delays.len() as f64 / expected),
    );
    report.add(
        &case,
        "message size",
        json!(message_bytes),
        format!("{:.0} KB", message_bytes as f64 / 1e3),
    );
    report.add(
        &case,
        "server CPU per push",
        json!(per_push),
        format!("{per_push:.1} ms"),
    );
    report.add(
        &case,
        "server CPU per MB written",
        json!(per_push / (bytes_per_push / 1e6)),
        format!("{:.2} ms", per_push / (bytes_per_push / 1e6)),
    );
    report.add(
        &case,
        "server RSS",
        json!(rss),
        format!(
            "{:.1} MB (peak {:.1} MB)",
            rss as f64 / 1e6,
            peak_rss as f64 / 1e6
        ),
    );
    Ok(())
}

/// Connects, then reads frames until the server goes away.
fn watch(port: u16, deflate: bool, connected: &AtomicUsize) -> anyhow::Result<Watched> {
    let mut watcher = Watcher::connect(port, deflate)?;
    connected.fetch_add(1, Ordering::AcqRel);
    let mut watched = Watched {
        deliveries: Vec::new(),
        message_bytes: 0,
    };
    let mut head = vec![0u8; 256];
    loop {
        let Ok(frame) = watcher.next_frame() else {
            return Ok(watched);
        };
        if frame.is_close() {
            return Ok(watched);
        }
        if !frame.is_text() {
            continue;
        }
        let arrived = Instant::now();
        watched.message_bytes = watched.message_bytes.max(frame.len);
        let head_len = if frame.is_compressed() {
            // Inflate only as much as it takes to see the first session.
            let mut inflater = flate2::Decompress::new(false);
            let _ = inflater.decompress(frame.start, &mut head, flate2::FlushDecompress::None);
            inflater.total_out() as usize
        } else {
            let head_len = frame.start.len().min(head.len());
            head[..head_len].copy_from_slice(&frame.start[..head_len]);
            head_len
        };
        if let Some(tick) = find_tick(&head[..head_len])
            && watched
                .deliveries
                .last()
                .is_none_or(|(last, _)| *last != tick)
        {
            watched.deliveries.push((tick, arrived));
        }
    }
}

/// The `"tick":N` of the changed session's metadata, near the start.
fn find_tick(head: &[u8]) -> Option<u64> {
    let marker = b"\"tick\":";
    let at = head.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let digits: Vec<u8> = head[at..]
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}
