//! The bounded per-worker run queue: one owner, any number of stealers.
//!
//! # Layout
//!
//! A ring buffer of [`LOCAL_QUEUE_CAPACITY`] slots (`UnsafeCell<MaybeUninit<T>>`)
//! and two index words. Positions are `u32`s that only ever grow (wrapping);
//! position `p` lives in slot `p % LOCAL_QUEUE_CAPACITY`.
//!
//! * `tail` (`AtomicU32`): the next position the owner pushes to.
//! * `head` (`AtomicU64`): two positions packed into one word,
//!   `steal << 32 | real`.
//!   * `real` is the next position to pop or steal; `[real, tail)` holds the
//!     tasks that are still up for grabs.
//!   * `steal` trails `real` while a thief is copying tasks out:
//!     `[steal, real)` is the range claimed by that one thief. When no steal is
//!     in progress, `steal == real`.
//!
//! Invariant (in wrapping arithmetic): `steal <= real <= tail <= steal + CAP`.
//!
//! # Ground rules
//!
//! 1. **Only the owner writes `tail`**, and only the owner writes slots. The
//!    owner is whoever holds the `&mut Local` (pushes, and the destination side
//!    of [`Steal::steal_into`] / `Inject::pop_batch_into`). It writes only the
//!    free slots `[tail, steal + CAP)`; no one else touches those.
//! 2. **`head` changes only by compare-and-swap**, so each position in
//!    `[real, tail)` is taken by exactly one party:
//!    * owner `pop`: `real += 1` (and `steal` with it when they are equal);
//!    * owner overflow, only when `steal == real`: both `+= CAP / 2`;
//!    * thief claim, only when `steal == real`: `real += n`;
//!    * thief release (after copying): `steal = real`.
//!
//!    Whoever moves a position out of `[real, tail)` owns that slot's task and
//!    moves it out of the slot before anything else can reuse the slot.
//!
//! # Memory orderings
//!
//! * **push → steal.** The owner writes a slot, then stores `tail` with
//!   `Release`. A thief loads `tail` with `Acquire` before it claims, so the
//!   slot writes of everything it can claim happen-before its reads.
//! * **steal → push.** A thief reads its claimed slots, then advances `steal`
//!   with an `AcqRel` CAS. The owner loads `head` with `Acquire` before it
//!   decides a slot is free, so the thief's reads happen-before the owner's
//!   overwrite.
//! * Every write to `head` is a read-modify-write, so an `Acquire` load of
//!   `head` synchronizes with every earlier CAS (release sequence). All CASes use
//!   `AcqRel` on success and `Acquire` on failure. Among other things, this means
//!   a `tail` loaded after `head` is never behind `real`. For the owner, `pop`
//!   and overflow need no ordering of their own: they read slots the owner
//!   itself wrote. The uniform `AcqRel` costs nothing on x86, where every CAS is
//!   a full barrier.
//! * The owner reads its own `tail` with `Relaxed`: it is the only writer.
//!
//! Positions are 32-bit, so a thief's CAS could succeed on a stale `head`
//! (ABA) only if 2³² pops happened between its load and its CAS.

use core::fmt;
use core::mem::MaybeUninit;
use core::ptr;

use super::Inject;
use crate::loom::{
    Arc, AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
    UnsafeCell,
};

/// Number of tasks a [`Local`] queue holds.
///
/// Under `cfg(loom)` it is 4, so that the models reach overflow and wraparound.
#[cfg(not(loom))]
pub(crate) const LOCAL_QUEUE_CAPACITY: usize = 256;
/// Number of tasks a [`Local`] queue holds (small under loom).
#[cfg(loom)]
pub(crate) const LOCAL_QUEUE_CAPACITY: usize = 4;

const CAP: u32 = LOCAL_QUEUE_CAPACITY as u32;
const MASK: usize = LOCAL_QUEUE_CAPACITY - 1;

const _: () = assert!(
    LOCAL_QUEUE_CAPACITY.is_power_of_two()
        && LOCAL_QUEUE_CAPACITY >= 2
        && LOCAL_QUEUE_CAPACITY <= 1 << 16,
    "capacity must be a small power of two (mask indexing, u32 positions)",
);

