//! `GET /health`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::json_response;
use crate::wire::{HealthJson, HealthSessionsJson, HealthStoreJson};
use crate::{ApiError, AppState, query};

pub(crate) async fn health(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    query::no_query(request.query_string())?;
    let stats = state.store.stats();
    let store = state.store.health();
    Ok(json_response(
        StatusCode::OK,
        &HealthJson {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
            uptime_s: state.started.elapsed().as_secs(),
            sessions: HealthSessionsJson {
                active: stats.active_sessions,
                ended: stats.ended_sessions,
            },
            websocket_clients: state.live.watchers(),
            connections: state.connections.open(),
            log_memory_bytes: stats.log_bytes,
            store: HealthStoreJson {
                kind: store.kind,
                ok: store.ok,
                detail: store.detail,
            },
        },
    ))
}
