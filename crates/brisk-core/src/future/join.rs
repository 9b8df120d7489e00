//! `join!`, `try_join!`, [`join_all`] and [`try_join_all`].
//!
//! The macros hold their futures inline, in a tuple of [`MaybeDone`] slots
//! inside one [`Join`] / [`TryJoin`] future; a finished slot keeps its output
//! and is never polled again. The `*_all` functions run on the engine of
//! [`FutureSet`](super::FutureSet), so their cost follows wakes, not the
//! number of futures.

use super::set::RawSet;
use crate::error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

// ---- join! / try_join! ------------------------------------------------------------

/// Waits for every future and returns all their outputs, as a tuple in
/// argument order.
///
/// The futures may have different types; they run concurrently in the
/// current task (no spawning), each polled only until it finishes. Up to 12
/// futures; nest `join!` calls for more. Each argument may be anything that
/// implements [`IntoFuture`], and nothing needs pinning. The futures are
/// held inline, not boxed: see
/// [`BOX_FUTURE_THRESHOLD`](crate::future::BOX_FUTURE_THRESHOLD) for where
/// Brisk boxes large futures and why `join!` does not.
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// # brisk::run(async {
/// let (n, s) = brisk::join!(
///     async {
///         brisk::time::sleep(Duration::from_millis(5)).await;
///         1
///     },
///     async { "two" },
/// );
/// assert_eq!((n, s), (1, "two"));
/// # });
/// ```
#[macro_export]
macro_rules! join {
    ($($fut:expr),+ $(,)?) => {
        $crate::future::__private::Join::new((
            $($crate::future::__private::MaybeDone::new(
                ::core::future::IntoFuture::into_future($fut)
            ),)+
        )).await
    };
}

/// Waits for every future to return `Ok`, or for the first `Err`.
///
/// Returns `Ok` with a tuple of the `Ok` values in argument order, or the
/// first error; the other futures are dropped at that moment (they do not
/// run to completion). Every future's output is a `Result` with the same
/// error type. Up to 12 futures.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let ok: Result<(u8, &str), String> = brisk::try_join!(
///     async { Ok(1) },
///     async { Ok("two") },
/// );
/// assert_eq!(ok, Ok((1, "two")));
///
/// let failed: Result<(u8, ()), String> = brisk::try_join!(
///     async { Err("no stock".to_string()) },
///     std::future::pending::<Result<(), String>>(),
/// );
/// assert_eq!(failed, Err("no stock".to_string()));
/// # });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($fut:expr),+ $(,)?) => {
        $crate::future::__private::TryJoin::new((
            $($crate::future::__private::MaybeDone::new(
                ::core::future::IntoFuture::into_future($fut)
            ),)+
        )).await
    };
}

/// A future's slot inside a join: running, finished with its output, or
/// emptied. Used by the macros; not a public API.
#[doc(hidden)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Future(F),
    /// Finished; the output waits to be taken.
    Done(F::Output),
    /// Output taken, or dropped by a failing `try_join!`.
    Gone,
}

impl<F: Future> MaybeDone<F> {
    /// A running slot.
    pub fn new(future: F) -> Self {
        MaybeDone::Future(future)
    }

    /// Polls the future unless it already finished; true once it has.
    fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY: the future inside `Future(_)` is pinned in place: it is
        // only polled through this pin and dropped in place by `set`.
        let future = match unsafe { self.as_mut().get_unchecked_mut() } {
            // SAFETY: as above.
            MaybeDone::Future(f) => unsafe { Pin::new_unchecked(f) },
            MaybeDone::Done(_) => return true,
            MaybeDone::Gone => panic!("{}", error::JOIN_POLLED_AFTER_COMPLETION),
        };
        match future.poll(cx) {
            Poll::Ready(output) => {
                self.set(MaybeDone::Done(output));
                true
            }
            Poll::Pending => false,
        }
    }

    /// Takes the output out of a finished slot.
    fn take(self: Pin<&mut Self>) -> F::Output {
        // SAFETY: only a `Done` slot is moved out of, and it holds no future:
        // the output was never pinned.
        let this = unsafe { self.get_unchecked_mut() };
        match std::mem::replace(this, MaybeDone::Gone) {
            MaybeDone::Done(output) => output,
            _ => panic!("{}", error::JOIN_POLLED_AFTER_COMPLETION),
        }
    }

    /// Drops whatever the slot holds, in place.
    fn clear(mut self: Pin<&mut Self>) {
        self.set(MaybeDone::Gone);
    }
}

/// A `Future` whose output is a `Result`; lets `try_join!` name the `Ok`
/// and `Err` types. Not a public API.
#[doc(hidden)]
pub trait TryFuture: Future<Output = Result<Self::Ok, Self::Error>> {
    /// The success type.
    type Ok;
    /// The error type.
    type Error;
}

impl<F, T, E> TryFuture for F
where
    F: Future<Output = Result<T, E>>,
{
    type Ok = T;
    type Error = E;
}

