//! [`race`] and [`race_all`]: the first future to finish wins.

use super::set::RawSet;
use crate::error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs two futures with the same output type; the first to finish wins and
/// the other is dropped.
///
/// `first` is polled before `second` on every poll, so if both are ready at
/// once `first` wins. For more than two, or when the loser must not be lost,
/// see [`race_all`] and [`select!`](crate::select).
///
/// # Examples
/// ```
/// use brisk::future::race;
/// use std::time::Duration;
///
/// # brisk::run(async {
/// let winner = race(
///     async {
///         brisk::time::sleep(Duration::from_secs(60)).await;
///         "slow"
///     },
///     async { "fast" },
/// )
/// .await;
/// assert_eq!(winner, "fast");
/// # });
/// ```
pub fn race<A, B>(first: A, second: B) -> Race<A::IntoFuture, B::IntoFuture>
where
    A: IntoFuture,
    B: IntoFuture<Output = A::Output>,
{
    Race {
        first: Some(first.into_future()),
        second: Some(second.into_future()),
    }
}

/// The future returned by [`race`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Race<A, B> {
    first: Option<A>,
    second: Option<B>,
}

impl<A, B> Future for Race<A, B>
where
    A: Future,
    B: Future<Output = A::Output>,
{
    type Output = A::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<A::Output> {
        // SAFETY: both fields are structurally pinned: each future is only
        // polled through a pin and never moved; it leaves by assigning
        // `None`, which drops it where it lies.
        let this = unsafe { self.get_unchecked_mut() };
        let (Some(first), Some(second)) = (this.first.as_mut(), this.second.as_mut()) else {
            panic!("{}", error::RACE_POLLED_AFTER_COMPLETION);
        };
        // SAFETY: `first` is never moved while pinned (see above).
        let mut out = unsafe { Pin::new_unchecked(first) }.poll(cx);
        if out.is_pending() {
            // SAFETY: as for `first`.
            out = unsafe { Pin::new_unchecked(second) }.poll(cx);
        }
        if out.is_ready() {
            // Assigning `None` drops each future in place.
            this.first = None;
            this.second = None;
        }
        out
    }
}

impl<A, B> fmt::Debug for Race<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Race")
    }
}

/// Runs every future of an iterator; the first to finish wins and the rest
/// are dropped.
///
/// Only woken futures are polled (it runs on [`FutureSet`](super::FutureSet)'s
/// engine), and each future is boxed once.
///
/// # Panics
/// If the iterator is empty: no future could ever win.
///
/// # Examples
/// ```
/// use brisk::future::race_all;
/// use std::time::Duration;
///
/// # brisk::run(async {
/// let first = race_all([30u64, 1, 60].map(|ms| async move {
///     brisk::time::sleep(Duration::from_millis(ms)).await;
///     ms
/// }))
/// .await;
/// assert_eq!(first, 1);
/// # });
/// ```
#[track_caller]
pub fn race_all<I>(futures: I) -> RaceAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let mut set = RawSet::new();
    for f in futures {
        set.push(Box::pin(f.into_future()));
    }
    if set.len() == 0 {
        panic!("{}", error::RACE_ALL_EMPTY);
    }
    RaceAll { set }
}

/// The future returned by [`race_all`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct RaceAll<F> {
    set: RawSet<Pin<Box<F>>>,
}

// The futures are boxed and never pinned through `RaceAll`.
impl<F> Unpin for RaceAll<F> {}

impl<F: Future> Future for RaceAll<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.set.poll_next(cx) {
            Poll::Ready(Some((_, output))) => {
                self.set.clear();
                Poll::Ready(output)
            }
            Poll::Ready(None) => panic!("{}", error::RACE_POLLED_AFTER_COMPLETION),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for RaceAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaceAll")
            .field("remaining", &self.set.len())
            .finish()
    }
}
