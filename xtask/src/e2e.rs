//! `cargo xtask e2e`: the browser tests of the dashboard (`xtask/e2e/`).
//!
//! They drive Debian's Chromium with the npm package `playwright-core`
//! against the debug server binary. Whatever is missing is installed first:
//! the Chromium packages (with apt-get) and the npm packages (`npm ci`, only
//! when `xtask/e2e/node_modules` is older than the lockfile). Node.js and npm must
//! be present already.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::server::build_debug_server;
use crate::{install, project_root, run};

/// The oldest Node.js the tests (and playwright-core) run on.
const MIN_NODE_MAJOR: u32 = 20;

/// Runs every browser test.
pub(crate) fn e2e() -> Result<(), String> {
    e2e_selected(&[])
}

/// The browser tests whose pages depend on what the store holds and how
/// it changes: sessions, logs, merged logs and live updates. The others
/// (access rules, page safety, options, rendering at scale, the harness)
/// exercise the dashboard and the HTTP layer, the same whatever the store,
/// and the memory pass runs them; leaving them out keeps CI under its time.
const STORE_FILES: [&str; 4] = ["live", "log", "merged", "sessions"];

/// Runs the browser tests of [`STORE_FILES`] with every server on `store`
/// (`--store`), each under a prefix of its own.
pub(crate) fn e2e_on_store(store: &str) -> Result<(), String> {
    let names: Vec<String> = STORE_FILES.iter().map(|name| (*name).to_owned()).collect();
    run_files(&names, Some(store))
}

/// Runs the test files named (`log` runs `xtask/e2e/log.test.mjs`), or all of
/// them when none is named.
pub(crate) fn e2e_selected(names: &[String]) -> Result<(), String> {
    run_files(names, None)
}

fn run_files(names: &[String], store: Option<&str>) -> Result<(), String> {
    let root = project_root();
    let dir = root.join("xtask/e2e");
    let files = test_files(&dir, names)?;
    install::ensure(&[
        install::Tool {
            program: "/usr/bin/chromium",
            package: "chromium",
        },
        install::Tool {
            program: "/usr/bin/chromedriver",
            package: "chromium-driver",
        },
    ])?;
    check_node()?;
    if needs_npm_ci(&dir) {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir);
        run::status(npm, "npm ci --no-audit --no-fund (in xtask/e2e/)")?;
    }
    let server = build_debug_server()?;
    let mut node = Command::new("node");
    node.args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(&files)
        .env("ZENSERVER_BIN", &server)
        .current_dir(&root);
    if let Some(store) = store {
        node.env("E2E_STORE", store);
    }
    run::status(node, "node --test --test-concurrency=1 xtask/e2e/")?;
    println!("screenshots: target/e2e/");
    Ok(())
}

/// `xtask/e2e/*.test.mjs` (or the ones named), relative to the project root and
/// sorted, so every Node.js version runs the same files in the same order.
fn test_files(dir: &Path, names: &[String]) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.mjs"))
        .filter(|name| {
            names.is_empty()
                || names
                    .iter()
                    .any(|wanted| name.trim_end_matches(".test.mjs") == wanted)
        })
        .map(|name| Path::new("xtask/e2e").join(name))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no xtask/e2e/*.test.mjs file matches {names:?}"));
    }
    Ok(files)
}

fn check_node() -> Result<(), String> {
    let version = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .ok_or_else(|| {
            format!("the browser tests need Node.js {MIN_NODE_MAJOR} or newer (`node`), and it is not installed")
        })?;
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    if major < MIN_NODE_MAJOR {
        return Err(format!(
            "the browser tests need Node.js {MIN_NODE_MAJOR} or newer; `node` is {version}"
        ));
    }
    let npm = Command::new("npm")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !npm.is_ok_and(|status| status.success()) {
        return Err(
            "the browser tests need npm (to install playwright-core), and it is not installed"
                .into(),
        );
    }
    Ok(())
}

/// Whether `xtask/e2e/node_modules` is missing or older than the lockfile. npm
/// rewrites `node_modules/.package-lock.json` on every install.
fn needs_npm_ci(dir: &Path) -> bool {
    let modified = |path: PathBuf| -> Option<SystemTime> { path.metadata().ok()?.modified().ok() };
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    let locked = modified(dir.join("package-lock.json"));
    match (installed, locked) {
        (Some(installed), Some(locked)) => installed < locked,
        _ => true,
    }
}
