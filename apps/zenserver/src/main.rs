//! `zenserver`: the Sessions server binary.
//!
//! It wires the layers together and owns everything that touches the process:
//! command-line flags, the logger (stderr plus the server's own session),
//! binding the socket, printing the address, signals and shutdown. The HTTP
//! routes live in `sessions-http`, the rules in `sessions-core`; nothing here
//! should grow into either.

mod blocking;
mod cli;
mod log_bridge;

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use sessions_core::{Metadata, NewSession, RegistryError, SessionRegistry, SessionStore};
use sessions_http::{AccessPolicy, AppState, ConnectionLimit, LiveUpdates, Metrics};
use sessions_redis::{RedisOptions, RedisStore};

use crate::blocking::block_on;
use crate::cli::{Cli, StoreChoice};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let drain = log_bridge::install();
    match run(&cli, drain) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log::error!("{error:#}");
            eprintln!("zenserver: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli, drain: log_bridge::PendingDrain) -> anyhow::Result<()> {
    let started = Instant::now();
    if let Some(dir) = &cli.dashboard_dir
        && !dir.join("index.html").is_file()
    {
        anyhow::bail!(
            "--dashboard-dir {}: there is no index.html in it",
            dir.display()
        );
    }
    let store: Arc<dyn SessionStore> = match &cli.store {
        StoreChoice::Memory => Arc::new(SessionRegistry::new(cli.limits())),
        StoreChoice::Redis(address) => Arc::new(
            RedisStore::open(
                address.clone(),
                &RedisOptions {
                    prefix: cli.store_prefix.clone(),
                    node_timeout: cli.node_timeout,
                    replicas: cli.store_replicas,
                },
                cli.limits(),
            )
            .map_err(anyhow::Error::msg)?,
        ),
    };
    let metrics = Metrics::default();
    let store = metrics.measure(store);
    let listener = TcpListener::bind((cli.bind, cli.port))
        .with_context(|| format!("cannot listen on {}", SocketAddr::new(cli.bind, cli.port)))?;
    let address = listener
        .local_addr()
        .context("cannot read the bound address")?;

    start_server_session(&store, server_session(address), drain)?;

    let state = Arc::new(AppState {
        live: LiveUpdates::new(Arc::clone(&store)),
        store,
        connections: ConnectionLimit::new(cli.max_connections),
        limits: cli.http_limits(),
        access: AccessPolicy::new(
            cli.bind,
            address.port(),
            &cli.allow_host,
            &cli.allow_origin,
            cli.token.clone(),
        ),
        started,
        metrics,
    });

    let url = format!("http://{address}");
    announce(&url);
    log::info!(
        "zenserver {} listening on {url} (store: {})",
        env!("CARGO_PKG_VERSION"),
        state.store.health().kind
    );
    if !cli.bind.is_loopback() {
        log::warn!(
            "bound to {}, which is not loopback: anyone who can reach this machine can use the API{}",
            cli.bind,
            if cli.token.is_some() {
                ""
            } else {
                "; consider --token"
            }
        );
    }
    if cli.token.is_some() {
        log::info!("API requests need a bearer token");
    }

    let store = Arc::clone(&state.store);
    actix_web::rt::System::new().block_on(serve(cli, listener, state))?;
    log::info!("zenserver stopped");
    if let Err(error) = block_on(store.close()) {
        log::warn!("could not end this server's session in the store: {error}");
    }
    Ok(())
}

/// Prints the address on stdout, where scripts and tests read the port from
/// the first line. A closed stdout (`zenserver | head -1`) must not take the
/// server down, so write errors are ignored.
fn announce(url: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "zenserver listening on {url}");
    let _ = writeln!(stdout, "dashboard: {url}/dashboard/");
    let _ = stdout.flush();
}

