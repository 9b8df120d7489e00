//! The native runtime's hazard detectors: deadlocks (the schedulers, when
//! they would sleep with nothing left that could wake them), polls stuck
//! past the long-poll threshold (the multi-thread monitor, the
//! current-thread watchdog), and the checks
//! that look at every task from time to time: wait-for cycles and
//! cancelled tasks that do not stop (`PeriodicChecks`).
//!
//! The rule for a deadlock (see `DiagConfig::deadlock_grace`): every task
//! and every `block_on` future wait; no timer is armed, no socket or signal
//! is registered with the reactor, no blocking job is queued or running, no
//! second thread is inside `block_on`; and nothing was polled for the whole
//! grace period. A thread outside the runtime that wakes a task after the
//! grace period makes the report false; that is the documented limit.

use super::shared::Shared;
use crate::loom::{AtomicU64, Ordering};
use brisk_core::diag::{deadlock_report, Hazard, WaitCycleWatch};
use brisk_core::task::Notified;

use std::time::{Duration, Instant};

/// Panic payload that makes `block_on` panic with a deadlock report (after
/// the scheduler core was put back).
pub(crate) struct DeadlockPanic(pub(crate) String);

/// True if something other than a task could still wake one of the
/// runtime's tasks or its `block_on` future.
pub(crate) fn external_wake_possible(shared: &Shared) -> bool {
    shared.time.live_timers() > 0
        || shared.io.registrations() > 0
        || shared.blocking.busy_threads() > 0
        || shared.blocking.queue_depth() > 0
        || shared.block_on_parkers.lock().unwrap().len() > 1
        || shared.counters.block_on_busy()
}

/// What a scheduler about to sleep with nothing to do should do.
pub(crate) enum IdleAction {
    /// Sleep for this long (`None`: until woken).
    Park(Option<Duration>),
    /// Nothing happened for the grace period and nothing can wake anybody.
    Deadlock(Hazard),
}

/// Tracks how long a scheduler has been quiet.
#[derive(Default)]
pub(crate) struct DeadlockWatch {
    /// When the quiet period started, and the progress count then.
    quiet: Option<(Instant, u64)>,
    reported: bool,
}

impl DeadlockWatch {
    /// Called when the scheduler would sleep for `timeout`; `progress`
    /// counts every poll so far (tasks and `block_on` futures).
    pub(crate) fn idle(
        &mut self,
        shared: &Shared,
        timeout: Option<Duration>,
        progress: u64,
    ) -> IdleAction {
        let config = shared.registry.diagnostics().config();
        let Some(grace) = config.deadlock_grace else {
            return IdleAction::Park(timeout);
        };
        if timeout.is_some() || self.reported || external_wake_possible(shared) {
            self.quiet = None;
            return IdleAction::Park(timeout);
        }
        let since = match self.quiet {
            Some((since, p)) if p == progress => since,
            _ => {
                let now = Instant::now();
                self.quiet = Some((now, progress));
                now
            }
        };
        let quiet_for = since.elapsed();
        if quiet_for < grace {
            return IdleAction::Park(Some(grace - quiet_for));
        }
        self.reported = true;
        IdleAction::Deadlock(deadlock_hazard(shared, quiet_for))
    }
}

/// The deadlock hazard: a summary and a dump of every task.
pub(crate) fn deadlock_hazard(shared: &Shared, quiet_for: Duration) -> Hazard {
    let tasks = shared.registry.len();
    let summary = format!(
        "nothing ran for {:.1} s and nothing can wake the {} waiting task(s) or the `block_on` \
         future (no timer, no socket, no blocking job)",
        quiet_for.as_secs_f64(),
        tasks
    );
    Hazard::deadlock(&summary, deadlock_report(&shared.registry))
}

/// Reports a deadlock: panics out of `block_on` (via `DeadlockPanic`) when
/// the builder asked for it, else logs it and warns once. Returns the panic
/// payload to raise, if any.
pub(crate) fn deliver_deadlock(shared: &Shared, hazard: Hazard) -> Option<DeadlockPanic> {
    let d = shared.registry.diagnostics();
    if d.config().panic_on_deadlock {
        let text = hazard.to_string();
        d.record(hazard);
        Some(DeadlockPanic(text))
    } else {
        d.report(hazard);
        None
    }
}

