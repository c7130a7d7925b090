//! Installing what the tests need on a fresh machine: Debian packages, and
//! Python packages in a virtual environment under `target/`.

use std::path::Path;
use std::process::{Command, Stdio};

/// A program the tests run, and the Debian package that provides it.
///
/// A bare name is looked for on `PATH` and must answer `--version`; an
/// absolute path (`/usr/bin/chromium`) only has to exist, for programs that
/// are slow or noisy to start.
pub(crate) struct Tool {
    pub(crate) program: &'static str,
    pub(crate) package: &'static str,
}

/// Installs the packages of the tools that are missing. Nothing happens when
/// all are present, so local runs stay quick and need no root.
pub(crate) fn ensure(tools: &[Tool]) -> Result<(), String> {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|tool| !is_installed(tool.program))
        .map(|tool| tool.package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    install_packages(&missing)
}

/// Installs Debian packages with apt-get, as root or through sudo.
pub(crate) fn install_packages(packages: &[&str]) -> Result<(), String> {
    eprintln!("xtask: installing {}", packages.join(" "));
    let as_root = is_root();
    let run = |args: &[&str]| -> Result<(), String> {
        let mut command = if as_root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        let status = command
            .status()
            .map_err(|error| format!("cannot run apt-get: {error}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("apt-get {} failed ({status})", args.join(" ")))
        }
    };
    run(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(packages);
    run(&install)
}

/// Creates (or refreshes) a Python virtual environment at `venv` and installs
/// `packages` into it with pip (`pip install PACKAGES`, so `-r FILE` works
/// too).
pub(crate) fn python_venv(venv: &Path, packages: &[&str]) -> Result<(), String> {
    ensure(&[Tool {
        program: "python3",
        package: "python3",
    }])?;
    let venv_works = Command::new("python3")
        .args(["-m", "venv", "--help"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !venv_works {
        // Debian's python3 keeps the venv module in a package of its own.
        install_packages(&["python3-venv"])?;
    }
    let venv_text = venv.to_string_lossy().into_owned();
    crate::run::program("python3", &["-m", "venv", &venv_text])?;
    let pip = venv.join("bin/pip").to_string_lossy().into_owned();
    let mut args = vec!["install", "--quiet", "--disable-pip-version-check"];
    args.extend(packages);
    crate::run::program(&pip, &args)
}

fn is_installed(program: &str) -> bool {
    let path = Path::new(program);
    if path.is_absolute() {
        return path.is_file();
    }
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}
