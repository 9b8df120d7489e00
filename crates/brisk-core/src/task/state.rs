//! The task state word: lifecycle bits and the reference count in one atomic.
//!
//! Ground rules:
//! - Exactly one party owns the future at a time: the one that set `RUNNING`.
//!   Nobody touches the future (poll or drop) without holding `RUNNING`.
//! - A `Notified` (a handle in a run queue) exists only while `NOTIFIED` is set,
//!   and at most one exists at a time: it is created by the transition that sets
//!   `NOTIFIED` on an idle task, and consumed when `RUNNING` is set.
//! - `COMPLETE` is set once, by the owner of `RUNNING`, after the output (or the
//!   cancellation error) has been written; it is never cleared.
//! - The join waker slot belongs to the `JoinHandle` while `JOIN_WAKER` is clear
//!   and the task is not complete; while `JOIN_WAKER` is set it is read-only to
//!   both sides. It is dropped with the cell unless the `JoinHandle` takes it back.
//! - Every `Notified`, `Waker`, `JoinHandle`, owned `Task` and the registry entry
//!   holds one reference; the cell is freed when the count reaches zero.

use crate::loom::{AtomicUsize, Ordering};
use std::fmt;

/// The future is being polled (or dropped) by the holder of this bit.
const RUNNING: usize = 1 << 0;
/// The future has finished or was cancelled; the output slot is final.
const COMPLETE: usize = 1 << 1;
/// The task was woken and a `Notified` is queued (or the poller will requeue it).
const NOTIFIED: usize = 1 << 2;
/// A `JoinHandle` still exists and wants the output.
const JOIN_INTEREST: usize = 1 << 3;
/// The join waker slot holds a waker the task side may read.
const JOIN_WAKER: usize = 1 << 4;
/// Hard cancellation (abort or shutdown) was requested: drop the future at the next chance.
const CANCELLED: usize = 1 << 5;

const REF_SHIFT: usize = 6;
const REF_ONE: usize = 1 << REF_SHIFT;
const REF_MASK: usize = !(REF_ONE - 1);

/// Initial state: notified (its first `Notified` is handed to the scheduler),
/// with a `JoinHandle`, and three references: registry, `Notified`, `JoinHandle`.
const INITIAL: usize = NOTIFIED | JOIN_INTEREST | (3 * REF_ONE);

pub(crate) struct State(AtomicUsize);

/// A copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

pub(crate) enum TransitionToRunning {
    Success,
    Cancelled,
    Failed,
    Dealloc,
}

pub(crate) enum TransitionToIdle {
    Ok,
    OkNotified,
    OkDealloc,
    Cancelled,
}

pub(crate) enum TransitionToNotified {
    DoNothing,
    Submit,
    Dealloc,
}

