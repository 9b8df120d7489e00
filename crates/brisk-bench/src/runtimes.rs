//! The runtimes under test and a small abstraction that lets one generic
//! scenario body run on all of them.
//!
//! | name       | how it is built                                                                 | where spawned tasks run |
//! |------------|---------------------------------------------------------------------------------|-------------------------|
//! | `brisk_ct` | `brisk::Runtime::builder().current_thread().build()`                            | the thread in `block_on` |
//! | `brisk_mt` | `brisk::Runtime::builder().multi_thread().worker_threads(W).build()`            | `W` worker threads      |
//! | `tokio_ct` | `tokio::runtime::Builder::new_current_thread().enable_all().build()`            | the thread in `block_on` |
//! | `tokio_mt` | `tokio::runtime::Builder::new_multi_thread().worker_threads(W).enable_all().build()` | `W` worker threads |
//! | `brisk_on_tokio` | `tokio::runtime::Builder::new_multi_thread().worker_threads(W).enable_all().build()`, the root future wrapped in `brisk::compat::tokio::enter` | `W` tokio worker threads |
//! | `smol`     | `Box::leak(Box::new(async_executor::StaticExecutor::new()))`, driven by `futures_lite::future::block_on(ex.run(fut))` | the main thread only |
//!
//! `brisk_on_tokio` (Brisk's primitives on the tokio backend) runs only in
//! the `compat_*` scenarios, against `tokio_mt`; it is not one of
//! [`RuntimeKind::ALL`].
//!
//! `W` is `std::thread::available_parallelism()` (2 on the reference
//! machine). Every runtime's root future runs on the main thread inside its
//! `block_on`; the multi-thread runtimes run spawned tasks on their workers.
//!
//! Per runtime, [`Spawner`] picks the runtime's own primitives: `spawn`
//! (`brisk::spawn`, `tokio::spawn`, `StaticExecutor::spawn`), `yield_now`
//! (`brisk::task::yield_now`, `tokio::task::yield_now`,
//! `futures_lite::future::yield_now`), sleeps (`brisk::time::sleep`,
//! `tokio::time::sleep`, `async_io::Timer::after`) and the opt-out of the
//! cooperative budget (`brisk::coop::unconstrained`,
//! `tokio::task::unconstrained`; smol has no budget). Brisk and tokio detach a
//! task by dropping its `JoinHandle`, smol by `Task::detach`.
//!
//! smol's timers (`async_io::Timer`) live in async-io's global reactor,
//! which its own background thread ("async-io") drives, since
//! `futures_lite::future::block_on` does not.
//!
//! The network scenarios start their work with [`Runtime::block_on_io`]
//! instead, which is the same except for smol: there it drives the executor
//! with `async_io::block_on` (what `smol::block_on` is), so the main thread
//! polls the reactor itself while the executor is idle, as a smol network
//! application does; socket readiness would otherwise reach the executor
//! only through the "async-io" thread. The sockets of each runtime are
//! listed in [`crate::net_libs`].
//!
//! A smol `StaticExecutor` cannot be shut down: each run leaks a fresh one
//! (a few hundred bytes); "shutting it down" runs it until its queue is
//! empty. No scenario leaves a pending task on it.

use async_executor::{StaticExecutor, Task};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a runtime's shutdown may wait for its tasks.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// One of the five runtimes under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuntimeKind {
    /// Brisk, current-thread flavour.
    BriskCt,
    /// Brisk, multi-thread flavour with one worker per core.
    BriskMt,
    /// tokio, current-thread flavour.
    TokioCt,
    /// tokio, multi-thread flavour with one worker per core.
    TokioMt,
    /// smol's `StaticExecutor`, single-threaded on the main thread.
    Smol,
    /// `BriskCt` with per-poll timing on and every hazard detector off
    /// (`--timing` runs only).
    BriskCtTiming,
    /// `BriskMt` with per-poll timing on and every hazard detector off
    /// (`--timing` runs only).
    BriskMtTiming,
    /// `BriskCt` with per-poll timing and every hazard detector on
    /// (`--timing` runs only).
    BriskCtTimed,
    /// `BriskMt` with per-poll timing and every hazard detector on
    /// (`--timing` runs only).
    BriskMtTimed,
    /// `BriskCt` without its always-on diagnostics: no task registry, no
    /// wait-points (`--registry` runs only).
    BriskCtBare,
    /// `BriskMt` without its always-on diagnostics (`--registry` runs only).
    BriskMtBare,
    /// Brisk's primitives on a multi-thread tokio runtime, through
    /// `brisk::compat::tokio` (the `compat_*` scenarios only).
    BriskOnTokio,
}

