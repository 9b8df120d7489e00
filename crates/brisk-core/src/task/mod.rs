//! Tasks: spawning, joining, aborting, naming, and the task model shared by
//! every backend.
//!
//! A task is one heap allocation made here, in core: a header (id,
//! name, spawn location, parent, state, wait-point, waker counters) followed by
//! the future and, once it finishes, its output. Backends never allocate tasks;
//! they receive [`Notified`] handles through [`Schedule`] and run them.
//!
//! ```
//! # brisk::run(async {
//! let handle = brisk::task::Builder::new()
//!     .name("checkout")
//!     .spawn(async { 6 * 7 });
//! assert_eq!(handle.await.unwrap(), 42);
//! # });
//! ```

pub(crate) mod cancel;
mod console;
mod group;
pub(crate) mod header;
pub(crate) mod instrument;
mod join;
#[cfg(all(test, loom))]
mod loom_tests;
pub(crate) mod raw;
mod registry;
mod state;
pub mod trace;

use crate::context;
use crate::error;
use crate::runtime::{Handle, Schedule, ScheduleRef};
use crate::wait::WaitPoint;
use header::{Header, Meta};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};

pub use cancel::{non_cancellable, CancelReason, Cancelled, NonCancellable};
pub use group::{JoinNext, TaskGroup};
pub use join::{AbortHandle, JoinError, JoinHandle};
pub use registry::{OwnerGuard, Registry};

/// A task's id, unique within its runtime for the runtime's lifetime, and
/// never 0. Ids grow over time but are not in spawn order across threads:
/// each scheduler thread takes them in blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub(crate) u64);

impl Id {
    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What kind of work a task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskKind {
    /// A `Send` future from [`spawn`]; may run on any worker.
    Task,
    /// A `!Send` future from [`spawn_local`]; runs only on its owner thread.
    Local,
    /// A closure from [`spawn_blocking`], run on the blocking pool.
    Blocking,
}

impl TaskKind {
    /// A short lowercase name (`"task"`, `"local"`, `"blocking"`).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Task => "task",
            TaskKind::Local => "local",
            TaskKind::Blocking => "blocking",
        }
    }
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting to be woken.
    Idle,
    /// Woken and queued to run.
    Scheduled,
    /// Being polled right now.
    Running,
    /// Finished (or cancelled); its output may not have been collected yet.
    Complete,
}

// ---- handles that own a reference ------------------------------------------

/// A task that was woken and must be run: the unit backends queue.
///
/// Running it ([`run`](Notified::run)) polls the task once; dropping it without
/// running only releases a reference (the task stays listed in the registry,
/// and runtime shutdown cancels it).
pub struct Notified {
    raw: NonNull<Header>,
}

// SAFETY: a `Notified` is a counted pointer to a header whose shared state is
// atomic. For `Local` tasks the `Schedule` contract requires the backend to run
// it only on the owner thread; moving it between threads to get there is fine.
unsafe impl Send for Notified {}

impl Notified {
    pub(crate) fn from_raw(raw: NonNull<Header>) -> Notified {
        Notified { raw }
    }

    /// Polls the task once (or completes its cancellation).
    pub fn run(self) {
        let raw = self.raw;
        std::mem::forget(self);
        // SAFETY: a `Notified` owns one reference and the right to claim
        // RUNNING; `poll` consumes both. The `Schedule` contract ensures local
        // tasks run on their owner thread.
        unsafe { (raw.as_ref().vtable.poll)(raw) }
    }

    /// A view of the task.
    pub fn task(&self) -> TaskRef<'_> {
        TaskRef::new(self.raw)
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.task().id()
    }

    /// Completes the task as cancelled without polling it: its future is
    /// dropped on this thread and its `JoinHandle` reports cancellation. For
    /// a backend that cannot run the task (its pool refused the job).
    ///
    /// # Panics
    /// If the task is [`TaskKind::Local`]: its future may only be dropped on
    /// its owner thread, so drop the `Notified` instead.
    pub fn cancel(self) {
        assert!(
            self.task().kind() != TaskKind::Local,
            "`Notified::cancel` on a local task: drop the Notified instead"
        );
        self.cancel_unstarted();
    }

    /// Cancels the task through its `Notified` (the caller may drop the future here).
    fn cancel_unstarted(self) {
        let raw = self.raw;
        std::mem::forget(self);
        // SAFETY: we hold the `Notified`'s reference. When claiming RUNNING
        // succeeds, `cancel_in_place` consumes it (with the registry's);
        // otherwise the transition already released it.
        unsafe {
            match raw.as_ref().state.transition_to_running() {
                state::TransitionToRunning::Success | state::TransitionToRunning::Cancelled => {
                    (raw.as_ref().vtable.cancel_in_place)(raw)
                }
                state::TransitionToRunning::Failed => {}
                state::TransitionToRunning::Dealloc => (raw.as_ref().vtable.dealloc)(raw),
            }
        }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { release(self.raw) }
    }
}

