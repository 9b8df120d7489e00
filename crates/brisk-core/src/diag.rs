//! Hazard detection and per-poll timing: the per-runtime state that the task
//! harness, the backends and `brisk-diag` share.
//!
//! Every [`Registry`](crate::task::Registry) owns one [`Diagnostics`]: the
//! runtime's [`DiagConfig`] (set by the backend's builder) and a bounded log
//! of the [`Hazard`]s found so far. The task harness measures polls and
//! checks for long polls, lost wakers and cancelled tasks that keep running;
//! the backends check for deadlocks (they know their timers, I/O and
//! blocking work) and stuck polls (a monitor thread sees them).
//!
//! # Cost
//! When [`DiagConfig::instrumented`] is false (the default in release
//! builds) a task carries one null word and the harness takes one
//! predictable branch per poll. When it is true, each task gets a small side
//! structure allocated at spawn, and each poll reads the clock twice.
//!
//! # The clock
//! Poll durations are real durations, read from the OS monotonic clock — the
//! time-stamp counter where the kernel itself keeps time with it (one
//! `rdtsc`, calibrated once per process against `std::time::Instant`), else
//! `std::time::Instant` — never from the runtime's clock: the application
//! clock of a simulation is virtual and does not move during a poll, and a
//! paused or mocked clock would hide exactly the slow polls this is for.
//!
//! # Limits of the detectors
//! - *Lost waker*: a waker is counted from our raw waker vtable (clones
//!   minus drops minus by-value wakes). The task's own cancellation waker
//!   (which only fires on cancellation) does not count. A waker that is kept
//!   only to be woken on cancellation by a scope boundary still counts, so
//!   such a task is not reported.
//! - *Deadlock*: the runtime cannot see a waker held by a thread outside the
//!   runtime (a `std::thread` that owns a channel sender, say). The rule the
//!   backends apply is documented on [`DiagConfig::deadlock_grace`].

use crate::loom::Mutex;
use crate::task::{TaskKind, TaskRef};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The environment variable that switches per-poll timing on (`1`) or off
/// (`0`) when the runtime builder does not decide.
pub const TASK_TIMING_ENV: &str = "BRISK_TASK_TIMING";

/// What a long poll's report tells the user to do.
const LONG_POLL_FIX: &str = "a poll must return quickly: move blocking or CPU-heavy work to \
`brisk::spawn_blocking`, or add `brisk::task::yield_now().await` inside long loops";
/// What a lost waker's report tells the user to do.
const LOST_WAKER_FIX: &str = "a future that returns `Pending` must keep `cx.waker()` (a clone) \
where the event it waits for will wake it; a hand-written future or a wrapper probably dropped it \
(a task parked until cancellation on purpose can turn this check off with the runtime builder's \
`detect_lost_wakers(false)`)";
/// What a cancelled-but-running report tells the user to do.
const CANCELLED_RUNNING_FIX: &str = "a cancelled task should stop soon: check \
`brisk::task::is_cancelled()` in long loops, and keep cleanup in `non_cancellable` sections short";
/// What a wait-for cycle report tells the user to do.
const WAIT_CYCLE_FIX: &str = "none of these tasks can go on until one of them is cancelled: take \
the locks in one order everywhere, or release one before awaiting the next";
/// What a deadlock report tells the user to do.
const DEADLOCK_FIX: &str = "every task waits on something no task, timer, socket or blocking job \
will ever do; look at the wait-points below (and the cycles, if any) for the missing send, \
unlock or notify";

/// One problem found in a running program, reported once per task.
///
/// Read them with `brisk::diag::hazards()` (or `brisk_diag::hazards_of`),
/// or receive them as they happen with a builder callback (the native
/// runtime's `Builder::on_hazard`); by default each one is printed to
/// stderr as one line starting with `brisk: hazard:`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Hazard {
    /// [`Hazard::LONG_POLL`], [`Hazard::LOST_WAKER`],
    /// [`Hazard::CANCELLED_RUNNING`], [`Hazard::WAIT_CYCLE`] or
    /// [`Hazard::DEADLOCK`].
    pub kind: &'static str,
    /// The task concerned (`None` for a deadlock or a wait-for cycle, which
    /// concern several).
    pub task: Option<u64>,
    /// One line: the task, its spawn location, its wait-point and the fix.
    pub message: String,
    /// For a deadlock: what every task waits on, and the wait-for cycles
    /// (also as Graphviz DOT). For a wait-for cycle: the cycle as DOT.
    pub report: Option<String>,
}

