//! The contract between portable code and a backend.
//!
//! Portable code (spawn, time, net, fs and rand) reaches the runtime
//! that is polling it only through these object-safe traits, found through
//! the per-thread [`context`](crate::context). The native runtime, the
//! simulator and a tokio adapter each implement them once.

use crate::task::{JoinError, Notified, Registry, TaskRef};
use crate::time::{Instant, TimeDriver};
use std::fmt;
use std::sync::Arc;

/// Where a task goes when it is woken.
///
/// Every task stores the `Schedule` it was spawned with (the runtime's shared
/// scheduler, a thread's local scheduler, or the blocking pool).
///
/// # Safety
/// Implementations MUST:
/// - run every [`Notified`] they receive at most once, by calling
///   [`Notified::run`], or drop it;
/// - run a `Notified` of a [`TaskKind::Local`](crate::task::TaskKind::Local)
///   task only on the thread that spawned it (a local scheduler is created
///   per thread for this reason);
/// - return the same [`Registry`] for every call, alive as long as any task
///   that stores this scheduler.
///
/// `schedule` may be called from any thread, including from inside `run` of
/// another task, and after the runtime shut down (then it should drop the
/// `Notified`: the task is already cancelled or will be by the registry).
pub unsafe trait Schedule: Send + Sync + 'static {
    /// A task was woken (or spawned): queue it to run.
    fn schedule(&self, task: Notified);

    /// A task woke itself while it was being polled (for example with
    /// `yield_now`): queue it behind the other runnable tasks.
    fn yield_now(&self, task: Notified) {
        self.schedule(task);
    }

    /// The runtime's task registry.
    fn registry(&self) -> &Registry;

    /// A task panicked; called on the thread that polled it, before its
    /// `JoinHandle` is woken. The runtime applies its panic policy here.
    fn task_panicked(&self, task: TaskRef<'_>, error: &JoinError) {
        let _ = (task, error);
    }
}

/// A [`Schedule`] as tasks store it: one pointer wide.
///
/// Every task keeps a counted reference to the scheduler it was spawned
/// with. An `Arc<dyn Schedule>` is two words (data and vtable); a
/// `ScheduleRef` wraps it once, when the backend creates its scheduler, so
/// each task header pays one word and each spawn one reference-count
/// increment. Backends create one per scheduler and hand out clones (see
/// [`Backend::scheduler`]).
///
/// ```
/// use brisk_core::runtime::ScheduleRef;
///
/// let rt = brisk::Runtime::builder().current_thread().build().unwrap();
/// let sched: &ScheduleRef = rt.handle().backend().scheduler();
/// assert!(ScheduleRef::ptr_eq(sched, &sched.clone()));
/// ```
#[derive(Clone)]
pub struct ScheduleRef(Arc<Arc<dyn Schedule>>);

impl ScheduleRef {
    /// Wraps `sched`. Do this once per scheduler and clone the result: each
    /// call allocates.
    pub fn new(sched: Arc<dyn Schedule>) -> ScheduleRef {
        ScheduleRef(Arc::new(sched))
    }

    /// The scheduler as a shared trait object.
    pub fn as_arc(&self) -> &Arc<dyn Schedule> {
        &self.0
    }

    /// True if both refer to the same scheduler object (even through
    /// different wrappers).
    pub fn ptr_eq(a: &ScheduleRef, b: &ScheduleRef) -> bool {
        ScheduleRef::is(a, &b.0)
    }

    /// True if `self` refers to `sched`.
    pub fn is(&self, sched: &Arc<dyn Schedule>) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&*self.0), Arc::as_ptr(sched))
    }
}

impl std::ops::Deref for ScheduleRef {
    type Target = dyn Schedule;

    #[inline]
    fn deref(&self) -> &(dyn Schedule + 'static) {
        &**self.0
    }
}

impl From<Arc<dyn Schedule>> for ScheduleRef {
    fn from(sched: Arc<dyn Schedule>) -> ScheduleRef {
        ScheduleRef::new(sched)
    }
}

impl fmt::Debug for ScheduleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScheduleRef")
            .field(&Arc::as_ptr(&*self.0).cast::<()>())
            .finish()
    }
}

