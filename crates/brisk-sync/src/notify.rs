//! `Notify`: wake one waiting task, or all of them, without passing data.
//!
//! Ground rules:
//! - `state` packs a two-bit status and, above it, the count of
//!   `notify_waiters` calls so far (the *generation*, wrapping):
//!   - `EMPTY`: no permit stored, no waiter queued;
//!   - `WAITING`: the waiter list is non-empty;
//!   - `NOTIFIED`: one permit is stored (and the list is empty).
//! - `WAITING` is set and cleared only while holding the `waiters` lock, and
//!   while it is set only lock holders change `state` (every lock-free
//!   update is a compare-and-swap from `EMPTY` or `NOTIFIED`). So under the
//!   lock, `status == WAITING` exactly when the list is non-empty.
//! - The generation advances only in `notify_waiters`, under the lock. A
//!   waiter records the generation when its future is created; seeing a
//!   later one means `notify_waiters` ran after its creation, so it is done
//!   even if it never queued.
//! - `notify_one` with nobody queued is one compare-and-swap and never takes
//!   the lock.
//! - A slot's payload says how its waiter was served: `One` by `notify_one`,
//!   `All` by `notify_waiters`. A waiter served with `One` that is dropped
//!   before it has seen the notification hands it on (to the next waiter, or
//!   back into the permit), so a cancellation never loses a `notify_one`.
//! - Wakers are woken after the lock is released.

use crate::loom::{AtomicUsize, Ordering};
use crate::resource::Resource;
use crate::waiters::{Key, WaitList, WakeList};
use brisk_core::spin::SpinLock;
use brisk_core::wait::ResourceKind;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

const STATUS: usize = 0b11;
/// No permit, no waiter.
const EMPTY: usize = 0b00;
/// The waiter list is non-empty.
const WAITING: usize = 0b01;
/// One permit is stored.
const NOTIFIED: usize = 0b10;
/// One `notify_waiters` call, in the generation bits.
const GENERATION_ONE: usize = 0b100;

#[inline]
fn status(s: usize) -> usize {
    s & STATUS
}

#[inline]
fn generation(s: usize) -> usize {
    s & !STATUS
}

#[inline]
fn with_status(s: usize, status: usize) -> usize {
    generation(s) | status
}

/// How a queued waiter was served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Served {
    /// Not yet (still queued).
    #[default]
    No,
    /// By `notify_one`: the notification is this waiter's alone.
    One,
    /// By `notify_waiters`.
    All,
}

/// Notifies tasks of an event, without passing data.
///
/// [`notify_one`](Notify::notify_one) wakes one waiting task, in arrival
/// order; if none waits, it stores a single permit that the next
/// [`notified`](Notify::notified) future consumes at once (permits do not
/// add up). [`notify_waiters`](Notify::notify_waiters) wakes every
/// `Notified` future created before the call, and stores nothing.
///
/// The API is the one of `tokio::sync::Notify`. A task waiting here has its
/// wait-point set to this `Notify` (for example `Notify #4 at src/queue.rs:9`).
///
/// # Examples
/// ```
/// use brisk::sync::Notify;
/// use std::sync::Arc;
///
/// # brisk::run(async {
/// let ready = Arc::new(Notify::new());
/// let r = ready.clone();
/// let waiter = brisk::spawn(async move {
///     r.notified().await;
///     "woken"
/// });
/// ready.notify_one(); // stored as a permit if the waiter is not there yet
/// assert_eq!(waiter.await.unwrap(), "woken");
/// # });
/// ```
pub struct Notify {
    /// Status and generation, as in the ground rules.
    state: AtomicUsize,
    waiters: SpinLock<WaitList<Served>>,
    res: Resource,
}

impl Notify {
    /// A new `Notify` with no permit stored.
    ///
    /// # Examples
    /// ```
    /// let notify = brisk::sync::Notify::new();
    /// # let _ = notify;
    /// ```
    pub fn new() -> Notify {
        Notify {
            state: AtomicUsize::new(EMPTY),
            waiters: SpinLock::new(WaitList::new()),
            res: Resource::new(ResourceKind::Notify),
        }
    }

