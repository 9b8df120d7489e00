//! The waiter list every primitive builds on.
//!
//! Ground rules:
//! - The list lives inside the primitive's lock; every method takes `&mut`.
//! - A waiting future owns one slot, named by its [`Key`], from the moment it
//!   queues until it frees the slot with [`WaitList::remove`] (on completion
//!   or on drop). Nobody else frees a slot, so a key never goes stale.
//! - A slot is `Queued` (linked in FIFO order) or `Done` (unlinked by whoever
//!   served it; its owner has not looked yet). Serving a waiter takes its
//!   waker out so it can be woken after the lock is released.
//! - Slots are kept in a vector with a free list: no allocation per wait once
//!   the list has grown to the largest number of simultaneous waiters.
//! - No waker is woken or dropped inside the lock: a waker's `wake` or `drop`
//!   may run any code, including code that takes this same lock again (a
//!   waker whose drop releases a permit). Every method that takes a waker
//!   out of a slot ([`serve`](WaitList::serve),
//!   [`update_waker`](WaitList::update_waker), [`remove`](WaitList::remove))
//!   hands it back to the caller, who wakes or drops it after unlocking.

use std::task::Waker;

const NIL: u32 = u32::MAX;

/// Names the slot a waiting future owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Free,
    Queued,
    Done,
}

struct Slot<T> {
    state: SlotState,
    prev: u32,
    /// Next in the queue (`Queued`) or in the free list (`Free`).
    next: u32,
    waker: Option<Waker>,
    data: T,
}

/// A FIFO of waiters, each with a waker and a payload `T`.
pub(crate) struct WaitList<T> {
    slots: Vec<Slot<T>>,
    free: u32,
    head: u32,
    tail: u32,
    len: usize,
}

impl<T: Default> WaitList<T> {
    pub(crate) const fn new() -> WaitList<T> {
        WaitList {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }

    /// Number of queued waiters.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn slot(&self, key: Key) -> &Slot<T> {
        &self.slots[key.0 as usize]
    }

    fn slot_mut(&mut self, key: Key) -> &mut Slot<T> {
        &mut self.slots[key.0 as usize]
    }

    /// Queues a waiter at the back.
    pub(crate) fn push_back(&mut self, waker: &Waker, data: T) -> Key {
        let slot = Slot {
            state: SlotState::Queued,
            prev: self.tail,
            next: NIL,
            waker: Some(waker.clone()),
            data,
        };
        let idx = if self.free != NIL {
            let idx = self.free;
            self.free = self.slots[idx as usize].next;
            self.slots[idx as usize] = slot;
            idx
        } else {
            let idx = u32::try_from(self.slots.len()).expect("more than 2^32 waiters");
            assert!(idx != NIL, "more than 2^32 waiters");
            self.slots.push(slot);
            idx
        };
        if self.tail != NIL {
            self.slots[self.tail as usize].next = idx;
        } else {
            self.head = idx;
        }
        self.tail = idx;
        self.len += 1;
        Key(idx)
    }

    /// True while the waiter is still queued (not yet served).
    #[inline]
    pub(crate) fn is_queued(&self, key: Key) -> bool {
        self.slot(key).state == SlotState::Queued
    }

    /// The waiter's payload, mutably.
    #[inline]
    pub(crate) fn data_mut(&mut self, key: Key) -> &mut T {
        &mut self.slot_mut(key).data
    }

    /// Replaces a queued waiter's waker unless it would wake the same task.
    /// Returns the replaced waker, to drop after the lock is released.
    #[must_use = "drop the replaced waker after releasing the lock"]
    pub(crate) fn update_waker(&mut self, key: Key, waker: &Waker) -> Option<Waker> {
        let slot = self.slot_mut(key);
        match &mut slot.waker {
            Some(w) if w.will_wake(waker) => None,
            w => w.replace(waker.clone()),
        }
    }

    /// The first queued waiter.
    #[inline]
    pub(crate) fn front(&self) -> Option<Key> {
        (self.head != NIL).then_some(Key(self.head))
    }

    /// The queued waiter after `key`.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn next(&self, key: Key) -> Option<Key> {
        let n = self.slot(key).next;
        (n != NIL).then_some(Key(n))
    }

    fn unlink(&mut self, key: Key) {
        let (prev, next) = {
            let s = self.slot(key);
            (s.prev, s.next)
        };
        if prev != NIL {
            self.slots[prev as usize].next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.slots[next as usize].prev = prev;
        } else {
            self.tail = prev;
        }
        self.len -= 1;
    }

    /// Serves a queued waiter: unlinks it, marks it done and returns its
    /// waker for waking after the lock is released.
    #[must_use = "wake the served waiter after releasing the lock"]
    pub(crate) fn serve(&mut self, key: Key) -> Option<Waker> {
        debug_assert!(self.is_queued(key));
        self.unlink(key);
        let slot = self.slot_mut(key);
        slot.state = SlotState::Done;
        slot.waker.take()
    }

    /// Serves the first queued waiter, if any.
    pub(crate) fn serve_front(&mut self) -> Option<Option<Waker>> {
        self.front().map(|k| self.serve(k))
    }

    /// Frees the slot `key` (its owner is done with it), unlinking it if it is
    /// still queued. Returns whether it was still queued, its payload, and
    /// the waker it still held, to drop after the lock is released.
    #[must_use = "drop the removed waker after releasing the lock"]
    pub(crate) fn remove(&mut self, key: Key) -> Removed<T> {
        let queued = self.is_queued(key);
        if queued {
            self.unlink(key);
        }
        let free = self.free;
        let slot = self.slot_mut(key);
        debug_assert!(slot.state != SlotState::Free, "waiter slot freed twice");
        slot.state = SlotState::Free;
        slot.next = free;
        let waker = slot.waker.take();
        let data = std::mem::take(&mut slot.data);
        self.free = key.0;
        Removed {
            queued,
            data,
            waker,
        }
    }
}

