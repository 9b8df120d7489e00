//! `timers_unpolled`: the cost of creating and dropping a sleep that is
//! never polled (the common case of a timeout that was not needed).
//!
//! The root future spawns one task and awaits it. Inside the task,
//! 1,000,000 × scale times: create a 1-hour sleep (`brisk::time::sleep`,
//! `tokio::time::sleep`, `async_io::Timer::after` for smol), pass a
//! reference to it through `std::hint::black_box` so it is really built,
//! and drop it. Timed: the loop inside the task. Result: elapsed ns /
//! sleeps.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use crate::scenarios::timers_poll::HOUR;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Sleeps at scale 1.0.
pub(crate) const TIMERS: usize = 1_000_000;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "timers_unpolled",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: None,
};

/// The root future's work: one task creating and dropping `timers` sleeps.
struct TimersUnpolled {
    /// Number of sleeps.
    timers: usize,
}

impl Work for TimersUnpolled {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let timers = self.timers;
        let task = sp.spawn(async move {
            let start = Instant::now();
            for _ in 0..timers {
                let sleep = sp.sleep(HOUR);
                black_box(&sleep);
                drop(sleep);
            }
            start.elapsed()
        });
        task.await
    }
}

/// Runs the scenario once on `rt` and returns ns per sleep.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let timers = scaled(TIMERS, scale);
    let elapsed = rt.block_on(TimersUnpolled { timers });
    rt.shutdown();
    ns_per_op(elapsed, timers)
}
