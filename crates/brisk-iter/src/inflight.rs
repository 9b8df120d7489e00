//! A bounded set of in-flight futures, polled only when woken.
//!
//! Ground rules:
//! - The set has a fixed number of slots (the limit given to `buffered`,
//!   `buffer_unordered` or `for_each_concurrent`). Each slot has its own
//!   waker, made once; a future in a slot is polled with that waker, and is
//!   polled again only after the waker fired. A freshly pushed future counts
//!   as woken.
//! - Waking a slot sets its `woken` flag; if the flag was clear, it appends
//!   the slot to the ready queue and wakes the waker registered by the last
//!   `poll_woken` (the consuming task). The flag keeps a slot in the queue at
//!   most once.
//! - `poll_woken` stores the task's waker, *then* takes the ready queue, and
//!   clears a slot's flag just before polling it: a wake that lands during
//!   the poll queues the slot again and wakes the task, so a future that
//!   wakes itself (`yield_now`) runs on the task's next poll, not in a loop.
//! - A slot's waker outlives the futures in it, so a late wake meant for a
//!   finished future can cause one spurious poll of the slot's next future;
//!   futures must tolerate spurious polls anyway.
//! - A finished future's output stays in its slot (still counted in `len`)
//!   until it is popped: in input order (`Order::Input`) or in the order the
//!   futures finished (`Order::Completion`).
//! - Futures are boxed (one allocation per future) so they stay pinned while
//!   the set, and the iterator that owns it, move freely.
//!
//! Why not `brisk_core::future::FutureSet`: it stores members as
//! `dyn Future + Send + 'a` (or `!Send` in `LocalFutureSet`) and returns
//! results unordered. `Buffered<I>` is generic over its futures: using it
//! would force `Send` and `'static` (or a lifetime parameter) on every
//! `buffered` user, or make the adapter `!Send`, and input order would need
//! a reorder buffer on top. This set is monomorphic, bounded, and keeps
//! outputs in place, so it needs neither.

use brisk_core::loom::{AtomicBool, Mutex, Ordering};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// The order in which finished outputs are popped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Input,
    Completion,
}

struct Shared {
    /// One flag per slot: set by the slot's waker (with the slot queued in
    /// `ready`), cleared just before the slot's future is polled.
    woken: Box<[AtomicBool]>,
    /// Slots woken since the last `poll_woken`, each at most once.
    ready: Mutex<Vec<usize>>,
    /// The consuming task's waker, from the last `poll_woken`.
    task: Mutex<Option<Waker>>,
}