impl fmt::Debug for Notified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Notified").field(&self.id()).finish()
    }
}

/// An owned reference to a task, from [`Registry::tasks`]; keeps the
/// allocation alive without keeping the task running.
pub struct Task {
    raw: NonNull<Header>,
}

// SAFETY: as for `Notified`; `Task` offers no way to poll.
unsafe impl Send for Task {}
// SAFETY: all methods go through atomic state or immutable metadata.
unsafe impl Sync for Task {}

impl Task {
    /// A view of the task.
    pub fn as_ref(&self) -> TaskRef<'_> {
        TaskRef::new(self.raw)
    }

    /// Requests hard cancellation: the future is dropped at its next
    /// scheduling point and its `JoinHandle` reports a cancelled `JoinError`.
    pub fn abort(&self) {
        abort(self.raw);
    }

    /// Cancels the task now if it is idle (dropping its future on this
    /// thread), or marks it so the thread polling it cancels it right after
    /// the current poll. Local tasks are routed to their owner thread instead.
    pub fn shutdown(self) {
        if self.as_ref().kind() == TaskKind::Local {
            self.abort();
            return;
        }
        // SAFETY: the task is not local, so its future is `Send` and may be
        // dropped on this thread.
        unsafe { self.shutdown_in_place() }
    }

    /// Like [`shutdown`](Self::shutdown) but always in place.
    ///
    /// # Safety
    /// For a [`TaskKind::Local`] task, the caller runs on the task's owner thread.
    pub unsafe fn shutdown_in_place(self) {
        let raw = self.raw;
        std::mem::forget(self);
        // SAFETY: we own a reference. When the transition hands us RUNNING we
        // may drop the future (the caller guarantees the thread is allowed),
        // and `cancel_in_place` consumes our reference.
        unsafe {
            if raw.as_ref().state.transition_to_shutdown() {
                (raw.as_ref().vtable.cancel_in_place)(raw);
            } else {
                release(raw);
            }
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { release(self.raw) }
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_ref(), f)
    }
}

/// Releases one reference.
///
/// # Safety
/// The caller owns the reference.
unsafe fn release(raw: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive until `ref_dec`.
    unsafe {
        let header = raw.as_ref();
        if header.state.ref_dec() {
            (header.vtable.dealloc)(raw);
        }
    }
}

/// Soft cancellation of a task and its descendants.
fn cancel_task(raw: NonNull<Header>) {
    // SAFETY: callers hold a reference.
    let header = unsafe { raw.as_ref() };
    if !header.state.load().is_complete() {
        header
            .cancel
            .get_or_create(raw)
            .cancel(CancelReason::Requested);
    }
}

fn abort(raw: NonNull<Header>) {
    // SAFETY: callers hold a reference.
    let header = unsafe { raw.as_ref() };
    if header.state.transition_to_notified_and_cancel() {
        header.sched.schedule(Notified::from_raw(raw));
    }
}

// ---- borrowed views ----------------------------------------------------------

/// A borrowed view of a live task, for diagnostics and backends.
#[derive(Clone, Copy)]
pub struct TaskRef<'a> {
    raw: NonNull<Header>,
    _lt: PhantomData<&'a Header>,
}