/// Creates a local queue and the first handle for stealing from it.
pub(crate) fn local<T>() -> (Local<T>, Steal<T>) {
    with_start(0)
}

/// Like [`local`], but with all positions starting at `start`. Tests use this
/// to exercise position wraparound.
fn with_start<T>(start: u32) -> (Local<T>, Steal<T>) {
    let buffer: Box<[Slot<T>]> = (0..LOCAL_QUEUE_CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let Ok(buffer) = <Box<[Slot<T>; LOCAL_QUEUE_CAPACITY]>>::try_from(buffer) else {
        unreachable!("buffer has exactly LOCAL_QUEUE_CAPACITY slots")
    };
    let inner = Arc::new(Inner {
        head: AtomicU64::new(pack(start, start)),
        tail: AtomicU32::new(start),
        buffer,
    });
    (
        Local {
            inner: inner.clone(),
        },
        Steal(inner),
    )
}

/// The owner's end of a local queue. Owned by one worker thread; methods that
/// need to be the owner take `&mut self`.
///
/// Dropping it drops the tasks still in it (tasks a thief has already claimed
/// go to that thief).
pub(crate) struct Local<T> {
    inner: Arc<Inner<T>>,
}

/// A handle other workers use to steal from a [`Local`] queue.
pub(crate) struct Steal<T>(Arc<Inner<T>>);

type Slot<T> = UnsafeCell<MaybeUninit<T>>;

struct Inner<T> {
    /// `steal << 32 | real`; see the module docs.
    head: AtomicU64,
    /// Written only by the owner.
    tail: AtomicU32,
    buffer: Box<[Slot<T>; LOCAL_QUEUE_CAPACITY]>,
}

// SAFETY: `Inner` owns `T`s (in its slots) and hands them out by value, so
// sending it to another thread sends `T`s: `T: Send` is required and enough.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: shared access never produces a `&T`; it only moves `T`s between
// threads, which `T: Send` allows. The slots are synchronized by the protocol
// in the module docs: a slot is written only by the owner while it is outside
// `[steal, tail)`, and read only by the one party whose CAS moved its position
// out of `[real, tail)`.
unsafe impl<T: Send> Sync for Inner<T> {}

#[inline]
fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

/// Returns `(steal, real)`.
#[inline]
fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

impl<T> Inner<T> {
    #[inline]
    fn slot(&self, pos: u32) -> &Slot<T> {
        &self.buffer[pos as usize & MASK]
    }

    /// Moves the task at `pos` out of its slot.
    ///
    /// # Safety
    ///
    /// The caller must own position `pos`: its CAS on `head` moved `pos` out
    /// of `[real, tail)`, so the slot holds an initialized task, and the write
    /// of that task happens-before this call. Afterwards the slot counts as
    /// empty.
    #[inline]
    unsafe fn take(&self, pos: u32) -> T {
        self.slot(pos).with(|p| {
            // SAFETY: per this function's contract, no one writes this slot
            // concurrently and it holds an initialized task, which we move out
            // exactly once.
            unsafe { ptr::read(p).assume_init() }
        })
    }

    /// Writes `task` into the slot for `pos`.
    ///
    /// # Safety
    ///
    /// Only the owner may call this, and only for a position in
    /// `[tail, steal + CAP)`, with `steal` loaded with `Acquire`: such a slot
    /// is empty (never written, or its task was moved out) and nobody else
    /// reads or writes it.
    #[inline]
    unsafe fn put(&self, pos: u32, task: T) {
        self.slot(pos).with_mut(|p| {
            // SAFETY: per this function's contract we have exclusive access
            // to the slot, and overwriting it leaks nothing (it is empty).
            unsafe { ptr::write(p, MaybeUninit::new(task)) }
        });
    }

    /// Number of tasks in `[real, tail)`.
    fn len(&self) -> usize {
        let (_, real) = unpack(self.head.load(Acquire));
        // Loaded after `head`, so never behind `real` (see module docs).
        let tail = self.tail.load(Acquire);
        let len = tail.wrapping_sub(real);
        debug_assert!(len <= CAP, "tail {tail} behind real {real}");
        len as usize
    }
}

impl<T> Local<T> {
    /// Pushes `task` to the back of the queue.
    ///
    /// If the queue is full, moves the older half of the queue plus `task`, in
    /// that order, into `overflow` as one batch. If a thief is busy copying out
    /// of this queue at that moment, only `task` goes to `overflow`. If
    /// `overflow` is closed, those tasks are dropped.
    pub(crate) fn push_back_or_overflow(&mut self, mut task: T, overflow: &Inject<T>) {
        let inner = &*self.inner;
        let tail = inner.tail.load(Relaxed);
        loop {
            let head = inner.head.load(Acquire);
            let (steal, real) = unpack(head);
            if tail.wrapping_sub(steal) < CAP {
                break;
            }
            if steal != real {
                // Full, and a thief is still copying `[steal, real)` out: that
                // space is not ours to reuse yet, and we cannot take half of the
                // queue either. Send just this task away.
                overflow.push_batch(core::iter::once(task));
                return;
            }
            match self.push_overflow(task, head, tail, overflow) {
                Ok(()) => return,
                // A thief took some tasks in the meantime: there is room now.
                Err(returned) => task = returned,
            }
        }
        // SAFETY: we are the owner (`&mut self`), and `tail` is in
        // `[tail, steal + CAP)` for the `steal` we just loaded with `Acquire`.
        unsafe { inner.put(tail, task) };
        inner.tail.store(tail.wrapping_add(1), Release);
    }

    /// Moves the older half of a full queue plus `task` into `overflow`.
    /// Returns `task` back if `head` changed under us.
    ///
    /// Only for the owner: called from `push_back_or_overflow` (which holds
    /// `&mut self`) with a `head` in which `steal == real` and `tail` is full.
    #[cold]
    fn push_overflow(&self, task: T, head: u64, tail: u32, overflow: &Inject<T>) -> Result<(), T> {
        let inner = &*self.inner;
        let (steal, real) = unpack(head);
        debug_assert_eq!(steal, real);
        debug_assert_eq!(tail.wrapping_sub(real), CAP);
        let half = CAP / 2;
        let end = real.wrapping_add(half);
        if inner
            .head
            .compare_exchange(head, pack(end, end), AcqRel, Acquire)
            .is_err()
        {
            return Err(task);
        }
        // SAFETY: our CAS moved `[real, end)` out of `[real, tail)` while no
        // steal was in progress, so those positions are ours; we (the owner)
        // wrote them, and they are below `tail`, so they are initialized.
        let batch = unsafe { Claimed::new(inner, real, end) };
        overflow.push_batch(batch.chain(core::iter::once(task)));
        Ok(())
    }

    /// Pops a task from the front of the queue.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let inner = &*self.inner;
        let tail = inner.tail.load(Relaxed);
        let mut head = inner.head.load(Acquire);
        let pos = loop {
            let (steal, real) = unpack(head);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            let next_steal = if steal == real { next_real } else { steal };
            match inner
                .head
                .compare_exchange(head, pack(next_steal, next_real), AcqRel, Acquire)
            {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: our CAS moved `pos` out of `[real, tail)`; `pos < tail` and
        // we (the owner) wrote every position below `tail`.
        Some(unsafe { inner.take(pos) })
    }

    /// Number of tasks in the queue that are not claimed by a thief.
    pub(crate) fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether [`pop`](Self::pop) would find nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many tasks can be pushed before the queue overflows. Slots that a
    /// thief is still copying out of count as occupied.
    pub(crate) fn remaining_capacity(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        let tail = self.inner.tail.load(Acquire);
        (CAP - tail.wrapping_sub(steal)) as usize
    }

    /// Appends every task of `tasks` to the back of the queue and publishes
    /// them with one `tail` store.
    ///
    /// # Panics
    ///
    /// If `tasks` yields more than [`remaining_capacity`](Self::remaining_capacity)
    /// tasks (tasks already moved into the queue then leak).
    pub(super) fn push_back_within_capacity(&mut self, tasks: impl Iterator<Item = T>) {
        let inner = &*self.inner;
        let room = self.remaining_capacity() as u32;
        let tail = inner.tail.load(Relaxed);
        let mut pushed = 0;
        for task in tasks {
            assert!(
                pushed < room,
                "local queue overflow in push_back_within_capacity"
            );
            // SAFETY: we are the owner (`&mut self`) and `tail + pushed` is in
            // `[tail, steal + CAP)` because `pushed < room = CAP - (tail - steal)`
            // for a `steal` loaded with `Acquire`; `steal` only grows.
            unsafe { inner.put(tail.wrapping_add(pushed), task) };
            pushed += 1;
        }
        if pushed > 0 {
            inner.tail.store(tail.wrapping_add(pushed), Release);
        }
    }
}

impl<T> Drop for Local<T> {
    fn drop(&mut self) {
        while let Some(task) = self.pop() {
            drop(task);
        }
    }
}

impl<T> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local").field("len", &self.len()).finish()
    }
}

