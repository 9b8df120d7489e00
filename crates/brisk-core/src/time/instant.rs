//! `Instant`: a point on the current runtime's clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A point in time on the current runtime's monotonic clock.
///
/// `Instant::now()` asks the runtime polling the current task: the native
/// runtime reads the system's monotonic clock, the simulator its virtual
/// clock. Outside any runtime it reads the system clock. Code that takes time
/// from here (never from `std::time::Instant`) is deterministic in simulation.
///
/// ```
/// use std::time::Duration;
/// # brisk::run(async {
/// let start = brisk::time::Instant::now();
/// brisk::time::sleep(Duration::from_millis(5)).await;
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    /// Time since the clock's origin.
    since_origin: Duration,
}

impl Instant {
    /// The current time on the current runtime's clock.
    #[inline]
    pub fn now() -> Instant {
        if crate::context::uses_system_clock() {
            // No runtime, or one whose clock is the system's: skip the
            // runtime lookup.
            return Instant::from_origin(super::clock::system_now());
        }
        crate::context::with_current(|h| h.backend().now())
            .unwrap_or_else(|| Instant::from_origin(super::clock::system_now()))
    }

    /// An instant `d` after the clock's origin (for backends and tests).
    pub const fn from_origin(d: Duration) -> Instant {
        Instant { since_origin: d }
    }

    /// The time since the clock's origin.
    pub const fn since_origin(self) -> Duration {
        self.since_origin
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn duration_since(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// `Some(self - earlier)`, or `None` if `earlier` is later.
    pub fn checked_duration_since(self, earlier: Instant) -> Option<Duration> {
        self.since_origin.checked_sub(earlier.since_origin)
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.since_origin.saturating_sub(earlier.since_origin)
    }

    /// Time since `self` on the current runtime's clock.
    pub fn elapsed(self) -> Duration {
        Instant::now().saturating_duration_since(self)
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        self.since_origin.checked_add(d).map(Instant::from_origin)
    }

    /// `self - d`, or `None` before the origin.
    pub fn checked_sub(self, d: Duration) -> Option<Instant> {
        self.since_origin.checked_sub(d).map(Instant::from_origin)
    }

    /// `self + d`, saturating at the far future.
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant::from_origin(self.since_origin.saturating_add(d))
    }

    /// The far future: a deadline that never arrives in practice (about 30 years away).
    pub fn far_future() -> Instant {
        Instant::now() + Duration::from_secs(86400 * 365 * 30)
    }

    /// Converts to a `std::time::Instant`, for APIs outside Brisk. Only
    /// meaningful for instants of the native clock.
    pub fn into_std(self) -> std::time::Instant {
        super::clock::to_std(self.since_origin)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant::from_origin(self.since_origin.saturating_sub(d))
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Instant(+{:?})", self.since_origin)
    }
}
