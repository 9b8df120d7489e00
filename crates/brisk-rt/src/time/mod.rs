//! The native runtime's clock and timers.

pub(crate) mod clock;
pub(crate) mod driver;
pub(crate) mod wheel;
