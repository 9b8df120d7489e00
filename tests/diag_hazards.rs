//! Hazard detectors: long polls (measured and stuck), lost wakers,
//! cancelled tasks that keep running, and deadlocks (warning, panic in
//! tests, simulator) — each triggered, and each quiet on healthy code.
//! No assertion depends on how fast the machine is: a triggering task
//! stays in its bad state until the hazard was seen.

mod support;

use brisk::diag::Hazard;
use brisk::sync::Mutex;
use brisk::task::Builder;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use support::{within, LIMIT};

/// A runtime builder whose hazards go to a channel (and stay off stderr).
fn builder(current: bool) -> (brisk::runtime::Builder, mpsc::Receiver<Hazard>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let mut b = brisk::Runtime::builder();
    if current {
        b.current_thread();
    } else {
        b.multi_thread().worker_threads(2);
    }
    b.task_timing(true)
        .long_poll_threshold(Some(Duration::from_secs(2)))
        .detect_lost_wakers(true)
        .cancelled_running_threshold(Some(Duration::from_secs(2)))
        .deadlock_grace(None)
        .on_hazard(move |h| {
            let _ = tx.lock().unwrap().send(h.clone());
        });
    (b, rx)
}

/// Fails with every hazard `rx` received, if any (each with its report).
fn assert_no_hazard(rx: &mpsc::Receiver<Hazard>) {
    let hazards: Vec<_> = rx.try_iter().map(|h| h.to_string()).collect();
    assert!(hazards.is_empty(), "{hazards:#?}");
}

/// Blocks the thread (inside a poll) until `flag` is set, or 30 s passed.
fn block_until(flag: &AtomicBool) {
    let start = Instant::now();
    while !flag.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A future that returns `Pending` once without keeping the waker.
struct DropsItsWaker(bool);

impl Future for DropsItsWaker {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        // Cloned and dropped: the waker existed, but nobody keeps it.
        drop(cx.waker().clone());
        Poll::Pending
    }
}

// ---- long poll --------------------------------------------------------------

#[test]
fn a_measured_long_poll_names_the_task_its_location_and_last_wait_point() {
    within(LIMIT, || {
        let (mut b, rx) = builder(true);
        let rt = b
            .long_poll_threshold(Some(Duration::from_millis(20)))
            .build()
            .unwrap();
        rt.block_on(async {
            let task = Builder::new().name("hasher").spawn(async {
                brisk::time::sleep(Duration::from_millis(1)).await;
                std::thread::sleep(Duration::from_millis(60)); // blocks its thread
                std::thread::sleep(Duration::from_millis(60)); // ... in one poll
            });
            task.await.unwrap();
        });
        let h = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(h.kind, "long_poll");
        assert!(h.message.contains("\"hasher\""), "{}", h.message);
        assert!(h.message.contains("diag_hazards.rs"), "{}", h.message);
        assert!(
            h.message.contains("Timer"),
            "last wait-point: {}",
            h.message
        );
        assert!(
            h.message.contains("spawn_blocking"),
            "the fix: {}",
            h.message
        );
        // Reported once per task, and in the runtime's log.
        assert!(rx.try_recv().is_err());
        let logged = brisk::diag::hazards_of(rt.handle());
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].task, h.task);
    });
}

/// In a debug build the long-poll detector is on with no configuration.
#[cfg(debug_assertions)]
#[test]
fn long_polls_are_reported_by_default_in_debug_builds() {
    within(LIMIT, || {
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let rt = brisk::Runtime::builder()
            .current_thread()
            .on_hazard(move |h| {
                let _ = tx.lock().unwrap().send(h.clone());
            })
            .build()
            .unwrap();
        rt.block_on(async {
            Builder::new()
                .name("sleepy")
                .spawn(async { std::thread::sleep(Duration::from_millis(300)) })
                .await
                .unwrap();
        });
        let h = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(h.kind, Hazard::LONG_POLL, "{h}");
        assert!(h.message.contains("\"sleepy\""), "{h}");
    });
}

#[test]
fn a_stuck_poll_is_reported_by_the_monitor_while_it_runs() {
    stuck_poll_is_reported_while_it_runs(false);
}

/// A current-thread runtime has one thread to run tasks: its watchdog
/// thread reports the poll that holds it.
#[test]
fn a_stuck_poll_on_a_current_thread_runtime_is_reported_by_its_watchdog() {
    stuck_poll_is_reported_while_it_runs(true);
}