    /// Waits for a notification.
    ///
    /// The future completes when it consumes the stored permit, when
    /// [`notify_one`](Notify::notify_one) picks it, or when
    /// [`notify_waiters`](Notify::notify_waiters) is called after this method
    /// returned (even if the future was not polled yet). Waiters are picked
    /// by `notify_one` in the order they first polled (or
    /// [enabled](Notified::enable)).
    ///
    /// Cancel safety: dropping the future loses no wake-up. If `notify_one`
    /// had already picked it, the notification passes to the next waiter,
    /// or back into the stored permit if none waits.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::Notify;
    ///
    /// # brisk::run(async {
    /// let notify = Notify::new();
    /// notify.notify_one();
    /// notify.notified().await; // the stored permit: completes at once
    /// # });
    /// ```
    #[track_caller]
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            waiter: self.new_waiter(Location::caller()),
        }
    }

    /// Like [`notified`](Notify::notified), holding the `Notify` by `Arc`:
    /// the future is `'static`, for spawning or storing.
    ///
    /// Cancel safety: as for [`notified`](Notify::notified).
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::Notify;
    /// use std::sync::Arc;
    ///
    /// # brisk::run(async {
    /// let notify = Arc::new(Notify::new());
    /// let wait = notify.clone().notified_owned();
    /// notify.notify_waiters(); // wakes `wait`: it was created before the call
    /// brisk::spawn(wait).await.unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        let waiter = self.new_waiter(Location::caller());
        OwnedNotified {
            notify: self,
            waiter,
        }
    }

    /// Wakes the longest-waiting task, or, if none waits, stores a permit
    /// for the next [`notified`](Notify::notified) future. At most one
    /// permit is stored: calling this twice with nobody waiting wakes one
    /// later waiter, not two.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::Notify;
    /// use std::sync::Arc;
    ///
    /// # brisk::run(async {
    /// let notify = Arc::new(Notify::new());
    /// let n = notify.clone();
    /// let task = brisk::spawn(async move { n.notified().await });
    /// notify.notify_one();
    /// task.await.unwrap();
    /// # });
    /// ```
    #[inline]
    pub fn notify_one(&self) {
        let mut s = self.state.load(Ordering::Acquire);
        // Nobody queued: store the permit (a compare-and-swap even if one is
        // already stored, so the release ordering reaches its consumer).
        while status(s) != WAITING {
            match self.state.compare_exchange_weak(
                s,
                with_status(s, NOTIFIED),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => s = actual,
            }
        }
        self.notify_one_slow();
    }

    #[cold]
    fn notify_one_slow(&self) {
        let mut list = self.waiters.lock();
        let waker = self.notify_one_locked(&mut list);
        drop(list);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// With the lock held: serves the first waiter or stores the permit.
    /// Returns the waker to wake once the lock is released.
    fn notify_one_locked(&self, list: &mut WaitList<Served>) -> Option<Waker> {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if status(s) == WAITING {
                let key = list.front().expect("`WAITING` with an empty waiter list");
                *list.data_mut(key) = Served::One;
                let waker = list.serve(key);
                if list.is_empty() {
                    // Only lock holders change `state` while it is `WAITING`.
                    self.state.store(with_status(s, EMPTY), Ordering::Release);
                }
                return waker;
            }
            match self.state.compare_exchange_weak(
                s,
                with_status(s, NOTIFIED),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return None,
                Err(actual) => s = actual,
            }
        }
    }

    /// Wakes every [`Notified`] future created before this call, whether it
    /// is waiting, was never polled, or was [enabled](Notified::enable).
    /// Stores no permit and leaves a stored permit in place: futures created
    /// after the call are not affected.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::Notify;
    /// use std::sync::Arc;
    ///
    /// # brisk::run(async {
    /// let notify = Arc::new(Notify::new());
    /// let tasks: Vec<_> = (0..3)
    ///     .map(|_| brisk::spawn(notify.clone().notified_owned()))
    ///     .collect();
    /// notify.notify_waiters();
    /// for t in tasks {
    ///     t.await.unwrap();
    /// }
    /// # });
    /// ```
    pub fn notify_waiters(&self) {
        let mut list = self.waiters.lock();
        let s = self.state.load(Ordering::Acquire);
        let mut wakes = WakeList::new();
        if status(s) == WAITING {
            while let Some(key) = list.front() {
                *list.data_mut(key) = Served::All;
                wakes.push(list.serve(key));
            }
            // Only lock holders change `state` while it is `WAITING`.
            self.state.store(
                with_status(s, EMPTY).wrapping_add(GENERATION_ONE),
                Ordering::Release,
            );
        } else {
            // Wraps on overflow, leaving the status bits alone.
            self.state.fetch_add(GENERATION_ONE, Ordering::AcqRel);
        }
        drop(list);
        wakes.wake_all();
    }

    /// This `Notify`'s resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::Notify;
    /// assert_ne!(Notify::new().resource_id(), Notify::new().resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.res.id()
    }

    fn new_waiter(&self, location: &'static Location<'static>) -> Waiter {
        Waiter {
            generation: generation(self.state.load(Ordering::Acquire)),
            phase: Phase::Init,
            location,
        }
    }

    /// Polls a waiter. `waker` is `None` for [`Notified::enable`], which
    /// queues without a waker to wake.
    fn poll_waiter(&self, w: &mut Waiter, waker: Option<&Waker>) -> Poll<()> {
        match w.phase {
            Phase::Done => Poll::Ready(()),
            Phase::Init => {
                // Fast path: a `notify_waiters` since creation, or a permit.
                let s = self.state.load(Ordering::Acquire);
                if generation(s) != w.generation
                    || (status(s) == NOTIFIED
                        && self
                            .state
                            .compare_exchange(
                                s,
                                with_status(s, EMPTY),
                                Ordering::AcqRel,
                                Ordering::Acquire,
                            )
                            .is_ok())
                {
                    w.phase = Phase::Done;
                    return Poll::Ready(());
                }
                self.poll_waiter_queue(w, waker)
            }
            Phase::Waiting(key) => {
                let mut list = self.waiters.lock();
                if list.is_queued(key) {
                    let replaced = waker.and_then(|waker| list.update_waker(key, waker));
                    drop(list);
                    drop(replaced);
                    return Poll::Pending;
                }
                let removed = list.remove(key);
                // Serving took the waker out; there is nothing to drop here.
                debug_assert!(removed.waker.is_none());
                w.phase = Phase::Done;
                Poll::Ready(())
            }
        }
    }

    #[cold]
    fn poll_waiter_queue(&self, w: &mut Waiter, waker: Option<&Waker>) -> Poll<()> {
        let mut list = self.waiters.lock();
        // The generation cannot move while we hold the lock.
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if generation(s) != w.generation {
                w.phase = Phase::Done;
                return Poll::Ready(());
            }
            let next = match status(s) {
                NOTIFIED => EMPTY,
                EMPTY => WAITING,
                _ => break,
            };
            match self.state.compare_exchange(
                s,
                with_status(s, next),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) if next == EMPTY => {
                    // We took the permit.
                    w.phase = Phase::Done;
                    return Poll::Ready(());
                }
                Ok(_) => break,
                // A lock-free `notify_one` stored a permit meanwhile.
                Err(actual) => s = actual,
            }
        }
        let key = list.push_back(waker.unwrap_or(Waker::noop()), Served::No);
        w.phase = Phase::Waiting(key);
        Poll::Pending
    }

    /// A waiter's future is dropped: leave the queue, and pass on a
    /// `notify_one` it received but never saw.
    fn drop_waiter(&self, w: &mut Waiter) {
        let Phase::Waiting(key) = w.phase else { return };
        w.phase = Phase::Done;
        let mut list = self.waiters.lock();
        let removed = list.remove(key);
        if removed.queued {
            if list.is_empty() {
                let s = self.state.load(Ordering::Acquire);
                debug_assert_eq!(status(s), WAITING);
                // Only lock holders change `state` while it is `WAITING`.
                self.state.store(with_status(s, EMPTY), Ordering::Release);
            }
            drop(list);
            drop(removed.waker);
        } else if removed.data == Served::One {
            let waker = self.notify_one_locked(&mut list);
            drop(list);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    fn poll_notified(&self, w: &mut Waiter, cx: &mut Context<'_>) -> Poll<()> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        let poll = self.poll_waiter(w, Some(cx.waker()));
        if poll.is_pending() {
            self.res.wait_here(w.location);
        }
        poll
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.load(Ordering::Acquire);
        let status = match status(s) {
            EMPTY => "empty",
            WAITING => "waiting",
            _ => "notified",
        };
        f.debug_struct("Notify")
            .field("id", &self.res.id())
            .field("state", &status)
            .finish()
    }
}

/// Where a `Notified` future is.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Not queued yet.
    Init,
    /// Queued in slot `Key` (which it owns until it completes or drops).
    Waiting(Key),
    /// Completed: it received a notification.
    Done,
}

