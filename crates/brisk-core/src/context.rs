//! The per-thread context: which runtime is current, which task is being
//! polled, and the task's cooperative budget.
//!
//! Backends enter a runtime context on each thread that runs its tasks
//! (workers, the `block_on` thread, blocking-pool threads); core sets the
//! current task around every poll. Nothing here is global: two runtimes on two
//! threads never see each other.

use crate::runtime::Handle;
use crate::task::{Id, TaskRef};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use crate::task::cancel::Node;
use crate::task::header::Header;

struct Context {
    handle: RefCell<Option<Handle>>,
    task: Cell<Option<NonNull<Header>>>,
    /// The innermost cancellation boundary's node (`None`: the task's own).
    node: Cell<Option<NonNull<Node>>>,
    /// Raised by a leaf future that found its code cancelled; consumed by
    /// the nearest boundary.
    unwind: Cell<bool>,
    /// `non_cancellable` blocks found pending under the current boundary in
    /// this poll: while one is, the boundary does not unwind (the shielded
    /// cleanup must not be dropped by its surroundings).
    shields: Cell<u32>,
    /// The task being polled woke itself to yield (`yield_now`, a spent
    /// budget); the harness requeues it when the poll returns `Pending`.
    self_woken: Cell<bool>,
    budget: Cell<u16>,
    scheduler_thread: Cell<bool>,
    /// True when no runtime is current or the current one reads the system
    /// clock (so `Instant::now` may skip the runtime lookup).
    system_clock: Cell<bool>,
    /// False when the current runtime keeps no wait-points (see
    /// `DiagConfig::set_untracked_for_benchmarks`).
    track_waits: Cell<bool>,
    /// The current runtime's registry tag (`Registry::tag`), 0 for none:
    /// lock holders are recorded with it, as task ids count per runtime.
    runtime_tag: Cell<u16>,
}

/// The budget value meaning "not in a task: no limit".
pub(crate) const UNCONSTRAINED: u16 = u16::MAX;

/// Operations a task may complete in one poll before Brisk's leaf futures
/// start returning `Pending` (after waking the task) to let others run.
pub const BUDGET: u16 = 128;

thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            task: Cell::new(None),
            node: Cell::new(None),
            unwind: Cell::new(false),
            shields: Cell::new(0),
            self_woken: Cell::new(false),
            budget: Cell::new(UNCONSTRAINED),
            scheduler_thread: Cell::new(false),
            system_clock: Cell::new(true),
            track_waits: Cell::new(true),
            runtime_tag: Cell::new(0),
        }
    };
}

/// Makes `handle` the current runtime on this thread until the guard drops.
///
/// Backends call this on every thread they run tasks on. Nesting is allowed;
/// the previous context is restored.
pub fn enter(handle: Handle) -> EnterGuard {
    let system = handle.backend().uses_system_clock();
    let track = handle.backend().registry().diagnostics().tracks_tasks();
    let tag = handle.backend().registry().tag();
    let (prev, prev_system, prev_track, prev_tag) = CONTEXT.with(|c| {
        (
            c.handle.replace(Some(handle)),
            c.system_clock.replace(system),
            c.track_waits.replace(track),
            c.runtime_tag.replace(tag),
        )
    });
    EnterGuard {
        prev,
        prev_system,
        prev_track,
        prev_tag,
        _not_send: std::marker::PhantomData,
    }
}

/// True when `Instant::now()` may read the system clock directly.
#[inline]
pub(crate) fn uses_system_clock() -> bool {
    CONTEXT.try_with(|c| c.system_clock.get()).unwrap_or(true)
}

/// Restores the previous runtime context when dropped.
#[must_use = "the runtime context is left as soon as the guard is dropped"]
pub struct EnterGuard {
    prev: Option<Handle>,
    prev_system: bool,
    prev_track: bool,
    prev_tag: u16,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let prev_system = self.prev_system;
        let prev_track = self.prev_track;
        let prev_tag = self.prev_tag;
        let _ = CONTEXT.try_with(|c| {
            c.runtime_tag.set(prev_tag);
            *c.handle.borrow_mut() = prev;
            c.system_clock.set(prev_system);
            c.track_waits.set(prev_track);
        });
    }
}

impl std::fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnterGuard")
    }
}

/// The current runtime's handle, if this thread is inside one.
pub fn try_current() -> Option<Handle> {
    CONTEXT
        .try_with(|c| c.handle.borrow().clone())
        .ok()
        .flatten()
}

/// Runs `f` with the current runtime without cloning its handle.
pub fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> Option<R> {
    CONTEXT
        .try_with(|c| c.handle.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// Marks this thread as running a scheduler loop (a worker or `block_on`)
/// until the guard drops. Returns `None` if it already is one: blocking on a
/// future there would stall every task queued behind it.
pub fn enter_scheduler_thread() -> Option<SchedulerThreadGuard> {
    CONTEXT
        .with(|c| !c.scheduler_thread.replace(true))
        .then_some(SchedulerThreadGuard {
            _not_send: std::marker::PhantomData,
        })
}

/// True while this thread runs a scheduler loop or is polling a task.
pub fn is_scheduler_thread() -> bool {
    CONTEXT
        .try_with(|c| c.scheduler_thread.get() || c.task.get().is_some())
        .unwrap_or(false)
}

/// Clears the scheduler-thread mark when dropped.
pub struct SchedulerThreadGuard {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for SchedulerThreadGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.scheduler_thread.set(false));
    }
}

