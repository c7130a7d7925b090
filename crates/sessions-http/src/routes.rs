//! The route table: what is registered, and the list the OpenAPI document is
//! checked against.

use actix_web::web;

use crate::dashboard::DASHBOARD_PATH;
use crate::handlers::{health, log, method_not_allowed, otlp, sessions, ws};

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
    route("POST", "/v1/logs"),
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
                .route(web::get().to(sessions::list))
                .route(web::post().to(sessions::create))
                .default_service(web::to(method_not_allowed("GET, POST"))),
        )
        // Before `/sessions/{id}`, which would take `ws` for an id.
        .service(
            web::resource(WEBSOCKET_PATH)
                .route(web::get().to(ws::connect))
                .default_service(web::to(method_not_allowed("GET"))),
        )
        .service(
            web::resource("/sessions/{id}")
                .route(web::get().to(sessions::get))
                .route(web::post().to(sessions::upsert))
                .route(web::put().to(sessions::patch_metadata))
                .route(web::delete().to(sessions::end))
                .default_service(web::to(method_not_allowed("GET, POST, PUT, DELETE"))),
        )
        .service(
            web::resource("/sessions/{id}/log")
                .route(web::get().to(log::read))
                .route(web::post().to(log::append))
                .default_service(web::to(method_not_allowed("GET, POST"))),
        )
        .service(
            web::resource(HEALTH_PATH)
                .route(web::get().to(health::health))
                .default_service(web::to(method_not_allowed("GET"))),
        )
        // OTLP/HTTP's path for logs, where SDKs and collectors send them.
        .service(
            web::resource("/v1/logs")
                .route(web::post().to(otlp::export))
                .default_service(web::to(method_not_allowed("POST"))),
        );
}
