//! The service each server worker runs per accepted connection: the socket
//! wrapped in a [`ConnectionStream`], counted against the [`ConnectionLimit`],
//! and HTTP/1.1 over it into the [`app`].

use std::sync::Arc;

use actix_service::ServiceFactoryExt;
use actix_web::dev::{Extensions, ServiceFactory, fn_service};
use actix_web::rt::net::TcpStream;
use actix_web::web::ServiceConfig;

use super::ConnectionLimit;
use super::stream::{ConnectionStream, ConnectionTimeouts};
use crate::pieces::PIECE_BYTES;
use crate::{AppState, app};

/// Serves [`app`] (plus what `configure` adds, such as the dashboard) on
/// every connection; hand it to an `actix_server::ServerBuilder::listen`
/// factory, one per worker. HTTP/1.1 only, as the server speaks plain HTTP.
pub fn connection_service(
    state: Arc<AppState>,
    timeouts: ConnectionTimeouts,
    configure: impl FnOnce(&mut ServiceConfig) + 'static,
) -> impl ServiceFactory<
    TcpStream,
    Config = (),
    Response = (),
    Error = actix_http::error::DispatchError,
    InitError = (),
> {
    let limit: Arc<ConnectionLimit> = Arc::clone(&state.connections);
    let app = app(state).configure(configure);
    let http = actix_http::HttpService::build()
        .keep_alive(timeouts.keep_alive)
        .client_request_timeout(timeouts.request_head)
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        // actix takes body chunks until its buffer holds this much, so a
        // connection whose peer stopped reading holds two pieces at most.
        .h1_write_buffer_size(PIECE_BYTES)
        .on_connect_ext(move |stream: &ConnectionStream, data: &mut Extensions| {
            data.insert(stream.activity());
            limit.accept(data);
        })
        .h1(actix_service::map_config(app, |()| {
            actix_web::dev::AppConfig::default()
        }));
    fn_service(move |tcp: TcpStream| {
        // Every write goes out at once: with Nagle's algorithm, a small write
        // after another (a frame after its header) waits for the peer's
        // delayed ACK, 40 ms on Linux.
        if let Err(error) = tcp.set_nodelay(true) {
            log::debug!("cannot set TCP_NODELAY: {error}");
        }
        let peer = tcp.peer_addr().ok();
        std::future::ready(Ok((ConnectionStream::new(tcp, timeouts), peer)))
    })
    .and_then(http)
}