fn stuck_poll_is_reported_while_it_runs(current: bool) {
    within(LIMIT, move || {
        let seen = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let flag = seen.clone();
        // Not instrumented: only the monitor (or watchdog) can see the
        // stuck poll, which never returns until the report arrives.
        let mut b = brisk::Runtime::builder();
        if current {
            b.current_thread();
        } else {
            b.multi_thread().worker_threads(2);
        }
        let rt = b
            .task_timing(false)
            .detect_lost_wakers(false)
            .cancelled_running_threshold(None)
            .long_poll_threshold(Some(Duration::from_millis(20)))
            .on_hazard(move |h| {
                flag.store(true, Ordering::SeqCst);
                let _ = tx.lock().unwrap().send(h.clone());
            })
            .build()
            .unwrap();
        let stuck = seen.clone();
        rt.block_on(async move {
            Builder::new()
                .name("stuck")
                .spawn(async move { block_until(&stuck) })
                .await
                .unwrap();
        });
        let h = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(h.kind, "long_poll");
        assert!(h.message.contains("\"stuck\""), "{}", h.message);
        assert!(h.message.contains("still runs"), "{}", h.message);
    });
}

#[test]
fn healthy_tasks_report_no_hazard() {
    for current in [true, false] {
        within(LIMIT, move || {
            let (b, rx) = builder(current);
            let rt = { b }.build().unwrap();
            rt.block_on(async {
                let (tx, mut rx) = brisk::sync::mpsc::channel::<u32>(4);
                let producer = brisk::spawn(async move {
                    for i in 0..100 {
                        tx.send(i).await.unwrap();
                        brisk::task::yield_now().await;
                    }
                });
                let consumer = brisk::spawn(async move {
                    let mut sum = 0;
                    while let Some(v) = rx.recv().await {
                        sum += v;
                    }
                    sum
                });
                let notify = Arc::new(brisk::sync::Notify::new());
                let n2 = notify.clone();
                let waiter = brisk::spawn(async move { n2.notified().await });
                brisk::time::sleep(Duration::from_millis(5)).await;
                notify.notify_one();
                // A waker kept by a thread outside the runtime is a waker.
                let (otx, orx) = brisk::sync::oneshot::channel();
                let from_thread = brisk::spawn(async move { orx.await.unwrap() });
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    let _ = otx.send(7);
                });
                let cancelled = brisk::spawn(brisk::time::sleep(Duration::from_secs(60)));
                cancelled.cancel();
                producer.await.unwrap();
                assert_eq!(consumer.await.unwrap(), 4950);
                waiter.await.unwrap();
                assert_eq!(from_thread.await.unwrap(), 7);
                assert!(cancelled.await.unwrap_err().is_cancelled());
            });
            assert_no_hazard(&rx);
        });
    }
}

// ---- lost waker -----------------------------------------------------------

#[test]
fn a_task_pending_without_a_waker_is_reported() {
    for current in [true, false] {
        within(LIMIT, move || {
            let (b, rx) = builder(current);
            let rt = { b }.build().unwrap();
            let id = rt.block_on(async {
                let lost = Builder::new().name("forgetful").spawn(DropsItsWaker(false));
                brisk::task::yield_now().await; // let it run (current-thread)
                lost.id()
            });
            let h = rx.recv_timeout(Duration::from_secs(30)).unwrap();
            assert_eq!(h.kind, "lost_waker");
            assert_eq!(h.task, Some(id.as_u64()));
            assert!(h.message.contains("\"forgetful\""), "{}", h.message);
            assert!(h.message.contains("cx.waker()"), "the fix: {}", h.message);
        });
    }
}

#[test]
fn a_task_in_a_scope_that_drops_its_waker_is_still_reported() {
    // Its own cancellation node keeps a waker; that one does not count.
    within(LIMIT, || {
        let (b, rx) = builder(true);
        let rt = { b }.build().unwrap();
        rt.block_on(async {
            let parent = brisk::spawn(async {
                let child = Builder::new().name("child").spawn(DropsItsWaker(false));
                brisk::task::yield_now().await;
                child.abort();
            });
            parent.await.unwrap();
        });
        let h = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(h.kind, "lost_waker");
        assert!(h.message.contains("\"child\""), "{}", h.message);
    });
}

