//! The work-stealing multi-thread scheduler.
//!
//! Each worker owns a bounded local queue (lock-free, stealable) and polls
//! tasks from it FIFO; tasks woken from outside go to the shared inject queue.
//! An idle worker steals half of a busy worker's queue.
//!
//! The LIFO slot: a task that the task being polled wakes (or spawns) on its
//! own worker goes to that worker's one-task LIFO slot instead of the back of
//! the queue, and runs right after the current poll, while the data the two
//! share is still in the cache; a task already in the slot moves to the back
//! of the queue. Yielding tasks skip the slot. At most `MAX_LIFO_POLLS`
//! slot tasks run in a row: the last one's wakes go to the queue, so two
//! tasks waking each other cannot starve the rest. The slot is stealable like
//! the queue, and the monitor's long-poll rescue covers it.
//!
//! Waking idle workers (the "no lost wake-up" rule): a worker that queues work
//! while there are sleepers and no searchers unparks one sleeper, which starts
//! as a searcher. The last searcher to give up re-checks every queue after it
//! registered as a sleeper, so work queued during its search is never
//! stranded (the `SeqCst` fences pair the queue push with the counter read).
//!
//! A worker does not wake a sleeper when it queues the only runnable task
//! (ping-pong between two tasks stays on one warm worker). Instead a monitor
//! thread, awake only while some worker is, checks every millisecond for a
//! worker stuck in one poll with tasks queued behind it and wakes a sleeper to
//! steal them: one long poll never stalls the tasks queued behind it. While
//! every worker keeps finishing its polls, the checks back off to every 4 ms
//! (see `run_monitor`). The monitor also fires timers when every worker is
//! busy.

