//! `ping_pong`: the cost of a round trip between two tasks.
//!
//! Two bounded channels of capacity 1 are created before the clock starts;
//! each runtime uses its own ecosystem's channel (`brisk::sync::mpsc`,
//! `tokio::sync::mpsc`, `async_channel`; see `sync_libs`), so the result is
//! the channel's cost plus waking and scheduling. The root future spawns an
//! echo task (receives on the first channel, sends the value back on the
//! second, until the first is closed) and a ping task (1,000,000 × scale
//! times: send on the first, receive the reply on the second), then awaits
//! both. Timed: from spawning the two tasks to both having finished.
//! Result: elapsed ns / round trips.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use crate::sync_libs::SyncLib;
use std::time::{Duration, Instant};

/// Round trips at scale 1.0.
pub(crate) const ROUND_TRIPS: usize = 1_000_000;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "ping_pong",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: Some(super::SYNC_NOTE),
};

/// The root future's work: `round_trips` round trips between two tasks.
struct PingPong {
    /// Number of round trips.
    round_trips: usize,
}

impl Work for PingPong {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let round_trips = self.round_trips;
        let (ping_tx, mut ping_rx) = <S::Sync as SyncLib>::channel::<usize>(1);
        let (pong_tx, mut pong_rx) = <S::Sync as SyncLib>::channel::<usize>(1);
        let start = Instant::now();
        let echo = sp.spawn(async move {
            while let Some(v) = <S::Sync as SyncLib>::recv(&mut ping_rx).await {
                if !<S::Sync as SyncLib>::send(&pong_tx, v).await {
                    break;
                }
            }
        });
        let ping = sp.spawn(async move {
            for i in 0..round_trips {
                assert!(
                    <S::Sync as SyncLib>::send(&ping_tx, i).await,
                    "echo task alive"
                );
                let back = <S::Sync as SyncLib>::recv(&mut pong_rx)
                    .await
                    .expect("echo task alive");
                assert_eq!(back, i);
            }
        });
        ping.await;
        echo.await;
        start.elapsed()
    }
}

/// Runs the scenario once on `rt` and returns ns per round trip.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let round_trips = scaled(ROUND_TRIPS, scale);
    let elapsed = rt.block_on(PingPong { round_trips });
    rt.shutdown();
    ns_per_op(elapsed, round_trips)
}