impl Hazard {
    /// A poll took longer than the threshold (or is still running past it).
    pub const LONG_POLL: &'static str = "long_poll";
    /// A task returned `Pending` while no waker for it existed anywhere.
    pub const LOST_WAKER: &'static str = "lost_waker";
    /// A task was cancelled but had not stopped after the threshold: it was
    /// still being polled, or parked on something that is not a
    /// cancellation point.
    pub const CANCELLED_RUNNING: &'static str = "cancelled_running";
    /// Tasks wait, but nothing could ever wake them.
    pub const DEADLOCK: &'static str = "deadlock";
    /// Tasks wait on each other's locks in a cycle (task → `Mutex` →
    /// holder → ... → task), while the rest of the program may go on.
    pub const WAIT_CYCLE: &'static str = "wait_cycle";

    /// A hazard about one task.
    pub fn for_task(kind: &'static str, task: u64, message: String) -> Hazard {
        Hazard {
            kind,
            task: Some(task),
            message,
            report: None,
        }
    }

    /// A deadlock hazard with its report (see [`deadlock_report`]).
    pub fn deadlock(summary: &str, report: String) -> Hazard {
        Hazard {
            kind: Hazard::DEADLOCK,
            task: None,
            message: format!("deadlock: {summary}: {DEADLOCK_FIX}"),
            report: Some(report),
        }
    }

    /// A long poll that is still running: seen by a monitor, not measured.
    pub fn stuck_poll(task: TaskRef<'_>, for_at_least: Duration, threshold: Duration) -> Hazard {
        Hazard::for_task(
            Hazard::LONG_POLL,
            task.id().as_u64(),
            format!(
                "long poll: {} has been inside one poll for at least {} (threshold {}) and \
                 still runs; {}: {LONG_POLL_FIX}",
                describe(task),
                fmt_duration(for_at_least),
                fmt_duration(threshold),
                resumed_from(task.last_wait_point()),
            ),
        )
    }
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(report) = &self.report {
            write!(f, "\n{report}")?;
        }
        Ok(())
    }
}

/// A callback that receives every hazard; see [`DiagConfig::on_hazard`].
pub type HazardCallback = Arc<dyn Fn(&Hazard) + Send + Sync>;

/// What a runtime's diagnostics do; set by the backend's builder.
///
/// ```
/// use std::time::Duration;
/// let mut config = brisk::diag::DiagConfig::default();
/// config.task_timing = true;
/// config.long_poll = Some(Duration::from_millis(50));
/// assert!(config.instrumented());
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct DiagConfig {
    /// Measure every poll: busy time, idle time and a poll-duration
    /// histogram per task. Default: the [`TASK_TIMING_ENV`] variable
    /// (`1` or `0`) if set, else on in debug builds and off in release.
    pub task_timing: bool,
    /// Report a poll longer than this. Default: 100 ms in debug builds
    /// (a poll normally takes microseconds; 100 ms is far above that even
    /// in an unoptimised build on a busy machine, and is long enough for
    /// every other task on the worker to notice), off in release.
    pub long_poll: Option<Duration>,
    /// Report a task that has not stopped this long after it was
    /// cancelled: still being polled, or parked on something that is not a
    /// cancellation point (the backend checks every task periodically).
    /// Default: 5 s in debug builds (cleanup that needs I/O can take a
    /// while), off in release.
    pub cancelled_running: Option<Duration>,
    /// Report a task that returns `Pending` with no waker left anywhere.
    /// Default: on in debug builds, off in release.
    pub lost_waker: bool,
    /// Look for wait-for cycles over Brisk's locks this often (`None`:
    /// never), and report each cycle seen at two checks in a row, once.
    /// Unlike the deadlock rule, this finds tasks stuck on each other while
    /// timers, sockets and other tasks keep the program going (a server
    /// whose two handlers took two locks in opposite orders). Default: 1 s
    /// in debug builds, off in release (a check reads every task's
    /// wait-point).
    pub wait_cycle_check: Option<Duration>,
    /// How long a runtime must stay quiet before it reports a deadlock
    /// (`None`: never). Default: 10 s.
    ///
    /// The rule: every task and the `block_on` future wait; no timer is
    /// armed, no socket or signal is registered with the reactor, no
    /// blocking job is queued or running; and nothing was polled during the
    /// whole grace period. Its limit: a thread outside the runtime (a
    /// `std::thread` holding a channel sender or a waker) that acts only
    /// after the grace period makes this a false report; raise the grace
    /// period (or set `None`) for programs that wait on such threads.
    pub deadlock_grace: Option<Duration>,
    /// Panic out of `block_on` with the report instead of warning once.
    /// `#[brisk::test]` turns this on, so a deadlocked test fails with the
    /// dump instead of hanging. Default: off.
    pub panic_on_deadlock: bool,
    /// Called with every hazard instead of printing it to stderr. It runs on
    /// the thread that found the hazard (often a worker, in the middle of
    /// the task's poll): keep it short and do not block.
    pub on_hazard: Option<HazardCallback>,
    /// How many hazards the log keeps (the oldest are dropped first).
    pub log_capacity: usize,
    /// False: no task registry and no wait-points (benchmarks only).
    pub(crate) tracked: bool,
}

