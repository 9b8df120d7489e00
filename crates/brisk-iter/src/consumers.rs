//! Consumers: `collect`, `try_collect`, `for_each`, `fold`, `count`.
//!
//! Ground rule: a consumer that awaits a future of its own per item
//! (`for_each`, `fold`) calls the upstream's `poll_progress` every time that
//! future is pending. Each consumer spends one unit of the task's
//! cooperative budget per item, so an iterator that is always ready cannot
//! starve the other tasks of its worker.

use crate::error;
use crate::ext::TryItem;
use crate::AsyncIterator;
use brisk_core::coop::poll_proceed;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// The future returned by [`AsyncIteratorExt::collect`](crate::AsyncIteratorExt::collect).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Collect<I, C> {
        #[pin]
        iter: I,
        items: C,
    }
}

impl<I, C: Default> Collect<I, C> {
    pub(crate) fn new(iter: I) -> Self {
        Collect {
            iter,
            items: C::default(),
        }
    }
}

impl<I, C> Future for Collect<I, C>
where
    I: AsyncIterator,
    C: Default + Extend<I::Item>,
{
    type Output = C;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C> {
        let mut this = self.project();
        loop {
            ready!(poll_proceed(cx));
            match ready!(this.iter.as_mut().poll_next(cx)) {
                Some(item) => this.items.extend(Some(item)),
                None => return Poll::Ready(std::mem::take(this.items)),
            }
        }
    }
}

pin_project! {
    /// The future returned by [`AsyncIteratorExt::try_collect`](crate::AsyncIteratorExt::try_collect).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct TryCollect<I, C> {
        #[pin]
        iter: I,
        items: C,
    }
}

impl<I, C: Default> TryCollect<I, C> {
    pub(crate) fn new(iter: I) -> Self {
        TryCollect {
            iter,
            items: C::default(),
        }
    }
}

impl<I, C> Future for TryCollect<I, C>
where
    I: AsyncIterator,
    I::Item: TryItem,
    C: Default + Extend<<I::Item as TryItem>::Ok>,
{
    type Output = Result<C, <I::Item as TryItem>::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            ready!(poll_proceed(cx));
            match ready!(this.iter.as_mut().poll_next(cx)).map(TryItem::into_result) {
                Some(Ok(item)) => this.items.extend(Some(item)),
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => return Poll::Ready(Ok(std::mem::take(this.items))),
            }
        }
    }
}

pin_project! {
    /// The future returned by [`AsyncIteratorExt::for_each`](crate::AsyncIteratorExt::for_each).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ForEach<I, F, Fut> {
        #[pin]
        iter: I,
        f: F,
        // The closure's future for the current item.
        #[pin]
        pending: Option<Fut>,
    }
}

impl<I, F, Fut> ForEach<I, F, Fut> {
    pub(crate) fn new(iter: I, f: F) -> Self {
        ForEach {
            iter,
            f,
            pending: None,
        }
    }
}

impl<I: fmt::Debug, F, Fut> fmt::Debug for ForEach<I, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForEach")
            .field("iter", &self.iter)
            .field("busy", &self.pending.is_some())
            .finish()
    }
}

impl<I, F, Fut> Future for ForEach<I, F, Fut>
where
    I: AsyncIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future<Output = ()>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        loop {
            if let Some(fut) = this.pending.as_mut().as_pin_mut() {
                if fut.poll(cx).is_pending() {
                    let _ = this.iter.as_mut().poll_progress(cx);
                    return Poll::Pending;
                }
                this.pending.set(None);
            }
            ready!(poll_proceed(cx));
            match ready!(this.iter.as_mut().poll_next(cx)) {
                Some(item) => this.pending.set(Some((this.f)(item))),
                None => return Poll::Ready(()),
            }
        }
    }
}

pin_project! {
    /// The future returned by [`AsyncIteratorExt::fold`](crate::AsyncIteratorExt::fold).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Fold<I, F, Fut, Acc> {
        #[pin]
        iter: I,
        f: F,
        // The accumulator between items; `None` while `pending` runs.
        acc: Option<Acc>,
        #[pin]
        pending: Option<Fut>,
    }
}

impl<I, F, Fut, Acc> Fold<I, F, Fut, Acc> {
    pub(crate) fn new(iter: I, init: Acc, f: F) -> Self {
        Fold {
            iter,
            f,
            acc: Some(init),
            pending: None,
        }
    }
}

impl<I: fmt::Debug, F, Fut, Acc: fmt::Debug> fmt::Debug for Fold<I, F, Fut, Acc> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fold")
            .field("iter", &self.iter)
            .field("acc", &self.acc)
            .field("busy", &self.pending.is_some())
            .finish()
    }
}

impl<I, F, Fut, Acc> Future for Fold<I, F, Fut, Acc>
where
    I: AsyncIterator,
    F: FnMut(Acc, I::Item) -> Fut,
    Fut: Future<Output = Acc>,
{
    type Output = Acc;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Acc> {
        let mut this = self.project();
        loop {
            if let Some(fut) = this.pending.as_mut().as_pin_mut() {
                match fut.poll(cx) {
                    Poll::Ready(acc) => {
                        this.pending.set(None);
                        *this.acc = Some(acc);
                    }
                    Poll::Pending => {
                        let _ = this.iter.as_mut().poll_progress(cx);
                        return Poll::Pending;
                    }
                }
            }
            ready!(poll_proceed(cx));
            let item = ready!(this.iter.as_mut().poll_next(cx));
            let acc = this
                .acc
                .take()
                .unwrap_or_else(|| panic!("{}", error::FOLD_POLLED_AFTER_COMPLETION));
            match item {
                Some(item) => this.pending.set(Some((this.f)(acc, item))),
                None => return Poll::Ready(acc),
            }
        }
    }
}

pin_project! {
    /// The future returned by [`AsyncIteratorExt::count`](crate::AsyncIteratorExt::count).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Count<I> {
        #[pin]
        iter: I,
        count: usize,
    }
}

impl<I> Count<I> {
    pub(crate) fn new(iter: I) -> Self {
        Count { iter, count: 0 }
    }
}

impl<I: AsyncIterator> Future for Count<I> {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let mut this = self.project();
        loop {
            ready!(poll_proceed(cx));
            match ready!(this.iter.as_mut().poll_next(cx)) {
                Some(_) => *this.count += 1,
                None => return Poll::Ready(*this.count),
            }
        }
    }
}