struct SlotWaker {
    shared: Arc<Shared>,
    index: usize,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.shared.woken[self.index].swap(true, Ordering::AcqRel) {
            lock(&self.shared.ready).push(self.index);
            let task = lock(&self.shared.task).clone();
            if let Some(task) = task {
                task.wake();
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> brisk_core::loom::MutexGuard<'_, T> {
    // The lock guards a plain `Option<Waker>`; a panic while holding it
    // cannot leave it half-written, so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

enum Slot<F: Future> {
    Empty,
    Running(Pin<Box<F>>),
    Done(F::Output),
}

pub(crate) struct InFlight<F: Future> {
    slots: Vec<Slot<F>>,
    wakers: Vec<Waker>,
    shared: Arc<Shared>,
    free: Vec<usize>,
    /// `Order::Input`: occupied slots in push order.
    /// `Order::Completion`: finished slots in the order they finished.
    queue: VecDeque<usize>,
    order: Order,
    running: usize,
    /// The ready queue taken by `poll_woken`, kept to reuse its allocation.
    batch: Vec<usize>,
}

impl<F: Future> InFlight<F> {
    /// A set of `limit` slots; `limit` is at least 1 (checked by callers).
    pub(crate) fn new(limit: usize, order: Order) -> Self {
        let shared = Arc::new(Shared {
            woken: (0..limit).map(|_| AtomicBool::new(false)).collect(),
            ready: Mutex::new(Vec::with_capacity(limit)),
            task: Mutex::new(None),
        });
        let wakers = (0..limit)
            .map(|index| {
                Waker::from(Arc::new(SlotWaker {
                    shared: shared.clone(),
                    index,
                }))
            })
            .collect();
        InFlight {
            slots: (0..limit).map(|_| Slot::Empty).collect(),
            wakers,
            shared,
            // Reversed so slot 0 is used first.
            free: (0..limit).rev().collect(),
            queue: VecDeque::with_capacity(limit),
            order,
            running: 0,
            batch: Vec::with_capacity(limit),
        }
    }

    /// Futures and outputs held (running or finished, not yet popped).
    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.free.len() == self.slots.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.free.is_empty()
    }

    /// Adds a future; it is polled by the next `poll_woken`.
    ///
    /// Callers check `is_full` first; pushing into a full set is a bug here.
    pub(crate) fn push(&mut self, fut: F) {
        let index = self
            .free
            .pop()
            .expect("brisk-iter: InFlight::push on a full set (checked by callers)");
        self.slots[index] = Slot::Running(Box::pin(fut));
        self.running += 1;
        if !self.shared.woken[index].swap(true, Ordering::AcqRel) {
            lock(&self.shared.ready).push(index);
        }
        if self.order == Order::Input {
            self.queue.push_back(index);
        }
    }

    /// Polls the futures whose wakers fired since they were last polled
    /// (and those pushed since the last call).
    /// `Ready` when no future is still running.
    pub(crate) fn poll_woken(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.running == 0 {
            return Poll::Ready(());
        }
        {
            let mut task = lock(&self.shared.task);
            if !task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        std::mem::swap(&mut self.batch, &mut *lock(&self.shared.ready));
        for i in 0..self.batch.len() {
            let index = self.batch[i];
            // A swap, not a store: the future's reads of its readiness in the
            // poll below must not move before the flag is cleared, or a wake
            // landing in between would find the flag set and be lost.
            self.shared.woken[index].swap(false, Ordering::AcqRel);
            let Slot::Running(fut) = &mut self.slots[index] else {
                continue;
            };
            let mut slot_cx = Context::from_waker(&self.wakers[index]);
            if let Poll::Ready(out) = fut.as_mut().poll(&mut slot_cx) {
                self.slots[index] = Slot::Done(out);
                self.running -= 1;
                if self.order == Order::Completion {
                    self.queue.push_back(index);
                }
            }
        }
        self.batch.clear();
        if self.running == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// The next finished output in this set's order, if it has finished.
    pub(crate) fn pop(&mut self) -> Option<F::Output> {
        let &index = self.queue.front()?;
        if !matches!(self.slots[index], Slot::Done(_)) {
            // Only possible in input order: the oldest is still running.
            return None;
        }
        self.queue.pop_front();
        self.free.push(index);
        match std::mem::replace(&mut self.slots[index], Slot::Empty) {
            Slot::Done(out) => Some(out),
            _ => unreachable!("slot checked to be Done above"),
        }
    }
}

impl<F: Future> Drop for InFlight<F> {
    fn drop(&mut self) {
        // A slot waker kept by some resource after the set is gone must not
        // keep the consuming task's waker alive.
        lock(&self.shared.task).take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Pending until opened; counts its polls and keeps its latest waker.
    struct Gate {
        polls: Arc<AtomicUsize>,
        open: Arc<AtomicBool>,
        waker: Arc<Mutex<Option<Waker>>>,
    }

    impl Future for Gate {
        type Output = usize;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            let polls = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
            if self.open.load(Ordering::SeqCst) {
                return Poll::Ready(polls);
            }
            *lock(&self.waker) = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    struct Handle {
        polls: Arc<AtomicUsize>,
        open: Arc<AtomicBool>,
        waker: Arc<Mutex<Option<Waker>>>,
    }

    impl Handle {
        fn open_and_wake(&self) {
            self.open.store(true, Ordering::SeqCst);
            lock(&self.waker).take().expect("registered a waker").wake();
        }
        fn polls(&self) -> usize {
            self.polls.load(Ordering::SeqCst)
        }
    }

    fn gate() -> (Gate, Handle) {
        let polls = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicBool::new(false));
        let waker = Arc::new(Mutex::new(None));
        let handle = Handle {
            polls: polls.clone(),
            open: open.clone(),
            waker: waker.clone(),
        };
        (Gate { polls, open, waker }, handle)
    }

    #[test]
    fn only_woken_futures_are_polled_and_outputs_follow_the_order() {
        for order in [Order::Input, Order::Completion] {
            let mut set = InFlight::new(3, order);
            let handles: Vec<Handle> = (0..3)
                .map(|_| {
                    let (g, h) = gate();
                    set.push(g);
                    h
                })
                .collect();
            assert!(set.is_full());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(set.poll_woken(&mut cx).is_pending());
            assert_eq!(
                handles.iter().map(Handle::polls).collect::<Vec<_>>(),
                [1, 1, 1]
            );

            // Nothing woken: nothing polled.
            assert!(set.poll_woken(&mut cx).is_pending());
            assert_eq!(
                handles.iter().map(Handle::polls).collect::<Vec<_>>(),
                [1, 1, 1]
            );

            handles[2].open_and_wake();
            assert!(set.poll_woken(&mut cx).is_pending());
            assert_eq!(
                handles.iter().map(Handle::polls).collect::<Vec<_>>(),
                [1, 1, 2]
            );
            match order {
                // The oldest is still running.
                Order::Input => assert_eq!(set.pop(), None),
                Order::Completion => assert_eq!(set.pop(), Some(2)),
            }

            handles[0].open_and_wake();
            handles[1].open_and_wake();
            assert!(set.poll_woken(&mut cx).is_ready());
            let rest: Vec<usize> = std::iter::from_fn(|| set.pop()).collect();
            assert_eq!(rest.len(), if order == Order::Input { 3 } else { 2 });
            assert!(set.is_empty());
            assert_eq!(set.len(), 0);
        }
    }
}
