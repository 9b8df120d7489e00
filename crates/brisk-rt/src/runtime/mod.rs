//! Building, running and shutting down a native runtime.

mod current_thread;
mod hazards;
mod local;
mod multi_thread;
mod shared;

use crate::blocking::{BlockingPool, PoolConfig};
use crate::error;
use crate::loom::{AtomicBool, Mutex, Ordering};
use crate::park::Parker;
use crate::queue::Inject;
use crate::time::clock::os_now;
use crate::time::driver::Driver;
use brisk_core::context::{self, EnterGuard};
use brisk_core::runtime::{Backend, Handle, ScheduleRef};
use brisk_core::task::{JoinHandle, TaskInfo};
use brisk_core::time::{Instant, TimeDriver};
use shared::{BlockingSchedule, Counters, Flavor, Shared};
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

/// Which scheduler a runtime uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Every task runs on the thread that calls `block_on`.
    CurrentThread,
    /// Tasks run on a pool of worker threads that steal work from each other.
    MultiThread,
}

/// What the runtime does when a task panics.
///
/// The panic is always caught and delivered to the task's `JoinHandle` as a
/// `JoinError` naming the task; the policy decides what happens to the rest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PanicPolicy {
    /// Keep running the other tasks (the default).
    #[default]
    KeepRunning,
    /// Stop the runtime: `block_on` panics with the task's name, spawn
    /// location and panic message, and the runtime shuts down.
    ShutdownRuntime,
}

#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) event_interval: u32,
    pub(crate) global_queue_interval: u32,
    pub(crate) monitor_interval: Duration,
    pub(crate) panic_policy: PanicPolicy,
    pub(crate) drop_timeout: Duration,
}

/// Configures and builds a [`Runtime`].
///
/// ```
/// use brisk::{PanicPolicy, Runtime};
/// let rt = Runtime::builder()
///     .multi_thread()
///     .worker_threads(2)
///     .thread_name("api-worker")
///     .on_task_panic(PanicPolicy::KeepRunning)
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Clone)]
pub struct Builder {
    flavor: RuntimeFlavor,
    worker_threads: Option<usize>,
    thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    thread_stack_size: Option<usize>,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
    rng_seed: Option<u64>,
    config: Config,
    /// Diagnostics: timing, hazard thresholds, the hazard callback
    /// (builder methods in `hazards.rs`).
    diag: brisk_core::diag::DiagConfig,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new_multi_thread()
    }
}

impl Builder {
    /// A builder for a multi-thread runtime with one worker per core.
    pub fn new_multi_thread() -> Builder {
        Builder {
            flavor: RuntimeFlavor::MultiThread,
            worker_threads: None,
            thread_name: Arc::new(|| "brisk-worker".to_owned()),
            thread_stack_size: None,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            rng_seed: None,
            config: Config {
                event_interval: 61,
                global_queue_interval: 31,
                monitor_interval: Duration::from_millis(1),
                panic_policy: PanicPolicy::KeepRunning,
                drop_timeout: Duration::from_secs(1),
            },
            diag: brisk_core::diag::DiagConfig::default(),
        }
    }

    /// A builder for a current-thread runtime.
    pub fn new_current_thread() -> Builder {
        let mut b = Builder::new_multi_thread();
        b.flavor = RuntimeFlavor::CurrentThread;
        b
    }

    /// Runs every task on the thread that calls `block_on`: no worker
    /// threads, no synchronisation on the hot path.
    ///
    /// ```
    /// let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    /// let v = rt.block_on(async { brisk::spawn(async { 5 }).await.unwrap() });
    /// assert_eq!(v, 5);
    /// ```
    pub fn current_thread(&mut self) -> &mut Self {
        self.flavor = RuntimeFlavor::CurrentThread;
        self
    }

