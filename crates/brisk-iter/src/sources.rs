//! Producers without `poll_next`: `from_fn`, `iter`, `once`, `empty`,
//! `repeat_with`.

use crate::AsyncIterator;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// An iterator that calls an async closure for each item; the closure's
/// future returns `Some(item)`, or `None` to end.
///
/// The current item's future is held inline, so the iterator is `!Unpin`
/// when that future is (an `async` block is): consume it with a combinator,
/// or pin it (`std::pin::pin!`) before calling `next`.
///
/// # Examples
/// ```
/// use brisk::iter::AsyncIteratorExt;
///
/// # brisk::run(async {
/// let mut n = 0;
/// let v: Vec<u32> = brisk::iter::from_fn(|| {
///     n += 1;
///     let n = n;
///     async move {
///         brisk::task::yield_now().await;
///         (n <= 3).then_some(n)
///     }
/// })
/// .collect()
/// .await;
/// assert_eq!(v, [1, 2, 3]);
/// # });
/// ```
pub fn from_fn<T, F, Fut>(f: F) -> FromFn<F, Fut>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    FromFn { f, pending: None }
}

pin_project! {
    /// The iterator returned by [`from_fn`].
    #[must_use = "async iterators do nothing unless polled"]
    pub struct FromFn<F, Fut> {
        f: F,
        #[pin]
        pending: Option<Fut>,
    }
}

impl<F, Fut> fmt::Debug for FromFn<F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromFn")
            .field("busy", &self.pending.is_some())
            .finish()
    }
}

impl<T, F, Fut> AsyncIterator for FromFn<F, Fut>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut this = self.project();
        if this.pending.is_none() {
            this.pending.set(Some((this.f)()));
        }
        let fut = this
            .pending
            .as_mut()
            .as_pin_mut()
            .expect("set just above when empty");
        let item = ready!(fut.poll(cx));
        this.pending.set(None);
        Poll::Ready(item)
    }
}

/// An iterator over the items of a synchronous iterator, each ready at once.
///
/// # Examples
/// ```
/// use brisk::iter::AsyncIteratorExt;
///
/// # brisk::run(async {
/// assert_eq!(brisk::iter::iter(vec![1, 2, 3]).count().await, 3);
/// # });
/// ```
pub fn iter<I: IntoIterator>(items: I) -> Iter<I::IntoIter> {
    Iter {
        iter: items.into_iter(),
    }
}

/// The iterator returned by [`iter`].
#[derive(Debug, Clone)]
#[must_use = "async iterators do nothing unless polled"]
pub struct Iter<I> {
    iter: I,
}

// The inner iterator is never pinned.
impl<I> Unpin for Iter<I> {}

impl<I: Iterator> AsyncIterator for Iter<I> {
    type Item = I::Item;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        Poll::Ready(self.get_mut().iter.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

/// An iterator with one item: the output of `future`.
///
/// # Examples
/// ```
/// use brisk::iter::AsyncIteratorExt;
///
/// # brisk::run(async {
/// let v: Vec<u8> = brisk::iter::once(async { 1 }).collect().await;
/// assert_eq!(v, [1]);
/// # });
/// ```
pub fn once<Fut: Future>(future: Fut) -> Once<Fut> {
    Once {
        future: Some(future),
    }
}

pin_project! {
    /// The iterator returned by [`once`].
    #[derive(Debug)]
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Once<Fut> {
        #[pin]
        future: Option<Fut>,
    }
}

impl<Fut: Future> AsyncIterator for Once<Fut> {
    type Item = Fut::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Fut::Output>> {
        let mut this = self.project();
        let Some(fut) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        let out = ready!(fut.poll(cx));
        this.future.set(None);
        Poll::Ready(Some(out))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.future.is_some());
        (n, Some(n))
    }
}

/// An iterator with no items.
///
/// # Examples
/// ```
/// use brisk::iter::AsyncIteratorExt;
///
/// # brisk::run(async {
/// assert_eq!(brisk::iter::empty::<u8>().count().await, 0);
/// # });
/// ```
pub fn empty<T>() -> Empty<T> {
    Empty { _item: PhantomData }
}

/// The iterator returned by [`empty`].
#[must_use = "async iterators do nothing unless polled"]
pub struct Empty<T> {
    _item: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Empty<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Empty")
    }
}

impl<T> AsyncIterator for Empty<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<T>> {
        Poll::Ready(None)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(0))
    }
}

/// An endless iterator whose items are made by calling `f`; bound it with
/// [`take`](crate::AsyncIteratorExt::take) or
/// [`zip`](crate::AsyncIteratorExt::zip).
///
/// # Examples
/// ```
/// use brisk::iter::AsyncIteratorExt;
///
/// # brisk::run(async {
/// let mut n = 0;
/// let v: Vec<u32> = brisk::iter::repeat_with(|| {
///     n += 1;
///     n * n
/// })
/// .take(3)
/// .collect()
/// .await;
/// assert_eq!(v, [1, 4, 9]);
/// # });
/// ```
pub fn repeat_with<T, F: FnMut() -> T>(f: F) -> RepeatWith<F> {
    RepeatWith { f }
}

/// The iterator returned by [`repeat_with`].
#[must_use = "async iterators do nothing unless polled"]
pub struct RepeatWith<F> {
    f: F,
}

// The closure is never pinned.
impl<F> Unpin for RepeatWith<F> {}

impl<F> fmt::Debug for RepeatWith<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RepeatWith")
    }
}

impl<T, F: FnMut() -> T> AsyncIterator for RepeatWith<F> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<T>> {
        Poll::Ready(Some((self.get_mut().f)()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}
