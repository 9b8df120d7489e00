//! Conversions with `futures_core::Stream`, both ways.

use crate::AsyncIterator;
use futures_core::Stream;
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An async iterator over the items of a `futures_core::Stream`.
///
/// A `Stream` has no `poll_progress`, so the result's `poll_progress` does
/// nothing; see also [`IntoAsyncIter::into_async_iter`], the same as a
/// method on every stream.
///
/// # Examples
/// ```
/// use brisk::iter::AsyncIteratorExt;
///
/// # brisk::run(async {
/// let s = futures::stream::iter([1, 2, 3]);
/// let v: Vec<i32> = brisk::iter::from_stream(s).map(|x| x * 10).collect().await;
/// assert_eq!(v, [10, 20, 30]);
/// # });
/// ```
pub fn from_stream<S: Stream>(stream: S) -> FromStream<S> {
    FromStream { stream }
}

/// Converts any `futures_core::Stream` into an [`AsyncIterator`] with one
/// method call. Implemented for every `Stream`.
///
/// # Examples
/// ```
/// use brisk::iter::{AsyncIteratorExt, IntoAsyncIter};
///
/// # brisk::run(async {
/// let mut it = futures::stream::iter(["x"]).into_async_iter();
/// assert_eq!(it.next().await, Some("x"));
/// # });
/// ```
pub trait IntoAsyncIter: Stream + Sized {
    /// This stream as an [`AsyncIterator`]; the same as [`from_stream`].
    fn into_async_iter(self) -> FromStream<Self> {
        from_stream(self)
    }
}

impl<S: Stream> IntoAsyncIter for S {}

pin_project! {
    /// The iterator returned by [`from_stream`] and
    /// [`IntoAsyncIter::into_async_iter`].
    #[derive(Debug)]
    #[must_use = "async iterators do nothing unless polled"]
    pub struct FromStream<S> {
        #[pin]
        stream: S,
    }
}

impl<S> FromStream<S> {
    /// The stream back.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: Stream> AsyncIterator for FromStream<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.project().stream.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

pin_project! {
    /// The stream returned by
    /// [`AsyncIteratorExt::into_stream`](crate::AsyncIteratorExt::into_stream):
    /// implements `futures_core::Stream`.
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct IntoStream<I> {
        #[pin]
        iter: I,
    }
}

impl<I> IntoStream<I> {
    pub(crate) fn new(iter: I) -> Self {
        IntoStream { iter }
    }

    /// The async iterator back.
    pub fn into_inner(self) -> I {
        self.iter
    }
}

impl<I: AsyncIterator> Stream for IntoStream<I> {
    type Item = I::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        self.project().iter.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}