impl<T> Steal<T> {
    /// Steals about half (rounded up) of the victim's tasks, moves them into
    /// `dst` and returns the oldest one to run now.
    ///
    /// `dst` must be the thief's own queue, not the victim (debug-asserted;
    /// stealing from oneself would only reorder the queue, not corrupt it).
    /// The amount stolen is capped so that all but the returned task fit into
    /// `dst`.
    ///
    /// Returns `None` if the victim is empty or another thief is busy copying
    /// out of it.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        let src = &*self.0;
        let dst_inner = &*dst.inner;
        debug_assert!(
            !Arc::ptr_eq(&self.0, &dst.inner),
            "a worker must not steal from its own queue"
        );
        // `dst` can take this many tasks, plus the one we return.
        let dst_room = dst.remaining_capacity() as u32;
        let dst_tail = dst_inner.tail.load(Relaxed);

        // Claim `[first, first + n)` by advancing `real` alone.
        let mut head = src.head.load(Acquire);
        let (first, n) = loop {
            let (steal, real) = unpack(head);
            if steal != real {
                return None;
            }
            // `Acquire`: pairs with the owner's `Release` store of `tail`, so
            // the slot writes below `tail` are visible.
            let tail = src.tail.load(Acquire);
            let available = tail.wrapping_sub(real);
            let n = (available - available / 2).min(dst_room + 1);
            if n == 0 {
                return None;
            }
            match src.head.compare_exchange(
                head,
                pack(steal, real.wrapping_add(n)),
                AcqRel,
                Acquire,
            ) {
                Ok(_) => break (real, n),
                Err(actual) => head = actual,
            }
        };

