//! `zenserver-bench`: load benchmarks against a real zenserver binary on
//! loopback. `cargo xtask bench` builds both in release mode and runs this.
//!
//! Every case starts its own server on a free loopback port, stops it when it
//! is done, and is bounded in time. Results are printed as a table and written
//! as JSON under `target/bench/`.
//!
//! Usage: `zenserver-bench --server PATH [--out DIR] [--minutes N] [CASE...]`;
//! cases: `session-read`, `single-append`, `batched-append`, `otlp-export`,
//! `log-read`,
//! `memory`, `ws-fanout`, `zen-run`, `redis-store` (all of these by
//! default; `zen-run` runs the `zen` binary found beside the server's,
//! `redis-store` starts a Redis), and `soak` (for `--minutes`, default 1).

mod http;
mod machine;
mod memory;
mod otlp;
mod redis_store;
mod reference;
mod report;
mod rounds;
mod server;
mod soak;
mod throughput;
mod wrk;
mod ws;
mod ws_fanout;
mod zen_run;

/// The cases a plain `cargo xtask bench` runs, in order; `soak` only runs
/// when named.
const DEFAULT_CASES: [&str; 9] = [
    "session-read",
    "single-append",
    "batched-append",
    "otlp-export",
    "log-read",
    "memory",
    "ws-fanout",
    "zen-run",
    "redis-store",
];

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde_json::json;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut server = None;
    let mut out = PathBuf::from("target/bench");
    let mut cases = Vec::new();
    let mut minutes = 1;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => minutes = args.next().context("--minutes needs a number")?.parse()?,
            "--server" => {
                server = Some(PathBuf::from(args.next().context("--server needs a path")?))
            }
            "--out" => out = PathBuf::from(args.next().context("--out needs a directory")?),
            case => cases.push(case.to_owned()),
        }
    }
    let server = server.context("--server PATH is required")?;
    if cases.is_empty() {
        cases.extend(DEFAULT_CASES.iter().map(|case| (*case).to_owned()));
    }
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut report = report::Report::default();
    for case in &cases {
        let before = machine::CpuTimes::now();
        match case.as_str() {
            "session-read" => throughput::session_read(&server, &mut report)?,
            "single-append" => throughput::single_append(&server, &mut report)?,
            "batched-append" => throughput::batched_append(&server, &mut report)?,
            "otlp-export" => otlp::run(&server, &mut report)?,
            "log-read" => throughput::log_read(&server, &mut report)?,
            "memory" => memory::run(&server, &mut report)?,
            "ws-fanout" => ws_fanout::run(&server, &mut report)?,
            "zen-run" => zen_run::run(&server, &mut report)?,
            "redis-store" => redis_store::run(&server, &mut report)?,
            "soak" => soak::run(&server, minutes, &mut report)?,
            other => bail!("unknown case `{other}`"),
        }
        if let Some((stolen, idle)) = before
            .zip(machine::CpuTimes::now())
            .and_then(|(before, after)| after.since(&before))
        {
            report.add(
                case,
                "CPU stolen by the host / idle",
                json!({"stolen_percent": stolen, "idle_percent": idle}),
                format!("{stolen:.0} % / {idle:.0} %"),
            );
        }
    }
    report.print();
    report.write(&out.join("report.json"))?;
    Ok(())
}
