//! Scheduling Brisk tasks on tokio.
//!
//! A woken Brisk task becomes one tokio task that enters the Brisk context
//! and polls it once: tokio's work-stealing scheduler then balances Brisk
//! tasks like its own, and a Brisk task never holds a tokio worker between
//! polls. The alternative, a Brisk queue drained by a few long-lived tokio
//! tasks, saves tokio's per-spawn allocation but needs its own idle and
//! wake-up protocol beside tokio's, and starves or over-polls when the
//! queue's drainers and tokio's other tasks compete; one tokio task per run
//! keeps tokio in charge of fairness.

use super::TokioBackend;
use brisk_core::context;
use brisk_core::runtime::{Handle, Schedule};
use brisk_core::task::{Notified, Registry};
use std::sync::{Arc, Weak};

/// The scheduler of `Send` tasks.
pub(crate) struct TaskSchedule {
    tokio: ::tokio::runtime::Handle,
    backend: Weak<TokioBackend>,
    registry: Arc<Registry>,
}

impl TaskSchedule {
    pub(super) fn new(
        tokio: ::tokio::runtime::Handle,
        backend: Weak<TokioBackend>,
        registry: Arc<Registry>,
    ) -> TaskSchedule {
        TaskSchedule {
            tokio,
            backend,
            registry,
        }
    }

    /// The Brisk handle of the backend, or `None` once it is gone (its
    /// tasks were cancelled then; what is left are references).
    pub(super) fn handle(&self) -> Option<Handle> {
        let backend: Arc<dyn brisk_core::runtime::Backend> = self.backend.upgrade()?;
        Some(Handle::new(backend))
    }
}

/// Polls `task` once with `handle` current.
fn run(handle: Handle, task: Notified) {
    let _ctx = context::enter(handle);
    task.run();
}

// SAFETY: each `Notified` moves into exactly one tokio task (or is dropped
// when the backend or the tokio runtime is gone), which runs it once. This
// scheduler is only given to `Send` tasks (`local_scheduler` hands out
// `LocalQueue`s), so any tokio worker may run them. The registry is shared
// by every scheduler of the backend and lives as long as this one.
unsafe impl Schedule for TaskSchedule {
    fn schedule(&self, task: Notified) {
        let Some(handle) = self.handle() else {
            return;
        };
        // After tokio shut down, `spawn` drops the future (and the
        // `Notified` with it) without running it.
        drop(self.tokio.spawn(async move { run(handle, task) }));
    }

    fn yield_now(&self, task: Notified) {
        let Some(handle) = self.handle() else {
            return;
        };
        // A task spawned from a tokio worker may run next (tokio's LIFO
        // slot); yielding once first puts it behind the other runnable tasks.
        drop(self.tokio.spawn(async move {
            ::tokio::task::yield_now().await;
            run(handle, task)
        }));
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }
}

/// The scheduler of `spawn_blocking` tasks: tokio's blocking pool.
pub(crate) struct BlockingSchedule {
    tokio: ::tokio::runtime::Handle,
    backend: Weak<TokioBackend>,
    registry: Arc<Registry>,
}

impl BlockingSchedule {
    pub(super) fn new(
        tokio: ::tokio::runtime::Handle,
        backend: Weak<TokioBackend>,
        registry: Arc<Registry>,
    ) -> BlockingSchedule {
        BlockingSchedule {
            tokio,
            backend,
            registry,
        }
    }
}

// SAFETY: as for `TaskSchedule`; a blocking task is `Send` and is run once,
// on a thread of tokio's blocking pool.
unsafe impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified) {
        let Some(backend) = self.backend.upgrade() else {
            return;
        };
        let handle = Handle::new(backend);
        drop(self.tokio.spawn_blocking(move || run(handle, task)));
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }
}
