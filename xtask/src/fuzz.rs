//! `cargo xtask fuzz [SECONDS]`: every fuzz target in `fuzz/` for a short
//! while (30 s each unless told otherwise), with cargo-fuzz on the nightly
//! toolchain, installing cargo-fuzz when it is missing. Longer runs are
//! `cargo +nightly fuzz run TARGET` in `fuzz/`; docs/testing.md has the
//! record of them.

use std::process::{Command, Stdio};

use crate::project_root;

const TARGETS: [&str; 6] = [
    "log_json_body",
    "log_text_body",
    "session_body",
    "query_strings",
    "session_id",
    "otlp_body",
];

pub(crate) fn fuzz(seconds: u64) -> Result<(), String> {
    let has_nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !has_nightly {
        return Err(
            "fuzzing needs the nightly toolchain (rustup toolchain install nightly)".into(),
        );
    }
    let has_cargo_fuzz = nightly_cargo(&["fuzz", "--version"], true)?;
    if !has_cargo_fuzz {
        eprintln!("xtask: installing cargo-fuzz");
        if !nightly_cargo(&["install", "cargo-fuzz", "--locked"], false)? {
            return Err("cannot install cargo-fuzz".into());
        }
    }
    for target in TARGETS {
        let time = format!("-max_total_time={seconds}");
        if !nightly_cargo(
            &["fuzz", "run", target, "--", &time, "-rss_limit_mb=2048"],
            false,
        )? {
            return Err(format!(
                "fuzz target {target} found a failure; the input is in fuzz/artifacts/{target}/"
            ));
        }
    }
    Ok(())
}

/// `cargo +nightly ARGS` in `fuzz/`; whether it succeeded.
fn nightly_cargo(args: &[&str], quiet: bool) -> Result<bool, String> {
    let mut command = Command::new("cargo");
    command
        .arg("+nightly")
        .args(args)
        .current_dir(project_root().join("fuzz"))
        // The workspace pins stable; this must not inherit cargo's choice.
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO");
    if quiet {
        command.stdout(Stdio::null()).stderr(Stdio::null());
    } else {
        eprintln!("$ cargo +nightly {}", args.join(" "));
    }
    command
        .status()
        .map(|status| status.success())
        .map_err(|error| format!("cannot run cargo: {error}"))
}
