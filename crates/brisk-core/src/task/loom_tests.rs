//! Loom models of the task state machine: wakes, joins, aborts and shutdown
//! racing the poller, with exactly-once drops of the future and the output and
//! exactly-once freeing of the cell.
//!
//! Run with (add `-- --nocapture` to see how many executions each explored):
//! `RUSTFLAGS="--cfg loom" cargo test -p brisk-core --release --lib loom`
//!
//! Every model uses one task, a mock scheduler whose run queue is drained by
//! the model threads, and futures/outputs that count their drops and carry an
//! `Arc` token (so a leaked stage shows as a strong count above 1). A freed
//! cell shows as the scheduler's `Arc` count falling back to 1; a leaked one
//! also trips loom's leak check through the scheduler's `Track`.

use super::{spawn_raw, JoinError, JoinHandle, Notified, Registry, TaskKind};
use crate::runtime::Schedule;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use loom::sync::Mutex;
use loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

// ---- the mock scheduler -----------------------------------------------------

struct MockSched {
    registry: Registry,
    queue: Mutex<VecDeque<Notified>>,
    /// Leak detector: loom panics ("Allocation leaked") if the scheduler is
    /// never dropped, i.e. if a task cell (which holds an `Arc` of it) leaks.
    _track: loom::alloc::Track<()>,
}

// SAFETY: every `Notified` is queued and later run at most once (by `run_one`)
// or dropped with the queue; no local tasks are spawned; the registry is a
// field, so it is the same for every call and lives as long as the scheduler.
unsafe impl Schedule for MockSched {
    fn schedule(&self, task: Notified) {
        self.queue.lock().unwrap().push_back(task);
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }
}

impl MockSched {
    fn new() -> Arc<MockSched> {
        MockSched::with_registry(Registry::new(1))
    }

    /// A scheduler whose registry has `owners` shards threads can own.
    fn with_owner_shards(owners: usize) -> Arc<MockSched> {
        MockSched::with_registry(Registry::with_owners(
            1,
            owners,
            crate::diag::DiagConfig::default(),
        ))
    }

    /// Lists the registry and reads each listed task after the shard lock
    /// is released, as dumps do (the reference keeps the header alive).
    /// Returns how many were listed.
    fn read_listed(&self) -> usize {
        let tasks = self.registry.tasks();
        for task in &tasks {
            let _ = task.as_ref().name();
        }
        tasks.len()
    }

    fn with_registry(registry: Registry) -> Arc<MockSched> {
        Arc::new(MockSched {
            registry,
            queue: Mutex::new(VecDeque::new()),
            _track: loom::alloc::Track::new(()),
        })
    }

    /// Pops and runs one queued task (the lock is released before running).
    fn run_one(&self) -> bool {
        let next = self.queue.lock().unwrap().pop_front();
        match next {
            Some(n) => {
                n.run();
                true
            }
            None => false,
        }
    }

    /// Runs queued tasks until the queue is empty.
    fn drain(&self) {
        while self.run_one() {}
    }

    fn queued(&self) -> usize {
        self.queue.lock().unwrap().len()
    }
}

fn spawn<F>(sched: &Arc<MockSched>, fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    spawn_raw(
        crate::runtime::ScheduleRef::new(sched.clone() as Arc<dyn Schedule>),
        fut,
        None,
        Location::caller(),
        TaskKind::Task,
        None,
    )
}

/// Checks, at the end of a model, that the cell was freed: no task is listed,
/// nothing is queued, and the only `Arc` of the scheduler left is ours (every
/// cell holds one in its header until it is deallocated).
fn assert_freed(sched: Arc<MockSched>) {
    assert_eq!(sched.queued(), 0, "a Notified is still queued");
    assert!(sched.registry.is_empty(), "the task is still listed");
    assert_eq!(Arc::strong_count(&sched), 1, "the task cell was not freed");
}

// ---- futures and outputs ----------------------------------------------------

/// Drop counters shared by a future and its output. Relaxed, so that they
/// add no synchronization the task code might be relying on by accident; the
/// final checks run after every model thread was joined.
struct Drops {
    future: AtomicUsize,
    output: AtomicUsize,
}