    /// Runs tasks on a pool of work-stealing worker threads (the default).
    ///
    /// ```
    /// let rt = brisk::Runtime::builder().multi_thread().worker_threads(2).build().unwrap();
    /// let v = rt.block_on(async { brisk::spawn(async { 5 }).await.unwrap() });
    /// assert_eq!(v, 5);
    /// ```
    pub fn multi_thread(&mut self) -> &mut Self {
        self.flavor = RuntimeFlavor::MultiThread;
        self
    }

    /// Number of worker threads (multi-thread only). Default: the number of
    /// available cores.
    ///
    /// # Panics
    /// If `n` is zero.
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "{}", error::WORKER_THREADS_ZERO);
        self.worker_threads = Some(n);
        self
    }

    /// Names the runtime's threads (workers and blocking threads).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name: String = name.into();
        self.thread_name = Arc::new(move || name.clone());
        self
    }

    /// Names the runtime's threads with a function called for each new thread.
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.thread_name = Arc::new(f);
        self
    }

    /// Stack size of the runtime's threads.
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Upper bound of the blocking pool (default 512). Jobs beyond it queue.
    ///
    /// # Panics
    /// If `n` is zero.
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "{}", error::MAX_BLOCKING_ZERO);
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread lives (default 10 s).
    pub fn thread_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.thread_keep_alive = d;
        self
    }

    /// Seeds the runtime's random generator (`brisk::rand`), which is
    /// otherwise seeded from OS entropy. On a current-thread runtime the
    /// numbers its tasks draw then repeat from run to run (as far as the
    /// order of the draws does); for full determinism use the simulator.
    ///
    /// ```
    /// let draw = || {
    ///     let rt = brisk::Runtime::builder().current_thread().rng_seed(42).build().unwrap();
    ///     rt.block_on(async { brisk::rand::u64() })
    /// };
    /// assert_eq!(draw(), draw());
    /// ```
    pub fn rng_seed(&mut self, seed: u64) -> &mut Self {
        self.rng_seed = Some(seed);
        self
    }

    /// What happens when a task panics; see [`PanicPolicy`].
    ///
    /// ```should_panic
    /// use brisk::{PanicPolicy, Runtime};
    /// let rt = Runtime::builder()
    ///     .current_thread()
    ///     .on_task_panic(PanicPolicy::ShutdownRuntime)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     brisk::spawn(async { panic!("boom") });
    ///     std::future::pending::<()>().await // never returns: the panic stops the runtime
    /// });
    /// ```
    pub fn on_task_panic(&mut self, policy: PanicPolicy) -> &mut Self {
        self.config.panic_policy = policy;
        self
    }

    /// Polls between checks of timers and of the shared queue (default 61).
    pub fn event_interval(&mut self, n: u32) -> &mut Self {
        self.config.event_interval = n.max(1);
        self
    }

    /// Every `n`th task is taken from the shared queue first, for fairness
    /// between local and remote wake-ups (default 31).
    pub fn global_queue_interval(&mut self, n: u32) -> &mut Self {
        self.config.global_queue_interval = n.max(2);
        self
    }

    /// How long dropping the runtime waits for tasks to finish before it
    /// detaches them and prints what is left (default 1 s).
    pub fn shutdown_timeout_on_drop(&mut self, d: Duration) -> &mut Self {
        self.config.drop_timeout = d;
        self
    }

    /// Accepted for easy porting from tokio: Brisk's timers are always on.
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Accepted for easy porting from tokio: Brisk's timers are always on.
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Builds the runtime and starts its threads.
    ///
    /// With the feature `console` (on by default in the `brisk` facade),
    /// a runtime built while the environment variable `BRISK_CONSOLE` holds
    /// an address (`127.0.0.1:6669`) serves the live console there until it
    /// shuts down; see `brisk::diag::console`. A malformed, non-loopback or
    /// busy address is reported on stderr and the runtime runs without one.
    ///
    /// # Errors
    /// If the OS refuses to start a worker thread.
    ///
    /// # Panics
    /// If `worker_threads` was set on a current-thread builder.
    #[track_caller]
    pub fn build(&mut self) -> io::Result<Runtime> {
        let workers = match self.flavor {
            RuntimeFlavor::CurrentThread => {
                assert!(
                    self.worker_threads.is_none(),
                    "{}",
                    error::WORKER_THREADS_ON_CURRENT_THREAD
                );
                1
            }
            RuntimeFlavor::MultiThread => self.worker_threads.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            }),
        };
        let time = Arc::new(Driver::new(workers));
        let io_driver = Arc::new(crate::io::IoDriver::new()?);
        let backend_slot: Arc<OnceLock<Weak<RtBackend>>> = Arc::new(OnceLock::new());
        let start_slot = backend_slot.clone();
        let blocking = Arc::new(BlockingPool::new(PoolConfig {
            max_threads: self.max_blocking_threads,
            keep_alive: self.thread_keep_alive,
            thread_name: shim_arc(self.thread_name.clone()),
            stack_size: self.thread_stack_size,
            on_thread_start: Some(shim_arc::<dyn Fn() + Send + Sync>(Arc::new(move || {
                if let Some(backend) = start_slot.get().and_then(Weak::upgrade) {
                    let guard = context::enter(Handle::new(backend));
                    BLOCKING_CONTEXT.with(|c| *c.borrow_mut() = Some(guard));
                }
            }))),
            on_thread_stop: Some(shim_arc::<dyn Fn() + Send + Sync>(Arc::new(|| {
                let _ = BLOCKING_CONTEXT.try_with(|c| c.borrow_mut().take());
            }))),
        }));
        let flavor = match self.flavor {
            RuntimeFlavor::CurrentThread => Flavor::CurrentThread(current_thread::CtState::new()),
            RuntimeFlavor::MultiThread => {
                Flavor::MultiThread(multi_thread::MtState::new(workers, &io_driver))
            }
        };
        let shared = Arc::new(Shared {
            // Workers (or the current-thread driver) and up to two
            // `block_on` threads own a shard each; other threads share two.
            registry: brisk_core::task::Registry::with_owners(2, workers + 2, self.diag.clone()),
            inject: Inject::new(),
            time: time.clone(),
            io: io_driver,
            blocking,
            config: self.config.clone(),
            flavor,
            shutting_down: AtomicBool::new(false),
            panic_stop: Mutex::new(None),
            panic_stopped: AtomicBool::new(false),
            block_on_parkers: Mutex::new(Vec::new()),
            counters: Counters::default(),
            deadlock_panic: Mutex::new(None),
            deadlock_pending: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&shared);
        time.set_unpark(Arc::new(move || {
            if let Some(shared) = weak.upgrade() {
                match &shared.flavor {
                    Flavor::CurrentThread(ct) => ct.unpark(),
                    Flavor::MultiThread(mt) => mt.unpark_timer_thread(),
                }
            }
        }));
        let describe = match self.flavor {
            RuntimeFlavor::CurrentThread => "Brisk current-thread runtime".to_owned(),
            RuntimeFlavor::MultiThread => format!("Brisk multi-thread runtime ({workers} workers)"),
        };
        let backend = Arc::new(RtBackend {
            sched: ScheduleRef::new(shared.clone()),
            blocking: ScheduleRef::new(Arc::new(BlockingSchedule {
                shared: shared.clone(),
            })),
            time: time.clone(),
            net: crate::io::net::NativeNet {
                driver: shared.io.clone(),
            },
            shared: shared.clone(),
            rng: match self.rng_seed {
                Some(seed) => brisk_core::rand::Rng::from_seed(seed),
                None => brisk_core::rand::Rng::from_entropy(),
            },
            describe,
        });
        let _ = backend_slot.set(Arc::downgrade(&backend));
        let handle = Handle::new(backend);
        let rt = Runtime {
            shared: shared.clone(),
            handle: handle.clone(),
            flavor: self.flavor,
            threads: Mutex::new(Vec::new()),
            shut_down: AtomicBool::new(false),
            #[cfg(feature = "console")]
            console: std::sync::Mutex::new(None),
        };
        if self.flavor == RuntimeFlavor::MultiThread {
            let mut threads = rt.threads.lock().unwrap();
            for index in 0..workers {
                let shared = shared.clone();
                let handle = handle.clone();
                let mut b = std::thread::Builder::new().name((self.thread_name)());
                if let Some(s) = self.thread_stack_size {
                    b = b.stack_size(s);
                }
                threads.push(b.spawn(move || {
                    let _ctx = context::enter(handle);
                    let _sched = context::enter_scheduler_thread();
                    multi_thread::run_worker(shared, index);
                })?);
            }
            let monitor_shared = shared.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("brisk-monitor".to_owned())
                    .spawn(move || multi_thread::run_monitor(monitor_shared))?,
            );
        }
        if let Flavor::CurrentThread(ct) = &shared.flavor {
            if self.diag.long_poll.is_some() {
                let watched = shared.clone();
                let t = std::thread::Builder::new()
                    .name("brisk-watchdog".to_owned())
                    .spawn(move || current_thread::run_watchdog(watched))?;
                *ct.watchdog.lock().unwrap() = Some(t.thread().clone());
                rt.threads.lock().unwrap().push(t);
            }
        }
        #[cfg(feature = "console")]
        {
            *rt.console.lock().unwrap() = brisk_diag::console::spawn_from_env(&handle);
        }
        Ok(rt)
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("panic_policy", &self.config.panic_policy)
            .finish()
    }
}

