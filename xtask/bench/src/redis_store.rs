//! The Redis store, against Redis itself on the same local server: appends
//! through a node vs bare `XADD`, cursor reads, Redis memory per retained
//! entry vs a bare `XADD` of the same fields, the long-poll wake-up across
//! two nodes, appends among many sessions vs among few, and two nodes vs
//! one. On a two-core machine, Redis, the nodes
//! and the load generator share the cores, so two nodes show the cost of
//! the second, not scaling.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::http::append_lines;
use crate::reference::{Process, Scratch, redis, redis_benchmark, redis_cli};
use crate::report::Report;
use crate::rounds::alternate;
use crate::server::Server;
use crate::throughput::{
    self, MANY_SESSIONS, MESSAGE, SPREAD_SESSIONS, WORKERS, session, spread_appends,
    spread_appends_script,
};
use crate::wrk;

/// Sessions and entries each for the memory measurement.
const MEMORY_SESSIONS: usize = 10;
const MEMORY_ENTRIES: usize = 10_000;

/// A node of the deployment `prefix` on `redis`, with `extra` flags.
fn node(binary: &Path, redis: &Process, prefix: &str, extra: &[&str]) -> anyhow::Result<Server> {
    let store = format!("redis://127.0.0.1:{}", redis.port);
    let mut args = vec![
        "--workers",
        WORKERS,
        "--store",
        &store,
        "--store-prefix",
        prefix,
    ];
    args.extend_from_slice(extra);
    Server::start(binary, &args)
}

pub(crate) fn run(binary: &Path, report: &mut Report) -> anyhow::Result<()> {
    let redis = redis()?;
    appends(binary, &redis, report)?;
    reads_across_nodes(binary, &redis, report)?;
    memory(binary, &redis, report)?;
    large_directory(binary, &redis, report)?;
    two_nodes(binary, &redis, report)
}

/// Single entries (wrk, 64 connections) vs unpipelined XADD with 64
/// clients; 1,000-entry text batches (16 connections) vs XADD pipelined 32
/// deep with 16 clients.
fn appends(binary: &Path, redis: &Process, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("redis store: appends through a node vs redis-benchmark XADD");
    let scratch = Scratch::new("redis-append")?;
    let zen = node(binary, redis, "bench-append", &[])?;
    let id = session(zen.port)?;
    let url = format!("http://127.0.0.1:{}/sessions/{id}/log", zen.port);
    let single = wrk::post_script(
        &scratch.0,
        "single",
        "application/json",
        &json!({"message": MESSAGE}).to_string(),
    )?;
    let (ours, theirs) = alternate(
        || Ok(wrk::run(&url, 64, Duration::from_secs(10), Some(&single))?.requests_per_second),
        || {
            redis_benchmark(
                redis.port,
                &[
                    "-c", "64", "-n", "300000", "XADD", "bench", "MAXLEN", "~", "10000", "*",
                    "message", MESSAGE,
                ],
            )
        },
    )?;
    report.compare(
        "redis store: single-entry append",
        "entries/s",
        ours,
        "Redis XADD",
        theirs,
    );

    let text: String = (0..1_000).map(|_| format!("{MESSAGE}\n")).collect();
    let batch = wrk::post_script(&scratch.0, "batch", "text/plain", &text)?;
    let (ours, theirs) = alternate(
        || Ok(wrk::run(&url, 16, Duration::from_secs(8), Some(&batch))?.requests_per_second * 1e3),
        || {
            redis_benchmark(
                redis.port,
                &[
                    "-c", "16", "-P", "32", "-n", "2000000", "XADD", "bench", "MAXLEN", "~",
                    "10000", "*", "message", MESSAGE,
                ],
            )
        },
    )?;
    report.compare(
        "redis store: 1,000-entry batches",
        "entries/s",
        ours,
        "Redis XADD -P 32",
        theirs,
    );
    Ok(())
}

/// Cursor reads of 1,000 entries through one node, and how long a long
/// poll waiting on node B takes to answer an append through node A.
fn reads_across_nodes(binary: &Path, redis: &Process, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("redis store: cursor reads; long-poll wake-up across two nodes");
    let a = node(binary, redis, "bench-read", &[])?;
    let b = node(binary, redis, "bench-read", &[])?;
    let id = session(a.port)?;
    throughput::reads_and_wake_ups(
        report,
        "redis store: log read",
        "long-poll wake-up across nodes p50 / p99",
        (a.port, b.port),
        &id,
    )?;
    Ok(())
}

