//! `OnceCell`: a value set once, by whichever task gets to initialise it.
//!
//! Ground rules:
//! - `value` is written only by the holder of the semaphore's single permit
//!   (or through `&mut self`), and only while `value_set` is false. The
//!   writer then stores `value_set = true` (release) and from then on, while
//!   the cell is shared, the value is never written or moved; readers read it
//!   only after an acquire load has seen `value_set`.
//! - Setting the value keeps the permit forever and closes the semaphore:
//!   every queued and later acquire fails with "closed", which means "the
//!   value is there". `value_set` is stored before the close, so whoever
//!   sees the close (through an acquire load of the semaphore state) sees the
//!   value.
//! - A permit holder that does not set the value (its initializer was
//!   cancelled, returned an error or panicked) releases the permit, which
//!   goes to the next queued initializer in FIFO order: only one initializer
//!   runs at a time, and nobody waits forever.
//! - With `&mut self` (`get_mut`, `take`, drop) nothing is shared, so the
//!   flag and value are used directly; `take` also gives the cell a fresh,
//!   open semaphore.

use crate::loom::{AtomicBool, Ordering, UnsafeCell};
use crate::raw_semaphore::{AcquireState, RawSemaphore, TryAcquire};
use crate::resource::Resource;
use brisk_core::wait::{HoldTicket, ResourceKind};
use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A thread-safe cell written at most once, with async initialisation.
///
/// [`get_or_init`](OnceCell::get_or_init) runs one initializer at a time:
/// other callers wait, then read the value. If the running initializer is
/// cancelled or (with [`get_or_try_init`](OnceCell::get_or_try_init)) fails,
/// the next waiting caller runs its own, in arrival order.
///
/// The API is the one of `tokio::sync::OnceCell`. A task waiting for another
/// task's initializer has its wait-point set to this cell, and the cell
/// records the initializing task as its holder. The cell is `Sync` when `T`
/// is `Send + Sync`.
///
/// # Examples
/// ```
/// use brisk::sync::OnceCell;
///
/// static CONFIG: std::sync::OnceLock<OnceCell<String>> = std::sync::OnceLock::new();
///
/// async fn config() -> &'static str {
///     CONFIG
///         .get_or_init(OnceCell::new)
///         .get_or_init(|| async { "loaded once".to_string() })
///         .await
/// }
///
/// # brisk::run(async {
/// let a = brisk::spawn(config());
/// let b = brisk::spawn(config());
/// assert_eq!(a.await.unwrap(), b.await.unwrap());
/// # });
/// ```
pub struct OnceCell<T> {
    /// True once `value` holds a value.
    value_set: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
    /// One permit: the right to initialise. Closed once the value is set.
    semaphore: RawSemaphore,
    res: Resource,
}

// SAFETY: shared access hands out `&T` to any thread (so `T: Sync`), and a
// value made by an initializer on one thread is dropped by the cell's owner
// on another, or moved out by `take` (so `T: Send`). All writes are
// serialised by the permit and published by `value_set`, as in the ground
// rules.
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}

/// Why [`OnceCell::set`] did not store the value; the value is handed back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitialized(T),
    /// An initializer is running (or queued) right now.
    Initializing(T),
}

