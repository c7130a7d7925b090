//! Memory per retained entry: 1,000 sessions × 10,000 entries of 60-byte
//! messages in zenserver, against the same in 1,000 Redis streams.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::http::{append_lines, expect_ok};
use crate::reference::{redis, redis_benchmark, redis_cli};
use crate::report::Report;
use crate::server::{Server, proc_status_bytes};
use crate::throughput::MESSAGE;

const SESSIONS: usize = 1_000;
const ENTRIES: usize = 10_000;

fn rss(pid: u32) -> anyhow::Result<u64> {
    proc_status_bytes(pid, "VmRSS:")
}

pub(crate) fn run(binary: &Path, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("memory: {SESSIONS} sessions × {ENTRIES} entries, zenserver vs Redis streams");
    let zen = Server::start(binary, &[])?;
    let ids: Vec<String> = (0..SESSIONS)
        .map(|i| {
            let body = json!({"appname": format!("agent-{i}"), "mode": "build"}).to_string();
            let created: serde_json::Value =
                serde_json::from_slice(&expect_ok(zen.port, "POST", "/sessions/", &body)?)?;
            Ok(created["id"].as_str().context("no id")?.to_owned())
        })
        .collect::<anyhow::Result<_>>()?;
    std::thread::sleep(Duration::from_millis(500));
    let before = zen.memory()?.0;
    let lines: String = (0..ENTRIES).map(|_| format!("{MESSAGE}\n")).collect();
    for id in &ids {
        append_lines(zen.port, id, &lines)?;
    }
    std::thread::sleep(Duration::from_millis(500));
    let ours = (zen.memory()?.0 - before) as f64 / (SESSIONS * ENTRIES) as f64;
    drop(zen);

    let redis = redis()?;
    let before = rss(redis.pid())?;
    let total = (SESSIONS * ENTRIES).to_string();
    let keys = SESSIONS.to_string();
    redis_benchmark(
        redis.port,
        &[
            "-c",
            "16",
            "-P",
            "64",
            "-r",
            &keys,
            "-n",
            &total,
            "XADD",
            "stream:__rand_int__",
            "*",
            "message",
            MESSAGE,
        ],
    )?;
    let entries: f64 = redis_cli(
        redis.port,
        &["EVAL", "local n = 0 for _, k in ipairs(redis.call('KEYS', 'stream:*')) do n = n + redis.call('XLEN', k) end return n", "0"],
    )?
    .parse()?;
    let theirs = (rss(redis.pid())? - before) as f64 / entries;
    report.compare_lower_is_better(
        "memory per entry",
        "bytes",
        ours,
        "Redis stream entry",
        theirs,
    );
    Ok(())
}
