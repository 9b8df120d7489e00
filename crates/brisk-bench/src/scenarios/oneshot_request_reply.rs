//! `oneshot_request_reply`: a request over a channel, answered on a fresh
//! one-shot channel.
//!
//! Each runtime uses its own ecosystem's channels (see `sync_libs`). A
//! server task receives `(u64, one-shot sender)` pairs on a bounded channel
//! of capacity 64 and answers each with the number plus one. A client task
//! makes 200,000 × scale requests one after another: create a one-shot
//! channel, send the request, await the reply. Timed: from spawning the two
//! tasks to the client finishing. Result: elapsed ns / requests.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::runtimes::{Runtime, Spawner, Work};
use crate::sync_libs::SyncLib;
use std::time::{Duration, Instant};

/// Requests at scale 1.0.
pub(crate) const REQUESTS: usize = 200_000;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "oneshot_request_reply",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: Some(super::SYNC_NOTE),
};

/// The root future's work.
struct RequestReply {
    /// Requests the client makes.
    requests: usize,
}

impl Work for RequestReply {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        type Lib<S> = <S as Spawner>::Sync;
        let (tx, mut rx) = Lib::<S>::channel::<(u64, <Lib<S> as SyncLib>::OneTx<u64>)>(64);
        let requests = self.requests;
        let start = Instant::now();
        let server = sp.spawn(async move {
            while let Some((v, reply)) = Lib::<S>::recv(&mut rx).await {
                Lib::<S>::one_send(reply, v + 1);
            }
        });
        let client = sp.spawn(async move {
            for i in 0..requests as u64 {
                let (reply_tx, reply_rx) = Lib::<S>::oneshot();
                assert!(Lib::<S>::send(&tx, (i, reply_tx)).await, "server alive");
                assert_eq!(Lib::<S>::one_recv(reply_rx).await, Some(i + 1));
            }
        });
        client.await;
        let elapsed = start.elapsed();
        server.await;
        elapsed
    }
}

/// Runs the scenario once on `rt` and returns ns per request.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let requests = scaled(REQUESTS, scale);
    let elapsed = rt.block_on(RequestReply { requests });
    rt.shutdown();
    ns_per_op(elapsed, requests)
}
