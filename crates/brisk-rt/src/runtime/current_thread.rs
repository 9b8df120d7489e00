//! The current-thread scheduler: every task runs on the thread inside
//! `block_on`.
//!
//! Wakes on that thread push to a plain `VecDeque` (no atomics); wakes from
//! other threads go through the shared inject queue and unpark the thread.
//! Only one `block_on` drives the scheduler at a time; a second concurrent
//! `block_on` on another thread polls its own future and takes the core over
//! when the first one returns.

use super::hazards::{
    deliver_deadlock, min_timeout, DeadlockPanic, DeadlockWatch, IdleAction, PeriodicChecks,
    PollMarks,
};
use super::local::LocalQueue;
use super::shared::{Flavor, Shared};
use crate::loom::{Mutex, Ordering};
use crate::park::{Parker, ThreadWaker};
use brisk_core::diag::PollRun;
use brisk_core::task::Notified;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The part of the scheduler only the driving thread touches.
pub(crate) struct Core {
    queue: VecDeque<Notified>,
    tick: u32,
    /// The periodic hazard checks, kept across `block_on` calls so that
    /// short calls still add up to a check.
    checks: PeriodicChecks,
}

pub(crate) struct CtState {
    /// The core, while no `block_on` drives the scheduler.
    core: Mutex<Option<Box<Core>>>,
    /// The parker of the thread driving the scheduler right now, if any;
    /// every remote wake unparks it.
    driver: Mutex<Option<Arc<Parker>>>,
    /// The driving thread's polls, for the watchdog (`run_watchdog`);
    /// marked only while a long-poll threshold is set.
    polls: PollMarks,
    /// The watchdog thread, to wake when the runtime stops.
    pub(crate) watchdog: std::sync::Mutex<Option<std::thread::Thread>>,
    stop: std::sync::atomic::AtomicBool,
}

/// Set on the driving thread: which runtime's core it holds.
struct Driving {
    shared: *const Shared,
    core: RefCell<Box<Core>>,
}

thread_local! {
    static DRIVING: Cell<*const Driving> = const { Cell::new(std::ptr::null()) };
}

