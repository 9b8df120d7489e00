//! `JoinHandle`, `AbortHandle` and `JoinError`.

use super::header::{Header, Meta};
use super::{Id, TaskRef};
use crate::error;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// An owned permission to await a task's output.
///
/// Awaiting yields `Ok(output)`, or `Err(JoinError)` if the task panicked or
/// was cancelled. Dropping the handle detaches the task; it keeps running.
///
/// ```
/// # brisk::run(async {
/// let handle = brisk::spawn(async { "done" });
/// assert_eq!(handle.await.unwrap(), "done");
/// # });
/// ```
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _out: PhantomData<T>,
}

// SAFETY: the handle reads the output `T` on whatever thread it is on, so it
// may move only when `T: Send`; everything else it touches is atomic.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only exposes atomic state (abort, is_finished, id).
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn from_raw(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _out: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle holds a reference.
        unsafe { self.raw.as_ref() }
    }

    /// Requests cancellation: the task's future is dropped at its next
    /// scheduling point (right away if it is idle), and awaiting this handle
    /// yields a `JoinError` for which [`JoinError::is_cancelled`] is true. A
    /// task that already finished keeps its output.
    ///
    /// ```
    /// # brisk::run(async {
    /// let handle = brisk::spawn(std::future::pending::<()>());
    /// handle.abort();
    /// assert!(handle.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn abort(&self) {
        super::abort(self.raw);
    }

    /// Cancels the task and everything it started (tasks, scopes, groups),
    /// softly: their Brisk operations return `Cancelled` at the next
    /// cancellation point, and they may still clean up (see
    /// [`Cancelled`](super::Cancelled)). Not reached: tasks started inside
    /// a [`non_cancellable`](super::non_cancellable) block, and tasks left
    /// running by a task that already finished (it left the tree; scopes
    /// and task groups never leave children behind). A task that unwinds reports a
    /// `JoinError` for which [`JoinError::is_cancelled`] is true; a task that
    /// handles the cancellation and returns keeps its output. Does nothing
    /// once the task finished.
    ///
    /// For a hard stop that drops the future at once, use
    /// [`abort`](Self::abort); a graceful shutdown is `cancel`, then
    /// `timeout(grace, handle)`, then `abort` if the grace ran out.
    ///
    /// ```
    /// use std::time::Duration;
    /// # brisk::run(async {
    /// let worker = brisk::spawn(async {
    ///     let grandchild = brisk::spawn(brisk::time::sleep(Duration::from_secs(3600)));
    ///     grandchild.await
    /// });
    /// brisk::task::yield_now().await;
    /// worker.cancel();
    /// assert!(worker.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn cancel(&self) {
        super::cancel_task(self.raw);
    }

    /// True once the task has finished (its output is ready, or it panicked
    /// or was cancelled).
    pub fn is_finished(&self) -> bool {
        self.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.header().meta.id()
    }

    /// A view of the task (name, location, state, wait-point).
    pub fn task(&self) -> TaskRef<'_> {
        TaskRef::new(self.raw)
    }

    /// A handle that can abort the task without owning its output.
    pub fn abort_handle(&self) -> AbortHandle {
        // The task keeps a node from now on, so that `AbortHandle::cancel`
        // reaches what it starts even after this handle is dropped.
        if !self.is_finished() {
            drop(self.header().cancel.get_or_create(self.raw));
        }
        self.header().state.ref_inc();
        AbortHandle { raw: self.raw }
    }

    /// Returns true when the output can be read. Otherwise stores `waker` to
    /// be woken on completion, following the ground rules in `state.rs`.
    fn can_read_output(&self, waker: &Waker) -> bool {
        let header = self.header();
        let snapshot = header.state.load();
        if snapshot.is_complete() {
            return true;
        }
        let res = if snapshot.is_join_waker_set() {
            // SAFETY: with JOIN_WAKER set both sides only read the slot.
            let same = header
                .join_waker
                .with(|w| unsafe { (*w).as_ref().is_some_and(|w| w.will_wake(waker)) });
            if same {
                return false;
            }
            header
                .state
                .unset_join_waker()
                .and_then(|_| self.set_join_waker(waker.clone()))
        } else {
            self.set_join_waker(waker.clone())
        };
        match res {
            Ok(_) => false,
            Err(s) => {
                debug_assert!(s.is_complete());
                true
            }
        }
    }

    fn set_join_waker(
        &self,
        waker: Waker,
    ) -> Result<super::state::Snapshot, super::state::Snapshot> {
        let header = self.header();
        // SAFETY: JOIN_WAKER is clear and the task is not complete, so the
        // handle owns the slot.
        header.join_waker.with_mut(|w| unsafe { *w = Some(waker) });
        let res = header.state.set_join_waker();
        if res.is_err() {
            // SAFETY: the flag was never published, so we still own the slot.
            header.join_waker.with_mut(|w| unsafe { *w = None });
        }
        res
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// While the task runs, the awaiting task's wait-point names it
    /// ([`ResourceKind::Task`](crate::wait::ResourceKind::Task), its id) and
    /// where the wait happens: the `.await` when your code awaits the handle
    /// directly; where Brisk's own code polls it for you (the handle spawned
    /// as a task of its own, inside `timeout`, `join_all`, `race`, ...),
    /// the place the awaited task was spawned, which is also where this
    /// handle was made.
    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        if self.can_read_output(cx.waker()) {
            // SAFETY: the task is complete and we are its `JoinHandle`, the
            // only reader of the output; `out` has the matching type.
            unsafe { (self.header().vtable.read_output)(self.raw, &mut out as *mut _ as *mut ()) };
        } else {
            let header = self.header();
            let caller = Location::caller();
            let location = if crate::wait::is_core_location(caller) {
                header.meta.location
            } else {
                caller
            };
            // `poll_proceed` above was the cancellation point: only record.
            crate::wait::record(
                crate::wait::ResourceKind::Task,
                header.meta.id().0,
                location,
            );
        }
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = self.header();
        if header.state.load().is_complete() {
            // `COMPLETE` is never cleared, and the task side no longer
            // looks at join interest: the output is ours to drop, and then
            // join interest and our reference go in one step.
            /// Releases the reference even if dropping the output panics.
            struct ReleaseComplete(NonNull<Header>);
            impl Drop for ReleaseComplete {
                fn drop(&mut self) {
                    // SAFETY: the `JoinHandle` owned this reference; the
                    // header is alive until it is released here.
                    unsafe {
                        let header = self.0.as_ref();
                        if header.state.unset_join_interest_and_release_complete() {
                            (header.vtable.dealloc)(self.0);
                        }
                    }
                }
            }
            let _release = ReleaseComplete(self.raw);
            // SAFETY: the task is complete and join interest is ours: the
            // output is ours to drop.
            unsafe { (header.vtable.drop_stage)(self.raw) };
            return;
        }
        // SAFETY: only the handle ever writes the slot (the task side only
        // reads it), so this shared read by the handle races no write.
        let no_waker = header.join_waker.with(|w| unsafe { (*w).is_none() });
        if no_waker && header.state.drop_join_handle_fast() {
            // Not complete, so there is no output to drop; the slot is
            // empty; our reference is released and was not the last.
            return;
        }
        /// Releases the handle's reference even if dropping the output panics.
        struct Release(NonNull<Header>);
        impl Drop for Release {
            fn drop(&mut self) {
                // SAFETY: the `JoinHandle` owned this reference.
                unsafe { super::release(self.0) };
            }
        }
        let _release = Release(self.raw);
        let prev = header.state.unset_join_interest();
        if prev.is_complete() {
            // SAFETY: the task is complete and join interest was ours: the
            // output is ours to drop.
            unsafe { (header.vtable.drop_stage)(self.raw) };
        } else {
            // SAFETY: the transition cleared JOIN_WAKER while the task was not
            // complete, so the slot is ours.
            let waker = header.join_waker.with_mut(|w| unsafe { (*w).take() });
            drop(waker);
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("name", &self.header().meta.name())
            .finish()
    }
}