// ---- cancelled but running ---------------------------------------------------

#[test]
fn a_cancelled_task_that_keeps_running_is_reported() {
    within(LIMIT, || {
        let seen = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let flag = seen.clone();
        let rt = brisk::Runtime::builder()
            .current_thread()
            .cancelled_running_threshold(Some(Duration::from_millis(10)))
            .long_poll_threshold(None)
            .on_hazard(move |h| {
                flag.store(true, Ordering::SeqCst);
                let _ = tx.lock().unwrap().send(h.clone());
            })
            .build()
            .unwrap();
        let stop = seen.clone();
        rt.block_on(async move {
            let stubborn = Builder::new().name("stubborn").spawn(async move {
                // Ignores cancellation: spins without a cancellation point.
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                    // One `Pending` round trip per iteration.
                    let mut yielded = false;
                    std::future::poll_fn(|cx| {
                        if yielded {
                            return Poll::Ready(());
                        }
                        yielded = true;
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    })
                    .await;
                }
            });
            brisk::task::yield_now().await;
            stubborn.cancel();
            let _ = stubborn.await;
        });
        let h = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(h.kind, "cancelled_running");
        assert!(h.message.contains("\"stubborn\""), "{}", h.message);
    });
}

/// A cancelled task parked on a future that is not a cancellation point
/// (here a `futures` channel nobody sends on) is never polled again: the
/// periodic check reports it all the same.
#[test]
fn a_cancelled_task_parked_on_a_foreign_future_is_reported() {
    for current in [true, false] {
        within(LIMIT, move || {
            let (mut b, rx) = builder(current);
            let rt = b
                .cancelled_running_threshold(Some(Duration::from_millis(20)))
                .build()
                .unwrap();
            let hazard = rt.block_on(async {
                let (tx, foreign) = futures::channel::oneshot::channel::<()>();
                let parked = Builder::new().name("parked").spawn(async move {
                    let _ = foreign.await;
                });
                brisk::time::sleep(Duration::from_millis(5)).await;
                parked.cancel();
                let hazard = loop {
                    if let Ok(h) = rx.try_recv() {
                        break h;
                    }
                    brisk::time::sleep(Duration::from_millis(5)).await;
                };
                tx.send(()).unwrap();
                let _ = parked.await;
                hazard
            });
            assert_eq!(hazard.kind, Hazard::CANCELLED_RUNNING, "{hazard}");
            assert!(hazard.message.contains("\"parked\""), "{hazard}");
            assert!(hazard.message.contains("has not stopped"), "{hazard}");
        });
    }
}

#[test]
fn a_cancelled_task_that_stops_is_not_reported() {
    within(LIMIT, || {
        let (b, rx) = builder(true);
        let rt = { b }
            .cancelled_running_threshold(Some(Duration::from_millis(1)))
            .build()
            .unwrap();
        rt.block_on(async {
            let t = brisk::spawn(async {
                loop {
                    brisk::time::sleep(Duration::from_millis(1)).await;
                }
            });
            brisk::time::sleep(Duration::from_millis(5)).await;
            t.cancel();
            assert!(t.await.unwrap_err().is_cancelled());
        });
        assert_no_hazard(&rx);
    });
}

// ---- deadlock ---------------------------------------------------------------

/// Two tasks that lock two mutexes in opposite orders.
async fn lock_cycle() {
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    // Each takes its first lock, tells the other, and waits to hear that
    // the other holds its first: whatever the schedule, both block.
    let (left_tx, left_rx) = brisk::sync::oneshot::channel::<()>();
    let (right_tx, right_rx) = brisk::sync::oneshot::channel::<()>();
    let left = Builder::new().name("left").spawn(async move {
        let _ga = a1.lock().await;
        let _ = left_tx.send(());
        let _ = right_rx.await;
        let _gb = b1.lock().await;
    });
    let right = Builder::new().name("right").spawn(async move {
        let _gb = b2.lock().await;
        let _ = right_tx.send(());
        let _ = left_rx.await;
        let _ga = a2.lock().await;
    });
    left.await.unwrap();
    right.await.unwrap();
}

