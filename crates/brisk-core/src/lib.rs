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
pub mod diag;
mod error;
pub mod fs;
pub mod future;
pub mod io;
/// Atomics, cells and locks from std, or from loom under `--cfg loom`.
/// Shared with Brisk's other crates; not a public API.
#[doc(hidden)]
pub mod loom;
pub mod net;
pub mod rand;
pub mod runtime;
pub mod scope;
/// A small spin lock for very short critical sections; shared with Brisk's
/// other crates, not a public API.
#[doc(hidden)]
pub mod spin;
pub mod task;
pub mod task_local;
pub mod time;
pub mod traced;
pub mod wait;

pub use scope::{scope, try_scope};
pub use task::{spawn, spawn_blocking, spawn_local, JoinError, JoinHandle};