impl RuntimeKind {
    /// All runtimes, in the order of the first pass.
    pub(crate) const ALL: [RuntimeKind; 5] = [
        RuntimeKind::BriskCt,
        RuntimeKind::BriskMt,
        RuntimeKind::TokioCt,
        RuntimeKind::TokioMt,
        RuntimeKind::Smol,
    ];

    /// The runtimes of a `--timing` run: each Brisk flavour with its
    /// diagnostics as built by default in release (off), with per-poll
    /// timing only, and fully on.
    pub(crate) const TIMING: [RuntimeKind; 6] = [
        RuntimeKind::BriskCt,
        RuntimeKind::BriskCtTiming,
        RuntimeKind::BriskCtTimed,
        RuntimeKind::BriskMt,
        RuntimeKind::BriskMtTiming,
        RuntimeKind::BriskMtTimed,
    ];

    /// The runtimes of a `--registry` run: each Brisk flavour as built by
    /// default (task registry and wait-points on) and without them.
    pub(crate) const REGISTRY: [RuntimeKind; 4] = [
        RuntimeKind::BriskCt,
        RuntimeKind::BriskCtBare,
        RuntimeKind::BriskMt,
        RuntimeKind::BriskMtBare,
    ];

    /// The runtime's name in the table and the JSON (`brisk_ct`, ...).
    pub(crate) fn name(self) -> &'static str {
        match self {
            RuntimeKind::BriskCt => "brisk_ct",
            RuntimeKind::BriskMt => "brisk_mt",
            RuntimeKind::TokioCt => "tokio_ct",
            RuntimeKind::TokioMt => "tokio_mt",
            RuntimeKind::Smol => "smol",
            RuntimeKind::BriskOnTokio => "brisk_on_tokio",
            RuntimeKind::BriskCtTiming => "brisk_ct_timing",
            RuntimeKind::BriskMtTiming => "brisk_mt_timing",
            RuntimeKind::BriskCtTimed => "brisk_ct_timed",
            RuntimeKind::BriskMtTimed => "brisk_mt_timed",
            RuntimeKind::BriskCtBare => "brisk_ct_bare",
            RuntimeKind::BriskMtBare => "brisk_mt_bare",
        }
    }

    /// For a Brisk flavour that differs from a default one only in its
    /// diagnostics: the JSON key of the ratio, the flavour with the
    /// diagnostics in question and the one without (the ratio is the cost
    /// of the first over the cost of the second).
    pub(crate) fn overhead(self) -> Option<(&'static str, RuntimeKind, RuntimeKind)> {
        use RuntimeKind::*;
        match self {
            BriskCtTiming => Some(("timing_ratio", self, BriskCt)),
            BriskMtTiming => Some(("timing_ratio", self, BriskMt)),
            BriskCtTimed => Some(("detectors_ratio", self, BriskCt)),
            BriskMtTimed => Some(("detectors_ratio", self, BriskMt)),
            BriskCtBare => Some(("registry_ratio", BriskCt, self)),
            BriskMtBare => Some(("registry_ratio", BriskMt, self)),
            _ => None,
        }
    }

    /// The default Brisk flavour a diagnostics variant is built from
    /// (`BriskCt` or `BriskMt`); any other runtime itself.
    pub(crate) fn base(self) -> RuntimeKind {
        use RuntimeKind::*;
        match self {
            BriskCtTiming | BriskCtTimed | BriskCtBare => BriskCt,
            BriskMtTiming | BriskMtTimed | BriskMtBare => BriskMt,
            other => other,
        }
    }

    /// True for Brisk's two flavours.
    pub(crate) fn is_brisk(self) -> bool {
        matches!(
            self,
            RuntimeKind::BriskCt | RuntimeKind::BriskMt | RuntimeKind::BriskOnTokio
        )
    }

    /// Builds a fresh runtime of this kind (never inside a timed region).
    ///
    /// # Panics
    /// If the runtime cannot be built.
    pub(crate) fn build(self) -> Runtime {
        let workers = worker_threads();
        let inner = match self {
            RuntimeKind::BriskCt => Inner::Brisk(
                brisk::Runtime::builder()
                    .current_thread()
                    .build()
                    .expect("build brisk current-thread runtime"),
            ),
            RuntimeKind::BriskMt => Inner::Brisk(
                brisk::Runtime::builder()
                    .multi_thread()
                    .worker_threads(workers)
                    .build()
                    .expect("build brisk multi-thread runtime"),
            ),
            RuntimeKind::TokioCt => Inner::Tokio(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build tokio current-thread runtime"),
            ),
            RuntimeKind::BriskOnTokio => Inner::BriskOnTokio(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .enable_all()
                    .build()
                    .expect("build tokio multi-thread runtime"),
            ),
            RuntimeKind::TokioMt => Inner::Tokio(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .enable_all()
                    .build()
                    .expect("build tokio multi-thread runtime"),
            ),
            RuntimeKind::Smol => Inner::Smol(Box::leak(Box::new(StaticExecutor::new()))),
            RuntimeKind::BriskCtTiming
            | RuntimeKind::BriskMtTiming
            | RuntimeKind::BriskCtTimed
            | RuntimeKind::BriskMtTimed
            | RuntimeKind::BriskCtBare
            | RuntimeKind::BriskMtBare => {
                use RuntimeKind::*;
                let mut b = brisk::Runtime::builder();
                if matches!(self, BriskCtTiming | BriskCtTimed | BriskCtBare) {
                    b.current_thread();
                } else {
                    b.multi_thread().worker_threads(workers);
                }
                // The release defaults, stated: nothing measured per poll.
                b.task_timing(false)
                    .long_poll_threshold(None)
                    .detect_lost_wakers(false)
                    .cancelled_running_threshold(None);
                match self {
                    BriskCtTiming | BriskMtTiming => {
                        b.task_timing(true);
                    }
                    BriskCtTimed | BriskMtTimed => {
                        // Everything a debug build turns on, with the debug
                        // defaults.
                        b.task_timing(true)
                            .long_poll_threshold(Some(std::time::Duration::from_millis(100)))
                            .detect_lost_wakers(true)
                            .cancelled_running_threshold(Some(std::time::Duration::from_secs(5)));
                    }
                    _ => {
                        // Every task of the scenarios finishes before the
                        // runtime shuts down, which this mode requires.
                        b.untracked_for_benchmarks();
                    }
                }
                Inner::Brisk(b.build().expect("build brisk runtime"))
            }
        };
        Runtime { kind: self, inner }
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Worker threads of the multi-thread flavours: one per available core.
pub(crate) fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A built runtime, ready to run one scenario.
pub(crate) struct Runtime {
    /// Which runtime this is.
    kind: RuntimeKind,
    /// The runtime itself.
    inner: Inner,
}

/// The runtime objects behind a [`Runtime`].
enum Inner {
    /// A Brisk runtime of either flavour.
    Brisk(brisk::Runtime),
    /// A tokio runtime of either flavour.
    Tokio(tokio::runtime::Runtime),
    /// A leaked smol `StaticExecutor`.
    Smol(&'static StaticExecutor),
    /// A multi-thread tokio runtime running Brisk's primitives.
    BriskOnTokio(tokio::runtime::Runtime),
}

impl Runtime {
    /// Which runtime this is.
    pub(crate) fn kind(&self) -> RuntimeKind {
        self.kind
    }

    /// The Brisk runtime's handle, for a Brisk runtime.
    pub(crate) fn brisk_handle(&self) -> Option<&brisk::runtime::Handle> {
        match &self.inner {
            Inner::Brisk(rt) => Some(rt.handle()),
            _ => None,
        }
    }

    /// Runs `work` to completion as this runtime's root future (in its
    /// `block_on`) and returns its output.
    pub(crate) fn block_on<W: Work>(&self, work: W) -> W::Output {
        match &self.inner {
            Inner::Brisk(rt) => rt.block_on(work.run(BriskSpawner)),
            Inner::Tokio(rt) => rt.block_on(work.run(TokioSpawner)),
            Inner::BriskOnTokio(rt) => {
                rt.block_on(brisk::compat::tokio::enter(work.run(BriskSpawner)))
            }
            Inner::Smol(ex) => futures_lite::future::block_on(ex.run(work.run(SmolSpawner(ex)))),
        }
    }

    /// Like [`block_on`](Runtime::block_on), but smol's executor is driven
    /// by `async_io::block_on`, which polls async-io's reactor on this
    /// thread while idle (see the module docs). For the network scenarios.
    pub(crate) fn block_on_io<W: Work>(&self, work: W) -> W::Output {
        match &self.inner {
            Inner::Smol(ex) => async_io::block_on(ex.run(work.run(SmolSpawner(ex)))),
            _ => self.block_on(work),
        }
    }

    /// Shuts the runtime down, cancelling whatever tasks are left. A smol
    /// `StaticExecutor` cannot be shut down: it is ticked until its queue is
    /// empty (which drops cancelled tasks' futures); tasks that are merely
    /// pending stay where they are.
    pub(crate) fn shutdown(self) {
        match self.inner {
            Inner::Brisk(rt) => {
                let report = rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
                if !report.is_clean() {
                    eprintln!("note: {} shutdown was not clean:", self.kind);
                    report.print();
                }
            }
            Inner::Tokio(rt) | Inner::BriskOnTokio(rt) => rt.shutdown_timeout(SHUTDOWN_TIMEOUT),
            Inner::Smol(ex) => while ex.try_tick() {},
        }
    }
}

/// A scenario body that is generic over the runtime: [`Runtime::block_on`]
/// calls [`Work::run`] with the matching [`Spawner`].
pub(crate) trait Work {
    /// What the body returns (usually a measured duration).
    type Output;

    /// The root future of the scenario, using `sp` for every runtime
    /// primitive.
    fn run<S: Spawner>(self, sp: S) -> impl Future<Output = Self::Output>;
}

/// The primitives a scenario needs from a runtime; see the module docs for
/// what each implementation calls.
pub(crate) trait Spawner: Copy + Send + Sync + 'static {
    /// A handle that resolves to a spawned task's output.
    type Handle<T: Send + 'static>: Future<Output = T> + Send + Unpin + 'static;
    /// The runtime's sleep (or timer) future.
    type Sleep: Future + Send + 'static;
    /// The runtime's own ecosystem of sync primitives and channels.
    type Sync: crate::sync_libs::SyncLib;
    /// The runtime's own networking stack.
    type Net: crate::net_libs::NetLib;

    /// Spawns `future` on the runtime.
    fn spawn<F>(self, future: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Lets a task run on without anyone waiting for it.
    fn detach<T: Send + 'static>(handle: Self::Handle<T>);

    /// The runtime's own `yield_now`.
    fn yield_now(self) -> impl Future<Output = ()> + Send;

    /// A sleep of `duration` on the runtime's timer (not yet polled).
    fn sleep(self, duration: Duration) -> Self::Sleep;

    /// Runs `future` without the runtime's cooperative budget forcing it to
    /// yield (identity for smol, which has no budget).
    fn unconstrained<F: Future + Send>(self, future: F) -> impl Future<Output = F::Output> + Send;
}

/// Wraps a Brisk or tokio `JoinHandle` so that it yields the task's output
/// directly, panicking on a join error (a task of a benchmark never fails).
pub(crate) struct Joined<H>(H);

impl<H, T, E> Future for Joined<H>
where
    H: Future<Output = Result<T, E>> + Unpin,
    E: fmt::Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.expect("benchmark task failed"))
    }
}