impl<'a> TaskRef<'a> {
    pub(crate) fn new(raw: NonNull<Header>) -> TaskRef<'a> {
        TaskRef {
            raw,
            _lt: PhantomData,
        }
    }

    fn header(&self) -> &'a Header {
        // SAFETY: a `TaskRef` is only created while a reference is held for 'a.
        unsafe { self.raw.as_ref() }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.header().meta.id()
    }

    /// The name given with [`Builder::name`], if any.
    pub fn name(&self) -> Option<&'a str> {
        self.header().meta.name()
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.header().meta.location
    }

    /// The size in bytes of the future given to spawn (`size_of` of its
    /// type, before any boxing).
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let small = brisk::spawn(async { 1 });
    /// assert!(small.task().future_size() < 64);
    /// assert!(!small.task().is_future_boxed());
    /// # small.await.unwrap();
    /// # });
    /// ```
    pub fn future_size(&self) -> usize {
        self.header().vtable.future_size
    }

    /// True if spawn moved the future into a box of its own because it is
    /// larger than [`BOX_FUTURE_THRESHOLD`](crate::future::BOX_FUTURE_THRESHOLD)
    /// (the task's allocation then holds only the box).
    pub fn is_future_boxed(&self) -> bool {
        self.header().vtable.future_boxed
    }

    /// The task that spawned it, if it was spawned from inside a task.
    pub fn parent(&self) -> Option<Id> {
        self.header().meta.parent()
    }

    /// What kind of task this is.
    pub fn kind(&self) -> TaskKind {
        self.header().meta.kind()
    }

    /// Where the task is in its life.
    pub fn state(&self) -> TaskState {
        let s = self.header().state.load();
        if s.is_complete() {
            TaskState::Complete
        } else if s.is_running() {
            TaskState::Running
        } else if s.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        }
    }

    /// True if the task was cancelled: softly (`JoinHandle::cancel`, or the
    /// cancellation of a task, scope or group above it) or hard (abort or
    /// runtime shutdown).
    pub fn is_cancelled(&self) -> bool {
        let header = self.header();
        header.state.load().is_cancelled()
            || header.cancel.get().is_some_and(|n| n.reason().is_some())
    }

    /// What the task is pending on, as recorded by the leaf future that last
    /// returned `Pending` in it. `None` while it runs or if the leaf future
    /// records nothing (a hand-written future).
    pub fn wait_point(&self) -> Option<WaitPoint> {
        self.header().wait.get()
    }

    /// The last wait-point the task recorded, also while a poll runs (the
    /// one the poll resumed from, which [`wait_point`](Self::wait_point)
    /// no longer shows).
    pub fn last_wait_point(&self) -> Option<WaitPoint> {
        self.header().wait.last()
    }

    /// How many times the task was polled.
    pub fn polls(&self) -> u64 {
        self.header()
            .counters
            .polls
            .load(crate::loom::Ordering::Relaxed) as u64
    }

    /// Busy time, idle time and poll-duration histogram, if the runtime
    /// measures polls (`task_timing` on its builder, or the
    /// `BRISK_TASK_TIMING` environment variable; on by default in debug
    /// builds). Durations come from the monotonic clock, not the runtime's.
    pub fn timing(&self) -> Option<crate::diag::TaskTiming> {
        let header = self.header();
        // SAFETY: a `TaskRef` holds a reference for its lifetime.
        let diag = unsafe { instrument::record(self.raw) }?;
        let d = header.sched.registry().diagnostics();
        let polls = header.counters.polls.load(crate::loom::Ordering::Relaxed);
        d.config()
            .task_timing
            .then(|| diag.timing(d.now_ns(), polls))
    }

    /// For backends that detect hazards themselves (a monitor thread that
    /// sees a stuck poll): `Some(true)` the first time a hazard of `kind` is
    /// claimed for this task, `Some(false)` after that, `None` if the task
    /// keeps no per-task record (its runtime's diagnostics are off).
    pub fn claim_hazard(&self, kind: &str) -> Option<bool> {
        // SAFETY: a `TaskRef` holds a reference for its lifetime.
        unsafe { instrument::record(self.raw) }?.claim_kind(kind)
    }

    /// Waker clones, wakes and drops counted for this task (approximate under
    /// concurrent wakes from several threads).
    pub fn waker_counts(&self) -> WakerCounts {
        use crate::loom::Ordering::Relaxed;
        let c = &self.header().counters;
        WakerCounts {
            clones: c.waker_clones.load(Relaxed) as u64,
            wakes: c.waker_wakes.load(Relaxed) as u64,
            drops: c.waker_drops.load(Relaxed) as u64,
        }
    }

    /// References held on the task right now (registry, queue entry, join
    /// handle, wakers). Diagnostics derive live-waker counts from it.
    pub fn ref_count(&self) -> usize {
        self.header().state.load().ref_count()
    }

    /// True if a `JoinHandle` still exists.
    pub fn has_join_handle(&self) -> bool {
        self.header().state.load().is_join_interested()
    }

    /// True if the task was spawned with `sched` as its scheduler.
    pub fn is_scheduled_by(&self, sched: &Arc<dyn Schedule>) -> bool {
        self.header().sched.is(sched)
    }

    /// Takes an owned reference.
    pub fn to_task(&self) -> Task {
        self.header().state.ref_inc();
        Task { raw: self.raw }
    }

    /// An owned snapshot of the task's metadata and state.
    pub fn info(&self) -> TaskInfo {
        TaskInfo {
            id: self.id(),
            name: self.name().map(Arc::from),
            location: self.location(),
            parent: self.parent(),
            kind: self.kind(),
            state: self.state(),
            cancelled: self.is_cancelled(),
            wait_point: self.wait_point(),
            polls: self.polls(),
        }
    }
}

