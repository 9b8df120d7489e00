//! The blocking thread pool behind `brisk::spawn_blocking`.
//!
//! Runs type-erased [`Job`]s on a set of OS threads that grows on demand up to
//! [`PoolConfig::max_threads`] and shrinks again when threads sit idle for
//! [`PoolConfig::keep_alive`]. When every thread is busy and the bound is
//! reached, jobs wait in a FIFO queue.
//!
//! # Why it is written by hand
//!
//! A general-purpose pool would do the running, but not the two things Brisk's
//! shutdown needs from it:
//!
//! * **A report.** [`BlockingPool::shutdown`] tells the runtime how many jobs
//!   were still running when it stopped waiting, so the runtime's shutdown
//!   report can name them instead of hiding them.
//! * **Bounded drops.** Dropping a runtime must never hang on a job that
//!   blocks forever. Shutdown waits at most its timeout; threads still busy
//!   after that are detached, never joined. Jobs that never started are
//!   dropped on the thread that called shutdown (dropping a job cancels its
//!   task), so nothing is lost without a trace.
//!
//! It must also obey the crate's rules: synchronisation comes from
//! [`crate::loom`] so the wake-up protocol is model-checked (see the `loom_tests`
//! module below), and time is read only through [`crate::time::clock::os_now`].
//!
//! # How it works
//!
//! One mutex guards all of the pool's [`State`]; two condition variables hang
//! off it: `work` (idle threads wait on it for jobs) and `exited` (shutdown
//! waits on it for threads to finish). The wake-up protocol is the classic
//! idle count plus condvar, with one extra counter, `notified`, of wake-ups
//! that were promised to idle threads but not yet claimed:
//!
//! * [`BlockingPool::spawn`] pushes the job and, if some idle thread has not
//!   already been promised a job (`idle > notified`), promises it this one
//!   (`notified += 1`) and signals `work`. Otherwise it starts a new thread if
//!   the bound allows, and otherwise leaves the job queued: every thread that
//!   is not idle looks at the queue again before it sleeps or exits.
//! * A thread checks the queue, and registers itself as idle, in one critical
//!   section, and the condvar releases the lock atomically, so a job pushed
//!   after that registration always finds the thread counted as idle: no lost
//!   wake-ups.
//! * A waking thread claims a promise if there is one; a wake-up with no
//!   promise, no shutdown and time left is spurious and it waits again until
//!   the same deadline. Whatever woke it, a thread goes back to the queue
//!   before it decides to exit, so a job pushed while it was timing out is
//!   never stranded with no thread to run it.
//!
//! Panics are contained: a job (or a hook, or the drop of a queued job) that
//! panics is caught, and the thread goes on serving. The runtime's jobs
//! already catch their own panics; this is defence in depth.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use crate::loom::{thread, Arc, Condvar, Mutex, MutexGuard};
use crate::time::clock::os_now;

/// A unit of work for the pool: `spawn_blocking` wraps each closure into one.
/// Running it polls the task; dropping it without running it cancels the
/// task.
pub(crate) type Job = Box<dyn Work>;

/// Something the pool can run. Closures are work; the runtime's blocking
/// tasks implement it themselves so a refused job can cancel its task.
pub(crate) trait Work: Send + 'static {
    /// Runs the work on a pool thread.
    fn run(self: Box<Self>);

    /// The pool handed the work back unrun (see [`SpawnError`]); the default
    /// just drops it.
    fn refused(self: Box<Self>) {
        drop(self);
    }
}

impl<F: FnOnce() + Send + 'static> Work for F {
    fn run(self: Box<Self>) {
        (*self)()
    }
}

/// Default for [`PoolConfig::max_threads`].
const DEFAULT_MAX_THREADS: usize = 512;

/// Default for [`PoolConfig::keep_alive`].
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Default thread name, see [`PoolConfig::thread_name`].
const DEFAULT_THREAD_NAME: &str = "brisk-blocking";

/// How long [`BlockingPool`]'s `Drop` waits for running jobs when the pool was
/// not shut down explicitly.
const DROP_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// How the pool is sized and how its threads are set up.
pub(crate) struct PoolConfig {
    /// Most threads the pool runs at once; must be at least 1. Default 512.
    pub(crate) max_threads: usize,
    /// An idle thread exits after this long without a job. Zero means a
    /// thread exits as soon as it finds the queue empty. Default 10 s.
    pub(crate) keep_alive: Duration,
    /// Names each new thread. Default `"brisk-blocking"`.
    pub(crate) thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    /// Stack size of each new thread; `None` leaves it to `std`.
    pub(crate) stack_size: Option<usize>,
    /// Runs on each new pool thread before any job (the runtime uses it to
    /// enter its context). A panic in it is caught and the thread serves on.
    pub(crate) on_thread_start: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Runs on each pool thread after its last job, before it exits. A panic in
    /// it is caught.
    pub(crate) on_thread_stop: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            thread_name: default_thread_name(),
            stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
        }
    }
}

impl fmt::Debug for PoolConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolConfig")
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("stack_size", &self.stack_size)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .finish_non_exhaustive()
    }
}

/// The default [`PoolConfig::thread_name`]. loom's `Arc` cannot coerce to a
/// trait object itself, so under loom it is built from a `std` one.
fn default_thread_name() -> Arc<dyn Fn() -> String + Send + Sync> {
    let name: std::sync::Arc<dyn Fn() -> String + Send + Sync> =
        std::sync::Arc::new(|| String::from(DEFAULT_THREAD_NAME));
    #[cfg(loom)]
    let name = Arc::from_std(name);
    name
}

/// Why [`BlockingPool::spawn`] did not take a job. Either way the job comes
/// back untouched, so the caller decides where it is dropped.
pub(crate) enum SpawnError {
    /// The pool is shut down.
    ShutDown(Job),
    /// The OS refused to start a thread and the pool has no thread that could
    /// run the job later.
    Io(io::Error, Job),
}

impl SpawnError {
    /// Takes back the job that was not queued.
    pub(crate) fn into_job(self) -> Job {
        match self {
            Self::ShutDown(job) | Self::Io(_, job) => job,
        }
    }
}