/// A tuple of `MaybeDone` slots that `Join`/`TryJoin` can drive. Not a
/// public API.
#[doc(hidden)]
pub trait Slots {
    /// The number of slots.
    const LEN: usize;
    /// `join!`'s output: every output, in order.
    type Output;
    /// Polls slot `i` unless it finished; true once it has.
    fn poll_slot(self: Pin<&mut Self>, i: usize, cx: &mut Context<'_>) -> bool;
    /// Takes every output; all slots must be done.
    fn take_all(self: Pin<&mut Self>) -> Self::Output;
}

/// Pins to each slot of a pinned tuple. Not a public API.
#[doc(hidden)]
pub trait Project {
    /// One `Pin<&mut MaybeDone<_>>` per slot.
    type Pins<'p>
    where
        Self: 'p;
    /// Projects the pin onto every slot.
    fn project(self: Pin<&mut Self>) -> Self::Pins<'_>;
}

/// Slots whose futures all return `Result<_, E>`. Not a public API.
#[doc(hidden)]
pub trait TrySlots {
    /// The shared error type.
    type Error;
    /// `try_join!`'s `Ok` value: every `Ok`, in order.
    type Ok;
    /// The error of slot `i` if it finished with one (taking it out).
    fn take_err(self: Pin<&mut Self>, i: usize) -> Option<Self::Error>;
    /// Drops every slot in place.
    fn clear_all(self: Pin<&mut Self>);
    /// Takes every `Ok` value; all slots must be done with `Ok`.
    fn take_all_ok(self: Pin<&mut Self>) -> Self::Ok;
}

macro_rules! impl_slots {
    ($($F:ident $i:tt),+) => {
        impl<$($F: Future),+> Project for ($(MaybeDone<$F>,)+) {
            type Pins<'p> = ($(Pin<&'p mut MaybeDone<$F>>,)+) where Self: 'p;
            fn project(self: Pin<&mut Self>) -> Self::Pins<'_> {
                // SAFETY: structural pinning of the tuple's fields: the tuple
                // is never moved out of its pin, and each field is only used
                // through the pin made here.
                unsafe {
                    let this = self.get_unchecked_mut();
                    ($(Pin::new_unchecked(&mut this.$i),)+)
                }
            }
        }

        impl<$($F: Future),+> Slots for ($(MaybeDone<$F>,)+) {
            const LEN: usize = [$($i),+].len();
            type Output = ($($F::Output,)+);

            fn poll_slot(self: Pin<&mut Self>, i: usize, cx: &mut Context<'_>) -> bool {
                let pins = self.project();
                match i {
                    $($i => pins.$i.poll_done(cx),)+
                    _ => true,
                }
            }

            fn take_all(self: Pin<&mut Self>) -> Self::Output {
                let pins = self.project();
                ($(pins.$i.take(),)+)
            }
        }

        impl<Err, $($F: TryFuture<Error = Err>),+> TrySlots for ($(MaybeDone<$F>,)+) {
            type Error = Err;
            type Ok = ($($F::Ok,)+);

            fn take_err(self: Pin<&mut Self>, i: usize) -> Option<Err> {
                let pins = self.project();
                match i {
                    $($i => match &*pins.$i {
                        MaybeDone::Done(Err(_)) => pins.$i.take().err(),
                        _ => None,
                    },)+
                    _ => None,
                }
            }

            fn clear_all(self: Pin<&mut Self>) {
                let pins = self.project();
                $(pins.$i.clear();)+
            }

            fn take_all_ok(self: Pin<&mut Self>) -> Self::Ok {
                let pins = self.project();
                ($(match pins.$i.take() {
                    Ok(v) => v,
                    Err(_) => unreachable!("errors are taken out when they arrive"),
                },)+)
            }
        }
    };
}

impl_slots!(A 0);
impl_slots!(A 0, B 1);
impl_slots!(A 0, B 1, C 2);
impl_slots!(A 0, B 1, C 2, D 3);
impl_slots!(A 0, B 1, C 2, D 3, E 4);
impl_slots!(A 0, B 1, C 2, D 3, E 4, F 5);
impl_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
impl_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
impl_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
impl_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
impl_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
impl_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// The future behind `join!`. Not a public API.
///
/// Each poll starts at the next slot in turn, so a slot that keeps spending
/// the task's budget cannot starve the slots after it.
#[doc(hidden)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Join<S> {
    slots: S,
    start: usize,
}

impl<S: Slots> Join<S> {
    /// Wraps the slots.
    pub fn new(slots: S) -> Self {
        Join { slots, start: 0 }
    }
}

impl<S: Slots> Future for Join<S> {
    type Output = S::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<S::Output> {
        // SAFETY: `slots` is structurally pinned; `start` is plain data.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `this` came from a pin and `slots` is never moved.
        let mut slots = unsafe { Pin::new_unchecked(&mut this.slots) };
        let start = this.start;
        this.start = (start + 1) % S::LEN;
        let mut done = true;
        for k in 0..S::LEN {
            done &= slots.as_mut().poll_slot((start + k) % S::LEN, cx);
        }
        if done {
            Poll::Ready(slots.take_all())
        } else {
            Poll::Pending
        }
    }
}