impl fmt::Debug for TaskRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.info(), f)
    }
}

/// Waker activity of one task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WakerCounts {
    /// `Waker::clone` calls.
    pub clones: u64,
    /// `wake` and `wake_by_ref` calls.
    pub wakes: u64,
    /// Wakers dropped without waking.
    pub drops: u64,
}

/// An owned snapshot of one task, as listed in dumps and shutdown reports.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    /// The task's id.
    pub id: Id,
    /// Its name, if it has one.
    pub name: Option<Arc<str>>,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// The task that spawned it.
    pub parent: Option<Id>,
    /// Task, local or blocking.
    pub kind: TaskKind,
    /// Its state when the snapshot was taken.
    pub state: TaskState,
    /// Whether it was cancelled (softly or hard).
    pub cancelled: bool,
    /// What it was waiting on.
    pub wait_point: Option<WaitPoint>,
    /// How many times it was polled.
    pub polls: u64,
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        write!(
            f,
            " spawned at {}:{}:{}, {:?}",
            self.location.file(),
            self.location.line(),
            self.location.column(),
            self.state
        )?;
        if self.kind != TaskKind::Task {
            write!(f, ", {}", self.kind.as_str())?;
        }
        if self.cancelled {
            f.write_str(", cancelled")?;
        }
        write!(f, ", {} polls", self.polls)?;
        if let Some(wait) = &self.wait_point {
            write!(f, ", waits on {wait}")?;
        }
        Ok(())
    }
}

// ---- spawning ------------------------------------------------------------------

/// Spawns a task on the current runtime and returns a handle to its output.
///
/// The task starts running in the background right away; awaiting the handle
/// is optional. Dropping the handle detaches the task.
///
/// # Panics
/// Outside a Brisk runtime (use `#[brisk::main]`, `brisk::run`, or
/// `Runtime::block_on`, or spawn through a [`Handle`]).
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let a = brisk::spawn(async { 1 });
/// let b = brisk::spawn(async { 2 });
/// assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// # });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Builder::new().spawn(future)
}

/// Spawns a `!Send` future on the current thread.
///
/// On a current-thread runtime it runs on the runtime's thread; on a
/// multi-thread runtime it is pinned to the worker (or `block_on` thread) that
/// spawned it and never migrates. No `LocalSet` is needed.
///
/// # Panics
/// Outside a runtime, or on a thread that runs no scheduler (a blocking-pool
/// thread); the message says what to do instead.
///
/// # Examples
/// ```
/// use std::rc::Rc;
/// # brisk::run(async {
/// let shared = Rc::new(5);
/// let copy = shared.clone();
/// let handle = brisk::spawn_local(async move { *copy + 1 });
/// assert_eq!(handle.await.unwrap(), 6);
/// assert_eq!(*shared, 5);
/// # });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().spawn_local(future)
}

/// Runs a blocking closure on the runtime's blocking pool and returns a handle
/// to its result.
///
/// The pool is elastic (threads start on demand and exit after a idle period)
/// and bounded (`Builder::max_blocking_threads`); jobs beyond the bound wait
/// in a queue.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let sum = brisk::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap();
/// assert_eq!(sum, 5050);
/// # });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Builder::new().spawn_blocking(f)
}