/// A runtime that fails `block_on` with the report 50 ms into a deadlock.
fn panicking_on_deadlock(builder: &mut brisk::runtime::Builder) -> brisk::Runtime {
    builder
        .deadlock_grace(Some(Duration::from_millis(50)))
        .panic_on_deadlock(true)
        .build()
        .unwrap()
}

#[test]
fn a_deadlock_fails_block_on_with_the_dump_and_the_cycle() {
    within(LIMIT, || {
        let rt = panicking_on_deadlock(brisk::Runtime::builder().current_thread());
        let handle = rt.handle().clone();
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(lock_cycle());
        }))
        .unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("deadlock"), "{msg}");
        assert!(msg.contains("(left)") && msg.contains("(right)"), "{msg}");
        assert!(msg.contains("waits on Mutex"), "{msg}");
        assert!(msg.contains("wait-for cycle"), "{msg}");
        let logged = brisk::diag::hazards_of(&handle);
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].kind, "deadlock");
        assert!(logged[0]
            .report
            .as_ref()
            .unwrap()
            .contains("wait-for cycle"));
    });
}

/// The same cycle, with the second lock taken by a scope child of "left":
/// the report lists the child under its task and still finds the cycle.
#[test]
fn a_deadlock_through_a_scope_child_names_the_child_and_the_cycle() {
    within(LIMIT, || {
        let rt = panicking_on_deadlock(brisk::Runtime::builder().current_thread());
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                let a = Arc::new(Mutex::new(()));
                let b = Arc::new(Mutex::new(()));
                let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
                let (left_tx, left_rx) = brisk::sync::oneshot::channel::<()>();
                let (right_tx, right_rx) = brisk::sync::oneshot::channel::<()>();
                let left = Builder::new().name("left").spawn(async move {
                    let _ga = a1.lock().await;
                    let _ = left_tx.send(());
                    let _ = right_rx.await;
                    brisk::scope(|s| async move {
                        s.spawn_named("take-b", async move {
                            let _gb = b1.lock().await;
                        });
                    })
                    .await;
                });
                let right = Builder::new().name("right").spawn(async move {
                    let _gb = b2.lock().await;
                    let _ = right_tx.send(());
                    let _ = left_rx.await;
                    let _ga = a2.lock().await;
                });
                left.await.unwrap();
                right.await.unwrap();
            });
        }))
        .unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("deadlock"), "{msg}");
        assert!(msg.contains("scope child #"), "{msg}");
        assert!(msg.contains("`take-b` spawned at"), "{msg}");
        assert!(
            msg.contains("held by task #") && !msg.contains("##"),
            "{msg}"
        );
        assert!(msg.contains("wait-for cycle"), "{msg}");
    });
}

#[test]
fn a_multi_thread_deadlock_fails_block_on_too() {
    within(LIMIT, || {
        let rt = panicking_on_deadlock(brisk::Runtime::builder().multi_thread().worker_threads(2));
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(lock_cycle());
        }))
        .unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("(left)") && msg.contains("(right)"), "{msg}");
        assert!(msg.contains("wait-for cycle"), "{msg}");
    });
}

#[test]
fn a_deadlock_warns_once_in_production_and_the_runtime_keeps_going() {
    for current in [true, false] {
        within(LIMIT, move || {
            let (mut b, rx) = builder(current);
            let rt = b
                .deadlock_grace(Some(Duration::from_millis(50)))
                .build()
                .unwrap();
            let (tx, orx) = brisk::sync::oneshot::channel::<u32>();
            // A thread outside the runtime, invisible to it: the runtime
            // reports a deadlock after the grace period (the documented
            // limit), then this thread wakes the task.
            let helper = std::thread::spawn(move || {
                let h = rx.recv_timeout(Duration::from_secs(30)).unwrap();
                tx.send(5).unwrap();
                (h, rx)
            });
            let v = rt.block_on(async move {
                Builder::new()
                    .name("patient")
                    .spawn(async move { orx.await.unwrap() })
                    .await
                    .unwrap()
            });
            assert_eq!(v, 5);
            let (h, rx) = helper.join().unwrap();
            assert_eq!(h.kind, "deadlock");
            assert!(h.message.contains("nothing can wake"), "{h}");
            assert!(h.report.as_ref().unwrap().contains("(patient)"), "{h}");
            assert!(rx.try_recv().is_err(), "reported once");
        });
    }
}