impl Default for DiagConfig {
    fn default() -> Self {
        let debug = cfg!(debug_assertions) && !cfg!(loom);
        let timing = match std::env::var(TASK_TIMING_ENV).as_deref() {
            Ok("1") | Ok("true") | Ok("on") => true,
            Ok("0") | Ok("false") | Ok("off") => false,
            _ => debug,
        };
        DiagConfig {
            task_timing: timing,
            long_poll: debug.then_some(Duration::from_millis(100)),
            cancelled_running: debug.then_some(Duration::from_secs(5)),
            lost_waker: debug,
            wait_cycle_check: debug.then_some(Duration::from_secs(1)),
            deadlock_grace: Some(Duration::from_secs(10)),
            panic_on_deadlock: false,
            on_hazard: None,
            log_capacity: 256,
            tracked: true,
        }
    }
}

impl DiagConfig {
    /// Turns off the diagnostics that are otherwise always on — the task
    /// registry and the wait-points — so that a benchmark can measure what
    /// they cost. Not for programs: unlisted tasks are invisible to dumps,
    /// the console and deadlock reports, and are not cancelled at shutdown
    /// (a task still pending then is leaked). Every task must finish before
    /// the runtime shuts down.
    #[doc(hidden)]
    pub fn set_untracked_for_benchmarks(&mut self) {
        self.tracked = false;
    }

    /// False after [`set_untracked_for_benchmarks`](Self::set_untracked_for_benchmarks).
    #[doc(hidden)]
    pub fn tracks_tasks(&self) -> bool {
        self.tracked
    }

    /// True if tasks carry the per-task side structure: needed for timing,
    /// long polls measured by the harness, lost wakers and cancelled tasks
    /// that keep running.
    pub fn instrumented(&self) -> bool {
        self.task_timing
            || self.long_poll.is_some()
            || self.cancelled_running.is_some()
            || self.lost_waker
    }
}

impl fmt::Debug for DiagConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiagConfig")
            .field("task_timing", &self.task_timing)
            .field("long_poll", &self.long_poll)
            .field("cancelled_running", &self.cancelled_running)
            .field("lost_waker", &self.lost_waker)
            .field("wait_cycle_check", &self.wait_cycle_check)
            .field("deadlock_grace", &self.deadlock_grace)
            .field("panic_on_deadlock", &self.panic_on_deadlock)
            .field("on_hazard", &self.on_hazard.is_some())
            .field("log_capacity", &self.log_capacity)
            .field("tracked", &self.tracked)
            .finish()
    }
}

/// One runtime's diagnostics: its configuration and its hazard log.
pub struct Diagnostics {
    config: DiagConfig,
    instrumented: bool,
    /// A poll at least this long takes the slow path (histogram bucket
    /// above 0, long-poll check).
    slow_poll_ns: u64,
    /// True if a finished poll checks for hazards (lost waker, cancelled
    /// but running).
    checks_per_poll: bool,
    clock: crate::cycle_clock::CycleClock,
    log: Mutex<VecDeque<Hazard>>,
}

/// Polls shorter than this land in histogram bucket 0, which is not
/// stored (see `POLL_HISTOGRAM_BUCKETS`).
const FIRST_BUCKET_NS: u64 = 2_000;

