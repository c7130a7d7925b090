//! The socket under each connection, with the two deadlines actix does not
//! keep.
//!
//! - **Request heads.** actix times the head of a connection's first request
//!   only. After one response on a kept-alive connection, one byte of a next
//!   request held the connection forever, and a hundred such connections
//!   locked everyone out at the connection limit. Here every head must be
//!   complete within the request timeout of its first byte, and a connection
//!   whose previous response is done must send its next head within the
//!   keep-alive time plus that; otherwise it is answered 408 and closed.
//! - **Writes.** A connection whose socket accepts no byte for the write
//!   timeout (its peer stopped reading) is closed, so what it holds is freed.
//!
//! Which bytes belong to a head is known from [`ConnectionActivity`]: bytes
//! that arrive while no request is in progress start one.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::activity::ConnectionActivity;

/// What a connection that sent part of a head too slowly is told before it
/// is closed (actix answers a slow first head the same way).
const REQUEST_TIMEOUT_RESPONSE: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// The deadlines of every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionTimeouts {
    /// How long a request head may take from its first byte.
    pub request_head: Duration,
    /// How long the socket may take no byte of a response before the
    /// connection is closed.
    pub write: Duration,
    /// How long a kept-alive connection may sit idle between requests.
    pub keep_alive: Duration,
}

/// A TCP connection with head and write deadlines; see the module doc.
pub struct ConnectionStream {
    tcp: TcpStream,
    activity: Arc<ConnectionActivity>,
    timeouts: ConnectionTimeouts,
    /// When the head being received must be complete, if one is.
    head_deadline: Option<Pin<Box<Sleep>>>,
    /// Since when the socket took nothing of what there is to write.
    write_deadline: Option<Pin<Box<Sleep>>>,
    /// [`ConnectionActivity::finished`] when last looked at.
    finished_seen: u64,
}

impl std::fmt::Debug for ConnectionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionStream")
            .field("tcp", &self.tcp)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl ConnectionStream {
    pub(crate) fn new(tcp: TcpStream, timeouts: ConnectionTimeouts) -> ConnectionStream {
        ConnectionStream {
            tcp,
            activity: Arc::default(),
            timeouts,
            head_deadline: None,
            write_deadline: None,
            finished_seen: 0,
        }
    }

    /// The state the connection's requests share with it.
    pub(crate) fn activity(&self) -> Arc<ConnectionActivity> {
        Arc::clone(&self.activity)
    }

    /// Arms, tightens or clears the head deadline after a read that
    /// `received` bytes or not.
    fn follow_heads(&mut self, received: bool) {
        let finished = self.activity.finished();
        if self.activity.is_serving() {
            // Bytes now are a body (which has limits of its own) or a
            // pipelined request, which waits for this response.
            self.head_deadline = None;
            self.finished_seen = finished;
            return;
        }
        if finished != self.finished_seen {
            // A response is done: the deadline of its head is over (a quick
            // request may come and go between two reads, never seen in
            // progress here), and the next head, pipelined or not, has the
            // keep-alive time to start and the head timeout to finish.
            self.finished_seen = finished;
            self.head_deadline = None;
            self.arm_head_deadline(self.timeouts.keep_alive + self.timeouts.request_head);
        }
        if received {
            self.arm_head_deadline(self.timeouts.request_head);
        }
    }

    /// Sets the head deadline to `after` from now, unless it is earlier.
    fn arm_head_deadline(&mut self, after: Duration) {
        let at = Instant::now() + after;
        match &mut self.head_deadline {
            Some(deadline) if deadline.deadline() <= at => {}
            Some(deadline) => deadline.as_mut().reset(at),
            None => self.head_deadline = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }

    /// A write the socket did not take: closes the connection once it has
    /// taken nothing for the write timeout.
    fn write_blocked<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        self.activity.wake_on_abort(cx);
        let timeout = self.timeouts.write;
        let deadline = self
            .write_deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer took nothing for the write timeout",
            )));
        }
        Poll::Pending
    }

    fn wrote(
        &mut self,
        result: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match result {
            Poll::Pending => self.write_blocked(cx),
            Poll::Ready(Ok(written)) => {
                if written > 0 {
                    self.write_deadline = None;
                }
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
        }
    }
}

fn aborted<T>() -> Poll<io::Result<T>> {
    Poll::Ready(Err(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "closed by the server",
    )))
}

impl AsyncRead for ConnectionStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.activity.is_aborted() {
            return aborted();
        }
        let filled = buf.filled().len();
        let result = Pin::new(&mut this.tcp).poll_read(cx, buf);
        this.follow_heads(buf.filled().len() > filled);
        if result.is_pending() {
            this.activity.wake_on_abort(cx);
            if this.activity.is_aborted() {
                return aborted();
            }
        }
        if let Some(deadline) = &mut this.head_deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            this.head_deadline = None;
            // Best effort: the connection is closed either way.
            let _ = Pin::new(&mut this.tcp).poll_write(cx, REQUEST_TIMEOUT_RESPONSE);
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request head did not arrive in time",
            )));
        }
        result
    }
}

impl AsyncWrite for ConnectionStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.activity.is_aborted() {
            return aborted();
        }
        let result = Pin::new(&mut this.tcp).poll_write(cx, buf);
        this.wrote(result, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.activity.is_aborted() {
            return aborted();
        }
        let result = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        this.wrote(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}
