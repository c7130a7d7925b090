//! Command-line flags, each with a `ZEN_*` environment equivalent.

use std::net::IpAddr;
use std::time::Duration;

use clap::Parser;
use sessions_core::Limits;
use sessions_core::session_log::RingLimits;
use sessions_http::{ConnectionTimeouts, HttpLimits};
use sessions_redis::StoreAddress;

/// How long a kept-alive connection may wait for its next request.
const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// Tracks the client sessions talking to zenserver (editors, build agents,
/// CLI tools), keeps their logs in capped in-memory rings, and shows it all in
/// a live web dashboard.
///
/// Sizes take an optional binary unit: 65536, 64KiB, 8MiB, 1GiB.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, after_help = EXAMPLES)]
pub(crate) struct Cli {
    /// Address to listen on. Anything but loopback exposes the API to the
    /// network: use --token then.
    #[arg(long, env = "ZEN_BIND", default_value = "127.0.0.1")]
    pub(crate) bind: IpAddr,

    /// Port to listen on; 0 picks a free one (printed at start-up).
    #[arg(long, env = "ZEN_PORT", default_value_t = 8558)]
    pub(crate) port: u16,

    /// HTTP worker threads [default: one per CPU core].
    #[arg(long, env = "ZEN_WORKERS")]
    pub(crate) workers: Option<usize>,

    /// Extra host names to accept in the Host header (comma-separated), for
    /// example the machine's name on a non-loopback bind.
    #[arg(long, env = "ZEN_ALLOW_HOST", value_delimiter = ',')]
    pub(crate) allow_host: Vec<String>,

    /// Extra origins (exact, like https://tools.example) whose pages may
    /// change sessions (comma-separated).
    #[arg(long, env = "ZEN_ALLOW_ORIGIN", value_delimiter = ',')]
    pub(crate) allow_origin: Vec<String>,

    /// Serve the dashboard from this folder instead of the copy built into the
    /// binary (to work on it without rebuilding).
    #[arg(long, env = "ZEN_DASHBOARD_DIR", value_name = "DIR")]
    pub(crate) dashboard_dir: Option<std::path::PathBuf>,

    /// Require `Authorization: Bearer <TOKEN>` on every API request.
    #[arg(long, env = "ZEN_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,

    /// Largest request body.
    #[arg(long, env = "ZEN_MAX_BODY", default_value = "4MiB", value_parser = parse_size)]
    pub(crate) max_body: usize,

    /// Seconds a request head may take to arrive, and a body may stall between
    /// two chunks, before the request is answered 408.
    #[arg(long, env = "ZEN_REQUEST_TIMEOUT", default_value_t = 10)]
    pub(crate) request_timeout: u64,

    /// Seconds a whole request body may take, however steadily it trickles.
    #[arg(long, env = "ZEN_BODY_TIMEOUT", default_value_t = 60)]
    pub(crate) body_timeout: u64,

    /// Close a connection whose peer takes no byte of a response for this
    /// long (like 30s, 2m): a client that stopped reading.
    #[arg(long, env = "ZEN_WRITE_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub(crate) write_timeout: Duration,

    /// Longest long poll (`wait`), in seconds; larger values are clamped.
    #[arg(long, env = "ZEN_MAX_WAIT", default_value_t = 60)]
    pub(crate) max_wait: u64,

    /// Connections open at once; more are answered 503 and closed.
    #[arg(long, env = "ZEN_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub(crate) max_connections: usize,

    /// End active sessions that see no create, update or log append for this
    /// long (like 30s, 15m, 2h; 0 = never).
    #[arg(long, env = "ZEN_SESSION_TTL", default_value = "0", value_parser = parse_duration)]
    pub(crate) session_ttl: Duration,

    /// Longest log message.
    #[arg(long, env = "ZEN_MAX_MESSAGE", default_value = "64KiB", value_parser = parse_size)]
    pub(crate) max_message: usize,

    /// Most entries in one append.
    #[arg(long, env = "ZEN_MAX_BATCH_ENTRIES", default_value_t = 10_000)]
    pub(crate) max_batch_entries: usize,

    /// Longest appname, mode or jobid.
    #[arg(long, env = "ZEN_MAX_NAME", default_value = "256", value_parser = parse_size)]
    pub(crate) max_name: usize,

    /// Largest metadata object, as compact JSON.
    #[arg(long, env = "ZEN_MAX_METADATA", default_value = "64KiB", value_parser = parse_size)]
    pub(crate) max_metadata: usize,

    /// Most active sessions, the server's own included.
    #[arg(long, env = "ZEN_MAX_ACTIVE_SESSIONS", default_value_t = 10_000)]
    pub(crate) max_active_sessions: usize,

    /// Ended sessions kept, with their logs, after they end.
    #[arg(long, env = "ZEN_MAX_ENDED_SESSIONS", default_value_t = 1_000)]
    pub(crate) max_ended_sessions: usize,

