//! Diagnostics for Brisk runtimes: task dumps, the wait-for graph and its
//! deadlock cycles, a dump printed on a signal, the live console, a
//! timeline exported as Chrome trace-event JSON, and tasks shown in the
//! unmodified `tokio-console`.
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
//! # Scope children
//! The children of a `brisk::scope` are not tasks: they run inside the task
//! that awaits the scope. A dump lists them under that task anyway
//! ([`TaskDump::scope_children`]), each with its name (from
//! `Scope::spawn_named`), spawn location and what it waits on, and the
//! wait-for graph follows their waits (a scope child waiting on a lock
//! makes its task wait on that lock's holder):
//!
//! ```
//! use std::time::Duration;
//! # brisk::run(async {
//! let server = brisk::task::Builder::new().name("server").spawn(async {
//!     brisk::scope(|s| async move {
//!         s.spawn_named("request-1", brisk::time::sleep(Duration::from_secs(3600)));
//!         s.spawn_named("request-2", brisk::time::sleep(Duration::from_secs(3600)));
//!     })
//!     .await
//! });
//! brisk::task::yield_now().await;
//!
//! let dump = brisk::diag::dump();
//! let task = dump.tasks.iter().find(|t| t.name.as_deref() == Some("server")).unwrap();
//! let names: Vec<_> = task.scope_children.iter().map(|c| c.name.as_deref()).collect();
//! assert_eq!(names, [Some("request-1"), Some("request-2")]);
//! assert_eq!(task.scope_children[0].waiting_on.as_ref().unwrap().kind, "Timer");
//! // "#2 (server) idle, ...; waits on Scope #7 at ...
//! //    scope child #8 `request-1`, 1 polls, spawned at ... in scope #7 entered
//! //    at ...; waits on Timer #.. at ..."
//! let child = &task.scope_children[0];
//! assert_eq!(task.waiting_on.as_ref().unwrap().resource, child.scope);
//! println!("{dump}");
//! # server.abort();
//! # });
//! ```
//!
//! # Hazards
//!
//! The runtimes look for common async bugs while they run and report each
//! one once per task as a [`Hazard`]: a poll that blocks its thread
//! (`long_poll`), a task that returned `Pending` with no waker left
//! (`lost_waker`), a cancelled task that does not stop, polled or parked
//! (`cancelled_running`), tasks that wait on each other's locks in a
//! cycle while the rest of the program goes on (`wait_cycle`, each step
//! named, with the cycle as Graphviz DOT), and tasks that wait on each
//! other with nothing left to wake them (`deadlock`, with a dump and the
//! wait-for cycles).
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
//! # Await chains
//! A wait-point names the innermost wait. Mark `async fn`s with
//! `#[brisk::traced]` and a waiting task's [`WaitDump::chain`] lists the
//! marked functions it waits in, outermost first — a stack trace of the
//! await, at the cost of one pointer push and pop per traced poll (details
//! in [`brisk_core::traced`]):
//!
//! ```
//! #[brisk::traced]
//! async fn handle_request(rx: &mut brisk::sync::mpsc::Receiver<u32>) -> Option<u32> {
//!     read_body(rx).await
//! }
//!
//! #[brisk::traced(name = "body")]
//! async fn read_body(rx: &mut brisk::sync::mpsc::Receiver<u32>) -> Option<u32> {
//!     rx.recv().await
//! }
//!
//! # brisk::run(async {
//! let (tx, mut rx) = brisk::sync::mpsc::channel(1);
//! let task = brisk::spawn(async move { handle_request(&mut rx).await });
//! brisk::task::yield_now().await;
//! let dump = brisk::diag::dump();
//! let wait = dump.tasks.iter().find_map(|t| t.waiting_on.as_ref()).unwrap();
//! assert!(wait.chain[0].name.ends_with("::handle_request"));
//! assert_eq!(wait.chain[1].name, "body");
//! // "...; waits on Channel #.. at ...; in my_crate::handle_request (...) → body (...)"
//! println!("{dump}");
//! # tx.send(1).await.unwrap();
//! # assert_eq!(task.await.unwrap(), Some(1));
//! # });
//! ```
//!
//! On Unix, [`dump_on_signal`] prints a dump to stderr whenever the process
//! receives `SIGQUIT` or `SIGUSR1`, as Go and the JVM do — from a thread of
//! its own, so it works even when every worker is stuck.
//!
//! # Live console
//! A [`console`] server streams a snapshot of the runtime — the dump, the
//! hazards seen, the runtime's counters — as one JSON object per line to
//! every client, four times a second, from a thread of its own.
//! `brisk-console` (the `brisk-console` crate) shows it as a terminal UI:
//! a sortable, filterable task list, each task's wait chain and wakes, the
//! resources with their holders and waiters, and the hazards.
//!
//! Turn it on with one line in code:
//!
//! ```no_run
//! #[brisk::main]
//! async fn main() -> std::io::Result<()> {
//!     let _console = brisk::diag::console::serve()?; // 127.0.0.1:6669
//!     // ... the application
//!     Ok(())
//! }
//! ```
//!
//! or with no code change at all: `BRISK_CONSOLE=127.0.0.1:6669 ./my-app`.
//! Every native runtime built through `brisk::Runtime::builder()` (and so
//! `#[brisk::main]` and `brisk::run`) reads `BRISK_CONSOLE` when it is built
//! and serves itself until it shuts down (with the facade's default
//! feature `console`). Then, in another terminal:
//!
//! ```text
//! cargo run -p brisk-console            # or: brisk-console 127.0.0.1:6669
//! ```
//!
//! The server writes its JSON with a small serde serializer of its own
//! rather than depending on `serde_json`, whose `PartialEq` impls for the
//! integer types, once linked into a program, break type inference in
//! unrelated code (`assert_eq!(n, (0..10).sum())`).
//!
//! The server binds to loopback only: another address is refused with an
//! error unless [`console::Builder::allow_remote`] says otherwise, since the
//! console shows what every task is doing to whoever connects.
//! ```
//! # brisk::run(async {
//! let handle = brisk::runtime::Handle::current();
//! let err = brisk::diag::console::Console::builder()
//!     .bind("0.0.0.0:6669")
//!     .spawn(&handle)
//!     .unwrap_err();
//! assert!(err.to_string().contains("allow_remote(true)"));
//! # });
//! ```
//!
//! # A timeline in Perfetto
//! [`trace::start`] records every spawn, poll, wake and completion of the
//! current runtime's tasks until [`trace::Recorder::stop`], which returns a
//! [`trace::Trace`]; [`trace::Trace::write_chrome_json`] saves it as Chrome
//! trace-event JSON, which opens in <https://ui.perfetto.dev> or
//! `chrome://tracing`: one track per worker thread with a slice per poll,
//! each task's lifetime, and arrows from a waker to the task it woke.
//! Recording is off by default and costs one relaxed atomic load per poll
//! while off.
//!
//! ```
//! # brisk::run(async {
//! let recorder = brisk::diag::trace::start();
//! brisk::task::Builder::new().name("job").spawn(async {}).await.unwrap();
//! let json = recorder.stop().to_chrome_json();
//! assert!(json.contains(r#""name":"job""#));
//! # });
//! ```
//!
//! # tokio-console
//! With the `brisk` feature `tokio-console`, every task is reported in the
//! tracing schema that [console-subscriber](https://docs.rs/console-subscriber)
//! reads (a `runtime.spawn` span per task, entered around each poll, and
//! `runtime::waker` events), so the unmodified `tokio-console` lists Brisk
//! tasks with their names, kinds, spawn locations, polls, wakes and wakers.
//! An application turns it on in three steps:
//!
//! 1. the feature and the subscriber, in `Cargo.toml`:
//!    ```toml
//!    [dependencies]
//!    brisk = { version = "0.1", features = ["tokio-console"] }
//!    console-subscriber = "0.5"
//!    ```
//! 2. the cfg console-subscriber asks for, in `.cargo/config.toml` (or
//!    `RUSTFLAGS`): `--cfg console_without_tokio_unstable` (tokio's own
//!    `--cfg tokio_unstable` works too, and also instruments any tokio
//!    runtime in the process):
//!    ```toml
//!    [build]
//!    rustflags = ["--cfg", "console_without_tokio_unstable"]
//!    ```
//! 3. the subscriber, first thing in `main`; then run `tokio-console`
//!    (it connects to `127.0.0.1:6669`, also the default of Brisk's own
//!    live console: give one of them another address, for example
//!    `TOKIO_CONSOLE_BIND=127.0.0.1:6670` with `tokio-console
//!    http://127.0.0.1:6670`):
//!    ```no_run
//!    #[brisk::main]
//!    async fn main() {
//!        console_subscriber::init();
//!        let job = brisk::task::Builder::new()
//!            .name("job")
//!            .spawn(async { brisk::time::sleep(std::time::Duration::from_secs(60)).await });
//!        job.await.unwrap();
//!    }
//!    ```
//!
//! Without a subscriber the feature costs a spawn one check of tracing's
//! filters and a poll or waker operation one branch; without the feature
//! nothing is compiled in and a task is not one byte larger.
//!
//! # Dependencies
//! `serde` (derive) makes dumps and traces serialisable (the Chrome JSON
//! is written by hand: `serde_json`'s `PartialEq` impls for integers
//! would reach every crate that depends on `brisk` and break inference in
//! code such as `assert_eq!(n, (0..10).sum())`); `signal-hook-registry`
//! and `libc` install the dump-on-signal handler.

#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

pub mod console;
mod dump;
mod graph;
mod json;
#[cfg(unix)]
mod signal;
pub mod trace;

pub use brisk_core::diag::{DiagConfig, Hazard, TaskTiming, POLL_HISTOGRAM_BUCKETS};
pub use brisk_core::traced::{traced, Frame, Traced, MAX_DEPTH as MAX_CHAIN_DEPTH};
pub use dump::{
    dump, try_dump, ChainFrame, Dump, Holder, ScopeChildDump, TaskDump, WaitDump, WakerDump,
};

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
