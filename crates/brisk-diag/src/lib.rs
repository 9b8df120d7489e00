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
//! On Unix, [`dump_on_signal`] prints a dump to stderr whenever the process
//! receives `SIGQUIT` or `SIGUSR1`, as Go and the JVM do — from a thread of
//! its own, so it works even when every worker is stuck.

#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

mod dump;
mod graph;
#[cfg(unix)]
mod signal;
pub mod trace;

pub use dump::{dump, try_dump, Dump, Holder, TaskDump, WaitDump, WakerDump};
#[cfg(unix)]
pub use signal::{dump_on_signal, dump_on_signal_to, DumpOnSignal, DumpSignal};