        // Copy out. While `steal` still points at `first`, the owner does not
        // write `[first, first + n)` and no other thief claims anything.
        // SAFETY: our CAS moved `[first, first + n)` out of `[real, tail)`,
        // and those positions were below the `tail` we loaded with `Acquire`,
        // so they are initialized and their writes are visible.
        let task = unsafe { src.take(first) };
        for i in 1..n {
            // SAFETY: as for `first` above.
            let stolen = unsafe { src.take(first.wrapping_add(i)) };
            // SAFETY: we own `dst` (`&mut`), and `dst_tail + i - 1` is in
            // `[dst_tail, dst_steal + CAP)` since `i - 1 < n - 1 <= dst_room`
            // for a `steal` loaded with `Acquire` by `remaining_capacity`.
            unsafe { dst_inner.put(dst_tail.wrapping_add(i - 1), stolen) };
        }

        // Release the claim: `steal` catches up with `real` (which the owner may
        // have advanced meanwhile). `AcqRel` publishes our slot reads to the
        // owner's `Acquire` load in `push_back_or_overflow`.
        let mut head = pack(first, first.wrapping_add(n));
        loop {
            let (steal, real) = unpack(head);
            debug_assert_eq!(steal, first);
            match src
                .head
                .compare_exchange(head, pack(real, real), AcqRel, Acquire)
            {
                Ok(_) => break,
                Err(actual) => head = actual,
            }
        }

