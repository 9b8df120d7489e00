//! The per-worker LIFO slot: room for one task, one owner, any number of
//! stealers.
//!
//! A task that the running task wakes on its own worker goes here and is
//! polled right after the current poll, while what the two share is still in
//! the cache. The slot must stay stealable: a worker stuck in a long poll
//! must not hold the task in its slot hostage (the monitor's long-poll
//! rescue covers the slot as well as the queue).
//!
//! # Protocol
//!
//! One `UnsafeCell<MaybeUninit<T>>` and a state word:
//!
//! * `EMPTY`: the cell holds nothing;
//! * `FULL`: the cell holds a task, up for grabs;
//! * `TAKEN`: one party claimed the task and is moving it out (a stealer,
//!   or the owner replacing it).
//!
//! Only the owner moves the state to `FULL`, and only the owner writes the
//! cell (after it saw `EMPTY`, or claimed `FULL` itself). Anyone who wants the
//! task moves `FULL` to `TAKEN` (stealers) or to `EMPTY` (the owner's `pop`)
//! by compare-and-swap, so exactly one party gets it; whoever claimed it
//! moves it out of the cell. A stealer then stores `EMPTY`; the owner, being
//! the only writer, needs no `TAKEN` phase to pop.
//!
//! # Memory orderings
//!
//! * **push → steal.** The owner writes the cell, then stores `FULL` with
//!   `Release`; a stealer claims with an `Acquire` CAS, so the write
//!   happens-before its read.
//! * **steal → push.** A stealer reads the cell, then stores `EMPTY` with
//!   `Release`; the owner loads the state with `Acquire` before it writes the
//!   cell, so the stealer's read happens-before the overwrite.
//! * The owner's own `pop` reads what the owner itself wrote.

use core::fmt;
use core::mem::MaybeUninit;

use crate::loom::{
    Arc, AtomicU32,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
    UnsafeCell,
};

const EMPTY: u32 = 0;
const FULL: u32 = 1;
const TAKEN: u32 = 2;

/// Creates a LIFO slot and the first handle for stealing from it.
pub(crate) fn lifo<T>() -> (Lifo<T>, LifoSteal<T>) {
    let inner = Arc::new(Inner {
        state: AtomicU32::new(EMPTY),
        cell: UnsafeCell::new(MaybeUninit::uninit()),
    });
    (
        Lifo {
            inner: inner.clone(),
        },
        LifoSteal(inner),
    )
}

/// The owner's end of a LIFO slot; methods that need to be the owner take
/// `&mut self`. Dropping the slot (both ends) drops the task still in it.
pub(crate) struct Lifo<T> {
    inner: Arc<Inner<T>>,
}

/// A handle other threads use to steal the task in a [`Lifo`] slot.
pub(crate) struct LifoSteal<T>(Arc<Inner<T>>);

struct Inner<T> {
    state: AtomicU32,
    cell: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: `Inner` owns at most one `T` and hands it out by value, so sending
// it to another thread sends a `T`: `T: Send` is required and enough.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: shared access never produces a `&T`; it only moves the `T` out to
// the one party whose compare-and-swap claimed it (see the module docs).
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    fn is_empty(&self) -> bool {
        self.state.load(Acquire) == EMPTY
    }
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        // Both ends are gone, so no claim is in progress.
        if self.state.load(Acquire) == FULL {
            // SAFETY: `FULL` means the cell holds a task nobody claimed, and
            // `&mut self` means nobody else can.
            self.cell.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}

impl<T> Lifo<T> {
    /// Puts `task` in the slot. Returns the task it displaced, or `task`
    /// itself if a stealer is moving the previous one out right now; either
    /// way the caller queues what it gets back.
    pub(crate) fn push(&mut self, task: T) -> Option<T> {
        let inner = &*self.inner;
        match inner.state.load(Acquire) {
            EMPTY => {
                // SAFETY: `EMPTY` (loaded with `Acquire`, after any stealer's
                // read): the cell is free, and only the owner fills it.
                inner.cell.with_mut(|p| unsafe { (*p).write(task) });
                inner.state.store(FULL, Release);
                None
            }
            FULL => {
                if inner
                    .state
                    .compare_exchange(FULL, TAKEN, AcqRel, Acquire)
                    .is_err()
                {
                    // A stealer claimed the old task in between.
                    return Some(task);
                }
                // SAFETY: our CAS claimed the task in the cell; replacing it
                // moves it out, and nobody else touches the cell while
                // the state is `TAKEN`.
                let prev = inner
                    .cell
                    .with_mut(|p| unsafe { core::ptr::replace(p, MaybeUninit::new(task)) });
                inner.state.store(FULL, Release);
                // SAFETY: the cell was initialized (it was `FULL`).
                Some(unsafe { prev.assume_init() })
            }
            _ => Some(task),
        }
    }

    /// Takes the task out of the slot, if there is one and no stealer got it
    /// first.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        let inner = &*self.inner;
        // Only the owner makes the slot `FULL`, so an empty slot needs no CAS.
        if inner.state.load(Relaxed) != FULL {
            return None;
        }
        inner
            .state
            .compare_exchange(FULL, EMPTY, AcqRel, Relaxed)
            .ok()?;
        // SAFETY: our CAS claimed the task, and only the owner (us) writes the
        // cell again after `EMPTY`.
        Some(inner.cell.with(|p| unsafe { (*p).assume_init_read() }))
    }

