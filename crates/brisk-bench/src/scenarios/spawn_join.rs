//! `spawn_join`: the cost of spawning a trivial task and joining it.
//!
//! Inside the runtime's `block_on` (on the main thread), the root future
//! spawns 1,000,000 × scale empty tasks (`async {}`), pushing each handle
//! into a `Vec` allocated with full capacity before the clock starts, then
//! awaits every handle in spawn order. Timed: from the first spawn to the
//! last handle's completion. Result: elapsed ns / number of tasks.
//!
//! On the multi-thread runtimes the tasks run on the workers while the main
//! thread is still spawning; on the single-threaded ones they run when the
//! root future first waits on a handle.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use std::time::{Duration, Instant};

/// Tasks at scale 1.0.
pub(crate) const TASKS: usize = 1_000_000;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "spawn_join",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: None,
};

/// The root future's work: spawn `tasks` empty tasks, then join them all.
struct SpawnJoin {
    /// Number of tasks.
    tasks: usize,
}

impl Work for SpawnJoin {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let mut handles = Vec::with_capacity(self.tasks);
        let start = Instant::now();
        for _ in 0..self.tasks {
            handles.push(sp.spawn(async {}));
        }
        for handle in handles.drain(..) {
            handle.await;
        }
        let elapsed = start.elapsed();
        drop(handles);
        elapsed
    }
}

/// Runs the scenario once on `rt` and returns ns per task.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let tasks = scaled(TASKS, scale);
    let elapsed = rt.block_on(SpawnJoin { tasks });
    rt.shutdown();
    ns_per_op(elapsed, tasks)
}