use super::hazards::{
    deliver_deadlock, min_timeout, DeadlockWatch, IdleAction, PeriodicChecks, PollMarks, StuckPoll,
};
use super::local::LocalQueue;
use super::shared::{Flavor, Shared};
use crate::io::IoDriver;
use crate::loom::{fence, AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::park::{Parker, ThreadWaker};
use crate::queue::{self, Lifo, LifoSteal, Local, Steal};
use brisk_core::diag::PollRun;
use brisk_core::task::Notified;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub(crate) struct MtState {
    remotes: Box<[Remote]>,
    idle: Idle,
    /// Worker cores waiting to be picked up by their threads.
    cores: Mutex<Vec<Option<Box<Core>>>>,
    /// Held by the one sleeping worker that waits with a timer timeout.
    timer_duty: AtomicBool,
    /// Index of the worker holding `timer_duty`.
    duty_worker: AtomicUsize,
    /// The monitor's parker, and whether it sleeps without a timeout.
    monitor_parker: Arc<Parker>,
    monitor_idle: AtomicBool,
    /// Workers and monitor exit their loops.
    pub(crate) stop: AtomicBool,
}

/// What other threads may touch of a worker. Aligned to two cache lines so
/// one worker's per-poll writes never invalidate another worker's line.
#[repr(align(128))]
struct Remote {
    steal: Steal<Notified>,
    /// Steals the worker's LIFO slot.
    lifo: LifoSteal<Notified>,
    parker: Arc<Parker>,
    /// The worker's polls, for the monitor and the poll counters.
    polls: PollMarks,
    /// Successful steals by this worker. Single writer.
    steals: AtomicU64,
    /// Times this worker went to sleep. Single writer.
    parks: AtomicU64,
}

/// Adds one to a counter only its owner thread writes (no read-modify-write).
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

struct Idle {
    sleepers: Mutex<Vec<usize>>,
    num_searching: AtomicUsize,
    num_sleeping: AtomicUsize,
}

/// Slot tasks a worker runs in a row after a task from its queues; the last
/// one's wakes go to the queue (see the module docs).
const MAX_LIFO_POLLS: u32 = 3;

/// A worker's private state.
pub(crate) struct Core {
    index: usize,
    local: Local<Notified>,
    /// The task to run next (see the module docs).
    lifo: Lifo<Notified>,
    tick: u32,
    rng: u32,
    searching: bool,
    /// Set while the worker sleeps (in the reactor or on its condition
    /// variable): tasks that its own reactor turn wakes are queued here
    /// without waking anyone; the worker looks after them, and wakes one
    /// sleeper for the surplus, once it is out of the sleeper list.
    parked: bool,
}

/// Set on a worker thread.
struct WorkerCtx {
    shared: *const Shared,
    core: RefCell<Option<Box<Core>>>,
    /// Set while this worker polls a task and may still run one from the
    /// LIFO slot after it: only then do its wakes go to the slot.
    lifo_enabled: Cell<bool>,
    /// A wake during the current poll filled the slot (it may have been
    /// stolen since): lets a poll that filled nothing skip the slot.
    lifo_pushed: Cell<bool>,
}

thread_local! {
    static WORKER: Cell<*const WorkerCtx> = const { Cell::new(std::ptr::null()) };
}

impl MtState {
    pub(crate) fn new(workers: usize, io: &Arc<IoDriver>) -> MtState {
        let mut remotes = Vec::with_capacity(workers);
        let mut cores = Vec::with_capacity(workers);
        for index in 0..workers {
            let (local, steal) = queue::local();
            let (lifo, lifo_steal) = queue::lifo();
            remotes.push(Remote {
                steal,
                lifo: lifo_steal,
                parker: Arc::new(Parker::with_io(Some(io.clone()))),
                polls: PollMarks::new(),
                steals: AtomicU64::new(0),
                parks: AtomicU64::new(0),
            });
            cores.push(Some(Box::new(Core {
                index,
                local,
                lifo,
                tick: 0,
                rng: 0x9E37_79B9 ^ (index as u32 + 1).wrapping_mul(0x85EB_CA6B),
                searching: false,
                parked: false,
            })));
        }
        MtState {
            remotes: remotes.into_boxed_slice(),
            idle: Idle {
                sleepers: Mutex::new(Vec::with_capacity(workers)),
                num_searching: AtomicUsize::new(0),
                num_sleeping: AtomicUsize::new(0),
            },
            cores: Mutex::new(cores),
            timer_duty: AtomicBool::new(false),
            duty_worker: AtomicUsize::new(0),
            monitor_parker: Arc::new(Parker::new()),
            monitor_idle: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        }
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    /// Polls of each worker, counted from their start: a task that
    /// finished and woke its awaiter is counted even if its worker has not
    /// yet closed the poll.
    pub(crate) fn worker_polls(&self) -> Vec<u64> {
        self.remotes.iter().map(|r| r.polls.started()).collect()
    }

    /// Successful steals of each worker.
    pub(crate) fn worker_steals(&self) -> Vec<u64> {
        self.remotes
            .iter()
            .map(|r| r.steals.load(Ordering::Relaxed))
            .collect()
    }

    /// Polls, steals and parks summed over the workers.
    pub(crate) fn counters(&self) -> (u64, u64, u64) {
        self.remotes.iter().fold((0, 0, 0), |(p, s, k), r| {
            (
                p + r.polls.started(),
                s + r.steals.load(Ordering::Relaxed),
                k + r.parks.load(Ordering::Relaxed),
            )
        })
    }

    /// Tasks in each worker's local queue (its LIFO slot included).
    pub(crate) fn local_depths(&self) -> Vec<usize> {
        self.remotes
            .iter()
            .map(|r| r.steal.len() + usize::from(!r.lifo.is_empty()))
            .collect()
    }

    #[inline]
    pub(crate) fn schedule(&self, shared: &Shared, task: Notified, yielded: bool) {
        let ctx = WORKER.with(|w| w.get());
        // SAFETY: `WORKER` points at the `WorkerCtx` on the stack of this
        // thread's worker loop and is reset before that frame returns.
        if let Some(ctx) = unsafe { ctx.as_ref() } {
            if std::ptr::eq(ctx.shared, shared) {
                if let Ok(mut core) = ctx.core.try_borrow_mut() {
                    if let Some(core) = core.as_mut() {
                        let queued_before = !core.local.is_empty();
                        if ctx.lifo_enabled.get() && !yielded {
                            ctx.lifo_pushed.set(true);
                            match core.lifo.push(task) {
                                // Displaced (or the slot is being stolen):
                                // the queue takes it.
                                Some(other) => {
                                    core.local.push_back_or_overflow(other, &shared.inject)
                                }
                                None if !queued_before => return,
                                None => {}
                            }
                        } else {
                            core.local.push_back_or_overflow(task, &shared.inject);
                        }
                        // Surplus work (more than the one task this worker
                        // runs next) and a sleeping worker: wake it to
                        // steal. The relaxed pre-check keeps the common case
                        // (everyone busy) free of fences; a missed wake here
                        // costs only parallelism, never liveness, because
                        // this worker runs its own queue and slot.
                        if (queued_before || !core.lifo.is_empty())
                            && !core.parked
                            && self.idle.num_sleeping.load(Ordering::Relaxed) != 0
                            && self.idle.num_searching.load(Ordering::Relaxed) == 0
                        {
                            self.notify_parked();
                        }
                        return;
                    }
                }
            }
        }
        shared.schedule_remote(task);
    }

    /// Wakes a sleeping worker to look for work, unless one is already looking.
    pub(crate) fn notify_parked(&self) {
        fence(Ordering::SeqCst);
        if self.idle.num_searching.load(Ordering::SeqCst) != 0
            || self.idle.num_sleeping.load(Ordering::SeqCst) == 0
        {
            return;
        }
        let mut sleepers = self.idle.sleepers.lock().unwrap();
        // Re-check under the lock: another notifier may have just done it.
        if self.idle.num_searching.load(Ordering::SeqCst) != 0 {
            return;
        }
        if let Some(index) = sleepers.pop() {
            self.idle.num_sleeping.fetch_sub(1, Ordering::SeqCst);
            self.idle.num_searching.fetch_add(1, Ordering::SeqCst);
            drop(sleepers);
            self.remotes[index].parker.unpark();
        }
    }

    /// Wakes every worker and the monitor (shutdown).
    pub(crate) fn unpark_all(&self) {
        for r in self.remotes.iter() {
            r.parker.unpark();
        }
        self.monitor_parker.unpark();
    }

    /// Wakes the worker waiting for timers, if one is.
    pub(crate) fn unpark_timer_thread(&self) {
        if self.timer_duty.load(Ordering::SeqCst) {
            let i = self.duty_worker.load(Ordering::SeqCst);
            self.remotes[i].parker.unpark();
        } else if self.monitor_idle.load(Ordering::SeqCst) {
            self.monitor_parker.unpark();
        }
    }

    fn work_anywhere(&self, shared: &Shared) -> bool {
        !shared.inject.is_empty()
            || self
                .remotes
                .iter()
                .any(|r| !r.steal.is_empty() || !r.lifo.is_empty())
    }

    /// Drops every task still queued (after the workers stopped).
    pub(crate) fn drain(&self) {
        let mut cores = self.cores.lock().unwrap();
        for core in cores.iter_mut().flatten() {
            drop(core.lifo.pop());
            while let Some(t) = core.local.pop() {
                drop(t);
            }
        }
    }
}

fn mt(shared: &Shared) -> &MtState {
    match &shared.flavor {
        Flavor::MultiThread(mt) => mt,
        Flavor::CurrentThread(_) => unreachable!("multi-thread loop on a current-thread runtime"),
    }
}

/// The body of worker thread `index`.
pub(crate) fn run_worker(shared: Arc<Shared>, index: usize) {
    let state = mt(&shared);
    let Some(core) = state.cores.lock().unwrap()[index].take() else {
        return;
    };
    crate::time::driver::set_thread_shard(index);
    // Tasks this worker spawns and completes are listed and unlisted in
    // batches, through a registry shard of its own.
    // SAFETY: the guard lives in this frame and is dropped at its end.
    let owner = unsafe { shared.registry.enter_owner() };
    let local = LocalQueue::install(shared.clone(), state.remotes[index].parker.clone());
    let ctx = WorkerCtx {
        shared: &*shared,
        core: RefCell::new(Some(core)),
        lifo_enabled: Cell::new(false),
        lifo_pushed: Cell::new(false),
    };
    struct Reset(*const WorkerCtx);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = WORKER.try_with(|w| w.set(self.0));
        }
    }
    let _reset = Reset(WORKER.with(|w| w.replace(&ctx)));

    let remote = &state.remotes[index];
    let event_interval = shared.config.event_interval;
    let global_interval = shared.config.global_queue_interval;

    // Polls of tasks taken from our own queues one after the other share
    // clock readings (per-poll timing); anything else pauses the run.
    let run = PollRun::enter(shared.registry.diagnostics());
    while !state.stop.load(Ordering::Acquire) {
        // 1. Next task from our own queues.
        let (task, maintenance) = {
            let mut guard = ctx.core.borrow_mut();
            let core = guard.as_mut().expect("worker core present");
            core.tick = core.tick.wrapping_add(1);
            let tick = core.tick;
            let task = if tick % global_interval == 0 {
                shared.inject.pop().or_else(|| core.local.pop())
            } else if tick % 2 == 0 {
                local.queue().pop().or_else(|| core.local.pop())
            } else {
                core.local.pop().or_else(|| local.queue().pop())
            };
            (task, tick % event_interval == 0)
        };
        if maintenance {
            shared.time.process();
            shared.io.poll_now();
            run.pause();
        }
        if let Some(task) = task {
            // A worker woken as a searcher that found work here must stop
            // counting as one, or every later wake-up would wait for it.
            let mut guard = ctx.core.borrow_mut();
            let core = guard.as_mut().expect("worker core present");
            if core.searching {
                leave_searching(state, core);
            }
            drop(guard);
            run_task_then_lifo(&ctx, remote, task);
            continue;
        }

        // 2. The inject queue, then steal.
        run.pause();
        let found = {
            let mut guard = ctx.core.borrow_mut();
            let core = guard.as_mut().expect("worker core present");
            find_work(&shared, state, core)
        };
        if let Some(task) = found {
            run_task_then_lifo(&ctx, remote, task);
            continue;
        }

        // 3. Timers.
        if shared.time.process() > 0 {
            continue;
        }

        // 4. Sleep. The core stays in the context (not borrowed) meanwhile,
        // so tasks that I/O readiness wakes during the reactor turn go to
        // this worker's own queue.
        park(&shared, state, &ctx, index, &local);
    }

    // Drop what is still queued (the tasks were cancelled by shutdown; these
    // are only references) and give the core back; local tasks are cancelled
    // when `local` drops (on this thread, as they require).
    let mut core = ctx.core.borrow_mut().take();
    if let Some(core) = core.as_mut() {
        drop(core.lifo.pop());
        while let Some(task) = core.local.pop() {
            drop(task);
        }
        if core.searching {
            leave_searching(state, core);
        }
    }
    state.cores.lock().unwrap()[index] = core;
    drop(run);
    drop(local);
    drop(owner);
}