impl Diagnostics {
    /// Diagnostics with `config`.
    pub fn new(config: DiagConfig) -> Diagnostics {
        let long_poll_ns = config.long_poll.map_or(u64::MAX, |t| {
            u64::try_from(t.as_nanos()).unwrap_or(u64::MAX)
        });
        Diagnostics {
            instrumented: config.instrumented(),
            slow_poll_ns: FIRST_BUCKET_NS.min(long_poll_ns),
            checks_per_poll: config.lost_waker || config.cancelled_running.is_some(),
            config,
            clock: crate::cycle_clock::CycleClock::new(),
            log: Mutex::new(VecDeque::new()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DiagConfig {
        &self.config
    }

    /// False when the runtime keeps no task registry and no wait-points
    /// (see `DiagConfig::set_untracked_for_benchmarks`).
    #[doc(hidden)]
    pub fn tracks_tasks(&self) -> bool {
        self.config.tracked
    }

    #[inline]
    pub(crate) fn instrumented(&self) -> bool {
        self.instrumented
    }

    #[inline]
    pub(crate) fn slow_poll_ns(&self) -> u64 {
        self.slow_poll_ns
    }

    #[inline]
    pub(crate) fn checks_per_poll(&self) -> bool {
        self.checks_per_poll
    }

    /// Nanoseconds of the monotonic clock since this runtime started
    /// (at least 1, so 0 can mean "not set"). Reads the time-stamp counter
    /// where the kernel trusts it (see `cycle_clock`).
    #[inline]
    pub(crate) fn now_ns(&self) -> u64 {
        self.clock.now_ns().max(1)
    }

    /// Logs `hazard` and hands it to the callback, or prints it to stderr
    /// (`brisk: hazard: ...`) if there is none.
    pub fn report(&self, hazard: Hazard) {
        match &self.config.on_hazard {
            Some(f) => f(&hazard),
            None => eprintln!("brisk: hazard: {hazard}"),
        }
        self.record(hazard);
    }

    /// Logs `hazard` without printing it or calling the callback (for a
    /// hazard delivered another way, such as a panic).
    pub fn record(&self, hazard: Hazard) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if self.config.log_capacity == 0 {
            return;
        }
        while log.len() >= self.config.log_capacity {
            log.pop_front();
        }
        log.push_back(hazard);
    }

    /// The hazards logged so far, oldest first.
    pub fn hazards(&self) -> Vec<Hazard> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().cloned().collect()
    }
}

impl fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnostics")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// `POLL_CLOCK` outside a [`PollRun`].
const NOT_IN_RUN: u64 = u64::MAX;

thread_local! {
    /// Inside a [`PollRun`]: the clock reading that ended the last poll on
    /// this thread (0: none yet, or the run was paused). Outside:
    /// `NOT_IN_RUN`.
    static POLL_CLOCK: std::cell::Cell<u64> = const { std::cell::Cell::new(NOT_IN_RUN) };
}

/// A run of consecutive task polls on this thread, during which the clock
/// reading that ends one instrumented poll also starts the next: per-poll
/// timing then reads the clock once per poll instead of twice.
///
/// A backend makes one around its loop of "take the next task, poll it",
/// and calls [`pause`](PollRun::pause) whenever the thread does anything
/// else in between that may take a while (drives timers or I/O, steals,
/// parks): the time between two polls of a run is counted as part of the
/// second one, so it must stay short (a queue pop). Nothing changes outside
/// a run, and a run costs nothing when the runtime's tasks are not
/// instrumented ([`DiagConfig::instrumented`]).
///
/// ```
/// use brisk_core::diag::{DiagConfig, Diagnostics, PollRun};
/// let diagnostics = Diagnostics::new(DiagConfig::default());
/// let run = PollRun::enter(&diagnostics);
/// // ... poll tasks ...
/// run.pause(); // about to drive timers: the next poll reads the clock
/// ```
#[must_use = "the run ends when the guard is dropped"]
pub struct PollRun {
    /// The value to restore, or `None` if the run is inactive.
    prev: Option<u64>,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl PollRun {
    /// Starts a run on this thread for tasks of the runtime whose
    /// diagnostics are `diagnostics` (inactive unless they are instrumented).
    #[inline]
    pub fn enter(diagnostics: &Diagnostics) -> PollRun {
        let prev = if diagnostics.instrumented() {
            POLL_CLOCK.try_with(|c| c.replace(0)).ok()
        } else {
            None
        };
        PollRun {
            prev,
            _not_send: std::marker::PhantomData,
        }
    }

    /// The thread did something other than polling: the next poll reads
    /// the clock for its start.
    #[inline]
    pub fn pause(&self) {
        if self.prev.is_some() {
            let _ = POLL_CLOCK.try_with(|c| c.set(0));
        }
    }
}

impl Drop for PollRun {
    #[inline]
    fn drop(&mut self) {
        if let Some(prev) = self.prev {
            let _ = POLL_CLOCK.try_with(|c| c.set(prev));
        }
    }
}

impl fmt::Debug for PollRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollRun")
            .field("active", &self.prev.is_some())
            .finish()
    }
}

/// The start of an instrumented poll: the end of the previous poll of the
/// current [`PollRun`], or a fresh reading.
#[inline]
pub(crate) fn poll_clock_start(d: &Diagnostics) -> u64 {
    let last = POLL_CLOCK.try_with(|c| c.get()).unwrap_or(NOT_IN_RUN);
    if last == 0 || last == NOT_IN_RUN {
        d.now_ns()
    } else {
        last
    }
}

/// The end of an instrumented poll (a fresh reading), kept as the start of
/// the next poll when inside a [`PollRun`].
#[inline]
pub(crate) fn poll_clock_end(d: &Diagnostics) -> u64 {
    let now = d.now_ns();
    let _ = POLL_CLOCK.try_with(|c| {
        if c.get() != NOT_IN_RUN {
            c.set(now);
        }
    });
    now
}

/// Number of buckets of a poll-duration histogram: bucket `i` counts polls
/// that lasted `[2^i, 2^(i+1))` µs (bucket 0 also takes polls under 1 µs,
/// the last one everything from `2^23` µs, about 8 s, up).
pub const POLL_HISTOGRAM_BUCKETS: usize = 24;

/// Where a poll of `micros` µs goes in a poll histogram.
pub fn poll_histogram_bucket(micros: u64) -> usize {
    if micros < 2 {
        0
    } else {
        ((63 - micros.leading_zeros()) as usize).min(POLL_HISTOGRAM_BUCKETS - 1)
    }
}

