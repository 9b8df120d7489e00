//! A tiny spin lock for very short critical sections (the task registry's
//! shards: a slab insert or remove, a few instructions).
//!
//! Why not `std::sync::Mutex`: its unlock is a read-modify-write (it must
//! learn whether to wake a sleeper), and the registry takes two lock pairs
//! per task. Here unlock is a plain release store. A waiter spins briefly,
//! then yields its time slice, so a preempted holder costs waiters a
//! `yield`, not a burnt quantum.

use crate::loom::{AtomicBool, Ordering};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};

/// A spin lock around `T`.
pub struct SpinLock<T> {
    /// True while a guard exists.
    locked: AtomicBool,
    /// Only accessed through a guard, i.e. while `locked` is held.
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` to one guard at a time, so sharing the
// lock across threads is like sending `T` between them.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: owning the lock is owning the `T`.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
        SpinGuard { lock: self }
    }

    /// True while a guard exists. The answer may be stale as soon as it is
    /// read; it is meant for assertions and tests (for example, that no
    /// waker runs while the lock is held).
    pub fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Relaxed)
    }

    #[cold]
    fn lock_slow(&self) {
        let mut spins = 0u32;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                if cfg!(loom) || spins >= 64 {
                    crate::loom::thread::yield_now();
                } else {
                    spins += 1;
                    std::hint::spin_loop();
                }
            }
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

/// Access to the value; unlocks on drop.
pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no other reference exists.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, so no other reference exists.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::SpinLock;
    use std::sync::Arc;

    #[test]
    fn counts_under_contention() {
        let lock = Arc::new(SpinLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..100_000 {
                        *lock.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 400_000);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::SpinLock;
    use crate::loom::thread;
    use std::sync::Arc;

    /// Two threads increment under the lock: no update is lost, and the
    /// value written under the lock is visible to the next holder.
    #[test]
    fn loom_spin_lock_excludes() {
        loom::model(|| {
            let lock = Arc::new(SpinLock::new(0u32));
            let l = lock.clone();
            let t = thread::spawn(move || {
                *l.lock() += 1;
            });
            *lock.lock() += 1;
            t.join().unwrap();
            assert_eq!(*lock.lock(), 2);
        });
    }
}
