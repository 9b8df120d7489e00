//! `buffered`, `buffer_unordered` and `for_each_concurrent`: up to n futures
//! in flight inside the consuming task.
//!
//! Ground rules:
//! - Filling: while there is room and the upstream has not ended, pull from
//!   it; a `Pending` upstream has registered our waker.
//! - `poll_next` and `poll_progress` both fill and poll the woken futures;
//!   only `poll_next` hands out outputs. That is what keeps the futures
//!   moving while the consumer is busy with an item.
//! - When the set is full, the upstream's own `poll_progress` is called, so
//!   progress reaches further up.

use crate::error;
use crate::inflight::{InFlight, Order};
use crate::AsyncIterator;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

#[track_caller]
fn check_limit(n: usize) {
    if n == 0 {
        panic!("{}", error::ZERO_LIMIT);
    }
}

/// Pulls from `upstream` into `set` while there is room. Returns `true` if
/// the upstream is pending with room left (our waker is registered with it).
fn fill<I, F>(
    mut upstream: Pin<&mut I>,
    upstream_done: &mut bool,
    set: &mut InFlight<F>,
    cx: &mut Context<'_>,
    mut make: impl FnMut(I::Item) -> F,
) -> bool
where
    I: AsyncIterator,
    F: Future,
{
    while !*upstream_done && !set.is_full() {
        match upstream.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => set.push(make(item)),
            Poll::Ready(None) => *upstream_done = true,
            Poll::Pending => return true,
        }
    }
    false
}

/// The shared body of `Buffered` and `BufferUnordered`.
fn poll_next_buffered<I>(
    mut upstream: Pin<&mut I>,
    upstream_done: &mut bool,
    set: &mut InFlight<I::Item>,
    cx: &mut Context<'_>,
) -> Poll<Option<<I::Item as Future>::Output>>
where
    I: AsyncIterator,
    I::Item: Future,
{
    fill(upstream.as_mut(), upstream_done, set, cx, |f| f);
    let _ = set.poll_woken(cx);
    if let Some(out) = set.pop() {
        return Poll::Ready(Some(out));
    }
    if set.is_empty() && *upstream_done {
        return Poll::Ready(None);
    }
    if set.is_full() && !*upstream_done {
        let _ = upstream.poll_progress(cx);
    }
    Poll::Pending
}

fn poll_progress_buffered<I>(
    mut upstream: Pin<&mut I>,
    upstream_done: &mut bool,
    set: &mut InFlight<I::Item>,
    cx: &mut Context<'_>,
) -> Poll<()>
where
    I: AsyncIterator,
    I::Item: Future,
{
    let upstream_pending = fill(upstream.as_mut(), upstream_done, set, cx, |f| f);
    let running = set.poll_woken(cx).is_pending();
    let further_up = if set.is_full() && !*upstream_done {
        upstream.poll_progress(cx).is_pending()
    } else {
        false
    };
    if upstream_pending || running || further_up {
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

fn size_hint_buffered(
    upstream: (usize, Option<usize>),
    upstream_done: bool,
    held: usize,
) -> (usize, Option<usize>) {
    if upstream_done {
        return (held, Some(held));
    }
    let (lo, hi) = upstream;
    (
        lo.saturating_add(held),
        hi.and_then(|h| h.checked_add(held)),
    )
}

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::buffered`](crate::AsyncIteratorExt::buffered).
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Buffered<I>
    where
        I: AsyncIterator,
        I::Item: Future,
    {
        #[pin]
        upstream: I,
        upstream_done: bool,
        set: InFlight<I::Item>,
    }
}

impl<I> Buffered<I>
where
    I: AsyncIterator,
    I::Item: Future,
{
    #[track_caller]
    pub(crate) fn new(upstream: I, n: usize) -> Self {
        check_limit(n);
        Buffered {
            upstream,
            upstream_done: false,
            set: InFlight::new(n, Order::Input),
        }
    }
}

impl<I> fmt::Debug for Buffered<I>
where
    I: AsyncIterator + fmt::Debug,
    I::Item: Future,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffered")
            .field("upstream", &self.upstream)
            .field("in_flight", &self.set.len())
            .finish()
    }
}

impl<I> AsyncIterator for Buffered<I>
where
    I: AsyncIterator,
    I::Item: Future,
{
    type Item = <I::Item as Future>::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        poll_next_buffered(this.upstream, this.upstream_done, this.set, cx)
    }

    /// Pulls futures from the upstream while there is room and polls the
    /// ones in flight that were woken; `Ready` once none is running and the
    /// upstream has nothing more to give or no room is left.
    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        poll_progress_buffered(this.upstream, this.upstream_done, this.set, cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint_buffered(
            self.upstream.size_hint(),
            self.upstream_done,
            self.set.len(),
        )
    }
}

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::buffer_unordered`](crate::AsyncIteratorExt::buffer_unordered).
    #[must_use = "async iterators do nothing unless polled"]
    pub struct BufferUnordered<I>
    where
        I: AsyncIterator,
        I::Item: Future,
    {
        #[pin]
        upstream: I,
        upstream_done: bool,
        set: InFlight<I::Item>,
    }
}