/// A task waiting on a socket (a peer that is slow to write) is waiting
/// on I/O, not deadlocked, however long the wait.
#[test]
fn a_task_waiting_on_a_socket_is_not_deadlocked() {
    for current in [true, false] {
        within(LIMIT, move || {
            let (mut b, rx) = builder(current);
            let rt = b
                .deadlock_grace(Some(Duration::from_millis(20)))
                .build()
                .unwrap();
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            // A peer outside the runtime that writes after 150 ms.
            let peer = std::thread::spawn(move || {
                let (mut conn, _) = std_listener.accept().unwrap();
                std::thread::sleep(Duration::from_millis(150));
                std::io::Write::write_all(&mut conn, b"late").unwrap();
            });
            let got = rt.block_on(async move {
                use brisk::io::AsyncReadExt;
                let mut stream = brisk::net::TcpStream::connect(addr).await.unwrap();
                let mut buf = [0; 4];
                stream.read_exact(&mut buf).await.unwrap();
                buf
            });
            peer.join().unwrap();
            assert_eq!(&got, b"late");
            assert_no_hazard(&rx);
        });
    }
}

#[test]
fn timers_and_blocking_jobs_are_not_deadlocks() {
    within(LIMIT, || {
        let (mut b, rx) = builder(true);
        let rt = b
            .deadlock_grace(Some(Duration::from_millis(20)))
            .build()
            .unwrap();
        rt.block_on(async {
            brisk::time::sleep(Duration::from_millis(100)).await;
            brisk::spawn_blocking(|| std::thread::sleep(Duration::from_millis(100)))
                .await
                .unwrap();
        });
        assert_no_hazard(&rx);
    });
}

#[brisk::test]
#[should_panic(expected = "wait-for cycle")]
async fn a_deadlocked_brisk_test_fails_with_the_dump() {
    lock_cycle().await;
}

#[test]
fn a_deadlocked_simulation_fails_with_the_dump_and_logs_the_hazard() {
    let mut sim = brisk::sim::Sim::builder().seed(3).build();
    let node = Arc::new(std::sync::Mutex::new(None));
    let node_in = node.clone();
    sim.client("c", async move {
        *node_in.lock().unwrap() = Some(brisk::runtime::Handle::current());
        lock_cycle().await
    });
    let err = sim.run().unwrap_err();
    let brisk::sim::SimError::Deadlock { report } = &err else {
        panic!("expected a deadlock, got {err}");
    };
    assert!(
        report.contains("(left)") && report.contains("(right)"),
        "{report}"
    );
    assert!(report.contains("wait-for cycle"), "{report}");
    // The node's hazard log has it too, once, with the same report.
    let node = node.lock().unwrap().take().expect("the client ran");
    let logged = brisk::diag::hazards_of(&node);
    assert_eq!(logged.len(), 1, "{logged:#?}");
    assert_eq!(logged[0].kind, Hazard::DEADLOCK);
    assert_eq!(logged[0].report.as_deref(), Some(report.as_str()));
}

// ---- wait-for cycles -----------------------------------------------------------

/// Two tasks in a lock-order cycle while a third keeps the program busy
/// (a ticking timer, polls): the deadlock rule cannot fire, the cycle
/// check does — once, naming both tasks, both locks and where each waits,
/// with the cycle as DOT.
#[test]
fn a_lock_order_cycle_is_reported_while_the_program_goes_on() {
    for current in [true, false] {
        within(LIMIT, move || {
            let (mut b, rx) = builder(current);
            let rt = b
                .wait_cycle_check(Some(Duration::from_millis(10)))
                .build()
                .unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let (hazard, others) = rt.block_on(async {
                let busy = brisk::spawn({
                    let stop = stop.clone();
                    async move {
                        let mut ticks = 0u64;
                        while !stop.load(Ordering::Relaxed) {
                            brisk::time::sleep(Duration::from_millis(1)).await;
                            ticks += 1;
                        }
                        ticks
                    }
                });
                let cycle = brisk::spawn(lock_cycle());
                // Wait for the report without blocking the runtime.
                let hazard = loop {
                    if let Ok(h) = rx.try_recv() {
                        break h;
                    }
                    brisk::time::sleep(Duration::from_millis(5)).await;
                };
                // Many more checks: the same cycle is not reported again.
                brisk::time::sleep(Duration::from_millis(100)).await;
                let others: Vec<_> = rx.try_iter().collect();
                cycle.abort();
                stop.store(true, Ordering::Relaxed);
                assert!(busy.await.unwrap() > 0);
                (hazard, others)
            });
            assert_eq!(hazard.kind, Hazard::WAIT_CYCLE, "{hazard}");
            let msg = &hazard.message;
            assert!(msg.contains("(left)") && msg.contains("(right)"), "{msg}");
            assert_eq!(msg.matches("waits on Mutex #").count(), 2, "{msg}");
            assert!(msg.contains(file!()), "{msg}");
            assert!(msg.contains("take the locks in one order"), "{msg}");
            let dot = hazard.report.as_deref().unwrap();
            assert!(dot.starts_with("digraph wait_cycle {"), "{dot}");
            assert_eq!(
                dot.matches("[label=\"held by\", color=red]").count(),
                2,
                "{dot}"
            );
            assert!(others.is_empty(), "reported again: {others:#?}");
        });
    }
}