        if n > 1 {
            dst_inner.tail.store(dst_tail.wrapping_add(n - 1), Release);
        }
        Some(task)
    }

    /// Whether the victim has no tasks left to steal (a snapshot).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of tasks in the victim's queue (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> fmt::Debug for Steal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Steal").field("len", &self.len()).finish()
    }
}

/// Tasks in a range of positions the owner claimed for overflow. Yields them in
/// order; drops whatever was not yielded.
struct Claimed<'a, T> {
    inner: &'a Inner<T>,
    next: u32,
    end: u32,
}

impl<'a, T> Claimed<'a, T> {
    /// # Safety
    ///
    /// The caller must own every position in `[next, end)` in the sense of
    /// [`Inner::take`], and pass that ownership to the returned value.
    unsafe fn new(inner: &'a Inner<T>, next: u32, end: u32) -> Self {
        Self { inner, next, end }
    }
}

impl<T> Iterator for Claimed<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.next == self.end {
            return None;
        }
        let pos = self.next;
        self.next = pos.wrapping_add(1);
        // SAFETY: we own `[next, end)` (see `Claimed::new`), and `next` has
        // moved past `pos`, so it is taken exactly once.
        Some(unsafe { self.inner.take(pos) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end.wrapping_sub(self.next) as usize;
        (n, Some(n))
    }
}

