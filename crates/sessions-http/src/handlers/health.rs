//! `GET /health`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::json_response;
use crate::wire::{HealthJson, HealthSessionsJson};
use crate::{ApiError, AppState, query};

pub(crate) async fn health(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    query::no_query(request.query_string())?;
    let registry = &state.registry;
    Ok(json_response(
        StatusCode::OK,
        &HealthJson {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
            uptime_s: state.started.elapsed().as_secs(),
            sessions: HealthSessionsJson {
                active: registry.active_count(),
                ended: registry.ended_count(),
            },
            websocket_clients: state.live.watchers(),
            connections: state.connections.open(),
            log_memory_bytes: registry.log_memory(),
        },
    ))
}
