//! The native runtime's wall-clock reads for its own bookkeeping (shutdown
//! deadlines, the blocking pool's keep-alive). Task-visible time goes through
//! `brisk_core::time::clock`, the one place that reads the OS clock.

/// The operating system's monotonic clock, as a `std::time::Instant`.
#[inline]
pub(crate) fn os_now() -> std::time::Instant {
    brisk_core::time::clock::to_std(brisk_core::time::clock::system_now())
}
