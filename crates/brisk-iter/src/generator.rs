//! Generator-style producers: `stream(|y| async move { y.yield_(1).await; })`.
//!
//! Ground rules:
//! - The generator and its `Yielder` share one slot (allocated once per
//!   generator). `yield_` puts its item into the slot and returns `Pending`
//!   once, *without* waking: the generator, which is polling the producer at
//!   that moment, finds the item and returns it; the consumer's next
//!   `poll_next` polls the producer again, and `yield_` then returns
//!   `Ready`. So the consumer has each item before the producer continues.
//! - The slot also records whether the generator is polling its producer
//!   right now; `yield_` awaited anywhere else panics instead of losing the
//!   item.
//! - A `yield_` that finds the slot still full (possible only if an earlier
//!   `yield_` future was dropped before completing) keeps its item and stays
//!   `Pending`; the generator hands out the older item first and polls again
//!   on the next `poll_next`.

use crate::error;
use crate::AsyncIterator;
use brisk_core::loom::{Mutex, MutexGuard};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

struct Slot<T> {
    item: Option<T>,
    /// True while the generator polls its producer future.
    polling: bool,
}

type Shared<T> = Arc<Mutex<Slot<T>>>;

fn lock<T>(slot: &Mutex<Slot<T>>) -> MutexGuard<'_, Slot<T>> {
    // A panic in a producer cannot leave the slot half-written (it is only
    // touched by the short critical sections here), so poison is ignored.
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hands items from a generator's future to its consumer; see [`stream`].
pub struct Yielder<T> {
    slot: Shared<T>,
}

impl<T> fmt::Debug for Yielder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Yielder")
    }
}

impl<T> Yielder<T> {
    /// Hands `item` to the consumer; completes once the consumer has it and
    /// asks for the next item.
    ///
    /// # Panics
    /// When awaited outside the future of the generator this `Yielder`
    /// belongs to (for example after moving it into a spawned task).
    ///
    /// # Examples
    /// ```
    /// use brisk::iter::AsyncIteratorExt;
    ///
    /// # brisk::run(async {
    /// let mut it = brisk::iter::stream(|y| async move {
    ///     y.yield_("first").await;
    ///     y.yield_("second").await;
    /// });
    /// assert_eq!(it.next().await, Some("first"));
    /// assert_eq!(it.next().await, Some("second"));
    /// assert_eq!(it.next().await, None);
    /// # });
    /// ```
    pub fn yield_(&self, item: T) -> Yield<'_, T> {
        Yield {
            slot: &self.slot,
            item: Some(item),
        }
    }
}

/// The future returned by [`Yielder::yield_`].
#[must_use = "the item is handed over only when the future is awaited"]
pub struct Yield<'a, T> {
    slot: &'a Mutex<Slot<T>>,
    /// The item until it has been put into the slot.
    item: Option<T>,
}

// The item is never pinned.
impl<T> Unpin for Yield<'_, T> {}

impl<T> fmt::Debug for Yield<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yield")
            .field("handed_over", &self.item.is_none())
            .finish()
    }
}

impl<T> Future for Yield<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.item.is_none() {
            return Poll::Ready(());
        }
        let mut slot = lock(this.slot);
        if !slot.polling {
            drop(slot);
            panic!("{}", error::YIELD_OUTSIDE_GENERATOR);
        }
        if slot.item.is_none() {
            slot.item = this.item.take();
        }
        // No wake: the generator polling us returns the item now and polls
        // us again on the consumer's next `poll_next`.
        Poll::Pending
    }
}

enum Step<T, O> {
    Item(T),
    Done(O),
    Finished,
}

/// The producer future (boxed, so the generator is `Unpin`) and the slot.
struct Core<T, Fut: Future> {
    future: Option<Pin<Box<Fut>>>,
    /// The producer's output when it finished in the same poll as an
    /// abandoned `yield_` left an item behind: handed out after that item.
    output: Option<Fut::Output>,
    slot: Shared<T>,
}

// Nothing in `Core` is pinned structurally: the producer future is boxed.
impl<T, Fut: Future> Unpin for Core<T, Fut> {}

