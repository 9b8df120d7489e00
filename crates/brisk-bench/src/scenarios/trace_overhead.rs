//! `trace_spawn_join` and `trace_yield_many`: what recording a trace
//! (`brisk::diag::trace`) costs, on [`spawn_join`](super::spawn_join) and
//! [`yield_many`](super::yield_many) unchanged, run on `brisk_ct` with the
//! recording off and on (see [`crate::diag_overhead`]). The ratio is the
//! cost with recording over the cost without.

use crate::diag_overhead::{run_with, DiagKind};
use crate::harness::{Run, Scenario, Unit};

/// Footnote for the overhead scenarios.
pub(crate) const NOTE: &str = "Brisk current-thread with brisk::diag::trace recording on vs off; the ratio is trace_on / trace_off (each thread keeps the default 65,536 events, overwriting the oldest).";

/// `spawn_join` with and without a trace.
pub(crate) const SPAWN_JOIN: Scenario = Scenario {
    name: "trace_spawn_join",
    unit: Unit::NsPerOp,
    run: Run::Diag(spawn_join),
    note: Some(NOTE),
};

/// `yield_many` with and without a trace.
pub(crate) const YIELD_MANY: Scenario = Scenario {
    name: "trace_yield_many",
    unit: Unit::NsPerOp,
    run: Run::Diag(yield_many),
    note: Some(NOTE),
};

/// One `spawn_join` run; ns per task.
fn spawn_join(kind: DiagKind, scale: f64) -> f64 {
    run_with(kind, scale, super::spawn_join::run)
}

/// One `yield_many` run; ns per yield.
fn yield_many(kind: DiagKind, scale: f64) -> f64 {
    run_with(kind, scale, super::yield_many::run)
}
