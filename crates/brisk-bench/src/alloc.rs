//! A counting global allocator for the `idle_task_memory` scenario.
//!
//! [`CountingAlloc`] forwards every call to [`std::alloc::System`] and, while
//! counting is switched on, adds the size of every allocation to one
//! `AtomicIsize` and subtracts the size of every deallocation (a `realloc`
//! counts as `new - old`). The counter therefore holds the *growth of live
//! heap bytes* since counting was switched on, whichever thread allocated:
//! a block allocated before the window and freed inside it counts as a
//! (true) decrease.
//!
//! Counting is off by default so the other scenarios pay only one relaxed
//! load of a read-mostly flag per allocation, instead of a contended atomic
//! add that would distort the multi-thread runtimes' numbers.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// The global allocator of the benchmark binary (and its tests).
#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Whether allocations are being counted; on its own cache line so that the
/// hot counter below never invalidates it.
static COUNTING: Padded<AtomicBool> = Padded(AtomicBool::new(false));

/// Net bytes allocated minus bytes freed while counting was on.
static NET: Padded<AtomicIsize> = Padded(AtomicIsize::new(0));

/// Keeps a static on a cache line of its own.
#[repr(align(128))]
struct Padded<T>(T);

/// A [`GlobalAlloc`] over [`System`] that tracks live-byte growth while
/// counting is on (see the module docs).
pub(crate) struct CountingAlloc;

impl CountingAlloc {
    /// Adds `delta` bytes to the counter if counting is on.
    #[inline]
    fn record(delta: isize) {
        if COUNTING.0.load(Ordering::Relaxed) {
            NET.0.fetch_add(delta, Ordering::Relaxed);
        }
    }
}

// Sizes of live allocations never exceed `isize::MAX` (a `Layout` guarantees
// it), so the `as isize` casts below cannot wrap.
// SAFETY: every method forwards to `System`, which upholds the `GlobalAlloc`
// contract; the bookkeeping around it never touches the memory and never
// allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: our caller upholds `GlobalAlloc::alloc`'s contract (non-zero
        // size), which is exactly what `System.alloc` requires.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            Self::record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`: the caller's contract is forwarded as is.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            Self::record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, i.e. by `System`,
        // with `layout`, as our caller guarantees.
        unsafe { System.dealloc(ptr, layout) };
        Self::record(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr`/`layout` come from this allocator (i.e. `System`) and
        // `new_size` satisfies `realloc`'s contract, as our caller guarantees.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            Self::record(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// Switches counting on (from zero) and returns the counter's value at that
/// moment, to subtract from later [`live_growth`] readings.
pub(crate) fn start_counting() -> isize {
    NET.0.store(0, Ordering::SeqCst);
    COUNTING.0.store(true, Ordering::SeqCst);
    NET.0.load(Ordering::SeqCst)
}

/// Live heap bytes gained since [`start_counting`] (negative if more was
/// freed than allocated).
pub(crate) fn live_growth() -> isize {
    NET.0.load(Ordering::SeqCst)
}

/// Switches counting off.
pub(crate) fn stop_counting() {
    COUNTING.0.store(false, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_a_box() {
        // Other tests allocate and free concurrently through the same global
        // counter, so use an allocation far larger than their noise (it is
        // never touched, so it costs address space, not memory).
        const BIG: usize = 512 << 20;
        const NOISE: isize = 64 << 20;
        let _guard = crate::scenarios::tests::exclusive();
        let base = start_counting();
        let b = std::hint::black_box(vec![0u8; BIG]);
        let grown = live_growth() - base;
        drop(b);
        let after = live_growth() - base;
        stop_counting();
        assert!(grown >= BIG as isize - NOISE, "grown {grown}");
        assert!(
            after < grown - (BIG as isize - 2 * NOISE),
            "after {after}, grown {grown}"
        );
    }
}