impl CtState {
    pub(crate) fn new() -> CtState {
        CtState {
            core: Mutex::new(Some(Box::new(Core {
                queue: VecDeque::with_capacity(256),
                tick: 0,
                checks: PeriodicChecks::default(),
            }))),
            driver: Mutex::new(None),
            polls: PollMarks::new(),
            watchdog: std::sync::Mutex::new(None),
            stop: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Stops the watchdog thread, if there is one (at shutdown).
    pub(crate) fn stop_watchdog(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(t) = self.watchdog.lock().unwrap().take() {
            t.unpark();
        }
    }

    pub(crate) fn unpark(&self) {
        if let Some(p) = &*self.driver.lock().unwrap() {
            p.unpark();
        }
    }

    #[inline]
    pub(crate) fn schedule(&self, shared: &Shared, task: Notified, _yielded: bool) {
        let driving = DRIVING.with(|d| d.get());
        // SAFETY: `DRIVING` points at a `Driving` on the stack of the
        // `block_on` frame running on this thread; it is reset before that
        // frame returns.
        if let Some(d) = unsafe { driving.as_ref() } {
            if std::ptr::eq(d.shared, shared) {
                if let Ok(mut core) = d.core.try_borrow_mut() {
                    core.queue.push_back(task);
                    return;
                }
            }
        }
        shared.schedule_remote(task);
    }

    /// Number of tasks in the driving thread's queue (when called on it).
    pub(crate) fn local_depth(&self) -> usize {
        let driving = DRIVING.with(|d| d.get());
        // SAFETY: see `schedule`.
        unsafe { driving.as_ref() }
            .and_then(|d| d.core.try_borrow().ok().map(|c| c.queue.len()))
            .unwrap_or(0)
    }
}

fn ct(shared: &Shared) -> &CtState {
    match &shared.flavor {
        Flavor::CurrentThread(ct) => ct,
        Flavor::MultiThread(_) => unreachable!("current-thread loop on a multi-thread runtime"),
    }
}

/// Runs `future` to completion on this thread, driving the scheduler.
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    let state = ct(shared);
    let mut future = pin!(future);
    let parker = Arc::new(Parker::with_io(Some(shared.io.clone())));
    let main = ThreadWaker::new(parker.clone());
    let waker = main.waker();
    let mut cx = Context::from_waker(&waker);
    shared.block_on_parkers.lock().unwrap().push(parker.clone());
    let _unregister = super::UnregisterParker(shared, parker.clone());
    let local = LocalQueue::install(shared.clone(), parker.clone());

    loop {
        if let Some(msg) = shared.panic_stop_message() {
            super::panic_policy_stop(&msg);
        }
        let core = state.core.lock().unwrap().take();
        match core {
            Some(core) => {
                *state.driver.lock().unwrap() = Some(parker.clone());
                let (out, core) = drive(
                    shared,
                    core,
                    &parker,
                    &main,
                    &mut future,
                    &mut cx,
                    local.queue(),
                );
                *state.driver.lock().unwrap() = None;
                *state.core.lock().unwrap() = Some(core);
                // Let a waiting `block_on` on another thread take over.
                shared.unpark_block_on_threads();
                match out {
                    Some(Ok(out)) => return out,
                    // A deadlock with `panic_on_deadlock`: panic with the
                    // report now that the core is back in place.
                    Some(Err(panic)) if panic.is::<DeadlockPanic>() => {
                        let report = panic
                            .downcast::<DeadlockPanic>()
                            .map_or_else(|_| String::new(), |p| p.0);
                        panic!("{report}");
                    }
                    // The future panicked: the core is back in place, so the
                    // runtime stays usable; let the panic continue.
                    Some(Err(panic)) => std::panic::resume_unwind(panic),
                    None => {}
                }
                // `drive` returned without output: the panic policy stopped us.
                let msg = shared.panic_stop_message().unwrap_or_default();
                super::panic_policy_stop(&msg);
            }
            None => {
                // Another thread drives the scheduler: poll our future and
                // run the local tasks it spawned; take the core over when it
                // is released (the releaser unparks us).
                if main.take_woken() {
                    if let Poll::Ready(out) = shared.counters.block_on_turn(|| {
                        brisk_core::coop::with_fresh_budget(future.as_mut(), &mut cx)
                    }) {
                        return out;
                    }
                }
                let mut ran = 0;
                while ran < shared.config.event_interval {
                    let Some(task) = local.queue().pop() else {
                        break;
                    };
                    task.run();
                    ran += 1;
                }
                if ran == 0 {
                    parker.park(Some(Duration::from_millis(10)));
                }
            }
        }
    }
}

/// The scheduler loop. Returns the output, or `None` if the panic policy
/// stopped the runtime; always returns the core.
fn drive<F: Future>(
    shared: &Shared,
    core: Box<Core>,
    parker: &Parker,
    main: &ThreadWaker,
    future: &mut std::pin::Pin<&mut F>,
    cx: &mut Context<'_>,
    local: &LocalQueue,
) -> (Option<std::thread::Result<F::Output>>, Box<Core>) {
    let driving = Driving {
        shared,
        core: RefCell::new(core),
    };
    struct Reset(*const Driving);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = DRIVING.try_with(|d| d.set(self.0));
        }
    }
    let _reset = Reset(DRIVING.with(|d| d.replace(&driving)));
    // Tasks spawned and completed while this thread drives are listed and
    // unlisted in batches, through a registry shard of its own.
    // SAFETY: the guard lives in this frame and is dropped at its end.
    let _owner = unsafe { shared.registry.enter_owner() };
    let event_interval = shared.config.event_interval;
    let global_interval = shared.config.global_queue_interval;
    // The watchdog reports a poll stuck past the long-poll threshold.
    let watched = match &shared.flavor {
        Flavor::CurrentThread(ct) if shared.registry.diagnostics().config().long_poll.is_some() => {
            Some(ct)
        }
        _ => None,
    };

    let mut since_io = 0;
    let mut deadlock = DeadlockWatch::default();
    // Out of the core while it drives: a check's report may run a hazard
    // callback that spawns, which borrows the core.
    let mut checks = std::mem::take(&mut driving.core.borrow_mut().checks);
    // Polls of tasks and of the future, for the deadlock watch.
    let mut progress: u64 = 0;
    let out = 'outer: loop {
        if main.take_woken() {
            progress += 1;
            // A panic of the future must not unwind through here: the core
            // would be lost with this frame and the runtime left unusable.
            let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                brisk_core::coop::with_fresh_budget(future.as_mut(), cx)
            }));
            match polled {
                Ok(Poll::Ready(out)) => break 'outer Some(Ok(out)),
                Ok(Poll::Pending) => {}
                Err(panic) => break 'outer Some(Err(panic)),
            }
        }
        if shared.panic_stopped.load(Ordering::Acquire) {
            break None;
        }

        let mut ran = 0;
        // Consecutive polls share clock readings (per-poll timing).
        let run = PollRun::enter(shared.registry.diagnostics());
        while ran < event_interval {
            let task = {
                let mut core = driving.core.borrow_mut();
                core.tick = core.tick.wrapping_add(1);
                let tick = core.tick;
                if tick % global_interval == 0 {
                    shared.inject.pop().or_else(|| core.queue.pop_front())
                } else if tick % 2 == 0 {
                    local.pop().or_else(|| core.queue.pop_front())
                } else {
                    core.queue.pop_front().or_else(|| local.pop())
                }
                .or_else(|| shared.inject.pop())
            };
            let Some(task) = task else { break };
            match watched {
                Some(ct) => ct.polls.run(task),
                None => task.run(),
            }
            ran += 1;
        }
        drop(run);
        shared
            .counters
            .polls
            .fetch_add(ran as u64, Ordering::Relaxed);
        progress += ran as u64;

        shared.time.process();
        let idle = driving.core.borrow().queue.is_empty()
            && local.is_empty()
            && shared.inject.is_empty()
            && !main.woken.load(Ordering::Acquire);
        // Busy (a full batch, or a future that keeps waking itself): look at
        // I/O readiness every `event_interval` polls, since parking (which
        // drives the reactor) will not happen.
        since_io += ran.max(1);
        if !idle && since_io >= event_interval {
            since_io = 0;
            shared.io.poll_now();
            checks.poll(shared);
        }
        if idle {
            since_io = 0;
            // What finished leaves the registry before we look for a
            // deadlock or sleep.
            shared.registry.flush_local();
            let mut timeout = shared.time.park_timeout();
            match deadlock.idle(shared, timeout, progress) {
                IdleAction::Park(t) => timeout = t,
                IdleAction::Deadlock(hazard) => {
                    if let Some(p) = deliver_deadlock(shared, hazard) {
                        shared.time.clear_planned_wake();
                        break 'outer Some(Err(Box::new(p)));
                    }
                }
            }
            // Waiting tasks may wait on each other, or ignore a
            // cancellation: look again when due (if a check is on; at most
            // one wake per interval).
            timeout = min_timeout(timeout, checks.poll(shared));
            // Re-check after publishing the planned wake: a timer armed or a
            // task queued in between has unparked us (token) or is visible now.
            shared.counters.parks.fetch_add(1, Ordering::Relaxed);
            parker.park(timeout);
            shared.time.clear_planned_wake();
        }
    };
    let mut core = driving.core.into_inner();
    core.checks = checks;
    (out, core)
}

/// Drops every queued task of the core (at shutdown).
pub(crate) fn drain(state: &CtState) {
    let core = state.core.lock().unwrap().take();
    if let Some(mut core) = core {
        core.queue.clear();
        *state.core.lock().unwrap() = Some(core);
    }
}

/// The watchdog thread of a current-thread runtime with a long-poll
/// threshold: the one thread that runs tasks cannot notice a poll that
/// never returns, so this one looks every half threshold (at most every
/// 50 ms) and reports a task still inside one poll past the threshold,
/// as the multi-thread monitor does for workers.
pub(crate) fn run_watchdog(shared: Arc<Shared>) {
    use std::sync::atomic::Ordering::Acquire;
    let Flavor::CurrentThread(ct) = &shared.flavor else {
        return;
    };
    let Some(threshold) = shared.registry.diagnostics().config().long_poll else {
        return;
    };
    let every = (threshold / 2).clamp(Duration::from_millis(1), Duration::from_millis(50));
    let mut stuck = super::hazards::StuckPoll::default();
    let mut seen = std::collections::HashSet::new();
    while !ct.stop.load(Acquire) {
        std::thread::park_timeout(every);
        let (seq, task) = ct.polls.read();
        stuck.check(&shared, seq, task, &mut seen);
    }
}
