//! Async iteration: the [`AsyncIterator`] trait, producers you write without
//! `poll_next`, combinators, and a [`buffered`](AsyncIteratorExt::buffered)
//! that keeps its futures moving while you are busy with an item.
//!
//! ```
//! use brisk::iter::AsyncIteratorExt;
//! use std::time::Duration;
//!
//! # brisk::run(async {
//! let pages = brisk::iter::iter(1..=4u64)
//!     .map(|page| async move {
//!         brisk::time::sleep(Duration::from_millis(page)).await;
//!         page * 10
//!     })
//!     .buffered(2);
//! let mut seen = Vec::new();
//! pages
//!     .for_each(|body| {
//!         seen.push(body);
//!         async {}
//!     })
//!     .await;
//! assert_eq!(seen, [10, 20, 30, 40]);
//! # });
//! ```
//!
//! # Why its own trait
//! std's `AsyncIterator` is unstable, so stable code cannot name it. futures'
//! `Stream` is stable and everywhere, but it has only `poll_next`: a
//! `buffered(n)` stream polls its n in-flight futures *only* while someone
//! asks it for the next item. Write `stream.buffered(5).for_each(slow)` and,
//! while `slow` runs, nobody polls the stream, so the buffered futures stall
//! (and a timer or a lock they hold can expire or starve others).
//!
//! [`AsyncIterator`] adds one provided method, [`poll_progress`]
//! (following the `poll_progress` design proposal for Rust's async
//! iteration): a consumer that is busy awaiting its own future for an item
//! also calls its upstream's `poll_progress`, which lets `buffered` keep
//! pulling new futures and polling the ones in flight. Every adapter here
//! forwards it, and every consumer here that awaits a future per item
//! ([`for_each`], [`fold`], [`then`], [`for_each_concurrent`]) calls it.
//! A loop written by hand — `while let Some(x) = it.next().await { .. }` —
//! does the same by awaiting its per-item work through
//! [`it.drive(work)`](AsyncIteratorExt::drive); awaited directly, that work
//! leaves the iterator unpolled until the next `next()`.
//! [`collect`], [`try_collect`] and [`count`] await nothing but `poll_next`
//! itself, which already drives everything upstream.
//!
//! # Interop with `Stream`
//! Both ways are one call: [`AsyncIteratorExt::into_stream`] gives a
//! `futures_core::Stream`, and [`from_stream`] (or
//! [`IntoAsyncIter::into_async_iter`], implemented for every `Stream`) gives
//! an `AsyncIterator`. A `Stream` has no `poll_progress`, so an adapter seen
//! through `into_stream` is only driven by `poll_next`.
//!
//! # Writing producers
//! Few iterators need a hand-written `poll_next`: [`from_fn`] calls an async
//! closure per item, [`stream`] turns an async block that `yield_`s items into
//! an iterator ([`try_stream`] for producers that can fail, ending with an
//! `Err` item, which [`try_collect`] stops at), and [`iter`], [`once`],
//! [`empty`] and [`repeat_with`] cover the simple cases.
//!
//! # Pinning
//! Combinators take their iterator by value and consumers ([`for_each`],
//! [`collect`], ...) are futures you `.await`: no hand pinning. [`next`]
//! needs an `Unpin` iterator; most are (those from [`iter`], [`stream`],
//! [`from_stream`] of an `Unpin` stream, `map`, `buffered`, ...). One that
//! holds an `async` block inline ([`from_fn`], [`then`], [`once`]) is not:
//! pin it on the stack with `std::pin::pin!(it)` and call `next` on the
//! `Pin<&mut _>`, or box it with `Box::pin`.
//!
//! # Concurrency, not parallelism
//! [`buffered`], [`buffer_unordered`] and [`for_each_concurrent`] run their
//! futures concurrently *inside the task that consumes them*: they interleave
//! on one thread, one poll at a time. To run items in parallel on a
//! multi-thread runtime, map each item to a spawned task and buffer the join
//! handles: `.map(|x| brisk::spawn(work(x))).buffered(n)`.
//!
//! [`poll_progress`]: AsyncIterator::poll_progress
//! [`for_each`]: AsyncIteratorExt::for_each
//! [`fold`]: AsyncIteratorExt::fold
//! [`then`]: AsyncIteratorExt::then
//! [`for_each_concurrent`]: AsyncIteratorExt::for_each_concurrent
//! [`collect`]: AsyncIteratorExt::collect
//! [`try_collect`]: AsyncIteratorExt::try_collect
//! [`count`]: AsyncIteratorExt::count
//! [`next`]: AsyncIteratorExt::next
//! [`buffered`]: AsyncIteratorExt::buffered
//! [`buffer_unordered`]: AsyncIteratorExt::buffer_unordered

