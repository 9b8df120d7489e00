//! The shared injection queue: unbounded, many producers, many consumers.
//!
//! Tasks spawned from outside the runtime land here, and so do the batches a
//! full [`Local`] queue sheds. Workers take batches from it when their own
//! queue runs dry.
//!
//! # Design
//!
//! A `Mutex<VecDeque<T>>`, plus two atomics that mirror its state for
//! lock-free reads:
//!
//! * `len` is stored (while the lock is held) on every unlock, by the
//!   [`Locked`] guard, so it equals the queue's length whenever the lock is
//!   free. That includes unlocks by unwinding.
//! * `closed` is written only while the lock is held; [`Inject::push`] reads it
//!   under the lock, so no push can succeed after [`Inject::close`] returns.
//!
//! Both are stored and loaded with `SeqCst`. Besides ordering the queue
//! contents (the lock already does that), this puts them in the single total
//! order of `SeqCst` operations, so a scheduler can use the usual sleep
//! protocol without extra fences: a pusher does `push` (a `SeqCst` store of
//! `len`) and then a `SeqCst` load of its "sleeping workers" state, and a worker
//! going to sleep does a `SeqCst` store of that state and then checks
//! [`Inject::is_empty`]; at least one of them sees the other. A `SeqCst` load
//! costs the same as an `Acquire` load on x86 and AArch64.
//!
//! No user code (in particular no task's `Drop`) runs while the lock is held:
//! tasks that cannot be queued are dropped after unlocking.

use std::collections::VecDeque;
use std::fmt;
use std::sync::PoisonError;

use super::Local;
use crate::loom::{AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering::SeqCst};

/// The shared multi-producer, multi-consumer injection queue.
pub(crate) struct Inject<T> {
    queue: Mutex<VecDeque<T>>,
    /// The queue's length as of the last unlock.
    len: AtomicUsize,
    /// Written only while `queue` is locked.
    closed: AtomicBool,
}

/// The locked queue. Refreshes `Inject::len` when dropped (still holding the
/// lock: fields drop after `drop` runs).
struct Locked<'a, T> {
    inject: &'a Inject<T>,
    queue: MutexGuard<'a, VecDeque<T>>,
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        self.inject.len.store(self.queue.len(), SeqCst);
    }
}

impl<T> Inject<T> {
    /// Creates an empty, open queue.
    pub(crate) fn new() -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> Locked<'_, T> {
        // Nothing leaves the queue inconsistent if a panic unwinds through the
        // lock (and `len` is refreshed on unwind too), so poisoning is ignored.
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        Locked {
            inject: self,
            queue,
        }
    }

    /// Pushes `task` to the back of the queue, or returns it if the queue is
    /// closed.
    pub(crate) fn push(&self, task: T) -> Result<(), T> {
        let mut locked = self.lock();
        if self.closed.load(SeqCst) {
            return Err(task);
        }
        locked.queue.push_back(task);
        Ok(())
    }

    /// Pushes all of `tasks` to the back of the queue, in order, under one lock.
    /// If the queue is closed, drops them instead (after unlocking).
    ///
    /// `tasks` is iterated while the lock is held, so it must not use this
    /// queue.
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = T>) {
        let mut locked = self.lock();
        if self.closed.load(SeqCst) {
            drop(locked);
            tasks.for_each(drop);
            return;
        }
        locked.queue.extend(tasks);
    }

    /// Pops a task from the front of the queue.
    pub(crate) fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        self.lock().queue.pop_front()
    }

    /// Pops up to `n` tasks: returns the first to run now and moves the rest,
    /// in order, into `dst`, as many as fit in its
    /// [remaining capacity](Local::remaining_capacity).
    ///
    /// `n` counts the returned task, so `n == 0` returns `None`.
    pub(crate) fn pop_batch_into(&self, n: usize, dst: &mut Local<T>) -> Option<T> {
        if n == 0 || self.is_empty() {
            return None;
        }
        // Thieves only ever free room in `dst`, so this stays valid.
        let room = dst.remaining_capacity();
        let mut locked = self.lock();
        let task = locked.queue.pop_front()?;
        let more = (n - 1).min(room).min(locked.queue.len());
        dst.push_back_within_capacity(locked.queue.drain(..more));
        Some(task)
    }

    /// Number of queued tasks (a lock-free snapshot).
    pub(crate) fn len(&self) -> usize {
        self.len.load(SeqCst)
    }

    /// Whether the queue is empty (a lock-free snapshot).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes the queue: later pushes fail. Tasks already queued stay until
    /// popped or [drained](Self::drain).
    ///
    /// Returns `true` if this call closed it, `false` if it was closed already.
    pub(crate) fn close(&self) -> bool {
        let _locked = self.lock();
        !self.closed.swap(true, SeqCst)
    }

    /// Whether [`close`](Self::close) has been called (lock-free).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(SeqCst)
    }

    /// Takes every queued task out, in order.
    pub(crate) fn drain(&self) -> Vec<T> {
        let mut locked = self.lock();
        Vec::from(std::mem::take(&mut *locked.queue))
    }
}

