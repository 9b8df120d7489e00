//! `yield_many`: the cost of one `yield_now` when many tasks are runnable.
//!
//! The root future spawns 1,000 × scale tasks; each task calls the runtime's
//! own `yield_now` 1,000 times (`brisk::task::yield_now`,
//! `tokio::task::yield_now`, `futures_lite::future::yield_now` for smol).
//! The root future then awaits every handle. Timed: from the first spawn to
//! the last handle's completion, so spawning and joining the 1,000 tasks is
//! included (about 0.1% of the operations). Result: elapsed ns / total
//! number of yields.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use std::time::{Duration, Instant};

/// Tasks at scale 1.0.
pub(crate) const TASKS: usize = 1_000;

/// Yields per task (not scaled).
pub(crate) const YIELDS: usize = 1_000;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "yield_many",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: None,
};

/// The root future's work: `tasks` tasks yielding `yields` times each.
struct YieldMany {
    /// Number of tasks.
    tasks: usize,
    /// Yields per task.
    yields: usize,
}

impl Work for YieldMany {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let yields = self.yields;
        let mut handles = Vec::with_capacity(self.tasks);
        let start = Instant::now();
        for _ in 0..self.tasks {
            handles.push(sp.spawn(async move {
                for _ in 0..yields {
                    sp.yield_now().await;
                }
            }));
        }
        for handle in handles.drain(..) {
            handle.await;
        }
        start.elapsed()
    }
}

/// Runs the scenario once on `rt` and returns ns per yield.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let tasks = scaled(TASKS, scale);
    let elapsed = rt.block_on(YieldMany {
        tasks,
        yields: YIELDS,
    });
    rt.shutdown();
    ns_per_op(elapsed, tasks * YIELDS)
}
