//! `Barrier`: a fixed number of tasks wait for each other, generation after
//! generation.
//!
//! Ground rules:
//! - Everything lives under one lock: `arrived` (tasks of the current
//!   generation that have arrived), the generation number, and the waiters.
//! - A `BarrierWait` arrives on its first poll. If it is the `n`-th arrival
//!   it trips the barrier: it serves every queued waiter, resets `arrived` to
//!   zero, advances the generation, and completes as the leader. Otherwise it
//!   queues; `arrived` then counts it exactly while it is queued.
//! - A queued waiter that is dropped leaves the queue and takes its arrival
//!   back (`arrived -= 1`), so a cancelled wait never trips the barrier for
//!   tasks that did not arrive. A served waiter that is dropped changes
//!   nothing: its generation has already tripped.
//! - Wakers are woken after the lock is released.

use crate::resource::Resource;
use crate::waiters::{Key, WaitList, WakeList};
use brisk_core::spin::SpinLock;
use brisk_core::wait::ResourceKind;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Makes a fixed number of tasks wait for each other.
///
/// Each call to [`wait`](Barrier::wait) blocks until `n` tasks are waiting;
/// then all of them continue, and exactly one of them is told it is the
/// leader. The barrier then starts over, so it can be used again.
///
/// A task waiting here has its wait-point set to this barrier.
///
/// # Examples
/// ```
/// use brisk::sync::Barrier;
/// use std::sync::Arc;
///
/// # brisk::run(async {
/// let barrier = Arc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         brisk::spawn(async move { barrier.wait().await.is_leader() })
///     })
///     .collect();
/// let mut leaders = 0;
/// for t in tasks {
///     leaders += t.await.unwrap() as usize;
/// }
/// assert_eq!(leaders, 1);
/// # });
/// ```
pub struct Barrier {
    n: usize,
    state: SpinLock<State>,
    res: Resource,
}

struct State {
    /// Arrivals in the current generation; always below `n`.
    arrived: usize,
    /// Trips so far (wrapping).
    generation: usize,
    waiters: WaitList<()>,
}

impl Barrier {
    /// A barrier that trips when `n` tasks wait on it.
    ///
    /// # Panics
    /// If `n` is zero.
    ///
    /// # Examples
    /// ```
    /// let barrier = brisk::sync::Barrier::new(4);
    /// # let _ = barrier;
    /// ```
    #[track_caller]
    pub fn new(n: usize) -> Barrier {
        assert!(n > 0, "{}", crate::error::ZERO_BARRIER);
        Barrier {
            n,
            state: SpinLock::new(State {
                arrived: 0,
                generation: 0,
                waiters: WaitList::new(),
            }),
            res: Resource::new(ResourceKind::Barrier),
        }
    }

