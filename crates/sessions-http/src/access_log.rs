//! The access log: one `debug` line per request, under the target
//! `zenserver::access`.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use crate::AppState;

/// Middleware: one `debug` line per request. Reads of the server's own log
/// are not logged: the dashboard follows that log, and logging each poll
/// would feed it its own traffic forever.
pub(crate) async fn access_log(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if !log::log_enabled!(log::Level::Debug) || reads_server_log(&request) {
        return next.call(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.path().to_owned();
    let response = next.call(request).await?;
    log::debug!(
        target: "zenserver::access",
        "{method} {path} {} {:.3} ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(response)
}

fn reads_server_log(request: &ServiceRequest) -> bool {
    let server = request
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.store.server_session_id());
    let Some(server) = server else {
        return false;
    };
    request.method() == Method::GET
        && request
            .path()
            .strip_prefix("/sessions/")
            .and_then(|rest| rest.strip_suffix("/log"))
            .is_some_and(|id| id.eq_ignore_ascii_case(&server.to_string()))
}
