//! `sim_idle_hour`: a mostly idle simulated hour, per seed.
//!
//! The same three UDP echo nodes and client as [`super::sim_udp_echo`],
//! but the client pings all three once per second for one simulated hour
//! (10,800 round trips): what it costs to simulate long stretches of
//! virtual time in which little happens. Seeds run and are timed as in
//! [`super::sim_udp_echo`]. Result: wall-clock ms per seed.

use super::sim_udp_echo::Seeds;
use crate::harness::{scaled, Reference, Run, Scenario, Unit};
use crate::simulators::{Echo, SimKind};
use std::time::Duration;

/// The workload.
pub(crate) const ECHO: Echo = Echo {
    interval: Duration::from_secs(1),
    duration: Duration::from_secs(3600),
};

/// Seeds per run at scale 1.0: Brisk's simulator, madsim (≈ 35 ms per
/// seed), turmoil (which steps through every 1 ms tick of the hour: ≈ 20 s
/// per seed).
pub(crate) const SEEDS: Seeds = Seeds {
    brisk: 200,
    madsim: 20,
    turmoil: 1,
};

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "sim_idle_hour",
    unit: Unit::MsPerSeed,
    run: Run::Simulator {
        run,
        // Quoted only if madsim cannot run.
        reference: Some(Reference {
            peer: "madsim",
            value: 35.0,
        }),
    },
    note: Some(super::SIM_NOTE),
};

/// Runs the scenario once on `kind` and returns ms per seed.
pub(crate) fn run(kind: SimKind, scale: f64) -> f64 {
    ECHO.run_seeds(kind, scaled(SEEDS.of(kind), scale))
}
