//! `compat_spawn_join` and `compat_tcp_echo`: Brisk on tokio against tokio.
//!
//! The bodies of [`spawn_join`](super::spawn_join) and
//! [`tcp_echo`](super::tcp_echo), unchanged, on two contenders built alike
//! (a multi-thread tokio runtime with one worker per core): `tokio_mt` runs
//! them with tokio's own primitives (`tokio::spawn`, `tokio::net`);
//! `brisk_on_tokio` runs them with Brisk's (`brisk::spawn`, `brisk::net`)
//! inside `brisk::compat::tokio::enter`, so each Brisk task run is a tokio
//! task and each Brisk socket a tokio socket. The ratio is the cost of
//! writing the code against Brisk and running it in a tokio application.

use crate::harness::{Run, Scenario, Unit};

/// Footnote for the compat scenarios.
pub(crate) const COMPAT_NOTE: &str = "Both on the same multi-thread tokio runtime: brisk_on_tokio runs the code written against brisk (brisk::spawn, brisk::net) through brisk::compat::tokio, tokio_mt the same code written against tokio.";

/// `spawn_join` through the tokio backend.
pub(crate) const SPAWN_JOIN: Scenario = Scenario {
    name: "compat_spawn_join",
    unit: Unit::NsPerOp,
    run: Run::Compat(super::spawn_join::run),
    note: Some(COMPAT_NOTE),
};

/// `tcp_echo` through the tokio backend.
pub(crate) const TCP_ECHO: Scenario = Scenario {
    name: "compat_tcp_echo",
    unit: Unit::NsPerOp,
    run: Run::Compat(super::tcp_echo::run),
    note: Some(COMPAT_NOTE),
};
