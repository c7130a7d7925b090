//! One connection, to a single Redis or to a cluster, that reconnects by
//! itself; and the address that says which.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{AsyncPushSender, ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{
    Cmd, FromRedisValue, IntoConnectionInfo, Pipeline, ProtocolVersion, RedisFuture, RedisResult,
    ScriptInvocation, Value,
};
use tokio::sync::OnceCell;

/// How long a node waits for Redis to accept a connection, and for an
/// answer, before it calls the store unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the store is: `redis://HOST:PORT[/DB]` or
/// `redis+cluster://HOST:PORT[,HOST:PORT...]` (the seed nodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAddress {
    Single(String),
    Cluster(Vec<String>),
}

impl StoreAddress {
    /// Reads a `--store` value other than `memory`.
    pub fn parse(text: &str) -> Result<StoreAddress, String> {
        if let Some(nodes) = text.strip_prefix("redis+cluster://") {
            let nodes: Vec<String> = nodes
                .split(',')
                .map(str::trim)
                .filter(|node| !node.is_empty())
                .map(|node| format!("redis://{}", node.trim_end_matches('/')))
                .collect();
            if nodes.is_empty() {
                return Err(format!("`{text}` names no cluster node"));
            }
            for node in &nodes {
                node.as_str()
                    .into_connection_info()
                    .map_err(|error| format!("`{text}`: {error}"))?;
            }
            return Ok(StoreAddress::Cluster(nodes));
        }
        if text.starts_with("redis://") {
            text.into_connection_info()
                .map_err(|error| format!("`{text}`: {error}"))?;
            return Ok(StoreAddress::Single(text.to_owned()));
        }
        Err(format!(
            "`{text}` is not a store: use `memory`, `redis://HOST:PORT[/DB]` or `redis+cluster://HOST:PORT[,HOST:PORT...]`"
        ))
    }

    /// `redis` or `redis-cluster`, as `/health` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreAddress::Single(_) => "redis",
            StoreAddress::Cluster(_) => "redis-cluster",
        }
    }
}

/// A connection that is made when first used and made again after it
/// breaks; requests in between fail at once (the store is unavailable).
#[derive(Clone)]
pub(crate) enum Connection {
    Single(ConnectionManager),
    Cluster {
        client: Box<ClusterClient>,
        /// The connection, made on first use; replaced by [`Connection::reset`].
        connected: Arc<Mutex<Arc<OnceCell<ClusterConnection>>>>,
    },
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Connection::Single(_) => "Connection::Single",
            Connection::Cluster { .. } => "Connection::Cluster",
        })
    }
}

impl Connection {
    /// Opens no socket yet; must be called inside the store's runtime. With
    /// `push`, the connection speaks RESP3 and hands what Redis pushes
    /// (messages of its subscriptions, and a disconnection notice) to it,
    /// subscribing again after every reconnection.
    pub(crate) fn open(
        address: &StoreAddress,
        push: Option<impl AsyncPushSender + Clone>,
    ) -> RedisResult<Connection> {
        match address {
            StoreAddress::Single(url) => {
                let mut info = url.as_str().into_connection_info()?;
                let mut config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                if let Some(push) = push {
                    let settings = info
                        .redis_settings()
                        .clone()
                        .set_protocol(ProtocolVersion::RESP3);
                    info = info.set_redis_settings(settings);
                    config = config.set_push_sender(push).set_automatic_resubscription();
                }
                let client = redis::Client::open(info)?;
                Ok(Connection::Single(ConnectionManager::new_lazy_with_config(
                    client, config,
                )?))
            }
            StoreAddress::Cluster(nodes) => {
                let mut builder = ClusterClient::builder(nodes.iter().map(String::as_str))
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(RESPONSE_TIMEOUT)
                    .retries(2);
                if let Some(push) = push {
                    builder = builder
                        .use_protocol(ProtocolVersion::RESP3)
                        .push_sender(push);
                }
                Ok(Connection::Cluster {
                    client: Box::new(builder.build()?),
                    connected: Default::default(),
                })
            }
        }
    }

    /// The connection a request goes out on, the only way to one: the
    /// cluster's is made on first use.
    async fn link(&self) -> RedisResult<Link> {
        match self {
            Connection::Single(manager) => Ok(Link::Single(manager.clone())),
            Connection::Cluster { client, connected } => {
                Ok(Link::Cluster(cluster(client, connected).await?))
            }
        }
    }