/// The blocking pool takes its hooks as `crate::loom::Arc`s.
#[cfg(not(loom))]
fn shim_arc<T: ?Sized>(a: Arc<T>) -> crate::loom::Arc<T> {
    a
}

/// The blocking pool takes its hooks as `crate::loom::Arc`s.
#[cfg(loom)]
fn shim_arc<T: ?Sized>(a: Arc<T>) -> crate::loom::Arc<T> {
    crate::loom::Arc::from_std(a)
}

thread_local! {
    static BLOCKING_CONTEXT: std::cell::RefCell<Option<EnterGuard>> = const { std::cell::RefCell::new(None) };
}

/// The native backend, as `brisk-core` sees it.
pub(crate) struct RtBackend {
    pub(crate) shared: Arc<Shared>,
    sched: ScheduleRef,
    blocking: ScheduleRef,
    time: Arc<dyn TimeDriver>,
    net: crate::io::net::NativeNet,
    /// `brisk::rand`'s generator for this runtime.
    rng: brisk_core::rand::Rng,
    describe: String,
}

impl Backend for RtBackend {
    fn scheduler(&self) -> &ScheduleRef {
        &self.sched
    }

    fn local_scheduler(&self) -> Option<ScheduleRef> {
        local::LocalQueue::current_for(&self.shared)
    }

