//! `GET /metrics`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::{ApiError, AppState, query};

/// The Prometheus text exposition format's media type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(crate) async fn metrics(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    query::no_query(request.query_string())?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .body(state.metrics.render(&state)))
}