impl Drops {
    fn new() -> Arc<Drops> {
        Arc::new(Drops {
            future: AtomicUsize::new(0),
            output: AtomicUsize::new(0),
        })
    }

    fn future(&self) -> usize {
        self.future.load(Relaxed)
    }

    fn output(&self) -> usize {
        self.output.load(Relaxed)
    }
}

/// A value stored inside the future and then the output: its strong count
/// (back to 1 at the end) shows that neither leaked.
type Token = Arc<()>;

/// The output of every test task: counts its drops.
struct Output {
    value: u32,
    drops: Arc<Drops>,
    _token: Token,
}

impl Drop for Output {
    fn drop(&mut self) {
        self.drops.output.fetch_add(1, Relaxed);
    }
}

/// Counts the drops of the future it is part of.
struct FutureGuard {
    drops: Arc<Drops>,
    token: Option<Token>,
}

impl Drop for FutureGuard {
    fn drop(&mut self) {
        self.drops.future.fetch_add(1, Relaxed);
    }
}

impl FutureGuard {
    fn output(&mut self, value: u32) -> Output {
        Output {
            value,
            drops: self.drops.clone(),
            _token: self.token.take().expect("the output was produced twice"),
        }
    }
}

/// Ready on its first poll.
struct ReadyFut {
    guard: FutureGuard,
}

impl Future for ReadyFut {
    type Output = Output;
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Output> {
        Poll::Ready(self.guard.output(7))
    }
}

/// Never ready.
struct PendingFut {
    _guard: FutureGuard,
}

impl Future for PendingFut {
    type Output = Output;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Output> {
        Poll::Pending
    }
}

/// A flag plus the waker of whoever waits for it (a leaf resource: its own
/// lock orders "set the flag" against "store the waker").
struct Signal {
    state: Mutex<(bool, Option<Waker>)>,
}

impl Signal {
    fn new() -> Arc<Signal> {
        Arc::new(Signal {
            state: Mutex::new((false, None)),
        })
    }

    /// Sets the flag and returns the stored waker, if any.
    fn set(&self) -> Option<Waker> {
        let mut s = self.state.lock().unwrap();
        s.0 = true;
        s.1.take()
    }

    /// Takes the stored waker without setting the flag.
    fn take_waker(&self) -> Option<Waker> {
        self.state.lock().unwrap().1.take()
    }

    fn has_waker(&self) -> bool {
        self.state.lock().unwrap().1.is_some()
    }
}

/// Pending (storing its waker in the signal) until the signal is set.
struct WaitFut {
    guard: FutureGuard,
    signal: Arc<Signal>,
}

impl Future for WaitFut {
    type Output = Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        let ready = {
            let mut s = self.signal.state.lock().unwrap();
            if !s.0 {
                s.1 = Some(cx.waker().clone());
            }
            s.0
        };
        if ready {
            Poll::Ready(self.guard.output(42))
        } else {
            Poll::Pending
        }
    }
}

/// A fresh token and a guard holding a clone of it.
fn guard(drops: &Arc<Drops>) -> (Token, FutureGuard) {
    let token = Arc::new(());
    let guard = FutureGuard {
        drops: drops.clone(),
        token: Some(token.clone()),
    };
    (token, guard)
}

/// Wakes by value, or by reference and then drops the waker.
fn fire(waker: Waker, by_ref: bool) {
    if by_ref {
        waker.wake_by_ref();
        drop(waker);
    } else {
        waker.wake();
    }
}

// ---- wakers for polling a JoinHandle ----------------------------------------

/// Records that it was woken.
struct FlagWaker(AtomicBool);

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Relaxed);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Relaxed);
    }
}

