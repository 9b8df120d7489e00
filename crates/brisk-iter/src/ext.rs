//! `AsyncIteratorExt`: `next` and every combinator, for every `AsyncIterator`.

use crate::adapters::{Chain, Filter, Fuse, Map, Merge, Take, Then, Zip};
use crate::buffered::{BufferUnordered, Buffered, ForEachConcurrent};
use crate::consumers::{Collect, Count, Fold, ForEach, TryCollect};
use crate::interop::IntoStream;
use crate::AsyncIterator;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// `Result` seen as an item of a fallible iterator: what
/// [`AsyncIteratorExt::try_collect`] needs from its items. Implemented for
/// every `Result<T, E>` and nothing else.
pub trait TryItem: sealed::Sealed {
    /// The success type (`T` of `Result<T, E>`).
    type Ok;
    /// The error type (`E` of `Result<T, E>`).
    type Error;
    /// The item as a `Result`.
    fn into_result(self) -> Result<Self::Ok, Self::Error>;
}

impl<T, E> TryItem for Result<T, E> {
    type Ok = T;
    type Error = E;
    fn into_result(self) -> Result<T, E> {
        self
    }
}

mod sealed {
    pub trait Sealed {}
    impl<T, E> Sealed for Result<T, E> {}
}

/// The methods of async iteration, implemented for every [`AsyncIterator`].
///
/// Adapters (`map`, `filter`, `then`, `take`, `chain`, `zip`, `merge`,
/// `fuse`, `buffered`, `buffer_unordered`) take the iterator by value and
/// return a new iterator; consumers (`collect`, `try_collect`, `for_each`,
/// `for_each_concurrent`, `fold`, `count`) return a future to `.await`.
/// Nothing needs pinning by hand.
pub trait AsyncIteratorExt: AsyncIterator {
    /// The next item, or `None` at the end: `it.next().await`.
    ///
    /// Needs an `Unpin` iterator; pin a `!Unpin` one first with
    /// `std::pin::pin!(it)` (then call `next` on the `Pin<&mut _>`) or with
    /// `Box::pin(it)`.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let mut it = brisk::iter::iter([1, 2]);
    /// assert_eq!(it.next().await, Some(1));
    /// assert_eq!(it.next().await, Some(2));
    /// assert_eq!(it.next().await, None);
    ///
    /// // An iterator holding an `async` block is `!Unpin`: pin it first.
    /// let once = brisk::iter::once(async { 7 });
    /// let mut once = std::pin::pin!(once);
    /// assert_eq!(once.next().await, Some(7));
    /// # });
    /// ```
    fn next(&mut self) -> Next<'_, Self>
    where
        Self: Unpin,
    {
        Next { iter: self }
    }

    /// Maps each item with a synchronous closure.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let v: Vec<i32> = brisk::iter::iter(1..=3).map(|x| x * 2).collect().await;
    /// assert_eq!(v, [2, 4, 6]);
    /// # });
    /// ```
    fn map<B, F>(self, f: F) -> Map<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> B,
    {
        Map::new(self, f)
    }

    /// Keeps the items for which a synchronous predicate returns `true`. For
    /// an asynchronous test, use [`then`](Self::then) to compute it and
    /// `filter` on the result.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let v: Vec<i32> = brisk::iter::iter(1..=6).filter(|x| x % 2 == 0).collect().await;
    /// assert_eq!(v, [2, 4, 6]);
    /// # });
    /// ```
    fn filter<P>(self, predicate: P) -> Filter<Self, P>
    where
        Self: Sized,
        P: FnMut(&Self::Item) -> bool,
    {
        Filter::new(self, predicate)
    }

    /// Maps each item with an asynchronous closure, one item at a time.
    ///
    /// While the future for an item is pending, `then` calls its upstream's
    /// [`poll_progress`](AsyncIterator::poll_progress), and its own
    /// `poll_progress` drives that future, so `buffered` work on either side
    /// keeps moving. The returned iterator holds the future inline, so it is
    /// `!Unpin` when the future is: pin it before calling `next`.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let v: Vec<String> = brisk::iter::iter(["a", "b"])
    ///     .then(|s| async move {
    ///         brisk::task::yield_now().await;
    ///         s.to_uppercase()
    ///     })
    ///     .collect()
    ///     .await;
    /// assert_eq!(v, ["A", "B"]);
    /// # });
    /// ```
    fn then<F, Fut>(self, f: F) -> Then<Self, F, Fut>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> Fut,
        Fut: Future,
    {
        Then::new(self, f)
    }