/// Aborts a task without owning its output; cloneable.
pub struct AbortHandle {
    raw: NonNull<Header>,
}

// SAFETY: only atomic state is touched.
unsafe impl Send for AbortHandle {}
// SAFETY: only atomic state is touched.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// See [`JoinHandle::abort`].
    pub fn abort(&self) {
        super::abort(self.raw);
    }

    /// See [`JoinHandle::cancel`].
    pub fn cancel(&self) {
        super::cancel_task(self.raw);
    }

    /// See [`JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        // SAFETY: we hold a reference.
        unsafe { self.raw.as_ref() }.state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        // SAFETY: we hold a reference.
        unsafe { self.raw.as_ref() }.meta.id()
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        // SAFETY: we hold a reference.
        unsafe { self.raw.as_ref() }.state.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { super::release(self.raw) };
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AbortHandle").field(&self.id()).finish()
    }
}

/// Why a task produced no output: it panicked, or it was cancelled.
///
/// It names the task (id, name, spawn location), so a panic never vanishes
/// anonymously.
///
/// ```
/// # brisk::run(async {
/// let handle = brisk::task::Builder::new()
///     .name("checkout")
///     .spawn(async { panic!("out of stock") });
/// let err = handle.await.unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.name(), Some("checkout"));
/// assert!(err.to_string().contains("out of stock"));
/// # });
/// ```
pub struct JoinError {
    /// Boxed: a `JoinError` sits in every task's output slot, so it must be
    /// one word to keep idle tasks small.
    inner: Box<Inner>,
}