fn flag_waker() -> (Arc<FlagWaker>, Waker) {
    let flag = Arc::new(FlagWaker(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    (flag, waker)
}

fn poll_join<T>(join: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

/// Polls a handle whose task is known to be complete.
fn join_now<T>(join: &mut JoinHandle<T>) -> Result<T, JoinError> {
    match poll_join(join, Waker::noop()) {
        Poll::Ready(res) => res,
        Poll::Pending => panic!("the task is complete but its JoinHandle is pending"),
    }
}

/// Compensates for a known gap in loom's DPOR (tokio-rs/loom#166, #392): it
/// keeps only the *last* access per atomic, so a thread that does a load and
/// then an RMW hides an earlier load by another thread, and the schedule where
/// the second thread's whole section runs before that load is never tried
/// (e.g. a `JoinHandle` poll that only loads the state, racing a completion).
/// Every model thread bumps this counter (a relaxed RMW: no happens-before is
/// added) right before its concurrent section, so the sections' start orders
/// always race and loom explores each of them.
#[derive(Clone)]
struct Race(Arc<AtomicUsize>);

impl Race {
    fn new() -> Race {
        Race(Arc::new(AtomicUsize::new(0)))
    }

    /// Marks the start of the calling thread's concurrent section.
    fn point(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    /// Spawns a model thread whose body starts with a race point.
    fn spawn<T: 'static>(&self, f: impl FnOnce() -> T + 'static) -> thread::JoinHandle<T> {
        let race = self.clone();
        thread::spawn(move || {
            race.point();
            f()
        })
    }
}

/// Explores `f` under loom (with at most `preemption_bound` preemptions per
/// execution when given) and reports how many executions it took.
fn check(name: &str, preemption_bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if preemption_bound.is_some() {
        builder.preemption_bound = preemption_bound;
    }
    let iterations = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = iterations.clone();
    builder.check(move || {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    eprintln!(
        "{name}: {} executions (preemption bound {:?})",
        iterations.load(std::sync::atomic::Ordering::Relaxed),
        builder.preemption_bound
    );
}

/// Preemption bound of the two-thread models: none, they are explored
/// exhaustively (each takes well under a few seconds in release).
const BOUND: Option<usize> = None;

/// Preemption bound of the three-thread model (exhaustive exploration did not
/// finish within five minutes; 5 takes about 20 s in release).
const THREE_THREAD_BOUND: Option<usize> = Some(5);

// ---- 1. wake vs poll --------------------------------------------------------

fn wake_vs_poll(name: &str, by_ref: bool) {
    check(name, BOUND, move || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let signal = Signal::new();
        let (token, guard) = guard(&drops);
        let mut join = spawn(
            &sched,
            WaitFut {
                guard,
                signal: signal.clone(),
            },
        );

        // A: runs the spawned task (first poll: Pending, or Ready if B was first).
        let a = {
            let sched = sched.clone();
            race.spawn(move || {
                sched.run_one();
            })
        };
        // B: completes the signal, wakes the task, and helps run it.
        let b = {
            let sched = sched.clone();
            let signal = signal.clone();
            race.spawn(move || {
                if let Some(waker) = signal.set() {
                    fire(waker, by_ref);
                }
                sched.run_one();
            })
        };
        a.join().unwrap();
        b.join().unwrap();
        sched.drain();

        assert!(join.is_finished(), "the task never completed (lost wake)");
        let out = join_now(&mut join).expect("the task failed");
        assert_eq!(out.value, 42);
        assert_eq!(drops.future(), 1, "future dropped {} times", drops.future());
        drop(out);
        drop(join);
        assert!(!signal.has_waker(), "a waker was stored after completion");
        assert_eq!(drops.output(), 1);
        assert_eq!(drops.future(), 1);
        assert_eq!(Arc::strong_count(&token), 1, "future or output leaked");
        assert_freed(sched);
    });
}

#[test]
fn loom_wake_by_val_vs_poll() {
    wake_vs_poll("wake_by_val_vs_poll", false);
}

#[test]
fn loom_wake_by_ref_vs_poll() {
    wake_vs_poll("wake_by_ref_vs_poll", true);
}

// ---- 2. join vs complete ----------------------------------------------------

#[test]
fn loom_join_vs_complete() {
    check("join_vs_complete", BOUND, || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let (token, guard) = guard(&drops);
        let mut join = spawn(&sched, ReadyFut { guard });

        let runner = {
            let sched = sched.clone();
            race.spawn(move || assert!(sched.run_one()))
        };
        let (flag, waker) = flag_waker();
        race.point();
        let first = poll_join(&mut join, &waker);
        runner.join().unwrap();

        let out = match first {
            Poll::Ready(res) => res,
            Poll::Pending => {
                assert!(flag.0.load(Relaxed), "the JoinHandle was never woken");
                join_now(&mut join)
            }
        }
        .expect("the task failed");
        assert_eq!(out.value, 7);
        assert_eq!(drops.future(), 1);
        drop(out);
        drop(join);
        drop(waker);
        assert_eq!(Arc::strong_count(&flag), 1, "the join waker leaked");
        assert_eq!(drops.output(), 1);
        assert_eq!(Arc::strong_count(&token), 1);
        assert_freed(sched);
    });
}

/// The handle is polled a second time while the task completes, with the same
/// waker (the `will_wake` fast path, which reads the slot the task side reads)
/// or with another one (the slot is taken back and replaced): the newest waker
/// must be woken, or the output seen.
fn join_repoll_vs_complete(name: &str, same_waker: bool) {
    check(name, BOUND, move || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let (token, guard) = guard(&drops);
        let mut join = spawn(&sched, ReadyFut { guard });

        let (flag1, waker1) = flag_waker();
        assert!(poll_join(&mut join, &waker1).is_pending());

        let runner = {
            let sched = sched.clone();
            race.spawn(move || assert!(sched.run_one()))
        };
        let (flag2, waker2) = if same_waker {
            (flag1.clone(), waker1.clone())
        } else {
            flag_waker()
        };
        race.point();
        let second = poll_join(&mut join, &waker2);
        runner.join().unwrap();

        let out = match second {
            Poll::Ready(res) => res,
            Poll::Pending => {
                assert!(
                    flag2.0.load(Relaxed),
                    "the newest join waker was never woken"
                );
                join_now(&mut join)
            }
        }
        .expect("the task failed");
        assert_eq!(out.value, 7);
        drop(out);
        drop(join);
        drop((waker1, waker2));
        drop(flag2);
        assert_eq!(Arc::strong_count(&flag1), 1, "a join waker leaked");
        assert_eq!(drops.future(), 1);
        assert_eq!(drops.output(), 1);
        assert_eq!(Arc::strong_count(&token), 1);
        assert_freed(sched);
    });
}

#[test]
fn loom_join_repoll_same_waker_vs_complete() {
    join_repoll_vs_complete("join_repoll_same_waker_vs_complete", true);
}

#[test]
fn loom_join_repoll_new_waker_vs_complete() {
    join_repoll_vs_complete("join_repoll_new_waker_vs_complete", false);
}

// ---- 3. JoinHandle drop vs complete -----------------------------------------

fn join_drop_vs_complete(name: &str, register_waker: bool) {
    check(name, BOUND, move || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let (token, guard) = guard(&drops);
        let mut join = spawn(&sched, ReadyFut { guard });
        let (flag, waker) = flag_waker();
        if register_waker {
            assert!(poll_join(&mut join, &waker).is_pending());
        }

        let runner = {
            let sched = sched.clone();
            race.spawn(move || assert!(sched.run_one()))
        };
        race.point();
        drop(join);
        runner.join().unwrap();

        assert_eq!(drops.future(), 1);
        assert_eq!(drops.output(), 1, "output dropped {} times", drops.output());
        assert_eq!(Arc::strong_count(&token), 1);
        assert_freed(sched);
        drop(waker);
        assert_eq!(Arc::strong_count(&flag), 1, "the join waker leaked");
    });
}

#[test]
fn loom_join_drop_vs_complete() {
    join_drop_vs_complete("join_drop_vs_complete", false);
}

#[test]
fn loom_join_drop_with_waker_vs_complete() {
    join_drop_vs_complete("join_drop_with_waker_vs_complete", true);
}

// ---- 4. abort vs run --------------------------------------------------------

#[test]
fn loom_abort_vs_run_ready() {
    check("abort_vs_run_ready", BOUND, || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let (token, guard) = guard(&drops);
        let mut join = spawn(&sched, ReadyFut { guard });
        let abort = join.abort_handle();

        let runner = {
            let sched = sched.clone();
            race.spawn(move || assert!(sched.run_one()))
        };
        let aborter = race.spawn(move || abort.abort());
        runner.join().unwrap();
        aborter.join().unwrap();
        sched.drain();

        match join_now(&mut join) {
            Ok(out) => {
                assert_eq!(out.value, 7);
                drop(out);
                assert_eq!(drops.output(), 1);
            }
            Err(e) => {
                assert!(e.is_cancelled(), "unexpected error: {e}");
                assert_eq!(drops.output(), 0);
            }
        }
        drop(join);
        assert_eq!(drops.future(), 1, "future dropped {} times", drops.future());
        assert!(drops.output() <= 1);
        assert_eq!(Arc::strong_count(&token), 1);
        assert_freed(sched);
    });
}

