//! `mutex_contended`: six tasks hammer one mutex.
//!
//! Each runtime uses its own ecosystem's async mutex (see `sync_libs`). Six
//! spawned tasks each lock a shared `Mutex<u64>`, add one and unlock,
//! 100,000 × scale times. On the multi-thread runtimes they contend across
//! workers. Timed: from spawning the tasks to the last one finishing.
//! Result: elapsed ns / total lock-unlock pairs.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use crate::sync_libs::SyncLib;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tasks contending.
pub(crate) const TASKS: usize = 6;
/// Lock-unlock pairs per task at scale 1.0.
pub(crate) const PER_TASK: usize = 100_000;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "mutex_contended",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: Some(super::SYNC_NOTE),
};

/// The root future's work.
struct MutexContended {
    /// Lock-unlock pairs per task.
    per_task: usize,
}

impl Work for MutexContended {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let m = Arc::new(<S::Sync as SyncLib>::mutex(0u64));
        let per = self.per_task;
        let start = Instant::now();
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                let m = m.clone();
                sp.spawn(async move {
                    for _ in 0..per {
                        <S::Sync as SyncLib>::increment(&m).await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        let elapsed = start.elapsed();
        assert_eq!(<S::Sync as SyncLib>::read(&m).await, (TASKS * per) as u64);
        elapsed
    }
}

/// Runs the scenario once on `rt` and returns ns per lock-unlock pair.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let per_task = scaled(PER_TASK, scale);
    let elapsed = rt.block_on(MutexContended { per_task });
    rt.shutdown();
    ns_per_op(elapsed, per_task * TASKS)
}
