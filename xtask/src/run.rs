//! Running other programs from the project root, echoing what runs.

use std::process::{Command, Stdio};

use crate::project_root;

/// The cargo that runs xtask, so toolchain pins apply to what it starts.
fn cargo_command() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(project_root());
    command
}

pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    let mut command = cargo_command();
    command.args(args);
    status(command, &format!("cargo {}", args.join(" ")))
}

/// `cargo args` with `env` added to its environment.
pub(crate) fn cargo_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let mut command = cargo_command();
    command.args(args).envs(env.iter().copied());
    let shown: Vec<String> = env
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    status(
        command,
        &format!("{} cargo {}", shown.join(" "), args.join(" ")),
    )
}

/// Whether `cargo args` succeeds, with its output hidden.
pub(crate) fn cargo_quiet(args: &[&str]) -> bool {
    let mut command = cargo_command();
    command
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command.status().is_ok_and(|status| status.success())
}

pub(crate) fn program(program: &str, args: &[&str]) -> Result<(), String> {
    let mut command = Command::new(program);
    command.args(args).current_dir(project_root());
    status(command, &format!("{program} {}", args.join(" ")))
}

/// Captures the standard output of `program args`.
pub(crate) fn output(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(project_root())
        .output()
        .map_err(|error| format!("cannot run {program}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{program} {} failed: {}",
            args.join(" "),
            output.status
        ));
    }
    String::from_utf8(output.stdout).map_err(|_| format!("{program} printed invalid UTF-8"))
}

/// Runs `command`, echoing `shown`; an error names it when it fails.
pub(crate) fn status(mut command: Command, shown: &str) -> Result<(), String> {
    eprintln!("$ {shown}");
    let status = command
        .status()
        .map_err(|error| format!("cannot run `{shown}`: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}