/// The first poll returns `Pending`, so an abort racing it must cancel the task.
#[test]
fn loom_abort_vs_run_pending() {
    check("abort_vs_run_pending", BOUND, || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let (token, guard) = guard(&drops);
        let mut join = spawn(&sched, PendingFut { _guard: guard });
        let abort = join.abort_handle();

        let runner = {
            let sched = sched.clone();
            race.spawn(move || assert!(sched.run_one()))
        };
        let aborter = race.spawn(move || abort.abort());
        runner.join().unwrap();
        aborter.join().unwrap();
        sched.drain();

        let err = join_now(&mut join)
            .err()
            .expect("a never-ready task returned");
        assert!(err.is_cancelled(), "unexpected error: {err}");
        drop(err);
        drop(join);
        assert_eq!(drops.future(), 1, "future dropped {} times", drops.future());
        assert_eq!(drops.output(), 0);
        assert_eq!(Arc::strong_count(&token), 1);
        assert_freed(sched);
    });
}

// ---- 4b. abort vs wake ------------------------------------------------------

/// An idle task (polled once) is aborted on thread A while thread B completes
/// its signal, wakes it and tries to run it: both may create a `Notified`, only
/// one may be queued, and the future is dropped exactly once.
fn abort_vs_wake(name: &str, by_ref: bool) {
    check(name, BOUND, move || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let signal = Signal::new();
        let (token, guard) = guard(&drops);
        let mut join = spawn(
            &sched,
            WaitFut {
                guard,
                signal: signal.clone(),
            },
        );
        assert!(sched.run_one());
        let abort = join.abort_handle();

        let a = race.spawn(move || abort.abort());
        let b = {
            let sched = sched.clone();
            let signal = signal.clone();
            race.spawn(move || {
                if let Some(waker) = signal.set() {
                    fire(waker, by_ref);
                }
                sched.run_one();
            })
        };
        a.join().unwrap();
        b.join().unwrap();
        assert!(sched.queued() <= 1, "two Notified queued for one task");
        sched.drain();

        match join_now(&mut join) {
            Ok(out) => {
                assert_eq!(out.value, 42);
                drop(out);
                assert_eq!(drops.output(), 1);
            }
            Err(e) => {
                assert!(e.is_cancelled(), "unexpected error: {e}");
                assert_eq!(drops.output(), 0);
            }
        }
        drop(join);
        assert_eq!(drops.future(), 1, "future dropped {} times", drops.future());
        assert!(!signal.has_waker());
        assert_eq!(Arc::strong_count(&token), 1);
        assert_freed(sched);
    });
}

