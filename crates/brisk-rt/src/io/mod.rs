//! The native I/O layer: a mio reactor per runtime and the sockets built on
//! it.

mod driver;
pub(crate) mod net;
mod scheduled_io;
#[cfg(unix)]
pub mod unix;

pub(crate) use driver::IoDriver;
#[allow(unused_imports)]
pub(crate) use driver::Registration;
#[allow(unused_imports)]
pub(crate) use scheduled_io::{Direction, ReadyEvent, ScheduledIo};

/// The reactor of the current runtime, if it is a native Brisk runtime;
/// otherwise an `Unsupported` error carrying `message`.
pub(crate) fn current_driver(message: &'static str) -> std::io::Result<std::sync::Arc<IoDriver>> {
    brisk_core::context::with_current(|h| {
        h.backend()
            .as_any()
            .downcast_ref::<crate::runtime::RtBackend>()
            .map(|b| b.shared.io.clone())
    })
    .flatten()
    .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::Unsupported, message))
}
