//! `sim_udp_echo`: a busy simulated network, per seed.
//!
//! Three UDP echo nodes and one client that pings all three every 10 ms
//! for 60 simulated seconds (18,000 round trips), over links of 1–10 ms
//! latency, on `brisk_sim`, madsim (in a subprocess, see
//! [`crate::madsim_peer`]) and turmoil; the workload and how each simulator
//! is set up are in [`crate::simulators`]. One run simulates a fixed number of seeds
//! (`0..n`, `n` per simulator below, × scale, at least 1) one after the
//! other; each seed builds and runs a fresh simulation and checks that
//! every ping came back. Timed: the whole loop. Result: wall-clock ms per
//! seed. Seeds per minute = 60,000 / result.

use crate::harness::{scaled, Reference, Run, Scenario, Unit};
use crate::simulators::{Echo, SimKind};
use std::time::Duration;

/// The workload.
pub(crate) const ECHO: Echo = Echo {
    interval: Duration::from_millis(10),
    duration: Duration::from_secs(60),
};

/// Seeds per run at scale 1.0: Brisk's simulator, madsim (≈ 16 ms per
/// seed), turmoil (≈ 280 ms per seed); fewer seeds for the slower ones keep
/// a pass short.
pub(crate) const SEEDS: Seeds = Seeds {
    brisk: 200,
    madsim: 50,
    turmoil: 10,
};

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "sim_udp_echo",
    unit: Unit::MsPerSeed,
    run: Run::Simulator {
        run,
        // Quoted only if madsim cannot run.
        reference: Some(Reference {
            peer: "madsim",
            value: 16.0,
        }),
    },
    note: Some(super::SIM_NOTE),
};

/// Runs the scenario once on `kind` and returns ms per seed.
pub(crate) fn run(kind: SimKind, scale: f64) -> f64 {
    ECHO.run_seeds(kind, scaled(SEEDS.of(kind), scale))
}

/// Seeds per run at scale 1.0, per simulator.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seeds {
    /// For `brisk_sim`.
    pub(crate) brisk: usize,
    /// For `madsim`.
    pub(crate) madsim: usize,
    /// For `turmoil`.
    pub(crate) turmoil: usize,
}

impl Seeds {
    /// The seeds for `kind`.
    pub(crate) fn of(self, kind: SimKind) -> usize {
        match kind {
            SimKind::Brisk => self.brisk,
            SimKind::Madsim => self.madsim,
            SimKind::Turmoil => self.turmoil,
        }
    }
}
