//! State shared by all threads of one runtime, and the scheduler entry points.

use super::current_thread::CtState;
use super::multi_thread::MtState;
use super::{Config, PanicPolicy};
use crate::blocking::BlockingPool;
use crate::loom::{AtomicBool, AtomicU64, Mutex, Ordering};
use crate::park::Parker;
use crate::queue::Inject;
use crate::time::driver::Driver;
use brisk_core::runtime::Schedule;
use brisk_core::task::{JoinError, Notified, Registry, TaskRef};
use std::sync::Arc;

pub(crate) enum Flavor {
    CurrentThread(CtState),
    MultiThread(MtState),
}

/// Counters for `RuntimeMetrics`; relaxed, approximate under races.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) polls: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) parks: AtomicU64,
    pub(crate) remote_schedules: AtomicU64,
    /// Times a `block_on` thread started / finished a turn (polling its
    /// future and its local tasks); different while one is in a turn.
    pub(crate) block_on_turns_started: AtomicU64,
    pub(crate) block_on_turns_finished: AtomicU64,
}

impl Counters {
    /// A `block_on` thread starts a turn (its future or local tasks run).
    #[inline]
    pub(crate) fn block_on_turn<R>(&self, f: impl FnOnce() -> R) -> R {
        self.block_on_turns_started.fetch_add(1, Ordering::SeqCst);
        struct Done<'a>(&'a AtomicU64);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let _done = Done(&self.block_on_turns_finished);
        f()
    }

    /// True while some `block_on` thread is in a turn.
    pub(crate) fn block_on_busy(&self) -> bool {
        let finished = self.block_on_turns_finished.load(Ordering::SeqCst);
        self.block_on_turns_started.load(Ordering::SeqCst) != finished
    }

    /// Every turn of every `block_on` thread so far.
    pub(crate) fn block_on_turns(&self) -> u64 {
        self.block_on_turns_started.load(Ordering::SeqCst)
    }
}

pub(crate) struct Shared {
    pub(crate) registry: Registry,
    /// Tasks scheduled from outside the runtime's threads.
    pub(crate) inject: Inject<Notified>,
    pub(crate) time: Arc<Driver>,
    /// The reactor.
    pub(crate) io: Arc<crate::io::IoDriver>,
    pub(crate) blocking: Arc<BlockingPool>,
    pub(crate) config: Config,
    pub(crate) flavor: Flavor,
    /// Set when shutdown begins.
    pub(crate) shutting_down: AtomicBool,
    /// Why the panic policy stopped the runtime (the first panic's message).
    pub(crate) panic_stop: Mutex<Option<String>>,
    pub(crate) panic_stopped: AtomicBool,
    /// Parkers of threads inside `block_on`, woken on a policy stop.
    pub(crate) block_on_parkers: Mutex<Vec<Arc<Parker>>>,
    pub(crate) counters: Counters,
    /// A deadlock report that `block_on` must panic with (multi-thread,
    /// with `panic_on_deadlock`); see `set_deadlock_panic`.
    pub(crate) deadlock_panic: Mutex<Option<String>>,
    /// True while `deadlock_panic` holds a report, so that `block_on`'s
    /// turns read one atomic instead of taking the lock.
    pub(crate) deadlock_pending: AtomicBool,
}

impl Shared {
    /// Hands a deadlock report to the `block_on` threads, which panic
    /// with it (see `take_deadlock_panic`).
    pub(crate) fn set_deadlock_panic(&self, report: String) {
        let mut slot = self.deadlock_panic.lock().unwrap();
        *slot = Some(report);
        // Under the lock, so that a concurrent take cannot clear it after
        // this report arrived.
        self.deadlock_pending.store(true, Ordering::Release);
    }

    /// The deadlock report to panic with, if any: one atomic load per
    /// `block_on` turn when there is none.
    #[inline]
    pub(crate) fn take_deadlock_panic(&self) -> Option<String> {
        if !self.deadlock_pending.load(Ordering::Acquire) {
            return None;
        }
        let mut slot = self.deadlock_panic.lock().unwrap();
        self.deadlock_pending.store(false, Ordering::Relaxed);
        slot.take()
    }

    /// Queues a task from a thread that is not one of this runtime's
    /// scheduler threads (or has no core right now).
    pub(crate) fn schedule_remote(&self, task: Notified) {
        self.counters
            .remote_schedules
            .fetch_add(1, Ordering::Relaxed);
        if let Err(task) = self.inject.push(task) {
            // Closed at shutdown: the registry cancels the task.
            drop(task);
            return;
        }
        match &self.flavor {
            Flavor::CurrentThread(ct) => ct.unpark(),
            Flavor::MultiThread(mt) => mt.notify_parked(),
        }
    }

    pub(crate) fn unpark_block_on_threads(&self) {
        for p in self.block_on_parkers.lock().unwrap().iter() {
            p.unpark();
        }
    }

    /// The panic policy stopped the runtime: the message for `block_on`.
    pub(crate) fn panic_stop_message(&self) -> Option<String> {
        if !self.panic_stopped.load(Ordering::Acquire) {
            return None;
        }
        self.panic_stop.lock().unwrap().clone()
    }
}

// SAFETY: `Send` tasks may run on any thread of the runtime; local tasks use
// `LocalQueue` instead of this scheduler. Each `Notified` is queued once and
// run at most once by the flavour's loop. The registry lives in `self`.
unsafe impl Schedule for Shared {
    #[inline]
    fn schedule(&self, task: Notified) {
        match &self.flavor {
            Flavor::CurrentThread(ct) => ct.schedule(self, task, false),
            Flavor::MultiThread(mt) => mt.schedule(self, task, false),
        }
    }

    fn yield_now(&self, task: Notified) {
        match &self.flavor {
            Flavor::CurrentThread(ct) => ct.schedule(self, task, true),
            Flavor::MultiThread(mt) => mt.schedule(self, task, true),
        }
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn task_panicked(&self, task: TaskRef<'_>, error: &JoinError) {
        if self.config.panic_policy != PanicPolicy::ShutdownRuntime {
            return;
        }
        let mut stop = self.panic_stop.lock().unwrap();
        if stop.is_none() {
            let _ = task;
            *stop = Some(error.to_string());
            self.panic_stopped.store(true, Ordering::Release);
        }
        drop(stop);
        self.unpark_block_on_threads();
        if let Flavor::CurrentThread(ct) = &self.flavor {
            ct.unpark();
        }
    }
}

/// Schedules `spawn_blocking` tasks onto the blocking pool.
pub(crate) struct BlockingSchedule {
    pub(crate) shared: Arc<Shared>,
}

// SAFETY: blocking tasks are `Send`; each `Notified` becomes one pool job that
// runs it once, or is dropped (releasing only a reference) if the pool refuses.
unsafe impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified) {
        if let Err(err) = self.shared.blocking.spawn(Box::new(BlockingJob(task))) {
            // The pool is shut down or cannot start any thread: the job comes
            // back unrun, and `refused` completes its task as cancelled
            // rather than leaving the `JoinHandle` waiting forever.
            err.into_job().refused();
        }
    }

    fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    fn task_panicked(&self, task: TaskRef<'_>, error: &JoinError) {
        self.shared.task_panicked(task, error);
    }
}

/// A blocking task as pool work.
struct BlockingJob(Notified);

impl crate::blocking::Work for BlockingJob {
    fn run(self: Box<Self>) {
        self.0.run();
    }

    fn refused(self: Box<Self>) {
        self.0.cancel();
    }
}
