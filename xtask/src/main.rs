//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo
//! does.
//!
//! - `cargo xtask test`: everything CI checks: formatting, clippy with
//!   warnings denied, every test, the API conformance run, the server's
//!   suite and conformance run again on Redis, the OpenTelemetry
//!   SDK interop run, the browser tests and a smoke test of the release
//!   tarball.
//! - `cargo xtask dist`: a release tarball of the server with its checksum.
//! - `cargo xtask e2e`, `conformance`, `redis`, `interop`, `fuzz`, `bench`, `soak`:
//!   one part of that, or the longer runs CI leaves out (see `USAGE`).
//!
//! It only drives other programs (cargo, rustup, tar, sha256sum, node,
//! python3, redis-server); it must never grow dependencies of its own, so it stays quick to
//! build on a fresh machine.

mod conformance;
mod dist;
mod e2e;
mod fuzz;
mod install;
mod interop;
mod redis_pass;
mod run;
mod server;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test    formatting, clippy (-D warnings), all tests, the server's suite
          again on a Redis and a Redis Cluster (installs redis-server), the
          browser tests and a smoke test of the dist archive, as CI runs them
  dist    build target/dist/zenserver-<version>-<target>.tar.gz and its .sha256
          (--smoke: then unpack it, start the binary and fetch a page)
  e2e     browser tests of the dashboard (headless Chromium, xtask/e2e/*.test.mjs;
          files may be named: `cargo xtask e2e log`); screenshots go to
          target/e2e/
  conformance [N]
          schemathesis against docs/openapi.yaml and the running binary,
          N examples per operation (default 100; cargo xtask test runs 25)
  redis   the Redis pass of `test` alone: the suites of the server, zen
          and the client on a Redis and a Redis Cluster on loopback ports,
          conformance and the browser tests of sessions, logs and live
          updates on Redis
  interop OpenTelemetry SDKs (Python: protobuf; Node.js: JSON, gzip) log into
          the running binary over OTLP/HTTP, and their sessions are checked;
          installs the pinned SDKs into target/interop-venv and xtask/interop/node/
  fuzz [SECONDS]
          every fuzz target for SECONDS (default 30) with cargo-fuzz on the
          nightly toolchain; installs cargo-fuzz when missing
  soak [--minutes N]
          a mixed load on the release binary for N minutes (default 1),
          checking every follower's seqs; prints RSS at start and end
  bench   load benchmarks against the release binary on loopback; prints a
          table and writes target/bench/report.json (cases may be named)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("dist") if args.get(1).is_some_and(|arg| arg == "--smoke") => dist::smoke_test(),
        Some("dist") => dist::dist(),
        Some("e2e") => e2e::e2e_selected(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("soak") => {
            // `--minutes N` is passed on; the case name is added.
            let mut soak_args = vec!["soak".to_owned()];
            soak_args.extend(args[1..].iter().cloned());
            bench(&soak_args)
        }
        Some("fuzz") => number_argument(args.get(1), 30).and_then(fuzz::fuzz),
        Some("interop") => interop::interop(),
        Some("redis") => redis_pass::redis_pass(),
        Some("conformance") => number_argument(args.get(1), 100).and_then(conformance::conformance),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What CI runs: cheap checks first so a formatting slip fails in seconds.
fn test() -> Result<(), String> {
    // The README test runs the curl walk-through.
    install::ensure(&[install::Tool {
        program: "curl",
        package: "curl",
    }])?;
    run::cargo(&["fmt", "--all", "--check"])?;
    run::cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    if run::cargo_quiet(&["nextest", "--version"]) {
        run::cargo(&[
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ])?;
        run::cargo(&["test", "--workspace", "--locked", "--doc"])?;
    } else {
        run::cargo(&["test", "--workspace", "--locked", "--no-fail-fast"])?;
    }
    conformance::conformance(25)?;
    interop::interop()?;
    e2e::e2e()?;
    redis_pass::redis_pass()?;
    dist::smoke_test()
}

/// Builds the server, `zen` and the benchmark driver in release mode and
/// runs the driver, after installing the references it measures against
/// (nginx, Redis) and the load generator, which a fresh machine lacks.
fn bench(cases: &[String]) -> Result<(), String> {
    install::ensure(&[
        install::Tool {
            program: "/usr/sbin/nginx",
            package: "nginx",
        },
        install::Tool {
            program: "redis-benchmark",
            package: "redis-server",
        },
        install::Tool {
            program: "/usr/bin/wrk",
            package: "wrk",
        },
    ])?;
    run::cargo(&[
        "build",
        "--release",
        "--locked",
        "--package",
        "zenserver",
        "--package",
        "zenserver-bench",
        // The zen-run case runs `zen` from beside the server.
        "--package",
        "zen",
    ])?;
    let mut args = vec![
        "--server".to_owned(),
        "target/release/zenserver".to_owned(),
        "--out".to_owned(),
        "target/bench".to_owned(),
    ];
    args.extend(cases.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run::program("target/release/zenserver-bench", &args)
}

/// An optional numeric argument: `default` when absent, an error when it is
/// not a number.
fn number_argument<T: std::str::FromStr>(arg: Option<&String>, default: T) -> Result<T, String> {
    match arg {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| format!("`{text}` is not a number\n\n{USAGE}")),
    }
}

/// The workspace root: xtask lives one level below it.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
