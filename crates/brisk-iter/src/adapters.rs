//! Adapters: `map`, `filter`, `then`, `take`, `chain`, `zip`, `merge`, `fuse`.
//!
//! Ground rule: every adapter forwards `poll_progress` to the iterators it
//! wraps (those it may still pull from), so progress reaches a `buffered`
//! however deep it sits.

use crate::AsyncIterator;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::map`](crate::AsyncIteratorExt::map).
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Map<I, F> {
        #[pin]
        iter: I,
        f: F,
    }
}

impl<I, F> Map<I, F> {
    pub(crate) fn new(iter: I, f: F) -> Self {
        Map { iter, f }
    }
}

impl<I: fmt::Debug, F> fmt::Debug for Map<I, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map").field("iter", &self.iter).finish()
    }
}

impl<I, F, B> AsyncIterator for Map<I, F>
where
    I: AsyncIterator,
    F: FnMut(I::Item) -> B,
{
    type Item = B;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<B>> {
        let this = self.project();
        Poll::Ready(ready!(this.iter.poll_next(cx)).map(this.f))
    }

    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().iter.poll_progress(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::filter`](crate::AsyncIteratorExt::filter).
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Filter<I, P> {
        #[pin]
        iter: I,
        predicate: P,
    }
}

impl<I, P> Filter<I, P> {
    pub(crate) fn new(iter: I, predicate: P) -> Self {
        Filter { iter, predicate }
    }
}

impl<I: fmt::Debug, P> fmt::Debug for Filter<I, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter").field("iter", &self.iter).finish()
    }
}

impl<I, P> AsyncIterator for Filter<I, P>
where
    I: AsyncIterator,
    P: FnMut(&I::Item) -> bool,
{
    type Item = I::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        let mut this = self.project();
        loop {
            match ready!(this.iter.as_mut().poll_next(cx)) {
                Some(item) if (this.predicate)(&item) => return Poll::Ready(Some(item)),
                Some(_) => {}
                None => return Poll::Ready(None),
            }
        }
    }

    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().iter.poll_progress(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.iter.size_hint().1)
    }
}

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::then`](crate::AsyncIteratorExt::then).
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Then<I, F, Fut>
    where
        Fut: Future,
    {
        #[pin]
        iter: I,
        f: F,
        // The future for the current item.
        #[pin]
        pending: Option<Fut>,
        // Its output, when `poll_progress` finished it before `poll_next`
        // asked; `pending` is `None` whenever this is `Some`.
        done: Option<Fut::Output>,
    }
}

impl<I, F, Fut: Future> Then<I, F, Fut> {
    pub(crate) fn new(iter: I, f: F) -> Self {
        Then {
            iter,
            f,
            pending: None,
            done: None,
        }
    }
}

impl<I: fmt::Debug, F, Fut: Future> fmt::Debug for Then<I, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Then")
            .field("iter", &self.iter)
            .field("busy", &self.pending.is_some())
            .finish()
    }
}

impl<I, F, Fut> AsyncIterator for Then<I, F, Fut>
where
    I: AsyncIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future,
{
    type Item = Fut::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Fut::Output>> {
        let mut this = self.project();
        loop {
            if let Some(out) = this.done.take() {
                return Poll::Ready(Some(out));
            }
            if let Some(fut) = this.pending.as_mut().as_pin_mut() {
                match fut.poll(cx) {
                    Poll::Ready(out) => {
                        this.pending.set(None);
                        return Poll::Ready(Some(out));
                    }
                    Poll::Pending => {
                        let _ = this.iter.as_mut().poll_progress(cx);
                        return Poll::Pending;
                    }
                }
            }
            match ready!(this.iter.as_mut().poll_next(cx)) {
                Some(item) => this.pending.set(Some((this.f)(item))),
                None => return Poll::Ready(None),
            }
        }
    }

    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let mut busy = false;
        if let Some(fut) = this.pending.as_mut().as_pin_mut() {
            match fut.poll(cx) {
                Poll::Ready(out) => {
                    this.pending.set(None);
                    *this.done = Some(out);
                }
                Poll::Pending => busy = true,
            }
        }
        if this.iter.poll_progress(cx).is_pending() {
            busy = true;
        }
        if busy {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let extra = usize::from(self.pending.is_some() || self.done.is_some());
        let (lo, hi) = self.iter.size_hint();
        (
            lo.saturating_add(extra),
            hi.and_then(|h| h.checked_add(extra)),
        )
    }
}

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::take`](crate::AsyncIteratorExt::take).
    #[derive(Debug)]
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Take<I> {
        #[pin]
        iter: I,
        remaining: usize,
    }
}

