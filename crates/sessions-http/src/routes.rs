//! The route table: what is registered, and the list the OpenAPI document is
//! checked against.

use actix_web::web;

use crate::dashboard::{DASHBOARD_FILES, DASHBOARD_PATH};
use crate::handlers::{health, log, method_not_allowed, metrics, otlp, sessions, ws};

/// One method on one path, as `docs/openapi.yaml` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

/// The live session list, a WebSocket.
pub(crate) const WEBSOCKET_PATH: &str = "/sessions/ws";

/// The health check, which load balancers and scripts call without a token.
const HEALTH_PATH: &str = "/health";

/// The Prometheus metrics, guarded by the token like the API.
const METRICS_PATH: &str = "/metrics";

/// OTLP/HTTP's path for logs, where SDKs and collectors send them.
const OTLP_LOGS_PATH: &str = "/v1/logs";

/// The name each resource is registered under: its path template. Metrics
/// label requests with it (a fixed set, whatever paths clients ask for).
pub(crate) const ROUTE_NAMES: &[&str] = &[
    "/sessions/",
    WEBSOCKET_PATH,
    "/sessions/{id}",
    "/sessions/{id}/log",
    HEALTH_PATH,
    METRICS_PATH,
    OTLP_LOGS_PATH,
    "/",
    DASHBOARD_PATH,
    DASHBOARD_FILES,
];

/// Every route [`configure`] registers. `/sessions` without the slash is an
/// alias of `/sessions/` and not listed separately.
pub const ROUTES: &[Route] = &[
    route("GET", "/sessions/"),
    route("POST", "/sessions/"),
    route("GET", WEBSOCKET_PATH),
    route("GET", "/sessions/{id}"),
    route("POST", "/sessions/{id}"),
    route("PUT", "/sessions/{id}"),
    route("DELETE", "/sessions/{id}"),
    route("GET", "/sessions/{id}/log"),
    route("POST", "/sessions/{id}/log"),
    route("GET", HEALTH_PATH),
    route("GET", METRICS_PATH),
    route("POST", OTLP_LOGS_PATH),
];

/// Paths anyone on an allowed host may fetch without a token: the health
/// check and the dashboard's static files, which ask for the token.
pub(crate) fn is_public_path(path: &str) -> bool {
    path == "/"
        || path == HEALTH_PATH
        || path
            .strip_prefix(DASHBOARD_PATH)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

const fn route(method: &'static str, path: &'static str) -> Route {
    Route { method, path }
}

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource(["/sessions", "/sessions/"])
                .name("/sessions/")
                .route(web::get().to(sessions::list))
                .route(web::post().to(sessions::create))
                .default_service(web::to(method_not_allowed("GET, POST"))),
        )
        // Before `/sessions/{id}`, which would take `ws` for an id.
        .service(
            web::resource(WEBSOCKET_PATH)
                .name(WEBSOCKET_PATH)
                .route(web::get().to(ws::connect))
                .default_service(web::to(method_not_allowed("GET"))),
        )
        .service(
            web::resource("/sessions/{id}")
                .name("/sessions/{id}")
                .route(web::get().to(sessions::get))
                .route(web::post().to(sessions::upsert))
                .route(web::put().to(sessions::patch_metadata))
                .route(web::delete().to(sessions::end))
                .default_service(web::to(method_not_allowed("GET, POST, PUT, DELETE"))),
        )
        .service(
            web::resource("/sessions/{id}/log")
                .name("/sessions/{id}/log")
                .route(web::get().to(log::read))
                .route(web::post().to(log::append))
                .default_service(web::to(method_not_allowed("GET, POST"))),
        )
        .service(
            web::resource(HEALTH_PATH)
                .name(HEALTH_PATH)
                .route(web::get().to(health::health))
                .default_service(web::to(method_not_allowed("GET"))),
        )
        .service(
            web::resource(METRICS_PATH)
                .name(METRICS_PATH)
                .route(web::get().to(metrics::metrics))
                .default_service(web::to(method_not_allowed("GET"))),
        )
        .service(
            web::resource(OTLP_LOGS_PATH)
                .name(OTLP_LOGS_PATH)
                .route(web::post().to(otlp::export))
                .default_service(web::to(method_not_allowed("POST"))),
        );
}
