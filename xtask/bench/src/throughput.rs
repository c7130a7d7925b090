//! Request throughput against the references: reading a session (vs nginx
//! serving the same bytes), appending single entries and batches (vs Redis
//! streams), and reading logs by cursor, with the long-poll wake-up delay.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::http::{append_lines, expect_ok, request};
use crate::reference::{Scratch, nginx, redis, redis_benchmark};
use crate::report::{Report, percentile};
use crate::rounds::alternate;
use crate::server::Server;
use crate::wrk;

/// A 60-byte log message.
pub(crate) const MESSAGE: &str = "build step 42 of 97: compiled Engine/Source/Core.cpp in 12ms";
pub(crate) const WORKERS: &str = "2";

/// Sessions that spread appends go over, and how many a node knows when
/// it knows many.
pub(crate) const SPREAD_SESSIONS: usize = 64;
pub(crate) const MANY_SESSIONS: usize = 9_000;

/// Creates `count` sessions on the node at `port` (at least
/// [`SPREAD_SESSIONS`]), and writes a wrk script that spreads single
/// appends over the first [`SPREAD_SESSIONS`] of them; the others are
/// there to be known.
pub(crate) fn spread_appends_script(
    scratch: &Path,
    name: &str,
    port: u16,
    count: usize,
) -> anyhow::Result<std::path::PathBuf> {
    let paths = (0..SPREAD_SESSIONS)
        .map(|_| Ok(format!("/sessions/{}/log", session(port)?)))
        .collect::<anyhow::Result<Vec<String>>>()?;
    for _ in SPREAD_SESSIONS..count {
        session(port)?;
    }
    let body = json!({"message": MESSAGE}).to_string();
    wrk::post_rotating_script(scratch, name, &paths, "application/json", &body)
}

/// Single appends a second from 64 connections running `script` (see
/// [`spread_appends_script`]) against the node at `port` for 8 s.
pub(crate) fn spread_appends(port: u16, script: &Path) -> anyhow::Result<f64> {
    let url = format!("http://127.0.0.1:{port}/");
    Ok(wrk::run(&url, 64, Duration::from_secs(8), Some(script))?.requests_per_second)
}

/// A session like an editor's, with a job and metadata; its id.
pub(crate) fn session(port: u16) -> anyhow::Result<String> {
    let body = json!({"appname": "UnrealEditor", "mode": "interactive", "jobid": "job-4711",
        "metadata": {"project": "Lyra", "branch": "main", "platform": "Win64", "pid": 4242}});
    let created: Value =
        serde_json::from_slice(&expect_ok(port, "POST", "/sessions/", &body.to_string())?)?;
    Ok(created["id"].as_str().context("no id")?.to_owned())
}

/// `GET /sessions/{id}` vs nginx serving the same JSON as a static file,
/// both with two workers, wrk with 64 connections for 15 s.
pub(crate) fn session_read(binary: &Path, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("session read: wrk -c64 -d15s, zenserver vs nginx");
    let zen = Server::start(binary, &["--workers", WORKERS])?;
    let id = session(zen.port)?;
    let (_, bytes) = request(zen.port, "GET", &format!("/sessions/{id}"), "")?;
    let web = nginx(2, &[("session.json", &bytes)])?;
    let duration = Duration::from_secs(15);
    let zen_url = format!("http://127.0.0.1:{}/sessions/{id}", zen.port);
    let nginx_url = format!("http://127.0.0.1:{}/session.json", web.port);
    let (ours, theirs) = alternate(
        || Ok(wrk::run(&zen_url, 64, duration, None)?.requests_per_second),
        || Ok(wrk::run(&nginx_url, 64, duration, None)?.requests_per_second),
    )?;
    report.compare("session read", "requests/s", ours, "nginx", theirs);
    Ok(())
}

