//! `cargo xtask interop`: real OpenTelemetry SDKs against the real server.
//!
//! Each program under `xtask/interop/` logs through an OpenTelemetry SDK into a
//! zenserver started here (with a token, so the SDK's header setting is
//! tested too), then reads its session back over the sessions API and
//! checks every record, level, attribute and the resource metadata,
//! exiting non-zero on the first mismatch:
//!
//! - `xtask/interop/python/export_logs.py`: `opentelemetry-sdk` with
//!   `opentelemetry-exporter-otlp-proto-http` (binary protobuf), pinned in
//!   `xtask/interop/python/requirements.txt` and installed into a virtual
//!   environment at `target/interop-venv`;
//! - `xtask/interop/node/export-logs.mjs`: `@opentelemetry/sdk-logs` with
//!   `@opentelemetry/exporter-logs-otlp-http` (JSON, gzip-compressed), locked
//!   in `xtask/interop/node/package-lock.json` and installed with `npm ci`.
//!
//! What is missing is installed first, as for the other tasks; Node.js and
//! npm must be present already.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use crate::server::{build_debug_server, start_server};
use crate::{install, project_root};

/// The token the server is started with, and the SDKs send.
const TOKEN: &str = "interop-token";

/// Runs both programs against one server, each into its own session.
pub(crate) fn interop() -> Result<(), String> {
    let root = project_root();
    let python = ensure_python_packages(&root)?;
    ensure_node_packages(&root)?;
    let binary = build_debug_server()?;
    let server = start_server(&binary, &["--token", TOKEN])?;
    let url = format!("http://{}", server.address());

    let mut python_program = Command::new(python);
    python_program.arg("xtask/interop/python/export_logs.py");
    check_sdk("python", python_program, &url, "00000000000000000000a001")?;
    let mut node_program = Command::new("node");
    node_program.arg("xtask/interop/node/export-logs.mjs");
    check_sdk("node", node_program, &url, "00000000000000000000a002")?;
    drop(server);
    Ok(())
}

/// Runs one interop program against the server at `url`, logging into the
/// session `session_id`.
fn check_sdk(name: &str, mut program: Command, url: &str, session_id: &str) -> Result<(), String> {
    program
        .current_dir(project_root())
        .env("ZENSERVER_URL", url)
        .env("ZENSERVER_TOKEN", TOKEN)
        .env("SESSION_ID", session_id);
    // The SDKs read OTEL_* settings (endpoint, headers, resource attributes)
    // from the environment; the caller's must not change what is checked.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OTEL_") {
            program.env_remove(key);
        }
    }
    eprintln!("$ interop: {name} SDK");
    let started = Instant::now();
    let status = program
        .status()
        .map_err(|error| format!("cannot run the {name} interop program: {error}"))?;
    if !status.success() {
        return Err(format!("the {name} interop check failed ({status})"));
    }
    eprintln!(
        "interop: {name} passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The Python of `target/interop-venv`, with the pinned packages installed.
/// They are (re)installed when the venv's copy of the requirements differs
/// from `xtask/interop/python/requirements.txt`.
fn ensure_python_packages(root: &Path) -> Result<PathBuf, String> {
    let requirements = root.join("xtask/interop/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|error| format!("cannot read {}: {error}", requirements.display()))?;
    let venv = root.join("target/interop-venv");
    let python = venv.join("bin/python");
    let installed_copy = venv.join("interop-requirements.txt");
    let installed = std::fs::read_to_string(&installed_copy).ok();
    if installed.as_deref() == Some(wanted.as_str()) && python.is_file() {
        return Ok(python);
    }
    let requirements_text = requirements.to_string_lossy().into_owned();
    install::python_venv(&venv, &["-r", &requirements_text])?;
    std::fs::write(&installed_copy, wanted)
        .map_err(|error| format!("cannot write {}: {error}", installed_copy.display()))?;
    Ok(python)
}

/// `npm ci` in `xtask/interop/node` when its `node_modules` is missing or older
/// than the lockfile (npm rewrites `node_modules/.package-lock.json` on
/// every install).
fn ensure_node_packages(root: &Path) -> Result<(), String> {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    let npm = Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !node || !npm {
        return Err(
            "the interop tests need Node.js 20 or newer and npm, and they are not installed".into(),
        );
    }
    let dir = root.join("xtask/interop/node");
    let modified = |path: PathBuf| -> Option<SystemTime> { path.metadata().ok()?.modified().ok() };
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    let locked = modified(dir.join("package-lock.json"));
    let up_to_date =
        matches!((installed, locked), (Some(installed), Some(locked)) if installed >= locked);
    if up_to_date {
        return Ok(());
    }
    eprintln!("$ npm ci --no-audit --no-fund (in xtask/interop/node/)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .map_err(|error| format!("cannot run npm: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm ci in xtask/interop/node failed ({status})"))
    }
}