#[test]
fn loom_abort_vs_wake_by_val() {
    abort_vs_wake("abort_vs_wake_by_val", false);
}

#[test]
fn loom_abort_vs_wake_by_ref() {
    abort_vs_wake("abort_vs_wake_by_ref", true);
}

// ---- 5. waker clone/drop racing completion ----------------------------------

/// After a first poll, thread A wakes the task (by value) and runs it to
/// completion while thread B clones and drops another waker of it and the main
/// thread drops the `JoinHandle`: whoever releases the last reference frees
/// the cell, exactly once.
#[test]
fn loom_waker_clone_drop_vs_complete() {
    check("waker_clone_drop_vs_complete", THREE_THREAD_BOUND, || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let signal = Signal::new();
        let (token, guard) = guard(&drops);
        let join = spawn(
            &sched,
            WaitFut {
                guard,
                signal: signal.clone(),
            },
        );
        // First poll: Pending, the task's waker is stored in the signal.
        assert!(sched.run_one());
        let waker = signal.take_waker().expect("the first poll stored no waker");
        let clone = waker.clone();

        let a = {
            let sched = sched.clone();
            let signal = signal.clone();
            race.spawn(move || {
                assert!(signal.set().is_none());
                waker.wake();
                sched.drain();
            })
        };
        let b = race.spawn(move || {
            let again = clone.clone();
            drop(clone);
            drop(again);
        });
        race.point();
        drop(join);
        a.join().unwrap();
        b.join().unwrap();

        assert_eq!(drops.future(), 1, "future dropped {} times", drops.future());
        assert_eq!(drops.output(), 1, "output dropped {} times", drops.output());
        assert!(!signal.has_waker());
        assert_eq!(Arc::strong_count(&token), 1);
        assert_freed(sched);
    });
}

