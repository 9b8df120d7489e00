//! The tokio backend: Brisk-portable code inside a tokio application.
//!
//! One line makes a future, and everything it spawns, run Brisk code on the
//! tokio runtime that polls it:
//!
//! ```
//! use std::time::Duration;
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     brisk::compat::tokio::enter(async {
//!         let listener = brisk::net::TcpListener::bind("127.0.0.1:0").await?;
//!         let addr = listener.local_addr()?;
//!         let server = brisk::spawn(async move {
//!             let (mut conn, _) = listener.accept().await?;
//!             let mut buf = [0; 5];
//!             brisk::io::AsyncReadExt::read_exact(&mut conn, &mut buf).await?;
//!             std::io::Result::Ok(buf)
//!         });
//!         let mut client = brisk::net::TcpStream::connect(addr).await?;
//!         brisk::io::AsyncWriteExt::write_all(&mut client, b"hello").await?;
//!         let got = brisk::time::timeout(Duration::from_secs(10), server).await;
//!         assert_eq!(&got.unwrap().unwrap()?, b"hello");
//!         Ok(())
//!     })
//!     .await
//! }
//! ```
//!
//! # What runs where
//! | Brisk API | on tokio |
//! |---|---|
//! | `brisk::spawn`, wake-ups | each run of a task is a tokio task on the tokio scheduler |
//! | `brisk::spawn_local` | the thread polling the [`enter`] future, inside its poll |
//! | `brisk::spawn_blocking`, `brisk::fs` | tokio's blocking pool |
//! | `brisk::time` | one tokio timer per armed Brisk timer; the clock is the system's monotonic clock |
//! | `brisk::net` | tokio's `TcpListener`, `TcpStream`, `UdpSocket` (tokio's reactor) |
//! | `brisk::sync`, scopes, cancellation, task-locals | Brisk's own, unchanged |
//! | `brisk::rand` | a per-thread generator seeded from the OS |
//!
//! # Lifetime
//! A [`Runtime`] is a Brisk runtime whose threads, timers and reactor are
//! tokio's; it owns a task registry like any Brisk runtime. When it is
//! dropped (for [`enter`], when the `enter` future completes or is dropped)
//! it refuses new tasks and cancels the ones still running, like
//! `brisk::run` does when its future returns; it does not wait for them.
//! When the tokio runtime itself shuts down, Brisk sleeps and sockets fail
//! with an error instead of hanging.
//!
//! # Limits
//! - `spawn_local` works only inside the [`enter`] (or
//!   [`Runtime::run_until`]) future, whose poll runs the local tasks; awaited
//!   in `#[tokio::main]` or `block_on` that future stays on one thread. From
//!   a task spawned with `brisk::spawn` it panics (tokio has no per-thread
//!   queues without a `LocalSet`).
//! - tokio's sockets remember one waker per direction: two tasks reading
//!   (or two writing) the same socket at once make one of them wait for the
//!   next readiness event. A split stream (one reader, one writer) is fine.
//! - tokio's paused clock (`start_paused`) does not drive Brisk timers;
//!   deterministic time is what `brisk::sim` is for.

mod local;
mod net;
mod sched;
mod time;

use crate::error;
use brisk_core::context::{self, EnterGuard};
use brisk_core::runtime::{Backend, Handle, ScheduleRef};
use brisk_core::task::Registry;
use brisk_core::time::{clock, Instant, TimeDriver};
use local::LocalQueue;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Runs `future` with a fresh Brisk runtime current, on the tokio runtime
/// that polls it: Brisk-portable code inside it (and in every task it
/// spawns) runs on tokio's threads, timers and reactor.
///
/// The Brisk runtime is made on the first poll, so
/// `tokio_runtime.block_on(enter(fut))` works, and lives as long as the
/// returned future: tasks still running when it completes are cancelled
/// (see the [module docs](self)).
///
/// # Panics
/// When first polled outside a tokio runtime (the message says how to fix it).
///
/// # Examples
/// ```
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() {
///     let n = brisk::compat::tokio::enter(async {
///         let (tx, mut rx) = brisk::sync::mpsc::channel(4);
///         brisk::spawn(async move { tx.send(7).await.unwrap() });
///         rx.recv().await.unwrap()
///     })
///     .await;
///     assert_eq!(n, 7);
/// }
/// ```
#[track_caller]
pub fn enter<F: Future>(future: F) -> RunUntil<F> {
    RunUntil {
        future: ManuallyDrop::new(future),
        rt: None,
        owner: None,
        called_at: std::panic::Location::caller(),
        local: None,
    }
}

/// A current-thread tokio runtime with time and I/O enabled, for
/// `#[brisk::test(backends = [tokio])]`. Not a public API.
#[doc(hidden)]
pub fn __test_runtime() -> ::tokio::runtime::Runtime {
    ::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("`#[brisk::test]` could not build the tokio runtime")
}

/// A Brisk runtime whose threads, timers and reactor are a tokio runtime's.
///
/// Use it instead of [`enter`] to keep one Brisk runtime for the whole
/// application, to spawn Brisk tasks from synchronous code through its
/// [`handle`](Runtime::handle), or to run several futures in it.
///
/// ```
/// #[tokio::main]
/// async fn main() {
///     let rt = brisk::compat::tokio::Runtime::new();
///     let handle = rt.handle().clone();
///     // From any thread, through the handle:
///     let job = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
///         .join()
///         .unwrap();
///     assert_eq!(rt.run_until(job).await.unwrap(), 42);
/// }
/// ```
pub struct Runtime {
    backend: Arc<TokioBackend>,
    handle: Handle,
}

impl Runtime {
    /// A Brisk runtime on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime; use [`from_tokio`](Runtime::from_tokio) there.
    #[track_caller]
    pub fn new() -> Runtime {
        Runtime::current_or_panic(std::panic::Location::caller())
    }

    fn current_or_panic(called_at: &'static std::panic::Location<'static>) -> Runtime {
        match ::tokio::runtime::Handle::try_current() {
            Ok(h) => Runtime::from_tokio(h),
            Err(_) => panic!("{} (called at {called_at})", error::NOT_IN_TOKIO),
        }
    }

    /// A Brisk runtime on the tokio runtime behind `tokio`.
    ///
    /// ```
    /// let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    /// let rt = brisk::compat::tokio::Runtime::from_tokio(tokio.handle().clone());
    /// let task = rt.handle().spawn(async { brisk::spawn_blocking(|| 5).await.unwrap() });
    /// assert_eq!(tokio.block_on(rt.run_until(task)).unwrap(), 5);
    /// ```
    pub fn from_tokio(tokio: ::tokio::runtime::Handle) -> Runtime {
        let backend = TokioBackend::new(tokio);
        let handle = Handle::new(backend.clone());
        Runtime { backend, handle }
    }

    /// The Brisk handle: spawn onto this runtime from anywhere, or make it
    /// current with [`Handle::enter`].
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime current on this thread until the guard drops, so
    /// `brisk::spawn` works from synchronous code.
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// Runs `future` with this runtime current. `brisk::spawn_local` tasks
    /// spawned inside it run inside this future's poll, on its thread; they
    /// are cancelled when it completes.
    #[track_caller]
    pub fn run_until<F: Future>(&self, future: F) -> RunUntil<F> {
        RunUntil {
            future: ManuallyDrop::new(future),
            rt: Some((self.handle.clone(), self.backend.clone())),
            owner: None,
            called_at: std::panic::Location::caller(),
            local: None,
        }
    }

    /// The tokio runtime this one runs on.
    pub fn tokio_handle(&self) -> &::tokio::runtime::Handle {
        &self.backend.tokio
    }

    /// Tasks of this runtime still alive.
    pub fn alive_tasks(&self) -> usize {
        self.backend.registry.len()
    }
}

impl Default for Runtime {
    #[track_caller]
    fn default() -> Runtime {
        Runtime::new()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.backend.shutdown(&self.handle);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("alive_tasks", &self.alive_tasks())
            .finish()
    }
}

/// The future returned by [`enter`] and [`Runtime::run_until`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct RunUntil<F> {
    /// Dropped by hand in `drop`, first, with the Brisk runtime current.
    future: ManuallyDrop<F>,
    /// The runtime's handle and backend; `None` until the first poll of an
    /// [`enter`] future.
    rt: Option<(Handle, Arc<TokioBackend>)>,
    /// Where [`enter`] was called, for the message when it has no tokio.
    called_at: &'static std::panic::Location<'static>,
    /// The queue of `spawn_local` tasks, made on the first poll, owned by the
    /// thread of that poll, with its `ScheduleRef` (made once, cloned into
    /// each local task).
    local: Option<(Arc<LocalQueue>, ScheduleRef)>,
    /// The runtime itself, for [`enter`] (made on the first poll).
    owner: Option<Runtime>,
}

// `future` is the only field that is structurally pinned.
impl<F: Unpin> Unpin for RunUntil<F> {}

/// Local tasks run per poll of `RunUntil` before it yields to tokio.
const LOCAL_BATCH: usize = 64;

impl<F: Future> Future for RunUntil<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is never moved out of `self` (it is dropped in
        // place with it); the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if this.rt.is_none() {
            let rt = Runtime::current_or_panic(this.called_at);
            this.rt = Some((rt.handle.clone(), rt.backend.clone()));
            this.owner = Some(rt);
        }
        let (handle, backend) = this.rt.as_ref().expect("set above");
        let _ctx = context::enter(handle.clone());
        let me = std::thread::current().id();
        match &this.local {
            Some((q, _)) if q.owner() == me => {}
            Some((q, _)) if q.used() => panic!("{}", error::ENTER_MOVED_THREADS),
            _ => {
                let q = LocalQueue::new(backend.sched.clone(), me);
                let r = ScheduleRef::new(q.clone());
                this.local = Some((q, r));
            }
        }
        let (local, local_ref) = this.local.as_ref().expect("made above").clone();
        let _installed = local::install(&local, local_ref);
        local.register(cx.waker());
        // SAFETY: see above; `future` stays where it is until it is dropped
        // in place.
        let mut future = unsafe { Pin::new_unchecked(&mut *this.future) };
        for _ in 0..4 {
            if let Poll::Ready(out) = future.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            if local.run_batch(LOCAL_BATCH) == 0 {
                return Poll::Pending;
            }
        }
        // Still busy: let tokio run its other tasks, then come back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<F> Drop for RunUntil<F> {
    fn drop(&mut self) {
        // 1. The future, with its runtime current (its destructors may use it).
        // 2. The `spawn_local` tasks, on this thread.
        // 3. The runtime, for `enter` (field drop): it cancels what is left.
        let _ctx = self
            .rt
            .as_ref()
            .map(|(handle, _)| context::enter(handle.clone()));
        // SAFETY: dropped exactly once, here, in place (pinning allows that),
        // and never used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.future) };
        if let Some((local, _)) = self.local.take() {
            local.close(std::thread::current().id());
        }
    }
}

impl<F> fmt::Debug for RunUntil<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntil").finish_non_exhaustive()
    }
}

