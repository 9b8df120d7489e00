//! # Brisk
//!
//! An async runtime and toolkit for Rust: one portable contract (spawn, time,
//! net, fs and rand, through the *current runtime*), a native
//! work-stealing runtime that competes with tokio and smol side by side, and
//! diagnostics built into the task model — every task has an id, a name, a
//! spawn location, and a record of what it waits on.
//!
//! ```
//! use std::time::Duration;
//!
//! #[brisk::main(flavor = "current_thread")]
//! async fn main() {
//!     let checkout = brisk::task::Builder::new()
//!         .name("checkout")
//!         .spawn(async {
//!             brisk::time::sleep(Duration::from_millis(1)).await;
//!             "paid"
//!         });
//!     assert_eq!(checkout.await.unwrap(), "paid");
//! }
//! ```
//!
//! ## What is inside
//! - [`task`], [`spawn`], [`spawn_local`], [`spawn_blocking`]: tasks with
//!   ids, names and spawn locations;
//! - [`scope`] and [`try_scope`]: structured concurrency — children that
//!   borrow from the caller, a scope that returns only when all of them
//!   finished, panics and errors that cancel the siblings;
//!   [`task::TaskGroup`] for parallel `'static` children with the same
//!   structured lifetime;
//! - cancellation as a tree: [`JoinHandle::cancel`], `Scope::cancel` and
//!   `TaskGroup::cancel` reach every descendant, whose Brisk operations then
//!   return [`task::Cancelled`] (I/O: an `io::Error` carrying it) or unwind;
//!   [`task::non_cancellable`] shields cleanup and
//!   [`time::with_deadline`] hands a deadline down the tree;
//! - [`future`], [`join!`], [`try_join!`], [`select!`]: running several
//!   futures at once inside one task (`select!` accepts only cancel-safe
//!   futures, checked at compile time);
//! - [`time`]: sleeps, timeouts and intervals on the runtime's clock;
//! - [`sync`]: `Mutex`, `RwLock`, `Semaphore`, `Notify`, `Barrier`,
//!   `OnceCell` and the `oneshot`, `mpsc`, `broadcast` and `watch` channels —
//!   fair, cancel-safe, usable on any executor, and able to say who holds
//!   what;
//! - [`net`]: TCP, UDP and Unix sockets; [`io`]: the async I/O traits and
//!   helpers (`read_exact`, `write_all`, `BufReader`, `copy`, `split`,
//!   lines); [`fs`]: files and directories; [`signal`]: ctrl-c and Unix
//!   signals;
//! - [`iter`]: async iteration — `AsyncIterator`, generators with
//!   [`iter::stream`], combinators, a `buffered` that keeps its futures
//!   moving, and `Stream` interop;
//! - [`rand`]: random numbers from the current runtime (seeded in simulation);
//! - [`sim`]: the deterministic simulator — seeded scheduling of many nodes in
//!   one thread, virtual time, crashes, pauses, `buggify!` fault points;
//! - [`wait`]: what each task waits on, and who holds a contended resource;
//!   [`diag`]: task dumps that name what each task waits on and who holds
//!   it (scope children listed under the task that runs their scope), the
//!   await chain through `#[brisk::traced]` functions, deadlock
//!   cycles, a dump on `SIGQUIT`, a live console (`brisk-console`), a
//!   timeline of spawns, polls and wakes for Perfetto ([`diag::trace`]),
//!   and tasks in the unmodified `tokio-console` (feature `tokio-console`);
//! - [`runtime`], [`Runtime`]: the native runtime and its handle.
//!
//! ## Entry points
//! - `#[brisk::main]` / `#[brisk::test]` on an `async fn` (multi-thread and
//!   current-thread respectively by default; `flavor = "..."`,
//!   `worker_threads = N`; `#[brisk::test(sim)]` in the simulator;
//!   `#[brisk::test(backends = all)]` once per backend — native
//!   current-thread and multi-thread, simulator, tokio — from one body);
//! - [`run`] from synchronous code;
//! - [`Runtime::builder`] for full control.
//!
//! ## Feature flags and environment variables
//! `console` and `sim` are on by default, the others are off. Besides
//! `BRISK_CONSOLE` and `BRISK_SEED` (below), one environment variable is
//! read:
//!
//! - `BRISK_TASK_TIMING=1` (or `0`): per-poll timing (busy time, idle time
//!   and a poll-duration histogram per task, shown by `brisk::diag::dump()`)
//!   on (or off) for runtimes whose builder does not decide with
//!   `task_timing`. Without it, timing is on in debug builds and off in
//!   release builds.
//!
//! - `console` (default): every native runtime (built by
//!   [`Runtime::builder`], `#[brisk::main]` or [`run`]) reads the
//!   environment variable **`BRISK_CONSOLE`** when it is built. Set to a
//!   loopback address such as `127.0.0.1:6669` (or `1` for that address),
//!   the runtime serves the live console there until it shuts down — see
//!   [`diag::console`] and the `brisk-console` terminal UI. Unset, empty,
//!   `0` or `off`: no console. A malformed or non-loopback address, or one
//!   in use (by another runtime of the process, say), is reported on stderr
//!   and the runtime runs without a console. Without the feature the
//!   variable is ignored; `brisk::diag::console::serve()` works either way.
//! - `sim` (default): the simulator, [`sim`]. Without it, `brisk::sim` holds
//!   only [`buggify!`](macro@sim::buggify), which is then the constant `false`:
//!   fault points compile to nothing, and `brisk-sim` is not built. With
//!   it, `buggify!()` outside a simulation costs one thread-local read and
//!   a predictable branch. To ship without the simulator and test with it,
//!   depend on `brisk` with `default-features = false` and add
//!   `features = ["sim"]` under `[dev-dependencies]` (cargo's resolver 2
//!   keeps dev-dependency features out of normal builds). The environment
//!   variable `BRISK_SEED` picks the seed of a `#[brisk::test(sim)]` test.
//! - `tokio-io`: `brisk::net::TcpStream`, `&TcpStream` and its four halves
//!   (and likewise `brisk::net::UnixStream`, `&UnixStream` and its halves)
//!   also implement `tokio::io::AsyncRead` and `tokio::io::AsyncWrite`, so
//!   tokio-based crates (`tokio-util` codecs, ...) run over Brisk sockets;
//!   `brisk::fs::File` (with `AsyncSeek`) and `brisk::io::{Stdin, Stdout,
//!   Stderr}` implement them too.
//! - `hyper`: the TCP types (`TcpStream`, `&TcpStream`, its halves)
//!   implement `hyper::rt::Read` (read halves) and `hyper::rt::Write`
//!   (write halves), and `brisk::compat::hyper` provides `HyperExecutor`
//!   (a `hyper::rt::Executor` spawning on the current runtime), `HyperTimer`
//!   and `HyperSleep` (a `hyper::rt::Timer` on the runtime's clock), so
//!   hyper 1.x clients and servers, HTTP/1.1 and HTTP/2, run on Brisk.
//! - `tokio-console`: every task is a `runtime.spawn` tracing span (entered
//!   around each poll, closed at completion) and every waker operation a
//!   `runtime::waker` event, in the schema console-subscriber reads, so the
//!   unmodified `tokio-console` shows Brisk tasks. The application also
//!   depends on `console-subscriber`, builds with
//!   `--cfg console_without_tokio_unstable` (in `.cargo/config.toml` under
//!   `[build] rustflags`, or `RUSTFLAGS`) and calls
//!   `console_subscriber::init()` at the start of `main`; see [`diag`] for
//!   the full recipe. Without a subscriber it costs almost nothing; without
//!   the feature, nothing.
//! - `tokio-compat`: [`compat::tokio`](crate::compat) — Brisk-portable code
//!   (spawn, time, net, fs, sync, scopes, cancellation) inside a tokio
//!   application, on tokio's threads, timers and reactor:
//!   `brisk::compat::tokio::enter(fut).await` in `#[tokio::main]`. Adds
//!   tokio (`rt`, `time`, `net`) to the dependencies.
//!
//! ## Writing a library
//! The [`guide`] chapter for library authors says what to
//! depend on, what never to do, and how to state cancel-safety.

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub use brisk_core::scope::{scope, try_scope};
pub use brisk_core::task::{spawn, spawn_blocking, spawn_local, JoinError, JoinHandle};
pub use brisk_core::task_local;
pub use brisk_core::{join, select, try_join};
pub use brisk_macros::{main, test, traced};
pub use brisk_rt::{PanicPolicy, Runtime};