// ---- 6. Task::shutdown vs wake ----------------------------------------------

/// An idle task (polled once) is shut down through the registry on thread A
/// while thread B completes its signal, wakes it and tries to run it.
fn shutdown_vs_wake(name: &str, by_ref: bool) {
    check(name, BOUND, move || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let signal = Signal::new();
        let (token, guard) = guard(&drops);
        let mut join = spawn(
            &sched,
            WaitFut {
                guard,
                signal: signal.clone(),
            },
        );
        assert!(sched.run_one());
        assert!(signal.has_waker());

        let a = {
            let sched = sched.clone();
            race.spawn(move || {
                for task in sched.registry.tasks() {
                    task.shutdown();
                }
            })
        };
        let b = {
            let sched = sched.clone();
            let signal = signal.clone();
            race.spawn(move || {
                if let Some(waker) = signal.set() {
                    fire(waker, by_ref);
                }
                sched.run_one();
            })
        };
        a.join().unwrap();
        b.join().unwrap();
        sched.drain();

        match join_now(&mut join) {
            Ok(out) => {
                assert_eq!(out.value, 42);
                drop(out);
                assert_eq!(drops.output(), 1);
            }
            Err(e) => {
                assert!(e.is_cancelled(), "unexpected error: {e}");
                assert_eq!(drops.output(), 0);
            }
        }
        drop(join);
        assert_eq!(drops.future(), 1, "future dropped {} times", drops.future());
        assert!(drops.output() <= 1);
        assert!(!signal.has_waker());
        assert_eq!(Arc::strong_count(&token), 1);
        assert_freed(sched);
    });
}

#[test]
fn loom_shutdown_vs_wake_by_val() {
    shutdown_vs_wake("shutdown_vs_wake_by_val", false);
}

#[test]
fn loom_shutdown_vs_wake_by_ref() {
    shutdown_vs_wake("shutdown_vs_wake_by_ref", true);
}

// ---- 6. lost-waker detection racing a wake by value --------------------------

/// Returns `Pending` once, after handing a clone of its waker to `slot`;
/// `Ready` after that.
struct HandOff {
    slot: Arc<Mutex<Option<Waker>>>,
    polled: bool,
}

impl Future for HandOff {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            return Poll::Ready(());
        }
        self.polled = true;
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// How the other thread of a lost-waker model uses the waker it takes.
#[derive(Clone, Copy)]
enum Fire {
    /// `wake()`.
    ByValue,
    /// `wake_by_ref()`, then drop.
    ByRefThenDrop,
    /// Clone it, drop the original, wake the clone by value.
    CloneThenWake,
}