impl<T> Drop for Claimed<'_, T> {
    fn drop(&mut self) {
        for task in self.by_ref() {
            drop(task);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::loom::{thread, AtomicBool, AtomicUsize, Ordering::SeqCst};

    /// Counts its drops in a shared counter.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn drain_local<T>(q: &mut Local<T>) -> Vec<T> {
        core::iter::from_fn(|| q.pop()).collect()
    }

    #[test]
    fn fifo() {
        let inject = Inject::new();
        let (mut q, _steal) = local();
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        for round in 0..3 {
            for i in 0..100 {
                q.push_back_or_overflow(round * 1000 + i, &inject);
            }
            assert_eq!(q.len(), 100);
            assert_eq!(q.remaining_capacity(), LOCAL_QUEUE_CAPACITY - 100);
            let got = drain_local(&mut q);
            assert_eq!(got, (0..100).map(|i| round * 1000 + i).collect::<Vec<_>>());
            assert!(q.is_empty());
        }
        assert!(inject.is_empty());
    }

    #[test]
    fn overflow_moves_half_to_inject() {
        let inject = Inject::new();
        let (mut q, _steal) = local();
        for i in 0..LOCAL_QUEUE_CAPACITY {
            q.push_back_or_overflow(i, &inject);
        }
        assert_eq!(q.remaining_capacity(), 0);
        assert!(inject.is_empty());

        q.push_back_or_overflow(LOCAL_QUEUE_CAPACITY, &inject);
        let half = LOCAL_QUEUE_CAPACITY / 2;
        assert_eq!(q.len(), half);
        assert_eq!(inject.len(), half + 1);
        let expected: Vec<_> = (0..half).chain([LOCAL_QUEUE_CAPACITY]).collect();
        assert_eq!(inject.drain(), expected);
        assert_eq!(
            drain_local(&mut q),
            (half..LOCAL_QUEUE_CAPACITY).collect::<Vec<_>>()
        );
    }

    #[test]
    fn overflow_into_closed_inject_drops() {
        let drops = Arc::new(AtomicUsize::new(0));
        let inject = Inject::new();
        assert!(inject.close());
        let (mut q, _steal) = local();
        for _ in 0..=LOCAL_QUEUE_CAPACITY {
            q.push_back_or_overflow(Counted(drops.clone()), &inject);
        }
        assert_eq!(drops.load(SeqCst), LOCAL_QUEUE_CAPACITY / 2 + 1);
        assert!(inject.is_empty());
        drop(q);
        assert_eq!(drops.load(SeqCst), LOCAL_QUEUE_CAPACITY + 1);
    }

    #[test]
    fn steal_takes_about_half() {
        let inject = Inject::new();
        let (mut victim, steal) = local();
        let (mut thief, _) = local();
        for i in 0..10 {
            victim.push_back_or_overflow(i, &inject);
        }
        assert_eq!(steal.len(), 10);
        // Takes 5: returns the oldest, queues the other 4.
        assert_eq!(steal.steal_into(&mut thief), Some(0));
        assert_eq!(drain_local(&mut thief), vec![1, 2, 3, 4]);
        assert_eq!(victim.len(), 5);
        // Odd count rounds up.
        assert_eq!(steal.steal_into(&mut thief), Some(5));
        assert_eq!(drain_local(&mut thief), vec![6, 7]);
        assert_eq!(steal.len(), 2);
        assert_eq!(steal.steal_into(&mut thief), Some(8));
        assert!(thief.is_empty());
        assert_eq!(steal.steal_into(&mut thief), Some(9));
        assert!(steal.is_empty());
        assert_eq!(steal.steal_into(&mut thief), None);
        assert_eq!(victim.pop(), None);
    }

    #[test]
    fn steal_is_capped_by_destination_room() {
        let inject = Inject::new();
        let (mut victim, steal) = local();
        let (mut thief, _) = local();
        for i in 0..LOCAL_QUEUE_CAPACITY {
            victim.push_back_or_overflow(i, &inject);
        }
        for i in 0..LOCAL_QUEUE_CAPACITY - 2 {
            thief.push_back_or_overflow(1000 + i, &inject);
        }
        // Room for 2, plus the returned one.
        assert_eq!(steal.steal_into(&mut thief), Some(0));
        assert_eq!(thief.len(), LOCAL_QUEUE_CAPACITY);
        assert_eq!(victim.len(), LOCAL_QUEUE_CAPACITY - 3);
        // A full destination still gets one task to run.
        assert_eq!(steal.steal_into(&mut thief), Some(3));
        assert_eq!(victim.len(), LOCAL_QUEUE_CAPACITY - 4);
        assert!(inject.is_empty());
    }

    #[test]
    fn positions_wrap_around() {
        let inject = Inject::new();
        let (mut victim, steal) = with_start::<u32>(u32::MAX - 5);
        let (mut thief, _) = with_start::<u32>(u32::MAX - 2);
        let mut next = 0;
        let mut seen = Vec::new();
        for _ in 0..4 {
            for _ in 0..LOCAL_QUEUE_CAPACITY {
                victim.push_back_or_overflow(next, &inject);
                next += 1;
            }
            seen.extend(steal.steal_into(&mut thief));
            seen.extend(drain_local(&mut thief));
            seen.extend(drain_local(&mut victim));
            seen.extend(inject.drain());
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..next).collect::<Vec<_>>());
    }

    #[test]
    fn drop_drops_leftovers() {
        let drops = Arc::new(AtomicUsize::new(0));
        let inject = Inject::new();
        let (mut q, steal) = local();
        for _ in 0..10 {
            q.push_back_or_overflow(Counted(drops.clone()), &inject);
        }
        drop(q.pop());
        drop(q.pop());
        assert_eq!(drops.load(SeqCst), 2);
        drop(q);
        assert_eq!(drops.load(SeqCst), 10);
        // Stealers outlive the owner and see an empty queue.
        let (mut thief, _) = local();
        assert!(steal.is_empty());
        assert!(steal.steal_into(&mut thief).is_none());
        drop(steal);
        assert_eq!(drops.load(SeqCst), 10);
    }

    #[test]
    fn push_back_within_capacity() {
        let (mut q, _steal) = local();
        q.push_back_within_capacity(0..LOCAL_QUEUE_CAPACITY);
        assert_eq!(q.remaining_capacity(), 0);
        assert_eq!(
            drain_local(&mut q),
            (0..LOCAL_QUEUE_CAPACITY).collect::<Vec<_>>()
        );
    }

    #[test]
    #[should_panic(expected = "local queue overflow")]
    fn push_back_within_capacity_checks_room() {
        let (mut q, _steal) = local();
        q.push_back_within_capacity(0..=LOCAL_QUEUE_CAPACITY);
    }

    /// The owner pushes (with bursts that overflow) and pops `ITEMS` items while
    /// three thieves steal; every item must be run exactly once.
    #[test]
    fn stress_owner_and_three_thieves() {
        const ITEMS: usize = if cfg!(miri) { 2_000 } else { 1_000_000 };
        const THIEVES: usize = 3;

        let inject = Inject::new();
        let seen: Vec<AtomicUsize> = (0..ITEMS).map(|_| AtomicUsize::new(0)).collect();
        let done = AtomicUsize::new(0);
        let pushing = AtomicBool::new(true);
        let (mut owner, steal) = local::<usize>();

        let run = |item: usize| {
            assert_eq!(seen[item].fetch_add(1, Relaxed), 0, "item {item} ran twice");
            done.fetch_add(1, Relaxed);
        };

        thread::scope(|s| {
            for _ in 0..THIEVES {
                let steal = steal.clone();
                let (inject, run, done, pushing) = (&inject, &run, &done, &pushing);
                s.spawn(move || {
                    let (mut mine, _) = local();
                    let mut idle = 0u32;
                    while done.load(Relaxed) < ITEMS {
                        let task = mine
                            .pop()
                            .or_else(|| steal.steal_into(&mut mine))
                            .or_else(|| inject.pop_batch_into(8, &mut mine));
                        match task {
                            Some(item) => {
                                run(item);
                                idle = 0;
                            }
                            None => {
                                idle += 1;
                                if idle > 64 || !pushing.load(Relaxed) {
                                    thread::yield_now();
                                }
                            }
                        }
                    }
                    assert!(mine.is_empty());
                });
            }

            // Owner: push bursts of varying length, pop a few after each.
            let mut next = 0;
            let mut burst = 1;
            while next < ITEMS {
                for _ in 0..burst.min(ITEMS - next) {
                    owner.push_back_or_overflow(next, &inject);
                    next += 1;
                }
                for _ in 0..burst / 3 {
                    match owner.pop() {
                        Some(item) => run(item),
                        None => break,
                    }
                }
                burst = burst * 7 % 601 + 1;
            }
            pushing.store(false, Relaxed);
            while done.load(Relaxed) < ITEMS {
                match owner.pop().or_else(|| inject.pop()) {
                    Some(item) => run(item),
                    None => thread::yield_now(),
                }
            }
        });

        assert!(owner.is_empty());
        assert!(inject.is_empty());
        assert!(seen.iter().all(|n| n.load(Relaxed) == 1));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::thread;
    use crate::queue::loom_model::check;

    fn drain_local<T>(q: &mut Local<T>) -> Vec<T> {
        core::iter::from_fn(|| q.pop()).collect()
    }

    /// The thread body of a thief that steals once and runs what it got.
    fn steal_once(steal: Steal<usize>) -> Vec<usize> {
        let (mut mine, _) = local();
        let mut got: Vec<_> = steal.steal_into(&mut mine).into_iter().collect();
        got.extend(drain_local(&mut mine));
        got
    }

    fn assert_exactly_once(mut seen: Vec<usize>, n: usize) {
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
    }

    /// Model 1: the owner pops (and pushes past the wraparound point) while
    /// one thief steals.
    #[test]
    fn owner_pops_while_thief_steals() {
        check("owner_pops_while_thief_steals", None, || {
            let inject = Inject::new();
            let (mut owner, steal) = local();
            for i in 0..3 {
                owner.push_back_or_overflow(i, &inject);
            }
            let thief = thread::spawn(move || steal_once(steal));

            let mut seen: Vec<_> = owner.pop().into_iter().collect();
            owner.push_back_or_overflow(3, &inject);
            owner.push_back_or_overflow(4, &inject);
            seen.extend(drain_local(&mut owner));

            seen.extend(thief.join().unwrap());
            seen.extend(inject.drain());
            assert_exactly_once(seen, 5);
        });
    }

    /// Model 1b: a thief steals tasks the owner is pushing concurrently, with
    /// no pop in between (so only `tail` publishes the slot writes).
    #[test]
    fn thief_steals_while_owner_pushes() {
        check("thief_steals_while_owner_pushes", None, || {
            let inject = Inject::new();
            let (mut owner, steal) = local();
            owner.push_back_or_overflow(0, &inject);
            let thief = thread::spawn(move || steal_once(steal));

            owner.push_back_or_overflow(1, &inject);
            owner.push_back_or_overflow(2, &inject);

            let mut seen = thief.join().unwrap();
            seen.extend(drain_local(&mut owner));
            seen.extend(inject.drain());
            assert_exactly_once(seen, 3);
        });
    }

    /// Model 2b: tasks a thief moved into its own queue are stolen from it in
    /// turn (the thief's `tail` store publishes them).
    #[test]
    fn steal_from_thief() {
        check("steal_from_thief", None, || {
            let inject = Inject::new();
            let (mut victim, victim_steal) = local();
            for i in 0..4 {
                victim.push_back_or_overflow(i, &inject);
            }
            let (mut thief, thief_steal) = local();
            let second = thread::spawn(move || steal_once(thief_steal));

            let mut seen: Vec<_> = victim_steal.steal_into(&mut thief).into_iter().collect();
            seen.extend(drain_local(&mut thief));
            seen.extend(second.join().unwrap());
            seen.extend(drain_local(&mut victim));
            assert_exactly_once(seen, 4);
        });
    }

    /// Model 2: two thieves steal from the same victim concurrently; the owner
    /// pops once and pushes onto the slots the thieves are copying out of.
    #[test]
    fn two_thieves() {
        // Three threads: bound preemptions to keep this well under a minute.
        check("two_thieves", Some(3), || {
            let inject = Inject::new();
            let (mut owner, steal) = local();
            for i in 0..4 {
                owner.push_back_or_overflow(i, &inject);
            }
            let steal2 = steal.clone();
            let t1 = thread::spawn(move || steal_once(steal));
            let t2 = thread::spawn(move || steal_once(steal2));

            let mut seen: Vec<_> = owner.pop().into_iter().collect();
            owner.push_back_or_overflow(4, &inject);
            seen.extend(t1.join().unwrap());
            seen.extend(t2.join().unwrap());
            seen.extend(drain_local(&mut owner));
            seen.extend(inject.drain());
            assert_exactly_once(seen, 5);
        });
    }

    /// Model 3: the owner pushes into a full queue (overflow to the inject
    /// queue, or a single-task spill if the thief is mid-copy) while a thief
    /// steals.
    #[test]
    fn overflow_while_thief_steals() {
        check("overflow_while_thief_steals", None, || {
            let inject = Inject::new();
            let (mut owner, steal) = local();
            for i in 0..LOCAL_QUEUE_CAPACITY {
                owner.push_back_or_overflow(i, &inject);
            }
            let thief = thread::spawn(move || steal_once(steal));

            owner.push_back_or_overflow(LOCAL_QUEUE_CAPACITY, &inject);
            owner.push_back_or_overflow(LOCAL_QUEUE_CAPACITY + 1, &inject);
            let mut seen = drain_local(&mut owner);

            seen.extend(thief.join().unwrap());
            seen.extend(inject.drain());
            assert_exactly_once(seen, LOCAL_QUEUE_CAPACITY + 2);
        });
    }

    /// Model 5: the owner's queue is dropped while a thief steals; every task is
    /// either stolen or dropped with the queue, exactly once.
    #[test]
    fn drop_while_thief_steals() {
        use crate::loom::{AtomicUsize, Ordering::SeqCst};

        struct Tracked(usize, Arc<AtomicUsize>);
        impl Drop for Tracked {
            fn drop(&mut self) {
                self.1.fetch_add(1 << (8 * self.0), SeqCst);
            }
        }

        check("drop_while_thief_steals", None, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let inject = Inject::new();
            let (mut owner, steal) = local();
            for i in 0..3 {
                owner.push_back_or_overflow(Tracked(i, drops.clone()), &inject);
            }
            let thief = thread::spawn(move || {
                let (mut mine, _) = local();
                drop(steal.steal_into(&mut mine));
                drop(mine);
            });
            drop(owner);
            thief.join().unwrap();
            // Each item's byte counts its drops.
            assert_eq!(drops.load(SeqCst), 0x01_01_01);
        });
    }
}