/// The checks that look at every task from time to time, run by the
/// multi-thread monitor and by the current-thread scheduler: wait-for
/// cycles (`DiagConfig::wait_cycle_check`) and cancelled tasks that do not
/// stop (every quarter of `DiagConfig::cancelled_running`, for those that
/// are no longer polled).
#[derive(Default)]
pub(crate) struct PeriodicChecks {
    cycles: WaitCycleWatch,
    next_cycles: Option<Instant>,
    next_cancelled: Option<Instant>,
}

/// Whether a check every `interval` is due at `now` (then schedules the
/// next one), and how long until the next one.
fn due(next: &mut Option<Instant>, now: Instant, interval: Duration) -> (bool, Duration) {
    let at = *next.get_or_insert(now + interval);
    if now < at {
        return (false, at - now);
    }
    *next = Some(now + interval);
    (true, interval)
}

impl PeriodicChecks {
    /// Runs the checks that are due and reports what they find. Returns how
    /// long until the next one (`None`: every check is off).
    pub(crate) fn poll(&mut self, shared: &Shared) -> Option<Duration> {
        let registry = &shared.registry;
        let config = registry.diagnostics().config();
        let (cycles, cancelled) = (config.wait_cycle_check, config.cancelled_running);
        if cycles.is_none() && cancelled.is_none() {
            return None;
        }
        let now = Instant::now();
        let mut until = None;
        if let Some(every) = cycles {
            let (run, next) = due(&mut self.next_cycles, now, every);
            if run && !registry.is_empty() {
                for hazard in self.cycles.check(registry) {
                    registry.diagnostics().report(hazard);
                }
            }
            until = min_timeout(until, Some(next));
        }
        if let Some(limit) = cancelled {
            let every = (limit / 4).max(Duration::from_millis(1));
            let (run, next) = due(&mut self.next_cancelled, now, every);
            if run && !registry.is_empty() {
                brisk_core::diag::check_cancelled_tasks(registry);
            }
            until = min_timeout(until, Some(next));
        }
        until
    }
}