/// Runs `task`, then what it put in the LIFO slot, and so on, up to
/// `MAX_LIFO_POLLS` slot tasks (one scheduler tick for all of them).
#[inline]
fn run_task_then_lifo(ctx: &WorkerCtx, remote: &Remote, task: Notified) {
    ctx.lifo_enabled.set(true);
    run_task(remote, task);
    let mut lifo_polls = 0;
    while ctx.lifo_pushed.replace(false) {
        let next = ctx
            .core
            .borrow_mut()
            .as_mut()
            .expect("worker core present")
            .lifo
            .pop();
        let Some(next) = next else { break };
        lifo_polls += 1;
        if lifo_polls == MAX_LIFO_POLLS {
            // The last slot task in a row: its wakes go to the queue, behind
            // the tasks waiting there.
            ctx.lifo_enabled.set(false);
        }
        run_task(remote, next);
    }
    ctx.lifo_enabled.set(false);
}

#[inline]
fn run_task(remote: &Remote, task: Notified) {
    remote.polls.run(task);
}

/// Looks for work outside our local queue; on success leaves searching mode.
fn find_work(shared: &Shared, state: &MtState, core: &mut Core) -> Option<Notified> {
    let n = state.remotes.len();
    let batch = (core.local.remaining_capacity() / 2).max(1);
    let mut found = shared.inject.pop_batch_into(batch, &mut core.local);
    if found.is_none() && n > 1 {
        if !core.searching {
            // Limit searchers to half the workers, so a burst of wakes does
            // not make every worker spin on the same queues.
            let searching = state.idle.num_searching.load(Ordering::SeqCst);
            if 2 * searching < n {
                state.idle.num_searching.fetch_add(1, Ordering::SeqCst);
                core.searching = true;
            }
        }
        if core.searching {
            core.rng ^= core.rng << 13;
            core.rng ^= core.rng >> 17;
            core.rng ^= core.rng << 5;
            let start = core.rng as usize % n;
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == core.index {
                    continue;
                }
                let victim = &state.remotes[victim];
                if let Some(t) = victim
                    .steal
                    .steal_into(&mut core.local)
                    .or_else(|| victim.lifo.steal())
                {
                    bump(&state.remotes[core.index].steals);
                    found = Some(t);
                    break;
                }
            }
            if found.is_none() {
                found = shared.inject.pop_batch_into(batch, &mut core.local);
            }
        }
    }
    if found.is_some() && core.searching {
        leave_searching(state, core);
    }
    found
}