/// One 60-byte entry per request: JSON POST (wrk, 64 connections) vs
/// unpipelined `XADD ... MAXLEN ~ 10000` with 64 clients.
pub(crate) fn single_append(binary: &Path, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("single-entry append: wrk -c64 vs redis-benchmark -c 64 XADD");
    let scratch = Scratch::new("append")?;
    let zen = Server::start(binary, &["--workers", WORKERS])?;
    let id = session(zen.port)?;
    let script = wrk::post_script(
        &scratch.0,
        "single",
        "application/json",
        &json!({"message": MESSAGE}).to_string(),
    )?;
    let redis = redis()?;
    let url = format!("http://127.0.0.1:{}/sessions/{id}/log", zen.port);
    let (ours, theirs) = alternate(
        || Ok(wrk::run(&url, 64, Duration::from_secs(10), Some(&script))?.requests_per_second),
        || {
            redis_benchmark(
                redis.port,
                &[
                    "-c", "64", "-n", "600000", "XADD", "bench", "MAXLEN", "~", "10000", "*",
                    "message", MESSAGE,
                ],
            )
        },
    )?;
    report.compare(
        "single-entry append",
        "entries/s",
        ours,
        "Redis XADD",
        theirs,
    );
    drop(zen);
    full_budget(binary, &scratch.0, report)
}

/// Single appends spread over 64 of 9,000 sessions on a node whose log
/// budget they keep full vs one whose budget they never reach: a full
/// budget must not make every append look at every session (it did, when
/// the logs were only trimmed back to the line).
fn full_budget(binary: &Path, scratch: &Path, report: &mut Report) -> anyhow::Result<()> {
    eprintln!(
        "single-entry append over {SPREAD_SESSIONS} of {MANY_SESSIONS} sessions, log budget full vs not"
    );
    let full = Server::start(
        binary,
        &["--workers", WORKERS, "--max-log-memory", "512KiB"],
    )?;
    let roomy = Server::start(binary, &["--workers", WORKERS])?;
    let full_script = spread_appends_script(scratch, "full", full.port, MANY_SESSIONS)?;
    let roomy_script = spread_appends_script(scratch, "roomy", roomy.port, MANY_SESSIONS)?;
    let (with_full, with_room) = alternate(
        || spread_appends(full.port, &full_script),
        || spread_appends(roomy.port, &roomy_script),
    )?;
    report.compare(
        "single-entry append, 9,000 sessions, log budget full",
        "entries/s",
        with_full,
        "budget not reached",
        with_room,
    );
    Ok(())
}

/// 1,000 entries per request, JSON and text separately (wrk, 16
/// connections) vs XADD pipelined 32 deep with 16 clients.
pub(crate) fn batched_append(binary: &Path, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("batched append: 1,000 entries a request vs redis-benchmark -P 32 XADD");
    let scratch = Scratch::new("batch")?;
    let zen = Server::start(binary, &["--workers", WORKERS])?;
    let id = session(zen.port)?;
    let entries: Vec<Value> = (0..1_000).map(|_| json!({"message": MESSAGE})).collect();
    let json_script = wrk::post_script(
        &scratch.0,
        "json",
        "application/json",
        &json!({"entries": entries}).to_string(),
    )?;
    let text: String = (0..1_000).map(|_| format!("{MESSAGE}\n")).collect();
    let text_script = wrk::post_script(&scratch.0, "text", "text/plain", &text)?;
    let redis = redis()?;
    let url = format!("http://127.0.0.1:{}/sessions/{id}/log", zen.port);
    let xadd_pipelined = || {
        redis_benchmark(
            redis.port,
            &[
                "-c", "16", "-P", "32", "-n", "3000000", "XADD", "bench", "MAXLEN", "~", "10000",
                "*", "message", MESSAGE,
            ],
        )
    };
    let duration = Duration::from_secs(8);
    let (json_rate, theirs) = alternate(
        || Ok(wrk::run(&url, 16, duration, Some(&json_script))?.requests_per_second * 1_000.0),
        xadd_pipelined,
    )?;
    report.compare(
        "batched append, JSON",
        "entries/s",
        json_rate,
        "Redis XADD -P 32",
        theirs,
    );
    let (text_rate, theirs) = alternate(
        || Ok(wrk::run(&url, 16, duration, Some(&text_script))?.requests_per_second * 1_000.0),
        xadd_pipelined,
    )?;
    report.compare(
        "batched append, text",
        "entries/s",
        text_rate,
        "Redis XADD -P 32",
        theirs,
    );
    Ok(())
}