/// A slot freed by [`WaitList::remove`].
#[must_use = "drop `waker` after releasing the lock"]
pub(crate) struct Removed<T> {
    /// The waiter was still queued (nobody served it).
    pub(crate) queued: bool,
    /// Its payload.
    pub(crate) data: T,
    /// The waker it still held (only a queued waiter holds one). Dropping
    /// it may run any code: do it after releasing the lock.
    pub(crate) waker: Option<Waker>,
}

/// Wakers collected under a lock, woken after it is released.
pub(crate) struct WakeList {
    inline: [Option<Waker>; 8],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn new() -> WakeList {
        WakeList {
            inline: Default::default(),
            len: 0,
            spill: Vec::new(),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(w) = waker else { return };
        if self.len < self.inline.len() {
            self.inline[self.len] = Some(w);
            self.len += 1;
        } else {
            self.spill.push(w);
        }
    }

    /// Wakes everything collected. Call with no lock held.
    pub(crate) fn wake_all(mut self) {
        for w in self.inline[..self.len].iter_mut() {
            if let Some(w) = w.take() {
                w.wake();
            }
        }
        for w in self.spill.drain(..) {
            w.wake();
        }
    }
}

/// A waker that takes a primitive's waiter lock in its drop, for testing
/// that no waker is dropped inside that lock.
#[cfg(all(test, not(loom)))]
pub(crate) mod drop_probe {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    /// What the probe saw when it was dropped.
    #[derive(Clone, Default)]
    pub(crate) struct Seen {
        dropped: Arc<AtomicBool>,
        under_lock: Arc<AtomicBool>,
    }

    impl Seen {
        pub(crate) fn dropped(&self) -> bool {
            self.dropped.load(Ordering::SeqCst)
        }

        /// The waiter lock was held when the probe was dropped.
        pub(crate) fn under_lock(&self) -> bool {
            self.under_lock.load(Ordering::SeqCst)
        }
    }

    struct Probe {
        locked: Box<dyn Fn() -> bool + Send + Sync>,
        act: Box<dyn Fn() + Send + Sync>,
        seen: Seen,
    }

    impl Wake for Probe {
        fn wake(self: Arc<Self>) {}
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            self.seen.dropped.store(true, Ordering::SeqCst);
            if (self.locked)() {
                // Acting now would spin on our own lock forever.
                self.seen.under_lock.store(true, Ordering::SeqCst);
            } else {
                (self.act)();
            }
        }
    }

    /// A waker whose drop runs `act` (which takes the waiter lock), unless
    /// `locked` says that lock is held then; and what it will have seen.
    pub(crate) fn probe(
        locked: impl Fn() -> bool + Send + Sync + 'static,
        act: impl Fn() + Send + Sync + 'static,
    ) -> (Waker, Seen) {
        let seen = Seen::default();
        let waker = Waker::from(Arc::new(Probe {
            locked: Box::new(locked),
            act: Box::new(act),
            seen: seen.clone(),
        }));
        (waker, seen)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn fifo_order_and_removal_from_the_middle() {
        let w = Waker::noop();
        let mut list = WaitList::<u32>::new();
        let a = list.push_back(w, 1);
        let b = list.push_back(w, 2);
        let c = list.push_back(w, 3);
        assert_eq!(list.len(), 3);
        let removed = list.remove(b);
        assert_eq!((removed.queued, removed.data), (true, 2));
        assert!(
            removed.waker.is_some(),
            "a queued waiter's waker comes back"
        );
        assert_eq!(list.front(), Some(a));
        assert_eq!(list.next(a), Some(c));
        let _woken = list.serve(a);
        assert!(!list.is_queued(a));
        assert_eq!(list.front(), Some(c));
        let removed = list.remove(a);
        assert_eq!((removed.queued, removed.data), (false, 1));
        assert!(removed.waker.is_none(), "serving took the waker");
        // Freed slots are reused.
        let d = list.push_back(w, 4);
        assert!(d == a || d == b);
        assert_eq!(list.len(), 2);
        assert_eq!(list.front(), Some(c));
        assert_eq!(list.next(c), Some(d));
    }
}
