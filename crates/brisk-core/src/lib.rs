//! The portable contract of Brisk: the task model, the runtime traits, the
//! current-runtime context, time, and cooperative scheduling.
//!
//! Application code uses these through the `brisk` facade; backends
//! (`brisk-rt`, the simulator, compatibility layers) implement
//! [`runtime::Backend`], [`runtime::Schedule`] and [`time::TimeDriver`].
//!
//! ```
//! # brisk::run(async {
//! let handle = brisk::spawn(async { 40 + 2 });
//! assert_eq!(handle.await.unwrap(), 42);
//! # });
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

pub mod context;
pub mod coop;
mod error;
pub(crate) mod loom;
pub mod runtime;
mod spin;
pub mod task;
pub mod task_local;
pub mod time;
pub mod wait;

pub use task::{spawn, spawn_blocking, spawn_local, JoinError, JoinHandle};
