//! The fair, cancel-safe semaphore core under `Semaphore`, `Mutex` and
//! `RwLock`.
//!
//! Ground rules:
//! - `state` packs the available permits (`state >> SHIFT`), `WAITERS` (the
//!   waiter list is non-empty) and `CLOSED`.
//! - `WAITERS` is set and cleared only while holding the `waiters` lock.
//!   While it is set the available count is zero: released permits go to the
//!   waiters in FIFO order (a waiter may collect its permits over several
//!   releases), so a newcomer can never overtake a waiter. This is the
//!   fairness guarantee, and it keeps writers of an `RwLock` from starving.
//! - The fast paths (acquire with no waiters, release with no waiters) are one
//!   compare-and-swap on `state` and never take the lock.
//! - A waiter that is dropped gives back every permit it had collected, so
//!   cancellation never loses a permit.

use crate::loom::{AtomicUsize, Ordering};
use crate::waiters::{Key, WaitList, WakeList};
use brisk_core::spin::SpinLock;
use std::task::{Context, Poll};

const WAITERS: usize = 0b01;
const CLOSED: usize = 0b10;
const SHIFT: usize = 2;

/// The most permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> (SHIFT + 1);

pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    /// Payload: permits the waiter still needs.
    waiters: SpinLock<WaitList<usize>>,
}

/// The state of one acquire in progress; lives in the acquiring future.
#[derive(Debug)]
pub(crate) struct AcquireState {
    /// Permits wanted.
    n: usize,
    /// Our slot while queued.
    key: Option<Key>,
    /// The permits were handed to a guard; polling again is a bug.
    done: bool,
}

impl AcquireState {
    pub(crate) const fn new(n: usize) -> AcquireState {
        AcquireState {
            n,
            key: None,
            done: false,
        }
    }

    /// Records that the acquired permits now belong to a guard: dropping the
    /// future gives nothing back, and polling it again panics.
    pub(crate) fn mark_done(&mut self) {
        debug_assert!(self.key.is_none());
        self.done = true;
    }