impl<T> SetError<T> {
    /// True for [`SetError::AlreadyInitialized`].
    ///
    /// # Examples
    /// ```
    /// let cell = brisk::sync::OnceCell::new_with(Some(1));
    /// assert!(cell.set(2).unwrap_err().is_already_init_err());
    /// ```
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitialized(_))
    }

    /// True for [`SetError::Initializing`].
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::OnceCell;
    /// use std::pin::pin;
    ///
    /// # brisk::run(async {
    /// let cell = OnceCell::new();
    /// let mut init = pin!(cell.get_or_init(std::future::pending));
    /// assert!(futures::poll!(init.as_mut()).is_pending()); // initializer running
    /// assert!(cell.set(1).unwrap_err().is_initializing_err());
    /// # });
    /// ```
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::Initializing(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitialized(_) => f.write_str("the cell already holds a value"),
            SetError::Initializing(_) => f.write_str("the cell is being initialised"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

impl<T> OnceCell<T> {
    /// An empty cell.
    ///
    /// # Examples
    /// ```
    /// let cell = brisk::sync::OnceCell::<u32>::new();
    /// assert!(cell.get().is_none());
    /// ```
    pub fn new() -> OnceCell<T> {
        OnceCell {
            value_set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            semaphore: RawSemaphore::new(1),
            res: Resource::new(ResourceKind::OnceCell),
        }
    }

    /// A cell holding `value`, or an empty one for `None`.
    ///
    /// # Examples
    /// ```
    /// let cell = brisk::sync::OnceCell::new_with(Some(7));
    /// assert_eq!(cell.get(), Some(&7));
    /// ```
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        let Some(value) = value else {
            return OnceCell::new();
        };
        let semaphore = RawSemaphore::new(0);
        semaphore.close();
        OnceCell {
            value_set: AtomicBool::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            semaphore,
            res: Resource::new(ResourceKind::OnceCell),
        }
    }

    /// True once the cell holds a value.
    ///
    /// # Examples
    /// ```
    /// let cell = brisk::sync::OnceCell::new();
    /// assert!(!cell.initialized());
    /// cell.set(1).unwrap();
    /// assert!(cell.initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        self.value_set.load(Ordering::Acquire)
    }

    /// The value, if the cell holds one.
    ///
    /// # Examples
    /// ```
    /// let cell = brisk::sync::OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set("hi").unwrap();
    /// assert_eq!(cell.get(), Some(&"hi"));
    /// ```
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: the acquire load above saw `value_set`.
            Some(unsafe { self.get_unchecked() })
        } else {
            None
        }
    }

    /// The value, mutably, if the cell holds one: `&mut self` proves nobody
    /// else reads it.
    ///
    /// # Examples
    /// ```
    /// let mut cell = brisk::sync::OnceCell::new_with(Some(1));
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if !self.initialized() {
            return None;
        }
        let p = self.value.with_mut(|p| p);
        // SAFETY: `value_set` is true, so the value is initialised; `&mut
        // self` makes this the only reference to it, for as long as the
        // returned borrow of `self` lasts.
        Some(unsafe { (*p).assume_init_mut() })
    }

    /// Stores `value` if the cell is empty and no initializer is running.
    ///
    /// # Errors
    /// [`SetError::AlreadyInitialized`] if the cell holds a value,
    /// [`SetError::Initializing`] if an initializer is running or queued;
    /// both give `value` back.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::{OnceCell, SetError};
    ///
    /// let cell = OnceCell::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(SetError::AlreadyInitialized(2)));
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitialized(value));
        }
        match self.semaphore.try_acquire(1) {
            Ok(()) => {
                InitPermit { cell: self }.set(value);
                Ok(())
            }
            Err(TryAcquire::Closed) => Err(SetError::AlreadyInitialized(value)),
            Err(TryAcquire::NoPermits) => Err(SetError::Initializing(value)),
        }
    }

    /// The value, running `init` to make it if the cell is empty.
    ///
    /// Only one initializer runs at a time: if another caller's is running,
    /// this waits for it. If that one is cancelled, the next waiting caller
    /// (in arrival order) runs its own `init`.
    ///
    /// Cancel safety: dropping the future while it waits loses nothing and
    /// leaves the queue. Dropping it while its own `init` future runs drops
    /// that future, leaves the cell empty, and lets the next waiting caller
    /// run its initializer; nobody waits forever. A panic in `init` has the
    /// same effect.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::OnceCell;
    ///
    /// # brisk::run(async {
    /// let cell = OnceCell::new();
    /// let v = cell.get_or_init(|| async { 1 + 1 }).await;
    /// assert_eq!(*v, 2);
    /// // Already set: `init` is not called.
    /// assert_eq!(*cell.get_or_init(|| async { unreachable!() }).await, 2);
    /// # });
    /// ```
    #[track_caller]
    pub fn get_or_init<F, Fut>(&self, init: F) -> impl Future<Output = &T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let location = Location::caller();
        async move {
            if let Some(v) = self.get() {
                return v;
            }
            match self.acquire(location).await {
                Acquired::Set(v) => v,
                Acquired::Permit(permit) => {
                    let value = init().await;
                    permit.set(value)
                }
            }
        }
    }

    /// The value, running the fallible `init` to make it if the cell is
    /// empty.
    ///
    /// As [`get_or_init`](OnceCell::get_or_init), except that `init` may
    /// fail: its error is returned, the cell stays empty, and the next
    /// waiting caller runs its own initializer.
    ///
    /// # Errors
    /// The error returned by this caller's `init`.
    ///
    /// Cancel safety: as for [`get_or_init`](OnceCell::get_or_init).
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::OnceCell;
    ///
    /// # brisk::run(async {
    /// let cell = OnceCell::new();
    /// let failed = cell.get_or_try_init(|| async { Err("offline") }).await;
    /// assert_eq!(failed, Err("offline"));
    /// assert!(!cell.initialized()); // the next caller tries again
    /// let v = cell.get_or_try_init(|| async { Ok::<_, &str>(3) }).await;
    /// assert_eq!(v, Ok(&3));
    /// # });
    /// ```
    #[track_caller]
    pub fn get_or_try_init<E, F, Fut>(&self, init: F) -> impl Future<Output = Result<&T, E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let location = Location::caller();
        async move {
            if let Some(v) = self.get() {
                return Ok(v);
            }
            match self.acquire(location).await {
                Acquired::Set(v) => Ok(v),
                Acquired::Permit(permit) => {
                    let value = init().await?;
                    Ok(permit.set(value))
                }
            }
        }
    }

    /// Takes the value out, leaving the cell empty and ready to be set
    /// again.
    ///
    /// # Examples
    /// ```
    /// let mut cell = brisk::sync::OnceCell::new_with(Some(5));
    /// assert_eq!(cell.take(), Some(5));
    /// assert_eq!(cell.take(), None);
    /// cell.set(6).unwrap(); // usable again
    /// ```
    pub fn take(&mut self) -> Option<T> {
        if !self.initialized() {
            return None;
        }
        self.value_set.store(false, Ordering::Relaxed);
        // `&mut self`: no acquire is in progress, so the closed semaphore can
        // simply be replaced by an open one.
        self.semaphore = RawSemaphore::new(1);
        let p = self.value.with_mut(|p| p);
        // SAFETY: `value_set` was true, so the value is initialised; `&mut
        // self` means nobody else reads it, and with `value_set` now false
        // nobody will read it as initialised again, so it is moved out once.
        Some(unsafe { (*p).assume_init_read() })
    }

    /// Consumes the cell and returns its value, if any.
    ///
    /// # Examples
    /// ```
    /// let cell = brisk::sync::OnceCell::new_with(Some("v"));
    /// assert_eq!(cell.into_inner(), Some("v"));
    /// ```
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// This cell's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::OnceCell;
    /// assert_ne!(OnceCell::<u8>::new().resource_id(), OnceCell::<u8>::new().resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.res.id()
    }

    /// # Safety
    /// - The caller has seen `value_set == true` through an acquire load (or
    ///   holds `&mut self`), so the value is initialised and published.
    unsafe fn get_unchecked(&self) -> &T {
        let p = self.value.with(|p| p);
        // SAFETY: initialised and published (the caller's contract), and
        // never written or moved again while `&self` is shared (ground
        // rules), so a shared borrow for the lifetime of `&self` is sound.
        unsafe { (*p).assume_init_ref() }
    }

    /// The value, once an acquire found the semaphore closed.
    fn get_after_close(&self) -> &T {
        // The acquire may have seen the close through a relaxed load; this
        // acquire load of the same state reads the close or a later value
        // in its release sequence, so the `value_set` store made before the
        // close is visible below.
        let closed = self.semaphore.is_closed();
        debug_assert!(closed, "acquire failed on an open semaphore");
        match self.get() {
            Some(v) => v,
            None => unreachable!("a OnceCell's semaphore is closed only after its value is set"),
        }
    }

    fn acquire(&self, location: &'static Location<'static>) -> Acquire<'_, T> {
        Acquire {
            cell: self,
            st: AcquireState::new(1),
            location,
        }
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        if self.initialized() {
            self.value.with_mut(|p| {
                // SAFETY: `value_set` is true, so the value is initialised,
                // and `&mut self` in drop means this is the last use of it.
                unsafe { (*p).assume_init_drop() }
            });
        }
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("id", &self.res.id())
            .field("value", &self.get())
            .finish()
    }
}

