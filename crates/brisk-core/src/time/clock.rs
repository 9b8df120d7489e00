//! The one place in Brisk that reads the operating system's monotonic clock.
//!
//! Runtime code reads time through the current runtime (a simulator replaces
//! the clock). The native backend's clock and `Instant::now()` outside any
//! runtime end up here.

use std::cell::Cell;
use std::time::Duration;

thread_local! {
    /// This thread's last reading, in nanoseconds (see [`last_reading`]).
    static LAST: Cell<u64> = const { Cell::new(0) };
}

/// The monotonic clock as a duration since its (arbitrary, fixed) zero.
#[inline]
pub fn system_now() -> Duration {
    let now = read();
    let _ = LAST.try_with(|l| l.set(now.as_nanos().min(u64::MAX as u128) as u64));
    now
}

/// The last value [`system_now`] returned on this thread: a timer whose
/// deadline is not after it has certainly elapsed, without reading the clock
/// again.
#[inline]
pub fn last_reading() -> Duration {
    Duration::from_nanos(LAST.try_with(Cell::get).unwrap_or(0))
}

#[cfg(unix)]
#[inline]
fn read() -> Duration {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(unix))]
#[inline]
fn read() -> Duration {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let origin = *ORIGIN.get_or_init(std::time::Instant::now);
    std::time::Instant::now().saturating_duration_since(origin)
}

/// Converts a reading of this clock into a `std::time::Instant`.
pub fn to_std(reading: Duration) -> std::time::Instant {
    let (std_now, now) = (std::time::Instant::now(), read());
    if reading >= now {
        std_now + (reading - now)
    } else {
        std_now.checked_sub(now - reading).unwrap_or(std_now)
    }
}
