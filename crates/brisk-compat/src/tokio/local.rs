//! `!Send` tasks on tokio: a queue per `RunUntil` future, drained inside
//! its poll on the thread that polls it.

use super::sched::TaskSchedule;
use brisk_core::runtime::{Schedule, ScheduleRef};
use brisk_core::task::{JoinError, Notified, Registry, TaskRef};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::thread::ThreadId;

thread_local! {
    /// The local queue of the `RunUntil` being polled on this thread.
    /// With the queue's `ScheduleRef`, which `spawn_local` clones.
    static CURRENT: RefCell<Option<(Arc<LocalQueue>, ScheduleRef)>> = const { RefCell::new(None) };
}

struct State {
    queue: VecDeque<Notified>,
    /// The waker of the `RunUntil` future that drains this queue.
    waker: Option<Waker>,
    closed: bool,
}

pub(crate) struct LocalQueue {
    sched: Arc<TaskSchedule>,
    owner: ThreadId,
    state: Mutex<State>,
    /// Set by the first `schedule` (every local task is scheduled at spawn).
    used: AtomicBool,
}

impl LocalQueue {
    pub(crate) fn new(sched: Arc<TaskSchedule>, owner: ThreadId) -> Arc<LocalQueue> {
        Arc::new(LocalQueue {
            sched,
            owner,
            state: Mutex::new(State {
                queue: VecDeque::new(),
                waker: None,
                closed: false,
            }),
            used: AtomicBool::new(false),
        })
    }

    pub(crate) fn owner(&self) -> ThreadId {
        self.owner
    }

    /// True once a task was queued here.
    pub(crate) fn used(&self) -> bool {
        self.used.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers the waker of the future that drains the queue.
    pub(crate) fn register(&self, waker: &Waker) {
        let mut st = self.lock();
        if !st.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            st.waker = Some(waker.clone());
        }
    }

    /// Runs up to `max` queued tasks; returns how many ran. Called on the
    /// owner thread only.
    pub(crate) fn run_batch(&self, max: usize) -> usize {
        debug_assert_eq!(std::thread::current().id(), self.owner);
        let mut ran = 0;
        while ran < max {
            let Some(task) = self.lock().queue.pop_front() else {
                break;
            };
            task.run();
            ran += 1;
        }
        ran
    }

    /// Stops the queue and cancels its tasks: in place on the owner thread,
    /// through abort (which drops their futures when they are next
    /// scheduled, here: never) elsewhere.
    pub(crate) fn close(self: &Arc<Self>, me: ThreadId) {
        let drained = {
            let mut st = self.lock();
            st.closed = true;
            st.waker = None;
            std::mem::take(&mut st.queue)
        };
        drop(drained);
        if !self.used() {
            return;
        }
        let me_dyn: Arc<dyn Schedule> = self.clone();
        let mut mine = Vec::new();
        self.sched.registry().for_each(|t| {
            if t.is_scheduled_by(&me_dyn) {
                mine.push(t.to_task());
            }
        });
        for task in mine {
            if me == self.owner {
                // SAFETY: we are on the owner thread of these local tasks.
                unsafe { task.shutdown_in_place() };
            } else {
                task.abort();
            }
        }
    }
}

// SAFETY: `schedule` only queues; `run_batch` (and so `Notified::run`) is
// called only by `RunUntil::poll` on the owner thread (it checks the thread
// before draining and panics if it moved); `close` runs tasks' cancellation
// in place only on the owner thread. The registry is the backend's.
unsafe impl Schedule for LocalQueue {
    fn schedule(&self, task: Notified) {
        if !self.used.load(Ordering::Relaxed) {
            self.used.store(true, Ordering::Release);
        }
        let waker = {
            let mut st = self.lock();
            if st.closed {
                drop(st);
                drop(task);
                return;
            }
            st.queue.push_back(task);
            st.waker.clone()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn registry(&self) -> &Registry {
        self.sched.registry()
    }

    fn task_panicked(&self, task: TaskRef<'_>, error: &JoinError) {
        self.sched.task_panicked(task, error);
    }
}

/// Makes `queue` this thread's local queue until the guard drops.
pub(crate) fn install(queue: &Arc<LocalQueue>, sched: ScheduleRef) -> Installed {
    let prev = CURRENT.with(|c| c.replace(Some((queue.clone(), sched))));
    Installed { prev }
}

/// Restores the previous local queue.
pub(crate) struct Installed {
    prev: Option<(Arc<LocalQueue>, ScheduleRef)>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
    }
}

/// This thread's local queue, if a `RunUntil` of `sched`'s backend is being
/// polled here.
pub(crate) fn current_for(sched: &Arc<TaskSchedule>) -> Option<ScheduleRef> {
    CURRENT
        .try_with(|c| {
            c.borrow()
                .as_ref()
                .filter(|(q, _)| Arc::ptr_eq(&q.sched, sched))
                .map(|(_, r)| r.clone())
        })
        .ok()
        .flatten()
}
