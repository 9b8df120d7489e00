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