    /// At most the first `n` items; the upstream is not polled once `n`
    /// items have been produced.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let v: Vec<u32> = brisk::iter::repeat_with(|| 9).take(2).collect().await;
    /// assert_eq!(v, [9, 9]);
    /// # });
    /// ```
    fn take(self, n: usize) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, n)
    }

    /// All items of `self`, then all items of `other`.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let v: Vec<i32> = brisk::iter::iter([1, 2]).chain(brisk::iter::iter([3])).collect().await;
    /// assert_eq!(v, [1, 2, 3]);
    /// # });
    /// ```
    fn chain<B>(self, other: B) -> Chain<Self, B>
    where
        Self: Sized,
        B: AsyncIterator<Item = Self::Item>,
    {
        Chain::new(self, other)
    }

    /// Pairs of items, one from each iterator; ends when either ends.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let v: Vec<(i32, char)> = brisk::iter::iter([1, 2, 3])
    ///     .zip(brisk::iter::iter(['a', 'b']))
    ///     .collect()
    ///     .await;
    /// assert_eq!(v, [(1, 'a'), (2, 'b')]);
    /// # });
    /// ```
    fn zip<B>(self, other: B) -> Zip<Self, B>
    where
        Self: Sized,
        B: AsyncIterator,
    {
        Zip::new(self, other)
    }

    /// Items of both iterators as they become ready. When both have an item
    /// ready they take turns, so neither starves the other; ends when both
    /// have ended.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let v: Vec<i32> = brisk::iter::iter([1, 3, 5, 7])
    ///     .merge(brisk::iter::iter([2, 4]))
    ///     .collect()
    ///     .await;
    /// assert_eq!(v, [1, 2, 3, 4, 5, 7]);
    /// # });
    /// ```
    fn merge<B>(self, other: B) -> Merge<Self, B>
    where
        Self: Sized,
        B: AsyncIterator<Item = Self::Item>,
    {
        Merge::new(self, other)
    }

    /// An iterator that returns `None` forever once it has returned `None`,
    /// without polling the upstream again.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let mut it = brisk::iter::iter([1]).fuse();
    /// assert_eq!(it.next().await, Some(1));
    /// assert_eq!(it.next().await, None);
    /// assert_eq!(it.next().await, None);
    /// # });
    /// ```
    fn fuse(self) -> Fuse<Self>
    where
        Self: Sized,
    {
        Fuse::new(self)
    }

    /// For an iterator of futures: keeps up to `n` of them in flight and
    /// yields their outputs in the order the futures were produced.
    ///
    /// The futures run concurrently inside the consuming task (not in
    /// parallel; see the [crate docs](crate#concurrency-not-parallelism)).
    /// Through [`poll_progress`](AsyncIterator::poll_progress) they keep
    /// running, and the buffer keeps refilling from the upstream, while the
    /// consumer is busy with an item: Brisk's consumers
    /// ([`for_each`](Self::for_each), [`then`](Self::then), ...) call it;
    /// a hand-written `while let` loop awaits its per-item work through
    /// [`drive`](Self::drive). A finished output waiting for an earlier
    /// future still counts towards `n`.
    ///
    /// # Panics
    /// If `n` is 0.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    /// use std::time::Duration;
    ///
    /// # brisk::run(async {
    /// let v: Vec<u64> = brisk::iter::iter([30u64, 10, 20])
    ///     .map(|ms| async move {
    ///         brisk::time::sleep(Duration::from_millis(ms)).await;
    ///         ms
    ///     })
    ///     .buffered(3)
    ///     .collect()
    ///     .await;
    /// assert_eq!(v, [30, 10, 20]); // input order
    /// # });
    /// ```
    #[track_caller]
    fn buffered(self, n: usize) -> Buffered<Self>
    where
        Self: Sized,
        Self::Item: Future,
    {
        Buffered::new(self, n)
    }

    /// Like [`buffered`](Self::buffered), but yields outputs in the order the
    /// futures finish.
    ///
    /// # Panics
    /// If `n` is 0.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    /// use std::time::Duration;
    ///
    /// # brisk::run(async {
    /// let v: Vec<u64> = brisk::iter::iter([30u64, 10, 20])
    ///     .map(|ms| async move {
    ///         brisk::time::sleep(Duration::from_millis(ms)).await;
    ///         ms
    ///     })
    ///     .buffer_unordered(3)
    ///     .collect()
    ///     .await;
    /// assert_eq!(v, [10, 20, 30]); // completion order
    /// # });
    /// ```
    #[track_caller]
    fn buffer_unordered(self, n: usize) -> BufferUnordered<Self>
    where
        Self: Sized,
        Self::Item: Future,
    {
        BufferUnordered::new(self, n)
    }

    /// Collects every item into a collection (`Vec`, `String`, `HashMap`,
    /// ...: anything `Default + Extend`).
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let s: String = brisk::iter::iter(['h', 'i']).collect().await;
    /// assert_eq!(s, "hi");
    /// # });
    /// ```
    fn collect<C>(self) -> Collect<Self, C>
    where
        Self: Sized,
        C: Default + Extend<Self::Item>,
    {
        Collect::new(self)
    }

    /// For an iterator of `Result`s: collects the `Ok` values, and stops at
    /// the first `Err` and returns it (later items are not pulled).
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let ok = brisk::iter::iter([Ok(1), Ok(2)]).try_collect::<Vec<i32>>().await;
    /// assert_eq!(ok, Ok::<_, String>(vec![1, 2]));
    /// let err = brisk::iter::iter([Ok(1), Err("bad"), Ok(3)])
    ///     .try_collect::<Vec<i32>>()
    ///     .await;
    /// assert_eq!(err, Err("bad"));
    /// # });
    /// ```
    fn try_collect<C>(self) -> TryCollect<Self, C>
    where
        Self: Sized,
        Self::Item: TryItem,
        C: Default + Extend<<Self::Item as TryItem>::Ok>,
    {
        TryCollect::new(self)
    }

    /// Runs an async closure on each item, one item at a time, and completes
    /// when the iterator ends.
    ///
    /// While an item's future is pending, the upstream's
    /// [`poll_progress`](AsyncIterator::poll_progress) is called, so a
    /// `buffered` upstream keeps working during the closure's future.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let mut total = 0;
    /// brisk::iter::iter(1..=4)
    ///     .for_each(|x| {
    ///         total += x;
    ///         async {}
    ///     })
    ///     .await;
    /// assert_eq!(total, 10);
    /// # });
    /// ```
    fn for_each<F, Fut>(self, f: F) -> ForEach<Self, F, Fut>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> Fut,
        Fut: Future<Output = ()>,
    {
        ForEach::new(self, f)
    }

    /// Awaits `future` while keeping the work this iterator has in flight
    /// moving: what [`for_each`](Self::for_each) does for its closure's
    /// futures, for a loop written by hand.
    ///
    /// In `while let Some(x) = it.next().await { slow(x).await }`, nothing
    /// polls `it` while `slow(x)` runs, so the futures a
    /// [`buffered`](Self::buffered) upstream holds stall until the next
    /// `next()`. Write `it.drive(slow(x)).await` instead: it polls
    /// `slow(x)` and, while that is pending, the iterator's
    /// [`poll_progress`](AsyncIterator::poll_progress). It produces no item
    /// (items come only from `next`).
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    /// use std::time::Duration;
    ///
    /// # brisk::run(async {
    /// let mut pages = brisk::iter::iter(1..=3u64)
    ///     .map(|n| async move {
    ///         brisk::time::sleep(Duration::from_millis(n)).await; // a fetch
    ///         n
    ///     })
    ///     .buffered(2);
    /// let mut stored = Vec::new();
    /// while let Some(page) = pages.next().await {
    ///     // The next fetches keep running while this page is stored.
    ///     pages
    ///         .drive(brisk::time::sleep(Duration::from_millis(2)))
    ///         .await;
    ///     stored.push(page);
    /// }
    /// assert_eq!(stored, [1, 2, 3]);
    /// # });
    /// ```
    fn drive<F>(&mut self, future: F) -> Drive<'_, Self, F>
    where
        Self: Unpin,
        F: Future,
    {
        Drive { iter: self, future }
    }

    /// Runs an async closure on each item with up to `n` of the closure's
    /// futures in flight at once, and completes when the iterator has ended
    /// and every future has finished.
    ///
    /// The futures run concurrently inside the awaiting task, not in
    /// parallel. While all `n` are busy, the upstream's
    /// [`poll_progress`](AsyncIterator::poll_progress) is called.
    ///
    /// # Panics
    /// If `n` is 0.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// # brisk::run(async {
    /// let done = AtomicU32::new(0);
    /// brisk::iter::iter(0..10)
    ///     .for_each_concurrent(4, |_| async {
    ///         brisk::task::yield_now().await;
    ///         done.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .await;
    /// assert_eq!(done.load(Ordering::Relaxed), 10);
    /// # });
    /// ```
    #[track_caller]
    fn for_each_concurrent<F, Fut>(self, n: usize, f: F) -> ForEachConcurrent<Self, F, Fut>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> Fut,
        Fut: Future<Output = ()>,
    {
        ForEachConcurrent::new(self, n, f)
    }

    /// Folds every item into an accumulator with an async closure that takes
    /// the accumulator and an item and returns a future of the new
    /// accumulator.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let sum = brisk::iter::iter(1..=4).fold(0, |acc, x| async move { acc + x }).await;
    /// assert_eq!(sum, 10);
    /// # });
    /// ```
    fn fold<Acc, F, Fut>(self, init: Acc, f: F) -> Fold<Self, F, Fut, Acc>
    where
        Self: Sized,
        F: FnMut(Acc, Self::Item) -> Fut,
        Fut: Future<Output = Acc>,
    {
        Fold::new(self, init, f)
    }

    /// Counts the items.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// assert_eq!(brisk::iter::iter(0..5).count().await, 5);
    /// # });
    /// ```
    fn count(self) -> Count<Self>
    where
        Self: Sized,
    {
        Count::new(self)
    }

    /// This iterator as a `futures_core::Stream`, for code written against
    /// futures. The stream only has `poll_next`, so `poll_progress` is no
    /// longer called through it.
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    /// use futures::StreamExt;
    ///
    /// # brisk::run(async {
    /// let v: Vec<i32> = brisk::iter::iter([1, 2]).into_stream().map(|x| x + 1).collect().await;
    /// assert_eq!(v, [2, 3]);
    /// # });
    /// ```
    fn into_stream(self) -> IntoStream<Self>
    where
        Self: Sized,
    {
        IntoStream::new(self)
    }
}

impl<I: AsyncIterator + ?Sized> AsyncIteratorExt for I {}

pin_project_lite::pin_project! {
    /// The future returned by [`AsyncIteratorExt::drive`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Drive<'a, I: ?Sized, F> {
        iter: &'a mut I,
        #[pin]
        future: F,
    }
}

impl<I: AsyncIterator + Unpin + ?Sized, F: Future> Future for Drive<'_, I, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(out);
        }
        let _ = Pin::new(&mut **this.iter).poll_progress(cx);
        Poll::Pending
    }
}

impl<I: ?Sized, F> std::fmt::Debug for Drive<'_, I, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drive").finish_non_exhaustive()
    }
}

/// The future returned by [`AsyncIteratorExt::next`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Next<'a, I: ?Sized> {
    iter: &'a mut I,
}

/// Cancel-safe: the future holds no state of its own, so dropping it loses
/// nothing as long as the iterator keeps its partial work inside itself,
/// which [`AsyncIterator`] implementations must.
impl<I: AsyncIterator + Unpin + ?Sized> brisk_core::future::CancelSafe for Next<'_, I> {}

impl<I: AsyncIterator + Unpin + ?Sized> Future for Next<'_, I> {
    type Output = Option<I::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.iter).poll_next(cx)
    }
}