/// Configures a task before spawning it: its name, and which runtime.
///
/// Names show up in `JoinError`s, shutdown reports and diagnostics. No
/// unstable cfg is needed.
///
/// ```
/// # brisk::run(async {
/// let h = brisk::task::Builder::new().name("restock").spawn(async { "ok" });
/// assert_eq!(h.await.unwrap(), "ok");
/// # });
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a task Builder does nothing until you call `spawn`"]
pub struct Builder<'a> {
    name: Option<&'a str>,
    handle: Option<&'a Handle>,
    /// The cancellation node to hang the task under (a group's), instead of
    /// the current one.
    parent: Option<&'a Arc<cancel::Node>>,
}

impl<'a> Builder<'a> {
    /// A builder with no name, spawning on the current runtime.
    pub fn new() -> Builder<'a> {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: &'a str) -> Self {
        self.name = Some(name);
        self
    }

    /// Hangs the task under `node` in the cancellation tree.
    pub(crate) fn under(mut self, node: &'a Arc<cancel::Node>) -> Self {
        self.parent = Some(node);
        self
    }

    /// Spawns on `handle`'s runtime instead of the current one.
    pub fn on(mut self, handle: &'a Handle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// Spawns a `Send` future. See [`spawn`].
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let location = Location::caller();
        let name = self.name;
        self.with_handle(error::SPAWN_OUTSIDE_RUNTIME, location, |h| {
            spawn_raw(
                h.backend().scheduler().clone(),
                future,
                name,
                location,
                TaskKind::Task,
                self.parent.cloned(),
            )
        })
    }

    /// Spawns a `!Send` future on this thread. See [`spawn_local`].
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        let name = self.name;
        let current = context::try_current();
        if let (Some(target), Some(current)) = (self.handle, &current) {
            if !Handle::ptr_eq(target, current) {
                panic!(
                    "{} (called at {location})",
                    error::SPAWN_LOCAL_OTHER_RUNTIME
                );
            }
        }
        let Some(handle) = current.or_else(|| self.handle.cloned()) else {
            panic!(
                "{} (called at {location})",
                error::SPAWN_LOCAL_OUTSIDE_RUNTIME
            );
        };
        let Some(sched) = handle.backend().local_scheduler() else {
            panic!(
                "{} (called at {location})",
                error::SPAWN_LOCAL_NO_LOCAL_QUEUE
            );
        };
        spawn_raw(
            sched,
            future,
            name,
            location,
            TaskKind::Local,
            self.parent.cloned(),
        )
    }

    /// Runs a blocking closure on the blocking pool. See [`spawn_blocking`].
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let location = Location::caller();
        let name = self.name;
        self.with_handle(error::SPAWN_BLOCKING_OUTSIDE_RUNTIME, location, |h| {
            spawn_raw(
                h.backend().blocking_scheduler().clone(),
                BlockingTask(Some(f)),
                name,
                location,
                TaskKind::Blocking,
                None,
            )
        })
    }

    fn with_handle<R>(
        &self,
        msg: &str,
        location: &'static Location<'static>,
        f: impl FnOnce(&Handle) -> R,
    ) -> R {
        if let Some(h) = self.handle {
            return f(h);
        }
        match context::with_current(f) {
            Some(r) => r,
            None => panic!("{msg} (called at {location})"),
        }
    }
}

/// Allocates a task and hands it to `sched`.
///
/// A future larger than [`BOX_FUTURE_THRESHOLD`] is boxed first, so the task
/// cell stays small and the future is not copied again. `size_of::<F>()` is
/// a constant, so only one branch survives monomorphisation.
///
/// [`BOX_FUTURE_THRESHOLD`]: crate::future::BOX_FUTURE_THRESHOLD
pub(crate) fn spawn_raw<F>(
    sched: ScheduleRef,
    future: F,
    name: Option<&str>,
    location: &'static Location<'static>,
    kind: TaskKind,
    parent: Option<Arc<cancel::Node>>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    if std::mem::size_of::<F>() > crate::future::BOX_FUTURE_THRESHOLD {
        spawn_cell::<_, raw::Boxed<F>>(sched, Box::pin(future), name, location, kind, parent)
    } else {
        spawn_cell::<_, raw::Inline<F>>(sched, future, name, location, kind, parent)
    }
}