impl fmt::Debug for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShutDown(_) => f.debug_tuple("ShutDown").finish_non_exhaustive(),
            Self::Io(error, _) => f.debug_tuple("Io").field(error).finish_non_exhaustive(),
        }
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShutDown(_) => f.write_str("the blocking pool is shut down"),
            Self::Io(error, _) => write!(f, "failed to start a blocking-pool thread: {error}"),
        }
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::ShutDown(_) => None,
            Self::Io(error, _) => Some(error),
        }
    }
}

/// An elastic, bounded pool of threads for blocking jobs.
///
/// Cheap to share: the runtime holds it in an `Arc`. The pool threads hold
/// only the inner [`Shared`] part, so dropping the last `BlockingPool` is what
/// shuts the pool down (see [`Drop`](#impl-Drop-for-BlockingPool)).
pub(crate) struct BlockingPool {
    /// Everything the pool threads see too.
    shared: Arc<Shared>,
}

/// The part of the pool that its threads share with its handle.
struct Shared {
    /// All mutable state. Never held while user code runs (jobs, job drops,
    /// hooks, the thread-name closure), so it cannot be poisoned by them.
    state: Mutex<State>,
    /// Idle threads wait here; signalled once per promised job
    /// (`State::notified`) and for everyone at shutdown.
    work: Condvar,
    /// Shutdown waits here; signalled (all) whenever `State::live` drops
    /// after shutdown began.
    exited: Condvar,
    /// How the pool was configured.
    config: PoolConfig,
    /// Test-only fault injection: this many thread starts fail as if the OS
    /// refused them.
    #[cfg(all(test, not(loom)))]
    fail_starts: crate::loom::AtomicUsize,
}

/// The pool's mutable state, all behind [`Shared::state`].
///
/// Invariants (whenever the lock is free):
///
/// 1. `notified <= idle`, and `idle + busy <= num_threads <= max_threads`.
/// 2. `num_threads <= live`: a thread leaves `num_threads` when it decides
///    to exit, and `live` only after its stop hook ran.
/// 3. Once `shutdown` is set it stays set, and `queue` is empty from then on.
/// 4. If `queue` is non-empty, some thread counted in `num_threads` will look
///    at it again: each such thread is either busy (and re-checks after its
///    job), starting (and checks first), or idle and promised a wake-up. The
///    one exception: when the OS refuses to start a thread while the pool has
///    none, the refused caller gets its own job back, and jobs that others
///    queued meanwhile wait for the next `spawn` (which starts a thread) or
///    for shutdown (which drops them).
struct State {
    /// Jobs waiting for a thread, oldest first.
    queue: VecDeque<Queued>,
    /// Ticket for the next queued job (see [`Queued::ticket`]).
    next_ticket: u64,
    /// Set by the first shutdown; [`BlockingPool::spawn`] refuses jobs after.
    shutdown: bool,
    /// Threads counted against `max_threads`: started (or being started) and
    /// not yet decided to exit.
    num_threads: usize,
    /// Threads waiting on `work` for a job.
    idle: usize,
    /// Wake-ups promised to idle threads and not yet claimed. An idle thread
    /// that leaves the wait for any reason claims one if any are pending, which
    /// keeps `notified <= idle`.
    notified: usize,
    /// Threads running a job right now.
    busy: usize,
    /// OS threads started (or being started) that have not yet finished their
    /// exit bookkeeping, which happens after the stop hook. Shutdown waits for
    /// this to reach zero.
    live: usize,
    /// Id for the next thread (see [`ThreadSlot`]).
    next_thread_id: u64,
    /// Per-thread records, by pool-local thread id.
    threads: HashMap<u64, ThreadSlot>,
    /// Join handles of threads that have finished their exit bookkeeping and
    /// only have OS teardown left. Shutdown joins them; the next thread to
    /// exit detaches those that are completely gone (see [`reap_finished`]).
    finished: Vec<thread::JoinHandle<()>>,
}

/// A queued job.
struct Queued {
    /// Lets a caller whose thread start failed find its own job again: other
    /// jobs may have been queued, or taken, in the meantime.
    ticket: u64,
    /// The job itself.
    job: Job,
}

/// What the pool knows about one of its threads.
///
/// The thread and the caller that started it race to fill this in: the
/// thread can finish before `spawn` stores its handle. Whichever comes second
/// moves the handle to [`State::finished`] and removes the slot.
#[derive(Default)]
struct ThreadSlot {
    /// The thread's join handle, once `spawn` has stored it (and until a
    /// shutdown takes it).
    handle: Option<thread::JoinHandle<()>>,
    /// The OS id of the thread while it is live, so that a shutdown called on
    /// a pool thread does not wait for, or join, itself.
    os_id: Option<thread::ThreadId>,
    /// The thread has finished its exit bookkeeping.
    exited: bool,
}

