//! Run queues of the work-stealing scheduler.
//!
//! Every worker owns one bounded [`Local`] queue and hands out [`Steal`]
//! handles to it; all workers share one unbounded [`Inject`] queue.
//!
//! * A worker pushes the tasks it wakes onto its own [`Local`] queue and pops
//!   them from the front (FIFO). When the local queue is full, half of it
//!   moves to the [`Inject`] queue in one batch
//!   ([`Local::push_back_or_overflow`]).
//! * An idle worker takes about half of another worker's queue with
//!   [`Steal::steal_into`], or a batch of the [`Inject`] queue with
//!   [`Inject::pop_batch_into`].
//! * Tasks spawned from outside the runtime go to the [`Inject`] queue.
//! * Next to its queue, every worker has a one-task [`Lifo`] slot for the
//!   task that the running task woke last: it runs next, ahead of the queue.
//!   Other workers take it with [`LifoSteal::steal`], like the queue.
//!
//! The local queue is lock-free (one compare-and-swap per pop or steal); the
//! inject queue takes a lock for every change, but [`Inject::is_empty`] and
//! [`Inject::len`] are plain atomic loads, so idle workers can poll it
//! cheaply.
//!
//! Concurrency primitives come from [`crate::loom`], so under `--cfg loom`
//! the `loom_tests` models in each file check these queues (and the slot) exhaustively
//! (with a local capacity of 4 instead of 256 so that overflow is reached).

mod inject;
mod lifo;
mod local;

pub(crate) use inject::Inject;
pub(crate) use lifo::{lifo, Lifo, LifoSteal};
#[cfg(test)]
pub(crate) use local::LOCAL_QUEUE_CAPACITY;
pub(crate) use local::{local, Local, Steal};

/// Helpers shared by the loom models.
#[cfg(all(test, loom))]
mod loom_model {
    /// Runs `f` under loom, exploring interleavings with at most
    /// `preemption_bound` preemptions (`None`: loom's default, or
    /// `LOOM_MAX_PREEMPTIONS`), and prints how many executions it took.
    pub(super) fn check<F>(name: &str, preemption_bound: Option<usize>, f: F)
    where
        F: Fn() + Sync + Send + 'static,
    {
        // Counts executions from outside the model, so this is deliberately
        // std's atomic, not loom's.
        use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
        use std::sync::Arc;

        let executions = Arc::new(AtomicUsize::new(0));
        let counter = executions.clone();
        let mut builder = loom::model::Builder::new();
        if preemption_bound.is_some() {
            builder.preemption_bound = preemption_bound;
        }
        builder.check(move || {
            counter.fetch_add(1, Relaxed);
            f();
        });
        eprintln!("loom model {name}: {} executions", executions.load(Relaxed));
    }
}