/// The state shared by `Notified` and `OwnedNotified`.
#[derive(Debug)]
struct Waiter {
    /// The generation when the future was created.
    generation: usize,
    phase: Phase,
    location: &'static Location<'static>,
}

/// The future of [`Notify::notified`].
///
/// It can be [enabled](Notified::enable) to take its place in the queue
/// before it is first awaited.
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    waiter: Waiter,
}

impl Notified<'_> {
    /// Queues this future for [`notify_one`](Notify::notify_one) without
    /// polling it, so a notification sent between now and the first poll is
    /// not missed. Returns `true` if the future has already completed (a
    /// permit was stored, or [`notify_waiters`](Notify::notify_waiters) ran
    /// since the future was created); awaiting it then returns at once.
    /// Calling it again, or after a poll, only reports completion.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::Notify;
    /// use std::pin::pin;
    ///
    /// # brisk::run(async {
    /// let notify = Notify::new();
    /// let mut wait = pin!(notify.notified());
    /// assert!(!wait.as_mut().enable()); // queued, nothing received yet
    /// notify.notify_one(); // goes to `wait`, not into a permit
    /// assert!(wait.as_mut().enable());
    /// wait.await;
    /// # });
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        this.notify.poll_waiter(&mut this.waiter, None).is_ready()
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.notify.poll_notified(&mut this.waiter, cx)
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.notify.drop_waiter(&mut self.waiter);
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Notified({:?}, {:?})",
            self.notify.res, self.waiter.phase
        )
    }
}