impl<T, Fut: Future> Core<T, Fut> {
    fn new<F: FnOnce(Yielder<T>) -> Fut>(f: F) -> Self {
        let slot = Arc::new(Mutex::new(Slot {
            item: None,
            polling: false,
        }));
        let future = f(Yielder { slot: slot.clone() });
        Core {
            future: Some(Box::pin(future)),
            output: None,
            slot,
        }
    }

    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Step<T, Fut::Output>> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(match self.output.take() {
                Some(out) => Step::Done(out),
                None => Step::Finished,
            });
        };
        lock(&self.slot).polling = true;
        let result = {
            // Clears `polling` even if the producer panics.
            struct Reset<'a, T>(&'a Mutex<Slot<T>>);
            impl<T> Drop for Reset<'_, T> {
                fn drop(&mut self) {
                    lock(self.0).polling = false;
                }
            }
            let _reset = Reset(&self.slot);
            future.as_mut().poll(cx)
        };
        let item = lock(&self.slot).item.take();
        if let Poll::Ready(out) = result {
            self.future = None;
            match item {
                Some(item) => {
                    self.output = Some(out);
                    return Poll::Ready(Step::Item(item));
                }
                None => return Poll::Ready(Step::Done(out)),
            }
        }
        match item {
            Some(item) => Poll::Ready(Step::Item(item)),
            None => Poll::Pending,
        }
    }

    fn finished(&self) -> bool {
        self.future.is_none() && self.output.is_none()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.finished() {
            (0, Some(0))
        } else {
            (0, None)
        }
    }
}

/// An async iterator written as an async block that hands out items with
/// `yield_`.
///
/// `f` receives a [`Yielder`] and returns the producer future; each
/// `y.yield_(item).await` hands `item` to the consumer and resumes when the
/// consumer asks for the next one, so the producer never runs ahead. The
/// iterator ends when the future completes. Dropping the iterator drops the
/// producer future where it stopped (its locals are dropped as usual).
///
/// Items pass through one slot shared by the producer and the iterator, with
/// no channel and no allocation per item; the producer future is boxed once,
/// so the iterator is `Unpin` and `next` works without pinning. It is `Send`
/// when the future and `T` are.
///
/// # Examples
/// ```
/// use brisk::iter::AsyncIteratorExt;
///
/// # brisk::run(async {
/// let fib = brisk::iter::stream(|y| async move {
///     let (mut a, mut b) = (0u64, 1u64);
///     loop {
///         y.yield_(a).await;
///         (a, b) = (b, a + b);
///     }
/// });
/// let v: Vec<u64> = fib.take(6).collect().await;
/// assert_eq!(v, [0, 1, 1, 2, 3, 5]);
/// # });
/// ```
pub fn stream<T, F, Fut>(f: F) -> Generator<T, Fut>
where
    F: FnOnce(Yielder<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    Generator { core: Core::new(f) }
}

/// The iterator returned by [`stream`].
#[must_use = "async iterators do nothing unless polled"]
pub struct Generator<T, Fut: Future> {
    core: Core<T, Fut>,
}

impl<T, Fut: Future> fmt::Debug for Generator<T, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("finished", &self.core.finished())
            .finish()
    }
}

impl<T, Fut: Future<Output = ()>> AsyncIterator for Generator<T, Fut> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.get_mut().core.poll_step(cx) {
            Poll::Ready(Step::Item(item)) => Poll::Ready(Some(item)),
            Poll::Ready(Step::Done(()) | Step::Finished) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.core.size_hint()
    }
}

/// Like [`stream`], for producers that can fail: the future returns
/// `Result<(), E>`; items come out as `Ok(item)`, and an `Err(e)` returned by
/// the future comes out as a last item `Err(e)`. Pairs with
/// [`try_collect`](crate::AsyncIteratorExt::try_collect).
///
/// # Examples
/// ```
/// use brisk::iter::AsyncIteratorExt;
///
/// # brisk::run(async {
/// let lines = brisk::iter::try_stream(|y| async move {
///     for line in ["a", "b", "bad", "never"] {
///         if line == "bad" {
///             return Err("disk on fire");
///         }
///         y.yield_(line).await;
///     }
///     Ok(())
/// });
/// let got: Result<Vec<&str>, &str> = lines.try_collect().await;
/// assert_eq!(got, Err("disk on fire"));
/// # });
/// ```
pub fn try_stream<T, E, F, Fut>(f: F) -> TryGenerator<T, Fut>
where
    F: FnOnce(Yielder<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    TryGenerator { core: Core::new(f) }
}

/// The iterator returned by [`try_stream`].
#[must_use = "async iterators do nothing unless polled"]
pub struct TryGenerator<T, Fut: Future> {
    core: Core<T, Fut>,
}

impl<T, Fut: Future> fmt::Debug for TryGenerator<T, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGenerator")
            .field("finished", &self.core.finished())
            .finish()
    }
}

impl<T, E, Fut: Future<Output = Result<(), E>>> AsyncIterator for TryGenerator<T, Fut> {
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        match self.get_mut().core.poll_step(cx) {
            Poll::Ready(Step::Item(item)) => Poll::Ready(Some(Ok(item))),
            Poll::Ready(Step::Done(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Step::Done(Ok(())) | Step::Finished) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.core.size_hint()
    }
}