/// A runtime, as portable code sees it.
///
/// Implementations MUST:
/// - return the same registry from every scheduler they hand out;
/// - make [`now`](Backend::now) monotonic and consistent with the time driver;
/// - keep working (returning errors, never hanging) after shutdown.
pub trait Backend: Send + Sync + 'static {
    /// The scheduler for `Send` tasks.
    fn scheduler(&self) -> &ScheduleRef;

    /// The scheduler for `!Send` tasks spawned on the calling thread, or
    /// `None` if this thread cannot run local tasks. Called on every
    /// `spawn_local`: return a clone of a `ScheduleRef` kept per thread,
    /// not a new one.
    fn local_scheduler(&self) -> Option<ScheduleRef>;

    /// The scheduler that runs `spawn_blocking` closures.
    fn blocking_scheduler(&self) -> &ScheduleRef;

    /// The task registry.
    fn registry(&self) -> &Registry {
        self.scheduler().registry()
    }

    /// The runtime's clock.
    fn now(&self) -> Instant;

    /// True if [`now`](Backend::now) is exactly
    /// [`clock::system_now`](crate::time::clock::system_now): `Instant::now()`
    /// then reads the clock without a call through the backend.
    fn uses_system_clock(&self) -> bool {
        false
    }

    /// The runtime's timers, or `None` if time is disabled.
    fn time_driver(&self) -> Option<&Arc<dyn TimeDriver>>;

    /// A short description for messages (`"brisk current_thread runtime"`).
    fn describe(&self) -> &str;

    /// The runtime's network, or `None` if it has none (sockets then fail
    /// with an error that says so).
    fn net(&self) -> Option<&dyn crate::net::NetDriver> {
        None
    }

    /// Why this runtime has no network and what to do instead, used as the
    /// error message of socket operations when [`net`](Backend::net) is
    /// `None` (the default says the runtime has no network).
    fn net_unavailable(&self) -> Option<&str> {
        None
    }

    /// The runtime's file system, or `None` (the default) to run `std::fs`
    /// on the blocking pool. The simulator returns each node's simulated
    /// disk; an io_uring backend could return its ring.
    fn fs(&self) -> Option<&dyn crate::fs::FsDriver> {
        None
    }

    /// The next 64 bits of the runtime's random generator, or `None` if it
    /// has none (`brisk::rand` then uses a per-thread generator seeded from
    /// OS entropy). A simulator returns numbers from its seeded generator,
    /// which makes `brisk::rand` reproducible.
    fn rand_u64(&self) -> Option<u64> {
        None
    }

    /// The runtime's counters by name (`workers`, `polls`, `steals`, ...),
    /// for diagnostics such as the live console; empty (the default) for a
    /// backend that keeps none. Called from any thread, so it must not
    /// block on the runtime's workers.
    fn metrics(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// The backend itself, so a backend's own crate can reach its
    /// extensions (the native runtime's signal handling, for example) from
    /// the current runtime's handle.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A cloneable reference to a runtime: spawn onto it from anywhere.
///
/// ```
/// let rt = brisk::Runtime::builder().current_thread().build().unwrap();
/// let handle = rt.handle().clone();
/// let join = std::thread::spawn(move || {
///     brisk::task::Builder::new().on(&handle).spawn(async { 3 })
/// })
/// .join()
/// .unwrap();
/// assert_eq!(rt.block_on(join).unwrap(), 3);
/// ```
#[derive(Clone)]
pub struct Handle {
    backend: Arc<dyn Backend>,
}

impl Handle {
    /// Wraps a backend.
    pub fn new(backend: Arc<dyn Backend>) -> Handle {
        Handle { backend }
    }

    /// The current runtime's handle.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn current() -> Handle {
        match crate::context::try_current() {
            Some(h) => h,
            None => panic!("{}", crate::error::HANDLE_OUTSIDE_RUNTIME),
        }
    }

    /// The current runtime's handle, if any.
    pub fn try_current() -> Option<Handle> {
        crate::context::try_current()
    }

    /// The backend behind this handle.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// True if both handles refer to the same runtime.
    pub fn ptr_eq(a: &Handle, b: &Handle) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&a.backend), Arc::as_ptr(&b.backend))
    }

    /// Spawns a task on this runtime from any thread.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        crate::task::Builder::new().on(self).spawn(future)
    }

    /// Runs a blocking closure on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> crate::task::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::task::Builder::new().on(self).spawn_blocking(f)
    }

    /// Makes this runtime current on this thread until the guard drops.
    pub fn enter(&self) -> crate::context::EnterGuard {
        crate::context::enter(self.clone())
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Handle")
            .field(&self.backend.describe())
            .finish()
    }
}
