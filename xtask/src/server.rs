//! Starting a zenserver binary for a task (the smoke test, the conformance
//! and interop runs): the workspace's test-support crate starts it on a free
//! loopback port and kills it when dropped, also when a check fails.

use std::path::{Path, PathBuf};

use zenserver_test_support::ZenServer;

use crate::{project_root, run};

/// Builds the debug server and answers its path. It builds what the test
/// run builds (the whole workspace, every target), so that after the test
/// run it compiles nothing: `--package zenserver` alone resolves features
/// differently and compiled the server again, a minute of CI.
pub(crate) fn build_debug_server() -> Result<PathBuf, String> {
    run::cargo(&["build", "--workspace", "--all-targets", "--locked"])?;
    Ok(project_root()
        .join("target/debug")
        .join(format!("zenserver{}", std::env::consts::EXE_SUFFIX)))
}

/// `binary` on a free loopback port with `args`, its log thrown away.
pub(crate) fn start_server(binary: &Path, args: &[&str]) -> Result<ZenServer, String> {
    ZenServer::launch(binary)
        .args(args)
        .quiet()
        .start()
        .map_err(|error| error.to_string())
}
