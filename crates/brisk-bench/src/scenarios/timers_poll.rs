//! `timers_poll`: the cost of arming and cancelling a timer.
//!
//! The root future spawns one task and awaits it. Inside the task,
//! 1,000,000 × scale times: create a 1-hour sleep (`brisk::time::sleep`,
//! `tokio::time::sleep`, `async_io::Timer::after` for smol), pin it on the
//! stack, poll it exactly once through `std::future::poll_fn` (so the waker
//! is the runtime's real task waker and the timer really registers with the
//! runtime's timer driver / async-io's reactor), and drop it (cancelling the
//! registration). Timed: the loop inside the task. Result: elapsed ns /
//! timers.
//!
//! The loop runs inside each runtime's opt-out of the cooperative budget
//! (`brisk::coop::unconstrained`, `tokio::task::unconstrained`; smol has no
//! budget). Without it Brisk's and tokio's sleeps would, after the first
//! 128 polls in one task poll, return `Pending` without registering
//! anything, and the benchmark would measure the budget check instead of
//! the timer. Every poll is checked to return `Pending`.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Timers at scale 1.0.
pub(crate) const TIMERS: usize = 1_000_000;

/// How far in the future every timer is.
pub(crate) const HOUR: Duration = Duration::from_secs(3600);

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "timers_poll",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: None,
};

/// The root future's work: one task arming and dropping `timers` timers.
struct TimersPoll {
    /// Number of timers.
    timers: usize,
}

impl Work for TimersPoll {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let timers = self.timers;
        let task = sp.spawn(sp.unconstrained(async move {
            let mut ready = 0usize;
            let start = Instant::now();
            for _ in 0..timers {
                let mut sleep = pin!(sp.sleep(HOUR));
                poll_fn(|cx| {
                    if sleep.as_mut().poll(cx).is_ready() {
                        ready += 1;
                    }
                    Poll::Ready(())
                })
                .await;
            }
            let elapsed = start.elapsed();
            assert_eq!(ready, 0, "a 1-hour sleep completed at once");
            elapsed
        }));
        task.await
    }
}

/// Runs the scenario once on `rt` and returns ns per timer.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let timers = scaled(TIMERS, scale);
    let elapsed = rt.block_on(TimersPoll { timers });
    rt.shutdown();
    ns_per_op(elapsed, timers)
}
