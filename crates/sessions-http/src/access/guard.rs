//! The middleware in front of every route: a connection past the limit is
//! answered 503, a request the [`AccessPolicy`](super::AccessPolicy) refuses gets its problem
//! document, and every response, refused or not, gets the security headers.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::headers::add_security_headers;
use crate::connections::ConnectionSlot;
use crate::{ApiError, AppState};

/// Middleware: refuses requests the [`AccessPolicy`](super::AccessPolicy) does not allow, and adds
/// the security headers to every response.
pub(crate) async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let over_limit = request
        .conn_data::<ConnectionSlot>()
        .is_some_and(|slot| slot.over_limit);
    let verdict = match request.app_data::<web::Data<AppState>>() {
        Some(state) if over_limit => Err(ApiError::TooManyConnections {
            limit: state.connections.max(),
        }),
        Some(state) => state.access.check(
            request.method(),
            request.path(),
            request.query_string(),
            request.headers(),
        ),
        None => Ok(()),
    };
    let mut response = match verdict {
        Ok(()) => next.call(request).await?.map_into_left_body(),
        Err(error) => request.error_response(error).map_into_right_body(),
    };
    add_security_headers(response.headers_mut());
    Ok(response)
}