/// The future of [`Notify::notified_owned`]: like [`Notified`], and
/// `'static`.
#[must_use = "futures do nothing unless awaited"]
pub struct OwnedNotified {
    notify: Arc<Notify>,
    waiter: Waiter,
}

impl OwnedNotified {
    /// As [`Notified::enable`].
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::Notify;
    /// use std::pin::pin;
    /// use std::sync::Arc;
    ///
    /// # brisk::run(async {
    /// let notify = Arc::new(Notify::new());
    /// let mut wait = pin!(notify.clone().notified_owned());
    /// assert!(!wait.as_mut().enable());
    /// notify.notify_one();
    /// wait.await;
    /// # });
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        this.notify.poll_waiter(&mut this.waiter, None).is_ready()
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.notify.poll_notified(&mut this.waiter, cx)
    }
}

impl Drop for OwnedNotified {
    fn drop(&mut self) {
        self.notify.drop_waiter(&mut self.waiter);
    }
}

impl fmt::Debug for OwnedNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OwnedNotified({:?}, {:?})",
            self.notify.res, self.waiter.phase
        )
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Notify;
    use crate::waiters::drop_probe::{probe, Seen};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Waker};

    /// A `notified()` future polled once with a waker whose drop notifies
    /// the same `Notify` (taking its waiter lock); the list holds the only
    /// clone of that waker.
    fn pending_with_probe(notify: &Arc<Notify>) -> (Pin<Box<impl Future + '_>>, Seen) {
        let (n1, n2) = (notify.clone(), notify.clone());
        let (waker, seen) = probe(move || n1.waiters.is_locked(), move || n2.notify_waiters());
        let mut fut = Box::pin(notify.notified());
        assert!(fut
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(waker);
        (fut, seen)
    }

    #[test]
    fn a_replaced_waker_is_dropped_outside_the_lock() {
        let notify = Arc::new(Notify::new());
        let (mut fut, seen) = pending_with_probe(&notify);
        // Polled again by another task: the probe is replaced and dropped,
        // and its `notify_waiters` serves this very future.
        let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(seen.dropped());
        assert!(
            !seen.under_lock(),
            "the replaced waker was dropped while the waiter lock was held"
        );
        assert!(fut
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready());
    }

    #[test]
    fn a_dropped_waiter_drops_its_waker_outside_the_lock() {
        let notify = Arc::new(Notify::new());
        let (fut, seen) = pending_with_probe(&notify);
        drop(fut);
        assert!(seen.dropped());
        assert!(
            !seen.under_lock(),
            "the waker was dropped while the waiter lock was held"
        );
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::Notify;
    use loom::thread;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Waker};

    /// `notify_one` races with a task starting to wait: the waiter completes
    /// whichever comes first (permit or wake-up).
    #[test]
    fn loom_notify_one_races_with_waiter() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let n = notify.clone();
            let t = thread::spawn(move || n.notify_one());
            loom::future::block_on(notify.notified());
            t.join().unwrap();
        });
    }

    /// Two queued waiters; one is dropped while `notify_one` runs. Whether or
    /// not it had been picked, the other one is woken.
    #[test]
    fn loom_dropped_waiter_passes_notification_on() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let mut first = Box::pin(notify.notified());
            let mut second = Box::pin(notify.notified());
            assert!(!first.as_mut().enable());
            assert!(!second.as_mut().enable());
            let n = notify.clone();
            let t = thread::spawn(move || n.notify_one());
            drop(first);
            loom::future::block_on(second);
            t.join().unwrap();
            // The one notification was used up, not duplicated.
            let mut third = pin!(notify.notified());
            assert!(!third.as_mut().enable());
        });
    }

    /// `notify_waiters` races with the first poll of a `Notified` created
    /// before it: the future completes, and no permit is left for a later
    /// one.
    #[test]
    fn loom_notify_waiters_races_with_new_waiter() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let wait = notify.clone().notified_owned();
            let n = notify.clone();
            let t = thread::spawn(move || n.notify_waiters());
            loom::future::block_on(wait);
            t.join().unwrap();
            let mut later = pin!(notify.notified());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(later.as_mut().poll(&mut cx).is_pending());
        });
    }
}