/// The right to initialise the cell. Dropped without [`set`](Self::set),
/// it gives the right to the next waiting initializer.
struct InitPermit<'a, T> {
    cell: &'a OnceCell<T>,
}

impl<'a, T> InitPermit<'a, T> {
    /// Stores the value, keeps the permit and closes the semaphore.
    fn set(self, value: T) -> &'a T {
        let cell = self.cell;
        std::mem::forget(self);
        cell.value.with_mut(|p| {
            // SAFETY: we hold the only permit and `value_set` is false (a
            // holder that sets the value never gives the permit back), so
            // nobody else writes or reads the value now.
            unsafe { p.write(MaybeUninit::new(value)) }
        });
        cell.value_set.store(true, Ordering::Release);
        cell.res.holders().remove(HoldTicket::SINGLE);
        cell.semaphore.close();
        // SAFETY: this thread stored `value_set` just above.
        unsafe { cell.get_unchecked() }
    }
}

impl<T> Drop for InitPermit<'_, T> {
    fn drop(&mut self) {
        self.cell.res.holders().remove(HoldTicket::SINGLE);
        self.cell.semaphore.release(1);
    }
}

enum Acquired<'a, T> {
    /// Someone set the value.
    Set(&'a T),
    /// Our turn to initialise.
    Permit(InitPermit<'a, T>),
}

/// Waits for the right to initialise (or for the value).
struct Acquire<'a, T> {
    cell: &'a OnceCell<T>,
    st: AcquireState,
    location: &'static Location<'static>,
}