/// Busy and idle time of one task; see [`TaskRef::timing`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskTiming {
    /// Time spent inside polls (including the one running now).
    pub busy: Duration,
    /// Time alive but not being polled (queued or waiting).
    pub idle: Duration,
    /// Poll durations; see [`POLL_HISTOGRAM_BUCKETS`].
    pub poll_histogram: [u64; POLL_HISTOGRAM_BUCKETS],
}

/// `#id ("name") spawned at file:line:col`.
pub(crate) fn describe(task: TaskRef<'_>) -> String {
    let mut s = format!("task {}", task.id());
    if let Some(name) = task.name() {
        s.push_str(&format!(" ({name:?})"));
    }
    if task.kind() != TaskKind::Task {
        s.push_str(&format!(" [{}]", task.kind().as_str()));
    }
    s.push_str(&format!(" spawned at {}", task.location()));
    s
}

/// Where a task was waiting before the poll that went wrong.
pub(crate) fn resumed_from(wait: Option<crate::wait::WaitPoint>) -> String {
    match wait {
        Some(w) => format!("its last wait-point: {w}"),
        None => "no wait-point recorded yet (first poll, or a hand-written future)".to_owned(),
    }
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else if d >= Duration::from_millis(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} µs", d.as_micros())
    }
}

pub(crate) fn long_poll(
    task: TaskRef<'_>,
    took: Duration,
    threshold: Duration,
    before: Option<crate::wait::WaitPoint>,
) -> Hazard {
    Hazard::for_task(
        Hazard::LONG_POLL,
        task.id().as_u64(),
        format!(
            "long poll: {} held its thread for {} in one poll (threshold {}); {}: {LONG_POLL_FIX}",
            describe(task),
            fmt_duration(took),
            fmt_duration(threshold),
            resumed_from(before),
        ),
    )
}

pub(crate) fn lost_waker(task: TaskRef<'_>) -> Hazard {
    let wait = match task.wait_point() {
        Some(w) => format!("it waits on {w}"),
        None => "no wait-point was recorded (a hand-written future, or `std::future::pending()`, \
                 which parks a task until it is cancelled)"
            .to_owned(),
    };
    Hazard::for_task(
        Hazard::LOST_WAKER,
        task.id().as_u64(),
        format!(
            "lost waker: {} returned Pending but no waker for it exists, so nothing can ever \
             wake it; {wait}: {LOST_WAKER_FIX}",
            describe(task),
        ),
    )
}

pub(crate) fn cancelled_running(task: TaskRef<'_>, since: Duration) -> Hazard {
    Hazard::for_task(
        Hazard::CANCELLED_RUNNING,
        task.id().as_u64(),
        format!(
            "cancelled but still running: {} was cancelled {} ago and has not stopped; {}: \
             {CANCELLED_RUNNING_FIX}",
            describe(task),
            fmt_duration(since),
            resumed_from(task.wait_point()),
        ),
    )
}

/// The cycles of a wait-for graph (`task → tasks it waits for`), each as the
/// task ids along it starting from the smallest, sorted. A task waiting on
/// itself is a cycle of one.
pub fn wait_for_cycles(edges: &BTreeMap<u64, BTreeSet<u64>>) -> Vec<Vec<u64>> {
    let mut cycles = Vec::new();
    for scc in strongly_connected(edges) {
        let cyclic = scc.len() > 1 || edges.get(&scc[0]).is_some_and(|out| out.contains(&scc[0]));
        if !cyclic {
            continue;
        }
        // Walk inside the component from its smallest id until a task
        // repeats: that walk closes a cycle.
        let members: BTreeSet<u64> = scc.iter().copied().collect();
        let start = *members.iter().next().expect("components are not empty");
        let mut path = vec![start];
        let mut seen = BTreeSet::from([start]);
        let mut at = start;
        loop {
            let next = edges[&at]
                .iter()
                .copied()
                .find(|n| members.contains(n))
                .expect("every member of a cyclic component has an edge inside it");
            if !seen.insert(next) {
                let from = path.iter().position(|&p| p == next).unwrap_or(0);
                let mut cycle = path.split_off(from);
                let min = cycle
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, id)| **id)
                    .map_or(0, |(i, _)| i);
                cycle.rotate_left(min);
                cycles.push(cycle);
                break;
            }
            path.push(next);
            at = next;
        }
    }
    cycles.sort();
    cycles
}