    fn blocking_scheduler(&self) -> &ScheduleRef {
        &self.blocking
    }

    fn now(&self) -> Instant {
        self.shared.time.clock_now()
    }

    fn uses_system_clock(&self) -> bool {
        true
    }

    fn time_driver(&self) -> Option<&Arc<dyn TimeDriver>> {
        Some(&self.time)
    }

    fn describe(&self) -> &str {
        &self.describe
    }

    fn net(&self) -> Option<&dyn brisk_core::net::NetDriver> {
        Some(&self.net)
    }

    fn rand_u64(&self) -> Option<u64> {
        Some(self.rng.next_u64())
    }

    fn metrics(&self) -> Vec<(&'static str, u64)> {
        let flavor = match self.shared.flavor {
            Flavor::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            Flavor::MultiThread(_) => RuntimeFlavor::MultiThread,
        };
        metrics_of(&self.shared, flavor).to_pairs()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A Brisk runtime: schedulers, timers and a blocking pool.
///
/// Most programs use `#[brisk::main]` or [`brisk::run`](../fn.run.html)
/// instead of building one by hand.
///
/// ```
/// use std::time::Duration;
/// let rt = brisk::Runtime::builder().current_thread().build().unwrap();
/// rt.block_on(async {
///     let t = brisk::spawn(async {
///         brisk::time::sleep(Duration::from_millis(1)).await;
///         "slept"
///     });
///     assert_eq!(t.await.unwrap(), "slept");
/// });
/// let report = rt.shutdown_timeout(Duration::from_millis(100));
/// assert!(report.is_clean());
/// ```
pub struct Runtime {
    shared: Arc<Shared>,
    handle: Handle,
    flavor: RuntimeFlavor,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    shut_down: AtomicBool,
    /// The live console started from `BRISK_CONSOLE`, stopped at shutdown.
    #[cfg(feature = "console")]
    console: std::sync::Mutex<Option<brisk_diag::console::Console>>,
}

impl Runtime {
    /// A multi-thread runtime with default settings.
    ///
    /// # Errors
    /// If the OS refuses to start a worker thread.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// A builder (multi-thread by default; call `current_thread()` to switch).
    pub fn builder() -> Builder {
        Builder::new_multi_thread()
    }

    /// The runtime's flavour.
    pub fn flavor(&self) -> RuntimeFlavor {
        self.flavor
    }

    /// Runs `future` to completion on this thread and returns its output.
    ///
    /// On a current-thread runtime this thread also runs every spawned task
    /// while it waits; on a multi-thread runtime the workers do. `!Send`
    /// tasks spawned with `spawn_local` from inside the future run on this
    /// thread and are cancelled when `block_on` returns.
    ///
    /// # Panics
    /// - If called from inside a runtime (it would stall the tasks of the
    ///   calling worker): use `.await`, or call it inside `spawn_blocking`.
    /// - If the future panics, or a task panics under
    ///   [`PanicPolicy::ShutdownRuntime`].
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if self.shut_down.load(Ordering::Acquire) {
            panic!("{}", error::BLOCK_ON_AFTER_SHUTDOWN);
        }
        let Some(_sched) = context::enter_scheduler_thread().filter(|_| !context::is_task_thread())
        else {
            panic!(
                "{} (called at {})",
                error::BLOCK_ON_INSIDE_RUNTIME,
                std::panic::Location::caller()
            );
        };
        let _ctx = context::enter(self.handle.clone());
        // A large future is boxed once here rather than moved through the
        // scheduler loop's frames (see `brisk::future::BOX_FUTURE_THRESHOLD`).
        if std::mem::size_of::<F>() > brisk_core::future::BOX_FUTURE_THRESHOLD {
            self.block_on_inner(Box::pin(future))
        } else {
            self.block_on_inner(future)
        }
    }

    fn block_on_inner<F: Future>(&self, future: F) -> F::Output {
        match self.flavor {
            RuntimeFlavor::CurrentThread => current_thread::block_on(&self.shared, future),
            RuntimeFlavor::MultiThread => multi_thread::block_on(&self.shared, future),
        }
    }

    /// Spawns a task on this runtime (from any thread).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A cloneable handle for spawning from other threads.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime current on this thread (so `brisk::spawn` works
    /// from synchronous code) until the guard drops.
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// A snapshot of the runtime's counters and queue depths.
    ///
    /// Reading them is cheap (no lock on a scheduler's hot path): each
    /// counter is written by one thread with relaxed stores, on a cache line
    /// of its own. From code that only has a [`Handle`], use
    /// [`RuntimeMetrics::of`].
    ///
    /// ```
    /// let rt = brisk::Runtime::builder().multi_thread().worker_threads(2).build().unwrap();
    /// rt.block_on(async {
    ///     brisk::spawn(async {}).await.unwrap();
    /// });
    /// let m = rt.metrics();
    /// assert_eq!(m.workers, 2);
    /// assert_eq!(m.worker_polls.len(), 2);
    /// assert!(m.polls >= 1);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        metrics_of(&self.shared, self.flavor)
    }
}

