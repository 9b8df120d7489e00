//! `tcp_echo`: the cost of one echo round trip over loopback TCP.
//!
//! Each runtime uses its own sockets (`brisk::net`, `tokio::net`,
//! `async_io::Async<std::net::TcpStream>` for smol; see `net_libs`), with
//! `TCP_NODELAY`. Before the clock starts, the root future binds a listener
//! on 127.0.0.1, connects 50 clients and accepts them, spawning one echo task
//! per accepted connection (reads 64 bytes with `read_exact`, writes them
//! back with `write_all`, until the client closes). Timed: spawning 50 client
//! tasks that each do 2,000 × scale round trips (`write_all` a 64-byte
//! message, `read_exact` the echo, check it) until all have finished. Server
//! and clients run in the same runtime. Result: elapsed ns / round trips
//! (50 × 2,000 × scale of them).
//!
//! Round trips per second, the usual way to quote an echo benchmark, is
//! `1e9 / ns_per_op`: the result is wall-clock time over the round trips of
//! all 50 connections together, so 5,000 ns/op means 200,000 round trips/s
//! in aggregate (4,000/s per connection).

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::net_libs::NetLib;
use crate::runtimes::{Runtime, Spawner, Work};
use std::time::{Duration, Instant};

/// Concurrent connections.
pub(crate) const CONNECTIONS: usize = 50;
/// Round trips per connection at scale 1.0.
pub(crate) const ROUND_TRIPS: usize = 2_000;
/// Bytes per message.
pub(crate) const MESSAGE: usize = 64;

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "tcp_echo",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: Some(super::NET_NOTE),
};

/// The root future's work.
struct TcpEcho {
    /// Round trips per connection.
    round_trips: usize,
}

impl Work for TcpEcho {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let round_trips = self.round_trips;
        let (listener, addr) = <S::Net as NetLib>::bind().await;
        let mut clients = Vec::with_capacity(CONNECTIONS);
        let mut servers = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let client = sp.spawn(<S::Net as NetLib>::connect(addr));
            let mut conn = <S::Net as NetLib>::accept(&listener).await;
            clients.push(client.await);
            servers.push(sp.spawn(async move {
                let mut buf = [0u8; MESSAGE];
                while <S::Net as NetLib>::read_exact(&mut conn, &mut buf).await {
                    <S::Net as NetLib>::write_all(&mut conn, &buf).await;
                }
            }));
        }

        let start = Instant::now();
        let tasks: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(c, mut conn)| {
                sp.spawn(async move {
                    let mut msg = [c as u8; MESSAGE];
                    let mut echo = [0u8; MESSAGE];
                    for i in 0..round_trips {
                        msg[0] = i as u8;
                        <S::Net as NetLib>::write_all(&mut conn, &msg).await;
                        assert!(
                            <S::Net as NetLib>::read_exact(&mut conn, &mut echo).await,
                            "server closed early"
                        );
                        assert_eq!(echo, msg);
                    }
                    // Dropping `conn` closes it: the echo task sees the end.
                })
            })
            .collect();
        for t in tasks {
            t.await;
        }
        let elapsed = start.elapsed();
        for s in servers {
            s.await;
        }
        elapsed
    }
}

/// Runs the scenario once on `rt` and returns ns per round trip.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let round_trips = scaled(ROUND_TRIPS, scale);
    let elapsed = rt.block_on_io(TcpEcho { round_trips });
    rt.shutdown();
    ns_per_op(elapsed, CONNECTIONS * round_trips)
}
