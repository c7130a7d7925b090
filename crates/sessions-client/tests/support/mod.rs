//! Test support: the real `zenserver` binary on a free loopback port, as
//! any client meets it, from the workspace's test-support crate.

#![allow(unused_imports, unreachable_pub)]

pub use zenserver_test_support::{
    SilentServer, ZenServer as Server, free_port, unreachable_url, whole_log,
};
