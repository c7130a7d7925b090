//! WebSocket fan-out: 1,000 sessions, N watchers, one change every 500 ms
//! for 30 s. Measures the delay from a change to its delivery at every
//! watcher, the server's CPU time per push and its memory.
//!
//! The changed session is the newest, so it comes first in every list and a
//! watcher finds the change in the first bytes of a message: the watchers
//! (threads reading raw frames, on the same two cores as the server) then
//! cost little more than reading their sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::http::expect_ok;
use crate::report::{Report, percentile};
use crate::server::Server;

const SESSIONS: usize = 1_000;
const CHANGES: u64 = 60;
const CHANGE_INTERVAL: Duration = Duration::from_millis(500);

pub(crate) fn run(binary: &Path, report: &mut Report) -> anyhow::Result<()> {
    // Browsers ask for permessage-deflate; the plain run shows what it saves.
    for (watchers, deflate) in [(100, true), (1_000, true), (1_000, false)] {
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
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    let mut writer = stream.try_clone()?;
    let offer = if deflate {
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    } else {
        ""
    };
    write!(
        writer,
        "GET /sessions/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    )?;
    let mut reader = BufReader::with_capacity(64 << 10, stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if !line.starts_with("HTTP/1.1 101") {
        bail!("upgrade refused: {line}");
    }
    while {
        line.clear();
        reader.read_line(&mut line)?;
        line != "\r\n"
    } {}
    connected.fetch_add(1, Ordering::AcqRel);

    let mut watched = Watched {
        deliveries: Vec::new(),
        message_bytes: 0,
    };
    let mut head = vec![0u8; 256];
    let mut payload_start = vec![0u8; 4 << 10];
    let mut scratch = vec![0u8; 64 << 10];
    loop {
        let mut frame = [0u8; 2];
        if reader.read_exact(&mut frame).is_err() {
            return Ok(watched);
        }
        let opcode = frame[0] & 0x0f;
        let len = match frame[1] & 0x7f {
            126 => {
                let mut bytes = [0u8; 2];
                reader.read_exact(&mut bytes)?;
                u16::from_be_bytes(bytes) as usize
            }
            127 => {
                let mut bytes = [0u8; 8];
                reader.read_exact(&mut bytes)?;
                u64::from_be_bytes(bytes) as usize
            }
            short => short as usize,
        };
        let start_len = len.min(payload_start.len());
        reader.read_exact(&mut payload_start[..start_len])?;
        let mut rest = len - start_len;
        while rest > 0 {
            let chunk = rest.min(scratch.len());
            reader.read_exact(&mut scratch[..chunk])?;
            rest -= chunk;
        }
        if opcode == 1 {
            let arrived = Instant::now();
            watched.message_bytes = watched.message_bytes.max(len);
            let compressed = frame[0] & 0x40 != 0;
            let head_len = if compressed {
                // Inflate only as much as it takes to see the first session.
                let mut inflater = flate2::Decompress::new(false);
                let _ = inflater.decompress(
                    &payload_start[..start_len],
                    &mut head,
                    flate2::FlushDecompress::None,
                );
                inflater.total_out() as usize
            } else {
                let head_len = start_len.min(head.len());
                head[..head_len].copy_from_slice(&payload_start[..head_len]);
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
        } else if opcode == 8 {
            return Ok(watched);
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