/// The shorter of two park timeouts (`None`: unbounded).
pub(crate) fn min_timeout(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A scheduler thread's polls, marked for a watcher on another thread (the
/// multi-thread monitor, the current-thread watchdog): a sequence number,
/// incremented before and after every poll (odd: inside one, so it also
/// counts polls), and the id of the task being polled. Single writer: the
/// thread that polls.
pub(crate) struct PollMarks {
    seq: AtomicU64,
    task: AtomicU64,
}

impl PollMarks {
    pub(crate) fn new() -> PollMarks {
        PollMarks {
            seq: AtomicU64::new(0),
            task: AtomicU64::new(0),
        }
    }

    /// Runs `task`, marking the poll.
    #[inline]
    pub(crate) fn run(&self, task: Notified) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.task.store(task.id().as_u64(), Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        task.run();
        self.seq.store(seq.wrapping_add(2), Ordering::Relaxed);
    }

    /// The sequence number and the task of the latest poll, for
    /// [`StuckPoll::check`].
    pub(crate) fn read(&self) -> (u64, u64) {
        (
            self.seq.load(Ordering::Relaxed),
            self.task.load(Ordering::Relaxed),
        )
    }

    /// Polls started so far (a poll that woke its awaiter counts before
    /// it closes).
    pub(crate) fn started(&self) -> u64 {
        self.seq.load(Ordering::Relaxed).div_ceil(2)
    }
}

/// Per-worker state of the monitor's stuck-poll check.
#[derive(Clone, Copy, Default)]
pub(crate) struct StuckPoll {
    seq: u64,
    since: Option<Instant>,
    reported: bool,
}

impl StuckPoll {
    /// Called by the monitor with a worker's poll sequence number (odd:
    /// inside a poll) and the id of the task it polls. `seen` holds the
    /// tasks already reported without per-task instrumentation.
    pub(crate) fn check(
        &mut self,
        shared: &Shared,
        seq: u64,
        task: u64,
        seen: &mut std::collections::HashSet<u64>,
    ) {
        let Some(threshold) = shared.registry.diagnostics().config().long_poll else {
            return;
        };
        if seq != self.seq || seq % 2 == 0 {
            *self = StuckPoll {
                seq,
                since: (seq % 2 == 1).then(Instant::now),
                reported: false,
            };
            return;
        }
        let Some(since) = self.since else { return };
        let stuck_for = since.elapsed();
        if self.reported || stuck_for <= threshold {
            return;
        }
        self.reported = true;
        let registry = &shared.registry;
        let hazard = registry.with_task(task, |t| {
            // Once per task: an instrumented task keeps the mark itself (its
            // harness then stays quiet when the poll returns).
            let first = match t.claim_hazard(Hazard::LONG_POLL) {
                Some(first) => first,
                None => seen.insert(task),
            };
            first.then(|| Hazard::stuck_poll(t, stuck_for, threshold))
        });
        if let Some(Some(hazard)) = hazard {
            registry.diagnostics().report(hazard);
        }
    }
}

/// Diagnostics: per-poll timing and the hazard detectors.
impl super::Builder {
    /// Measures every poll: each task's busy time, idle time and a
    /// poll-duration histogram (read them in `brisk::diag::dump()`).
    ///
    /// Default: the `BRISK_TASK_TIMING` environment variable (`1` or `0`)
    /// if set, else on in debug builds and off in release builds. Off, a
    /// poll costs one predictable branch more; on, each poll reads the
    /// monotonic clock once (consecutive polls on a worker share a reading)
    /// and each task carries a 64-byte record in its own allocation.
    ///
    /// ```
    /// let rt = brisk::Runtime::builder().current_thread().task_timing(true).build().unwrap();
    /// rt.block_on(async {
    ///     let dump = brisk::diag::dump();
    ///     assert!(dump.tasks.iter().all(|t| t.busy_us.is_some()));
    /// });
    /// ```
    pub fn task_timing(&mut self, on: bool) -> &mut Self {
        self.diag.task_timing = on;
        self
    }

    /// Reports a poll that takes longer than `threshold` (`None`: never),
    /// with the task's name, spawn location and last wait-point. A poll that
    /// returns is measured (when tasks are instrumented, see
    /// [`task_timing`](Self::task_timing)); a poll that is still stuck is
    /// reported while it runs, by the monitor thread of a multi-thread
    /// runtime, or by the watchdog thread a current-thread runtime starts
    /// when a threshold is set (it looks every half threshold, at most
    /// every 50 ms).
    ///
    /// Default: 100 ms in debug builds, off in release builds.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = brisk::Runtime::builder()
    ///     .current_thread()
    ///     .long_poll_threshold(Some(Duration::from_millis(10)))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     brisk::spawn(async { std::thread::sleep(Duration::from_millis(50)) }).await.unwrap();
    ///     # #[cfg(debug_assertions)]
    ///     assert_eq!(brisk::diag::hazards()[0].kind, "long_poll");
    /// });
    /// ```
    pub fn long_poll_threshold(&mut self, threshold: Option<Duration>) -> &mut Self {
        self.diag.long_poll = threshold;
        self
    }

    /// Reports a task that returns `Pending` while no waker for it exists
    /// anywhere: nothing can ever wake it. Default: on in debug builds.
    pub fn detect_lost_wakers(&mut self, on: bool) -> &mut Self {
        self.diag.lost_waker = on;
        self
    }

    /// Reports a task that has not stopped `threshold` after it was
    /// cancelled (`None`: never): still polled, or parked on a future that
    /// is not a cancellation point (every task is checked every quarter of
    /// the threshold). Default: 5 s in debug builds, off in
    /// release builds.
    pub fn cancelled_running_threshold(&mut self, threshold: Option<Duration>) -> &mut Self {
        self.diag.cancelled_running = threshold;
        self
    }

    /// Looks for wait-for cycles over Brisk's locks this often (`None`:
    /// never): tasks that each wait on a `Mutex`, `RwLock`, `Semaphore` or
    /// `OnceCell` another one of them holds. A cycle found by two checks in
    /// a row is reported once (a [`Hazard`] of kind `"wait_cycle"` naming
    /// every step, with the cycle as Graphviz DOT in its report), even
    /// while timers, sockets and other tasks keep the program busy, which
    /// the deadlock rule needs quiet for. Default: 1 s in debug builds,
    /// off in release builds (a check reads every task's wait-point).
    ///
    /// ```
    /// use brisk::sync::Mutex;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let rt = brisk::Runtime::builder()
    ///     .current_thread()
    ///     .wait_cycle_check(Some(Duration::from_millis(10)))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let (a, b) = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
    ///     let (a2, b2) = (a.clone(), b.clone());
    ///     let one = brisk::spawn(async move {
    ///         let _a = a.lock().await;
    ///         brisk::time::sleep(Duration::from_millis(5)).await;
    ///         let _b = b.lock().await; // waits for `two`, forever
    ///     });
    ///     let two = brisk::spawn(async move {
    ///         let _b = b2.lock().await;
    ///         brisk::time::sleep(Duration::from_millis(5)).await;
    ///         let _a = a2.lock().await; // waits for `one`, forever
    ///     });
    ///     while brisk::diag::hazards().is_empty() {
    ///         brisk::time::sleep(Duration::from_millis(5)).await;
    ///     }
    ///     let hazard = &brisk::diag::hazards()[0];
    ///     assert_eq!(hazard.kind, "wait_cycle");
    ///     assert!(hazard.report.as_ref().unwrap().starts_with("digraph"));
    ///     one.abort();
    ///     two.abort();
    /// });
    /// ```
    pub fn wait_cycle_check(&mut self, every: Option<Duration>) -> &mut Self {
        self.diag.wait_cycle_check = every;
        self
    }

    /// How long the runtime must be quiet, with nothing that could wake a
    /// task, before it reports a deadlock (`None`: never). Default: 10 s.
    ///
    /// The rule: every task and `block_on` future waits, no timer is armed,
    /// no socket or signal is registered, no blocking job is queued or
    /// running, and nothing was polled for the whole period. A thread
    /// outside the runtime (a `std::thread` that holds a channel sender)
    /// is invisible to the runtime: if it wakes a task only after the grace
    /// period, the report is false. Raise the period for such programs.
    pub fn deadlock_grace(&mut self, grace: Option<Duration>) -> &mut Self {
        self.diag.deadlock_grace = grace;
        self
    }

    /// On a deadlock, make `block_on` panic with the report (every task
    /// with what it waits on, and the wait-for cycles) instead of warning
    /// once. `#[brisk::test]` turns this on. Default: off.
    ///
    /// ```should_panic
    /// use std::time::Duration;
    /// let rt = brisk::Runtime::builder()
    ///     .current_thread()
    ///     .deadlock_grace(Some(Duration::from_millis(50)))
    ///     .panic_on_deadlock(true)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let (_tx, mut rx) = brisk::sync::mpsc::channel::<u32>(1);
    ///     rx.recv().await; // the sender is alive but nobody will ever send
    /// });
    /// ```
    pub fn panic_on_deadlock(&mut self, on: bool) -> &mut Self {
        self.diag.panic_on_deadlock = on;
        self
    }

    /// Calls `f` with every hazard found (instead of printing it to stderr).
    /// It runs on the thread that found the hazard, often in the middle of
    /// a task's poll: keep it short and never block in it. Hazards are also
    /// kept in the runtime's log (`brisk::diag::hazards()`).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let rt = brisk::Runtime::builder()
    ///     .current_thread()
    ///     .on_hazard(move |h| log.lock().unwrap().push(h.kind))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_hazard(&mut self, f: impl Fn(&Hazard) + Send + Sync + 'static) -> &mut Self {
        self.diag.on_hazard = Some(std::sync::Arc::new(f));
        self
    }

    /// Turns off the diagnostics that are always on — the task registry
    /// and the wait-points — so that `brisk-bench --registry` can measure
    /// what they cost. Not for programs: tasks are then invisible to
    /// dumps, the console and deadlock reports, and a task still pending at
    /// shutdown is leaked instead of cancelled.
    #[doc(hidden)]
    pub fn untracked_for_benchmarks(&mut self) -> &mut Self {
        self.diag.set_untracked_for_benchmarks();
        self
    }
}
