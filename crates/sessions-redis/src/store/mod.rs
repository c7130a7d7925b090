//! `RedisStore`: the session store over Redis, one step per change.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use redis::{Cmd, RedisError, Value};
use sessions_core::{IdMinter, Limits, RegistryError, SessionId};

use crate::RedisOptions;
use crate::codec::Malformed;
use crate::connection::{Connection, StoreAddress};
use crate::directory::Directory;
use crate::health::{Health, Probes, Witness};
use crate::keys::Keys;
use crate::scripts::Scripts;

mod append_queue;
mod append_steps;
mod log_ops;
mod nodes;
mod session_ops;

use self::append_queue::AppendQueues;
pub(crate) use self::append_queue::Joined;
use self::append_steps::AppendSteps;
pub(crate) use self::log_ops::{batch_arguments, deliver};
pub(crate) use self::session_ops::{EndOutcome, Ending};

/// Sessions and logs in Redis, shared by every node that names the same
/// Redis and prefix. Its IO runs on a runtime of its own, so its futures
/// can be awaited from any executor, or from a plain thread.
#[derive(Debug)]
pub struct RedisStore {
    pub(crate) shared: Arc<Shared>,
    /// `None` only while being dropped.
    pub(crate) runtime: Option<tokio::runtime::Runtime>,
}

/// What the store's tasks and requests share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) limits: Limits,
    pub(crate) address: StoreAddress,
    pub(crate) keys: Keys,
    pub(crate) connection: Connection,
    scripts: Scripts,
    pub(crate) directory: Directory,
    append_queues: AppendQueues,
    append_steps: AppendSteps,
    minter: IdMinter,
    pub(crate) health: Health,
    pub(crate) probes: Probes,
    pub(crate) shutting_down: AtomicBool,
    pub(crate) server_session: OnceLock<SessionId>,
    pub(crate) appended: AtomicU64,
    pub(crate) evicted: AtomicU64,
    /// Held by this node's task that brings all logs back within their
    /// shared budget.
    rebalancing: AtomicBool,
    /// How long a node may go without a heartbeat before the others end
    /// its server session.
    pub(crate) node_timeout: Duration,
    /// Replicas an append waits for (`RedisOptions::replicas`).
    pub(crate) replicas: u32,
    /// Whether the others ended this node's session (said once).
    declared_dead: AtomicBool,
}

impl Shared {
    pub(crate) fn new(
        limits: Limits,
        address: StoreAddress,
        options: &RedisOptions,
        connection: Connection,
    ) -> Shared {
        Shared {
            limits,
            address,
            keys: Keys::new(&options.prefix),
            connection,
            scripts: Scripts::new(),
            directory: Directory::default(),
            append_queues: AppendQueues::default(),
            append_steps: AppendSteps::default(),
            minter: IdMinter::new(),
            health: Health::new(),
            probes: Probes::new(IdMinter::new().mint().to_string()),
            shutting_down: AtomicBool::new(false),
            server_session: OnceLock::new(),
            appended: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            rebalancing: AtomicBool::new(false),
            node_timeout: options.node_timeout,
            replicas: options.replicas,
            declared_dead: AtomicBool::new(false),
        }
    }

    /// A Redis error as the domain sees it; one that says the connection is
    /// gone marks the store unavailable at once.
    pub(crate) fn unavailable(&self, error: RedisError) -> RegistryError {
        if error.is_io_error()
            || error.is_timeout()
            || error.is_connection_dropped()
            || error.is_connection_refusal()
        {
            self.health
                .report(Witness::Request, Some(error.to_string()));
        }
        RegistryError::Unavailable(error.to_string())
    }

    fn answer<T>(&self, answer: Result<T, RedisError>) -> Result<T, RegistryError> {
        match answer {
            Ok(value) => {
                self.health.request_answered();
                Ok(value)
            }
            Err(error) => Err(self.unavailable(error)),
        }
    }

    pub(crate) async fn query<T: redis::FromRedisValue>(
        &self,
        command: &Cmd,
    ) -> Result<T, RegistryError> {
        let answer = self.connection.query(command).await;
        self.answer(answer)
    }

    /// Sends `pipeline` (a transaction, when atomic) in one round trip.
    pub(crate) async fn query_pipeline<T: redis::FromRedisValue>(
        &self,
        pipeline: &redis::Pipeline,
    ) -> Result<T, RegistryError> {
        let answer = self.connection.query_pipeline(pipeline).await;
        self.answer(answer)
    }

    async fn run(
        &self,
        script: &redis::Script,
        id: SessionId,
        args: &[&[u8]],
    ) -> Result<Value, RegistryError> {
        let mut invocation = script.prepare_invoke();
        self.session_keys(&mut invocation, id);
        for arg in args {
            invocation.arg(*arg);
        }
        self.invoke(&invocation).await
    }

    /// Adds `id`'s keys to a script's: its hash, its log, its log's costs.
    fn session_keys(&self, invocation: &mut redis::ScriptInvocation<'_>, id: SessionId) {
        invocation.key(self.keys.session(id));
        invocation.key(self.keys.log(id));
        invocation.key(self.keys.costs(id));
    }

    async fn invoke(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<Value, RegistryError> {
        let answer = self.connection.invoke(invocation).await;
        self.answer(answer)
    }
}

/// Data in Redis this crate cannot read: reported as the store being
/// unusable, never as the client's fault.
pub(crate) fn malformed(error: Malformed) -> RegistryError {
    RegistryError::Unavailable(format!("unexpected data in Redis: {}", error.0))
}

impl RedisStore {
    /// Runs `work` on the store's runtime; the answer can be awaited from
    /// anywhere.
    pub(crate) fn spawn<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, RegistryError>> + Send + 'static,
    ) -> impl Future<Output = Result<T, RegistryError>> + Send + 'static {
        let handle = self.runtime.as_ref().map(|runtime| runtime.spawn(work));
        async move {
            match handle {
                Some(handle) => handle.await.unwrap_or_else(|error| {
                    Err(RegistryError::Unavailable(format!(
                        "the store's task failed: {error}"
                    )))
                }),
                None => Err(RegistryError::Unavailable("the store is closed".into())),
            }
        }
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        // Dropping a runtime waits for its tasks, which is not allowed
        // inside another runtime (where the last owner may well be).
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
