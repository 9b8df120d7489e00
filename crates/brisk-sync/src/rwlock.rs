//! A fair async reader-writer lock that knows who holds it.
//!
//! Built on the FIFO semaphore: a reader takes one permit, a writer takes all
//! of them. Because permits are handed out strictly in arrival order, a
//! waiting writer blocks readers that arrive after it, so writers never
//! starve, and readers that arrived before it still share the lock.

use crate::mutex::TryLockError;
use crate::raw_semaphore::{AcquireState, RawSemaphore};
use crate::resource::Resource;
use brisk_core::wait::{HoldTicket, HolderSnapshot, ResourceKind};
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// An async reader-writer lock with FIFO fairness.
///
/// Any number of readers or one writer hold it at a time. Waiters are served
/// in arrival order, so a writer is never starved by a stream of readers.
/// A waiting task has its wait-point set to this lock; the lock records its
/// holders ([`RwLock::holders`]).
///
/// # Examples
/// ```
/// use brisk::sync::RwLock;
///
/// # brisk::run(async {
/// let config = RwLock::new(String::from("v1"));
/// {
///     let a = config.read().await;
///     let b = config.read().await; // readers share
///     assert_eq!(*a, *b);
/// }
/// config.write().await.push_str("-patched");
/// assert_eq!(*config.read().await, "v1-patched");
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    raw: RawSemaphore,
    res: Resource,
    data: UnsafeCell<T>,
}

// SAFETY: readers share `&T` across threads (needs `T: Sync`), a writer gets
// `&mut T` from another thread (needs `T: Send`); the semaphore keeps them
// exclusive.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: owning the lock is owning the `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

impl<T> RwLock<T> {
    /// The most readers a lock can admit at once.
    pub const MAX_READS: u32 = u32::MAX >> 3;

    /// A new, unlocked lock.
    pub fn new(value: T) -> RwLock<T> {
        Self::with_max_readers(value, Self::MAX_READS)
    }

    /// A lock that admits at most `max_readers` readers at once.
    ///
    /// # Panics
    /// If `max_readers` is zero or above [`RwLock::MAX_READS`].
    #[track_caller]
    pub fn with_max_readers(value: T, max_readers: u32) -> RwLock<T> {
        assert!(
            max_readers > 0 && max_readers <= Self::MAX_READS,
            "{}",
            crate::error::RWLOCK_TOO_MANY_READERS
        );
        RwLock {
            max_readers,
            raw: RawSemaphore::new(max_readers as usize),
            res: Resource::new(ResourceKind::RwLock),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access.
    ///
    /// Cancel safety: dropping the future before it completes leaves the
    /// queue; no permit or wake-up is lost.
    #[track_caller]
    pub fn read(&self) -> Read<'_, T> {
        Read {
            lock: self,
            st: AcquireState::new(1),
            location: Location::caller(),
        }
    }

    /// Waits for exclusive access.
    ///
    /// Cancel safety: dropping the future before it completes gives back the
    /// reader permits it had collected; readers queued behind it proceed.
    #[track_caller]
    pub fn write(&self) -> Write<'_, T> {
        Write {
            lock: self,
            st: AcquireState::new(self.max_readers as usize),
            location: Location::caller(),
        }
    }

    /// Waits for shared access, holding the lock by `Arc`.
    ///
    /// Cancel safety: as for [`read`](RwLock::read).
    #[track_caller]
    pub fn read_owned(self: Arc<Self>) -> ReadOwned<T> {
        ReadOwned {
            st: AcquireState::new(1),
            lock: Some(self),
            location: Location::caller(),
        }
    }

    /// Waits for exclusive access, holding the lock by `Arc`.
    ///
    /// Cancel safety: as for [`write`](RwLock::write).
    #[track_caller]
    pub fn write_owned(self: Arc<Self>) -> WriteOwned<T> {
        WriteOwned {
            st: AcquireState::new(self.max_readers as usize),
            lock: Some(self),
            location: Location::caller(),
        }
    }

    /// Shared access now, if no writer holds or waits.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.raw.try_acquire(1).map_err(|_| TryLockError::new())?;
        Ok(RwLockReadGuard::new(self))
    }

    /// Exclusive access now, if nobody holds or waits.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.raw
            .try_acquire(self.max_readers as usize)
            .map_err(|_| TryLockError::new())?;
        Ok(RwLockWriteGuard::new(self))
    }

    /// Blocks this thread for shared access; for plain threads.
    ///
    /// # Panics
    /// Inside an async task: use [`read`](RwLock::read) there.
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        crate::blocking::block_on(self.read())
    }

    /// Blocks this thread for exclusive access; for plain threads.
    ///
    /// # Panics
    /// Inside an async task: use [`write`](RwLock::write) there.
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        crate::blocking::block_on(self.write())
    }

    /// Mutable access without locking: `&mut self` proves nobody holds it.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// This lock's resource id, as shown in wait-points and dumps.
    pub fn resource_id(&self) -> u64 {
        self.res.id()
    }

    /// The tasks holding the lock now.
    pub fn holders(&self) -> HolderSnapshot {
        self.res.snapshot()
    }

    /// True while some task waits for the lock.
    pub fn has_waiters(&self) -> bool {
        self.raw.has_waiters()
    }

    fn poll_acquire(
        &self,
        st: &mut AcquireState,
        location: &'static Location<'static>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        match self.raw.poll_acquire(st, cx) {
            Poll::Ready(r) => {
                debug_assert!(r.is_ok(), "an RwLock's semaphore is never closed");
                Poll::Ready(())
            }
            Poll::Pending => {
                self.res.publish();
                self.res.wait_here(location);
                Poll::Pending
            }
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        d.field("id", &self.res.id());
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

macro_rules! acquire_future {
    ($(#[$doc:meta])* $name:ident, $guard:ident, $poll_guard:expr) => {
        $(#[$doc])*
        #[must_use = "futures do nothing unless awaited"]
        pub struct $name<'a, T: ?Sized> {
            lock: &'a RwLock<T>,
            st: AcquireState,
            location: &'static Location<'static>,
        }

        impl<'a, T: ?Sized> Future for $name<'a, T> {
            type Output = $guard<'a, T>;

            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<$guard<'a, T>> {
                let this = &mut *self;
                let lock = this.lock;
                std::task::ready!(lock.poll_acquire(&mut this.st, this.location, cx));
                // The permits now belong to the guard.
                this.st.mark_done();
                Poll::Ready($poll_guard(lock))
            }
        }

        impl<T: ?Sized> Drop for $name<'_, T> {
            fn drop(&mut self) {
                self.lock.raw.drop_acquire(&mut self.st);
            }
        }

        impl<T: ?Sized> fmt::Debug for $name<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.lock.res)
            }
        }
    };
}

