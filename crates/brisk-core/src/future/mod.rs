//! Combinators for futures inside one task.
//!
//! - [`FutureSet`] / [`LocalFutureSet`]: an unordered set of futures that
//!   polls only the members that were woken.

mod set;

pub use set::{FutureSet, LocalFutureSet, Next, PollNext};

#[cfg(test)]
pub(crate) mod tests_support {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread::Thread;

    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// Polls `future` on this thread, parking between polls (no runtime).
    pub(crate) fn block_on_local<F: Future>(future: F) -> F::Output {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }
}
