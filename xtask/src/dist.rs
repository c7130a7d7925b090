//! `cargo xtask dist`: the release tarball.

use std::path::Path;

use crate::{project_root, run};

/// Builds the release binary (the dashboard is embedded at compile time) and
/// packs it with the README and LICENSE into
/// `target/dist/zenserver-<version>-<target>.tar.gz`, next to its `.sha256`.
pub(crate) fn dist() -> Result<(), String> {
    run::cargo(&["build", "--release", "--locked", "--package", "zenserver"])?;
    let root = project_root();
    let version = env!("CARGO_PKG_VERSION");
    let target = host_target()?;
    let name = format!("zenserver-{version}-{target}");
    let dist = root.join("target/dist");
    let staging = dist.join(&name);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| format!("cannot clean {name}: {e}"))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| format!("cannot create {name}: {e}"))?;
    let binary = format!("zenserver{}", std::env::consts::EXE_SUFFIX);
    copy(
        &root.join("target/release").join(&binary),
        &staging.join(&binary),
    )?;
    copy(&root.join("README.md"), &staging.join("README.md"))?;
    copy(&root.join("LICENSE"), &staging.join("LICENSE"))?;

    let archive = format!("{name}.tar.gz");
    let dist_dir = path_str(&dist)?;
    run::program(
        "tar",
        &[
            "-C",
            dist_dir,
            "-czf",
            &format!("{dist_dir}/{archive}"),
            &name,
        ],
    )?;
    let checksum = run::output("sha256sum", &[&format!("{dist_dir}/{archive}")])?;
    let digest = checksum.split_whitespace().next().unwrap_or_default();
    std::fs::write(
        dist.join(format!("{archive}.sha256")),
        format!("{digest}  {archive}\n"),
    )
    .map_err(|e| format!("cannot write the checksum: {e}"))?;
    std::fs::remove_dir_all(&staging).map_err(|e| format!("cannot clean {name}: {e}"))?;
    println!("target/dist/{archive}\ntarget/dist/{archive}.sha256");
    Ok(())
}

fn host_target() -> Result<String, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let verbose = run::output(&rustc, &["-vV"])?;
    verbose
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".into())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {}: {e}", from.display()))
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("{} is not valid UTF-8", path.display()))
}