impl BlockingPool {
    /// Creates a pool with no threads; they start as jobs arrive.
    ///
    /// # Panics
    ///
    /// If `config.max_threads` is zero.
    pub(crate) fn new(config: PoolConfig) -> Self {
        assert!(
            config.max_threads >= 1,
            "the blocking pool needs max_threads >= 1"
        );
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    next_ticket: 0,
                    shutdown: false,
                    num_threads: 0,
                    idle: 0,
                    notified: 0,
                    busy: 0,
                    live: 0,
                    next_thread_id: 0,
                    threads: HashMap::new(),
                    finished: Vec::new(),
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                config,
                #[cfg(all(test, not(loom)))]
                fail_starts: crate::loom::AtomicUsize::new(0),
            }),
        }
    }

    /// Queues a job.
    ///
    /// Wakes an idle thread if there is one; otherwise starts a new thread if
    /// fewer than `max_threads` exist; otherwise the job waits in the FIFO
    /// queue.
    ///
    /// # Errors
    ///
    /// * [`SpawnError::ShutDown`] after [`shutdown`](Self::shutdown) began.
    /// * [`SpawnError::Io`] if the OS refused to start a thread and the pool
    ///   has no other thread. If it has one, the job just stays queued.
    ///
    /// Both give the job back.
    pub(crate) fn spawn(&self, job: Job) -> Result<(), SpawnError> {
        let shared = &*self.shared;
        let mut state = shared.lock();
        if state.shutdown {
            return Err(SpawnError::ShutDown(job));
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push_back(Queued { ticket, job });

        if state.idle > state.notified {
            state.notified += 1;
            drop(state);
            shared.work.notify_one();
            return Ok(());
        }
        if state.num_threads >= shared.config.max_threads {
            // Every thread is busy or about to look at the queue (invariant 4).
            return Ok(());
        }
        state.num_threads += 1;
        state.live += 1;
        let id = state.next_thread_id;
        state.next_thread_id += 1;
        drop(state);

        match self.start_thread(id) {
            Ok(handle) => {
                let mut state = shared.lock();
                let slot = state.threads.entry(id).or_default();
                if slot.exited {
                    // The thread already ran and exited.
                    state.threads.remove(&id);
                    state.finished.push(handle);
                } else {
                    slot.handle = Some(handle);
                }
                Ok(())
            }
            Err(error) => {
                let mut state = shared.lock();
                state.num_threads -= 1;
                state.live -= 1;
                if state.shutdown {
                    shared.exited.notify_all();
                }
                if state.num_threads > 0 {
                    // Another thread will get to the job.
                    return Ok(());
                }
                let ours = (state.queue.iter())
                    .position(|queued| queued.ticket == ticket)
                    .and_then(|index| state.queue.remove(index));
                drop(state);
                match ours {
                    Some(queued) => Err(SpawnError::Io(error, queued.job)),
                    // Another thread took the job before it exited, or a
                    // shutdown dropped it: either way it is accounted for.
                    None => Ok(()),
                }
            }
        }
    }

    /// Stops the pool and waits, up to `timeout` (`None`: forever), for its
    /// threads to finish. Returns how many jobs were still running when it
    /// stopped waiting (0 if everything finished).
    ///
    /// Callable from any thread, concurrently with `spawn`, and more than once.
    /// Steps:
    ///
    /// 1. Under the lock, set the shutdown flag and take the whole queue. From
    ///    here on `spawn` returns [`SpawnError::ShutDown`] and no thread can
    ///    find a job.
    /// 2. Wake every idle thread; each sees the flag and exits.
    /// 3. Drop the jobs taken in step 1 on the calling thread, outside the
    ///    lock (each drop cancels a task and may run arbitrary code; a panic
    ///    there is caught).
    /// 4. Wait on `exited` until no thread is live, or until the deadline.
    ///    A shutdown called on a pool thread (from a job or a hook) does not
    ///    wait for its own thread.
    /// 5. Count the jobs still running; this is the result. When called from
    ///    inside a job, that job is counted too.
    /// 6. Take the join handles. Join each thread that has finished by the
    ///    deadline; detach the rest (never the caller's own: it is detached).
    ///
    /// A second call repeats steps 4–6 with its own timeout. Threads whose
    /// jobs outlive the timeout finish those jobs and then exit by themselves.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> usize {
        let shared = &*self.shared;
        // A timeout too large to represent is the same as none.
        let deadline = timeout.and_then(|timeout| os_now().checked_add(timeout));

        // Step 1.
        let queued = {
            let mut state = shared.lock();
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        // Step 2.
        shared.work.notify_all();
        // Step 3.
        for queued in queued {
            contain(move || drop(queued));
        }

        // Step 4.
        let me = thread::current().id();
        let mut state = shared.lock();
        let caller_is_live_worker = state.threads.values().any(|s| s.os_id == Some(me));
        let others_live = |state: &State| state.live > usize::from(caller_is_live_worker);
        while others_live(&state) {
            match wait_until(&shared.exited, state, deadline) {
                Ok(s) => state = s,
                Err(s) => {
                    state = s;
                    break;
                }
            }
        }

        // Step 5.
        let still_running = state.busy;

        // Step 6.
        let mut handles = std::mem::take(&mut state.finished);
        state.threads.retain(|_, slot| {
            handles.extend(slot.handle.take());
            !slot.exited
        });
        drop(state);
        for handle in handles {
            join_until(handle, deadline);
        }
        still_running
    }

    /// Threads counted against `max_threads`: running, idle, or starting.
    pub(crate) fn num_threads(&self) -> usize {
        self.shared.lock().num_threads
    }

    /// Idle threads that are free to take a new job (not already woken for
    /// one).
    pub(crate) fn idle_threads(&self) -> usize {
        let state = self.shared.lock();
        state.idle - state.notified
    }

    /// Jobs waiting for a thread.
    pub(crate) fn queue_depth(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// Threads running a job right now.
    pub(crate) fn busy_threads(&self) -> usize {
        self.shared.lock().busy
    }

    /// Starts pool thread `id`. A panic while starting it (from the
    /// thread-name closure, say) counts as a failed start.
    fn start_thread(&self, id: u64) -> io::Result<thread::JoinHandle<()>> {
        #[cfg(all(test, not(loom)))]
        {
            use crate::loom::Ordering;
            let injected =
                self.shared
                    .fail_starts
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if injected.is_ok() {
                return Err(io::Error::other("injected thread start failure"));
            }
        }
        let config = &self.shared.config;
        let shared = Arc::clone(&self.shared);
        call_contained(move || {
            let mut builder = thread::Builder::new().name((config.thread_name)());
            if let Some(size) = config.stack_size {
                builder = builder.stack_size(size);
            }
            builder.spawn(move || worker_main(shared, id))
        })
        .unwrap_or_else(|| Err(io::Error::other("starting a blocking-pool thread panicked")))
    }

    /// Test-only: make the next `n` thread starts fail.
    #[cfg(all(test, not(loom)))]
    fn fail_next_thread_starts(&self, n: usize) {
        self.shared
            .fail_starts
            .store(n, crate::loom::Ordering::SeqCst);
    }
}

/// Without an explicit [`BlockingPool::shutdown`], dropping the pool shuts it
/// down with a 1 s timeout: queued jobs are dropped, idle threads exit and
/// are joined, and jobs still running after 1 s are left to finish on
/// detached threads. After an explicit `shutdown` (the runtime's, with its
/// own timeout and report) this does nothing, so the bound only matters for
/// pools dropped without one: it keeps such a drop from hanging while still
/// giving short jobs time to finish. A drop on a pool thread (say, the last
/// handle released inside a job or hook) does not wait for its own thread.
impl Drop for BlockingPool {
    fn drop(&mut self) {
        let already = self.shared.lock().shutdown;
        if !already {
            self.shutdown(Some(DROP_SHUTDOWN_TIMEOUT));
        }
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("BlockingPool")
            .field("num_threads", &state.num_threads)
            .field("idle", &(state.idle - state.notified))
            .field("busy", &state.busy)
            .field("queue_depth", &state.queue.len())
            .field("shutdown", &state.shutdown)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Locks the state. Poisoning cannot come from user code (it never runs
    /// under the lock), so a poisoned lock is simply taken over.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs jobs until it is time for the calling pool thread to exit: the
    /// queue is empty and the pool is shut down or the keep-alive ran out.
    /// Returns with the thread no longer counted in `num_threads`.
    fn serve(&self) {
        let keep_alive = self.config.keep_alive;
        let mut state = self.lock();
        let mut expired = false;
        loop {
            if let Some(Queued { job, .. }) = state.queue.pop_front() {
                state.busy += 1;
                drop(state);
                contain(|| job.run());
                state = self.lock();
                state.busy -= 1;
                expired = false;
                continue;
            }
            if state.shutdown || expired || keep_alive.is_zero() {
                break;
            }
            let (relocked, timed_out) = self.idle_wait(state, keep_alive);
            state = relocked;
            expired = timed_out;
        }
        state.num_threads -= 1;
    }

    /// Waits as an idle thread for a promised job, shutdown, or the end of
    /// `keep_alive`, whichever comes first; returns whether the keep-alive
    /// ran out. The caller checks the queue again either way.
    fn idle_wait<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        keep_alive: Duration,
    ) -> (MutexGuard<'a, State>, bool) {
        state.idle += 1;
        // A keep-alive too large to represent never runs out.
        let deadline: Option<Instant> = os_now().checked_add(keep_alive);
        let expired = loop {
            match wait_until(&self.work, state, deadline) {
                Ok(s) => state = s,
                Err(s) => {
                    state = s;
                    break true;
                }
            }
            if state.notified > 0 || state.shutdown {
                break false;
            }
            // Spurious wake-up, or a timeout: the deadline check decides.
        };
        state.idle -= 1;
        if state.notified > 0 {
            // Claim a promise whatever woke us, to keep `notified <= idle`.
            // (After a timeout there is none: it was checked under this lock.)
            state.notified -= 1;
        }
        (state, expired)
    }
}

/// Waits on `cvar` until notified (or spuriously woken), or until `deadline`
/// (`None`: no deadline). `Err` hands the guard back without waiting when the
/// deadline has already passed.
fn wait_until<'a>(
    cvar: &Condvar,
    state: MutexGuard<'a, State>,
    deadline: Option<Instant>,
) -> Result<MutexGuard<'a, State>, MutexGuard<'a, State>> {
    match deadline {
        None => Ok(cvar.wait(state).unwrap_or_else(PoisonError::into_inner)),
        Some(deadline) => {
            let now = os_now();
            if now >= deadline {
                return Err(state);
            }
            Ok(cvar
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0)
        }
    }
}

/// The body of every pool thread.
fn worker_main(shared: Arc<Shared>, id: u64) {
    shared.lock().threads.entry(id).or_default().os_id = Some(thread::current().id());
    if let Some(hook) = &shared.config.on_thread_start {
        contain(&**hook);
    }

    shared.serve();

    if let Some(hook) = &shared.config.on_thread_stop {
        contain(&**hook);
    }
    // Exit bookkeeping: leave `live` and hand over our own join handle.
    let reaped = {
        let mut state = shared.lock();
        state.live -= 1;
        let reaped = reap_finished(&mut state.finished);
        let slot = state.threads.entry(id).or_default();
        match slot.handle.take() {
            Some(handle) => {
                state.threads.remove(&id);
                state.finished.push(handle);
            }
            None => {
                // `spawn` has not stored our handle yet (it will see `exited`
                // and pass it on), or a shutdown already took it.
                slot.os_id = None;
                slot.exited = true;
            }
        }
        if state.shutdown {
            shared.exited.notify_all();
        }
        reaped
    };
    // Outside the lock: dropping the handles detaches those (gone) threads.
    drop(reaped);
}

/// Takes out the handles of threads that have completely finished, so that an
/// elastic pool's churn does not pile up handles until shutdown. Their threads
/// are gone, so detaching them (by dropping the handles) loses nothing, and
/// no pool thread ever blocks joining another. Under loom, which has no
/// `is_finished`, everything is left for shutdown to join.
fn reap_finished(finished: &mut Vec<thread::JoinHandle<()>>) -> Vec<thread::JoinHandle<()>> {
    #[cfg(not(loom))]
    {
        let (done, running) = std::mem::take(finished)
            .into_iter()
            .partition(|handle| handle.is_finished());
        *finished = running;
        done
    }
    #[cfg(loom)]
    {
        let _ = finished;
        Vec::new()
    }
}

/// Joins `handle` if its thread finishes by `deadline` (`None`: waits as long
/// as it takes), and otherwise detaches it. Never joins the calling thread.
fn join_until(handle: thread::JoinHandle<()>, deadline: Option<Instant>) {
    if handle.thread().id() == thread::current().id() {
        return;
    }
    match deadline {
        None => {
            let _ = handle.join();
        }
        #[cfg(loom)]
        Some(_) => {
            // loom has no `is_finished`; models only use threads that finish.
            let _ = handle.join();
        }
        #[cfg(not(loom))]
        Some(deadline) => {
            // Shutdown gets here once every thread finished its exit
            // bookkeeping (only OS teardown is left), or once the deadline
            // has passed; either way this loop is short.
            while !handle.is_finished() {
                if os_now() >= deadline {
                    return;
                }
                thread::sleep(Duration::from_micros(200));
            }
            let _ = handle.join();
        }
    }
}

/// Runs `f`, catching a panic. Returns `None` if it panicked.
fn call_contained<R>(f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Some(value),
        Err(payload) => {
            // Dropping a panic payload runs arbitrary code, which may panic
            // again; that second payload is leaked rather than dropped.
            if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                std::mem::forget(again);
            }
            None
        }
    }
}

