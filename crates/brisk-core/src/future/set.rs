//! [`FutureSet`]: an unordered set of futures, each with its own waker.
//!
//! # Ground rules
//!
//! - Every member owns a [`MemberWaker`] (one `Arc`, made at `push`). Waking
//!   it appends `(key, generation)` to the shared ready queue — once: the
//!   member's `queued` flag deduplicates wakes until the set takes the entry.
//! - `poll_next` moves the whole shared queue into its private `batch` once
//!   per call, then polls only those members. A member that wakes itself while
//!   being polled lands in the shared queue, so it runs on the *next* call:
//!   `yield_now` inside a member still yields to the scheduler.
//! - A slot's `generation` changes whenever its member leaves (finished or
//!   removed). A stale entry (a waker of a departed member) fails the
//!   generation check and is skipped; it never polls the slot's new member.
//! - The owner is woken at most once per `poll_next` call: `notified` is
//!   cleared before the queue is taken, and a member wake that finds it clear
//!   sets it and wakes the owner. The queue lock orders the two sides, so a
//!   wake is never lost (see the loom model at the bottom).

use crate::coop;
use crate::loom::{AtomicBool, Ordering};
use crate::spin::SpinLock;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
// `std::task::Wake` needs std's `Arc`; the atomics inside come from the loom
// shim, which is what the model checks.
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// At most this many members are polled in one `poll_next` call; then the set
/// wakes its owner and returns `Pending`, so one busy set cannot hold a worker.
const POLLS_PER_CALL: usize = if cfg!(loom) { 2 } else { 64 };

/// An unordered set of `Send` futures that polls only the members that were
/// woken.
///
/// Each member gets its own waker; a wake queues that member alone, so a
/// set of 10,000 futures where one becomes ready costs one poll, not 10,000.
/// Results come out in completion order, tagged with the key [`push`]
/// returned. This is what `join_all`, `try_join_all` and scopes use inside
/// one task.
///
/// The set is cooperative: one [`poll_next`] polls at most 64 members (and
/// stops early when the task's [budget](crate::coop) is spent), then wakes
/// the task and returns `Pending` so its neighbours get to run.
///
/// For `!Send` futures use [`LocalFutureSet`], which is identical otherwise.
///
/// # Examples
/// ```
/// use brisk::future::FutureSet;
/// use std::time::Duration;
///
/// # brisk::run(async {
/// let mut set = FutureSet::new();
/// let slow = set.push(async {
///     brisk::time::sleep(Duration::from_millis(20)).await;
///     "slow"
/// });
/// let fast = set.push(async { "fast" });
///
/// assert_eq!(set.next().await, Some((fast, "fast")));
/// assert_eq!(set.next().await, Some((slow, "slow")));
/// assert_eq!(set.next().await, None);
/// # });
/// ```
///
/// [`push`]: FutureSet::push
/// [`poll_next`]: FutureSet::poll_next
pub struct FutureSet<'a, T> {
    raw: RawSet<Pin<Box<dyn Future<Output = T> + Send + 'a>>>,
}

impl<'a, T> FutureSet<'a, T> {
    /// Adds a future that is already boxed, without boxing it again.
    pub(crate) fn push_boxed(
        &mut self,
        future: Pin<Box<dyn Future<Output = T> + Send + 'a>>,
    ) -> usize {
        self.raw.push(future)
    }
}

/// A [`FutureSet`] for futures that are not `Send` (the set itself is then
/// not `Send` either).
///
/// # Examples
/// ```
/// use brisk::future::LocalFutureSet;
/// use std::rc::Rc;
///
/// # brisk::run(async {
/// let shared = Rc::new(3);
/// let mut set = LocalFutureSet::new();
/// let s = shared.clone();
/// set.push(async move { *s * 2 });
/// assert_eq!(set.next().await.map(|(_, v)| v), Some(6));
/// # });
/// ```
pub struct LocalFutureSet<'a, T> {
    raw: RawSet<Pin<Box<dyn Future<Output = T> + 'a>>>,
}