impl std::fmt::Debug for SchedulerThreadGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchedulerThreadGuard")
    }
}

/// Set while a task is polled; restores the previous task, budget and
/// cancellation context on drop.
pub(crate) struct TaskGuard {
    prev: Option<NonNull<Header>>,
    prev_node: Option<NonNull<Node>>,
    prev_unwind: bool,
    prev_shields: u32,
    prev_self_woken: bool,
    prev_budget: u16,
}

/// How a poll left the task context (see [`TaskGuard::leave`]).
pub(crate) struct Left {
    /// A leaf raised the unwind flag and no shielded block is pending.
    pub(crate) unwind: bool,
    /// The task woke itself during the poll ([`defer_self_wake`]).
    pub(crate) self_woken: bool,
}

/// [`enter_task`] for a poll: also clears the task's wait-point (the poll
/// records a new one if it returns `Pending` at a leaf), unless the runtime
/// keeps none.
#[inline]
pub(crate) fn enter_poll(ptr: NonNull<Header>) -> TaskGuard {
    CONTEXT.with(|c| {
        if c.track_waits.get() {
            // SAFETY: the caller polls the task, so it holds a reference.
            unsafe { ptr.as_ref() }.wait.clear();
        }
        TaskGuard {
            prev: c.task.replace(Some(ptr)),
            prev_node: c.node.replace(None),
            prev_unwind: c.unwind.replace(false),
            prev_shields: c.shields.replace(0),
            prev_self_woken: c.self_woken.replace(false),
            prev_budget: c.budget.replace(BUDGET),
        }
    })
}

#[inline]
pub(crate) fn enter_task(ptr: NonNull<Header>) -> TaskGuard {
    CONTEXT.with(|c| TaskGuard {
        prev: c.task.replace(Some(ptr)),
        prev_node: c.node.replace(None),
        prev_unwind: c.unwind.replace(false),
        prev_shields: c.shields.replace(0),
        prev_self_woken: c.self_woken.replace(false),
        prev_budget: c.budget.replace(BUDGET),
    })
}

impl TaskGuard {
    /// Leaves the task context, saying whether the task must unwind and
    /// whether it woke itself.
    #[inline]
    pub(crate) fn leave(self) -> Left {
        let this = std::mem::ManuallyDrop::new(self);
        CONTEXT
            .try_with(|c| {
                let left = Left {
                    unwind: c.unwind.get() && c.shields.get() == 0,
                    self_woken: c.self_woken.get(),
                };
                this.restore(c);
                left
            })
            .unwrap_or(Left {
                unwind: false,
                self_woken: false,
            })
    }

    #[inline]
    fn restore(&self, c: &Context) {
        c.task.set(self.prev);
        c.node.set(self.prev_node);
        c.unwind.set(self.prev_unwind);
        c.shields.set(self.prev_shields);
        c.self_woken.set(self.prev_self_woken);
        c.budget.set(self.prev_budget);
    }
}

impl Drop for TaskGuard {
    #[inline]
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| self.restore(c));
    }
}

/// The innermost boundary's node and the current task.
#[inline]
pub(crate) fn cancel_context() -> (Option<NonNull<Node>>, Option<NonNull<Header>>) {
    CONTEXT
        .try_with(|c| (c.node.get(), c.task.get()))
        .unwrap_or((None, None))
}

/// Notes that the task at `ptr` wakes itself, if it is the task being
/// polled on this thread: the harness then requeues it when the poll
/// returns `Pending`, in the same state change that ends the poll. False
/// (nothing noted) for any other task.
#[inline]
pub(crate) fn defer_self_wake(ptr: NonNull<Header>) -> bool {
    CONTEXT
        .try_with(|c| {
            let own = c.task.get() == Some(ptr);
            if own {
                c.self_woken.set(true);
            }
            own
        })
        .unwrap_or(false)
}

/// Raises the unwind flag for the nearest boundary.
#[inline]
pub(crate) fn set_unwind() {
    let _ = CONTEXT.try_with(|c| c.unwind.set(true));
}

/// Takes the unwind flag (`poll_io`).
#[inline]
pub(crate) fn take_unwind() -> bool {
    CONTEXT
        .try_with(|c| c.unwind.replace(false))
        .unwrap_or(false)
}

/// Counts `n` pending shielded blocks under the current boundary.
#[inline]
pub(crate) fn add_shields(n: u32) {
    if n > 0 {
        let _ = CONTEXT.try_with(|c| c.shields.set(c.shields.get().saturating_add(n)));
    }
}

