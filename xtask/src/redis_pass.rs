//! The Redis pass of `cargo xtask test`: the integration suites of the
//! server, `zen` and the client library again, unchanged, with every server
//! they start on a real Redis (the suites' support reads `ZEN_TEST_STORE`),
//! the cross-node tests on a Redis Cluster (`ZEN_TEST_CLUSTER`), and the
//! conformance run and the browser tests of sessions, logs and live updates
//! against Redis-backed nodes.

use zenserver_test_support::{RedisCluster, RedisServer};

use crate::{conformance, e2e, install, run};

pub(crate) fn redis_pass() -> Result<(), String> {
    install::ensure(&[install::Tool {
        program: "redis-server",
        package: "redis-server",
    }])?;
    let redis = RedisServer::start().map_err(|error| format!("cannot start Redis: {error}"))?;
    let cluster =
        RedisCluster::start().map_err(|error| format!("cannot start a Redis Cluster: {error}"))?;
    eprintln!(
        "xtask: Redis at {}, a cluster at {}",
        redis.url(),
        cluster.url()
    );
    run::cargo_with_env(
        &[
            "nextest",
            "run",
            "--locked",
            "--no-fail-fast",
            // The whole workspace is built as the memory pass built it, so
            // nothing compiles again; only these packages' tests run:
            // the server's, and `zen`'s and the client library's, since
            // `zen run -- seq 1000000` stores every line on Redis as on
            // the memory store.
            "--workspace",
            "--filterset",
            "package(zenserver) | package(zen) | package(sessions-client)",
        ],
        &[
            ("ZEN_TEST_STORE", redis.url().as_str()),
            ("ZEN_TEST_CLUSTER", cluster.url().as_str()),
        ],
    )?;
    conformance::conformance_on(25, &["--store", &redis.url()])?;
    e2e::e2e_on_store(&redis.url())
}
