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
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    if context::consume_budget() {
        Poll::Ready(())
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
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