#[doc(hidden)]
pub mod __private {
    pub mod backends;
}

/// Random numbers through the current runtime: seeded per node in the
/// simulator, a fast per-runtime generator on the native runtime, a
/// per-thread one outside any runtime. See [`rand::u64`] and friends.
pub mod rand {
    pub use brisk_core::rand::*;
}

/// The deterministic simulator: many nodes on one thread, a seeded
/// scheduler, virtual time, crashes, pauses and `buggify!` fault points.
/// See [`sim::Sim`] to start.
#[cfg(feature = "sim")]
pub mod sim {
    pub use brisk_sim::*;
}

/// The deterministic simulator is not in this build (brisk's `sim` feature
/// is off): only [`buggify!`](macro@crate::sim::buggify), the constant `false`,
/// is here, so code with fault points builds unchanged.
#[cfg(not(feature = "sim"))]
pub mod sim {
    pub use crate::__buggify_off as buggify;

    /// What `#[brisk::test(sim)]` expands to call; without the `sim`
    /// feature it refuses to compile and says why.
    #[doc(hidden)]
    pub mod __private {
        /// Never implemented: the bound that makes a simulated test fail to
        /// compile without the simulator.
        #[diagnostic::on_unimplemented(
            message = "`#[brisk::test(sim)]` needs the simulator, and brisk's `sim` feature is off",
            label = "this test runs in the simulator",
            note = "enable it for tests: `brisk = {{ ..., features = [\"sim\"] }}` under `[dev-dependencies]`"
        )]
        pub trait SimFeatureIsOff {}

        /// Does not compile: see [`SimFeatureIsOff`].
        pub fn run_test<F: SimFeatureIsOff>(_name: &str, _seeds: u64, _body: F) {}
    }
}