/// The contract implemented on tokio.
pub(crate) struct TokioBackend {
    pub(crate) tokio: ::tokio::runtime::Handle,
    registry: Arc<Registry>,
    pub(crate) sched: Arc<sched::TaskSchedule>,
    sched_dyn: ScheduleRef,
    blocking: ScheduleRef,
    time: Arc<dyn TimeDriver>,
    net: net::TokioNet,
}

impl TokioBackend {
    fn new(tokio: ::tokio::runtime::Handle) -> Arc<TokioBackend> {
        let shards = std::thread::available_parallelism().map_or(4, |n| n.get() * 4);
        let registry = Arc::new(Registry::new(shards));
        Arc::new_cyclic(|me| {
            let sched = Arc::new(sched::TaskSchedule::new(
                tokio.clone(),
                me.clone(),
                registry.clone(),
            ));
            TokioBackend {
                registry: registry.clone(),
                sched_dyn: ScheduleRef::new(sched.clone()),
                sched,
                blocking: ScheduleRef::new(Arc::new(sched::BlockingSchedule::new(
                    tokio.clone(),
                    me.clone(),
                    registry,
                ))),
                time: Arc::new(time::TokioTime::new(tokio.clone())),
                net: net::TokioNet::new(tokio.clone()),
                tokio,
            }
        })
    }

    /// Refuses new tasks and cancels the live ones (idle ones here, running
    /// ones when their poll ends, local ones on their thread).
    fn shutdown(&self, handle: &Handle) {
        let _ctx = context::enter(handle.clone());
        self.registry.close();
        for task in self.registry.tasks() {
            task.shutdown();
        }
    }
}

impl Backend for TokioBackend {
    fn scheduler(&self) -> &ScheduleRef {
        &self.sched_dyn
    }

    fn local_scheduler(&self) -> Option<ScheduleRef> {
        local::current_for(&self.sched)
    }

    fn blocking_scheduler(&self) -> &ScheduleRef {
        &self.blocking
    }

    fn now(&self) -> Instant {
        Instant::from_origin(clock::system_now())
    }

    fn uses_system_clock(&self) -> bool {
        true
    }

    fn time_driver(&self) -> Option<&Arc<dyn TimeDriver>> {
        Some(&self.time)
    }

    fn describe(&self) -> &str {
        "Brisk on tokio (brisk::compat::tokio)"
    }

    fn net(&self) -> Option<&dyn brisk_core::net::NetDriver> {
        Some(&self.net)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
