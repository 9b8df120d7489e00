//! `semaphore`: acquire and release permits under contention.
//!
//! Each runtime uses its own ecosystem's semaphore (see `sync_libs`). Six
//! spawned tasks share a semaphore with 2 permits; each acquires one permit
//! and releases it at once, 100,000 × scale times. Timed: from spawning the
//! tasks to the last one finishing. Result: elapsed ns / total
//! acquire-release pairs.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use crate::sync_libs::SyncLib;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tasks contending.
pub(crate) const TASKS: usize = 6;
/// Permits in the semaphore.
pub(crate) const PERMITS: usize = 2;
/// Acquire-release pairs per task at scale 1.0.
pub(crate) const PER_TASK: usize = 100_000;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "semaphore",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: Some(super::SYNC_NOTE),
};

/// The root future's work.
struct SemaphoreWork {
    /// Acquire-release pairs per task.
    per_task: usize,
}

impl Work for SemaphoreWork {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let sem = Arc::new(<S::Sync as SyncLib>::semaphore(PERMITS));
        let per = self.per_task;
        let start = Instant::now();
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                let sem = sem.clone();
                sp.spawn(async move {
                    for _ in 0..per {
                        <S::Sync as SyncLib>::acquire_release(&sem).await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        start.elapsed()
    }
}

/// Runs the scenario once on `rt` and returns ns per acquire-release pair.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let per_task = scaled(PER_TASK, scale);
    let elapsed = rt.block_on(SemaphoreWork { per_task });
    rt.shutdown();
    ns_per_op(elapsed, per_task * TASKS)
}
