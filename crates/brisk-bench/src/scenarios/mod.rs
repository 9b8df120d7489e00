//! The scenarios, one module each. Every scenario is generic over
//! [`Spawner`](crate::runtimes::Spawner), so all five runtimes run exactly
//! the same code with their own spawn, yield and timer primitives.
//!
//! | scenario            | unit   | what one operation is                                              |
//! |---------------------|--------|--------------------------------------------------------------------|
//! | [`spawn_join`]      | ns/op  | spawning one empty task and awaiting its handle                    |
//! | [`yield_many`]      | ns/op  | one `yield_now` among 1,000 tasks yielding 1,000 times each       |
//! | [`ping_pong`]       | ns/op  | one round trip between two tasks over two bounded(1) channels      |
//! | [`chained_spawn`]   | ns/op  | one spawn in a chain of 1,000 tasks each spawning the next         |
//! | [`timers_poll`]     | ns/op  | creating a 1-hour sleep, polling it once, dropping it              |
//! | [`timers_unpolled`] | ns/op  | creating a 1-hour sleep and dropping it unpolled                   |
//! | [`idle_task_memory`]| B/task | live heap growth per idle task (spawned, polled once, pending)     |
//! | [`mpsc`]            | ns/op  | one message from 4 producers through a bounded(1024) channel       |
//! | [`mutex_uncontended`]| ns/op | one lock-unlock of a mutex nobody else wants                       |
//! | [`mutex_contended`] | ns/op  | one lock-unlock among 6 tasks sharing a mutex                      |
//! | [`semaphore`]       | ns/op  | one acquire-release among 6 tasks sharing 2 permits                |
//! | [`oneshot_request_reply`]| ns/op | one request over a channel answered on a fresh one-shot channel |
//! | [`tcp_echo`]        | ns/op  | one 64-byte echo round trip among 50 loopback TCP connections      |
//! | [`http_hello`]      | ns/op  | one HTTP/1.1 keep-alive request to a hyper server, 32 connections  |
//!
//! The scenarios from `ping_pong` on through the sync ones pair each runtime
//! with its own ecosystem's channels and locks (`crate::sync_libs`); the
//! network ones (`tcp_echo`, `http_hello`) with its own sockets
//! (`crate::net_libs`). For those, ns/op converts to operations per second
//! as `1e9 / ns_per_op` (aggregate over all connections).
//!
//! Sizes are multiplied by `BRISK_BENCH_SCALE` (each size at least 1).
//! Each module's docs say exactly what is timed.

use crate::harness::Scenario;

pub(crate) mod chained_spawn;
pub(crate) mod http_hello;
pub(crate) mod idle_task_memory;
pub(crate) mod mpsc;
pub(crate) mod mutex_contended;
pub(crate) mod mutex_uncontended;
pub(crate) mod oneshot_request_reply;
pub(crate) mod ping_pong;
pub(crate) mod semaphore;
pub(crate) mod spawn_join;
pub(crate) mod tcp_echo;
pub(crate) mod timers_poll;
pub(crate) mod timers_unpolled;
pub(crate) mod yield_many;

/// Footnote for the scenarios that pair each runtime with its own
/// ecosystem's sync primitives.
pub(crate) const SYNC_NOTE: &str = "Each runtime uses its own ecosystem's primitives: brisk::sync on Brisk, tokio::sync on tokio, async-channel/async-lock on smol.";

/// Footnote for `chained_spawn`, which signals completion on one shared
/// channel type.
pub(crate) const CHANNEL_NOTE: &str = "Signals completion on an async_channel::bounded(1) on every runtime, so that cost is identical for all.";

/// Footnote for the network scenarios.
pub(crate) const NET_NOTE: &str = "Each runtime uses its own sockets (brisk::net, tokio::net, async-io's Async<TcpStream> for smol, driven by async_io::block_on); server and clients share the runtime. ops/s = 1e9 / ns_per_op.";

/// Every scenario, in the order `all` runs them.
pub(crate) const ALL: [Scenario; 14] = [
    spawn_join::SCENARIO,
    yield_many::SCENARIO,
    ping_pong::SCENARIO,
    chained_spawn::SCENARIO,
    timers_poll::SCENARIO,
    timers_unpolled::SCENARIO,
    idle_task_memory::SCENARIO,
    mpsc::SCENARIO,
    mutex_uncontended::SCENARIO,
    mutex_contended::SCENARIO,
    semaphore::SCENARIO,
    oneshot_request_reply::SCENARIO,
    tcp_echo::SCENARIO,
    http_hello::SCENARIO,
];

/// The scenario called `name`, if any.
pub(crate) fn find(name: &str) -> Option<Scenario> {
    ALL.into_iter().find(|s| s.name == name)
}

#[cfg(test)]
pub(crate) mod tests {
    //! Every scenario on every runtime at a tiny scale: they must complete
    //! and produce a positive finite number. Timings are never asserted.

    use super::*;
    use crate::runtimes::RuntimeKind;
    use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

    /// Serialises the tests that count allocations against all others.
    static ALLOC_LOCK: RwLock<()> = RwLock::new(());

    /// Held by a test that counts allocations: no other test runs meanwhile.
    pub(crate) fn exclusive() -> RwLockWriteGuard<'static, ()> {
        ALLOC_LOCK.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Held by every other scenario test.
    fn shared() -> RwLockReadGuard<'static, ()> {
        ALLOC_LOCK.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `scenario` once on every runtime at `scale`.
    fn check(name: &str, scale: f64) {
        let scenario = find(name).expect("known scenario");
        for kind in RuntimeKind::ALL {
            let value = (scenario.run)(kind.build(), scale);
            assert!(
                value.is_finite() && value > 0.0,
                "{name} on {kind}: {value}"
            );
        }
    }

    #[test]
    fn every_scenario_is_listed_once() {
        let mut names: Vec<&str> = ALL.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn spawn_join_completes() {
        let _g = shared();
        check("spawn_join", 0.001);
    }

    #[test]
    fn yield_many_completes() {
        let _g = shared();
        check("yield_many", 0.001);
    }

    #[test]
    fn ping_pong_completes() {
        let _g = shared();
        check("ping_pong", 0.001);
    }

    #[test]
    fn chained_spawn_completes() {
        let _g = shared();
        check("chained_spawn", 0.001);
    }

    #[test]
    fn timers_poll_completes() {
        let _g = shared();
        check("timers_poll", 0.001);
    }

    #[test]
    fn timers_unpolled_completes() {
        let _g = shared();
        check("timers_unpolled", 0.001);
    }

    #[test]
    fn sync_scenarios_complete() {
        let _g = shared();
        for name in [
            "mpsc",
            "mutex_uncontended",
            "mutex_contended",
            "semaphore",
            "oneshot_request_reply",
        ] {
            check(name, 0.001);
        }
    }

    #[test]
    fn tcp_echo_completes() {
        let _g = shared();
        check("tcp_echo", 0.005);
    }

    #[test]
    fn http_hello_completes() {
        let _g = shared();
        check("http_hello", 0.01);
    }

    #[test]
    fn idle_task_memory_completes() {
        let _g = exclusive();
        check("idle_task_memory", 0.01);
    }
}