    /// Waits until `n` tasks (this one included) are waiting.
    ///
    /// The task whose arrival trips the barrier gets a result whose
    /// [`is_leader`](BarrierWaitResult::is_leader) is `true`; the others get
    /// `false`. A task arrives when the future is first polled.
    ///
    /// Cancel safety: dropping the future before the barrier trips takes
    /// its arrival back, so the barrier still waits for `n` live tasks.
    /// Dropping it after the barrier tripped (but before it was polled again)
    /// changes nothing: the trip stands and the others continue.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::Barrier;
    ///
    /// # brisk::run(async {
    /// let barrier = Barrier::new(1);
    /// assert!(barrier.wait().await.is_leader()); // alone, so it trips at once
    /// assert!(barrier.wait().await.is_leader()); // and again: it is reusable
    /// # });
    /// ```
    #[track_caller]
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            phase: Phase::Init,
            location: Location::caller(),
        }
    }

    /// The number of tasks the barrier waits for.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(brisk::sync::Barrier::new(4).size(), 4);
    /// ```
    pub fn size(&self) -> usize {
        self.n
    }

    /// This barrier's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::Barrier;
    /// assert_ne!(Barrier::new(2).resource_id(), Barrier::new(2).resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.res.id()
    }

    fn poll_wait(&self, phase: &mut Phase, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        match *phase {
            Phase::Done => panic!("{}", crate::error::BARRIER_WAIT_REPOLLED),
            Phase::Init => {
                let mut st = self.state.lock();
                st.arrived += 1;
                if st.arrived < self.n {
                    let key = st.waiters.push_back(cx.waker(), ());
                    *phase = Phase::Waiting(key);
                    return Poll::Pending;
                }
                // The n-th arrival: trip.
                st.arrived = 0;
                st.generation = st.generation.wrapping_add(1);
                let mut wakes = WakeList::new();
                while let Some(w) = st.waiters.serve_front() {
                    wakes.push(w);
                }
                drop(st);
                wakes.wake_all();
                *phase = Phase::Done;
                Poll::Ready(BarrierWaitResult { leader: true })
            }
            Phase::Waiting(key) => {
                let mut st = self.state.lock();
                if st.waiters.is_queued(key) {
                    let replaced = st.waiters.update_waker(key, cx.waker());
                    drop(st);
                    drop(replaced);
                    return Poll::Pending;
                }
                let removed = st.waiters.remove(key);
                // The trip served us and took the waker out.
                debug_assert!(removed.waker.is_none());
                *phase = Phase::Done;
                Poll::Ready(BarrierWaitResult { leader: false })
            }
        }
    }

    fn drop_wait(&self, phase: &mut Phase) {
        let Phase::Waiting(key) = *phase else { return };
        *phase = Phase::Done;
        let mut st = self.state.lock();
        let removed = st.waiters.remove(key);
        if removed.queued {
            st.arrived -= 1;
        }
        drop(st);
        drop(removed.waker);
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (arrived, generation) = {
            let st = self.state.lock();
            (st.arrived, st.generation)
        };
        f.debug_struct("Barrier")
            .field("id", &self.res.id())
            .field("n", &self.n)
            .field("arrived", &arrived)
            .field("generation", &generation)
            .finish()
    }
}

/// Where a `BarrierWait` is.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Not arrived yet.
    Init,
    /// Arrived and queued in slot `Key`.
    Waiting(Key),
    /// Completed (or dropped).
    Done,
}

/// The future of [`Barrier::wait`].
///
/// # Panics
/// If polled again after it completed: each wait reports one generation.
#[must_use = "futures do nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    phase: Phase,
    location: &'static Location<'static>,
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self.get_mut();
        if let Phase::Init = this.phase {
            // Spend budget only before arriving, so a trip is never delayed.
            std::task::ready!(brisk_core::coop::poll_proceed(cx));
        }
        let poll = this.barrier.poll_wait(&mut this.phase, cx);
        if poll.is_pending() {
            this.barrier.res.wait_here(this.location);
        }
        poll
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        self.barrier.drop_wait(&mut self.phase);
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BarrierWait({:?}, {:?})", self.barrier.res, self.phase)
    }
}

/// What [`Barrier::wait`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult {
    leader: bool,
}

impl BarrierWaitResult {
    /// True for exactly one task per generation: the one whose arrival
    /// tripped the barrier.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let barrier = brisk::sync::Barrier::new(1);
    /// assert!(barrier.wait().await.is_leader());
    /// # });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::Barrier;
    use loom::thread;
    use std::future::Future;
    use std::sync::Arc;
    use std::task::{Context, Waker};

    /// A barrier of 2: one task arrives and drops its wait while the other
    /// arrives. If the drop came first, the arrival was withdrawn and the
    /// dropping task must wait again to release the other; either way
    /// exactly one leader per trip, and nobody is left stuck.
    #[test]
    fn loom_barrier_of_two_with_one_wait_dropped() {
        loom::model(|| {
            let barrier = Arc::new(Barrier::new(2));
            let b = barrier.clone();
            let t = thread::spawn(move || loom::future::block_on(b.wait()).is_leader());
            let mut cx = Context::from_waker(Waker::noop());
            let mut first = Box::pin(barrier.wait());
            let mut leaders = 0;
            let tripped = match first.as_mut().poll(&mut cx) {
                std::task::Poll::Ready(r) => {
                    leaders += r.is_leader() as usize;
                    true
                }
                std::task::Poll::Pending => {
                    drop(first);
                    barrier.state.lock().generation == 1
                }
            };
            if !tripped {
                leaders += loom::future::block_on(barrier.wait()).is_leader() as usize;
            }
            leaders += t.join().unwrap() as usize;
            assert_eq!(leaders, 1);
            let st = barrier.state.lock();
            assert_eq!(st.generation, 1);
            assert_eq!(st.arrived, 0);
            assert!(st.waiters.is_empty());
        });
    }
}