/// The poller checks for a lost waker after the future returned `Pending`
/// while another thread takes the only waker and wakes it (`how`), which
/// may happen before, during or after the check: a task that was woken is
/// never reported, whatever the interleaving. The waker counts are relaxed
/// read-modify-writes; the fences around them are what this checks.
fn lost_waker_check_vs_wake(name: &str, how: Fire) {
    check(name, BOUND, move || {
        let race = Race::new();
        let config = crate::diag::DiagConfig {
            lost_waker: true,
            on_hazard: Some(Arc::new(|h| panic!("false report: {h}"))),
            ..crate::diag::DiagConfig::default()
        };
        let sched = Arc::new(MockSched {
            registry: Registry::with_diagnostics(1, config),
            queue: Mutex::new(VecDeque::new()),
            _track: loom::alloc::Track::new(()),
        });
        let slot = Arc::new(Mutex::new(None));
        let join = spawn(
            &sched,
            HandOff {
                slot: slot.clone(),
                polled: false,
            },
        );
        let waker_thread = {
            let slot = slot.clone();
            race.spawn(move || {
                let waker = slot.lock().unwrap().take();
                if let Some(w) = waker {
                    match how {
                        Fire::ByValue => w.wake(),
                        Fire::ByRefThenDrop => fire(w, true),
                        Fire::CloneThenWake => {
                            let w2 = w.clone();
                            drop(w);
                            w2.wake();
                        }
                    }
                }
            })
        };
        race.point();
        // The first poll hands the waker off and runs the lost-waker check.
        assert!(sched.run_one());
        waker_thread.join().unwrap();
        let left = slot.lock().unwrap().take();
        if let Some(w) = left {
            w.wake();
        }
        sched.drain();
        assert!(sched.registry.diagnostics().hazards().is_empty());
        drop(join);
        assert_freed(sched);
    });
}

#[test]
fn loom_lost_waker_check_vs_wake_by_value() {
    lost_waker_check_vs_wake("lost_waker_check_vs_wake_by_value", Fire::ByValue);
}

#[test]
fn loom_lost_waker_check_vs_wake_by_ref_then_drop() {
    lost_waker_check_vs_wake(
        "lost_waker_check_vs_wake_by_ref_then_drop",
        Fire::ByRefThenDrop,
    );
}

#[test]
fn loom_lost_waker_check_vs_clone_then_wake() {
    lost_waker_check_vs_wake("lost_waker_check_vs_clone_then_wake", Fire::CloneThenWake);
}

// ---- the registry's owner paths ----------------------------------------------

/// A task spawned by a shard's owner (listed in a slot of its chain without
/// the lock) and completed by the owner (batched unlisting, when the guard
/// drops), while a reader lists the registry and holds references. The cell
/// is freed once, the registry ends empty, and the reader never sees a freed
/// task.
#[test]
fn loom_registry_owner_spawns_and_completes_vs_reader() {
    loom::model(|| {
        let sched = MockSched::with_owner_shards(1);
        let reader = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.read_listed();
            })
        };
        {
            // SAFETY: the guard is dropped below, on this thread.
            let owner = unsafe { sched.registry.enter_owner() }.expect("a free shard");
            let join = spawn(&sched, async { 1 });
            assert!(sched.run_one());
            drop(join);
            drop(owner);
        }
        reader.join().unwrap();
        assert_freed(sched);
    });
}

/// A task spawned by a shard's owner and completed by another thread
/// (locked unlisting of a slot the owner filled without the lock), while the
/// owner lists the registry. Freed once, the registry ends empty.
#[test]
fn loom_registry_owner_spawns_other_completes() {
    loom::model(|| {
        let sched = MockSched::with_owner_shards(1);
        let runner;
        {
            // SAFETY: the guard is dropped below, on this thread.
            let owner = unsafe { sched.registry.enter_owner() }.expect("a free shard");
            let join = spawn(&sched, async { 1 });
            runner = {
                let sched = sched.clone();
                thread::spawn(move || {
                    sched.run_one();
                })
            };
            sched.read_listed();
            drop(join);
            drop(owner);
        }
        runner.join().unwrap();
        assert_freed(sched);
    });
}

/// Two owners: a task spawned by one is completed by the other, whose
/// flush vacates the slot without the lock and hands it back to the
/// spawner's shard, while the spawner keeps spawning (its refill takes the
/// slot back if it was handed back by then) and lists the registry. Every
/// cell is freed once and the registry ends empty.
#[test]
fn loom_registry_slot_handed_back_between_owners() {
    loom::model(|| {
        let sched = MockSched::with_owner_shards(2);
        // SAFETY: the guard is dropped below, on this thread.
        let owner = unsafe { sched.registry.enter_owner() }.expect("a free shard");
        let first = spawn(&sched, async { 1 });
        let other = {
            let sched = sched.clone();
            thread::spawn(move || {
                // SAFETY: the guard is dropped below, on this thread.
                let owner = unsafe { sched.registry.enter_owner() }.expect("a second shard");
                // Runs `first`, the only task queued when this thread starts.
                assert!(sched.run_one());
                drop(owner);
            })
        };
        // Two slots are taken at a time under loom: the third spawn refills.
        let second = spawn(&sched, async { 2 });
        let third = spawn(&sched, async { 3 });
        let listed = sched.read_listed();
        assert!((2..=3).contains(&listed), "{listed} tasks listed");
        other.join().unwrap();
        drop((first, second, third));
        sched.drain();
        drop(owner);
        assert_freed(sched);
    });
}

