//! Starting a zenserver binary for a task (the smoke test, the conformance
//! and interop runs): the workspace's test-support crate starts it on a free
//! loopback port and kills it when dropped, also when a check fails.

use std::path::Path;

use zenserver_test_support::ZenServer;

/// `binary` on a free loopback port with `args`, its log thrown away.
pub(crate) fn start_server(binary: &Path, args: &[&str]) -> Result<ZenServer, String> {
    ZenServer::launch(binary)
        .args(args)
        .quiet()
        .start()
        .map_err(|error| error.to_string())
}