    pub(crate) fn n(&self) -> usize {
        self.n
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TryAcquire {
    Closed,
    NoPermits,
}

impl RawSemaphore {
    pub(crate) fn new(permits: usize) -> RawSemaphore {
        assert!(permits <= MAX_PERMITS, "{}", crate::error::TOO_MANY_PERMITS);
        RawSemaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: SpinLock::new(WaitList::new()),
        }
    }

    pub(crate) fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    pub(crate) fn has_waiters(&self) -> bool {
        self.state.load(Ordering::Acquire) & WAITERS != 0
    }

    /// Takes `n` permits if they are available and nobody waits.
    #[inline]
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquire> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & CLOSED != 0 {
                return Err(TryAcquire::Closed);
            }
            if s & WAITERS != 0 || (s >> SHIFT) < n {
                return Err(TryAcquire::NoPermits);
            }
            match self.state.compare_exchange_weak(
                s,
                s - (n << SHIFT),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => s = actual,
            }
        }
    }

    /// Polls an acquire. `Ready(Err(()))` means the semaphore is closed.
    /// On `Pending`, the waker is queued; `drop_acquire` must run if the
    /// acquire is abandoned.
    #[inline]
    pub(crate) fn poll_acquire(
        &self,
        st: &mut AcquireState,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        assert!(!st.done, "{}", crate::error::POLLED_AFTER_COMPLETION);
        if st.key.is_none() {
            if st.n == 0 {
                return Poll::Ready(Ok(()));
            }
            match self.try_acquire(st.n) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TryAcquire::Closed) => return Poll::Ready(Err(())),
                Err(TryAcquire::NoPermits) => {}
            }
        }
        self.poll_acquire_slow(st, cx)
    }

    #[cold]
    fn poll_acquire_slow(
        &self,
        st: &mut AcquireState,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        let mut list = self.waiters.lock();
        if let Some(key) = st.key {
            if list.is_queued(key) {
                let replaced = list.update_waker(key, cx.waker());
                drop(list);
                drop(replaced);
                return Poll::Pending;
            }
            // Served: either all permits arrived, or the semaphore closed.
            st.key = None;
            let removed = list.remove(key);
            // Serving took the waker out; there is nothing to drop here.
            debug_assert!(removed.waker.is_none());
            let missing = removed.data;
            if missing == 0 {
                return Poll::Ready(Ok(()));
            }
            let collected = st.n - missing;
            let wakes = self.release_locked(collected, list);
            wakes.wake_all();
            return Poll::Ready(Err(()));
        }
        // First time on the slow path: take what is there, queue for the rest.
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if s & CLOSED != 0 {
                return Poll::Ready(Err(()));
            }
            let avail = s >> SHIFT;
            if s & WAITERS == 0 && avail >= st.n {
                match self.state.compare_exchange_weak(
                    s,
                    s - (st.n << SHIFT),
                    Ordering::Acquire,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Poll::Ready(Ok(())),
                    Err(actual) => {
                        s = actual;
                        continue;
                    }
                }
            }
            // Invariant: with WAITERS set, `avail` is zero.
            let new = (s & CLOSED) | WAITERS;
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    st.key = Some(list.push_back(cx.waker(), st.n - avail));
                    return Poll::Pending;
                }
                Err(actual) => s = actual,
            }
        }
    }

    /// Abandons an acquire (its future is dropped): leaves the queue and gives
    /// back any permits it had collected.
    pub(crate) fn drop_acquire(&self, st: &mut AcquireState) {
        let Some(key) = st.key.take() else { return };
        let mut list = self.waiters.lock();
        let removed = list.remove(key);
        let collected = st.n - removed.data;
        if removed.queued && list.is_empty() && collected == 0 {
            self.clear_waiters_locked();
            drop(list);
            drop(removed.waker);
            return;
        }
        let wakes = self.release_locked(collected, list);
        drop(removed.waker);
        wakes.wake_all();
    }

    /// With the lock held and the list empty: clear `WAITERS`.
    fn clear_waiters_locked(&self) {
        let mut s = self.state.load(Ordering::Acquire);
        while s & WAITERS != 0 {
            match self.state.compare_exchange_weak(
                s,
                s & !WAITERS,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => s = actual,
            }
        }
    }

    /// Gives back `n` permits.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & WAITERS != 0 {
                break;
            }
            assert!(
                n <= MAX_PERMITS - (s >> SHIFT),
                "{}",
                crate::error::TOO_MANY_PERMITS
            );
            match self.state.compare_exchange_weak(
                s,
                s + (n << SHIFT),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => s = actual,
            }
        }
        self.release_slow(n);
    }

    #[cold]
    fn release_slow(&self, n: usize) {
        let list = self.waiters.lock();
        self.release_locked(n, list).wake_all();
    }

    /// With the lock held: hands `n` permits to the waiters in order, puts the
    /// rest back, and returns the wakers of the waiters now complete.
    fn release_locked(
        &self,
        mut n: usize,
        mut list: brisk_core::spin::SpinGuard<'_, WaitList<usize>>,
    ) -> WakeList {
        let mut wakes = WakeList::new();
        while n > 0 {
            let Some(key) = list.front() else { break };
            let missing = list.data_mut(key);
            let give = n.min(*missing);
            *missing -= give;
            n -= give;
            if *missing == 0 {
                wakes.push(list.serve(key));
            } else {
                break;
            }
        }
        if list.is_empty() {
            let mut s = self.state.load(Ordering::Acquire);
            loop {
                assert!(
                    n <= MAX_PERMITS - (s >> SHIFT),
                    "{}",
                    crate::error::TOO_MANY_PERMITS
                );
                let permits = (s >> SHIFT) + n;
                let new = (permits << SHIFT) | (s & CLOSED);
                match self
                    .state
                    .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => break,
                    Err(actual) => s = actual,
                }
            }
        } else {
            debug_assert_eq!(n, 0, "permits left over while waiters remain");
        }
        drop(list);
        wakes
    }

    /// Adds `n` permits (like a release without a prior acquire).
    pub(crate) fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` available permits; returns how many were removed.
    pub(crate) fn forget_permits(&self, n: usize) -> usize {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let take = n.min(s >> SHIFT);
            match self.state.compare_exchange_weak(
                s,
                s - (take << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return take,
                Err(actual) => s = actual,
            }
        }
    }

    /// Closes: pending and future acquires fail; waiters are woken.
    pub(crate) fn close(&self) {
        let mut list = self.waiters.lock();
        self.state.fetch_or(CLOSED, Ordering::AcqRel);
        let mut wakes = WakeList::new();
        while let Some(w) = list.serve_front() {
            wakes.push(w);
        }
        self.clear_waiters_locked();
        drop(list);
        wakes.wake_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{AcquireState, RawSemaphore};
    use crate::waiters::drop_probe::{probe, Seen};
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    /// Queues a waiter whose only waker releases a permit when dropped (as
    /// a waker that owns a guard would); returns the waiter and what the
    /// waker will have seen.
    fn queue_waiter(sem: &Arc<RawSemaphore>) -> (AcquireState, Seen) {
        let (s1, s2) = (sem.clone(), sem.clone());
        let (waker, seen) = probe(move || s1.waiters.is_locked(), move || s2.release(1));
        let mut st = AcquireState::new(1);
        let mut cx = Context::from_waker(&waker);
        assert!(sem.poll_acquire(&mut st, &mut cx).is_pending());
        drop(waker);
        assert!(!seen.dropped(), "the list holds a clone");
        (st, seen)
    }

    #[test]
    fn a_dropped_waiter_drops_its_waker_outside_the_lock() {
        let sem = Arc::new(RawSemaphore::new(0));
        let (mut st, seen) = queue_waiter(&sem);
        sem.drop_acquire(&mut st);
        assert!(seen.dropped());
        assert!(
            !seen.under_lock(),
            "the waker was dropped while the waiter lock was held"
        );
        // The waker's drop released a permit, which nobody waits for.
        assert_eq!(sem.available_permits(), 1);
        assert!(!sem.has_waiters());
    }

    #[test]
    fn a_replaced_waker_is_dropped_outside_the_lock() {
        let sem = Arc::new(RawSemaphore::new(0));
        let (mut st, seen) = queue_waiter(&sem);
        // Polled again with another task's waker: the old one is replaced.
        let mut cx = Context::from_waker(Waker::noop());
        // The old waker's drop releases a permit, which serves this very
        // waiter: it is ready on the next poll.
        assert!(sem.poll_acquire(&mut st, &mut cx).is_pending());
        assert!(seen.dropped());
        assert!(
            !seen.under_lock(),
            "the replaced waker was dropped while the waiter lock was held"
        );
        assert_eq!(sem.poll_acquire(&mut st, &mut cx), Poll::Ready(Ok(())));
        st.mark_done();
        sem.release(1);
        assert_eq!(sem.available_permits(), 1);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::{AcquireState, RawSemaphore};
    use loom::sync::Arc;
    use loom::thread;
    use std::future::poll_fn;
    use std::task::{Context, Poll, Waker};

    fn acquire(sem: &RawSemaphore, n: usize) {
        let mut st = AcquireState::new(n);
        loom::future::block_on(poll_fn(|cx| sem.poll_acquire(&mut st, cx))).unwrap();
    }

    /// A waiter queued behind a holder, dropped while the holder releases:
    /// the permit is neither lost nor duplicated.
    #[test]
    fn loom_acquire_then_drop_before_wake() {
        loom::model(|| {
            let sem = Arc::new(RawSemaphore::new(1));
            sem.try_acquire(1).unwrap();
            let s = sem.clone();
            let releaser = thread::spawn(move || s.release(1));
            let mut st = AcquireState::new(1);
            let mut cx = Context::from_waker(Waker::noop());
            let got = sem.poll_acquire(&mut st, &mut cx);
            if got.is_pending() {
                sem.drop_acquire(&mut st);
            } else {
                sem.release(1);
            }
            releaser.join().unwrap();
            assert_eq!(sem.available_permits(), 1);
            assert!(!sem.has_waiters());
        });
    }

    /// Two tasks contend for one permit with real wake-ups: both get it in
    /// turn and no wake-up is lost.
    #[test]
    fn loom_two_acquirers_one_permit() {
        loom::model(|| {
            let sem = Arc::new(RawSemaphore::new(1));
            let s = sem.clone();
            let t = thread::spawn(move || {
                acquire(&s, 1);
                s.release(1);
            });
            acquire(&sem, 1);
            sem.release(1);
            t.join().unwrap();
            assert_eq!(sem.available_permits(), 1);
        });
    }

    /// A writer-sized acquire collects permits over two releases and is
    /// served before a later small acquire (FIFO, partial assignment).
    #[test]
    fn loom_partial_assignment_then_drop() {
        loom::model(|| {
            let sem = Arc::new(RawSemaphore::new(2));
            sem.try_acquire(1).unwrap();
            sem.try_acquire(1).unwrap();
            let mut big = AcquireState::new(2);
            let mut cx = Context::from_waker(Waker::noop());
            assert!(sem.poll_acquire(&mut big, &mut cx).is_pending());
            // A newcomer cannot overtake the queued writer.
            assert!(sem.try_acquire(1).is_err());
            let s = sem.clone();
            let t = thread::spawn(move || s.release(1));
            sem.release(1);
            t.join().unwrap();
            match sem.poll_acquire(&mut big, &mut cx) {
                Poll::Ready(Ok(())) => sem.release(2),
                other => panic!("writer not served: {other:?}"),
            }
            assert_eq!(sem.available_permits(), 2);
            // Dropping a waiter that collected one of two permits gives it back.
            sem.try_acquire(2).unwrap();
            let mut big = AcquireState::new(2);
            assert!(sem.poll_acquire(&mut big, &mut cx).is_pending());
            sem.release(1);
            sem.drop_acquire(&mut big);
            sem.release(1);
            assert_eq!(sem.available_permits(), 2);
            assert!(!sem.has_waiters());
        });
    }

    /// A waker that holds a permit and releases it when dropped (as a waker
    /// owning a guard would).
    struct ReleasingWaker(Arc<RawSemaphore>);

    impl std::task::Wake for ReleasingWaker {
        fn wake(self: std::sync::Arc<Self>) {}
    }

    impl Drop for ReleasingWaker {
        fn drop(&mut self) {
            self.0.release(1);
        }
    }

    /// A queued waiter leaves while a holder releases, and its waker's drop
    /// releases a permit of its own: wherever the waker is dropped (by the
    /// waiter leaving, or by the releaser after waking it), it is dropped
    /// outside the waiter lock, so its release neither spins on that lock
    /// nor loses a permit.
    #[test]
    fn loom_waker_drop_releases_a_permit() {
        loom::model(|| {
            let sem = Arc::new(RawSemaphore::new(2));
            // One permit for the holder, one owned by the waker.
            sem.try_acquire(2).unwrap();
            let waker = Waker::from(std::sync::Arc::new(ReleasingWaker(sem.clone())));
            let mut st = AcquireState::new(1);
            let mut cx = Context::from_waker(&waker);
            assert!(sem.poll_acquire(&mut st, &mut cx).is_pending());
            drop(waker);
            let s = sem.clone();
            let releaser = thread::spawn(move || s.release(1));
            sem.drop_acquire(&mut st);
            releaser.join().unwrap();
            assert_eq!(sem.available_permits(), 2);
            assert!(!sem.has_waiters());
        });
    }

    /// Closing wakes a waiter, which then fails; permits it collected return.
    #[test]
    fn loom_close_wakes_waiter() {
        loom::model(|| {
            let sem = Arc::new(RawSemaphore::new(0));
            let s = sem.clone();
            let t = thread::spawn(move || {
                let mut st = AcquireState::new(1);
                loom::future::block_on(poll_fn(|cx| s.poll_acquire(&mut st, cx)))
            });
            sem.close();
            assert_eq!(t.join().unwrap(), Err(()));
        });
    }
}
