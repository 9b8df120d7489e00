//! A fair counting semaphore.

use crate::raw_semaphore::{AcquireState, RawSemaphore, TryAcquire};
use crate::resource::Resource;
use brisk_core::wait::{HoldTicket, HolderSnapshot, ResourceKind};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A counting semaphore with FIFO fairness.
///
/// Acquirers are served strictly in arrival order: when the front waiter needs
/// more permits than are free, later acquirers wait behind it even if they
/// need fewer. Every acquire future is cancel-safe: dropping it gives back any
/// permits it had collected and loses no wake-up.
///
/// A task waiting for permits has its wait-point set to this semaphore, and
/// the semaphore records which tasks hold permits ([`Semaphore::holders`]).
///
/// # Examples
/// ```
/// use brisk::sync::Semaphore;
/// use std::sync::Arc;
///
/// # brisk::run(async {
/// let limit = Arc::new(Semaphore::new(2));
/// let mut jobs = Vec::new();
/// for i in 0..5 {
///     let limit = limit.clone();
///     jobs.push(brisk::spawn(async move {
///         let _permit = limit.acquire().await.unwrap();
///         i * 2 // at most two of these run at once
///     }));
/// }
/// let mut sum = 0;
/// for j in jobs {
///     sum += j.await.unwrap();
/// }
/// assert_eq!(sum, 20);
/// # });
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
    res: Resource,
}

/// The semaphore was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore is closed")
    }
}
impl std::error::Error for AcquireError {}

/// Why `try_acquire` returned no permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free now (or others are already waiting).
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("the semaphore is closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}
impl std::error::Error for TryAcquireError {}

fn try_error(e: TryAcquire) -> TryAcquireError {
    match e {
        TryAcquire::Closed => TryAcquireError::Closed,
        TryAcquire::NoPermits => TryAcquireError::NoPermits,
    }
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold.
    pub const MAX_PERMITS: usize = crate::raw_semaphore::MAX_PERMITS;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            raw: RawSemaphore::new(permits),
            res: Resource::new(ResourceKind::Semaphore),
        }
    }

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        self.raw.available_permits()
    }

    /// Adds `n` permits, serving waiters first.
    ///
    /// # Panics
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.raw.add_permits(n)
    }

    /// Removes up to `n` free permits; returns how many were removed.
    pub fn forget_permits(&self, n: usize) -> usize {
        self.raw.forget_permits(n)
    }

    /// Closes the semaphore: waiting and future acquires fail with
    /// [`AcquireError`]. Permits already held stay valid.
    pub fn close(&self) {
        self.raw.close()
    }

    /// True once [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }

    /// This semaphore's resource id, as shown in wait-points and dumps.
    pub fn resource_id(&self) -> u64 {
        self.res.id()
    }

    /// The tasks holding permits now.
    pub fn holders(&self) -> HolderSnapshot {
        self.res.snapshot()
    }

    /// True while some acquire is queued.
    pub fn has_waiters(&self) -> bool {
        self.raw.has_waiters()
    }

    /// Waits for one permit.
    ///
    /// Cancel safety: dropping the future before it completes gives back any
    /// permit it collected; no permit or wake-up is lost, and the place in
    /// the queue goes to the next waiter.
    #[track_caller]
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, taken together.
    ///
    /// Cancel safety: as for [`acquire`](Semaphore::acquire).
    #[track_caller]
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire {
            sem: self,
            st: AcquireState::new(n as usize),
            location: Location::caller(),
        }
    }

    /// Takes one permit if one is free and nobody waits.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.raw.try_acquire(n as usize).map_err(try_error)?;
        Ok(SemaphorePermit::new(self, n))
    }

    /// Waits for one permit, holding the semaphore by `Arc`.
    ///
    /// Cancel safety: as for [`acquire`](Semaphore::acquire).
    #[track_caller]
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// Waits for `n` permits, holding the semaphore by `Arc`.
    ///
    /// Cancel safety: as for [`acquire`](Semaphore::acquire).
    #[track_caller]
    pub fn acquire_many_owned(self: Arc<Self>, n: u32) -> AcquireOwned {
        AcquireOwned {
            sem: Some(self),
            st: AcquireState::new(n as usize),
            location: Location::caller(),
        }
    }

    /// Takes one permit now, holding the semaphore by `Arc`.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Takes `n` permits now, holding the semaphore by `Arc`.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.raw.try_acquire(n as usize).map_err(try_error)?;
        Ok(OwnedSemaphorePermit::new(self, n))
    }

    fn poll(
        &self,
        st: &mut AcquireState,
        location: &'static Location<'static>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        match self.raw.poll_acquire(st, cx) {
            Poll::Ready(r) => Poll::Ready(r.map_err(|()| AcquireError(()))),
            Poll::Pending => {
                self.res.publish();
                self.res.wait_here(location);
                Poll::Pending
            }
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("id", &self.res.id())
            .field("available_permits", &self.available_permits())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    sem: &'a Semaphore,
    st: AcquireState,
    location: &'static Location<'static>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let sem = this.sem;
        std::task::ready!(sem.poll(&mut this.st, this.location, cx))?;
        this.st.mark_done();
        Poll::Ready(Ok(SemaphorePermit::new(sem, this.st_n())))
    }
}

impl Acquire<'_> {
    fn st_n(&self) -> u32 {
        self.st.n() as u32
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.sem.raw.drop_acquire(&mut self.st);
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("semaphore", &self.sem)
            .finish()
    }
}

/// The future of [`Semaphore::acquire_owned`] and
/// [`Semaphore::acquire_many_owned`].
#[must_use = "futures do nothing unless awaited"]
pub struct AcquireOwned {
    sem: Option<Arc<Semaphore>>,
    st: AcquireState,
    location: &'static Location<'static>,
}

impl Future for AcquireOwned {
    type Output = Result<OwnedSemaphorePermit, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let sem = this
            .sem
            .as_ref()
            .expect("`AcquireOwned` polled after completion");
        std::task::ready!(sem.poll(&mut this.st, this.location, cx))?;
        let sem = this.sem.take().expect("checked above");
        Poll::Ready(Ok(OwnedSemaphorePermit::new(sem, this.st.n() as u32)))
    }
}

impl Drop for AcquireOwned {
    fn drop(&mut self) {
        if let Some(sem) = &self.sem {
            sem.raw.drop_acquire(&mut self.st);
        }
    }
}

impl fmt::Debug for AcquireOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireOwned")
            .field("semaphore", &self.sem)
            .finish()
    }
}

/// Permits borrowed from a [`Semaphore`]; given back on drop.
#[must_use = "the permits are given back as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: u32,
    ticket: HoldTicket,
}

impl<'a> SemaphorePermit<'a> {
    fn new(sem: &'a Semaphore, permits: u32) -> Self {
        let ticket = sem.res.holders().add();
        SemaphorePermit {
            sem,
            permits,
            ticket,
        }
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.res.holders().remove(self.ticket);
        self.sem.raw.release(self.permits as usize);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("semaphore", &self.sem)
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits held from an `Arc<Semaphore>`; given back on drop.
#[must_use = "the permits are given back as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: u32,
    ticket: HoldTicket,
}

impl OwnedSemaphorePermit {
    fn new(sem: Arc<Semaphore>, permits: u32) -> Self {
        let ticket = sem.res.holders().add();
        OwnedSemaphorePermit {
            sem,
            permits,
            ticket,
        }
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// The semaphore these permits belong to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.res.holders().remove(self.ticket);
        self.sem.raw.release(self.permits as usize);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("semaphore", &self.sem)
            .field("permits", &self.permits)
            .finish()
    }
}