/// Serves until SIGINT or SIGTERM, then stops gracefully: long polls are woken
/// so they answer at once, WebSocket watchers get a normal close frame,
/// in-flight requests finish, the process exits 0.
async fn serve(cli: &Cli, listener: TcpListener, state: Arc<AppState>) -> anyhow::Result<()> {
    let store = Arc::clone(&state.store);
    let live = Arc::clone(&state.live);
    actix_web::rt::spawn(Arc::clone(&live).publish());
    if !cli.session_ttl.is_zero() {
        actix_web::rt::spawn(end_idle_sessions(Arc::clone(&store), cli.session_ttl));
    }
    let max_connections = state.connections.max();
    let dashboard_dir = cli.dashboard_dir.clone();
    let timeouts = cli.connection_timeouts();
    let mut server = actix_web::dev::Server::build()
        // A hard stop per worker, well above the limit: connections past the
        // limit must still be accepted to be told why (503, then closed);
        // beyond this one they wait in the kernel's backlog.
        .max_concurrent_connections(max_connections.saturating_mul(4).saturating_add(1_024))
        .backlog(1_024)
        .shutdown_timeout(10)
        .disable_signals();
    if let Some(workers) = cli.workers {
        server = server.workers(workers.max(1));
    }
    let server = server
        .listen("zenserver", listener, move || {
            sessions_http::connection_service(
                Arc::clone(&state),
                timeouts,
                sessions_http::dashboard(dashboard_dir.clone()),
            )
        })?
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        let signal = shutdown_signal().await;
        log::info!("{signal} received, shutting down");
        store.shut_down();
        live.close();
        handle.stop(true).await;
    });
    server.await.context("the server failed")
}

/// Ends sessions that saw no activity for `ttl`, checking a few times per
/// `ttl` (at most every second, at least every minute), and says so in the
/// server's log.
async fn end_idle_sessions(store: Arc<dyn SessionStore>, ttl: Duration) {
    let every = (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let mut ticks = actix_web::rt::time::interval(every);
    let Ok(ttl_signed) = jiff::SignedDuration::try_from(ttl) else {
        log::error!(
            "--session-ttl {} s is too long; sessions are not ended",
            ttl.as_secs()
        );
        return;
    };
    loop {
        ticks.tick().await;
        let Ok(idle_since) = jiff::Timestamp::now().checked_sub(ttl_signed) else {
            continue;
        };
        let ended = match store.end_idle(idle_since).await {
            Ok(ended) => ended,
            Err(error) => {
                log::warn!("could not end idle sessions: {error}");
                continue;
            }
        };
        for session in ended {
            log::info!(
                "ended session {} ({}) after {} s without activity (--session-ttl)",
                session.id,
                session.appname,
                ttl.as_secs()
            );
        }
    }
}

#[cfg(unix)]
async fn shutdown_signal() -> &'static str {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        log::warn!("cannot listen for signals; stop the server by killing it");
        return std::future::pending().await;
    };
    std::future::poll_fn(|context| {
        if interrupt.poll_recv(context).is_ready() {
            std::task::Poll::Ready("SIGINT")
        } else if terminate.poll_recv(context).is_ready() {
            std::task::Poll::Ready("SIGTERM")
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

#[cfg(not(unix))]
async fn shutdown_signal() -> &'static str {
    let _ = actix_web::rt::signal::ctrl_c().await;
    "Ctrl-C"
}

/// The server's own session: its log is the server's log.
/// Creates the server's own session and starts logging into it. A store
/// that is away does not keep the server from starting: the session is made
/// as soon as the store answers, and log records wait for it meanwhile
/// (within the bridge's bounded queue).
fn start_server_session(
    store: &Arc<dyn SessionStore>,
    session: NewSession,
    drain: log_bridge::PendingDrain,
) -> anyhow::Result<()> {
    match block_on(store.create_server_session(session.clone())) {
        Ok(created) => {
            drain.start(Arc::clone(store), created.id);
            Ok(())
        }
        Err(RegistryError::Unavailable(reason)) => {
            log::warn!("the session store is unavailable ({reason}); serving 503 until it answers");
            let store = Arc::clone(store);
            std::thread::Builder::new()
                .name("server-session".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(1));
                        if let Ok(created) = block_on(store.create_server_session(session.clone()))
                        {
                            drain.start(store, created.id);
                            return;
                        }
                    }
                })
                .context("cannot start the thread that waits for the store")?;
            Ok(())
        }
        Err(error) => Err(error).context("cannot create the server's own session"),
    }
}

fn server_session(address: SocketAddr) -> NewSession {
    let mut metadata = Metadata::new();
    metadata.insert("version".into(), env!("CARGO_PKG_VERSION").into());
    metadata.insert("pid".into(), std::process::id().into());
    metadata.insert("host".into(), host_name().into());
    metadata.insert("address".into(), address.to_string().into());
    NewSession {
        appname: "zenserver".into(),
        mode: "server".into(),
        jobid: None,
        metadata,
    }
}

/// The machine's name, from the kernel where it says, else the environment.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}