impl State {
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(INITIAL))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// A sequentially consistent load (see `cancel::TaskNode`).
    pub(crate) fn load_seqcst(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::SeqCst))
    }

    fn fetch_update<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (out, next) = f(curr);
            let Some(next) = next else { return out };
            match self
                .0
                .compare_exchange(curr.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return out,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// Called by the holder of a `Notified` before polling. On `Failed`/`Dealloc`
    /// the `Notified`'s reference has been released.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_notified(), "running a task that is not notified");
            if s.0 & (RUNNING | COMPLETE) != 0 {
                s.ref_dec();
                let out = if s.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (out, Some(s));
            }
            s.0 = (s.0 & !NOTIFIED) | RUNNING;
            let out = if s.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (out, Some(s))
        })
    }

    /// Called after a poll returned `Pending`. `Ok`/`OkDealloc` release the
    /// running `Notified`'s reference; `OkNotified` hands it to a new `Notified`;
    /// `Cancelled` keeps `RUNNING` so the caller can drop the future.
    ///
    /// `self_woken`: the task woke itself during the poll (see
    /// `context::defer_self_wake`), so it goes idle notified, in this one
    /// state change instead of a wake and then this.
    pub(crate) fn transition_to_idle(&self, self_woken: bool) -> TransitionToIdle {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            s.0 &= !RUNNING;
            if self_woken {
                s.0 |= NOTIFIED;
            }
            let out = if s.is_notified() {
                TransitionToIdle::OkNotified
            } else {
                s.ref_dec();
                if s.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            (out, Some(s))
        })
    }

    /// Sets `COMPLETE` and clears `RUNNING`; returns the new state.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        // SeqCst: pairs with `load_seqcst` in the cancellation tree.
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE, Ordering::SeqCst));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// A waker that owns a reference fires.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update(|mut s| {
            if s.is_running() {
                s.0 |= NOTIFIED;
                s.ref_dec();
                debug_assert!(s.ref_count() > 0);
                (TransitionToNotified::DoNothing, Some(s))
            } else if s.is_complete() || s.is_notified() {
                s.ref_dec();
                let out = if s.ref_count() == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                };
                (out, Some(s))
            } else {
                // The waker's reference moves into the new `Notified`.
                s.0 |= NOTIFIED;
                (TransitionToNotified::Submit, Some(s))
            }
        })
    }

    /// A borrowed waker fires; on `Submit` a reference was added for the `Notified`.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update(|mut s| {
            if s.is_complete() || s.is_notified() {
                (TransitionToNotified::DoNothing, None)
            } else if s.is_running() {
                s.0 |= NOTIFIED;
                (TransitionToNotified::DoNothing, Some(s))
            } else {
                s.0 |= NOTIFIED;
                s.ref_inc();
                (TransitionToNotified::Submit, Some(s))
            }
        })
    }

    /// Requests hard cancellation from any thread. On `Submit` a reference was
    /// added for a new `Notified` that will observe the cancellation when run.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update(|mut s| {
            if s.is_complete() || s.is_cancelled() {
                (false, None)
            } else if s.is_running() || s.is_notified() {
                s.0 |= CANCELLED | NOTIFIED;
                (false, Some(s))
            } else {
                s.0 |= CANCELLED | NOTIFIED;
                s.ref_inc();
                (true, Some(s))
            }
        })
    }

    /// Cancels and, if the task is idle, claims `RUNNING` so the caller can drop
    /// the future in place. Returns true when the caller now owns the future.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update(|mut s| {
            if s.is_complete() {
                return (false, None);
            }
            if s.is_running() {
                s.0 |= CANCELLED | NOTIFIED;
                return (false, Some(s));
            }
            s.0 |= CANCELLED | RUNNING;
            (true, Some(s))
        })
    }

    /// The `JoinHandle` is dropped. Returns the state before the transition.
    /// When the task was not complete, `JOIN_WAKER` is cleared too, so the
    /// handle owns (and drops) the waker slot.
    pub(crate) fn unset_join_interest(&self) -> Snapshot {
        self.fetch_update(|s| {
            let mut next = s;
            next.0 &= !JOIN_INTEREST;
            if !s.is_complete() {
                next.0 &= !JOIN_WAKER;
            }
            (s, Some(next))
        })
    }

    /// Drops a `JoinHandle` in one step where it is simplest and most
    /// common (a detached task): the task is not complete, no join waker is
    /// published, and the handle's reference is not the last. Clears
    /// `JOIN_INTEREST` and releases that reference together, or returns
    /// false and changes nothing (the caller takes the general path:
    /// `unset_join_interest`, then a `ref_dec`).
    pub(crate) fn drop_join_handle_fast(&self) -> bool {
        let s = self.load();
        if s.is_complete() || s.is_join_waker_set() || !s.is_join_interested() || s.ref_count() < 2
        {
            return false;
        }
        let next = (s.0 & !JOIN_INTEREST) - REF_ONE;
        self.0
            .compare_exchange(s.0, next, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The `JoinHandle` of a complete task is dropped (after dropping the
    /// output, if still there): clears `JOIN_INTEREST` and releases the
    /// handle's reference in one step. Returns true if that reference was
    /// the last.
    pub(crate) fn unset_join_interest_and_release_complete(&self) -> bool {
        // The bit is set (only the handle clears it), so subtracting it
        // clears it without borrowing from the reference count.
        let prev = Snapshot(self.0.fetch_sub(REF_ONE | JOIN_INTEREST, Ordering::AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_interested());
        debug_assert!(prev.ref_count() >= 1);
        prev.ref_count() == 1
    }

    /// Publishes the join waker. Fails (returns the state) if the task completed.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                return (Err(s), None);
            }
            s.0 |= JOIN_WAKER;
            (Ok(s), Some(s))
        })
    }

    /// Takes the join waker slot back to replace its contents. Fails if complete.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                return (Err(s), None);
            }
            s.0 &= !JOIN_WAKER;
            (Ok(s), Some(s))
        })
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Returns true if this was the last reference.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 1);
        prev.ref_count() == 1
    }

    /// Drops two references at once. Returns true if they were the last.
    pub(crate) fn ref_dec_twice(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(2 * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 2);
        prev.ref_count() == 2
    }
}

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> REF_SHIFT
    }
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}