/// [`Spawner`] for Brisk's flavours and Brisk on tokio (spawns on the
/// current Brisk runtime).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BriskSpawner;

impl Spawner for BriskSpawner {
    type Handle<T: Send + 'static> = Joined<brisk::JoinHandle<T>>;
    type Sleep = brisk::time::Sleep;
    type Sync = crate::sync_libs::BriskSync;
    type Net = crate::net_libs::BriskNet;

    fn spawn<F>(self, future: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Joined(brisk::spawn(future))
    }

    fn detach<T: Send + 'static>(handle: Self::Handle<T>) {
        drop(handle);
    }

    fn yield_now(self) -> impl Future<Output = ()> + Send {
        brisk::task::yield_now()
    }

    fn sleep(self, duration: Duration) -> Self::Sleep {
        brisk::time::sleep(duration)
    }

    fn unconstrained<F: Future + Send>(self, future: F) -> impl Future<Output = F::Output> + Send {
        brisk::coop::unconstrained(future)
    }
}

/// [`Spawner`] for both tokio flavours (spawns on the current runtime).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokioSpawner;

impl Spawner for TokioSpawner {
    type Handle<T: Send + 'static> = Joined<tokio::task::JoinHandle<T>>;
    type Sleep = tokio::time::Sleep;
    type Sync = crate::sync_libs::TokioSync;
    type Net = crate::net_libs::TokioNet;

    fn spawn<F>(self, future: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Joined(tokio::spawn(future))
    }

    fn detach<T: Send + 'static>(handle: Self::Handle<T>) {
        drop(handle);
    }

    fn yield_now(self) -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(self, duration: Duration) -> Self::Sleep {
        tokio::time::sleep(duration)
    }

    fn unconstrained<F: Future + Send>(self, future: F) -> impl Future<Output = F::Output> + Send {
        tokio::task::unconstrained(future)
    }
}

/// [`Spawner`] for smol: spawns on the leaked `StaticExecutor`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SmolSpawner(&'static StaticExecutor);

impl Spawner for SmolSpawner {
    type Handle<T: Send + 'static> = Task<T>;
    type Sleep = async_io::Timer;
    type Sync = crate::sync_libs::SmolSync;
    type Net = crate::net_libs::SmolNet;

    fn spawn<F>(self, future: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(future)
    }

    fn detach<T: Send + 'static>(handle: Self::Handle<T>) {
        handle.detach();
    }

    fn yield_now(self) -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn sleep(self, duration: Duration) -> Self::Sleep {
        async_io::Timer::after(duration)
    }

    fn unconstrained<F: Future + Send>(self, future: F) -> impl Future<Output = F::Output> + Send {
        future
    }
}
