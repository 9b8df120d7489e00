//! Diagnostics for Brisk runtimes: task dumps, the wait-for graph and its
//! deadlock cycles, and a dump printed on a signal.
//!
//! Everything here reads what the task model already records for every
//! task, at no cost to the tasks: its id, name, spawn location, parent, state,
//! poll and waker counts, and its current *wait-point* (the resource it waits
//! on and where in the code). Resources that know their holders (Brisk's
//! `Mutex`, `RwLock`, `Semaphore`, `OnceCell`) name them, so a dump answers
//! "who is `checkout` waiting for?".
//!
//! ```
//! use std::sync::Arc;
//! # brisk::run(async {
//! let lock = Arc::new(brisk::sync::Mutex::new(0));
//! let guard = lock.lock().await;
//! let l2 = lock.clone();
//! let waiter = brisk::task::Builder::new()
//!     .name("checkout")
//!     .spawn(async move { *l2.lock().await += 1 });
//! brisk::task::yield_now().await;
//!
//! let dump = brisk::diag::dump();
//! let task = dump.tasks.iter().find(|t| t.name.as_deref() == Some("checkout")).unwrap();
//! let wait = task.waiting_on.as_ref().unwrap();
//! assert_eq!(wait.kind, "Mutex");
//! println!("{dump}"); // a tree of tasks, each with what it waits on
//! # drop(guard);
//! # waiter.await.unwrap();
//! # });
//! ```
//!
//! A [`Dump`] prints as text, serialises with serde (for a file, a web page,
//! a bug report), and exports its wait-for graph as Graphviz DOT
//! ([`Dump::to_dot`]); [`Dump::wait_for_cycles`] lists deadlocks among
//! Brisk resources (task → resource → holder → ... → the first task).
//!
//! # Hazards
//!
//! The runtimes look for common async bugs while they run and report each
//! one once per task as a [`Hazard`]: a poll that blocks its thread
//! (`long_poll`), a task that returned `Pending` with no waker left
//! (`lost_waker`), a cancelled task that keeps running
//! (`cancelled_running`), and tasks that wait on each other with nothing
//! left to wake them (`deadlock`, with a dump and the wait-for cycles).
//! Each is printed to stderr as one line starting with `brisk: hazard:`
//! (or handed to the builder's `on_hazard` callback) and kept in a bounded
//! per-runtime log, read with [`hazards`] or [`hazards_of`]. In
//! `#[brisk::test]` and the simulator a deadlock fails the test with the
//! dump. The detectors are on by default in debug builds (deadlocks in
//! every build); see `brisk::runtime::Builder` for the switches.
//!
//! ```
//! use std::time::Duration;
//! let rt = brisk::Runtime::builder()
//!     .current_thread()
//!     .long_poll_threshold(Some(Duration::from_millis(5)))
//!     .on_hazard(|_| {}) // keep stderr quiet
//!     .build()
//!     .unwrap();
//! rt.block_on(async {
//!     brisk::task::Builder::new()
//!         .name("hasher")
//!         .spawn(async { std::thread::sleep(Duration::from_millis(20)) })
//!         .await
//!         .unwrap();
//!     # #[cfg(debug_assertions)] {
//!     let hazards = brisk::diag::hazards();
//!     assert_eq!(hazards[0].kind, "long_poll");
//!     assert!(hazards[0].message.contains("hasher"));
//!     # }
//! });
//! ```
//!
//! Per-poll timing (busy time, idle time and a poll-duration histogram per
//! task, in [`TaskDump`]) is measured with the monotonic clock when the
//! runtime's `task_timing` is on (default: on in debug builds, or set
//! `BRISK_TASK_TIMING=1`).
//!
//! On Unix, [`dump_on_signal`] prints a dump to stderr whenever the process
//! receives `SIGQUIT` or `SIGUSR1`, as Go and the JVM do — from a thread of
//! its own, so it works even when every worker is stuck.

#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

mod dump;
mod graph;
#[cfg(unix)]
mod signal;

pub use brisk_core::diag::{DiagConfig, Hazard, TaskTiming, POLL_HISTOGRAM_BUCKETS};
pub use dump::{dump, try_dump, Dump, Holder, TaskDump, WaitDump, WakerDump};

use brisk_core::runtime::Handle;

/// The message of [`hazards`] outside a runtime.
const HAZARDS_OUTSIDE_RUNTIME: &str = "`brisk::diag::hazards` was called outside a Brisk runtime: \
call it from inside a task or `block_on`, or use `brisk::diag::hazards_of(&handle)` with a \
`brisk::runtime::Handle`";

/// The hazards the current runtime found so far, oldest first (a bounded
/// log: the oldest are dropped past its capacity).
///
/// # Panics
/// Outside a Brisk runtime; use [`hazards_of`] there.
///
/// ```
/// # brisk::run(async {
/// assert!(brisk::diag::hazards().is_empty()); // a healthy program
/// # });
/// ```
#[track_caller]
pub fn hazards() -> Vec<Hazard> {
    match Handle::try_current() {
        Some(h) => hazards_of(&h),
        None => panic!("{HAZARDS_OUTSIDE_RUNTIME}"),
    }
}

/// The hazards `handle`'s runtime found so far, oldest first; callable
/// from any thread.
pub fn hazards_of(handle: &Handle) -> Vec<Hazard> {
    handle.backend().registry().diagnostics().hazards()
}
#[cfg(unix)]
pub use signal::{dump_on_signal, dump_on_signal_to, DumpOnSignal, DumpSignal};