/// Tarjan's strongly connected components over `edges`, iteratively (deep
/// graphs must not overflow the stack). Components come out in a
/// deterministic order; each lists its members.
fn strongly_connected(edges: &BTreeMap<u64, BTreeSet<u64>>) -> Vec<Vec<u64>> {
    let mut nodes: BTreeSet<u64> = edges.keys().copied().collect();
    for out in edges.values() {
        nodes.extend(out.iter().copied());
    }
    let empty = BTreeSet::new();
    let mut index: BTreeMap<u64, usize> = BTreeMap::new();
    let mut low: BTreeMap<u64, usize> = BTreeMap::new();
    let mut on_stack = BTreeSet::new();
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for &root in &nodes {
        if index.contains_key(&root) {
            continue;
        }
        // Each frame: a node and the successors still to visit.
        let mut frames: Vec<(u64, Vec<u64>)> = Vec::new();
        let succ = |n: u64| {
            edges
                .get(&n)
                .unwrap_or(&empty)
                .iter()
                .rev()
                .copied()
                .collect()
        };
        index.insert(root, next);
        low.insert(root, next);
        next += 1;
        stack.push(root);
        on_stack.insert(root);
        frames.push((root, succ(root)));
        while let Some((v, todo)) = frames.last_mut() {
            let v = *v;
            if let Some(w) = todo.pop() {
                if let std::collections::btree_map::Entry::Vacant(e) = index.entry(w) {
                    e.insert(next);
                    low.insert(w, next);
                    next += 1;
                    stack.push(w);
                    on_stack.insert(w);
                    frames.push((w, succ(w)));
                } else if on_stack.contains(&w) {
                    let lw = index[&w];
                    let lv = low.get_mut(&v).expect("visited");
                    *lv = (*lv).min(lw);
                }
                continue;
            }
            frames.pop();
            if let Some((parent, _)) = frames.last() {
                let lv = low[&v];
                let lp = low.get_mut(parent).expect("visited");
                *lp = (*lp).min(lv);
            }
            if low[&v] == index[&v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack.remove(&w);
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                comp.sort_unstable();
                out.push(comp);
            }
        }
    }
    out
}

/// One edge of the wait-for graph: `task` (or a child of a scope it runs)
/// waits on a lock that task `holder` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitEdge {
    /// The waiting task.
    pub task: u64,
    /// The lock's kind (one that records its holders, see
    /// [`ResourceKind::records_holders`](crate::wait::ResourceKind::records_holders)).
    pub kind: crate::wait::ResourceKind,
    /// The lock's id.
    pub resource: u64,
    /// Where the task waits.
    pub location: &'static std::panic::Location<'static>,
    /// The task holding the lock.
    pub holder: u64,
}

/// The holders of what `wait` waits on, if it is a lock that records them;
/// adds an edge per holder task to `edges` (with `sole`, only for a lock
/// with one holder: a waiter on a lock several tasks share, semaphore
/// permits or read guards, may go on when any one of them lets go, so a
/// cycle through one of them proves nothing).
fn holders_of_wait(
    registry: &crate::task::Registry,
    task: u64,
    wait: &crate::wait::WaitPoint,
    edges: &mut Vec<WaitEdge>,
    sole: bool,
) -> Option<crate::wait::HolderSnapshot> {
    if !wait.kind.records_holders() {
        return None;
    }
    let snap = crate::wait::holders_of_in(wait.resource, registry)?;
    if sole && (snap.holders.len() != 1 || snap.more > 0) {
        return Some(snap);
    }
    for id in snap.holders.iter().flatten() {
        edges.push(WaitEdge {
            task,
            kind: wait.kind,
            resource: wait.resource,
            location: wait.location,
            holder: id.as_u64(),
        });
    }
    Some(snap)
}

/// The wait-for cycles among `registry`'s tasks over Brisk's locks held by
/// one task each: for each cycle, its task ids (from the smallest) and a
/// [`Hazard::WAIT_CYCLE`] that tells every step and carries the cycle as
/// Graphviz DOT in its report.
///
/// Holders that are tasks of another runtime are left out (their ids
/// count apart). A cycle is reported only when it is found at two checks
/// in a row ([`WaitCycleWatch`]).
pub fn wait_cycles(registry: &crate::task::Registry) -> Vec<(Vec<u64>, Hazard)> {
    let mut edges = Vec::new();
    let mut labels = BTreeMap::new();
    // Only tasks that wait: a task woken (by a lock handed over to it,
    // say) still shows the wait it is about to leave until it runs.
    let mut idle = BTreeSet::new();
    for t in registry.tasks() {
        let t = t.as_ref();
        let id = t.id().as_u64();
        if t.state() == crate::task::TaskState::Idle {
            idle.insert(id);
            if let Some(w) = t.wait_point() {
                holders_of_wait(registry, id, &w, &mut edges, true);
            }
        }
        labels.insert(id, (t.name().map(str::to_owned), t.location()));
    }
    for c in registry.scope_children() {
        if let Some(w) = c
            .wait_point
            .as_ref()
            .filter(|_| idle.contains(&c.task.as_u64()))
        {
            holders_of_wait(registry, c.task.as_u64(), w, &mut edges, true);
        }
    }
    cycles_of(&edges)
        .into_iter()
        .map(|(cycle, steps)| {
            let hazard = wait_cycle_hazard(&steps, &labels);
            (cycle, hazard)
        })
        .collect()
}

