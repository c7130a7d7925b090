//! `GET /sessions/ws`: the live session list over a WebSocket.
//!
//! actix-ws does the handshake, decodes what the client sends and encodes the
//! control frames we answer with (pong, close). The session lists themselves
//! do not go through its per-connection queue, which would hold up to 32 of
//! them for a slow client: [`WatcherBody`] writes each list straight from the
//! shared [`Bytes`] of the feed, and only when the connection asks for more,
//! so a slow client skips to the newest list.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use event_listener::EventListener;
use tokio::time::Instant;

use crate::connections::ConnectionActivity;
use crate::live::{List, LiveUpdates, Snapshot, WatcherGuard};
use crate::pieces::Pieces;
use crate::{ApiError, AppState, query};

/// Largest frame a client may send; anything it sends is ignored anyway.
const MAX_CLIENT_FRAME: usize = 4 << 10;
/// How often the server pings.
const PING_INTERVAL: Duration = Duration::from_secs(15);
/// A client not heard from (pong or anything else) for this long is closed.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a client that stopped answering pings has to take its close
/// frame before its connection is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Messages a client may send in a burst, and per second after it.
const MESSAGE_BURST: f64 = 100.0;
const MESSAGES_PER_SECOND: f64 = 20.0;

pub(crate) async fn connect(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    query::ws_query(request.query_string())?;
    let (response, session, messages) = actix_ws::handle(&request, payload)
        .map_err(|error| ApiError::NotAWebSocket(error.to_string()))?;
    let live = Arc::clone(&state.live);
    let watcher = live.watcher();
    let messages = messages.max_frame_size(MAX_CLIENT_FRAME);
    let connection = request.conn_data::<Arc<ConnectionActivity>>().cloned();
    actix_web::rt::spawn(converse(
        session,
        messages,
        Arc::clone(&live),
        watcher,
        connection,
    ));
    let first = live.first_list();
    let deflate = offers_permessage_deflate(&request);
    let mut response =
        response.map_body(|_head, control| WatcherBody::new(control, live, first, deflate));
    if deflate {
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_EXTENSIONS,
            header::HeaderValue::from_static(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            ),
        );
    }
    Ok(response.map_into_boxed_body())
}

/// Whether the client offers permessage-deflate (RFC 7692) in a form the
/// shared, independently compressed lists satisfy: any offer that does not
/// limit the server's window below the 32 KiB it compresses with.
fn offers_permessage_deflate(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|offer| {
            let mut parts = offer.split(';').map(str::trim);
            parts.next() == Some("permessage-deflate")
                && parts.all(|parameter| {
                    let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
                    name != "server_max_window_bits" || value.trim_matches('"') == "15"
                })
        })
}