/// `buggify!` without the simulator: the constant `false`. Public so that
/// `brisk::sim::buggify` can name it in that configuration; always compiled
/// so that it is tested in every build.
#[doc(hidden)]
#[macro_export]
macro_rules! __buggify_off {
    () => {
        false
    };
}

/// Runtimes: building, entering, shutting down, handles and metrics.
pub mod runtime {
    pub use brisk_core::context::EnterGuard;
    pub use brisk_core::runtime::Handle;
    pub use brisk_rt::runtime::{
        Builder, PanicPolicy, Runtime, RuntimeFlavor, RuntimeMetrics, ShutdownReport,
    };
}

/// Tasks: spawning, joining, naming, yielding, task-local storage, task
/// groups, and cancellation.
///
/// # Cancellation
/// Cancellation in Brisk is a state of a tree, not only a drop. Every task,
/// scope, [`TaskGroup`](crate::task::TaskGroup) and [`with_deadline`](crate::time::with_deadline)
/// block is a node; a task started inside another one (or inside a scope or
/// group) is its child. [`JoinHandle::cancel`](crate::task::JoinHandle::cancel), `Scope::cancel`,
/// [`TaskGroup::cancel`](crate::task::TaskGroup::cancel) and an expiring deadline mark a node and every
/// descendant, and wake them.
///
/// Marked code stops at its next *cancellation point* — a Brisk operation
/// that would wait (sleep, I/O, channel send or receive, lock, semaphore,
/// notify, barrier, join, `yield_now`):
/// - operations that return `io::Result` (sockets, files, stdio) return an
///   `io::Error` that carries [`Cancelled`](crate::task::Cancelled) (kind `TimedOut` for a
///   deadline, `Other` otherwise; [`Cancelled::from_io`](crate::task::Cancelled::from_io) recovers it), so
///   the code can clean up and return with `?`;
/// - every other operation **unwinds**: the future is dropped at that await,
///   up to the nearest boundary — the task (whose `JoinHandle` then reports
///   a cancelled [`JoinError`]), a scope child (whose handle reports
///   `Err(Cancelled)`), or `with_deadline` (which returns `Err(Cancelled)`).
///   Nothing is taken half-way: a receive that unwinds leaves the message in
///   the channel, a lock that unwinds was never held.
///
/// Every Brisk operation is a cancellation point, even one that could
/// complete at once, so a consumer of a channel that is never empty still
/// stops; hand-written leaf futures join in by calling
/// [`coop::poll_proceed`] (or `poll_proceed_io`).
/// [`is_cancelled`](crate::task::is_cancelled) lets a long synchronous loop
/// check. [`non_cancellable`](crate::task::non_cancellable) shields cleanup that must finish.
/// [`JoinHandle::abort`](crate::task::JoinHandle::abort) is the hard stop (the future is dropped at once).
/// Tasks whose `JoinHandle` was dropped and that have no node are not in
/// the tree (nothing can cancel them softly), so what they spawn is not
/// either: fire-and-forget spawning pays nothing for the tree.
///
/// ```
/// use std::time::Duration;
/// # brisk::run(async {
/// let worker = brisk::spawn(async {
///     let listener = brisk::net::TcpListener::bind("127.0.0.1:0").await?;
///     match listener.accept().await {
///         Ok(_) => Ok("a connection"),
///         // Cancelled: clean up, then report it.
///         Err(e) if brisk::task::Cancelled::is_io(&e) => Ok("cancelled cleanly"),
///         Err(e) => Err(e),
///     }
/// });
/// brisk::time::sleep(Duration::from_millis(5)).await;
/// worker.cancel();
/// assert_eq!(worker.await.unwrap().unwrap(), "cancelled cleanly");
/// # });
/// ```
pub mod task {
    pub use brisk_core::scope::{Scope, ScopeChildInfo, ScopeFuture, ScopedJoinHandle, TryScope};
    pub use brisk_core::task::{
        id, is_cancelled, non_cancellable, spawn, spawn_blocking, spawn_local, try_id,
        waker_task_id, yield_now, AbortHandle, Builder, CancelReason, Cancelled, Id, JoinError,
        JoinHandle, JoinNext, NonCancellable, TaskGroup, TaskInfo, TaskKind, TaskState,
        WakerCounts, YieldNow,
    };
    pub use brisk_core::task_local::{AccessError, LocalKey, TaskLocalFuture};
}