/// Runs `f`, catching and discarding a panic.
fn contain(f: impl FnOnce()) {
    let _ = call_contained(f);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::loom::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    /// Generous upper bound for anything a test waits for.
    const PATIENCE: Duration = Duration::from_secs(20);

    /// A gate jobs can block on until the test opens it.
    #[derive(Default)]
    struct Gate {
        /// Whether the gate is open.
        open: Mutex<bool>,
        /// Signalled when it opens.
        cv: Condvar,
    }

    impl Gate {
        /// Opens the gate for all current and future waiters.
        fn open(&self) {
            *self.open.lock().unwrap() = true;
            self.cv.notify_all();
        }

        /// Blocks until the gate opens (or `PATIENCE` runs out, so that a
        /// failing test cannot leave threads blocked forever).
        fn wait(&self) {
            let open = self.open.lock().unwrap();
            let _open = self
                .cv
                .wait_timeout_while(open, PATIENCE, |open| !*open)
                .unwrap();
        }
    }

    /// Counts its drops.
    struct DropCount(Arc<AtomicUsize>);

    impl Drop for DropCount {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A config with `max_threads` threads and the given keep-alive.
    fn config(max_threads: usize, keep_alive: Duration) -> PoolConfig {
        PoolConfig {
            max_threads,
            keep_alive,
            ..PoolConfig::default()
        }
    }

    /// Polls `cond` until it holds, failing the test after `PATIENCE`.
    fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
        let start = os_now();
        while !cond() {
            assert!(os_now() - start < PATIENCE, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Receives `n` messages, failing the test if they take longer than
    /// `PATIENCE`.
    fn recv_n<T>(rx: &mpsc::Receiver<T>, n: usize) -> Vec<T> {
        (0..n)
            .map(|i| {
                rx.recv_timeout(PATIENCE)
                    .unwrap_or_else(|e| panic!("message {i} of {n}: {e}"))
            })
            .collect()
    }

    #[test]
    fn jobs_run() {
        let pool = BlockingPool::new(config(4, DEFAULT_KEEP_ALIVE));
        let (tx, rx) = mpsc::channel();
        for i in 0..100 {
            let tx = tx.clone();
            pool.spawn(Box::new(move || tx.send(i).unwrap())).unwrap();
        }
        let mut got = recv_n(&rx, 100);
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        assert!(pool.num_threads() <= 4);
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
        assert_eq!(pool.num_threads(), 0);
    }

    #[test]
    fn single_thread_runs_jobs_in_fifo_order() {
        let pool = BlockingPool::new(config(1, DEFAULT_KEEP_ALIVE));
        let gate = Arc::new(Gate::default());
        let (tx, rx) = mpsc::channel();
        let g = gate.clone();
        pool.spawn(Box::new(move || g.wait())).unwrap();
        for i in 0..20 {
            let tx = tx.clone();
            pool.spawn(Box::new(move || tx.send(i).unwrap())).unwrap();
        }
        gate.open();
        assert_eq!(recv_n(&rx, 20), (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn elastic_up_to_demand() {
        const N: usize = 6;
        let pool = BlockingPool::new(config(16, DEFAULT_KEEP_ALIVE));
        let gate = Arc::new(Gate::default());
        let (started, rx) = mpsc::channel();
        for _ in 0..N {
            let (gate, started) = (gate.clone(), started.clone());
            pool.spawn(Box::new(move || {
                started.send(()).unwrap();
                gate.wait();
            }))
            .unwrap();
        }
        // All N block at once, so they must be on N distinct threads.
        recv_n(&rx, N);
        assert_eq!(pool.num_threads(), N);
        assert_eq!(pool.busy_threads(), N);
        assert_eq!(pool.queue_depth(), 0);
        gate.open();
        eventually("all threads idle", || pool.idle_threads() == N);
        assert_eq!(pool.busy_threads(), 0);

        // Idle threads are reused rather than new ones started.
        let (tx, rx) = mpsc::channel();
        for _ in 0..N {
            let tx = tx.clone();
            pool.spawn(Box::new(move || tx.send(()).unwrap())).unwrap();
        }
        recv_n(&rx, N);
        assert_eq!(pool.num_threads(), N);
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
    }

    #[test]
    fn max_threads_is_respected() {
        let pool = BlockingPool::new(config(2, DEFAULT_KEEP_ALIVE));
        let gate = Arc::new(Gate::default());
        let running = Arc::new(AtomicUsize::new(0));
        let max_seen = Arc::new(AtomicUsize::new(0));
        let (started, started_rx) = mpsc::channel();
        let (done, done_rx) = mpsc::channel();
        for _ in 0..10 {
            let (gate, running, max_seen) = (gate.clone(), running.clone(), max_seen.clone());
            let (started, done) = (started.clone(), done.clone());
            pool.spawn(Box::new(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                max_seen.fetch_max(now, Ordering::SeqCst);
                started.send(()).unwrap();
                gate.wait();
                running.fetch_sub(1, Ordering::SeqCst);
                done.send(()).unwrap();
            }))
            .unwrap();
        }
        // Two jobs run and block; the other eight must be queued.
        recv_n(&started_rx, 2);
        assert_eq!(pool.num_threads(), 2);
        assert_eq!(pool.busy_threads(), 2);
        assert_eq!(pool.queue_depth(), 8);
        assert_eq!(pool.idle_threads(), 0);
        gate.open();
        recv_n(&done_rx, 10);
        assert_eq!(max_seen.load(Ordering::SeqCst), 2);
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
    }

    #[test]
    fn idle_threads_exit_after_keep_alive() {
        let pool = BlockingPool::new(config(8, Duration::from_millis(50)));
        let gate = Arc::new(Gate::default());
        let (started, rx) = mpsc::channel();
        for _ in 0..3 {
            let (gate, started) = (gate.clone(), started.clone());
            pool.spawn(Box::new(move || {
                started.send(()).unwrap();
                gate.wait();
            }))
            .unwrap();
        }
        recv_n(&rx, 3);
        assert_eq!(pool.num_threads(), 3);
        gate.open();
        eventually("idle threads to exit", || pool.num_threads() == 0);
        assert_eq!(pool.idle_threads(), 0);

        // The pool grows again afterwards.
        let (tx, rx) = mpsc::channel();
        pool.spawn(Box::new(move || tx.send(()).unwrap())).unwrap();
        recv_n(&rx, 1);
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
    }

    #[test]
    fn zero_keep_alive_never_strands_a_job() {
        let pool = BlockingPool::new(config(1, Duration::ZERO));
        let (tx, rx) = mpsc::channel();
        for i in 0..200 {
            let tx = tx.clone();
            pool.spawn(Box::new(move || tx.send(i).unwrap())).unwrap();
            if i % 7 == 0 {
                thread::yield_now();
            }
        }
        let mut got = recv_n(&rx, 200);
        got.sort_unstable();
        assert_eq!(got, (0..200).collect::<Vec<_>>());
        eventually("the thread to exit", || pool.num_threads() == 0);
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
    }

    #[test]
    fn shutdown_drops_queued_jobs_and_reports_running_ones() {
        let pool = BlockingPool::new(config(1, DEFAULT_KEEP_ALIVE));
        let gate = Arc::new(Gate::default());
        let (started, started_rx) = mpsc::channel();
        let finished = Arc::new(AtomicUsize::new(0));
        {
            let (gate, finished) = (gate.clone(), finished.clone());
            pool.spawn(Box::new(move || {
                started.send(()).unwrap();
                gate.wait();
                finished.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap();
        }
        recv_n(&started_rx, 1);

        let drops = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let (dropped_on, dropped_on_rx) = mpsc::channel();
        for _ in 0..5 {
            let flag = DropCount(drops.clone());
            let ran = ran.clone();
            let dropped_on = dropped_on.clone();
            let on_drop = OnDrop(Some(move || {
                dropped_on.send(thread::current().id()).unwrap()
            }));
            pool.spawn(Box::new(move || {
                let _keep = (&flag, &on_drop);
                ran.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap();
        }
        assert_eq!(pool.queue_depth(), 5);

        // The first job blocks past the timeout: one job still running.
        assert_eq!(pool.shutdown(Some(Duration::from_millis(50))), 1);
        assert_eq!(drops.load(Ordering::SeqCst), 5);
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        let me = thread::current().id();
        assert!(recv_n(&dropped_on_rx, 5).iter().all(|&id| id == me));
        assert_eq!(pool.queue_depth(), 0);

        // The detached thread finishes its job and exits by itself.
        gate.open();
        eventually("the detached thread to exit", || pool.num_threads() == 0);
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        // A second shutdown finds nothing left.
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
    }

    /// Runs a closure when dropped.
    struct OnDrop<F: FnOnce()>(Option<F>);

    impl<F: FnOnce()> Drop for OnDrop<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }

    #[test]
    fn shutdown_without_timeout_waits_for_running_jobs() {
        let pool = BlockingPool::new(config(2, DEFAULT_KEEP_ALIVE));
        let gate = Arc::new(Gate::default());
        let finished = Arc::new(AtomicUsize::new(0));
        let (started, rx) = mpsc::channel();
        for _ in 0..2 {
            let (gate, finished, started) = (gate.clone(), finished.clone(), started.clone());
            pool.spawn(Box::new(move || {
                started.send(()).unwrap();
                gate.wait();
                finished.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap();
        }
        recv_n(&rx, 2);
        let opener = {
            let gate = gate.clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                gate.open();
            })
        };
        assert_eq!(pool.shutdown(None), 0);
        assert_eq!(finished.load(Ordering::SeqCst), 2);
        assert_eq!(pool.num_threads(), 0);
        assert_eq!(pool.busy_threads(), 0);
        opener.join().unwrap();
    }

    #[test]
    fn panicking_job_keeps_the_pool_alive() {
        let pool = BlockingPool::new(config(1, DEFAULT_KEEP_ALIVE));
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        pool.spawn(Box::new(move || {
            tx2.send(thread::current().id()).unwrap();
            panic!("job panicked on purpose");
        }))
        .unwrap();
        pool.spawn(Box::new(move || tx.send(thread::current().id()).unwrap()))
            .unwrap();
        let ids = recv_n(&rx, 2);
        // The same thread survived the panic and ran the next job.
        assert_eq!(ids[0], ids[1]);
        assert_eq!(pool.num_threads(), 1);
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
    }

    #[test]
    fn spawn_after_shutdown_returns_the_job() {
        let pool = BlockingPool::new(PoolConfig::default());
        assert_eq!(pool.shutdown(None), 0);
        assert_eq!(pool.shutdown(Some(Duration::ZERO)), 0);
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let err = pool
            .spawn(Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap_err();
        assert!(matches!(err, SpawnError::ShutDown(_)));
        assert_eq!(err.to_string(), "the blocking pool is shut down");
        // The job comes back intact and runnable.
        err.into_job().run();
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert_eq!(pool.num_threads(), 0);
    }

    #[test]
    fn failed_thread_start_with_no_threads_returns_the_job() {
        let pool = BlockingPool::new(config(4, DEFAULT_KEEP_ALIVE));
        pool.fail_next_thread_starts(1);
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let err = pool
            .spawn(Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap_err();
        assert!(matches!(err, SpawnError::Io(..)));
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(pool.num_threads(), 0);
        assert_eq!(pool.queue_depth(), 0);
        err.into_job().run();
        assert_eq!(ran.load(Ordering::SeqCst), 1);

        // The pool still works afterwards.
        let (tx, rx) = mpsc::channel();
        pool.spawn(Box::new(move || tx.send(()).unwrap())).unwrap();
        recv_n(&rx, 1);
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
    }

    #[test]
    fn failed_thread_start_with_other_threads_queues_the_job() {
        let pool = BlockingPool::new(config(4, DEFAULT_KEEP_ALIVE));
        let gate = Arc::new(Gate::default());
        let (started, started_rx) = mpsc::channel();
        let g = gate.clone();
        pool.spawn(Box::new(move || {
            started.send(()).unwrap();
            g.wait();
        }))
        .unwrap();
        recv_n(&started_rx, 1);

        pool.fail_next_thread_starts(1);
        let (tx, rx) = mpsc::channel();
        pool.spawn(Box::new(move || tx.send(()).unwrap())).unwrap();
        assert_eq!(pool.num_threads(), 1);
        assert_eq!(pool.queue_depth(), 1);
        gate.open();
        recv_n(&rx, 1);
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
    }

    #[test]
    fn os_refusing_a_thread_is_an_io_error() {
        // No OS gives a thread half the address space as stack.
        let pool = BlockingPool::new(PoolConfig {
            stack_size: Some(usize::MAX / 2),
            ..PoolConfig::default()
        });
        match pool.spawn(Box::new(|| {})) {
            Err(SpawnError::Io(..)) => {}
            // Linux refuses (EAGAIN); should another OS grant it lazily, the
            // job simply ran.
            Ok(()) if !cfg!(target_os = "linux") => {}
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(pool.num_threads(), 0);
        assert_eq!(pool.queue_depth(), 0);
        assert_eq!(pool.shutdown(Some(PATIENCE)), 0);
    }

    #[test]
    fn hooks_and_thread_names() {
        let starts = Arc::new(AtomicUsize::new(0));
        let stops = Arc::new(AtomicUsize::new(0));
        let (s1, s2) = (starts.clone(), stops.clone());
        let pool = BlockingPool::new(PoolConfig {
            max_threads: 3,
            thread_name: Arc::new(|| "brisk-test-blocking".to_string()),
            stack_size: Some(256 * 1024),
            on_thread_start: Some(Arc::new(move || {
                s1.fetch_add(1, Ordering::SeqCst);
            })),
            on_thread_stop: Some(Arc::new(move || {
                s2.fetch_add(1, Ordering::SeqCst);
                panic!("a panicking stop hook is contained");
            })),
            ..PoolConfig::default()
        });
        let gate = Arc::new(Gate::default());
        let (tx, rx) = mpsc::channel();
        for _ in 0..3 {
            let (gate, tx, starts) = (gate.clone(), tx.clone(), starts.clone());
            pool.spawn(Box::new(move || {
                let name = thread::current().name().map(str::to_owned);
                // The start hook ran before any job on this thread.
                tx.send((name, starts.load(Ordering::SeqCst) >= 1)).unwrap();
                gate.wait();
            }))
            .unwrap();
        }
        for (name, hook_ran) in recv_n(&rx, 3) {
            assert_eq!(name.as_deref(), Some("brisk-test-blocking"));
            assert!(hook_ran);
        }
        gate.open();
        assert_eq!(pool.shutdown(None), 0);
        assert_eq!(starts.load(Ordering::SeqCst), 3);
        // Shutdown returns only after every stop hook ran.
        assert_eq!(stops.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn shutdown_from_inside_a_job_does_not_wait_for_itself() {
        let pool = Arc::new(BlockingPool::new(config(2, DEFAULT_KEEP_ALIVE)));
        let (tx, rx) = mpsc::channel();
        let p = pool.clone();
        pool.spawn(Box::new(move || {
            // Would hang forever if it waited for its own thread.
            tx.send(p.shutdown(None)).unwrap();
        }))
        .unwrap();
        // The calling job itself is still running.
        assert_eq!(recv_n(&rx, 1), vec![1]);
        eventually("the thread to exit", || pool.num_threads() == 0);
    }

    #[test]
    fn dropping_the_last_handle_on_a_pool_thread_does_not_hang() {
        let pool = Arc::new(BlockingPool::new(config(2, DEFAULT_KEEP_ALIVE)));
        let (go, go_rx) = mpsc::channel::<()>();
        let (tx, rx) = mpsc::channel();
        let p = pool.clone();
        pool.spawn(Box::new(move || {
            go_rx.recv().unwrap();
            let started = os_now();
            drop(p); // The last handle: `Drop` shuts the pool down from here.
            tx.send(os_now() - started).unwrap();
        }))
        .unwrap();
        drop(pool);
        go.send(()).unwrap();
        // Shutdown on a pool thread waits for no one; 1 s would mean it
        // waited out the drop timeout for its own thread.
        let took = recv_n(&rx, 1)[0];
        assert!(took < DROP_SHUTDOWN_TIMEOUT, "drop took {took:?}");
    }

    #[test]
    fn drop_shuts_down_and_drops_queued_jobs() {
        let drops = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Gate::default());
        let (started, rx) = mpsc::channel();
        {
            let pool = BlockingPool::new(config(1, DEFAULT_KEEP_ALIVE));
            let g = gate.clone();
            pool.spawn(Box::new(move || {
                started.send(()).unwrap();
                g.wait();
            }))
            .unwrap();
            recv_n(&rx, 1);
            for _ in 0..3 {
                let flag = DropCount(drops.clone());
                pool.spawn(Box::new(move || drop(flag))).unwrap();
            }
            // Let the running job finish while `drop` waits.
            let gate = gate.clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                gate.open();
            });
        }
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn shutdown_racing_spawns_accounts_for_every_job() {
        for _ in 0..20 {
            let pool = Arc::new(BlockingPool::new(config(3, Duration::from_millis(1))));
            let ran = Arc::new(AtomicUsize::new(0));
            let dropped = Arc::new(AtomicUsize::new(0));
            let returned = Arc::new(AtomicUsize::new(0));
            let spawners: Vec<_> = (0..3)
                .map(|_| {
                    let (pool, ran, dropped, returned) =
                        (pool.clone(), ran.clone(), dropped.clone(), returned.clone());
                    thread::spawn(move || {
                        for _ in 0..200 {
                            let flag = DropCount(dropped.clone());
                            let ran = ran.clone();
                            let job: Job = Box::new(move || {
                                let _flag = flag;
                                ran.fetch_add(1, Ordering::SeqCst);
                            });
                            if let Err(err) = pool.spawn(job) {
                                returned.fetch_add(1, Ordering::SeqCst);
                                drop(err.into_job());
                            }
                        }
                    })
                })
                .collect();
            thread::yield_now();
            let shutters: Vec<_> = (0..2)
                .map(|_| {
                    let pool = pool.clone();
                    thread::spawn(move || pool.shutdown(None))
                })
                .collect();
            for s in shutters {
                assert_eq!(s.join().unwrap(), 0);
            }
            for s in spawners {
                s.join().unwrap();
            }
            // Every job was dropped exactly once: after running, when
            // discarded by shutdown, or when handed back.
            assert_eq!(dropped.load(Ordering::SeqCst), 600);
            assert!(ran.load(Ordering::SeqCst) + returned.load(Ordering::SeqCst) <= 600);
            assert_eq!(pool.num_threads(), 0);
            assert_eq!(pool.busy_threads(), 0);
        }
    }

    #[test]
    fn config_debug_and_defaults() {
        let config = PoolConfig::default();
        assert_eq!(config.max_threads, 512);
        assert_eq!(config.keep_alive, Duration::from_secs(10));
        assert_eq!((config.thread_name)(), "brisk-blocking");
        assert!(format!("{config:?}").contains("max_threads: 512"));
        let pool = BlockingPool::new(config);
        assert!(format!("{pool:?}").contains("num_threads: 0"));
    }

    #[test]
    #[should_panic(expected = "max_threads >= 1")]
    fn zero_max_threads_is_rejected() {
        let _ = BlockingPool::new(config(0, DEFAULT_KEEP_ALIVE));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::{AtomicUsize, Ordering};

    /// Counts finished jobs and lets the model wait for a number of them
    /// without spinning.
    #[derive(Default)]
    struct Done {
        /// Jobs finished so far.
        count: Mutex<usize>,
        /// Signalled on each increment.
        cv: Condvar,
    }

    impl Done {
        /// Records one finished job.
        fn add(&self) {
            *self.count.lock().unwrap() += 1;
            self.cv.notify_all();
        }

        /// Waits until `n` jobs finished. If a job were stranded, loom would
        /// report this wait as a deadlock.
        fn wait_for(&self, n: usize) {
            let mut count = self.count.lock().unwrap();
            while *count < n {
                count = self.cv.wait(count).unwrap();
            }
        }
    }

    /// Runs `f` under loom with at most `preemptions` preemptions, unless
    /// `LOOM_MAX_PREEMPTIONS` is set.
    fn bounded_model(preemptions: usize, f: impl Fn() + Send + Sync + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound.get_or_insert(preemptions);
        builder.check(f);
    }

    /// A pool config for models.
    fn config(max_threads: usize, keep_alive: Duration) -> PoolConfig {
        PoolConfig {
            max_threads,
            keep_alive,
            ..PoolConfig::default()
        }
    }

    /// A job that records its completion in `done`.
    fn job(done: &Arc<Done>) -> Job {
        let done = done.clone();
        Box::new(move || done.add())
    }

    /// A job spawned while the only thread finds the queue empty and exits
    /// (keep-alive 0) always runs: either that thread takes it, or a new one
    /// starts.
    #[test]
    fn spawn_racing_thread_exit() {
        loom::model(|| {
            let pool = BlockingPool::new(config(1, Duration::ZERO));
            let done = Arc::new(Done::default());
            pool.spawn(job(&done)).unwrap();
            // Races with the pool thread finishing the first job.
            pool.spawn(job(&done)).unwrap();
            done.wait_for(2);
            assert_eq!(pool.shutdown(None), 0);
            assert_eq!(pool.num_threads(), 0);
        });
    }

    /// A job spawned while a thread is going idle (registering itself, or
    /// already waiting) wakes it; no wake-up is lost. Under loom a timed wait
    /// never times out, so the idle thread leaves only via a job or shutdown.
    #[test]
    fn spawn_racing_thread_going_idle() {
        loom::model(|| {
            let pool = BlockingPool::new(config(1, Duration::from_secs(10)));
            let done = Arc::new(Done::default());
            pool.spawn(job(&done)).unwrap();
            // Races with the pool thread finishing the first job.
            pool.spawn(job(&done)).unwrap();
            done.wait_for(2);
            assert_eq!(pool.num_threads(), 1);
            assert_eq!(pool.shutdown(None), 0);
            assert_eq!(pool.num_threads(), 0);
        });
    }

    /// Two jobs arriving while one thread is idle (or going idle), with room
    /// for a second thread: the idle thread is promised only one of them, so
    /// the other gets a thread of its own. The first of the two blocks until
    /// the second has run, so running them one after the other on a single
    /// thread would deadlock.
    ///
    /// The largest model here, so it is bounded to 2 preemptions unless
    /// `LOOM_MAX_PREEMPTIONS` says otherwise.
    #[test]
    fn two_spawns_one_idle_thread() {
        bounded_model(2, || {
            let pool = BlockingPool::new(config(2, Duration::from_secs(10)));
            let done = Arc::new(Done::default());
            pool.spawn(job(&done)).unwrap();
            done.wait_for(1);
            let d = done.clone();
            pool.spawn(Box::new(move || {
                d.wait_for(2);
                d.add();
            }))
            .unwrap();
            pool.spawn(job(&done)).unwrap();
            done.wait_for(3);
            assert_eq!(pool.num_threads(), 2);
            assert_eq!(pool.shutdown(None), 0);
            assert_eq!(pool.num_threads(), 0);
            assert_eq!(pool.idle_threads(), 0);
        });
    }

    /// Two shutdowns at once, with a job in flight: both return once every
    /// thread is gone, and the job is run or dropped exactly once.
    #[test]
    fn concurrent_shutdowns() {
        loom::model(|| {
            let pool = Arc::new(BlockingPool::new(config(1, Duration::from_secs(10))));
            let guard = Arc::new(());
            let witness = guard.clone();
            pool.spawn(Box::new(move || {
                let _witness = witness;
            }))
            .unwrap();
            let other = {
                let pool = pool.clone();
                thread::spawn(move || pool.shutdown(None))
            };
            assert_eq!(pool.shutdown(None), 0);
            assert_eq!(other.join().unwrap(), 0);
            assert_eq!(pool.num_threads(), 0);
            // The job (and with it `witness`) is gone: run or dropped.
            assert_eq!(Arc::strong_count(&guard), 1);
        });
    }

    /// Shutdown racing spawn: the job is run, dropped by shutdown, or handed
    /// back, exactly once, and shutdown leaves no thread behind.
    #[test]
    fn shutdown_racing_spawn() {
        /// Counts drops of the job's captures.
        struct Flag(Arc<AtomicUsize>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }

        loom::model(|| {
            let pool = Arc::new(BlockingPool::new(config(1, Duration::from_secs(10))));
            let dropped = Arc::new(AtomicUsize::new(0));
            let ran = Arc::new(AtomicUsize::new(0));
            let spawner = {
                let (pool, dropped, ran) = (pool.clone(), dropped.clone(), ran.clone());
                thread::spawn(move || {
                    let flag = Flag(dropped);
                    let job: Job = Box::new(move || {
                        let _flag = flag;
                        ran.fetch_add(1, Ordering::SeqCst);
                    });
                    match pool.spawn(job) {
                        Ok(()) => false,
                        Err(err) => {
                            drop(err.into_job());
                            true
                        }
                    }
                })
            };
            assert_eq!(pool.shutdown(None), 0);
            let returned = spawner.join().unwrap();
            // A job refused at spawn never ran; every job is dropped once.
            if returned {
                assert_eq!(ran.load(Ordering::SeqCst), 0);
            }
            assert_eq!(dropped.load(Ordering::SeqCst), 1);
            // Any thread the spawn started exits by itself after shutdown.
            assert_eq!(pool.shutdown(None), 0);
            assert_eq!(pool.num_threads(), 0);
        });
    }
}