impl Runtime {
    /// Shuts the runtime down: cancels every remaining task, waits up to
    /// `timeout` for them (and for blocking jobs) to finish, stops the
    /// threads, and reports the tasks that did not finish in time, with their
    /// names and spawn locations.
    ///
    /// Idle tasks are cancelled at once (their futures are dropped on this
    /// thread); a task in the middle of a poll is cancelled when that poll
    /// returns; a blocking job cannot be interrupted and is waited for.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = brisk::Runtime::builder().multi_thread().worker_threads(1).build().unwrap();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// rt.spawn_blocking(move || {
    ///     started_tx.send(()).unwrap();
    ///     std::thread::sleep(Duration::from_millis(300));
    /// });
    /// started.recv().unwrap();
    /// let report = rt.shutdown_timeout(Duration::from_millis(10));
    /// assert_eq!(report.unfinished().len(), 1);
    /// println!("{report}");
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) -> ShutdownReport {
        self.shutdown_impl(timeout)
    }

    /// Shuts down without waiting: cancels idle tasks now and detaches the
    /// threads.
    pub fn shutdown_background(self) -> ShutdownReport {
        self.shutdown_impl(Duration::ZERO)
    }

    fn shutdown_impl(&self, timeout: Duration) -> ShutdownReport {
        let started = os_now();
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return ShutdownReport {
                unfinished: Vec::new(),
                timeout,
                waited: Duration::ZERO,
            };
        }
        let deadline = started + timeout;
        let s = &self.shared;
        // 0. Stop the live console, if any (its thread holds a handle).
        #[cfg(feature = "console")]
        drop(self.console.lock().map(|mut c| c.take()));
        // 1. Refuse new tasks: spawns from now on complete as cancelled.
        s.shutting_down.store(true, Ordering::Release);
        s.registry.close();
        // 2. Cancel every task. Idle ones are dropped here; running ones when
        //    their poll returns; local ones are routed to their owner thread.
        //    (An empty registry is not swept: a sweep reads every slot the
        //    runtime ever used, and counting is one lock per shard.)
        if !s.registry.is_empty() {
            for task in s.registry.tasks() {
                task.shutdown();
            }
        }
        match &s.flavor {
            Flavor::CurrentThread(ct) => ct.unpark(),
            Flavor::MultiThread(mt) => mt.unpark_all(),
        }
        // 3. Wait for them to leave the registry. A spawn that raced the
        //    close on a worker may still have been listed: sweep again,
        //    after 1, 2, 4, 8... waits (a sweep reads every slot).
        let mut waits: u32 = 0;
        while !s.registry.is_empty() {
            let now = os_now();
            if now >= deadline {
                break;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(1)));
            waits += 1;
            if waits.is_power_of_two() {
                for task in s.registry.tasks() {
                    if !task.as_ref().is_cancelled() {
                        task.shutdown();
                    }
                }
            }
        }
        // 4. Whatever is still listed did not finish.
        let unfinished: Vec<TaskInfo> = if s.registry.is_empty() {
            Vec::new()
        } else {
            s.registry
                .tasks()
                .iter()
                .map(|t| t.as_ref().info())
                .collect()
        };
        // 5. Stop the workers and the monitor; join those that exit in time,
        //    detach any stuck in a poll.
        match &s.flavor {
            Flavor::MultiThread(mt) => {
                mt.stop.store(true, Ordering::Release);
                mt.unpark_all();
            }
            Flavor::CurrentThread(ct) => ct.stop_watchdog(),
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap());
        let me = std::thread::current().id();
        for t in threads {
            if t.thread().id() == me {
                continue;
            }
            while !t.is_finished() && os_now() < deadline + Duration::from_millis(50) {
                std::thread::sleep(Duration::from_micros(200));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
        // 6. The blocking pool gets what is left of the deadline.
        let left = deadline.saturating_duration_since(os_now());
        s.blocking.shutdown(Some(left));
        // 7. Timers: later polls of this runtime's sleeps fail with a clear message.
        s.time.shutdown();
        // 8. I/O: every wait on a socket of this runtime ends with an error.
        s.io.shutdown();
        // 9. Release queued references.
        s.inject.close();
        drop(s.inject.drain());
        match &s.flavor {
            Flavor::CurrentThread(ct) => current_thread::drain(ct),
            Flavor::MultiThread(mt) => mt.drain(),
        }
        ShutdownReport {
            unfinished,
            timeout,
            waited: os_now().saturating_duration_since(started),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if self.shut_down.load(Ordering::Acquire) {
            return;
        }
        let report = self.shutdown_impl(self.shared.config.drop_timeout);
        if !report.is_clean() && !std::thread::panicking() {
            eprintln!("{report}");
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.flavor)
            .field("alive_tasks", &self.shared.registry.len())
            .finish()
    }
}

/// What [`Runtime::shutdown_timeout`] left behind.
#[derive(Clone, Debug)]
pub struct ShutdownReport {
    unfinished: Vec<TaskInfo>,
    timeout: Duration,
    waited: Duration,
}

impl ShutdownReport {
    /// True if every task finished in time.
    pub fn is_clean(&self) -> bool {
        self.unfinished.is_empty()
    }

    /// The tasks that had not finished when the timeout passed.
    pub fn unfinished(&self) -> &[TaskInfo] {
        &self.unfinished
    }

    /// How long shutdown took.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// Prints the report to standard error.
    pub fn print(&self) {
        eprintln!("{self}");
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return write!(f, "brisk: runtime shut down cleanly in {:?}", self.waited);
        }
        writeln!(
            f,
            "brisk: {} task(s) did not finish within the shutdown timeout of {:?} (they were detached):",
            self.unfinished.len(),
            self.timeout
        )?;
        for (i, t) in self.unfinished.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {t}")?;
        }
        Ok(())
    }
}

