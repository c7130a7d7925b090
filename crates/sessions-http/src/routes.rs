//! The route table: what is registered, and the list the OpenAPI document is
//! checked against.

use actix_web::web;

use crate::handlers::{health, log, method_not_allowed, sessions};

/// One method on one path, as `docs/openapi.yaml` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

/// Every route [`configure`] registers. `/sessions` without the slash is an
/// alias of `/sessions/` and not listed separately.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/sessions/",
    },
    Route {
        method: "POST",
        path: "/sessions/",
    },
    Route {
        method: "GET",
        path: "/sessions/{id}",
    },
    Route {
        method: "POST",
        path: "/sessions/{id}",
    },
    Route {
        method: "PUT",
        path: "/sessions/{id}",
    },
    Route {
        method: "DELETE",
        path: "/sessions/{id}",
    },
    Route {
        method: "GET",
        path: "/sessions/{id}/log",
    },
    Route {
        method: "POST",
        path: "/sessions/{id}/log",
    },
    Route {
        method: "GET",
        path: "/health",
    },
];

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource(["/sessions", "/sessions/"])
                .route(web::get().to(sessions::list))
                .route(web::post().to(sessions::create))
                .default_service(web::to(method_not_allowed("GET, POST"))),
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
            web::resource("/health")
                .route(web::get().to(health::health))
                .default_service(web::to(method_not_allowed("GET"))),
        );
}