/// Makes `node` the current node until [`NodeGuard::exit`] (or drop, on a
/// panic).
pub(crate) fn enter_node(node: NonNull<Node>) -> NodeGuard {
    CONTEXT.with(|c| NodeGuard {
        prev: c.node.replace(Some(node)),
        prev_unwind: c.unwind.replace(false),
        prev_shields: c.shields.replace(0),
    })
}

/// Restores the previous cancellation context.
pub(crate) struct NodeGuard {
    prev: Option<NonNull<Node>>,
    prev_unwind: bool,
    prev_shields: u32,
}

impl NodeGuard {
    /// Leaves the node; returns whether code under it raised the unwind
    /// flag, and how many shielded blocks under it are pending.
    pub(crate) fn exit(self) -> (bool, u32) {
        CONTEXT.with(|c| (c.unwind.get(), c.shields.get()))
        // `drop` restores the node, the flag and the count.
    }
}

impl Drop for NodeGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| {
            c.node.set(self.prev);
            c.unwind.set(self.prev_unwind);
            c.shields.set(self.prev_shields);
        });
    }
}

/// Runs `f` with the given budget, restoring the previous one afterwards.
pub(crate) fn with_budget<R>(budget: u16, f: impl FnOnce() -> R) -> R {
    struct Restore(u16);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = CONTEXT.try_with(|c| c.budget.set(self.0));
        }
    }
    let _restore = Restore(CONTEXT.with(|c| c.budget.replace(budget)));
    f()
}

/// What a leaf future may do, from one look at the thread's context.
pub(crate) enum Proceed {
    Yes,
    /// The code is cancelled: the unwind flag was raised.
    Cancelled(crate::task::CancelReason),
    /// The budget is spent.
    Exhausted,
}

/// Checks cancellation and spends one unit of budget, with one
/// thread-local access (the hot path of every leaf future). On
/// `Cancelled`, raises the unwind flag if `unwind` is true.
#[inline]
pub(crate) fn proceed(unwind: bool) -> Proceed {
    CONTEXT
        .try_with(|c| {
            let reason = match c.node.get() {
                // SAFETY: the boundary that installed the node holds it.
                Some(node) => unsafe { node.as_ref() }.reason(),
                None => match c.task.get() {
                    Some(task) => {
                        // SAFETY: the current task is alive while it is polled.
                        let header = unsafe { task.as_ref() };
                        header.cancel.get().and_then(|n| n.reason())
                    }
                    None => None,
                },
            };
            if let Some(reason) = reason {
                if unwind {
                    c.unwind.set(true);
                }
                return Proceed::Cancelled(reason);
            }
            let b = c.budget.get();
            if b == UNCONSTRAINED {
                Proceed::Yes
            } else if b == 0 {
                Proceed::Exhausted
            } else {
                c.budget.set(b - 1);
                Proceed::Yes
            }
        })
        .unwrap_or(Proceed::Yes)
}

/// Runs `f` with a view of the task being polled on this thread.
pub(crate) fn with_current_task<R>(f: impl FnOnce(TaskRef<'_>) -> R) -> Option<R> {
    CONTEXT
        .try_with(|c| c.task.get().map(|p| f(TaskRef::new(p))))
        .ok()
        .flatten()
}

#[inline]
pub(crate) fn current_task_ptr() -> Option<NonNull<Header>> {
    CONTEXT.try_with(|c| c.task.get()).ok().flatten()
}

/// The task being polled on this thread, if its runtime keeps wait-points.
#[inline]
pub(crate) fn current_task_for_wait() -> Option<NonNull<Header>> {
    CONTEXT
        .try_with(|c| c.track_waits.get().then(|| c.task.get()).flatten())
        .ok()
        .flatten()
}

pub(crate) fn current_task_id() -> Option<Id> {
    with_current_task(|t| t.id())
}

/// The current task's id and its runtime's tag (`Registry::tag`).
#[inline]
pub(crate) fn current_task_id_and_tag() -> Option<(Id, u16)> {
    CONTEXT
        .try_with(|c| {
            c.task
                .get()
                .map(|p| (TaskRef::new(p).id(), c.runtime_tag.get()))
        })
        .ok()
        .flatten()
}

/// True unless the current budget is exhausted.
pub(crate) fn with_budget_peek() -> bool {
    CONTEXT.try_with(|c| c.budget.get() != 0).unwrap_or(true)
}

/// True while a task is being polled on this thread.
pub fn is_task_thread() -> bool {
    current_task_ptr().is_some()
}

/// Runs `f` as plain synchronous code: no current task and no budget, as on
/// a thread of its own (used to run `spawn_blocking` closures, which may
/// build and block on runtimes of their own).
pub(crate) fn outside_task<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<NonNull<Header>>, u16, Option<NonNull<Node>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = CONTEXT.try_with(|c| {
                c.task.set(self.0);
                c.budget.set(self.1);
                c.node.set(self.2);
            });
        }
    }
    let _restore = CONTEXT.with(|c| {
        Restore(
            c.task.replace(None),
            c.budget.replace(UNCONSTRAINED),
            c.node.replace(None),
        )
    });
    f()
}
