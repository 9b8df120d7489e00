//! Local queues: where `!Send` tasks of one thread wait to run.
//!
//! Every thread that runs a scheduler loop (a multi-thread worker, or the
//! thread inside `block_on`) owns one `LocalQueue`. `spawn_local` gives the
//! new task this queue as its scheduler, so every wake of the task, from any
//! thread, lands here, and only the owner thread pops and runs it: that is
//! what makes `!Send` futures sound without a `LocalSet`.

use super::shared::Shared;
use crate::loom::{AtomicBool, AtomicUsize, Mutex, Ordering};
use crate::park::{thread_mark, Parker};
use brisk_core::runtime::{Schedule, ScheduleRef};
use brisk_core::task::{JoinError, Notified, Registry, TaskRef};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

thread_local! {
    /// The local queue of the scheduler loop running on this thread.
    /// With the queue's `ScheduleRef`, made once per queue and cloned into
    /// each local task (kept here, not in the queue, which it points to).
    static CURRENT: RefCell<Option<(Arc<LocalQueue>, ScheduleRef)>> = const { RefCell::new(None) };
}

pub(crate) struct LocalQueue {
    shared: Arc<Shared>,
    /// `thread_mark()` of the owner thread.
    owner: usize,
    queue: Mutex<VecDeque<Notified>>,
    len: AtomicUsize,
    /// Wakes the owner when a task is queued from another thread.
    parker: Arc<Parker>,
    /// Set when the owner stops; later wakes drop their `Notified`.
    closed: AtomicBool,
    /// Set by the first `schedule` (every local task is scheduled at spawn):
    /// `close` scans the registry only if this queue ever had a task.
    used: AtomicBool,
}

impl LocalQueue {
    /// Creates this thread's local queue and makes it current until the guard drops.
    pub(crate) fn install(shared: Arc<Shared>, parker: Arc<Parker>) -> LocalGuard {
        let queue = Arc::new(LocalQueue {
            shared,
            owner: thread_mark(),
            queue: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            parker,
            closed: AtomicBool::new(false),
            used: AtomicBool::new(false),
        });
        let sched = ScheduleRef::new(queue.clone());
        let prev = CURRENT.with(|c| c.replace(Some((queue.clone(), sched))));
        LocalGuard { queue, prev }
    }

    /// The current thread's local queue, if it belongs to `shared`'s runtime.
    pub(crate) fn current_for(shared: &Arc<Shared>) -> Option<ScheduleRef> {
        CURRENT.with(|c| {
            c.borrow()
                .as_ref()
                .filter(|(q, _)| Arc::ptr_eq(&q.shared, shared))
                .map(|(_, r)| r.clone())
        })
    }

    pub(crate) fn pop(&self) -> Option<Notified> {
        if self.len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let task = self.queue.lock().unwrap().pop_front();
        if task.is_some() {
            self.len.fetch_sub(1, Ordering::Release);
        }
        task
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// Stops the queue and cancels every task it owns, on the owner thread.
    fn close(&self, me: &Arc<LocalQueue>) {
        // `closed` is set under the queue lock, and `schedule` checks it
        // under the same lock, so no task can be queued after the drain
        // (it would keep this queue, and the runtime, alive forever).
        let drained = {
            let mut queue = self.queue.lock().unwrap();
            self.closed.store(true, Ordering::Release);
            self.len.store(0, Ordering::Release);
            std::mem::take(&mut *queue)
        };
        drop(drained);
        if !self.used.load(Ordering::Acquire) {
            return;
        }
        let me_dyn: Arc<dyn Schedule> = me.clone();
        let mut mine = Vec::new();
        self.shared.registry.for_each(|t| {
            if t.is_scheduled_by(&me_dyn) {
                mine.push(t.to_task());
            }
        });
        for task in mine {
            // SAFETY: we are on the owner thread of these local tasks.
            unsafe { task.shutdown_in_place() };
        }
    }
}

// SAFETY: `schedule` only queues; `pop` (and so `Notified::run`) is called
// only by the scheduler loop of the owner thread, which installed the queue;
// `close` runs on the owner thread too. The registry is the runtime's.
unsafe impl Schedule for LocalQueue {
    fn schedule(&self, task: Notified) {
        if !self.used.load(Ordering::Relaxed) {
            self.used.store(true, Ordering::Release);
        }
        {
            let mut queue = self.queue.lock().unwrap();
            if self.closed.load(Ordering::Acquire) {
                drop(queue);
                drop(task);
                return;
            }
            queue.push_back(task);
            self.len.fetch_add(1, Ordering::Release);
        }
        if thread_mark() != self.owner {
            self.parker.unpark();
        }
    }

    fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    fn task_panicked(&self, task: TaskRef<'_>, error: &JoinError) {
        self.shared.task_panicked(task, error);
    }
}

/// Uninstalls the local queue and cancels its remaining tasks.
pub(crate) struct LocalGuard {
    queue: Arc<LocalQueue>,
    prev: Option<(Arc<LocalQueue>, ScheduleRef)>,
}

impl LocalGuard {
    pub(crate) fn queue(&self) -> &Arc<LocalQueue> {
        &self.queue
    }
}

impl Drop for LocalGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
        self.queue.close(&self.queue);
    }
}