fn spawn_cell<F, S: raw::Spawned>(
    sched: ScheduleRef,
    future: F,
    name: Option<&str>,
    location: &'static Location<'static>,
    kind: TaskKind,
    parent: Option<Arc<cancel::Node>>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    let registry = sched.registry();
    let ticket = registry.ticket();
    let registry: *const Registry = registry;
    let meta = Meta::new(ticket.id, context::current_task_id(), name, location, kind);
    let raw = raw::Cell::allocate::<S>(future, sched, meta);
    // Three references: registry, the first `Notified`, the `JoinHandle`.
    let notified = Notified::from_raw(raw);
    let join = JoinHandle::from_raw(raw);
    // SAFETY: the `Notified` keeps the header alive.
    let header = unsafe { raw.as_ref() };
    if kind != TaskKind::Blocking {
        let parent = match parent {
            Some(p) => Some(p),
            None => cancel::current_parent(),
        };
        if let Some(parent) = parent {
            header.cancel.init_child(raw, &parent);
        }
    }
    // SAFETY: `Schedule` returns the same registry for every call, alive
    // as long as any task that stores the scheduler; this one does, and
    // our references keep it alive.
    if unsafe { &*registry }.insert(raw, ticket) {
        trace::spawned(header);
        header.sched.schedule(notified);
    } else {
        notified.cancel_unstarted();
    }
    join
}

/// The future a `spawn_blocking` task runs: calls the closure on first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("a blocking task was polled after it finished");
        Poll::Ready(context::outside_task(f))
    }
}

// ---- in-task helpers ---------------------------------------------------------------

/// Yields to the scheduler once: the task goes to the back of the run queue
/// so other tasks, timers and I/O get a turn.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// for _ in 0..3 {
///     brisk::task::yield_now().await;
/// }
/// # });
/// ```
#[track_caller]
pub fn yield_now() -> YieldNow {
    YieldNow {
        yielded: false,
        location: Location::caller(),
    }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldNow {
    yielded: bool,
    location: &'static Location<'static>,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        crate::wait::set(crate::wait::ResourceKind::Yield, 0, self.location);
        raw::wake_by_ref_to_yield(cx.waker());
        Poll::Pending
    }
}

/// The id of the Brisk task a waker belongs to, if it is a Brisk task waker.
///
/// Useful in diagnostics: which task would this waker wake?
pub fn waker_task_id(waker: &std::task::Waker) -> Option<Id> {
    // SAFETY: a Brisk waker holds a reference, so the header is alive while
    // `waker` is borrowed.
    raw::header_of(waker).map(|p| unsafe { p.as_ref() }.meta.id())
}

/// The id of the task being polled on this thread, if any.
pub fn try_id() -> Option<Id> {
    context::current_task_id()
}

/// The id of the task being polled on this thread.
///
/// # Panics
/// When called outside a task.
#[track_caller]
pub fn id() -> Id {
    match try_id() {
        Some(id) => id,
        None => panic!("{}", error::TASK_ID_OUTSIDE_TASK),
    }
}

/// True if the code calling it was cancelled: its task, scope or group was
/// cancelled (or a `with_deadline` around it expired), or its task was
/// aborted or its runtime is shutting down. Long loops of synchronous work
/// can check it and return early. Inside [`non_cancellable`] it is false
/// unless the task was aborted.
///
/// ```
/// use std::time::Duration;
///
/// # brisk::run(async {
/// assert!(!brisk::task::is_cancelled());
/// let crunch = brisk::spawn(async {
///     // Shielded: the task is cancelled while this runs, yet it finishes.
///     brisk::task::non_cancellable(brisk::time::sleep(Duration::from_millis(5))).await;
///     let mut rounds = 0u64;
///     // A synchronous loop has no cancellation point: it checks.
///     while !brisk::task::is_cancelled() && rounds < u64::MAX {
///         rounds += 1;
///     }
///     rounds
/// });
/// crunch.cancel();
/// assert_eq!(crunch.await.unwrap(), 0);
/// # });
/// ```
pub fn is_cancelled() -> bool {
    cancel::current_reason().is_some()
        || context::with_current_task(|t| t.header().state.load().is_cancelled()).unwrap_or(false)
}
