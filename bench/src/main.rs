//! `zenserver-bench`: load benchmarks against a real zenserver binary on
//! loopback. `cargo xtask bench` builds both in release mode and runs this.
//!
//! Every case starts its own server on a free loopback port, stops it when it
//! is done, and is bounded in time. Results are printed as a table and written
//! as JSON under `target/bench/`.
//!
//! Usage: `zenserver-bench --server PATH [--out DIR] [--minutes N] [CASE...]`;
//! cases: `ws-fanout` (the default), `soak` (for `--minutes`, default 1).

mod http;
mod report;
mod server;
mod soak;
mod ws;
mod ws_fanout;

use std::path::PathBuf;

use anyhow::{Context, bail};

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
        cases.push("ws-fanout".into());
    }
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut report = report::Report::default();
    for case in &cases {
        match case.as_str() {
            "ws-fanout" => ws_fanout::run(&server, &mut report)?,
            "soak" => soak::run(&server, minutes, &mut report)?,
            other => bail!("unknown case `{other}`"),
        }
    }
    report.print();
    report.write(&out.join("report.json"))?;
    Ok(())
}