    /// Entries kept per session log.
    #[arg(long, env = "ZEN_MAX_LOG_ENTRIES", default_value_t = 10_000)]
    pub(crate) max_log_entries: usize,

    /// Bytes kept per session log.
    #[arg(long, env = "ZEN_MAX_LOG_BYTES", default_value = "8MiB", value_parser = parse_size)]
    pub(crate) max_log_bytes: usize,

    /// Bytes kept by all logs together.
    #[arg(long, env = "ZEN_MAX_LOG_MEMORY", default_value = "1GiB", value_parser = parse_size)]
    pub(crate) max_log_memory: usize,

    /// Where sessions live: `memory` (in this process, lost on restart),
    /// `redis://HOST:PORT[/DB]`, or `redis+cluster://HOST:PORT[,HOST:PORT...]`
    /// (seed nodes). Every node that names the same Redis and prefix serves
    /// the same sessions.
    #[arg(long, env = "ZEN_STORE", default_value = "memory", value_parser = parse_store)]
    pub(crate) store: StoreChoice,

    /// Prefix of every Redis key, to keep deployments apart in one Redis.
    #[arg(long, env = "ZEN_STORE_PREFIX", default_value = "zen")]
    pub(crate) store_prefix: String,

    /// With Redis: how long a node may go without its heartbeat (one a
    /// second) before the other nodes end its server session (like 15s).
    #[arg(long, env = "ZEN_NODE_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    pub(crate) node_timeout: Duration,

    /// With Redis: answer an append only once this many replicas have it
    /// (Redis WAIT, up to 1 s, then 503), so it survives a failover; 0
    /// answers at once.
    #[arg(long, env = "ZEN_STORE_REPLICAS", default_value_t = 0)]
    pub(crate) store_replicas: u32,
}

/// What `--store` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreChoice {
    Memory,
    Redis(StoreAddress),
}

fn parse_store(text: &str) -> Result<StoreChoice, String> {
    match text {
        "memory" => Ok(StoreChoice::Memory),
        other => StoreAddress::parse(other).map(StoreChoice::Redis),
    }
}

const EXAMPLES: &str = "\
Examples:
  zenserver                          serve on http://127.0.0.1:8558
  zenserver --port 0                 serve on a free port (printed)
  ZEN_TOKEN=s3cret zenserver --bind 0.0.0.0 --allow-host buildbox
  RUST_LOG=debug zenserver           log every request";

impl Cli {
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_name_bytes: self.max_name,
            max_metadata_bytes: self.max_metadata,
            max_active_sessions: self.max_active_sessions,
            max_ended_sessions: self.max_ended_sessions,
            max_message_bytes: self.max_message,
            max_batch_entries: self.max_batch_entries,
            log: RingLimits::new(self.max_log_entries, self.max_log_bytes),
            max_log_memory: self.max_log_memory,
        }
    }

    pub(crate) fn http_limits(&self) -> HttpLimits {
        HttpLimits {
            max_body_bytes: self.max_body,
            body_stall_timeout: self.request_timeout(),
            body_timeout: Duration::from_secs(self.body_timeout.max(1)),
            max_wait: Duration::from_secs(self.max_wait),
        }
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout.max(1))
    }

    pub(crate) fn connection_timeouts(&self) -> ConnectionTimeouts {
        ConnectionTimeouts {
            request_head: self.request_timeout(),
            write: self.write_timeout.max(Duration::from_secs(1)),
            keep_alive: KEEP_ALIVE,
        }
    }
}

/// A byte count with an optional binary unit: `512`, `64KiB`, `8MiB`, `1GiB`
/// (also `k`, `KB`, `M`, `MB`, `G`, `GB`, all meaning powers of 1024).
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: usize = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 65536, 64KiB or 8MiB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("unknown unit in `{text}`; use KiB, MiB or GiB")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A duration: a number with `s`, `m`, `h` or `d` (seconds when bare).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 90s, 15m or 2h"))?;
    let seconds = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit in `{text}`; use s, m, h or d")),
    };
    // A hundred years is forever for a session, and fits every clock type.
    const LONGEST: u64 = 100 * 365 * 86_400;
    number
        .checked_mul(seconds)
        .filter(|seconds| *seconds <= LONGEST)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long; at most 100 years"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("8 MiB"), Ok(8 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("1TiB").is_err());
        assert!(parse_size("99999999999999999999").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7_200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5 weeks").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999d").is_err());
    }

    #[test]
    fn flags_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_contract() {
        let cli = Cli::parse_from(["zenserver"]);
        assert_eq!(cli.limits(), Limits::default());
        assert_eq!(cli.http_limits(), HttpLimits::default());
        assert_eq!((cli.bind.to_string(), cli.port), ("127.0.0.1".into(), 8558));
        assert_eq!(cli.store, StoreChoice::Memory);
    }
}
