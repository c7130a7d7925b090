//! `cargo xtask conformance`: schemathesis against `docs/openapi.yaml` and
//! the running binary, with every check (configured in
//! `xtask/conformance/schemathesis.toml` where a check contradicts the
//! documented contract, each exception with its reason).

use std::path::PathBuf;
use std::process::Command;

use crate::server::{build_debug_server, start_server};
use crate::{install, project_root};

/// The schemathesis this project is checked with.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Runs schemathesis with `max_examples` per operation and a fixed seed, so
/// a run can be repeated exactly.
pub(crate) fn conformance(max_examples: u32) -> Result<(), String> {
    conformance_on(max_examples, &[])
}

/// The same run against a server started with `server_args` added (the
/// Redis pass names its store).
pub(crate) fn conformance_on(max_examples: u32, server_args: &[&str]) -> Result<(), String> {
    let venv = ensure_schemathesis()?;
    let binary = build_debug_server()?;
    let root = project_root();
    // Long polls stay short so generated `wait` values do not stall the run.
    let mut args = vec!["--max-wait", "1"];
    args.extend_from_slice(server_args);
    let server = start_server(&binary, &args)?;
    let mut command = Command::new(venv.join("bin/schemathesis"));
    command
        .arg("--config-file")
        .arg(root.join("xtask/conformance/schemathesis.toml"))
        .args(["run", "docs/openapi.yaml", "--url"])
        .arg(format!("http://{}", server.address()))
        .args(["--checks", "all", "--exclude-checks", "use_after_free"])
        .args([
            "--max-examples",
            &max_examples.to_string(),
            "--seed",
            "20261127",
        ])
        .args(["--no-color"])
        .current_dir(&root);
    eprintln!("$ schemathesis run docs/openapi.yaml (--max-examples {max_examples})");
    let status = command
        .status()
        .map_err(|e| format!("cannot run schemathesis: {e}"))?;
    drop(server);
    if status.success() {
        Ok(())
    } else {
        Err(format!("schemathesis found failures ({status})"))
    }
}

/// A virtual environment under `target/` with schemathesis installed.
fn ensure_schemathesis() -> Result<PathBuf, String> {
    let venv = project_root().join("target/conformance-venv");
    let installed = Command::new(venv.join("bin/schemathesis"))
        .arg("--version")
        .output()
        .is_ok_and(|output| {
            let version = SCHEMATHESIS.trim_start_matches("schemathesis==");
            output.status.success() && String::from_utf8_lossy(&output.stdout).contains(version)
        });
    if installed {
        return Ok(venv);
    }
    install::python_venv(&venv, &[SCHEMATHESIS])?;
    Ok(venv)
}
