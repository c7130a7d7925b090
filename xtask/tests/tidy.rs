//! Tidy tests: checks of the repository itself, run by `cargo test` like any
//! other test.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | ".git") {
                rust_files(&path, found);
            }
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_rust_file_says_what_it_is_for() {
    let mut files = Vec::new();
    for dir in ["crates", "apps", "xtask"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 20);
    let undocumented: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            !text.starts_with("//!")
        })
        .map(|path| path.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(
        undocumented.is_empty(),
        "files without a `//!` header: {undocumented:?}"
    );
}

#[test]
fn no_file_grows_past_the_size_that_asks_to_be_split() {
    let mut files = Vec::new();
    for dir in ["crates", "apps", "xtask"] {
        rust_files(&root().join(dir), &mut files);
    }
    for path in files {
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(
            lines <= 700,
            "{} has {lines} lines; split it",
            path.display()
        );
    }
}

/// Normal (non-dev) dependencies of a package, transitively, by name.
fn dependency_tree(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn layering_points_one_way() {
    let forbidden: [(&str, &[&str]); 7] = [
        (
            "sessions-log",
            &[
                "sessions-core",
                "sessions-otlp",
                "sessions-http",
                "zenserver",
            ],
        ),
        (
            "sessions-core",
            &["sessions-otlp", "sessions-http", "zenserver"],
        ),
        ("sessions-otlp", &["sessions-http", "zenserver"]),
        // The binary picks the store; the HTTP layer never knows Redis.
        ("sessions-http", &["zenserver", "sessions-redis", "redis"]),
        (
            "sessions-redis",
            &["sessions-otlp", "sessions-http", "zenserver"],
        ),
        ("sessions-client", &["sessions-http", "zenserver", "zen"]),
        ("zen", &["sessions-http", "zenserver"]),
    ];
    for (package, must_not_use) in forbidden {
        let tree = dependency_tree(package);
        for name in must_not_use {
            assert!(
                !tree.iter().any(|dep| dep == name),
                "{package} depends on {name}"
            );
        }
    }
}

#[test]
fn nothing_below_the_http_layer_pulls_in_actix_or_a_runtime() {
    for package in [
        "sessions-log",
        "sessions-core",
        "sessions-otlp",
        "sessions-client",
        "zen",
    ] {
        let tree = dependency_tree(package);
        let offending: Vec<&String> = tree
            .iter()
            .filter(|dep| dep.starts_with("actix") || *dep == "tokio" || dep.starts_with("hyper"))
            .collect();
        assert!(offending.is_empty(), "{package} pulls in {offending:?}");
    }
}

/// The Redis store may run tokio (its own runtime) but never a web stack.
#[test]
fn the_redis_store_knows_nothing_of_http() {
    let tree = dependency_tree("sessions-redis");
    let offending: Vec<&String> = tree
        .iter()
        .filter(|dep| dep.starts_with("actix") || dep.starts_with("hyper"))
        .collect();
    assert!(
        offending.is_empty(),
        "sessions-redis pulls in {offending:?}"
    );
}

#[test]
fn no_product_depends_on_the_test_support() {
    for package in [
        "sessions-log",
        "sessions-core",
        "sessions-otlp",
        "sessions-http",
        "sessions-redis",
        "sessions-client",
        "zenserver",
        "zen",
    ] {
        let tree = dependency_tree(package);
        assert!(
            !tree.iter().any(|dep| dep == "zenserver-test-support"),
            "{package} depends on the dev-only test support"
        );
    }
}

#[test]
fn clients_get_the_model_without_the_registry() {
    let tree = dependency_tree("sessions-client");
    assert!(
        !tree.iter().any(|dep| dep == "event-listener"),
        "sessions-client builds sessions-core's registry"
    );
}

/// sessions-http serves whatever store the binary hands it: it must build
/// without the memory store (sessions-core's `registry` feature), which only
/// its tests use.
#[test]
fn the_http_layer_knows_the_store_boundary_only() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let features = Command::new(&cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal,features",
            "--prefix",
            "none",
            "-p",
            "sessions-http",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let features = String::from_utf8_lossy(&features.stdout);
    assert!(
        !features.contains("sessions-core feature \"registry\""),
        "sessions-http turns on sessions-core's registry"
    );
    let check = Command::new(&cargo)
        .args([
            "check",
            "--offline",
            "--locked",
            "--quiet",
            "-p",
            "sessions-http",
            "--lib",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "sessions-http does not build without the memory store:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn the_xtask_alias_and_commands_exist() {
    let config = std::fs::read_to_string(root().join(".cargo/config.toml")).unwrap();
    assert!(config.contains(r#"xtask = "run --quiet --package xtask --""#));
    let main = std::fs::read_to_string(root().join("xtask/src/main.rs")).unwrap();
    for command in [
        "\"test\"",
        "\"dist\"",
        "\"bench\"",
        "\"soak\"",
        "\"fuzz\"",
        "\"conformance\"",
        "\"interop\"",
        "\"e2e\"",
    ] {
        assert!(main.contains(command), "xtask handles {command}");
    }
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(ci.contains("cargo xtask test"));
}