/// Counters and queue depths of a runtime; see [`Runtime::metrics`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// The scheduler flavour.
    pub flavor: RuntimeFlavor,
    /// Worker threads (1 for current-thread).
    pub workers: usize,
    /// Tasks spawned and not yet finished.
    pub alive_tasks: usize,
    /// Tasks waiting in the shared inject queue.
    pub inject_queue_depth: usize,
    /// Tasks waiting in each worker's local queue (on a multi-thread
    /// runtime, the task in the worker's LIFO slot counts too).
    pub local_queue_depths: Vec<usize>,
    /// Task polls so far (a poll counts from its start, so a task whose
    /// completion the caller has seen is always counted).
    pub polls: u64,
    /// Task polls so far, per worker (one entry for current-thread).
    pub worker_polls: Vec<u64>,
    /// Successful steals between workers.
    pub steals: u64,
    /// Successful steals, per worker (the thief's count).
    pub worker_steals: Vec<u64>,
    /// Times a scheduler thread went to sleep.
    pub parks: u64,
    /// Tasks scheduled from outside the runtime's threads.
    pub remote_schedules: u64,
    /// Threads in the blocking pool.
    pub blocking_threads: usize,
    /// Of which idle.
    pub idle_blocking_threads: usize,
    /// Of which running a job.
    pub busy_blocking_threads: usize,
    /// Blocking jobs waiting for a thread.
    pub blocking_queue_depth: usize,
    /// Timers armed right now.
    pub armed_timers: u64,
    /// Sockets registered with the reactor right now: one per open listener,
    /// stream or UDP socket (dropping one releases its registration, even in
    /// the middle of a read). A number that keeps growing means sockets leak.
    pub io_registrations: usize,
}