macro_rules! set_api {
    ($set:ident, $($bound:tt)*) => {
        impl<'a, T> $set<'a, T> {
            /// An empty set. Allocates nothing until the first `push`.
            pub fn new() -> Self {
                $set { raw: RawSet::new() }
            }

            /// Adds a future and returns its key. The future is first polled
            /// by the next [`poll_next`](Self::poll_next).
            ///
            /// Keys are small integers; a key is reused after its member
            /// finished or was [removed](Self::remove).
            pub fn push<F>(&mut self, future: F) -> usize
            where
                F: Future<Output = T> + $($bound)* 'a,
            {
                self.raw.push(Box::pin(future))
            }

            /// Number of members still running.
            pub fn len(&self) -> usize {
                self.raw.len
            }

            /// True if no member is running.
            pub fn is_empty(&self) -> bool {
                self.raw.len == 0
            }

            /// Drops the member with this key, if it is still running;
            /// returns whether one was dropped.
            pub fn remove(&mut self, key: usize) -> bool {
                self.raw.remove(key)
            }

            /// Drops every member.
            pub fn clear(&mut self) {
                self.raw.clear()
            }

            /// Polls the members that were woken since the last call (and
            /// members pushed since then).
            ///
            /// Returns `Ready(Some((key, output)))` when one finishes (the key
            /// becomes free), `Ready(None)` when the set is empty, and
            /// `Pending` otherwise; the waker in `cx` is woken when a member
            /// makes progress.
            pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, T)>> {
                self.raw.poll_next(cx)
            }

            /// Waits for the next member to finish: `Some((key, output))`,
            /// or `None` once the set is empty.
            ///
            /// Cancel safety: cancel-safe. Dropping the future loses no
            /// output; members stay in the set.
            // An async `next`, like a stream's; not `Iterator::next`.
            #[allow(clippy::should_implement_trait)]
            pub fn next(&mut self) -> Next<'_, Self> {
                Next { set: self }
            }
        }

        impl<T> Default for $set<'_, T> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<T> fmt::Debug for $set<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($set)).field("len", &self.raw.len).finish()
            }
        }

        impl<T> PollNext for $set<'_, T> {
            type Item = (usize, T);
            fn poll_next_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, T)>> {
                self.raw.poll_next(cx)
            }
        }

        impl<T> futures_core::Stream for $set<'_, T> {
            type Item = (usize, T);
            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<(usize, T)>> {
                self.get_mut().raw.poll_next(cx)
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                (self.raw.len, Some(self.raw.len))
            }
        }
    };
}

set_api!(FutureSet, Send+);
set_api!(LocalFutureSet,);

/// The sets [`Next`] can wait on. Sealed: implemented by [`FutureSet`] and
/// [`LocalFutureSet`].
pub trait PollNext: sealed::Sealed {
    /// What the set yields.
    #[doc(hidden)]
    type Item;
    #[doc(hidden)]
    fn poll_next_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::Item>>;
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for super::FutureSet<'_, T> {}
    impl<T> Sealed for super::LocalFutureSet<'_, T> {}
}

/// The future returned by [`FutureSet::next`] and [`LocalFutureSet::next`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Next<'s, S> {
    set: &'s mut S,
}

impl<S: PollNext> Future for Next<'_, S> {
    type Output = Option<S::Item>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.set.poll_next_item(cx)
    }
}

impl<S: fmt::Debug> fmt::Debug for Next<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").field("set", &self.set).finish()
    }
}

// ---- the engine, generic over the stored (pinned, boxed) future ---------------------

/// The slab and ready queue behind both sets and `join_all`.
pub(crate) struct RawSet<F> {
    slots: Vec<Slot<F>>,
    /// Free slot indices, reused before the slab grows.
    free: Vec<usize>,
    /// Members running.
    len: usize,
    /// Entries taken from `shared.queue`, polled by this and later calls.
    batch: VecDeque<(usize, u64)>,
    shared: Arc<Shared>,
}

struct Slot<F> {
    /// `None` when the slot is free.
    future: Option<F>,
    /// The member's waker; replaced when the slot gets a new member.
    waker: Option<(Arc<MemberWaker>, Waker)>,
    /// Bumped whenever a member leaves the slot.
    generation: u64,
}