/// Tasks that take two locks in the same order, many at a time, wait on
/// each other all the time, but never in a cycle: no report.
#[test]
fn locks_taken_in_one_order_report_no_cycle() {
    for current in [true, false] {
        within(LIMIT, move || {
            let (mut b, rx) = builder(current);
            let rt = b
                .wait_cycle_check(Some(Duration::from_millis(2)))
                .build()
                .unwrap();
            rt.block_on(async {
                let a = Arc::new(Mutex::new(0u64));
                let b = Arc::new(brisk::sync::RwLock::new(0u64));
                let started = Instant::now();
                let workers: Vec<_> = (0..8)
                    .map(|_| {
                        let (a, b) = (a.clone(), b.clone());
                        brisk::spawn(async move {
                            let mut rounds = 0;
                            while rounds < 50 || started.elapsed() < Duration::from_millis(200) {
                                let mut ga = a.lock().await;
                                let mut gb = b.write().await;
                                brisk::time::sleep(Duration::from_micros(200)).await;
                                *ga += 1;
                                *gb += 1;
                                drop(gb);
                                drop(ga);
                                brisk::task::yield_now().await;
                                rounds += 1;
                            }
                        })
                    })
                    .collect();
                for w in workers {
                    w.await.unwrap();
                }
                assert_eq!(*a.lock().await, *b.read().await);
            });
            assert_no_hazard(&rx);
        });
    }
}

/// A cycle through a lock several tasks hold at once is no cycle: here
/// `a` holds the mutex and waits for a semaphore permit held by `b` (who
/// waits for the mutex) and by `c`, who is busy and lets go in time.
#[test]
fn a_cycle_through_a_shared_lock_is_not_reported() {
    for current in [true, false] {
        within(LIMIT, move || {
            let (mut b, rx) = builder(current);
            let rt = b
                .wait_cycle_check(Some(Duration::from_millis(2)))
                .build()
                .unwrap();
            rt.block_on(async {
                let m = Arc::new(Mutex::new(()));
                let sem = Arc::new(brisk::sync::Semaphore::new(2));
                let (c_tx, c_rx) = brisk::sync::oneshot::channel::<()>();
                let (b_tx, b_rx) = brisk::sync::oneshot::channel::<()>();
                let c = Builder::new().name("c").spawn({
                    let sem = sem.clone();
                    async move {
                        let _permit = sem.acquire().await.unwrap();
                        let _ = c_tx.send(());
                        // Busy for a while (many checks), then lets go.
                        brisk::time::sleep(Duration::from_millis(150)).await;
                    }
                });
                let bt = Builder::new().name("b").spawn({
                    let (sem, m) = (sem.clone(), m.clone());
                    async move {
                        let _permit = sem.acquire().await.unwrap();
                        let _ = b_tx.send(());
                        brisk::time::sleep(Duration::from_millis(5)).await;
                        let _g = m.lock().await;
                    }
                });
                let _ = c_rx.await;
                let _ = b_rx.await;
                let a = Builder::new().name("a").spawn({
                    let (sem, m) = (sem.clone(), m.clone());
                    async move {
                        let _g = m.lock().await;
                        let _permit = sem.acquire().await.unwrap();
                    }
                });
                c.await.unwrap();
                a.await.unwrap();
                bt.await.unwrap();
            });
            assert_no_hazard(&rx);
        });
    }
}