impl<S> fmt::Debug for Join<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Join")
    }
}

/// The future behind `try_join!`. Not a public API.
#[doc(hidden)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TryJoin<S> {
    slots: S,
    start: usize,
}

impl<S: Slots + TrySlots> TryJoin<S> {
    /// Wraps the slots.
    pub fn new(slots: S) -> Self {
        TryJoin { slots, start: 0 }
    }
}

impl<S: Slots + TrySlots> Future for TryJoin<S> {
    type Output = Result<S::Ok, S::Error>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: as in `Join::poll`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as in `Join::poll`.
        let mut slots = unsafe { Pin::new_unchecked(&mut this.slots) };
        let start = this.start;
        this.start = (start + 1) % S::LEN;
        let mut done = true;
        for k in 0..S::LEN {
            let i = (start + k) % S::LEN;
            if slots.as_mut().poll_slot(i, cx) {
                if let Some(e) = slots.as_mut().take_err(i) {
                    slots.as_mut().clear_all();
                    return Poll::Ready(Err(e));
                }
            } else {
                done = false;
            }
        }
        if done {
            Poll::Ready(Ok(slots.take_all_ok()))
        } else {
            Poll::Pending
        }
    }
}

impl<S> fmt::Debug for TryJoin<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TryJoin")
    }
}

// ---- join_all / try_join_all -------------------------------------------------------

/// Waits for every future of an iterator; returns their outputs in the
/// iterator's order.
///
/// The futures run concurrently in the current task. Each has its own waker,
/// so the work is proportional to the number of wakes: 10,000 futures that
/// each wake once cost about 20,000 polls, not 10,000². Every future is
/// boxed once.
///
/// # Examples
/// ```
/// use brisk::future::join_all;
///
/// # brisk::run(async {
/// let doubled = join_all((1..=3).map(|i| async move { i * 2 })).await;
/// assert_eq!(doubled, [2, 4, 6]);
/// # });
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let mut set = RawSet::new();
    for f in futures {
        set.push(Box::pin(f.into_future()));
    }
    let outputs = std::iter::repeat_with(|| None).take(set.len()).collect();
    JoinAll { set, outputs }
}

/// The future returned by [`join_all`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct JoinAll<F: Future> {
    set: RawSet<Pin<Box<F>>>,
    outputs: Vec<Option<F::Output>>,
}

// The futures are boxed and never pinned through `JoinAll`.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = &mut *self;
        loop {
            match this.set.poll_next(cx) {
                Poll::Ready(Some((key, output))) => this.outputs[key] = Some(output),
                Poll::Ready(None) => {
                    let outputs = std::mem::take(&mut this.outputs);
                    return Poll::Ready(
                        outputs
                            .into_iter()
                            .map(|o| o.expect(error::JOIN_POLLED_AFTER_COMPLETION))
                            .collect(),
                    );
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("remaining", &self.set.len())
            .finish()
    }
}

/// Waits for every future of an iterator to return `Ok` (giving the values
/// in the iterator's order), or for the first `Err`.
///
/// On the first error the remaining futures are dropped and the error is
/// returned. Linear in the number of wakes, like [`join_all`].
///
/// # Examples
/// ```
/// use brisk::future::try_join_all;
///
/// # brisk::run(async {
/// let parsed = try_join_all(["1", "2"].map(|s| async move { s.parse::<u8>() })).await;
/// assert_eq!(parsed, Ok(vec![1, 2]));
/// let failed = try_join_all(["1", "x"].map(|s| async move { s.parse::<u8>() })).await;
/// assert!(failed.is_err());
/// # });
/// ```
pub fn try_join_all<I, T, E>(futures: I) -> TryJoinAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    TryJoinAll {
        inner: join_all(futures),
    }
}

/// The future returned by [`try_join_all`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TryJoinAll<F: Future> {
    inner: JoinAll<F>,
}

impl<F, T, E> Future for TryJoinAll<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut self.inner;
        loop {
            match this.set.poll_next(cx) {
                Poll::Ready(Some((_, Err(e)))) => {
                    this.set.clear();
                    this.outputs.clear();
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Some((key, Ok(v)))) => this.outputs[key] = Some(Ok(v)),
                Poll::Ready(None) => {
                    let outputs = std::mem::take(&mut this.outputs);
                    return Poll::Ready(Ok(outputs
                        .into_iter()
                        .map(|o| match o {
                            Some(Ok(v)) => v,
                            _ => panic!("{}", error::JOIN_POLLED_AFTER_COMPLETION),
                        })
                        .collect()));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<F: Future> fmt::Debug for TryJoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryJoinAll")
            .field("remaining", &self.inner.set.len())
            .finish()
    }
}
