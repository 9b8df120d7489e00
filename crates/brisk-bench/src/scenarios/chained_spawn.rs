//! `chained_spawn`: the cost of a spawn made from inside a task.
//!
//! One measurement runs 100 × scale chains, one after the other. A chain is
//! 1,000 tasks: the root future spawns the first, every task spawns the next
//! (detaching it: the handle is dropped, or `Task::detach` for smol) and
//! finishes, and the last task sends `()` on an `async_channel::bounded(1)`
//! (created before the clock starts, the same channel type on every
//! runtime) that the root future awaits before starting the next chain.
//! Timed: all chains. Result: elapsed ns / (chains × 1,000) spawns.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use crate::scenarios::CHANNEL_NOTE;
use async_channel::Sender;
use std::time::{Duration, Instant};

/// Tasks per chain (not scaled).
pub(crate) const CHAIN: usize = 1_000;

/// Chains per measurement at scale 1.0.
pub(crate) const CHAINS: usize = 100;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "chained_spawn",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: Some(CHANNEL_NOTE),
};

/// Spawns (and detaches) a task that spawns the next link while
/// `remaining > 0`, and otherwise signals `done`.
fn link<S: Spawner>(sp: S, remaining: usize, done: Sender<()>) {
    let handle = sp.spawn(async move {
        if remaining == 0 {
            done.send(()).await.expect("root future waits");
        } else {
            link(sp, remaining - 1, done);
        }
    });
    S::detach(handle);
}

/// The root future's work: `chains` chains of [`CHAIN`] spawns.
struct ChainedSpawn {
    /// Number of chains.
    chains: usize,
}

impl Work for ChainedSpawn {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let (done_tx, done_rx) = async_channel::bounded::<()>(1);
        let start = Instant::now();
        for _ in 0..self.chains {
            link(sp, CHAIN - 1, done_tx.clone());
            done_rx.recv().await.expect("chain finishes");
        }
        start.elapsed()
    }
}

/// Runs the scenario once on `rt` and returns ns per spawn.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let chains = scaled(CHAINS, scale);
    let elapsed = rt.block_on(ChainedSpawn { chains });
    rt.shutdown();
    ns_per_op(elapsed, chains * CHAIN)
}
