//! `buggify!`: fault points that fire only inside the simulator.
//!
//! Two tiers, both decided by the simulation's seed: a site (one
//! `buggify!()` in the source, identified by file, line and column) is
//! *enabled* for the whole run with probability 1/4, from a hash of the seed
//! and the site, so the set of enabled sites does not depend on the order in
//! which sites are reached; an enabled site then *fires* with probability
//! 1/4 each time it is reached, from the simulation's buggify generator.
//!
//! # Cost outside the simulator
//! It depends on whether the simulator is in the build, which the facade's
//! `sim` cargo feature decides (on by default):
//! - **`sim` off** (`brisk` with `default-features = false`): this crate is
//!   not built, and `brisk::sim::buggify!()` expands to the literal `false`
//!   — the fault code behind it is type-checked and then removed as dead
//!   code. This is what a production build should use.
//! - **`sim` on**: the same binary can run simulations, so a site cannot be
//!   decided at compile time. `buggify!()` reads one `const`-initialised
//!   thread-local `bool` that the simulation loop sets while it polls a
//!   task; outside a simulation it is false and the call returns `false` —
//!   a TLS load and a predictable branch, with the slow path `#[cold]` and
//!   out of line.
//!
//! A macro cannot look at the *calling* crate's cfgs or features (it
//! expands with those of the crate that defines it), so the switch is a
//! feature of `brisk` itself. Cargo unifies features across a build, so a
//! library should not turn `sim` on in its `[dependencies]`: put it under
//! `[dev-dependencies]`, which (with resolver 2) do not leak into normal
//! builds.

use brisk_core::rand::{mix, Rng};
use std::cell::Cell;
use std::collections::HashMap;

/// The probability that a site is enabled for a run, and that an enabled
/// site fires when reached.
pub const PROBABILITY: f64 = 0.25;

thread_local! {
    /// True while a simulation polls a task on this thread.
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

/// Sets [`ACTIVE`] until dropped (restoring the previous value).
pub(crate) struct ActiveGuard(bool);

impl ActiveGuard {
    pub(crate) fn enter() -> ActiveGuard {
        ActiveGuard(ACTIVE.with(|a| a.replace(true)))
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        let _ = ACTIVE.try_with(|a| a.set(self.0));
    }
}

/// True while this thread runs a simulation.
pub(crate) fn active() -> bool {
    ACTIVE.try_with(Cell::get).unwrap_or(false)
}

/// FNV-1a, for stable hashes of names and sites across runs and builds.
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Per-run buggify state.
pub(crate) struct Sites {
    seed: u64,
    /// Enabled flag by site hash; looked up, never iterated.
    enabled: HashMap<u64, bool>,
    rng: Rng,
}

impl Sites {
    pub(crate) fn new(seed: u64) -> Sites {
        Sites {
            seed,
            enabled: HashMap::new(),
            rng: Rng::from_seed(mix(seed, 0x0B06_61F7)),
        }
    }

    fn hit(&mut self, site: &str) -> bool {
        let hash = fnv(site.as_bytes());
        let seed = self.seed;
        let enabled = *self
            .enabled
            .entry(hash)
            .or_insert_with(|| unit(mix(seed, hash)) < PROBABILITY);
        enabled && unit(self.rng.next_u64()) < PROBABILITY
    }

    /// Whether `site` is enabled in this run (for statistics and tests).
    pub(crate) fn is_enabled(&self, site: &str) -> bool {
        unit(mix(self.seed, fnv(site.as_bytes()))) < PROBABILITY
    }
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The slow path of [`buggify!`](crate::buggify!): `site` is `file:line:column`.
#[doc(hidden)]
#[inline]
pub fn __hit(site: &'static str) -> bool {
    if !active() {
        return false;
    }
    hit_slow(site)
}

#[cold]
#[inline(never)]
fn hit_slow(site: &str) -> bool {
    brisk_core::context::with_current(|h| {
        h.backend()
            .as_any()
            .downcast_ref::<crate::node::NodeBackend>()
            .map(|node| node.world.state.lock().buggify.hit(site))
    })
    .flatten()
    .unwrap_or(false)
}

/// Whether the `buggify!` site at `site` (`"file:line:column"`) is enabled
/// for the whole run of simulations seeded with `seed`. For tests of fault
/// coverage; normal code just writes `buggify!()`.
///
/// ```
/// let on = (0..1000u64)
///     .filter(|seed| brisk::sim::buggify::site_enabled(*seed, "src/db.rs:10:5"))
///     .count();
/// assert!((200..300).contains(&on));
/// ```
pub fn site_enabled(seed: u64, site: &str) -> bool {
    Sites::new(seed).is_enabled(site)
}

/// A fault point: `true` when the simulator decides to inject a fault here.
///
/// Outside the simulator it is always `false`: the constant `false` when
/// brisk's `sim` feature is off, one thread-local read when it is on (see
/// the [module docs](mod@crate::buggify)). Inside, each site is enabled for the whole run with
/// probability 1/4 (from the seed), and an enabled site fires with
/// probability 1/4 each time it is reached — so most runs exercise a few
/// faults heavily rather than all faults thinly.
///
/// ```
/// use std::time::Duration;
/// async fn flush() -> std::io::Result<()> {
///     if brisk::sim::buggify!() {
///         // Exercise the slow path the simulator picked for this run.
///         brisk::time::sleep(Duration::from_secs(5)).await;
///     }
///     Ok(())
/// }
/// assert!(!brisk::sim::buggify!()); // outside the simulator: never
/// let mut sim = brisk::sim::Sim::builder().seed(3).build();
/// let client = sim.client("c", async { flush().await.unwrap() });
/// sim.run().unwrap();
/// client.output();
/// ```
#[macro_export]
macro_rules! buggify {
    () => {
        $crate::buggify::__hit(::core::concat!(
            ::core::file!(),
            ":",
            ::core::line!(),
            ":",
            ::core::column!()
        ))
    };
}