    /// Whether the slot holds no task (or one that a stealer is taking).
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.state.load(Relaxed) != FULL
    }
}

impl<T> LifoSteal<T> {
    /// Takes the task out of the victim's slot, if there is one.
    pub(crate) fn steal(&self) -> Option<T> {
        let inner = &*self.0;
        if inner.state.load(Relaxed) != FULL {
            return None;
        }
        inner
            .state
            .compare_exchange(FULL, TAKEN, Acquire, Relaxed)
            .ok()?;
        // SAFETY: our CAS (`Acquire`, pairing with the owner's `Release` store
        // of `FULL`) claimed the initialized task; nobody else touches the
        // cell until we store `EMPTY`.
        let task = inner.cell.with(|p| unsafe { (*p).assume_init_read() });
        inner.state.store(EMPTY, Release);
        Some(task)
    }

    /// Whether the slot holds nothing (a snapshot). A task being moved out
    /// counts as present: whoever moves it runs it.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> fmt::Debug for Lifo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lifo")
            .field("empty", &self.is_empty())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    #[test]
    fn push_displaces_and_pop_takes_the_newest() {
        let (mut slot, steal) = lifo();
        assert!(slot.is_empty() && steal.is_empty());
        assert_eq!(slot.push(1), None);
        assert!(!slot.is_empty() && !steal.is_empty());
        assert_eq!(slot.push(2), Some(1));
        assert_eq!(slot.pop(), Some(2));
        assert_eq!(slot.pop(), None);
        assert!(steal.is_empty());
    }

    #[test]
    fn a_stealer_takes_the_task_once() {
        let (mut slot, steal) = lifo();
        slot.push(7);
        let other = LifoSteal(steal.0.clone());
        assert_eq!(steal.steal(), Some(7));
        assert_eq!(other.steal(), None);
        assert_eq!(slot.pop(), None);
        assert_eq!(slot.push(8), None);
        assert_eq!(other.steal(), Some(8));
    }

    #[test]
    fn dropping_the_slot_drops_its_task() {
        struct Counted<'a>(&'a AtomicUsize);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let drops = AtomicUsize::new(0);
        let (mut slot, steal) = lifo();
        assert!(slot.push(Counted(&drops)).is_none());
        drop(slot.push(Counted(&drops)));
        assert_eq!(drops.load(SeqCst), 1);
        drop(slot);
        assert_eq!(drops.load(SeqCst), 1);
        drop(steal);
        assert_eq!(drops.load(SeqCst), 2);
    }

    #[test]
    fn concurrent_stealers_and_owner_see_each_task_once() {
        use std::sync::Arc as StdArc;
        use std::sync::Mutex;
        let (mut slot, steal) = lifo::<usize>();
        let steal = StdArc::new(steal);
        let seen = StdArc::new(Mutex::new(Vec::new()));
        let stop = StdArc::new(std::sync::atomic::AtomicBool::new(false));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let (steal, seen, stop) = (steal.clone(), seen.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(SeqCst) {
                        if let Some(t) = steal.steal() {
                            seen.lock().unwrap().push(t);
                        }
                    }
                })
            })
            .collect();
        let n = 20_000;
        let mut mine = Vec::new();
        for i in 0..n {
            mine.extend(slot.push(i));
            if i % 3 == 0 {
                mine.extend(slot.pop());
            }
        }
        mine.extend(slot.pop());
        stop.store(true, SeqCst);
        for t in thieves {
            t.join().unwrap();
        }
        let mut all = seen.lock().unwrap().clone();
        all.extend(mine);
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::thread;
    use crate::queue::loom_model::check;

    fn assert_exactly_once(mut seen: Vec<usize>, n: usize) {
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
    }

    /// The owner fills the slot, displaces its task, pops, and fills it again
    /// while a stealer tries to take it: every task comes out exactly once
    /// (to the owner, the stealer, or the slot's drop at the end).
    #[test]
    fn owner_push_pop_vs_stealer() {
        check("lifo_owner_push_pop_vs_stealer", None, || {
            let (mut slot, steal) = lifo();
            let thief = thread::spawn(move || {
                let got: Vec<usize> = steal.steal().into_iter().collect();
                (got, steal)
            });
            let mut seen: Vec<usize> = slot.push(0).into_iter().collect();
            seen.extend(slot.push(1));
            seen.extend(slot.pop());
            seen.extend(slot.push(2));
            let (got, steal) = thief.join().unwrap();
            seen.extend(got);
            seen.extend(steal.steal());
            assert!(slot.is_empty());
            assert_exactly_once(seen, 3);
        });
    }

    /// Two stealers race for the task the owner put in the slot while the
    /// owner displaces it: one task each, never the same one twice.
    #[test]
    fn two_stealers_vs_owner() {
        check("lifo_two_stealers_vs_owner", None, || {
            let (mut slot, steal) = lifo();
            slot.push(0);
            let other = LifoSteal(steal.0.clone());
            let t1 = thread::spawn(move || steal.steal());
            let t2 = thread::spawn(move || other.steal());
            let mut seen: Vec<usize> = slot.push(1).into_iter().collect();
            seen.extend(t1.join().unwrap());
            seen.extend(t2.join().unwrap());
            seen.extend(slot.pop());
            assert_exactly_once(seen, 2);
        });
    }
}