/// Time through the current runtime's clock.
pub mod time {
    pub use brisk_core::time::{
        interval, interval_at, sleep, sleep_until, timeout, timeout_at, with_deadline, Duration,
        Elapsed, Instant, Interval, MissedTickBehavior, Sleep, Tick, Timeout, WithDeadline,
    };
}

/// Combinators for futures inside one task: sets of futures, joins, races
/// and `select!`.
pub mod future {
    pub use brisk_core::future::*;
}

/// Cooperative scheduling: the per-poll budget.
pub mod coop {
    pub use brisk_core::coop::{
        has_budget_remaining, poll_proceed, poll_proceed_io, unconstrained, Unconstrained,
    };
}

/// Diagnostics: task dumps (text, serde, Graphviz), deadlock cycles over
/// Brisk's locks, an opt-in dump on `SIGQUIT`/`SIGUSR1`, the live
/// console's server ([`diag::console`]), a timeline as Chrome trace-event
/// JSON ([`diag::trace`]), and the `tokio-console` recipe.
pub mod diag {
    pub use brisk_diag::*;
}

/// Wait-points: what a pending task waits on.
pub mod wait {
    pub use brisk_core::wait::{
        contended_resources, holders_of, next_resource_id, set, HolderSnapshot, ResourceKind,
        WaitPoint, HOLDER_SLOTS,
    };
}

