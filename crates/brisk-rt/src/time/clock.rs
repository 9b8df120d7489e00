//! The native runtime's only contact with the operating system's clock.
//!
//! Everything in Brisk reads time through the current runtime
//! (`brisk::time::Instant::now()`), so a simulator can replace the clock. The
//! native backend has to read the real monotonic clock somewhere: here, and
//! nowhere else.

/// Reads the operating system's monotonic clock.
#[inline]
pub(crate) fn os_now() -> std::time::Instant {
    std::time::Instant::now()
}
