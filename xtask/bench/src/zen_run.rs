//! `zen run -- seq 1000000`: a command that writes a million lines as fast
//! as it can, run alone and under `zen run` against a server whose log
//! holds them all. Reports both wall times, how long the command itself ran
//! under zen (`duration_ms`), and how many lines were stored and dropped.
//! Since under zen the command writes into a pipe, its time writing into a
//! pipe that `cat` drains is reported too (no reader of a pipe can do
//! better), and its time writing into a file, which is what keeping the
//! output anywhere at all costs it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::http::expect_ok;
use crate::report::Report;
use crate::server::Server;

const CASE: &str = "zen-run";
const LINES: &str = "1000000";
const ROUNDS: usize = 3;

/// `server` is the release zenserver; `zen` is expected beside it.
pub(crate) fn run(server: &Path, report: &mut Report) -> anyhow::Result<()> {
    let zen = server.with_file_name(format!("zen{}", std::env::consts::EXE_SUFFIX));
    if !zen.exists() {
        bail!("{} is missing: build the zen package too", zen.display());
    }
    eprintln!("{CASE}: seq {LINES}, alone and under zen run, best of {ROUNDS}");
    let alone = best_of(|| wall_time(Command::new("seq").arg(LINES)))?;
    let into_a_pipe = best_of(|| {
        wall_time(
            Command::new("sh")
                .arg("-c")
                .arg(format!("seq {LINES} | cat")),
        )
    })?;
    let output_file = std::env::temp_dir().join(format!("zen-run-bench-{}", std::process::id()));
    let into_a_file = best_of(|| {
        wall_time(
            Command::new("sh")
                .arg("-c")
                .arg(format!("seq {LINES} > \"$0\""))
                .arg(&output_file),
        )
    });
    let _ = std::fs::remove_file(&output_file);
    let into_a_file = into_a_file?;

    let zenserver = Server::start(
        server,
        &["--max-log-entries", "1100000", "--max-log-bytes", "64MiB"],
    )?;
    let url = format!("http://127.0.0.1:{}", zenserver.port);
    let under_zen = best_of(|| {
        wall_time(
            Command::new(&zen)
                .args([
                    "--server", &url, "run", "--app", "bench", "--", "seq", LINES,
                ])
                .env_remove("ZEN_TOKEN"),
        )
    })?;

    let ended: Value = serde_json::from_slice(&expect_ok(
        zenserver.port,
        "GET",
        "/sessions/?status=ended",
        "",
    )?)?;
    let sessions = ended["sessions"].as_array().context("no session list")?;
    let least_stored = sessions
        .iter()
        .filter_map(|session| session["log"]["entries"].as_u64())
        .min()
        .context("no ended session")?;
    let most_dropped = sessions
        .iter()
        .filter_map(|session| session["metadata"]["dropped_lines"].as_u64())
        .max()
        .unwrap_or(0);
    let command_ms = sessions
        .iter()
        .filter_map(|session| session["metadata"]["duration_ms"].as_u64())
        .min()
        .unwrap_or(0);

    let ms = |time: Duration| time.as_secs_f64() * 1_000.0;
    report.add(
        CASE,
        "seq_alone_ms",
        json!(ms(alone)),
        format!("{:.0} ms", ms(alone)),
    );
    report.add(
        CASE,
        "zen_run_ms",
        json!(ms(under_zen)),
        format!(
            "{:.0} ms ({:.1}x seq alone)",
            ms(under_zen),
            ms(under_zen) / ms(alone).max(1.0)
        ),
    );
    report.add(
        CASE,
        "seq_into_a_pipe_ms",
        json!(ms(into_a_pipe)),
        format!("{:.0} ms (seq {LINES} | cat)", ms(into_a_pipe)),
    );
    report.add(
        CASE,
        "seq_into_a_file_ms",
        json!(ms(into_a_file)),
        format!("{:.0} ms (seq {LINES} > file)", ms(into_a_file)),
    );
    report.add(
        CASE,
        "command_under_zen_ms",
        json!(command_ms),
        format!(
            "{command_ms} ms ({:.2}x seq alone, {:.2}x into a pipe, {:.2}x into a file)",
            command_ms as f64 / ms(alone).max(1.0),
            command_ms as f64 / ms(into_a_pipe).max(1.0),
            command_ms as f64 / ms(into_a_file).max(1.0)
        ),
    );
    report.add(
        CASE,
        "stored_lines",
        json!(least_stored),
        format!("{least_stored} of {LINES} (least of {ROUNDS} runs)"),
    );
    report.add(
        CASE,
        "dropped_lines",
        json!(most_dropped),
        format!("{most_dropped} (most of {ROUNDS} runs)"),
    );
    Ok(())
}

/// Runs `command` with its output thrown away, and times it.
fn wall_time(command: &mut Command) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .context("cannot start the command")?;
    let elapsed = started.elapsed();
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(elapsed)
}

fn best_of(mut time: impl FnMut() -> anyhow::Result<Duration>) -> anyhow::Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        best = best.min(time()?);
    }
    Ok(best)
}