impl<'a, T> Future for Acquire<'a, T> {
    type Output = Acquired<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Acquired<'a, T>> {
        let this = self.get_mut();
        let cell = this.cell;
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        match cell.semaphore.poll_acquire(&mut this.st, cx) {
            Poll::Ready(Ok(())) => {
                // The permit now belongs to the `InitPermit`.
                this.st.mark_done();
                cell.res.holders().set_single();
                Poll::Ready(Acquired::Permit(InitPermit { cell }))
            }
            Poll::Ready(Err(())) => Poll::Ready(Acquired::Set(cell.get_after_close())),
            Poll::Pending => {
                cell.res.publish();
                cell.res.wait_here(this.location);
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Acquire<'_, T> {
    fn drop(&mut self) {
        self.cell.semaphore.drop_acquire(&mut self.st);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::OnceCell;
    use loom::thread;
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    /// Two initializers race: exactly one runs, and both callers see its
    /// value.
    #[test]
    fn loom_two_initializers_race_one_runs() {
        loom::model(|| {
            let cell = Arc::new(OnceCell::new());
            let runs = Arc::new(AtomicUsize::new(0));
            let (c, r) = (cell.clone(), runs.clone());
            let t = thread::spawn(move || {
                let v = loom::future::block_on(c.get_or_init(|| async move {
                    r.fetch_add(1, Ordering::Relaxed);
                    1
                }));
                *v
            });
            let mine = *loom::future::block_on(cell.get_or_init(|| async {
                runs.fetch_add(1, Ordering::Relaxed);
                2
            }));
            let theirs = t.join().unwrap();
            assert_eq!(mine, theirs);
            assert_eq!(runs.load(Ordering::Relaxed), 1);
        });
    }

    /// An initializer that is cancelled while another caller waits (or is
    /// about to): the other caller runs its own and nobody is stuck.
    #[test]
    fn loom_cancelled_initializer_lets_the_next_run() {
        loom::model(|| {
            let cell = Arc::new(OnceCell::new());
            let c = cell.clone();
            let t = thread::spawn(move || *loom::future::block_on(c.get_or_init(|| async { 2 })));
            let mut cx = Context::from_waker(Waker::noop());
            let mut mine = Box::pin(cell.get_or_init(std::future::pending::<u32>));
            let polled = mine.as_mut().poll(&mut cx);
            drop(mine);
            let theirs = t.join().unwrap();
            assert_eq!(theirs, 2);
            if let Poll::Ready(v) = polled {
                assert_eq!(*v, 2); // the other initializer had already finished
            }
            assert_eq!(cell.get(), Some(&2));
        });
    }
}
