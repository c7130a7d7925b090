//! Waiting for a store's answer on a plain thread (the log drain, start-up),
//! outside any async runtime.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake};
use std::thread::Thread;

/// Runs `future` to completion on this thread, parking between polls. A
/// store does its IO on its own runtime and wakes this thread when the
/// answer is in; the memory store's answers are ready at the first poll.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Arc::new(ThreadWaker(std::thread::current())).into();
    let mut context = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            // A wake-up that came before the park makes it return at once.
            Poll::Pending => std::thread::park(),
        }
    }
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A future woken from another thread, as a store's answer is.
    #[test]
    fn a_future_woken_by_another_thread_completes() {
        let (sender, receiver) = std::sync::mpsc::channel::<std::task::Waker>();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&done);
        std::thread::spawn(move || {
            let waker = receiver.recv().unwrap();
            std::thread::sleep(Duration::from_millis(20));
            flag.store(true, std::sync::atomic::Ordering::Release);
            waker.wake();
        });
        let mut sent = Some(sender);
        let answer = block_on(std::future::poll_fn(|context| {
            if done.load(std::sync::atomic::Ordering::Acquire) {
                return Poll::Ready(42);
            }
            if let Some(sender) = sent.take() {
                sender.send(context.waker().clone()).unwrap();
            }
            Poll::Pending
        }));
        assert_eq!(answer, 42);
    }
}