/// Networking through the current runtime: TCP and UDP shaped like
/// `std::net`, and Unix-domain sockets on the native runtime. The halves of
/// a split stream live in [`net::tcp`] and [`net::unix`], as in tokio.
pub mod net {
    pub use brisk_core::net::{
        lookup_host, Accept, Interest, OwnedReadHalf, OwnedWriteHalf, ReadHalf, Ready, ReadyFuture,
        TcpListener, TcpStream, ToSocketAddrs, UdpRecv, UdpRecvFrom, UdpSocket, WriteHalf,
    };
    #[cfg(unix)]
    pub use brisk_rt::io::unix::{UnixDatagram, UnixListener, UnixStream};

    /// The halves of a [`TcpStream`] and the error of putting halves of
    /// different streams back together.
    pub mod tcp {
        pub use brisk_core::net::tcp::{
            OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf,
        };
    }

    /// The halves of a [`UnixStream`] and the error of putting halves of
    /// different streams back together.
    #[cfg(unix)]
    pub mod unix {
        pub use brisk_rt::io::unix::{
            OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf,
        };
    }
}

/// Unix signals: `ctrl_c()` and `signal(SignalKind)` streams, delivered
/// through the native runtime's reactor.
#[cfg(unix)]
pub mod signal {
    pub use brisk_rt::signal::{ctrl_c, signal, Signal, SignalKind};
}

/// Files and directories through the current runtime: the async forms of
/// `std::fs`, run on the blocking pool.
pub mod fs {
    pub use brisk_core::fs::*;
}

/// Async I/O: the `futures-io` traits, their extension methods, buffering,
/// `copy`, `split`, and an in-memory `Cursor`; runtime-agnostic.
pub mod io {
    pub use brisk_core::io::*;
}

/// Interop with other ecosystems, both ways (see the feature flags above):
/// hyper on Brisk (`compat::hyper`), and Brisk-portable code inside a tokio
/// application (`compat::tokio`, the tokio backend of `brisk-compat`).
pub mod compat {
    /// hyper 1.x on Brisk (feature `hyper`): an executor, a timer, and
    /// `hyper::rt::{Read, Write}` for `brisk::net::TcpStream` and its halves.
    ///
    /// ```
    /// use brisk::compat::hyper::{HyperExecutor, HyperTimer};
    /// let builder = hyper::server::conn::http2::Builder::new(HyperExecutor)
    ///     .timer(HyperTimer)
    ///     .clone();
    /// # drop(builder);
    /// ```
    #[cfg(feature = "hyper")]
    pub mod hyper {
        pub use brisk_core::net::hyper::{HyperExecutor, HyperSleep, HyperTimer};
    }

    #[cfg(feature = "tokio-compat")]
    pub use brisk_compat::tokio;
}

/// The library authors' chapter: what to depend on, what never to do, `Send`
/// and `!Send` from one implementation, and how to state cancel-safety.
/// Its examples are doctests.
#[doc = include_str!("../docs/library-authors.md")]
pub mod guide {}

/// Async iteration: the `AsyncIterator` trait (with `poll_progress`, so
/// `buffered` keeps working while you handle an item), producers such as
/// [`iter::stream`] and [`iter::from_fn`], combinators, and conversions with
/// `futures_core::Stream`.
pub mod iter {
    pub use brisk_iter::*;
}

/// Synchronisation primitives and channels: runtime-agnostic, fair,
/// cancel-safe, and able to say who holds what.
pub mod sync {
    pub use brisk_sync::*;
}

/// Runs a future to completion on a new current-thread runtime, from
/// synchronous code, and shuts the runtime down afterwards.
///
/// Tasks spawned inside run on the same thread; whatever is still running
/// when the future finishes is cancelled.
///
/// # Panics
/// If called from inside a runtime (use `.await` there), or if the future
/// panics.
///
/// # Examples
/// ```
/// let answer = brisk::run(async {
///     let a = brisk::spawn(async { 40 });
///     a.await.unwrap() + 2
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    let rt = match Runtime::builder().current_thread().build() {
        Ok(rt) => rt,
        Err(e) => panic!("`brisk::run` could not start a runtime: {e}"),
    };
    let out = rt.block_on(future);
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    out
}