/// Cursor reads of 1,000 entries each (wrk, 16 connections), and how long a
/// long poll takes to answer once an entry is appended.
pub(crate) fn log_read(binary: &Path, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("log read: cursor reads of 1,000 entries; long-poll wake-up");
    let zen = Server::start(binary, &["--workers", WORKERS])?;
    let id = session(zen.port)?;
    reads_and_wake_ups(
        report,
        "log read",
        "long-poll wake-up p50 / p99",
        (zen.port, zen.port),
        &id,
    )?;
    Ok(())
}

/// Fills session `id` with 10,000 entries through `append_port`, then
/// reports under `case` the rate of cursor reads of 1,000 entries there,
/// and as `wake_up_metric` how long a long poll waiting on `poll_port`
/// takes to answer an append through `append_port` (the same server, or
/// another node of one deployment).
pub(crate) fn reads_and_wake_ups(
    report: &mut Report,
    case: &str,
    wake_up_metric: &str,
    (append_port, poll_port): (u16, u16),
    id: &str,
) -> anyhow::Result<()> {
    let lines: String = (0..10_000).map(|i| format!("{i} {MESSAGE}\n")).collect();
    append_lines(append_port, id, &lines)?;
    let url = format!("http://127.0.0.1:{append_port}/sessions/{id}/log?cursor=0&limit=1000");
    let mut rates = Vec::new();
    for _ in 0..crate::rounds::ROUNDS {
        rates.push(wrk::run(&url, 16, Duration::from_secs(8), None)?.requests_per_second * 1_000.0);
    }
    let rate = crate::rounds::median(&rates);
    report.add(
        case,
        "cursor reads, 1,000 entries each",
        json!(rate),
        format!("{rate:.0} entries/s"),
    );

    let mut delays = long_poll_delays(append_port, poll_port, id, 10_000)?;
    delays.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&delays, 50.0), percentile(&delays, 99.0));
    report.add(
        case,
        wake_up_metric,
        json!([p50, p99]),
        format!("{p50:.2} ms / {p99:.2} ms"),
    );
    Ok(())
}

/// 200 long polls on `poll_port` for session `id`, each woken by an append
/// through `append_port` (the same server, or another node); how long each
/// took to answer after its append, in milliseconds. The log holds
/// `entries` entries at the start.
fn long_poll_delays(
    append_port: u16,
    poll_port: u16,
    id: &str,
    entries: u64,
) -> anyhow::Result<Vec<f64>> {
    let mut delays = Vec::new();
    for (sample, cursor) in (0..200u64).zip(entries..) {
        let poller = {
            let id = id.to_owned();
            std::thread::spawn(move || -> anyhow::Result<Instant> {
                let (status, _) = request(
                    poll_port,
                    "GET",
                    &format!("/sessions/{id}/log?cursor={cursor}&wait=10"),
                    "",
                )?;
                anyhow::ensure!(status == 200, "long poll answered {status}");
                Ok(Instant::now())
            })
        };
        // Give the poll time to be waiting; vary it so timing does not line up.
        std::thread::sleep(Duration::from_millis(5 + sample % 7));
        let appended = Instant::now();
        append_lines(append_port, id, "wake\n")?;
        let answered = poller
            .join()
            .map_err(|_| anyhow::anyhow!("the poller panicked"))??;
        delays.push(answered.saturating_duration_since(appended).as_secs_f64() * 1e3);
    }
    Ok(delays)
}
