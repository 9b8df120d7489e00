//! `mutex_uncontended`: lock and unlock a mutex nobody else wants.
//!
//! Each runtime uses its own ecosystem's async mutex (see `sync_libs`). One
//! spawned task locks a `Mutex<u64>`, adds one and unlocks, 1,000,000 ×
//! scale times. Timed: from spawning the task to its completion. Result:
//! elapsed ns / lock-unlock pairs.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use crate::sync_libs::SyncLib;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Lock-unlock pairs at scale 1.0.
pub(crate) const OPS: usize = 1_000_000;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "mutex_uncontended",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: Some(super::SYNC_NOTE),
};

/// The root future's work.
struct MutexUncontended {
    /// Lock-unlock pairs.
    ops: usize,
}

impl Work for MutexUncontended {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let m = Arc::new(<S::Sync as SyncLib>::mutex(0u64));
        let ops = self.ops;
        let start = Instant::now();
        let m2 = m.clone();
        sp.spawn(async move {
            for _ in 0..ops {
                <S::Sync as SyncLib>::increment(&m2).await;
            }
        })
        .await;
        let elapsed = start.elapsed();
        assert_eq!(<S::Sync as SyncLib>::read(&m).await, ops as u64);
        elapsed
    }
}

/// Runs the scenario once on `rt` and returns ns per lock-unlock pair.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let ops = scaled(OPS, scale);
    let elapsed = rt.block_on(MutexUncontended { ops });
    rt.shutdown();
    ns_per_op(elapsed, ops)
}
