//! Cooperative scheduling: a per-poll budget.
//!
//! A task that keeps finding ready futures (a channel that is never empty, a
//! socket that always has data) would otherwise never return to the
//! scheduler, starving its neighbours and the timers on its worker. Every
//! Brisk leaf future calls [`poll_proceed`] first; after [`BUDGET`]
//! operations in one poll it wakes the task and returns `Pending`, so the task
//! goes to the back of the queue.
//!
//! Hand-written leaf futures in other crates can take part too:
//!
//! ```
//! use std::task::{Context, Poll};
//! fn poll_my_resource(cx: &mut Context<'_>) -> Poll<u32> {
//!     if brisk::coop::poll_proceed(cx).is_pending() {
//!         return Poll::Pending;
//!     }
//!     Poll::Ready(7)
//! }
//! # brisk::run(async {
//! assert_eq!(std::future::poll_fn(poll_my_resource).await, 7);
//! # });
//! ```
//!
//! [`BUDGET`]: crate::context::BUDGET

use crate::context;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Spends one unit of the current task's budget. When the budget is spent,
/// wakes the task and returns `Pending`; outside a task it always proceeds.
///
/// It is also a *cancellation point*: in cancelled code (see
/// `brisk::task::Cancelled`) it returns `Pending` and asks the nearest
/// cancellation boundary to drop the future there. So every Brisk operation,
/// and every hand-written leaf future that calls this first, stops a
/// cancelled task even when it could complete at once — a consumer of a
/// channel that is never empty still stops.
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    match context::proceed(true) {
        context::Proceed::Yes => Poll::Ready(()),
        context::Proceed::Cancelled(_) => Poll::Pending,
        context::Proceed::Exhausted => {
            crate::task::raw::wake_by_ref_to_yield(cx.waker());
            Poll::Pending
        }
    }
}

/// [`poll_proceed`] for I/O leaf futures: in cancelled code it returns
/// `Ready(Err(e))`, where `e` is an `io::Error` carrying
/// `brisk::task::Cancelled`, instead of unwinding, so that I/O code can
/// clean up with `?`. Nothing is read or written in that case.
///
/// ```
/// use std::task::{Context, Poll};
/// fn poll_my_read(cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
///     std::task::ready!(brisk::coop::poll_proceed_io(cx))?;
///     Poll::Ready(Ok(0))
/// }
/// # brisk::run(async {
/// assert_eq!(std::future::poll_fn(poll_my_read).await.unwrap(), 0);
/// # });
/// ```
#[inline]
pub fn poll_proceed_io(cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
    match context::proceed(false) {
        context::Proceed::Yes => Poll::Ready(Ok(())),
        context::Proceed::Cancelled(reason) => {
            Poll::Ready(Err(crate::task::Cancelled::new(reason).into_io()))
        }
        context::Proceed::Exhausted => {
            crate::task::raw::wake_by_ref_to_yield(cx.waker());
            Poll::Pending
        }
    }
}

/// True if the current task still has budget left.
pub fn has_budget_remaining() -> bool {
    context::with_budget_peek()
}

/// Polls `future` with a fresh budget on every poll: what backends do for the
/// future given to `block_on`.
pub fn with_fresh_budget<F: Future>(future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
    context::with_budget(context::BUDGET, || future.poll(cx))
}

/// Wraps a future so that it is never forced to yield by the budget.
///
/// ```
/// # brisk::run(async {
/// let v = brisk::coop::unconstrained(async { 5 }).await;
/// assert_eq!(v, 5);
/// # });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

/// The future returned by [`unconstrained`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Unconstrained<F> {
    future: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of the only field; it is never moved.
        let future = unsafe { self.map_unchecked_mut(|s| &mut s.future) };
        context::with_budget(context::UNCONSTRAINED, || future.poll(cx))
    }
}