acquire_future!(
    /// The future of [`RwLock::read`].
    Read,
    RwLockReadGuard,
    RwLockReadGuard::new
);
acquire_future!(
    /// The future of [`RwLock::write`].
    Write,
    RwLockWriteGuard,
    RwLockWriteGuard::new
);

macro_rules! acquire_owned_future {
    ($(#[$doc:meta])* $name:ident, $guard:ident, $poll_guard:expr) => {
        $(#[$doc])*
        #[must_use = "futures do nothing unless awaited"]
        pub struct $name<T: ?Sized> {
            lock: Option<Arc<RwLock<T>>>,
            st: AcquireState,
            location: &'static Location<'static>,
        }

        impl<T: ?Sized> Future for $name<T> {
            type Output = $guard<T>;

            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<$guard<T>> {
                let this = &mut *self;
                let lock = this.lock.as_ref().expect(concat!("`", stringify!($name), "` polled after completion"));
                std::task::ready!(lock.poll_acquire(&mut this.st, this.location, cx));
                this.st.mark_done();
                let lock = this.lock.take().expect("checked above");
                Poll::Ready($poll_guard(lock))
            }
        }

        impl<T: ?Sized> Drop for $name<T> {
            fn drop(&mut self) {
                if let Some(lock) = &self.lock {
                    lock.raw.drop_acquire(&mut self.st);
                }
            }
        }

        impl<T: ?Sized> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

acquire_owned_future!(
    /// The future of [`RwLock::read_owned`].
    ReadOwned,
    OwnedRwLockReadGuard,
    OwnedRwLockReadGuard::new
);
acquire_owned_future!(
    /// The future of [`RwLock::write_owned`].
    WriteOwned,
    OwnedRwLockWriteGuard,
    OwnedRwLockWriteGuard::new
);

/// Shared access to an [`RwLock`]; released on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    ticket: HoldTicket,
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    fn new(lock: &'a RwLock<T>) -> Self {
        let ticket = lock.res.holders().add();
        RwLockReadGuard { lock, ticket }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read guard holds one permit; a writer needs all of them,
        // so no `&mut T` exists while this guard lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.res.holders().remove(self.ticket);
        self.lock.raw.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]; released on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    ticket: HoldTicket,
    /// A write guard hands out `&mut T`, so sharing it needs `T: Sync` only
    /// through `Deref`; keep it `!Sync` unless `T: Sync` (auto traits follow
    /// `&'a RwLock<T>` otherwise).
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    fn new(lock: &'a RwLock<T>) -> Self {
        let ticket = lock.res.holders().add();
        RwLockWriteGuard {
            lock,
            ticket,
            _marker: PhantomData,
        }
    }

    /// Turns exclusive access into shared access without letting a writer in
    /// between; readers queued behind this writer are admitted.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let this = std::mem::ManuallyDrop::new(self);
        let lock = this.lock;
        let ticket = this.ticket;
        lock.raw.release(lock.max_readers as usize - 1);
        RwLockReadGuard { lock, ticket }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a write guard holds every permit, so it is the only guard.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: a write guard holds every permit and is borrowed mutably.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.res.holders().remove(self.ticket);
        self.lock.raw.release(self.lock.max_readers as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Shared access to an `Arc<RwLock<T>>`; `'static`, released on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
    ticket: HoldTicket,
}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    fn new(lock: Arc<RwLock<T>>) -> Self {
        let ticket = lock.res.holders().add();
        OwnedRwLockReadGuard { lock, ticket }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: as for `RwLockReadGuard`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.res.holders().remove(self.ticket);
        self.lock.raw.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an `Arc<RwLock<T>>`; `'static`, released on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
    ticket: HoldTicket,
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    fn new(lock: Arc<RwLock<T>>) -> Self {
        let ticket = lock.res.holders().add();
        OwnedRwLockWriteGuard { lock, ticket }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: as for `RwLockWriteGuard`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `RwLockWriteGuard`.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.res.holders().remove(self.ticket);
        self.lock.raw.release(self.lock.max_readers as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
