//! What a connection is doing, as far as its deadlines care: serving a
//! request, or waiting for the next one.
//!
//! actix parses request heads below the application, so the socket wrapper
//! ([`super::stream::ConnectionStream`]) cannot tell a head from a body. The
//! [`track_requests`] middleware tells it: a request is *in progress* from the
//! moment actix hands it to the application until its response body is done
//! (dropped), and bytes that arrive while none is in progress belong to the
//! next request's head. The same shared state lets a handler close its own
//! connection at once ([`ConnectionActivity::abort`]), which is what a
//! WebSocket watcher that stopped answering pings needs.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_util::task::AtomicWaker;

/// Shared by a connection's socket wrapper and the requests served on it.
#[derive(Debug, Default)]
pub(crate) struct ConnectionActivity {
    in_progress: AtomicUsize,
    finished: AtomicU64,
    aborted: AtomicBool,
    /// The connection's task, woken by [`ConnectionActivity::abort`].
    waker: AtomicWaker,
}

impl ConnectionActivity {
    /// Marks a request in progress until the returned guard is dropped.
    fn start(self: &Arc<Self>) -> RequestInProgress {
        self.in_progress.fetch_add(1, Ordering::AcqRel);
        RequestInProgress {
            activity: Arc::clone(self),
        }
    }

    /// Whether a request is being served now (its response not yet done).
    pub(crate) fn is_serving(&self) -> bool {
        self.in_progress.load(Ordering::Acquire) > 0
    }

    /// How many requests have been served to the end so far.
    pub(crate) fn finished(&self) -> u64 {
        self.finished.load(Ordering::Acquire)
    }

    /// Closes the connection as soon as its task runs: its socket fails
    /// every read and write from now on, and actix drops the connection
    /// with everything it holds.
    pub(crate) fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }

    /// Wakes `context`'s task on [`ConnectionActivity::abort`].
    pub(crate) fn wake_on_abort(&self, context: &Context<'_>) {
        self.waker.register(context.waker());
    }
}

/// Keeps a request counted as in progress while it lives.
#[derive(Debug)]
struct RequestInProgress {
    activity: Arc<ConnectionActivity>,
}

impl Drop for RequestInProgress {
    fn drop(&mut self) {
        self.activity.finished.fetch_add(1, Ordering::AcqRel);
        self.activity.in_progress.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Middleware: counts each request in progress on its connection until its
/// response body is done. Requests made without a [`ConnectionActivity`]
/// (in-process tests) pass through untouched.
pub(crate) async fn track_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<TrackedBody>, actix_web::Error> {
    let in_progress = request
        .conn_data::<Arc<ConnectionActivity>>()
        .map(ConnectionActivity::start);
    let response = next.call(request).await?;
    Ok(response.map_body(|_head, body| TrackedBody {
        body: body.boxed(),
        _in_progress: in_progress,
    }))
}

/// A response body that keeps its request in progress until it is dropped,
/// that is until actix wrote it whole or gave up on the connection.
pub(crate) struct TrackedBody {
    body: BoxBody,
    _in_progress: Option<RequestInProgress>,
}

impl MessageBody for TrackedBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_in_progress_until_its_guard_is_dropped() {
        let activity = Arc::new(ConnectionActivity::default());
        assert!(!activity.is_serving());
        let first = activity.start();
        let second = activity.start();
        drop(first);
        assert!(activity.is_serving(), "one still in progress");
        drop(second);
        assert!(!activity.is_serving());
        assert_eq!(activity.finished(), 2);
    }
}