/// A lock shared by two runtimes: the holder is a task of the other one,
/// whose id counts apart (here likely the same number as the waiter's).
/// The waiter's runtime does not list it as its own task, so no cycle of
/// the waiter with itself, or with whichever of its tasks has that id.
#[test]
fn a_holder_from_another_runtime_is_not_taken_for_a_local_task() {
    within(LIMIT, || {
        let m = Arc::new(Mutex::new(()));
        let (held_tx, held_rx) = mpsc::channel::<u64>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let other = std::thread::spawn({
            let m = m.clone();
            move || {
                let rt = brisk::Runtime::builder().current_thread().build().unwrap();
                rt.block_on(async move {
                    let holder = brisk::spawn(async move {
                        let _g = m.lock().await;
                        held_tx.send(brisk::task::id().as_u64()).unwrap();
                        while release_rx.try_recv().is_err() {
                            brisk::time::sleep(Duration::from_millis(1)).await;
                        }
                    });
                    holder.await.unwrap();
                });
            }
        });
        let holder_id = held_rx.recv().unwrap();
        let (mut b, rx) = builder(true);
        let rt = b
            .wait_cycle_check(Some(Duration::from_millis(2)))
            .build()
            .unwrap();
        rt.block_on(async move {
            let waiter = brisk::spawn(async move {
                let _g = m.lock().await;
            });
            let wait = loop {
                brisk::time::sleep(Duration::from_millis(2)).await;
                let dump = brisk::diag::dump();
                let w = dump
                    .task(waiter.id().as_u64())
                    .and_then(|t| t.waiting_on.clone());
                if let Some(w) = w.filter(|w| w.kind == "Mutex") {
                    break w;
                }
            };
            assert!(wait.holders.is_empty(), "{wait:?} (holder #{holder_id})");
            assert_eq!(wait.more_holders, 1, "{wait:?}");
            // Many checks while it waits.
            brisk::time::sleep(Duration::from_millis(60)).await;
            release_tx.send(()).unwrap();
            waiter.await.unwrap();
        });
        other.join().unwrap();
        assert_no_hazard(&rx);
    });
}

/// A wait on a task (`JoinHandle`) is not a wait on a lock, even when the
/// task's id equals a held lock's id (the two count apart): the deadlock
/// report must not say the lock's holder holds it.
#[test]
fn a_task_wait_is_not_taken_for_a_lock_with_the_same_id() {
    within(LIMIT, || {
        // A lock whose id a task can reach (task ids start at 1).
        let lock = loop {
            let m = Mutex::new(());
            if m.resource_id() >= 2 {
                break Arc::new(m);
            }
        };
        let id = lock.resource_id();
        let lock2 = lock.clone();
        let rt = panicking_on_deadlock(brisk::Runtime::builder().current_thread());
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async move {
                // Burn task ids up to the lock's.
                loop {
                    let h = brisk::spawn(async {});
                    let next = h.id().as_u64() + 1;
                    h.await.unwrap();
                    if next >= id {
                        assert_eq!(next, id, "task ids passed the lock's");
                        break;
                    }
                }
                let (_tx, rx) = brisk::sync::oneshot::channel::<()>();
                let awaited = Builder::new().name("awaited").spawn(async move {
                    let _ = rx.await;
                });
                assert_eq!(awaited.id().as_u64(), id);
                let (_tx2, rx2) = brisk::sync::oneshot::channel::<()>();
                let holder = Builder::new().name("holder").spawn(async move {
                    let _g = lock.lock().await;
                    let _ = rx2.await;
                });
                // Contended, so the lock is in the holder directory.
                let contender = brisk::spawn({
                    let lock = lock2;
                    async move {
                        let _g = lock.lock().await;
                    }
                });
                let waiter = Builder::new().name("waiter").spawn(awaited);
                let _ = waiter.await;
                drop((holder, contender));
            });
        }))
        .unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        let line = msg
            .lines()
            .find(|l| l.contains("(waiter)"))
            .unwrap_or_else(|| panic!("no line for the waiter: {msg}"));
        assert!(line.contains(&format!("Task #{id}")), "{line}");
        assert!(!line.contains("held by"), "{line}");
        assert!(!msg.contains("wait-for cycle"), "{msg}");
    });
}

