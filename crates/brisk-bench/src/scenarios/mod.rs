//! The scenarios, one module each. Every runtime scenario is generic over
//! [`Spawner`](crate::runtimes::Spawner), so all five runtimes run exactly
//! the same code with their own spawn, yield and timer primitives. The
//! simulator scenarios (`sim_*`) run one workload on Brisk's simulator,
//! madsim (in a subprocess) and turmoil instead ([`crate::simulators`]).
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
//! | [`sim_udp_echo`]    | ms/seed| 3 UDP echo nodes pinged every 10 ms for 60 simulated seconds       |
//! | [`sim_idle_hour`]   | ms/seed| the same nodes pinged once a second for one simulated hour         |
//! | [`trace_spawn_join`](trace_overhead) | ns/op | `spawn_join` on Brisk with trace recording off and on |
//! | [`trace_yield_many`](trace_overhead) | ns/op | `yield_many` on Brisk with trace recording off and on |
//! | [`compat`]: `compat_spawn_join`, `compat_tcp_echo` | ns/op | `spawn_join` and `tcp_echo` with Brisk's primitives on tokio (`brisk::compat::tokio`) against tokio's own |
//!
//! The scenarios from `ping_pong` on through the sync ones pair each runtime
//! with its own ecosystem's channels and locks (`crate::sync_libs`); the
//! network ones (`tcp_echo`, `http_hello`) with its own sockets
//! (`crate::net_libs`). For those, ns/op converts to operations per second
//! as `1e9 / ns_per_op` (aggregate over all connections).
//!
//! Sizes are multiplied by `BRISK_BENCH_SCALE` (each size at least 1); for
//! the simulator scenarios the size is the number of seeds, never the
//! simulated duration.
//! Each module's docs say exactly what is timed.

use crate::harness::Scenario;

pub(crate) mod chained_spawn;
pub(crate) mod compat;
pub(crate) mod http_hello;
pub(crate) mod idle_task_memory;
pub(crate) mod mpsc;
pub(crate) mod mutex_contended;
pub(crate) mod mutex_uncontended;
pub(crate) mod oneshot_request_reply;
pub(crate) mod ping_pong;
pub(crate) mod semaphore;
pub(crate) mod sim_idle_hour;
pub(crate) mod sim_udp_echo;
pub(crate) mod spawn_join;
pub(crate) mod tcp_echo;
pub(crate) mod timers_poll;
pub(crate) mod timers_unpolled;
pub(crate) mod trace_overhead;
pub(crate) mod yield_many;

/// Footnote for the scenarios that pair each runtime with its own
/// ecosystem's sync primitives.
pub(crate) const SYNC_NOTE: &str = "Each runtime uses its own ecosystem's primitives: brisk::sync on Brisk, tokio::sync on tokio, async-channel/async-lock on smol.";

/// Footnote for `chained_spawn`, which signals completion on one shared
/// channel type.
pub(crate) const CHANNEL_NOTE: &str = "Signals completion on an async_channel::bounded(1) on every runtime, so that cost is identical for all.";

/// Footnote for the network scenarios.
pub(crate) const NET_NOTE: &str = "Each runtime uses its own sockets (brisk::net, tokio::net, async-io's Async<TcpStream> for smol, driven by async_io::block_on); server and clients share the runtime. ops/s = 1e9 / ns_per_op.";

/// Footnote for the simulator scenarios.
pub(crate) const SIM_NOTE: &str = "Simulators run single-threaded, one seed after another: brisk_sim and turmoil on this thread, madsim in a subprocess built with RUSTFLAGS=\"--cfg madsim\" (its simulator exists only in such a build, which replaces tokio and overrides libc's clock and randomness, so it cannot share this process), timed inside it the same way. Latency 1-10 ms: uniform on Brisk, uniform in [1 ms, 10 ms) on madsim, turmoil's exponential curve within 1-10 ms. If madsim cannot be built, it is left out and its published figures (2-core machine: 16 ms/seed busy, 35 ms/seed idle hour) are quoted.";

/// Every scenario, in the order `all` runs them.
pub(crate) const ALL: [Scenario; 20] = [
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
    sim_udp_echo::SCENARIO,
    sim_idle_hour::SCENARIO,
    trace_overhead::SPAWN_JOIN,
    trace_overhead::YIELD_MANY,
    compat::SPAWN_JOIN,
    compat::TCP_ECHO,
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

    /// Runs `scenario` once on every runtime (or simulator) at `scale`.
    fn check(name: &str, scale: f64) {
        let scenario = find(name).expect("known scenario");
        for kind in scenario.run.contenders_for(crate::harness::Compare::Peers) {
            let value = scenario.run.run_on(kind, scale);
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
    fn compat_scenarios_complete() {
        let _g = shared();
        check("compat_spawn_join", 0.001);
        check("compat_tcp_echo", 0.005);
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
    fn sim_udp_echo_completes() {
        let _g = shared();
        check("sim_udp_echo", 0.001);
    }

    /// turmoil steps through every millisecond of the simulated hour (tens
    /// of seconds per seed in a release build, far more in a test build),
    /// so only Brisk (and madsim, if it can be built here) run the whole
    /// scenario here; turmoil runs the same workload for one simulated
    /// minute.
    #[test]
    fn sim_idle_hour_completes() {
        use crate::harness::Contender;
        use crate::simulators::{Echo, SimKind};
        let _g = shared();
        let scenario = find("sim_idle_hour").expect("known scenario");
        for on in scenario.run.contenders_for(crate::harness::Compare::Peers) {
            if on == Contender::Simulator(SimKind::Turmoil) {
                continue;
            }
            let value = scenario.run.run_on(on, 0.001);
            assert!(value.is_finite() && value > 0.0, "{on}: {value}");
        }
        let minute = Echo {
            duration: std::time::Duration::from_secs(60),
            ..sim_idle_hour::ECHO
        };
        minute.run(SimKind::Turmoil, 0);
    }

    #[test]
    fn trace_overhead_scenarios_complete() {
        let _g = shared();
        check("trace_spawn_join", 0.001);
        check("trace_yield_many", 0.001);
    }

    #[test]
    fn idle_task_memory_completes() {
        let _g = exclusive();
        check("idle_task_memory", 0.01);
    }
}