/// The cycles of `edges`, each with the edge taken at each of its steps.
fn cycles_of(edges: &[WaitEdge]) -> Vec<(Vec<u64>, Vec<WaitEdge>)> {
    let mut graph: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for e in edges {
        graph.entry(e.task).or_default().insert(e.holder);
    }
    wait_for_cycles(&graph)
        .into_iter()
        .map(|cycle| {
            let steps = (0..cycle.len())
                .map(|i| {
                    let (from, to) = (cycle[i], cycle[(i + 1) % cycle.len()]);
                    *edges
                        .iter()
                        .find(|e| e.task == from && e.holder == to)
                        .expect("every step of a cycle is an edge")
                })
                .collect();
            (cycle, steps)
        })
        .collect()
}

type Labels = BTreeMap<u64, (Option<String>, &'static std::panic::Location<'static>)>;

/// `#3 (name)` or `#3`, as dumps print tasks.
fn task_label(id: u64, labels: &Labels) -> String {
    match labels.get(&id) {
        Some((Some(name), _)) => format!("#{id} ({name})"),
        _ => format!("#{id}"),
    }
}

fn wait_cycle_hazard(steps: &[WaitEdge], labels: &Labels) -> Hazard {
    let path: Vec<String> = steps
        .iter()
        .map(|e| {
            format!(
                "task {} waits on {} #{} at {}, held by task {}",
                task_label(e.task, labels),
                e.kind.as_str(),
                e.resource,
                e.location,
                task_label(e.holder, labels)
            )
        })
        .collect();
    Hazard {
        kind: Hazard::WAIT_CYCLE,
        task: None,
        message: format!("wait-for cycle: {}: {WAIT_CYCLE_FIX}", path.join("; ")),
        report: Some(cycle_dot(steps, labels)),
    }
}

