//! `ping_pong`: the cost of a round trip between two tasks.
//!
//! Two channels, `async_channel::bounded(1)` each, are created before the
//! clock starts; **every runtime uses this same channel** (Brisk has no
//! channels of its own yet), so the channel's own cost is identical for all
//! and the difference is in waking and scheduling. The root future spawns an
//! echo task (receives on the first channel, sends the value back on the
//! second, until the first is closed) and a ping task (1,000,000 × scale
//! times: send on the first, receive the reply on the second), then awaits
//! both. Timed: from spawning the two tasks to both having finished.
//! Result: elapsed ns / round trips.

use crate::harness::{ns_per_op, scaled, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use crate::scenarios::CHANNEL_NOTE;
use std::time::{Duration, Instant};

/// Round trips at scale 1.0.
pub(crate) const ROUND_TRIPS: usize = 1_000_000;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "ping_pong",
    unit: Unit::NsPerOp,
    run,
    note: Some(CHANNEL_NOTE),
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
        let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
        let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
        let start = Instant::now();
        let echo = sp.spawn(async move {
            while let Ok(v) = ping_rx.recv().await {
                if pong_tx.send(v).await.is_err() {
                    break;
                }
            }
        });
        let ping = sp.spawn(async move {
            for i in 0..round_trips {
                ping_tx.send(i).await.expect("echo task alive");
                let back = pong_rx.recv().await.expect("echo task alive");
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