#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod adapters;
mod buffered;
mod consumers;
mod error;
mod ext;
mod generator;
mod inflight;
mod interop;
mod sources;

pub use adapters::{Chain, Filter, Fuse, Map, Merge, Take, Then, Zip};
pub use buffered::{BufferUnordered, Buffered, ForEachConcurrent};
pub use consumers::{Collect, Count, Fold, ForEach, TryCollect};
pub use ext::{AsyncIteratorExt, Drive, Next, TryItem};
pub use generator::{stream, try_stream, Generator, TryGenerator, Yield, Yielder};
pub use interop::{from_stream, FromStream, IntoAsyncIter, IntoStream};
pub use sources::{empty, from_fn, iter, once, repeat_with, Empty, FromFn, Iter, Once, RepeatWith};

use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A source of values produced asynchronously, one at a time.
///
/// Most code uses the methods of [`AsyncIteratorExt`] (implemented for every
/// `AsyncIterator`) rather than calling these directly.
///
/// # Contract
/// Implementations MUST:
/// - return `Poll::Pending` from [`poll_next`](Self::poll_next) or
///   [`poll_progress`](Self::poll_progress) only after arranging for the
///   waker of `cx` to be woken when polling again can make progress;
/// - never produce, drop or reorder items in `poll_progress`: items are
///   handed out only by `poll_next`;
/// - accept `poll_progress` at any time and any number of times: before the
///   first `poll_next`, between items, and after the end;
/// - forward `poll_progress` to the iterators they wrap (adapters).
///
/// After `poll_next` has returned `Ready(None)`, polling it again may return
/// anything (but must not be unsound); [`AsyncIteratorExt::fuse`] guarantees
/// `None` forever.
///
/// # Examples
/// A counter written by hand (most iterators need no `poll_next`: see
/// [`from_fn`] and [`stream`]):
/// ```
/// use brisk::iter::{AsyncIterator, AsyncIteratorExt};
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
///
/// struct Countdown(u32);
///
/// impl AsyncIterator for Countdown {
///     type Item = u32;
///     fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u32>> {
///         if self.0 == 0 {
///             return Poll::Ready(None);
///         }
///         self.0 -= 1;
///         Poll::Ready(Some(self.0 + 1))
///     }
/// }
///
/// # brisk::run(async {
/// let all: Vec<u32> = Countdown(3).collect().await;
/// assert_eq!(all, [3, 2, 1]);
/// # });
/// ```
pub trait AsyncIterator {
    /// The type of the values produced.
    type Item;

    /// Attempts to produce the next value: `Ready(Some(item))`, `Ready(None)`
    /// when the iterator is finished, or `Pending` (the waker of `cx` will be
    /// woken when it is worth polling again).
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>>;

    /// Drives work the iterator has in flight without producing an item.
    ///
    /// A consumer that is busy with an item — awaiting its own future before
    /// it asks for the next one — calls this on its upstream each time it is
    /// polled, so that work started by the iterator (the futures
    /// [`buffered`](AsyncIteratorExt::buffered) holds, for example) keeps
    /// advancing in the meantime instead of stalling until the next
    /// `poll_next`.
    ///
    /// Returns `Ready(())` when there is nothing more the iterator can do
    /// until `poll_next` is called (nothing in flight, or everything it may
    /// hold is done), and `Pending` when work is still in flight; in that
    /// case the waker of `cx` is woken when calling again can advance it.
    /// Calling it again after `Ready` is allowed and cheap.
    ///
    /// The default does nothing and returns `Ready(())`: right for iterators
    /// that only work when asked for an item.
    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _ = cx;
        Poll::Ready(())
    }

    /// Bounds on the number of items left: `(lower, Some(upper))` or
    /// `(lower, None)` when unknown, like [`Iterator::size_hint`]. A hint
    /// only: callers must not rely on it for correctness.
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
}

impl<I: AsyncIterator + Unpin + ?Sized> AsyncIterator for &mut I {
    type Item = I::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        I::poll_next(Pin::new(&mut **self), cx)
    }

    fn poll_progress(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        I::poll_progress(Pin::new(&mut **self), cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (**self).size_hint()
    }
}

impl<I: AsyncIterator + Unpin + ?Sized> AsyncIterator for Box<I> {
    type Item = I::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        I::poll_next(Pin::new(&mut **self), cx)
    }

    fn poll_progress(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        I::poll_progress(Pin::new(&mut **self), cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (**self).size_hint()
    }
}

/// `Pin<&mut I>` and `Pin<Box<I>>`: how a `!Unpin` iterator is used by
/// reference (after `std::pin::pin!`) or boxed.
impl<P> AsyncIterator for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncIterator,
{
    type Item = <P::Target as AsyncIterator>::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().as_mut().poll_next(cx)
    }

    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().as_mut().poll_progress(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (**self).size_hint()
    }
}
