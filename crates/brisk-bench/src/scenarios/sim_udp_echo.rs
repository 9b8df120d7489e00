//! `sim_udp_echo`: a busy simulated network, per seed.
//!
//! Three UDP echo nodes and one client that pings all three every 10 ms
//! for 60 simulated seconds (18,000 round trips), over links of 1–10 ms
//! latency; the workload and how each simulator is set up are in
//! [`crate::simulators`]. One run simulates a fixed number of seeds
//! (`0..n`, `n` per simulator below, × scale, at least 1) one after the
//! other; each seed builds and runs a fresh simulation and checks that
//! every ping came back. Timed: the whole loop. Result: wall-clock ms per
//! seed. Seeds per minute = 60,000 / result.

use crate::harness::{scaled, Reference, Run, Scenario, Unit};
use crate::simulators::{Echo, SimKind};
use std::time::{Duration, Instant};

/// The workload.
pub(crate) const ECHO: Echo = Echo {
    interval: Duration::from_millis(10),
    duration: Duration::from_secs(60),
};

/// Seeds per run at scale 1.0: Brisk's simulator, turmoil (≈ 280 ms per
/// seed, so fewer seeds keep a pass short).
pub(crate) const SEEDS: (usize, usize) = (200, 10);

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "sim_udp_echo",
    unit: Unit::MsPerSeed,
    run: Run::Simulator {
        run,
        reference: Some(Reference {
            peer: "madsim",
            value: 16.0,
        }),
    },
    note: Some(super::SIM_NOTE),
};

/// Runs the scenario once on `kind` and returns ms per seed.
pub(crate) fn run(kind: SimKind, scale: f64) -> f64 {
    run_seeds(ECHO, kind, scaled(seeds_for(SEEDS, kind), scale))
}

/// Seeds at scale 1.0 for `kind` out of `(brisk, turmoil)`.
pub(crate) fn seeds_for(seeds: (usize, usize), kind: SimKind) -> usize {
    match kind {
        SimKind::Brisk => seeds.0,
        SimKind::Turmoil => seeds.1,
    }
}

/// Runs `echo` for seeds `0..seeds` on `kind`; returns ms per seed.
pub(crate) fn run_seeds(echo: Echo, kind: SimKind, seeds: usize) -> f64 {
    let start = Instant::now();
    for seed in 0..seeds as u64 {
        echo.run(kind, seed);
    }
    start.elapsed().as_secs_f64() * 1e3 / seeds as f64
}
