//! `mpsc`: throughput of a bounded multi-producer channel.
//!
//! Each runtime uses its own ecosystem's channel (see `sync_libs`). The
//! root future creates a bounded channel of capacity 1,024, spawns 4
//! producer tasks that each send 250,000 × scale `u64`s, drops its own
//! sender and receives every message. Timed: from spawning the producers to
//! the channel reporting closed after the last message. Result: elapsed ns /
//! messages.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use crate::sync_libs::SyncLib;
use std::time::{Duration, Instant};

/// Producers.
pub(crate) const PRODUCERS: usize = 4;
/// Messages per producer at scale 1.0.
pub(crate) const PER_PRODUCER: usize = 250_000;
/// Channel capacity.
pub(crate) const CAPACITY: usize = 1024;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "mpsc",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: Some(super::SYNC_NOTE),
};

/// The root future's work.
struct Mpsc {
    /// Messages each producer sends.
    per_producer: usize,
}

impl Work for Mpsc {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let (tx, mut rx) = <S::Sync as SyncLib>::channel::<u64>(CAPACITY);
        let per = self.per_producer;
        let start = Instant::now();
        for p in 0..PRODUCERS {
            let tx = tx.clone();
            S::detach(sp.spawn(async move {
                for i in 0..per {
                    let ok = <S::Sync as SyncLib>::send(&tx, (p * per + i) as u64).await;
                    assert!(ok, "receiver alive");
                }
            }));
        }
        drop(tx);
        let mut received = 0usize;
        while <S::Sync as SyncLib>::recv(&mut rx).await.is_some() {
            received += 1;
        }
        let elapsed = start.elapsed();
        assert_eq!(received, PRODUCERS * per);
        elapsed
    }
}

/// Runs the scenario once on `rt` and returns ns per message.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let per_producer = scaled(PER_PRODUCER, scale);
    let elapsed = rt.block_on(Mpsc { per_producer });
    rt.shutdown();
    ns_per_op(elapsed, per_producer * PRODUCERS)
}