/// A cycle as Graphviz DOT: tasks as ellipses, locks as boxes, "waits"
/// and "held by" edges (render with `dot -Tsvg`).
fn cycle_dot(steps: &[WaitEdge], labels: &Labels) -> String {
    use std::fmt::Write as _;
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph wait_cycle {\n  rankdir=LR;\n");
    for e in steps {
        let location = labels
            .get(&e.task)
            .map_or(String::new(), |l| l.1.to_string());
        let _ = writeln!(
            out,
            "  t{} [label=\"{}\\n{}\"];",
            e.task,
            esc(&task_label(e.task, labels)),
            esc(&location)
        );
        let r = format!("r{}_{}", e.kind.as_str(), e.resource);
        let _ = writeln!(
            out,
            "  {r} [shape=box, label=\"{} #{}\"];",
            e.kind.as_str(),
            e.resource
        );
        let _ = writeln!(
            out,
            "  t{} -> {r} [label=\"waits at {}\", color=red];",
            e.task,
            esc(&e.location.to_string())
        );
        let _ = writeln!(
            out,
            "  {r} -> t{} [label=\"held by\", color=red];",
            e.holder
        );
    }
    out.push_str("}\n");
    out
}

/// Reports every task of `registry` that was cancelled longer ago than
/// [`DiagConfig::cancelled_running`] and has not finished, once per task,
/// whether it keeps being polled or waits on something that is not a
/// cancellation point (a foreign future) and is never polled again.
/// Backends call it periodically (the native runtime: every quarter of
/// the threshold). Tasks without a diagnostics record are skipped.
pub fn check_cancelled_tasks(registry: &crate::task::Registry) {
    let d = registry.diagnostics();
    if d.config().cancelled_running.is_none() || !d.instrumented() {
        return;
    }
    let now = d.now_ns();
    for task in registry.tasks() {
        crate::task::instrument::check_cancelled(task.as_ref(), now);
    }
}

/// Watches a runtime for wait-for cycles (see
/// [`DiagConfig::wait_cycle_check`]): a cycle is reported when two checks
/// in a row find it, once while it lasts.
#[derive(Debug, Default)]
pub struct WaitCycleWatch {
    /// The cycles the previous check found.
    seen: BTreeSet<Vec<u64>>,
    /// The cycles reported (and still there).
    reported: BTreeSet<Vec<u64>>,
}

impl WaitCycleWatch {
    /// Looks for cycles now; returns the hazards to report.
    pub fn check(&mut self, registry: &crate::task::Registry) -> Vec<Hazard> {
        let found = wait_cycles(registry);
        let now: BTreeSet<Vec<u64>> = found.iter().map(|(c, _)| c.clone()).collect();
        let mut out = Vec::new();
        for (cycle, hazard) in found {
            if self.seen.contains(&cycle) && self.reported.insert(cycle) {
                out.push(hazard);
            }
        }
        self.reported.retain(|c| now.contains(c));
        self.seen = now;
        out
    }
}

/// A text dump of every task of `registry` for a deadlock report: one line
/// per task (id, name, spawn location, state, polls, wait-point and the
/// holders of the lock it waits on), a line under it for each child of
/// the scopes it runs (they wait inside it), then the wait-for cycles, and
/// those as Graphviz DOT.
pub fn deadlock_report(registry: &crate::task::Registry) -> String {
    use std::fmt::Write as _;
    let tasks = registry.tasks();
    let mut infos: Vec<_> = tasks.iter().map(|t| t.as_ref().info()).collect();
    infos.sort_by_key(|t| t.id);
    let mut scope_children: BTreeMap<u64, Vec<crate::scope::ScopeChildInfo>> = BTreeMap::new();
    for c in registry.scope_children() {
        scope_children.entry(c.task.as_u64()).or_default().push(c);
    }
    let labels: Labels = infos
        .iter()
        .map(|t| {
            (
                t.id.as_u64(),
                (t.name.as_deref().map(str::to_owned), t.location),
            )
        })
        .collect();
    let mut out = String::new();
    let mut edges = Vec::new();
    // ", held by ..." for a wait on a lock, adding task -> holder edges.
    let mut held_by = |out: &mut String, task: u64, wait: &Option<crate::wait::WaitPoint>| {
        let Some(w) = wait else { return };
        // Every task waits here (a deadlock), so shared locks count too.
        let Some(snap) = holders_of_wait(registry, task, w, &mut edges, false) else {
            return;
        };
        if snap.is_empty() {
            return;
        }
        let names: Vec<String> = snap
            .holders
            .iter()
            .map(|h| match h {
                Some(id) => format!("task {}", task_label(id.as_u64(), &labels)),
                None => "a thread outside any task".to_owned(),
            })
            .collect();
        let _ = write!(out, ", held by {}", names.join(", "));
        if snap.more > 0 {
            let _ = write!(out, " and {} more", snap.more);
        }
    };
    for t in &infos {
        let _ = write!(out, "  {t}");
        held_by(&mut out, t.id.as_u64(), &t.wait_point);
        out.push('\n');
        for c in scope_children.get(&t.id.as_u64()).into_iter().flatten() {
            let _ = write!(out, "    scope child #{}", c.id);
            if let Some(name) = &c.name {
                let _ = write!(out, " `{name}`");
            }
            let _ = write!(out, " spawned at {}", c.location);
            if let Some(w) = &c.wait_point {
                let _ = write!(out, ", waits on {w}");
            }
            held_by(&mut out, t.id.as_u64(), &c.wait_point);
            out.push('\n');
        }
    }
    let cycles = cycles_of(&edges);
    for (cycle, _) in &cycles {
        let path: Vec<String> = cycle.iter().map(|id| format!("#{id}")).collect();
        let _ = writeln!(
            out,
            "  wait-for cycle: {} -> {}",
            path.join(" -> "),
            path[0]
        );
    }
    for (_, steps) in &cycles {
        out.push_str(&cycle_dot(steps, &labels));
    }
    if infos.is_empty() {
        out.push_str("  (no tasks: only the `block_on` future waits)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_powers_of_two_in_micros() {
        assert_eq!(poll_histogram_bucket(0), 0);
        assert_eq!(poll_histogram_bucket(1), 0);
        assert_eq!(poll_histogram_bucket(2), 1);
        assert_eq!(poll_histogram_bucket(3), 1);
        assert_eq!(poll_histogram_bucket(4), 2);
        assert_eq!(poll_histogram_bucket(1023), 9);
        assert_eq!(poll_histogram_bucket(1024), 10);
        assert_eq!(poll_histogram_bucket(u64::MAX), POLL_HISTOGRAM_BUCKETS - 1);
    }

    #[test]
    fn cycles_are_found_and_chains_are_not() {
        let mut edges: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        edges.entry(3).or_default().insert(1);
        edges.entry(1).or_default().insert(2);
        edges.entry(2).or_default().insert(3);
        edges.entry(4).or_default().insert(4);
        edges.entry(5).or_default().insert(6);
        assert_eq!(wait_for_cycles(&edges), vec![vec![1, 2, 3], vec![4]]);
    }

    #[test]
    fn the_log_is_bounded() {
        let config = DiagConfig {
            log_capacity: 2,
            on_hazard: Some(Arc::new(|_| {})),
            ..DiagConfig::default()
        };
        let d = Diagnostics::new(config);
        for i in 0..3 {
            d.report(Hazard::for_task(Hazard::LOST_WAKER, i, String::new()));
        }
        let tasks: Vec<_> = d.hazards().iter().map(|h| h.task).collect();
        assert_eq!(tasks, vec![Some(1), Some(2)]);
    }
}