// ---- timing -------------------------------------------------------------------

#[test]
fn the_dump_shows_busy_and_idle_time_and_a_poll_histogram() {
    within(LIMIT, || {
        let (b, _rx) = builder(true);
        let rt = { b }.build().unwrap();
        rt.block_on(async {
            let (go_tx, go_rx) = brisk::sync::oneshot::channel::<()>();
            let t = Builder::new().name("worker").spawn(async move {
                std::thread::sleep(Duration::from_millis(3));
                go_rx.await.unwrap();
            });
            brisk::task::yield_now().await;
            brisk::time::sleep(Duration::from_millis(2)).await;
            let dump = brisk::diag::dump();
            let w = dump
                .tasks
                .iter()
                .find(|t| t.name.as_deref() == Some("worker"))
                .unwrap();
            // Lower bounds only: a sleep lasts at least what it asked for.
            assert!(w.busy_us.unwrap() >= 3_000, "{w:?}");
            assert!(w.idle_us.unwrap() >= 2_000, "{w:?}");
            let hist = w.poll_histogram_us.as_ref().unwrap();
            assert_eq!(hist.len(), brisk::diag::POLL_HISTOGRAM_BUCKETS);
            assert_eq!(hist.iter().sum::<u64>(), w.polls);
            assert!(
                hist[11..].iter().sum::<u64>() >= 1,
                "the 3 ms poll: {hist:?}"
            );
            let text = dump.to_string();
            assert!(text.contains("busy "), "{text}");
            let json = serde_json::to_value(&dump).unwrap();
            assert!(json["tasks"][0]["poll_histogram_us"].is_array());
            go_tx.send(()).unwrap();
            t.await.unwrap();
        });
    });
}

/// Polls of a run share clock readings, but a worker that slept between
/// two polls reads the clock again: the sleep never counts as busy time.
fn a_sleeping_worker_adds_no_busy_time(current: bool) {
    within(LIMIT, move || {
        let (b, _rx) = builder(current);
        let rt = { b }.build().unwrap();
        rt.block_on(async {
            let (slept_tx, slept_rx) = brisk::sync::oneshot::channel::<()>();
            let (go_tx, go_rx) = brisk::sync::oneshot::channel::<()>();
            let t = Builder::new().name("sleeper").spawn(async move {
                for _ in 0..3 {
                    brisk::time::sleep(Duration::from_millis(100)).await;
                }
                slept_tx.send(()).unwrap();
                go_rx.await.unwrap();
            });
            slept_rx.await.unwrap();
            let dump = brisk::diag::dump();
            let s = dump
                .tasks
                .iter()
                .find(|t| t.name.as_deref() == Some("sleeper"))
                .unwrap();
            // Each sleep parks the worker for at least 100 ms; counted as
            // busy time, one alone would reach that.
            assert!(s.busy_us.unwrap() < 100_000, "{s:?}");
            assert!(s.idle_us.unwrap() >= 300_000, "{s:?}");
            let hist = s.poll_histogram_us.as_ref().unwrap();
            assert_eq!(hist[16..].iter().sum::<u64>(), 0, "{hist:?}");
            go_tx.send(()).unwrap();
            t.await.unwrap();
        });
    });
}

#[test]
fn a_sleeping_worker_adds_no_busy_time_current_thread() {
    a_sleeping_worker_adds_no_busy_time(true);
}

#[test]
fn a_sleeping_worker_adds_no_busy_time_multi_thread() {
    a_sleeping_worker_adds_no_busy_time(false);
}

#[test]
fn without_timing_the_fields_are_none() {
    let rt = brisk::Runtime::builder()
        .current_thread()
        .task_timing(false)
        .build()
        .unwrap();
    rt.block_on(async {
        let (_tx, rx) = brisk::sync::oneshot::channel::<()>();
        let _t = brisk::spawn(rx);
        brisk::task::yield_now().await;
        let dump = brisk::diag::dump();
        assert!(dump
            .tasks
            .iter()
            .all(|t| t.busy_us.is_none() && t.idle_us.is_none() && t.poll_histogram_us.is_none()));
    });
}

#[test]
fn hazards_serialise_with_their_kind() {
    let h = Hazard::deadlock("test", "  report\n".to_owned());
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["kind"], "deadlock");
    assert_eq!(json["task"], serde_json::Value::Null);
}
