//! `cargo xtask dist`: the release tarball, and the smoke test that unpacks
//! it and talks to the binary inside.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::server::start_server;
use crate::{project_root, run};

/// Builds the release binary (the dashboard is embedded at compile time) and
/// packs it with the README and LICENSE into
/// `target/dist/zenserver-<version>-<target>.tar.gz`, next to its `.sha256`.
pub(crate) fn dist() -> Result<(), String> {
    run::cargo(&["build", "--release", "--locked", "--package", "zenserver"])?;
    let root = project_root();
    let name = archive_stem()?;
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

/// `zenserver-<version>-<target>`: the archive's name without `.tar.gz`,
/// and the folder inside it.
fn archive_stem() -> Result<String, String> {
    Ok(format!(
        "zenserver-{}-{}",
        env!("CARGO_PKG_VERSION"),
        host_target()?
    ))
}

/// Builds the archive, checks its checksum, unpacks it into a temporary
/// folder, starts the binary from there on a free port and fetches
/// `/dashboard/` and `/health` from it.
pub(crate) fn smoke_test() -> Result<(), String> {
    dist()?;
    let dist_dir = project_root().join("target/dist");
    let name = archive_stem()?;
    let archive = format!("{name}.tar.gz");
    let mut check = Command::new("sha256sum");
    check
        .args(["-c", &format!("{archive}.sha256")])
        .current_dir(&dist_dir);
    run::status(check, "sha256sum -c")?;

    let unpacked = TempDir::new("zenserver-smoke")?;
    let mut tar = Command::new("tar");
    tar.arg("-xzf")
        .arg(dist_dir.join(&archive))
        .arg("-C")
        .arg(&unpacked.0);
    run::status(tar, "tar -xzf")?;
    let folder = unpacked.0.join(&name);
    for file in ["README.md", "LICENSE"] {
        if !folder.join(file).is_file() {
            return Err(format!("{archive} has no {name}/{file}"));
        }
    }
    let binary = folder.join(format!("zenserver{}", std::env::consts::EXE_SUFFIX));
    let server = start_server(&binary, &[])?;
    let address = server.address().to_owned();

    let (status, headers, body) = http_get(&address, "/dashboard/")?;
    if status != 200 || !headers.contains("content-type: text/html") {
        return Err(format!("GET /dashboard/ answered {status}\n{headers}"));
    }
    if !body.to_ascii_lowercase().starts_with("<!doctype html") {
        return Err("GET /dashboard/ is not an HTML page".into());
    }
    let (status, _, body) = http_get(&address, "/health")?;
    if status != 200 || !body.contains(r#""status":"ok""#) {
        return Err(format!("GET /health answered {status}: {body}"));
    }
    drop(server);
    eprintln!("xtask: {archive} unpacks, runs and serves /dashboard/ and /health");
    Ok(())
}

/// A folder under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .map_err(|e| format!("cannot clean {}: {e}", path.display()))?;
        }
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A minimal HTTP/1.1 GET: status, lowercased head, body.
fn http_get(address: &str, path: &str) -> Result<(u16, String, String), String> {
    let fail = |e: std::io::Error| format!("GET {path}: {e}");
    let mut stream = TcpStream::connect(address).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(fail)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .map_err(fail)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(fail)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: no complete response"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("GET {path}: bad status line"))?;
    Ok((status, head.to_ascii_lowercase(), body.to_owned()))
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