impl<I> BufferUnordered<I>
where
    I: AsyncIterator,
    I::Item: Future,
{
    #[track_caller]
    pub(crate) fn new(upstream: I, n: usize) -> Self {
        check_limit(n);
        BufferUnordered {
            upstream,
            upstream_done: false,
            set: InFlight::new(n, Order::Completion),
        }
    }
}

impl<I> fmt::Debug for BufferUnordered<I>
where
    I: AsyncIterator + fmt::Debug,
    I::Item: Future,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferUnordered")
            .field("upstream", &self.upstream)
            .field("in_flight", &self.set.len())
            .finish()
    }
}

impl<I> AsyncIterator for BufferUnordered<I>
where
    I: AsyncIterator,
    I::Item: Future,
{
    type Item = <I::Item as Future>::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        poll_next_buffered(this.upstream, this.upstream_done, this.set, cx)
    }

    /// Pulls futures from the upstream while there is room and polls the
    /// ones in flight that were woken; `Ready` once none is running and the
    /// upstream has nothing more to give or no room is left.
    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        poll_progress_buffered(this.upstream, this.upstream_done, this.set, cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint_buffered(
            self.upstream.size_hint(),
            self.upstream_done,
            self.set.len(),
        )
    }
}

pin_project! {
    /// The future returned by [`AsyncIteratorExt::for_each_concurrent`](crate::AsyncIteratorExt::for_each_concurrent).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ForEachConcurrent<I, F, Fut>
    where
        Fut: Future,
    {
        #[pin]
        upstream: I,
        upstream_done: bool,
        f: F,
        set: InFlight<Fut>,
    }
}

impl<I, F, Fut: Future> ForEachConcurrent<I, F, Fut> {
    #[track_caller]
    pub(crate) fn new(upstream: I, n: usize, f: F) -> Self {
        check_limit(n);
        ForEachConcurrent {
            upstream,
            upstream_done: false,
            f,
            set: InFlight::new(n, Order::Completion),
        }
    }
}

impl<I: fmt::Debug, F, Fut: Future> fmt::Debug for ForEachConcurrent<I, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForEachConcurrent")
            .field("upstream", &self.upstream)
            .field("in_flight", &self.set.len())
            .finish()
    }
}

impl<I, F, Fut> Future for ForEachConcurrent<I, F, Fut>
where
    I: AsyncIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future<Output = ()>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        loop {
            fill(
                this.upstream.as_mut(),
                this.upstream_done,
                this.set,
                cx,
                &mut *this.f,
            );
            let _ = this.set.poll_woken(cx);
            let mut freed = false;
            while this.set.pop().is_some() {
                freed = true;
            }
            if *this.upstream_done && this.set.is_empty() {
                return Poll::Ready(());
            }
            if *this.upstream_done {
                return Poll::Pending;
            }
            if freed {
                // Room again: pull more before sleeping, but let other tasks
                // run if this keeps going without ever waiting.
                std::task::ready!(brisk_core::coop::poll_proceed(cx));
                continue;
            }
            if this.set.is_full() {
                let _ = this.upstream.as_mut().poll_progress(cx);
            }
            return Poll::Pending;
        }
    }
}