/// Reads what the client sends until the connection ends: answers pings,
/// pings the client, ignores messages (closing a client that floods), and
/// closes normally when the server shuts down. A client that stopped
/// answering pings has its `connection` dropped at once.
async fn converse(
    mut session: Session,
    mut messages: MessageStream,
    live: Arc<LiveUpdates>,
    _watcher: WatcherGuard,
    connection: Option<Arc<ConnectionActivity>>,
) {
    let mut last_heard = Instant::now();
    let mut allowance = MESSAGE_BURST;
    let mut allowance_at = Instant::now();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
    let reason = loop {
        tokio::select! {
            message = messages.recv() => {
                let message = match message {
                    Some(Ok(message)) => message,
                    Some(Err(error)) => {
                        break Some(CloseReason {
                            code: CloseCode::Protocol,
                            description: Some(format!("unreadable frame: {error}")),
                        });
                    }
                    // The connection is gone: nothing to close.
                    None => return,
                };
                last_heard = Instant::now();
                if matches!(message, Message::Close(_)) {
                    break None;
                }
                // Every message counts, pings too: each ping costs a pong.
                let now = Instant::now();
                let refill = now.duration_since(allowance_at).as_secs_f64() * MESSAGES_PER_SECOND;
                allowance = (allowance + refill).min(MESSAGE_BURST) - 1.0;
                allowance_at = now;
                if allowance < 0.0 {
                    break Some(CloseReason {
                        code: CloseCode::Policy,
                        description: Some("too many messages; this socket only sends".into()),
                    });
                }
                if let Message::Ping(bytes) = message
                    && session.pong(&bytes).await.is_err()
                {
                    return;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > CLIENT_TIMEOUT {
                    let reason = CloseReason {
                        code: CloseCode::Away,
                        description: Some("no answer to pings".into()),
                    };
                    // A peer that stopped answering may have stopped reading
                    // too, and then the close frame waits behind a list it
                    // never takes: after a grace, the connection is dropped
                    // with everything it holds.
                    let _ = tokio::time::timeout(CLOSE_GRACE, session.close(Some(reason))).await;
                    tokio::time::sleep(CLOSE_GRACE).await;
                    if let Some(connection) = &connection {
                        connection.abort();
                    }
                    return;
                }
                if session.ping(b"").await.is_err() {
                    return;
                }
            }
            _ = live.wait_closed() => {
                break Some(CloseReason {
                    code: CloseCode::Normal,
                    description: Some("server shutting down".into()),
                });
            }
        }
    };
    let _ = session.close(reason).await;
}

/// The response body of a watcher's connection: actix-ws's control frames,
/// and the newest session list whenever there is one the client has not had.
///
/// The list is pulled when the connection polls for more, that is when its
/// socket took what it had; so at most one list is ever pending per client,
/// and it is shared, not copied: the connection gets it a piece of at most
/// 64 KiB at a time.
pub(crate) struct WatcherBody {
    control: BoxBody,
    live: Arc<LiveUpdates>,
    /// Whether the client negotiated permessage-deflate.
    deflate: bool,
    /// The push of the list last written.
    sent: u64,
    /// The registry version of the list last written.
    sent_version: u64,
    /// The frame to write before any other.
    first: Option<(Bytes, Bytes)>,
    /// The rest of the payload of a list whose frame header was written,
    /// handed out a piece at a time.
    pending: Option<Pieces>,
    listener: Option<EventListener>,
}

impl WatcherBody {
    /// Starts with `first`, then follows the feed from the push it belongs
    /// to.
    fn new(
        control: BoxBody,
        live: Arc<LiveUpdates>,
        first: Snapshot,
        deflate: bool,
    ) -> WatcherBody {
        let mut body = WatcherBody {
            control,
            live,
            deflate,
            sent: first.push,
            sent_version: first.version,
            first: None,
            pending: None,
            listener: None,
        };
        body.first = Some(body.frame(&first.list));
        body
    }

    /// The frame header and payload of `list`, as this client takes it.
    fn frame(&self, list: &List) -> (Bytes, Bytes) {
        if self.deflate {
            (
                frame_header(0xc1, list.deflated.len()),
                list.deflated.clone(),
            )
        } else {
            (frame_header(0x81, list.json.len()), list.json.clone())
        }
    }
}

impl MessageBody for WatcherBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        // A frame's payload follows its header before anything else, control
        // frames included: they may not go inside another frame.
        if let Some(piece) = this.pending.as_mut().and_then(Pieces::next_piece) {
            return Poll::Ready(Some(Ok(piece)));
        }
        this.pending = None;
        if let Some((header, payload)) = this.first.take() {
            this.pending = Some(Pieces::new(payload));
            return Poll::Ready(Some(Ok(header)));
        }
        match Pin::new(&mut this.control).poll_next(cx) {
            Poll::Ready(Some(frames)) => return Poll::Ready(Some(frames)),
            // A close frame went out: the connection is done.
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        if this.live.is_closing() {
            // Wait for the close frame the conversation task is sending.
            return Poll::Pending;
        }
        loop {
            let latest = this.live.feed().latest();
            // A push of the very list this client started with (its first
            // list was taken fresh) is not sent twice; heartbeats are.
            let already_had = !latest.heartbeat && latest.version == this.sent_version;
            if latest.push != this.sent && !already_had {
                this.sent = latest.push;
                this.sent_version = latest.version;
                this.listener = None;
                let (header, payload) = this.frame(&latest.list);
                this.pending = Some(Pieces::new(payload));
                return Poll::Ready(Some(Ok(header)));
            }
            this.sent = latest.push;
            match &mut this.listener {
                // Listen, then look again: no push can slip in between.
                None => this.listener = Some(this.live.feed().listen()),
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.listener = None;
                }
            }
        }
    }
}

/// The header of an unmasked frame with a payload of `len` bytes (RFC 6455,
/// section 5.2; servers never mask). `first` holds FIN, RSV1 (set for a
/// compressed message) and the opcode.
fn frame_header(first: u8, len: usize) -> Bytes {
    let mut header = Vec::with_capacity(10);
    header.push(first);
    if len < 126 {
        header.push(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        header.push(126);
        header.extend_from_slice(&short.to_be_bytes());
    } else {
        header.push(127);
        header.extend_from_slice(&(len as u64).to_be_bytes());
    }
    Bytes::from(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_headers_use_the_shortest_length_encoding() {
        assert_eq!(&frame_header(0x81, 0)[..], [0x81, 0]);
        assert_eq!(&frame_header(0x81, 125)[..], [0x81, 125]);
        assert_eq!(&frame_header(0x81, 126)[..], [0x81, 126, 0, 126]);
        assert_eq!(&frame_header(0xc1, 65_535)[..], [0xc1, 126, 0xff, 0xff]);
        assert_eq!(
            &frame_header(0x81, 65_536)[..],
            [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]
        );
    }
}
