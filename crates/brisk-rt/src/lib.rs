//! Brisk's native runtime: a work-stealing multi-thread scheduler, a
//! current-thread scheduler, a hierarchical timer wheel, an elastic blocking
//! pool, and an epoll/kqueue reactor (through mio) serving sockets and
//! signals, behind the `brisk-core` contract.
//!
//! Use it through the facade:
//!
//! ```
//! let rt = brisk::Runtime::builder().multi_thread().worker_threads(2).build().unwrap();
//! let out = rt.block_on(async {
//!     let task = brisk::spawn(async { 21 * 2 });
//!     task.await.unwrap()
//! });
//! assert_eq!(out, 42);
//! ```
//!
//! # Why the scheduler, queues, timers and pool are written here
//! They are the product: their shape decides Brisk's speed and what
//! diagnostics can see (per-task wait-points, poll sequence numbers for stuck
//! workers, shutdown reports). Generic crates could not give a blocking pool
//! that reports unfinished jobs, or a timer wheel whose fired entries stay put
//! until their owner looks.
//!
//! # Hazards and metrics
//! The runtime looks for hazards while it runs (`brisk::diag` has the
//! overview): the task harness in `brisk-core` measures polls and finds
//! long polls, lost wakers and cancelled tasks that keep running; the
//! schedulers here find deadlocks (they know when nothing — no timer, no
//! registered socket or signal, no blocking job — could wake a waiting
//! task), and the multi-thread monitor (or a current-thread runtime's
//! watchdog thread) reports a poll that is still stuck past the long-poll
//! threshold. From time to time (the monitor, or the
//! current-thread scheduler between batches and before it sleeps) they
//! also look at every task for wait-for cycles over Brisk's locks and for
//! cancelled tasks that have not stopped. The builder switches each
//! detector (`task_timing`, `long_poll_threshold`, `detect_lost_wakers`,
//! `cancelled_running_threshold`, `wait_cycle_check`, `deadlock_grace`,
//! `panic_on_deadlock`, `on_hazard`). [`runtime::RuntimeMetrics`] reads the scheduler's counters
//! (per worker, written by one thread each, relaxed) without a cfg flag.
//!
//! The reactor uses mio for the OS interface (epoll, kqueue) and nothing
//! else: registration, readiness and the hand-off between a parked
//! scheduler thread and the reactor are ours, because parking *in* the
//! reactor is what lets a single thread both sleep and wait for I/O.
//! Readiness is edge-triggered and trusted: a TCP read or write that moves
//! fewer bytes than asked clears it, and so does a read that fills its
//! buffer when the kernel reports the receive queue empty (Linux's
//! `TCP_INQ`, asked for on every accepted and connected stream), so a
//! request/response exchange costs one read and one write per side, with
//! no read that fails with `WouldBlock`. A worker of the multi-thread
//! scheduler that drives the reactor while it sleeps queues the tasks its
//! turn wakes on itself and wakes no other worker for them until it is up
//! again; then it wakes one sleeper if it holds more than one task.
//!
//! Signals ([`signal`]) are registered through `signal-hook-registry`,
//! which chains handlers safely with any other library in the process; the
//! named signals take their numbers from `libc`, because they differ
//! between Unix systems. `futures-core` gives [`signal::Signal`] the
//! `Stream` trait that every Brisk stream implements.

#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

pub(crate) mod blocking;
mod error;
pub mod io;
pub(crate) mod loom;
pub(crate) mod park;
pub(crate) mod queue;
pub mod runtime;
#[cfg(unix)]
pub mod signal;
pub(crate) mod time;

pub use runtime::{Builder, PanicPolicy, Runtime, RuntimeFlavor, RuntimeMetrics, ShutdownReport};