/// The worker found work: it stops searching, and the last searcher to stop
/// wakes another, in case there is more.
fn leave_searching(state: &MtState, core: &mut Core) {
    core.searching = false;
    if state.idle.num_searching.fetch_sub(1, Ordering::SeqCst) == 1 {
        state.notify_parked();
    }
}

fn park(
    shared: &Shared,
    state: &MtState,
    ctx: &WorkerCtx,
    index: usize,
    local: &super::local::LocalGuard,
) {
    let remote = &state.remotes[index];
    // What finished here leaves the registry before we sleep, so that a
    // quiet runtime lists exactly its live tasks.
    shared.registry.flush_local();

    // Register as a sleeper, then stop searching, then look once more: the
    // fence pairs with the one in `notify_parked`.
    state.idle.sleepers.lock().unwrap().push(index);
    state.idle.num_sleeping.fetch_add(1, Ordering::SeqCst);
    let local_empty = {
        let mut guard = ctx.core.borrow_mut();
        let core = guard.as_mut().expect("worker core present");
        if core.searching {
            core.searching = false;
            state.idle.num_searching.fetch_sub(1, Ordering::SeqCst);
        }
        fence(Ordering::SeqCst);
        core.local.is_empty() && core.lifo.is_empty()
    };
    let must_stay = !local_empty
        || !local.queue().is_empty()
        || state.work_anywhere(shared)
        || state.stop.load(Ordering::SeqCst);

    if !must_stay {
        let duty = !state.timer_duty.swap(true, Ordering::SeqCst);
        let timeout = if duty {
            state.duty_worker.store(index, Ordering::SeqCst);
            shared.time.park_timeout()
        } else {
            None
        };
        bump(&remote.parks);
        set_parked(ctx, true);
        remote.parker.park(timeout);
        set_parked(ctx, false);
        if duty {
            shared.time.clear_planned_wake();
            state.timer_duty.store(false, Ordering::SeqCst);
        }
    }

    // Leave the sleeper list. If a notifier already took us off it, it
    // counted us as a searcher.
    let mut sleepers = state.idle.sleepers.lock().unwrap();
    let mut guard = ctx.core.borrow_mut();
    let core = guard.as_mut().expect("worker core present");
    if let Some(pos) = sleepers.iter().position(|&i| i == index) {
        sleepers.swap_remove(pos);
        state.idle.num_sleeping.fetch_sub(1, Ordering::SeqCst);
    } else {
        core.searching = true;
    }
    drop(sleepers);
    // Our reactor turn may have queued several tasks here without waking
    // anybody (see `Core::parked`): one is ours to run, the rest can be
    // stolen. A searcher needs no help; it wakes the next one when it
    // finds work (`leave_searching`).
    let surplus = !core.searching && core.local.len() > 1;
    drop(guard);
    if surplus {
        state.notify_parked();
    }
    if state.monitor_idle.swap(false, Ordering::SeqCst) {
        state.monitor_parker.unpark();
    }
}