/// A task leaves the count before its completion is published: a thread
/// that sees tasks finished never sees them counted, while another owner
/// completes them, unlists a full batch and hands the slots back to the
/// spawner's shard; and a task that has not run is never missed.
#[test]
fn loom_registry_count_agrees_with_completion() {
    loom::model(|| {
        let sched = MockSched::with_owner_shards(2);
        // SAFETY: the guard is dropped below, on this thread.
        let owner = unsafe { sched.registry.enter_owner() }.expect("a free shard");
        // Two completions fill a dead buffer under loom: the third flushes.
        let joins = [
            spawn(&sched, async { 1 }),
            spawn(&sched, async { 2 }),
            spawn(&sched, async { 3 }),
        ];
        let other = {
            let sched = sched.clone();
            thread::spawn(move || {
                // SAFETY: the guard is dropped below, on this thread.
                let owner = unsafe { sched.registry.enter_owner() }.expect("a second shard");
                for _ in 0..3 {
                    assert!(sched.run_one());
                }
                drop(owner);
            })
        };
        // Not run until the end: always counted.
        let idle = spawn(&sched, async { 4 });
        let finished = joins.iter().filter(|j| j.is_finished()).count();
        let counted = sched.registry.len();
        assert!(
            (1..=4 - finished).contains(&counted),
            "{counted} counted, {finished} of 3 seen finished, 1 idle"
        );
        other.join().unwrap();
        sched.drain();
        assert!(idle.is_finished());
        drop((joins, idle));
        drop(owner);
        assert_freed(sched);
    });
}

// ---- a task that wakes itself to yield ---------------------------------------

/// Yields on its first poll (waking itself the way `yield_now` does, which
/// the harness folds into the end of the poll), then waits for the signal.
struct YieldThenWaitFut {
    yielded: bool,
    wait: WaitFut,
}

impl Future for YieldThenWaitFut {
    type Output = Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        if !self.yielded {
            self.yielded = true;
            // Registers with the signal too, so that B's wake races the
            // requeue that ends this poll.
            if let Poll::Ready(out) = Pin::new(&mut self.wait).poll(cx) {
                return Poll::Ready(out);
            }
            super::raw::wake_by_ref_to_yield(cx.waker());
            return Poll::Pending;
        }
        Pin::new(&mut self.wait).poll(cx)
    }
}

/// A task that yields (deferred self-wake: one state change ends the poll
/// and requeues it) while another thread wakes it by value. It is queued at
/// most once at a time, completes, and is freed once.
#[test]
fn loom_self_wake_to_yield_vs_wake_by_val() {
    check("self_wake_to_yield_vs_wake_by_val", BOUND, || {
        let race = Race::new();
        let sched = MockSched::new();
        let drops = Drops::new();
        let signal = Signal::new();
        let (token, guard) = guard(&drops);
        let mut join = spawn(
            &sched,
            YieldThenWaitFut {
                yielded: false,
                wait: WaitFut {
                    guard,
                    signal: signal.clone(),
                },
            },
        );
        let a = {
            let sched = sched.clone();
            race.spawn(move || {
                sched.run_one();
            })
        };
        let b = {
            let signal = signal.clone();
            race.spawn(move || {
                if let Some(waker) = signal.set() {
                    waker.wake();
                }
            })
        };
        a.join().unwrap();
        b.join().unwrap();
        assert!(sched.queued() <= 1, "the task was queued twice");
        sched.drain();
        let out = join_now(&mut join).expect("the task failed");
        assert_eq!(out.value, 42);
        drop(out);
        drop(join);
        assert_eq!(drops.future(), 1);
        assert_eq!(drops.output(), 1);
        assert_eq!(Arc::strong_count(&token), 1, "future or output leaked");
        assert_freed(sched);
    });
}