impl RuntimeMetrics {
    /// The metrics of the native runtime behind `handle`, or `None` if the
    /// handle belongs to another backend (the simulator, say).
    ///
    /// ```
    /// # brisk::run(async {
    /// let handle = brisk::runtime::Handle::current();
    /// let m = brisk::runtime::RuntimeMetrics::of(&handle).unwrap();
    /// assert!(m.workers >= 1);
    /// assert_eq!(m.local_queue_depths.len(), m.workers);
    /// # });
    /// ```
    pub fn of(handle: &Handle) -> Option<RuntimeMetrics> {
        let backend = handle.backend().as_any().downcast_ref::<RtBackend>()?;
        let flavor = match backend.shared.flavor {
            Flavor::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            Flavor::MultiThread(_) => RuntimeFlavor::MultiThread,
        };
        Some(metrics_of(&backend.shared, flavor))
    }
}

/// The counters and queue depths of the runtime that owns `s`.
fn metrics_of(s: &Shared, flavor: RuntimeFlavor) -> RuntimeMetrics {
    let (workers, local_queue_depths) = match &s.flavor {
        Flavor::CurrentThread(ct) => (1, vec![ct.local_depth()]),
        Flavor::MultiThread(mt) => (mt.num_workers(), mt.local_depths()),
    };
    let c = &s.counters;
    let (polls, steals, parks) = match &s.flavor {
        Flavor::CurrentThread(_) => (
            c.polls.load(Ordering::Relaxed),
            c.steals.load(Ordering::Relaxed),
            c.parks.load(Ordering::Relaxed),
        ),
        Flavor::MultiThread(mt) => mt.counters(),
    };
    let (worker_polls, worker_steals) = match &s.flavor {
        Flavor::CurrentThread(_) => (vec![polls], vec![steals]),
        Flavor::MultiThread(mt) => (mt.worker_polls(), mt.worker_steals()),
    };
    RuntimeMetrics {
        flavor,
        worker_polls,
        worker_steals,
        workers,
        alive_tasks: s.registry.len(),
        inject_queue_depth: s.inject.len(),
        local_queue_depths,
        polls,
        steals,
        parks,
        remote_schedules: c.remote_schedules.load(Ordering::Relaxed),
        blocking_threads: s.blocking.num_threads(),
        idle_blocking_threads: s.blocking.idle_threads(),
        busy_blocking_threads: s.blocking.busy_threads(),
        blocking_queue_depth: s.blocking.queue_depth(),
        armed_timers: s.time.live_timers(),
        io_registrations: s.io.registrations(),
    }
}