/// Redis `used_memory` per retained 60-byte entry, written through a node,
/// vs a bare `XADD` of the same fields with the same ids.
fn memory(binary: &Path, redis: &Process, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("redis store: Redis memory per retained entry vs bare XADD");
    redis_cli(redis.port, &["FLUSHALL"])?;
    let zen = node(
        binary,
        redis,
        "bench-memory",
        &["--max-log-entries", "1000000", "--max-log-bytes", "256MiB"],
    )?;
    let ids: Vec<String> = (0..MEMORY_SESSIONS)
        .map(|_| session(zen.port))
        .collect::<anyhow::Result<_>>()?;
    // Each log's first entry, so the streams exist before measuring.
    for id in &ids {
        append_lines(zen.port, id, &format!("{MESSAGE}\n"))?;
    }
    let before = used_memory(redis)?;
    let lines: String = (1..MEMORY_ENTRIES)
        .map(|_| format!("{MESSAGE}\n"))
        .collect();
    for id in &ids {
        append_lines(zen.port, id, &lines)?;
    }
    let retained = (MEMORY_SESSIONS * (MEMORY_ENTRIES - 1)) as f64;
    let ours = (used_memory(redis)? - before) / retained;
    drop(zen);

    redis_cli(redis.port, &["FLUSHALL"])?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis()
        .to_string();
    let add = |first: usize, count: usize| -> anyhow::Result<()> {
        let script = "for s = 1, tonumber(ARGV[1]) do \
             for i = tonumber(ARGV[2]), tonumber(ARGV[2]) + tonumber(ARGV[3]) - 1 do \
               redis.call('XADD', 'bare:' .. s, '0-' .. i, 't', ARGV[4], 'l', 'info', 'm', ARGV[5]) \
             end end return 1";
        redis_cli(
            redis.port,
            &[
                "EVAL",
                script,
                "0",
                &MEMORY_SESSIONS.to_string(),
                &first.to_string(),
                &count.to_string(),
                &now,
                MESSAGE,
            ],
        )?;
        Ok(())
    };
    add(1, 1)?;
    let before = used_memory(redis)?;
    add(2, MEMORY_ENTRIES - 1)?;
    let theirs = (used_memory(redis)? - before) / retained;
    report.compare_lower_is_better(
        "redis store: Redis memory per entry",
        "bytes",
        ours,
        "bare XADD, same fields",
        theirs,
    );
    Ok(())
}

fn used_memory(redis: &Process) -> anyhow::Result<f64> {
    let info = redis_cli(redis.port, &["INFO", "memory"])?;
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .context("no used_memory in INFO")?
        .trim()
        .parse()
        .context("used_memory is not a number")
}

/// Single-entry appends spread over 64 sessions (wrk, 64 connections),
/// on a node that knows 9,000 sessions vs one that knows only those 64:
/// what an append costs must not grow with the sessions a node knows (it
/// did, when each append counted them all for the log budget).
fn large_directory(binary: &Path, redis: &Process, report: &mut Report) -> anyhow::Result<()> {
    eprintln!(
        "redis store: appends over {SPREAD_SESSIONS} sessions, among {MANY_SESSIONS} vs alone"
    );
    let scratch = Scratch::new("redis-directory")?;
    let large = node(binary, redis, "bench-directory-large", &[])?;
    let small = node(binary, redis, "bench-directory-small", &[])?;
    let large_script = spread_appends_script(&scratch.0, "large", large.port, MANY_SESSIONS)?;
    let small_script = spread_appends_script(&scratch.0, "small", small.port, SPREAD_SESSIONS)?;
    let (among_many, alone) = alternate(
        || spread_appends(large.port, &large_script),
        || spread_appends(small.port, &small_script),
    )?;
    report.compare(
        "redis store: appends over 64 of 9,000 sessions",
        "entries/s",
        among_many,
        "over 64 of 64",
        alone,
    );
    Ok(())
}

/// Single-entry appends with 64 connections on one node, then 32 on each
/// of two nodes of one deployment at once.
fn two_nodes(binary: &Path, redis: &Process, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("redis store: two nodes vs one (on two cores: the overhead, not scaling)");
    let scratch = Scratch::new("redis-nodes")?;
    let a = node(binary, redis, "bench-nodes", &[])?;
    let b = node(binary, redis, "bench-nodes", &[])?;
    let id = session(a.port)?;
    let script = wrk::post_script(
        &scratch.0,
        "single",
        "application/json",
        &json!({"message": MESSAGE}).to_string(),
    )?;
    let url = |port: u16| format!("http://127.0.0.1:{port}/sessions/{id}/log");
    let duration = Duration::from_secs(10);
    let (both, one) = alternate(
        || {
            std::thread::scope(|scope| {
                let on_b = scope.spawn(|| wrk::run(&url(b.port), 32, duration, Some(&script)));
                let on_a = wrk::run(&url(a.port), 32, duration, Some(&script))?;
                let on_b = on_b
                    .join()
                    .map_err(|_| anyhow::anyhow!("wrk on node B panicked"))??;
                Ok(on_a.requests_per_second + on_b.requests_per_second)
            })
        },
        || Ok(wrk::run(&url(a.port), 64, duration, Some(&script))?.requests_per_second),
    )?;
    report.compare("redis store: two nodes", "entries/s", both, "one node", one);
    Ok(())
}
