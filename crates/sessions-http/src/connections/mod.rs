//! The connection limit: connections beyond it get a short 503 and are
//! closed, instead of piling up until memory or file descriptors run out.
//!
//! Counting happens when a connection is accepted ([`ConnectionLimit::accept`],
//! called from the server's on-connect hook) and ends when actix drops the
//! connection's data, that is when the connection closes. The verdict is
//! taken at accept time and kept with the connection, so a connection is
//! either served or refused for its whole life.

mod activity;
mod service;
mod stream;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::dev::Extensions;

pub(crate) use activity::{ConnectionActivity, track_requests};
pub use service::connection_service;
pub use stream::{ConnectionStream, ConnectionTimeouts};

/// How many connections are open, and how many may be.
#[derive(Debug)]
pub struct ConnectionLimit {
    open: AtomicUsize,
    max: usize,
}

/// Kept with each connection; counts it while it lives.
#[derive(Debug)]
pub(crate) struct ConnectionSlot {
    limit: Arc<ConnectionLimit>,
    pub(crate) over_limit: bool,
}

impl ConnectionLimit {
    pub fn new(max: usize) -> Arc<ConnectionLimit> {
        Arc::new(ConnectionLimit {
            open: AtomicUsize::new(0),
            max: max.max(1),
        })
    }

    /// Counts a new connection; call it from `HttpServer::on_connect`.
    pub fn accept(self: &Arc<Self>, connection_data: &mut Extensions) {
        let open = self.open.fetch_add(1, Ordering::AcqRel) + 1;
        connection_data.insert(ConnectionSlot {
            limit: Arc::clone(self),
            over_limit: open > self.max,
        });
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.limit.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_over_the_limit_are_marked_and_counted_until_closed() {
        let limit = ConnectionLimit::new(2);
        let mut connections: Vec<Extensions> = (0..3).map(|_| Extensions::new()).collect();
        for data in &mut connections {
            limit.accept(data);
        }
        let verdicts: Vec<bool> = connections
            .iter()
            .map(|data| data.get::<ConnectionSlot>().unwrap().over_limit)
            .collect();
        assert_eq!(verdicts, [false, false, true]);
        assert_eq!(limit.open(), 3);
        connections.truncate(1);
        assert_eq!(limit.open(), 1, "closing releases the slot");
    }
}