impl<T> Default for Inject<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Inject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inject")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::loom::{thread, Arc};
    use crate::queue::{local, LOCAL_QUEUE_CAPACITY};

    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn is_send_sync() {
        assert_send_sync::<Inject<Box<u8>>>();
        assert_send_sync::<crate::queue::Steal<Box<u8>>>();
        fn assert_send<T: Send>() {}
        assert_send::<crate::queue::Local<Box<u8>>>();
    }

    #[test]
    fn fifo_and_len() {
        let inject = Inject::new();
        assert!(inject.is_empty());
        assert_eq!(inject.pop(), None);
        inject.push(1).unwrap();
        inject.push_batch([2, 3, 4].into_iter());
        assert_eq!(inject.len(), 4);
        assert!(!inject.is_empty());
        assert_eq!(inject.pop(), Some(1));
        assert_eq!(inject.len(), 3);
        assert_eq!(inject.drain(), vec![2, 3, 4]);
        assert!(inject.is_empty());
    }

    #[test]
    fn close() {
        let drops = Arc::new(AtomicUsize::new(0));
        let inject = Inject::new();
        inject.push(Counted(drops.clone())).ok().unwrap();
        assert!(!inject.is_closed());
        assert!(inject.close());
        assert!(!inject.close());
        assert!(inject.is_closed());

        let rejected = inject.push(Counted(drops.clone())).err().unwrap();
        assert_eq!(drops.load(SeqCst), 0);
        drop(rejected);
        assert_eq!(drops.load(SeqCst), 1);

        inject.push_batch((0..3).map(|_| Counted(drops.clone())));
        assert_eq!(drops.load(SeqCst), 4);

        // Queued tasks survive closing.
        assert_eq!(inject.len(), 1);
        assert!(inject.pop().is_some());
        assert_eq!(drops.load(SeqCst), 5);
    }

    #[test]
    fn drop_drops_leftovers() {
        let drops = Arc::new(AtomicUsize::new(0));
        let inject = Inject::new();
        inject.push_batch((0..5).map(|_| Counted(drops.clone())));
        drop(inject);
        assert_eq!(drops.load(SeqCst), 5);
    }

    #[test]
    fn pop_batch_into() {
        let inject = Inject::new();
        let (mut dst, _steal) = local();
        assert_eq!(inject.pop_batch_into(4, &mut dst), None);
        inject.push_batch(0..10);
        assert_eq!(inject.pop_batch_into(0, &mut dst), None);
        assert_eq!(inject.pop_batch_into(4, &mut dst), Some(0));
        assert_eq!(dst.len(), 3);
        assert_eq!(inject.len(), 6);
        assert_eq!(
            core::iter::from_fn(|| dst.pop()).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(inject.pop_batch_into(100, &mut dst), Some(4));
        assert_eq!(dst.len(), 5);
        assert!(inject.is_empty());
    }

    #[test]
    fn pop_batch_into_respects_room() {
        let inject = Inject::new();
        let (mut dst, _steal) = local();
        dst.push_back_within_capacity(0..LOCAL_QUEUE_CAPACITY - 2);
        inject.push_batch(1000..1010);
        assert_eq!(inject.pop_batch_into(10, &mut dst), Some(1000));
        assert_eq!(dst.remaining_capacity(), 0);
        assert_eq!(inject.len(), 7);
        assert_eq!(inject.pop_batch_into(10, &mut dst), Some(1003));
        assert_eq!(inject.len(), 6);
    }

    #[test]
    fn concurrent_push_pop() {
        const PER_THREAD: usize = if cfg!(miri) { 200 } else { 20_000 };
        let inject = Inject::new();
        let popped = AtomicUsize::new(0);
        thread::scope(|s| {
            for t in 0..2 {
                let inject = &inject;
                s.spawn(move || {
                    for i in 0..PER_THREAD {
                        inject.push(t * PER_THREAD + i).unwrap();
                    }
                });
            }
            for _ in 0..2 {
                let (inject, popped) = (&inject, &popped);
                s.spawn(move || {
                    let mut last = [None, None];
                    while popped.load(SeqCst) < 2 * PER_THREAD {
                        if let Some(item) = inject.pop() {
                            // Per-producer FIFO holds for each consumer.
                            let producer = item / PER_THREAD;
                            assert!(last[producer] < Some(item));
                            last[producer] = Some(item);
                            popped.fetch_add(1, SeqCst);
                        } else {
                            thread::yield_now();
                        }
                    }
                });
            }
        });
        assert!(inject.is_empty());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::{thread, Arc};
    use crate::queue::loom_model::check;

    /// Model 4: one thread pushes two tasks while another pops one and closes
    /// the queue. Every accepted task is popped or drained exactly once,
    /// rejected tasks come back to the pusher, and nothing is accepted after
    /// `close` returns.
    #[test]
    fn push_pop_close() {
        check("push_pop_close", None, || {
            let inject = Arc::new(Inject::new());

            let pusher = {
                let inject = inject.clone();
                thread::spawn(move || {
                    let mut accepted = Vec::new();
                    let mut rejected = Vec::new();
                    for task in [1, 2] {
                        match inject.push(task) {
                            Ok(()) => accepted.push(task),
                            Err(task) => rejected.push(task),
                        }
                    }
                    (accepted, rejected)
                })
            };
            let closer = {
                let inject = inject.clone();
                thread::spawn(move || {
                    let popped = inject.pop();
                    assert!(inject.close());
                    popped
                })
            };

            let popped = closer.join().unwrap();
            // Nothing gets in after `close` returned.
            let len_after_close = inject.len();
            let (accepted, rejected) = pusher.join().unwrap();
            assert!(inject.is_closed());
            assert_eq!(inject.len(), len_after_close);

            let mut seen: Vec<_> = popped.into_iter().collect();
            seen.extend(inject.drain());
            seen.sort_unstable();
            assert_eq!(seen, accepted);
            assert_eq!(accepted.len() + rejected.len(), 2);
            // Once a push is rejected, so are the later ones.
            assert!(!(rejected.contains(&1) && accepted.contains(&2)));
            assert!(inject.is_empty());
        });
    }

    /// Model 6: a worker moves a batch from the inject queue into its local
    /// queue while a thief steals from that local queue.
    #[test]
    fn pop_batch_into_while_thief_steals() {
        use crate::queue::local;

        check("pop_batch_into_while_thief_steals", None, || {
            let inject = Inject::new();
            inject.push_batch(0..3);
            let (mut owner, steal) = local();

            let thief = thread::spawn(move || {
                let (mut mine, _) = local();
                let mut got: Vec<_> = steal.steal_into(&mut mine).into_iter().collect();
                got.extend(core::iter::from_fn(|| mine.pop()));
                got
            });

            let mut seen: Vec<_> = inject.pop_batch_into(3, &mut owner).into_iter().collect();
            seen.extend(core::iter::from_fn(|| owner.pop()));
            seen.extend(thief.join().unwrap());
            seen.sort_unstable();
            assert_eq!(seen, [0, 1, 2]);
        });
    }
}