impl<I> Take<I> {
    pub(crate) fn new(iter: I, remaining: usize) -> Self {
        Take { iter, remaining }
    }
}

impl<I: AsyncIterator> AsyncIterator for Take<I> {
    type Item = I::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        let this = self.project();
        if *this.remaining == 0 {
            return Poll::Ready(None);
        }
        let item = ready!(this.iter.poll_next(cx));
        match item {
            Some(_) => *this.remaining -= 1,
            None => *this.remaining = 0,
        }
        Poll::Ready(item)
    }

    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if *this.remaining == 0 {
            return Poll::Ready(());
        }
        this.iter.poll_progress(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining;
        if n == 0 {
            return (0, Some(0));
        }
        let (lo, hi) = self.iter.size_hint();
        (lo.min(n), Some(hi.map_or(n, |h| h.min(n))))
    }
}

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::chain`](crate::AsyncIteratorExt::chain).
    #[derive(Debug)]
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Chain<A, B> {
        #[pin]
        first: A,
        #[pin]
        second: B,
        first_done: bool,
    }
}

impl<A, B> Chain<A, B> {
    pub(crate) fn new(first: A, second: B) -> Self {
        Chain {
            first,
            second,
            first_done: false,
        }
    }
}

impl<A, B> AsyncIterator for Chain<A, B>
where
    A: AsyncIterator,
    B: AsyncIterator<Item = A::Item>,
{
    type Item = A::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<A::Item>> {
        let this = self.project();
        if !*this.first_done {
            match ready!(this.first.poll_next(cx)) {
                Some(item) => return Poll::Ready(Some(item)),
                None => *this.first_done = true,
            }
        }
        this.second.poll_next(cx)
    }

    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if *this.first_done {
            this.second.poll_progress(cx)
        } else {
            this.first.poll_progress(cx)
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lo2, hi2) = self.second.size_hint();
        if self.first_done {
            return (lo2, hi2);
        }
        let (lo1, hi1) = self.first.size_hint();
        let hi = match (hi1, hi2) {
            (Some(a), Some(b)) => a.checked_add(b),
            _ => None,
        };
        (lo1.saturating_add(lo2), hi)
    }
}

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::zip`](crate::AsyncIteratorExt::zip).
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Zip<A, B>
    where
        A: AsyncIterator,
        B: AsyncIterator,
    {
        #[pin]
        a: A,
        #[pin]
        b: B,
        // An item already pulled from one side while the other was pending.
        a_item: Option<A::Item>,
        b_item: Option<B::Item>,
    }
}

impl<A: AsyncIterator, B: AsyncIterator> Zip<A, B> {
    pub(crate) fn new(a: A, b: B) -> Self {
        Zip {
            a,
            b,
            a_item: None,
            b_item: None,
        }
    }
}

impl<A, B> fmt::Debug for Zip<A, B>
where
    A: AsyncIterator + fmt::Debug,
    B: AsyncIterator + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Zip")
            .field("a", &self.a)
            .field("b", &self.b)
            .finish()
    }
}