    pub(crate) async fn query<T: FromRedisValue>(&self, command: &Cmd) -> RedisResult<T> {
        command.query_async(&mut self.link().await?).await
    }

    /// Sends `pipeline` to the Redis that holds its keys, which must all
    /// be in one slot.
    pub(crate) async fn query_pipeline<T: FromRedisValue>(
        &self,
        pipeline: &Pipeline,
    ) -> RedisResult<T> {
        pipeline.query_async(&mut self.link().await?).await
    }

    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> RedisResult<T> {
        invocation.invoke_async(&mut self.link().await?).await
    }

    /// Waits up to `timeout` until `replicas` replicas of the Redis that
    /// holds `key` have every write this connection sent it (Redis `WAIT`);
    /// answers how many do.
    pub(crate) async fn wait_for_replicas(
        &self,
        key: &str,
        replicas: u32,
        timeout: Duration,
    ) -> RedisResult<u64> {
        let mut wait = Cmd::new();
        wait.arg("WAIT")
            .arg(replicas)
            .arg(timeout.as_millis() as u64);
        match self.link().await? {
            Link::Single(mut manager) => wait.query_async(&mut manager).await,
            Link::Cluster(mut cluster) => {
                // To the master of the key's slot, not to every master as
                // the cluster client would send a bare WAIT.
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
                    Route::with_key(key, SlotAddr::Master),
                ));
                let answer = cluster.route_command(wait, routing).await?;
                Ok(u64::from_redis_value(answer)?)
            }
        }
    }

    /// Drops a cluster connection, so the next request makes a new one and
    /// reads the cluster's slots afresh from the seeds. The cluster client
    /// follows `MOVED` by itself, but may keep asking a master that died
    /// for its slots (seen for over ten seconds after a failover); the
    /// health check calls this when the cluster stops answering it. A
    /// single server's connection makes itself again; nothing to do.
    pub(crate) fn reset(&self) {
        if let Connection::Cluster { connected, .. } = self {
            *connected.lock().unwrap_or_else(PoisonError::into_inner) = Arc::default();
        }
    }

    /// Subscribes to `channel`; the messages go to the push sender.
    pub(crate) async fn subscribe(&self, channel: &str) -> RedisResult<()> {
        match self.link().await? {
            Link::Single(mut manager) => manager.subscribe(channel).await,
            Link::Cluster(mut cluster) => cluster.subscribe(channel).await,
        }
    }
}

/// One request's way to Redis, whichever kind: both kinds take the same
/// commands, pipelines and scripts.
enum Link {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Link {
    fn req_packed_command<'a>(&'a mut self, command: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Link::Single(manager) => manager.req_packed_command(command),
            Link::Cluster(cluster) => cluster.req_packed_command(command),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Link::Single(manager) => manager.req_packed_commands(pipeline, offset, count),
            Link::Cluster(cluster) => cluster.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Link::Single(manager) => manager.get_db(),
            Link::Cluster(cluster) => cluster.get_db(),
        }
    }
}

/// The cluster connection, made on first use; a failed attempt is tried
/// again by the next request.
async fn cluster(
    client: &ClusterClient,
    connected: &Mutex<Arc<OnceCell<ClusterConnection>>>,
) -> RedisResult<ClusterConnection> {
    let cell = Arc::clone(&connected.lock().unwrap_or_else(PoisonError::into_inner));
    cell.get_or_try_init(|| client.get_async_connection())
        .await
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_addresses_are_read_or_refused_with_a_reason() {
        assert_eq!(
            StoreAddress::parse("redis://127.0.0.1:6379/2"),
            Ok(StoreAddress::Single("redis://127.0.0.1:6379/2".into()))
        );
        assert_eq!(
            StoreAddress::parse("redis+cluster://127.0.0.1:7000, 127.0.0.1:7001"),
            Ok(StoreAddress::Cluster(vec![
                "redis://127.0.0.1:7000".into(),
                "redis://127.0.0.1:7001".into()
            ]))
        );
        assert!(
            StoreAddress::parse("postgres://x")
                .unwrap_err()
                .contains("memory")
        );
        assert!(StoreAddress::parse("redis+cluster://").is_err());
    }
}
