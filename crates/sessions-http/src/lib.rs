//! The HTTP face of zenserver Sessions: actix-web routes over
//! [`sessions_core::SessionRegistry`].
//!
//! This crate owns everything about the wire: the JSON shapes of requests and
//! responses (`wire`), parsing query strings and log bodies, reading bodies
//! within their size and time limits, the Host/Origin/token checks that keep
//! web pages the user visits from reaching the API, and turning every error
//! into an RFC 9457 `application/problem+json` response (`problem`). It converts
//! between wire types and the plain types of `sessions-core` by hand, so the
//! core never learns about HTTP.
//!
//! OpenTelemetry log exports (`POST /v1/logs`) are decoded and mapped by
//! `sessions-otlp`; `handlers/otlp.rs` only does the HTTP of OTLP/HTTP
//! around it (content types, gzip, answers in the request's encoding).
//!
//! [`app`] builds the complete actix `App`; the binary adds the dashboard and
//! starts the server. Handlers never block: the registry's locks are held for
//! microseconds and long polls wait on a future, not a thread.
//!
//! This crate must never start a server, read the environment or print: the
//! binary decides all of that.

mod access;
mod access_log;
mod body;
mod connections;
mod dashboard;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod handlers;
mod json_numbers;
mod live;
mod log_body;
mod log_json;
mod metrics;
mod pieces;
mod problem;
mod query;
mod rfc3339;
mod routes;
mod wire;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};
use sessions_core::SessionStore;

pub use access::AccessPolicy;
pub use connections::{ConnectionLimit, ConnectionStream, ConnectionTimeouts, connection_service};
pub use dashboard::dashboard;
pub use live::LiveUpdates;
pub use metrics::Metrics;
pub use problem::ApiError;
pub use routes::{ROUTES, Route};

/// Limits that belong to HTTP rather than to the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest request body; larger ones are answered 413.
    pub max_body_bytes: usize,
    /// How long a request body may stall between two chunks before the
    /// request is answered 408.
    pub body_stall_timeout: Duration,
    /// How long a whole request body may take, however steadily it trickles
    /// in, before the request is answered 408.
    pub body_timeout: Duration,
    /// Longest long poll (`wait`); larger values are clamped to it.
    pub max_wait: Duration,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            max_body_bytes: 4 << 20,
            body_stall_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// Where sessions live; the binary picks it.
    pub store: Arc<dyn SessionStore>,
    /// The session list for WebSocket watchers; run its
    /// [`LiveUpdates::publish`] task next to the server.
    pub live: Arc<LiveUpdates>,
    pub limits: HttpLimits,
    pub access: AccessPolicy,
    /// Shared with the server's on-connect hook, which counts connections.
    pub connections: Arc<ConnectionLimit>,
    pub started: Instant,
    /// Request counts and latencies, and the gauges only HTTP knows, for
    /// `GET /metrics`.
    pub metrics: Metrics,
}

/// The complete API as an actix `App`: routes, problem+json fallbacks for
/// unknown paths and methods, access checks, security headers and access log
/// lines.
pub fn app(
    state: Arc<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::from(state))
        .configure(routes::configure)
        .default_service(web::to(handlers::no_route))
        .wrap(actix_web::middleware::from_fn(access::guard))
        .wrap(actix_web::middleware::from_fn(metrics::track))
        .wrap(actix_web::middleware::from_fn(access_log::access_log))
        .wrap(actix_web::middleware::from_fn(connections::track_requests))
}