impl<A: AsyncIterator, B: AsyncIterator> AsyncIterator for Zip<A, B> {
    type Item = (A::Item, B::Item);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if this.a_item.is_none() {
            match this.a.poll_next(cx) {
                Poll::Ready(Some(x)) => *this.a_item = Some(x),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
        }
        if this.b_item.is_none() {
            match this.b.poll_next(cx) {
                Poll::Ready(Some(y)) => *this.b_item = Some(y),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
        }
        match (this.a_item.take(), this.b_item.take()) {
            (Some(x), Some(y)) => Poll::Ready(Some((x, y))),
            (x, y) => {
                *this.a_item = x;
                *this.b_item = y;
                Poll::Pending
            }
        }
    }

    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let a = this.a.poll_progress(cx);
        let b = this.b.poll_progress(cx);
        if a.is_ready() && b.is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let held = |held: bool, (lo, hi): (usize, Option<usize>)| {
            let extra = usize::from(held);
            (
                lo.saturating_add(extra),
                hi.and_then(|h| h.checked_add(extra)),
            )
        };
        let (alo, ahi) = held(self.a_item.is_some(), self.a.size_hint());
        let (blo, bhi) = held(self.b_item.is_some(), self.b.size_hint());
        let hi = match (ahi, bhi) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        (alo.min(blo), hi)
    }
}

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::merge`](crate::AsyncIteratorExt::merge).
    #[derive(Debug)]
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Merge<A, B> {
        #[pin]
        a: A,
        #[pin]
        b: B,
        a_done: bool,
        b_done: bool,
        // Which side is asked first on the next poll: the one that did not
        // produce the last item.
        b_first: bool,
    }
}

impl<A, B> Merge<A, B> {
    pub(crate) fn new(a: A, b: B) -> Self {
        Merge {
            a,
            b,
            a_done: false,
            b_done: false,
            b_first: false,
        }
    }
}

impl<A, B> AsyncIterator for Merge<A, B>
where
    A: AsyncIterator,
    B: AsyncIterator<Item = A::Item>,
{
    type Item = A::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<A::Item>> {
        let mut this = self.project();
        for turn in 0..2 {
            let ask_b = (turn == 0) == *this.b_first;
            if ask_b {
                if !*this.b_done {
                    match this.b.as_mut().poll_next(cx) {
                        Poll::Ready(Some(item)) => {
                            *this.b_first = false;
                            return Poll::Ready(Some(item));
                        }
                        Poll::Ready(None) => *this.b_done = true,
                        Poll::Pending => {}
                    }
                }
            } else if !*this.a_done {
                match this.a.as_mut().poll_next(cx) {
                    Poll::Ready(Some(item)) => {
                        *this.b_first = true;
                        return Poll::Ready(Some(item));
                    }
                    Poll::Ready(None) => *this.a_done = true,
                    Poll::Pending => {}
                }
            }
        }
        if *this.a_done && *this.b_done {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }

    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let a = if *this.a_done {
            Poll::Ready(())
        } else {
            this.a.poll_progress(cx)
        };
        let b = if *this.b_done {
            Poll::Ready(())
        } else {
            this.b.poll_progress(cx)
        };
        if a.is_ready() && b.is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let side =
            |done: bool, hint: (usize, Option<usize>)| if done { (0, Some(0)) } else { hint };
        let (alo, ahi) = side(self.a_done, self.a.size_hint());
        let (blo, bhi) = side(self.b_done, self.b.size_hint());
        let hi = match (ahi, bhi) {
            (Some(a), Some(b)) => a.checked_add(b),
            _ => None,
        };
        (alo.saturating_add(blo), hi)
    }
}

pin_project! {
    /// The iterator returned by [`AsyncIteratorExt::fuse`](crate::AsyncIteratorExt::fuse).
    #[derive(Debug)]
    #[must_use = "async iterators do nothing unless polled"]
    pub struct Fuse<I> {
        #[pin]
        iter: I,
        done: bool,
    }
}

impl<I> Fuse<I> {
    pub(crate) fn new(iter: I) -> Self {
        Fuse { iter, done: false }
    }

    /// True once the iterator has returned `None` (it will not be polled
    /// again).
    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl<I: AsyncIterator> AsyncIterator for Fuse<I> {
    type Item = I::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let item = ready!(this.iter.poll_next(cx));
        if item.is_none() {
            *this.done = true;
        }
        Poll::Ready(item)
    }

    fn poll_progress(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if *this.done {
            Poll::Ready(())
        } else {
            this.iter.poll_progress(cx)
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            self.iter.size_hint()
        }
    }
}
