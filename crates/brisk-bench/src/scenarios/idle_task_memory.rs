//! `idle_task_memory`: heap bytes an idle task costs.
//!
//! Uses the binary's counting global allocator ([`crate::alloc`]). Inside
//! the root future, a `Vec` for the handles is allocated with full capacity
//! *before* counting is switched on (so it is not counted), then
//! 100,000 × scale tasks are spawned; each increments a shared
//! `AtomicUsize` and then awaits `std::future::pending::<()>()`. The root
//! future calls the runtime's `yield_now` until the counter shows every task
//! has been polled once. Result: live-heap growth over that window (every
//! thread's allocations, the runtime's own included, e.g. run-queue growth)
//! / tasks.
//!
//! Why the handles are kept rather than detached: `pending()` drops its
//! waker, so a detached idle task is unreachable. smol (async-task) frees
//! such a task as soon as its poll returns `Pending` (the runnable was its
//! last reference), which would measure ~0 B/task, i.e. nothing. Keeping
//! each task's handle keeps every runtime's tasks alive the same way, and
//! a handle is a pointer into the task's existing allocation, so it adds
//! no heap bytes. (Brisk and tokio keep detached tasks alive in their task
//! lists anyway; for them dropping or keeping the handle measures the same.)
//!
//! After the measurement the handles are dropped (Brisk and tokio: the tasks
//! are detached; smol: they are cancelled) and the runtime is shut down,
//! which drops the idle tasks (Brisk and tokio: `shutdown_timeout`; smol: the
//! executor is ticked until its queue is empty, which drops the cancelled
//! futures). If a runtime still holds more than 8 B/task after that, a note
//! is printed on stderr.

use crate::alloc;
use crate::harness::{scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Idle tasks at scale 1.0.
pub(crate) const TASKS: usize = 100_000;

/// Live bytes per task left after shutdown above which a note is printed.
const LEAK_NOTE_THRESHOLD: f64 = 8.0;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "idle_task_memory",
    unit: Unit::BytesPerTask,
    run: Run::Runtime(run),
    note: None,
};

/// The root future's work: spawn `tasks` idle tasks and wait until each has
/// been polled once; returns the live-heap growth in bytes.
struct IdleTasks {
    /// Number of tasks.
    tasks: usize,
}

impl Work for IdleTasks {
    type Output = isize;

    async fn run<S: Spawner>(self, sp: S) -> isize {
        let polled = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::with_capacity(self.tasks);
        let base = alloc::start_counting();
        for _ in 0..self.tasks {
            let polled = Arc::clone(&polled);
            handles.push(sp.spawn(async move {
                polled.fetch_add(1, Ordering::Relaxed);
                std::future::pending::<()>().await;
            }));
        }
        while polled.load(Ordering::Relaxed) < self.tasks {
            sp.yield_now().await;
        }
        let grown = alloc::live_growth() - base;
        drop(handles);
        grown
    }
}

/// Runs the scenario once on `rt` and returns live heap bytes per idle task.
///
/// Allocation counting is process-wide: nothing else should run meanwhile.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let tasks = scaled(TASKS, scale);
    let kind = rt.kind();
    let grown = rt.block_on(IdleTasks { tasks });
    rt.shutdown();
    let left = alloc::live_growth();
    alloc::stop_counting();
    let left_per_task = left as f64 / tasks as f64;
    if left_per_task > LEAK_NOTE_THRESHOLD {
        eprintln!(
            "note: idle_task_memory/{kind}: {left_per_task:.1} B/task still live after the runtime's shutdown"
        );
    }
    grown as f64 / tasks as f64
}
