//! A fair async mutex that knows who holds it.

use crate::raw_semaphore::{AcquireState, RawSemaphore};
use crate::resource::Resource;
use brisk_core::wait::{HolderSnapshot, ResourceKind};
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// An async mutex with FIFO fairness.
///
/// Waiters get the lock in the order they asked for it; a task that releases
/// and immediately re-locks goes to the back of the queue. Hold the guard
/// across `.await` freely: unlike `std::sync::Mutex`, waiting here suspends
/// the task, not the thread.
///
/// A task waiting for the lock has its wait-point set to this mutex (for
/// example `Mutex #12 at src/inventory.rs:42`), and the mutex records which
/// task holds it, so a dump can say "task #17 waits on Mutex #12, held by
/// task #9".
///
/// # Examples
/// ```
/// use brisk::sync::Mutex;
/// use std::sync::Arc;
///
/// # brisk::run(async {
/// let stock = Arc::new(Mutex::new(0u32));
/// let mut tasks = Vec::new();
/// for _ in 0..10 {
///     let stock = stock.clone();
///     tasks.push(brisk::spawn(async move {
///         let mut n = stock.lock().await;
///         brisk::task::yield_now().await; // still holding the lock
///         *n += 1;
///     }));
/// }
/// for t in tasks {
///     t.await.unwrap();
/// }
/// assert_eq!(*stock.lock().await, 10);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    raw: RawSemaphore,
    res: Resource,
    data: UnsafeCell<T>,
}

// SAFETY: the semaphore (one permit) gives out at most one guard at a time;
// a guard is the only way to reach `data`, so sharing the mutex is sending `T`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: owning the mutex is owning the `T`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

/// The lock is held (or has waiters), from [`Mutex::try_lock`],
/// [`RwLock::try_read`](crate::RwLock::try_read) and
/// [`RwLock::try_write`](crate::RwLock::try_write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryLockError(());

impl TryLockError {
    pub(crate) fn new() -> TryLockError {
        TryLockError(())
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held or has waiters")
    }
}
impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// A new, unlocked mutex.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            raw: RawSemaphore::new(1),
            res: Resource::new(ResourceKind::Mutex),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the value.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock.
    ///
    /// Cancel safety: dropping the future before it completes leaves the
    /// queue without losing the lock or a wake-up; if the lock had already
    /// been handed to it, it goes to the next waiter.
    #[track_caller]
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            st: AcquireState::new(1),
            location: Location::caller(),
        }
    }

    /// Waits for the lock, holding the mutex by `Arc`; the guard is `'static`.
    ///
    /// Cancel safety: as for [`lock`](Mutex::lock).
    #[track_caller]
    pub fn lock_owned(self: Arc<Self>) -> LockOwned<T> {
        LockOwned {
            mutex: Some(self),
            st: AcquireState::new(1),
            location: Location::caller(),
        }
    }

    /// Takes the lock if it is free and nobody waits.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.raw.try_acquire(1) {
            Ok(()) => Ok(MutexGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Takes the lock now, holding the mutex by `Arc`.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.raw.try_acquire(1) {
            Ok(()) => Ok(OwnedMutexGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Blocks this thread until the lock is free; for plain threads.
    ///
    /// # Panics
    /// Inside an async task (it would block a worker thread): use
    /// [`lock`](Mutex::lock) there.
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        crate::blocking::block_on(self.lock())
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds it.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// This mutex's resource id, as shown in wait-points and dumps.
    pub fn resource_id(&self) -> u64 {
        self.res.id()
    }

    /// The task holding the lock now, if any.
    pub fn holders(&self) -> HolderSnapshot {
        self.res.snapshot()
    }

    /// True while some task waits for the lock.
    pub fn has_waiters(&self) -> bool {
        self.raw.has_waiters()
    }

    fn poll_lock(
        &self,
        st: &mut AcquireState,
        location: &'static Location<'static>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        match self.raw.poll_acquire(st, cx) {
            Poll::Ready(r) => {
                debug_assert!(r.is_ok(), "a mutex's semaphore is never closed");
                Poll::Ready(())
            }
            Poll::Pending => {
                self.res.publish();
                self.res.wait_here(location);
                Poll::Pending
            }
        }
    }

    #[inline]
    fn unlock(&self) {
        self.res
            .holders()
            .remove(brisk_core::wait::HoldTicket::SINGLE);
        self.raw.release(1);
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        d.field("id", &self.res.id());
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// The future of [`Mutex::lock`].
#[must_use = "futures do nothing unless awaited"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    st: AcquireState,
    location: &'static Location<'static>,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = &mut *self;
        let mutex = this.mutex;
        std::task::ready!(mutex.poll_lock(&mut this.st, this.location, cx));
        // The permit now belongs to the guard.
        this.st.mark_done();
        Poll::Ready(MutexGuard::new(mutex))
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        self.mutex.raw.drop_acquire(&mut self.st);
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lock({:?})", self.mutex.res)
    }
}

/// The future of [`Mutex::lock_owned`].
#[must_use = "futures do nothing unless awaited"]
pub struct LockOwned<T: ?Sized> {
    mutex: Option<Arc<Mutex<T>>>,
    st: AcquireState,
    location: &'static Location<'static>,
}

impl<T: ?Sized> Future for LockOwned<T> {
    type Output = OwnedMutexGuard<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OwnedMutexGuard<T>> {
        let this = &mut *self;
        let mutex = this
            .mutex
            .as_ref()
            .expect("`LockOwned` polled after completion");
        std::task::ready!(mutex.poll_lock(&mut this.st, this.location, cx));
        let mutex = this.mutex.take().expect("checked above");
        Poll::Ready(OwnedMutexGuard::new(mutex))
    }
}

impl<T: ?Sized> Drop for LockOwned<T> {
    fn drop(&mut self) {
        if let Some(m) = &self.mutex {
            m.raw.drop_acquire(&mut self.st);
        }
    }
}

impl<T: ?Sized> fmt::Debug for LockOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.mutex {
            Some(m) => write!(f, "LockOwned({:?})", m.res),
            None => f.write_str("LockOwned(<done>)"),
        }
    }
}

/// Access to a locked [`Mutex`]; unlocks on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

// SAFETY: a guard is `&mut T` in disguise; sharing it shares `&T` (needs
// `T: Sync`) and `&Mutex<T>` through `MutexGuard::mutex` (needs `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    #[inline]
    fn new(mutex: &'a Mutex<T>) -> Self {
        mutex.res.holders().set_single();
        MutexGuard { mutex }
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the only permit, so no `&mut T` exists
        // elsewhere.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the only permit and is borrowed mutably, so
        // this is the only reference.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Access to a locked `Arc<Mutex<T>>`; `'static`, unlocks on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
}

// SAFETY: as for `MutexGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    fn new(mutex: Arc<Mutex<T>>) -> Self {
        mutex.res.holders().set_single();
        OwnedMutexGuard { mutex }
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: as for `MutexGuard`.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `MutexGuard`.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