impl RuntimeMetrics {
    /// The metrics by name, as `Backend::metrics` reports them: one number
    /// per name (queue depths summed, with the deepest local queue).
    fn to_pairs(&self) -> Vec<(&'static str, u64)> {
        let n = |v: usize| v as u64;
        vec![
            ("workers", n(self.workers)),
            ("alive_tasks", n(self.alive_tasks)),
            ("inject_queue_depth", n(self.inject_queue_depth)),
            ("local_queue_depth", n(self.local_queue_depths.iter().sum())),
            (
                "max_local_queue_depth",
                n(self.local_queue_depths.iter().copied().max().unwrap_or(0)),
            ),
            ("polls", self.polls),
            ("steals", self.steals),
            ("parks", self.parks),
            ("remote_schedules", self.remote_schedules),
            ("blocking_threads", n(self.blocking_threads)),
            ("busy_blocking_threads", n(self.busy_blocking_threads)),
            ("blocking_queue_depth", n(self.blocking_queue_depth)),
            ("armed_timers", self.armed_timers),
            ("io_registrations", n(self.io_registrations)),
        ]
    }
}

/// Removes a `block_on` thread's parker from the runtime's list on drop.
pub(crate) struct UnregisterParker<'a>(pub(crate) &'a Shared, pub(crate) Arc<Parker>);

impl Drop for UnregisterParker<'_> {
    fn drop(&mut self) {
        if let Ok(mut v) = self.0.block_on_parkers.lock() {
            if let Some(pos) = v.iter().position(|p| Arc::ptr_eq(p, &self.1)) {
                v.swap_remove(pos);
            }
        }
    }
}

/// Panics out of `block_on` when the panic policy stopped the runtime.
pub(crate) fn panic_policy_stop(msg: &str) -> ! {
    panic!("{}: {msg}", error::PANIC_POLICY_STOP);
}
