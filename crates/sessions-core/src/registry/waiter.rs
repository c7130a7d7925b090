//! Waiting for the registry to change, without tying it to a runtime.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use event_listener::EventListener;

/// Resolves when what it was made for may have changed: a log grew, a
/// session ended or left, the session list changed, or the registry is
/// shutting down. It carries no result: look again to see what happened, and
/// expect an occasional wake-up with nothing new.
///
/// Runtime-agnostic: poll it from any executor and put a timeout around it.
#[derive(Debug)]
pub struct Waiter {
    listener: EventListener,
}

impl Waiter {
    pub(super) fn new(listener: EventListener) -> Waiter {
        Waiter { listener }
    }
}

impl Future for Waiter {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.listener).poll(cx)
    }
}