/// Marks the worker as asleep (or awake again) for `MtState::schedule`.
fn set_parked(ctx: &WorkerCtx, parked: bool) {
    ctx.core
        .borrow_mut()
        .as_mut()
        .expect("worker core present")
        .parked = parked;
}

/// How far the monitor stretches its check interval while every worker
/// keeps finishing its polls and turning the reactor (see `run_monitor`).
const MONITOR_BACKOFF: u32 = 4;

/// The monitor thread: long-poll rescue and timers while workers are busy.
///
/// It checks every `monitor_interval` (1 ms) while a check finds a worker
/// still inside the poll it was in at the previous check, or finds the
/// reactor unturned since then. While every check finds each worker past
/// the poll it saw before and the reactor driven by the workers, the wait
/// doubles, up to `MONITOR_BACKOFF` intervals: each wake-up preempts a busy
/// worker when there are no spare cores, and there is nothing to rescue.
/// A poll that turns long is then seen within `MONITOR_BACKOFF + 1`
/// intervals instead of 2, and the interval is back to one from there on.
pub(crate) fn run_monitor(shared: Arc<Shared>) {
    let state = mt(&shared);
    let n = state.remotes.len();
    let interval = shared.config.monitor_interval;
    let mut wait = interval;
    let mut last_seq = vec![0u64; n];
    let mut last_turns = shared.io.turns().wrapping_sub(1);
    let mut stuck = vec![StuckPoll::default(); n];
    let mut stuck_reported = std::collections::HashSet::new();
    let mut deadlock = DeadlockWatch::default();
    let mut checks = PeriodicChecks::default();
    while !state.stop.load(Ordering::Acquire) {
        let next_check = checks.poll(&shared);
        if state.idle.num_sleeping.load(Ordering::SeqCst) == n {
            state.monitor_idle.store(true, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if state.idle.num_sleeping.load(Ordering::SeqCst) == n
                && !state.stop.load(Ordering::SeqCst)
            {
                // A sleeping worker holds the timer duty; wait to be woken,
                // or until a deadlock would be due.
                let progress = state.counters().0 + shared.counters.block_on_turns();
                let waiting = !shared.registry.is_empty()
                    || !shared.block_on_parkers.lock().unwrap().is_empty();
                let timeout = match deadlock.idle(&shared, None, progress) {
                    _ if !waiting => None,
                    IdleAction::Park(t) => t,
                    IdleAction::Deadlock(hazard) => {
                        if let Some(p) = deliver_deadlock(&shared, hazard) {
                            shared.set_deadlock_panic(p.0);
                            shared.unpark_block_on_threads();
                        }
                        None
                    }
                };
                // Waiting tasks may wait on each other, or ignore a
                // cancellation: look again when due.
                let timeout = if waiting {
                    min_timeout(timeout, next_check)
                } else {
                    timeout
                };
                state.monitor_parker.park(timeout);
            }
            state.monitor_idle.store(false, Ordering::SeqCst);
            shared.time.process();
            wait = interval;
            continue;
        }
        state.monitor_parker.park(Some(wait));
        shared.time.process();
        // Readiness while every worker is busy in a long poll: only if no
        // worker turned the reactor since the last check (a parked worker
        // drives it itself; busy ones poll it every `event_interval` polls).
        // Polling anyway would take the events from the workers and send
        // each woken task through the inject queue, waking a sleeper.
        let turns = shared.io.turns();
        let mut healthy = turns != last_turns;
        if turns == last_turns {
            shared.io.poll_now();
        }
        last_turns = shared.io.turns();
        for (i, remote) in state.remotes.iter().enumerate() {
            let (seq, task) = remote.polls.read();
            stuck[i].check(&shared, seq, task, &mut stuck_reported);
            let stuck = seq % 2 == 1 && seq == last_seq[i];
            healthy &= !stuck;
            last_seq[i] = seq;
            if stuck && (!remote.steal.is_empty() || !remote.lifo.is_empty()) {
                // A worker is inside one poll since the last check with tasks
                // queued behind it (or in its LIFO slot): make sure somebody
                // steals them.
                state.notify_parked();
                if state.idle.num_searching.load(Ordering::SeqCst) == 0 {
                    // Nobody could be woken (all busy): nothing more to do;
                    // a worker that finishes its task will steal.
                }
            }
        }
        wait = if healthy {
            (wait * 2).min(interval * MONITOR_BACKOFF)
        } else {
            interval
        };
    }
}

/// `block_on` on a multi-thread runtime: this thread polls the future (and
/// the local tasks it spawns); the workers run everything else.
///
/// This thread sleeps on its own condition variable, never in the reactor:
/// the workers drive it. A `block_on` thread in `epoll_wait` would catch
/// every readiness event one at a time and hand each task to a worker
/// through the inject queue and a futex wake, instead of a worker taking
/// them in one batch into its own queue.
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    let parker = Arc::new(Parker::new());
    let main = ThreadWaker::new(parker.clone());
    let waker = main.waker();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    shared.block_on_parkers.lock().unwrap().push(parker.clone());
    let _unregister = super::UnregisterParker(shared, parker.clone());
    let local = LocalQueue::install(shared.clone(), parker.clone());
    // Tasks the future spawns are listed in batches, through a registry
    // shard of this thread's own while one is free.
    // SAFETY: the guard lives in this frame and is dropped at its end.
    let _owner = unsafe { shared.registry.enter_owner() };
    let event_interval = shared.config.event_interval;
    loop {
        if let Some(msg) = shared.panic_stop_message() {
            super::panic_policy_stop(&msg);
        }
        if let Some(report) = shared.take_deadlock_panic() {
            panic!("{report}");
        }
        let turn = shared.counters.block_on_turn(|| {
            if main.take_woken() {
                if let Poll::Ready(out) =
                    brisk_core::coop::with_fresh_budget(future.as_mut(), &mut cx)
                {
                    return Some(out);
                }
            }
            let mut ran = 0;
            while ran < event_interval {
                let Some(task) = local.queue().pop() else {
                    break;
                };
                task.run();
                ran += 1;
                if main.woken.load(Ordering::Acquire) {
                    break;
                }
            }
            None
        });
        if let Some(out) = turn {
            return out;
        }
        if local.queue().is_empty() && !main.woken.load(Ordering::Acquire) {
            shared.registry.flush_local();
            parker.park(None);
        }
    }
}
