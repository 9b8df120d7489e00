//! The one place in Brisk that reads the operating system's monotonic clock.
//!
//! Runtime code reads time through the current runtime (a simulator replaces
//! the clock). The native backend's clock and `Instant::now()` outside any
//! runtime end up here.

use std::sync::OnceLock;
use std::time::Duration;

/// A fixed origin, so native instants are durations since process start.
fn origin() -> std::time::Instant {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    *ORIGIN.get_or_init(std::time::Instant::now)
}

/// Time since the process-wide origin on the monotonic clock.
#[inline]
pub fn system_now() -> Duration {
    let origin = origin();
    std::time::Instant::now().saturating_duration_since(origin)
}

/// The std instant of the origin (for converting to `std::time::Instant`).
pub fn system_origin() -> std::time::Instant {
    origin()
}
