//! What a [`crate::SessionLogger`] registers, where, and how much it buffers.

use std::time::Duration;

use log::LevelFilter;
use sessions_core::{Metadata, SessionId};

use crate::ClientConfig;

/// How to start a [`crate::SessionLogger`], built step by step:
///
/// ```no_run
/// use sessions_client::{LoggerConfig, SessionLogger};
///
/// let config = LoggerConfig::new("asset-cooker")
///     .server("http://127.0.0.1:8558")
///     .mode("batch")
///     .metadata("platform", "Win64")
///     .level(log::LevelFilter::Debug);
/// let _logging = SessionLogger::install(config)?;
/// # Ok::<(), sessions_client::LoggerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LoggerConfig {
    pub(crate) client: ClientConfig,
    pub(crate) appname: String,
    pub(crate) mode: String,
    pub(crate) jobid: Option<String>,
    pub(crate) metadata: Metadata,
    pub(crate) join: Option<SessionId>,
    pub(crate) level: LevelFilter,
    pub(crate) capacity: usize,
    pub(crate) flush_timeout: Duration,
    pub(crate) end_on_shutdown: Option<bool>,
}

impl LoggerConfig {
    /// A session named `appname` on the local server at its default
    /// address; records at `info` and above; 8,192 records of buffer.
    ///
    /// Logging should never hold a program up for long, so the client waits
    /// 2 s to connect and 10 s for an answer, less than a plain client does.
    pub fn new(appname: impl Into<String>) -> LoggerConfig {
        LoggerConfig {
            client: ClientConfig::default()
                .with_connect_timeout(Duration::from_secs(2))
                .with_read_timeout(Duration::from_secs(10)),
            appname: appname.into(),
            mode: String::new(),
            jobid: None,
            metadata: Metadata::new(),
            join: None,
            level: LevelFilter::Info,
            capacity: 8_192,
            flush_timeout: Duration::from_secs(5),
            end_on_shutdown: None,
        }
    }

    /// [`LoggerConfig::new`], with the server and token from `ZEN_SERVER`
    /// and `ZEN_TOKEN`, and joining the session `ZEN_SESSION_ID` names if
    /// it is set: a program run by `zen run` then logs into the session of
    /// its run.
    pub fn from_env(appname: impl Into<String>) -> LoggerConfig {
        let from_env = ClientConfig::from_env();
        let mut config = LoggerConfig::new(appname)
            .server(from_env.base_url())
            .token(from_env.token().unwrap_or_default());
        if let Some(id) = std::env::var("ZEN_SESSION_ID")
            .ok()
            .and_then(|id| id.parse::<SessionId>().ok())
        {
            config = config.join(id);
        }
        config
    }

    /// The server's base URL, keeping the token and timeouts set so far.
    pub fn server(mut self, base_url: impl Into<String>) -> LoggerConfig {
        let mut client = ClientConfig::new(base_url)
            .with_connect_timeout(self.client.connect_timeout())
            .with_read_timeout(self.client.read_timeout());
        if let Some(token) = self.client.token() {
            client = client.with_token(token);
        }
        self.client = client;
        self
    }

    /// The server's `--token`; empty means none.
    pub fn token(mut self, token: impl Into<String>) -> LoggerConfig {
        self.client = self.client.with_token(token);
        self
    }

    /// The whole client configuration at once (address, token, timeouts).
    pub fn client(mut self, client: ClientConfig) -> LoggerConfig {
        self.client = client;
        self
    }

    pub fn mode(mut self, mode: impl Into<String>) -> LoggerConfig {
        self.mode = mode.into();
        self
    }

    pub fn jobid(mut self, jobid: impl Into<String>) -> LoggerConfig {
        self.jobid = Some(jobid.into());
        self
    }

    /// One metadata key. A new session gets all of them, with the process id
    /// as `pid` unless set here; a joined one gets them merged in.
    pub fn metadata(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> LoggerConfig {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Joins the session with this id instead of creating one: it is used as
    /// it is when active (refused when it has ended), and created with this
    /// id, from this configuration, when it does not exist.
    pub fn join(mut self, id: SessionId) -> LoggerConfig {
        self.join = Some(id);
        self
    }

    /// The most detailed level shipped; `log` calls below it cost nothing.
    pub fn level(mut self, level: LevelFilter) -> LoggerConfig {
        self.level = level;
        self
    }

    /// Records the buffer holds while the background thread sends. When it
    /// is full, records are counted and dropped, never waited for.
    pub fn capacity(mut self, records: usize) -> LoggerConfig {
        self.capacity = records.max(1);
        self
    }

    /// How long a flush or shutdown waits for the server at most.
    pub fn flush_timeout(mut self, timeout: Duration) -> LoggerConfig {
        self.flush_timeout = timeout;
        self
    }

    /// Whether shutting the logger down ends the session. By default it does
    /// for a session the logger created, and does not for one it joined: that
    /// one belongs to someone else.
    pub fn end_on_shutdown(mut self, end: bool) -> LoggerConfig {
        self.end_on_shutdown = Some(end);
        self
    }
}