struct Inner {
    repr: Repr,
    id: Id,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
}

enum Repr {
    Cancelled,
    /// The payload sits behind a mutex only so that `JoinError: Sync`.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(meta: &Meta) -> JoinError {
        JoinError::new(Repr::Cancelled, meta)
    }

    pub(crate) fn panic(meta: &Meta, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError::new(Repr::Panic(Mutex::new(payload)), meta)
    }

    fn new(repr: Repr, meta: &Meta) -> JoinError {
        JoinError {
            inner: Box::new(Inner {
                repr,
                id: meta.id(),
                name: meta.name().map(Arc::from),
                location: meta.location,
            }),
        }
    }

    /// True if the task was cancelled (aborted, or its runtime shut down).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.inner.repr, Repr::Cancelled)
    }

    /// True if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.inner.repr, Repr::Panic(_))
    }

    /// The failed task's id.
    pub fn id(&self) -> Id {
        self.inner.id
    }

    /// The failed task's name, if it had one.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// Where the failed task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.inner.location
    }

    /// The panic message, if the payload is a string.
    pub fn panic_message(&self) -> Option<String> {
        match &self.inner.repr {
            Repr::Panic(p) => {
                let p = p.lock().unwrap_or_else(|e| e.into_inner());
                payload_str(&**p).map(str::to_owned)
            }
            Repr::Cancelled => None,
        }
    }

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task was cancelled rather than panicked.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .unwrap_or_else(|_| panic!("{}", error::JOIN_ERROR_NOT_PANIC))
    }

    /// The panic payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        if !self.is_panic() {
            return Err(self);
        }
        match self.inner.repr {
            Repr::Panic(p) => Ok(p.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => unreachable!("checked above"),
        }
    }

    fn describe_task(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.inner.id)?;
        if let Some(name) = &self.inner.name {
            write!(f, " ({name})")?;
        }
        write!(f, " spawned at {}", self.inner.location)
    }
}

pub(crate) fn payload_str(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe_task(f)?;
        match &self.inner.repr {
            Repr::Cancelled => f.write_str(" was cancelled"),
            Repr::Panic(_) => match self.panic_message() {
                Some(msg) => write!(f, " panicked: {msg}"),
                None => f.write_str(" panicked (with a non-string payload)"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(if self.is_panic() {
            "JoinError::Panic"
        } else {
            "JoinError::Cancelled"
        });
        d.field("id", &self.inner.id)
            .field("name", &self.inner.name)
            .field("location", &format_args!("{}", self.inner.location));
        if let Some(msg) = self.panic_message() {
            d.field("message", &msg);
        }
        d.finish()
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        let kind = if err.is_cancelled() {
            std::io::ErrorKind::Interrupted
        } else {
            std::io::ErrorKind::Other
        };
        std::io::Error::new(kind, err)
    }
}