struct Shared {
    /// Woken members, deduplicated by each member's `queued` flag.
    queue: SpinLock<VecDeque<(usize, u64)>>,
    /// The owner's waker, refreshed by every `poll_next`.
    owner: SpinLock<Option<Waker>>,
    /// True once a member wake has woken the owner since the last
    /// `poll_next` took the queue; spares the owner repeated wakes.
    notified: AtomicBool,
}

struct MemberWaker {
    key: usize,
    generation: u64,
    /// True while an entry for this member is queued (or in `batch`).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MemberWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        self.shared
            .queue
            .lock()
            .push_back((self.key, self.generation));
        if !self.shared.notified.swap(true, Ordering::AcqRel) {
            let owner = self.shared.owner.lock().clone();
            if let Some(owner) = owner {
                owner.wake();
            }
        }
    }
}

impl<F> RawSet<F> {
    pub(crate) fn new() -> Self {
        RawSet {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            batch: VecDeque::new(),
            shared: Arc::new(Shared {
                queue: SpinLock::new(VecDeque::new()),
                owner: SpinLock::new(None),
                notified: AtomicBool::new(false),
            }),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push(&mut self, future: F) -> usize {
        let key = match self.free.pop() {
            Some(key) => key,
            None => {
                self.slots.push(Slot {
                    future: None,
                    waker: None,
                    generation: 0,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[key];
        let member = Arc::new(MemberWaker {
            key,
            generation: slot.generation,
            queued: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        let waker = Waker::from(member.clone());
        slot.future = Some(future);
        slot.waker = Some((member, waker));
        self.batch.push_back((key, slot.generation));
        self.len += 1;
        key
    }

    /// Frees slot `key`, returning its future (dropped by the caller).
    fn vacate(&mut self, key: usize) -> Option<F> {
        let slot = self.slots.get_mut(key)?;
        let future = slot.future.take()?;
        slot.waker = None;
        slot.generation += 1;
        self.free.push(key);
        self.len -= 1;
        Some(future)
    }

    pub(crate) fn remove(&mut self, key: usize) -> bool {
        self.vacate(key).is_some()
    }

    pub(crate) fn clear(&mut self) {
        for key in 0..self.slots.len() {
            drop(self.vacate(key));
        }
        self.batch.clear();
    }

    /// Queues every running member that is not queued yet.
    fn queue_all(&mut self) {
        for (key, slot) in self.slots.iter().enumerate() {
            if let (Some(_), Some((member, _))) = (&slot.future, &slot.waker) {
                if !member.queued.swap(true, Ordering::AcqRel) {
                    self.batch.push_back((key, slot.generation));
                }
            }
        }
    }

    fn register_owner(&self, waker: &Waker) {
        let mut owner = self.shared.owner.lock();
        match &*owner {
            Some(w) if w.will_wake(waker) => {}
            _ => *owner = Some(waker.clone()),
        }
    }
}

impl<F: Future + Unpin> RawSet<F> {
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F::Output)>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        // Cancellation wakes the task, not the members: while the code
        // polling the set is cancelled, poll every member, so that their
        // leaves reach their cancellation points (a leaf that unwinds
        // registers no waker, so waiting for member wakes could hang).
        if crate::task::cancel::current_reason().is_some() {
            self.queue_all();
        }
        self.register_owner(cx.waker());
        // Clear before taking the queue: a wake queued after the take sees
        // `false` and wakes the owner (the queue lock orders the two).
        self.shared.notified.store(false, Ordering::Release);
        {
            let mut queue = self.shared.queue.lock();
            if self.batch.is_empty() {
                std::mem::swap(&mut self.batch, &mut *queue);
            } else {
                self.batch.extend(queue.drain(..));
            }
        }
        let mut polled = 0;
        while let Some(&(key, generation)) = self.batch.front() {
            if polled == POLLS_PER_CALL || !coop::has_budget_remaining() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.batch.pop_front();
            let Some(slot) = self.slots.get_mut(key) else {
                continue;
            };
            if slot.generation != generation {
                continue;
            }
            let (Some(future), Some((member, waker))) = (&mut slot.future, &slot.waker) else {
                continue;
            };
            // Cleared before the poll: a wake during the poll queues the
            // member again, for the next call.
            member.queued.store(false, Ordering::Release);
            polled += 1;
            let mut member_cx = Context::from_waker(waker);
            if let Poll::Ready(output) = Pin::new(future).poll(&mut member_cx) {
                drop(self.vacate(key));
                return Poll::Ready(Some((key, output)));
            }
        }
        Poll::Pending
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::sync::atomic::AtomicUsize;

    /// A future that counts its polls and finishes on its `n`-th poll,
    /// leaving its waker where the test can fire it.
    struct Probe {
        polls: Rc<Cell<usize>>,
        finish_at: usize,
        waker: Rc<Cell<Option<Waker>>>,
    }

    impl Future for Probe {
        type Output = usize;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            let n = self.polls.get() + 1;
            self.polls.set(n);
            if n >= self.finish_at {
                Poll::Ready(n)
            } else {
                self.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn probe(finish_at: usize) -> (Probe, Rc<Cell<usize>>, Rc<Cell<Option<Waker>>>) {
        let polls = Rc::new(Cell::new(0));
        let waker = Rc::new(Cell::new(None));
        let p = Probe {
            polls: polls.clone(),
            finish_at,
            waker: waker.clone(),
        };
        (p, polls, waker)
    }

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<CountingWaker>, Waker) {
        let w = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (w.clone(), Waker::from(w))
    }

    #[test]
    fn empty_set_is_done() {
        let mut set: LocalFutureSet<'_, ()> = LocalFutureSet::new();
        let (_, w) = counting_waker();
        assert!(set.is_empty());
        assert_eq!(
            set.poll_next(&mut Context::from_waker(&w)),
            Poll::Ready(None)
        );
    }

    #[test]
    fn only_woken_members_are_polled() {
        let (owner, w) = counting_waker();
        let mut cx = Context::from_waker(&w);
        let mut set = LocalFutureSet::new();
        let mut probes = Vec::new();
        for _ in 0..10 {
            let (p, polls, waker) = probe(3);
            let key = set.push(p);
            probes.push((key, polls, waker));
        }
        // First call polls every new member once.
        assert!(set.poll_next(&mut cx).is_pending());
        assert!(probes.iter().all(|(_, polls, _)| polls.get() == 1));
        // Nothing woken: nothing polled.
        assert!(set.poll_next(&mut cx).is_pending());
        assert!(probes.iter().all(|(_, polls, _)| polls.get() == 1));
        // Wake member 4 twice: the owner is woken once, member 4 polled once.
        let w4 = probes[4].2.take().unwrap();
        w4.wake_by_ref();
        w4.wake_by_ref();
        assert_eq!(owner.0.load(Ordering::SeqCst), 1);
        assert!(set.poll_next(&mut cx).is_pending());
        let polls: Vec<usize> = probes.iter().map(|(_, p, _)| p.get()).collect();
        assert_eq!(polls, [1, 1, 1, 1, 2, 1, 1, 1, 1, 1]);
        // Third poll finishes it, with its key.
        probes[4].2.take().unwrap().wake();
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((probes[4].0, 3))));
        assert_eq!(set.len(), 9);
    }

    #[test]
    fn stale_waker_does_not_poll_the_new_member() {
        let (_, w) = counting_waker();
        let mut cx = Context::from_waker(&w);
        let mut set = LocalFutureSet::new();
        let (a, _, a_waker) = probe(5);
        let key = set.push(a);
        assert!(set.poll_next(&mut cx).is_pending());
        assert!(set.remove(key));
        assert!(!set.remove(key));
        let (b, b_polls, _) = probe(5);
        assert_eq!(set.push(b), key, "the key is reused");
        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(b_polls.get(), 1);
        a_waker.take().unwrap().wake();
        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(
            b_polls.get(),
            1,
            "the old member's waker reached the new one"
        );
    }

    #[test]
    fn polls_a_bounded_number_per_call_and_wakes_itself() {
        let (owner, w) = counting_waker();
        let mut cx = Context::from_waker(&w);
        let mut set = LocalFutureSet::new();
        let polls = Rc::new(Cell::new(0));
        for _ in 0..POLLS_PER_CALL * 2 + 1 {
            let p = Probe {
                polls: polls.clone(),
                finish_at: usize::MAX,
                waker: Rc::new(Cell::new(None)),
            };
            set.push(p);
        }
        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(polls.get(), POLLS_PER_CALL);
        assert_eq!(owner.0.load(Ordering::SeqCst), 1, "it woke its owner");
        assert!(set.poll_next(&mut cx).is_pending());
        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(polls.get(), POLLS_PER_CALL * 2 + 1);
        assert_eq!(owner.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_self_waking_member_runs_once_per_call() {
        let (_, w) = counting_waker();
        let mut cx = Context::from_waker(&w);
        let mut set = LocalFutureSet::new();
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        set.push(std::future::poll_fn(move |cx| {
            p.set(p.get() + 1);
            cx.waker().wake_by_ref();
            Poll::<()>::Pending
        }));
        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(polls.get(), 1);
        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(polls.get(), 2);
    }

    #[test]
    fn drops_members_on_remove_clear_and_drop() {
        struct D(Rc<Cell<usize>>);
        impl Drop for D {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let drops = Rc::new(Cell::new(0));
        let mut set = LocalFutureSet::new();
        let mk = |d: D| async move {
            let _d = d;
            std::future::pending::<()>().await
        };
        let k = set.push(mk(D(drops.clone())));
        set.push(mk(D(drops.clone())));
        set.push(mk(D(drops.clone())));
        set.remove(k);
        assert_eq!(drops.get(), 1);
        set.clear();
        assert_eq!((drops.get(), set.len()), (3, 0));
        set.push(mk(D(drops.clone())));
        drop(set);
        assert_eq!(drops.get(), 4);
    }

    #[test]
    fn send_set_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let mut set = FutureSet::new();
        set.push(async { 1 });
        assert_send(&set);
    }

    #[test]
    fn wakes_from_another_thread() {
        let set_result = crate::future::tests_support::block_on_local(async {
            let mut set = FutureSet::new();
            for i in 0..8u32 {
                set.push(async move {
                    let (tx, rx) = std::sync::mpsc::channel();
                    let fut = std::future::poll_fn(move |cx| {
                        if let Ok(v) = rx.try_recv() {
                            return Poll::Ready(v);
                        }
                        let waker = cx.waker().clone();
                        let tx = tx.clone();
                        std::thread::spawn(move || {
                            let _ = tx.send(i);
                            waker.wake();
                        });
                        Poll::Pending
                    });
                    fut.await
                });
            }
            let mut sum = 0;
            while let Some((_, v)) = set.next().await {
                sum += v;
            }
            sum
        });
        assert_eq!(set_result, 28);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::{thread, AtomicUsize};

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A member woken from another thread while the owner polls: either the
    /// owner's poll sees the wake, or the owner is woken. Never neither.
    #[test]
    fn loom_future_set_wake_is_not_lost() {
        loom::model(|| {
            let owner = Arc::new(CountingWaker(AtomicUsize::new(0)));
            let owner_waker = Waker::from(owner.clone());
            let mut cx = Context::from_waker(&owner_waker);
            let slot: Arc<SpinLock<Option<Waker>>> = Arc::new(SpinLock::new(None));
            let done = Arc::new(AtomicBool::new(false));
            let mut set = RawSet::new();
            let (s, d) = (slot.clone(), done.clone());
            set.push(Box::pin(std::future::poll_fn(move |cx| {
                if d.load(Ordering::Acquire) {
                    Poll::Ready(())
                } else {
                    *s.lock() = Some(cx.waker().clone());
                    Poll::Pending
                }
            })));
            assert!(set.poll_next(&mut cx).is_pending());
            let waker = slot.lock().take().unwrap();
            let t = thread::spawn(move || {
                done.store(true, Ordering::Release);
                waker.wake();
            });
            let first = set.poll_next(&mut cx);
            t.join().unwrap();
            if first.is_pending() {
                assert!(owner.0.load(Ordering::SeqCst) >= 1, "lost wake");
                assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((0, ()))));
            }
        });
    }
}
