//! [`Deadline`]: where [`Sim::run_until`](crate::Sim::run_until) stops.

use brisk_core::time::Instant;
use std::time::Duration;

/// A point in the simulation's global virtual time, for
/// [`Sim::run_until`](crate::Sim::run_until): built from a [`Duration`]
/// since the simulation started, or from a [`brisk::time::Instant`](Instant).
///
/// An `Instant` is read as global virtual time: it is the instant a node
/// *without* clock skew or drift reads at that moment (such a node's
/// `Instant::now()` counts from the start of the simulation). An instant
/// from a skewed node is its local reading, so it stops the run early or
/// late by the skew. `Instant::now()` outside a simulation reads the real
/// clock and means nothing here.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use brisk::sim::{Deadline, Sim};
/// use brisk::time::Instant;
///
/// let mut sim = Sim::builder().seed(1).build();
/// let client = sim.client("c", async {
///     // A deadline picked inside the simulation, handed out.
///     Instant::now() + Duration::from_secs(90)
/// });
/// sim.run().unwrap();
/// let at = client.output();
/// sim.run_until(at).unwrap(); // an `Instant`...
/// assert_eq!(sim.now(), Duration::from_secs(90));
/// sim.run_until(Duration::from_secs(120)).unwrap(); // ...or time since the start
/// assert_eq!(Deadline::from(at).since_start(), Duration::from_secs(90));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    since_start: Duration,
}

impl Deadline {
    /// The deadline `since_start` after the simulation started.
    pub const fn after_start(since_start: Duration) -> Deadline {
        Deadline { since_start }
    }

    /// The time from the simulation's start to the deadline.
    pub const fn since_start(self) -> Duration {
        self.since_start
    }

    /// In nanoseconds, saturated.
    pub(crate) fn as_nanos(self) -> u64 {
        self.since_start.as_nanos().min(u128::from(u64::MAX)) as u64
    }
}

impl From<Duration> for Deadline {
    /// Time since the simulation started.
    fn from(since_start: Duration) -> Deadline {
        Deadline::after_start(since_start)
    }
}

impl From<Instant> for Deadline {
    /// A simulation instant, read as global virtual time (see [`Deadline`]).
    fn from(at: Instant) -> Deadline {
        Deadline::after_start(at.since_origin())
    }
}
