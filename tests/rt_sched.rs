//! Scheduling guarantees: stealing from a worker stuck in a long poll,
//! fairness between local and remote wake-ups, many tasks across workers.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{within, LIMIT};

/// A task wakes another and then blocks its worker in one long poll. The
/// woken task sits in that worker's queue; it must be stolen and run while
/// the long poll is still going (tokio issue #4730 must not happen here).
#[test]
fn work_queued_behind_a_long_poll_is_stolen() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        let ran_during_stall = rt.block_on(async {
            brisk::spawn(async {
                let flag = Arc::new(AtomicBool::new(false));
                let f = flag.clone();
                // Queued on this worker's local queue.
                let _queued = brisk::spawn(async move { f.store(true, Ordering::SeqCst) });
                // A long synchronous stretch: the worker is stuck in this poll.
                let started = std::time::Instant::now();
                while !flag.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(20) {
                    std::hint::spin_loop();
                }
                flag.load(Ordering::SeqCst)
            })
            .await
            .unwrap()
        });
        assert!(
            ran_during_stall,
            "the queued task never ran while its worker was stuck"
        );
    });
}

/// Same, for a timer armed by a task on the stuck worker's queue.
#[test]
fn timers_fire_while_a_worker_is_stuck() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        let fired = rt.block_on(async {
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            let _sleeper = brisk::spawn(async move {
                brisk::time::sleep(Duration::from_millis(5)).await;
                f.store(true, Ordering::SeqCst);
            });
            brisk::task::yield_now().await;
            brisk::spawn(async move {
                let started = std::time::Instant::now();
                while !flag.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(20) {
                    std::hint::spin_loop();
                }
                flag.load(Ordering::SeqCst)
            })
            .await
            .unwrap()
        });
        assert!(fired);
    });
}

/// A task that yields forever does not starve a task woken from another thread.
#[test]
fn remote_wakeups_are_not_starved_by_yielding_tasks() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        let handle = rt.handle().clone();
        rt.block_on(async move {
            let stop = Arc::new(AtomicBool::new(false));
            let s = stop.clone();
            let spinner = brisk::spawn(async move {
                while !s.load(Ordering::SeqCst) {
                    brisk::task::yield_now().await;
                }
            });
            let remote = std::thread::spawn(move || handle.spawn(async { 5 }))
                .join()
                .unwrap();
            assert_eq!(remote.await.unwrap(), 5);
            stop.store(true, Ordering::SeqCst);
            spinner.await.unwrap();
        });
    });
}

#[test]
fn multi_thread_spreads_work_and_finishes_everything() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        rt.block_on(async move {
            let mut handles = Vec::new();
            for _ in 0..200 {
                let c = c.clone();
                handles.push(brisk::spawn(async move {
                    let mut inner = Vec::new();
                    for _ in 0..50 {
                        let c = c.clone();
                        inner.push(brisk::spawn(async move {
                            brisk::task::yield_now().await;
                            c.fetch_add(1, Ordering::Relaxed);
                        }));
                    }
                    for h in inner {
                        h.await.unwrap();
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(count.load(Ordering::Relaxed), 10_000);
        let m = rt.metrics();
        assert_eq!(m.workers, 2);
        assert!(m.polls >= 10_000);
    });
}

#[test]
fn a_task_woken_from_a_plain_thread_runs() {
    within(LIMIT, || {
        for (_, rt) in support::runtimes() {
            rt.block_on(async {
                let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
                let done = Arc::new(AtomicBool::new(false));
                let d = done.clone();
                let waiter = brisk::spawn(std::future::poll_fn(move |cx| {
                    if d.load(Ordering::SeqCst) {
                        std::task::Poll::Ready(())
                    } else {
                        let _ = tx.send(cx.waker().clone());
                        std::task::Poll::Pending
                    }
                }));
                let waker = brisk::spawn_blocking(move || rx.recv().unwrap())
                    .await
                    .unwrap();
                done.store(true, Ordering::SeqCst);
                std::thread::spawn(move || waker.wake()).join().unwrap();
                waiter.await.unwrap();
            });
        }
    });
}

/// A worker woken as a searcher that finds work in its own queues must stop
/// counting as a searcher; otherwise wake-ups (and the long-poll rescue) stop.
/// `global_queue_interval(2)` makes the woken worker take its first task from
/// the shared queue in its own loop, which used to leave the count stale.
#[test]
fn long_poll_rescue_survives_a_worker_woken_through_the_shared_queue() {
    within(LIMIT, || {
        for _ in 0..5 {
            let rt = brisk::Runtime::builder()
                .multi_thread()
                .worker_threads(2)
                .global_queue_interval(2)
                .build()
                .unwrap();
            // Let both workers go to sleep, so the first wake-up makes a searcher.
            std::thread::sleep(Duration::from_millis(5));
            let ran = rt.block_on(async {
                brisk::spawn(async {
                    let flag = Arc::new(AtomicBool::new(false));
                    let f = flag.clone();
                    let _queued = brisk::spawn(async move { f.store(true, Ordering::SeqCst) });
                    let started = std::time::Instant::now();
                    while !flag.load(Ordering::SeqCst)
                        && started.elapsed() < Duration::from_secs(20)
                    {
                        std::hint::spin_loop();
                    }
                    flag.load(Ordering::SeqCst)
                })
                .await
                .unwrap()
            });
            assert!(ran, "the task queued behind a long poll never ran");
        }
    });
}

/// A task woken by the running task goes to its worker's LIFO slot; when
/// that task then blocks its worker in one long poll, the woken task must be
/// stolen from the slot and run while the long poll is still going.
#[test]
fn a_task_woken_into_the_lifo_slot_behind_a_long_poll_is_stolen() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        let ran_during_stall = rt.block_on(async {
            brisk::spawn(async {
                let flag = Arc::new(AtomicBool::new(false));
                let waker = Arc::new(std::sync::Mutex::new(None::<std::task::Waker>));
                let (f, w) = (flag.clone(), waker.clone());
                let _waiter = brisk::spawn(std::future::poll_fn(move |cx| {
                    let mut slot = w.lock().unwrap();
                    if slot.is_some() {
                        *slot = Some(cx.waker().clone());
                        return std::task::Poll::Pending;
                    }
                    if f.load(Ordering::SeqCst) {
                        return std::task::Poll::Ready(());
                    }
                    *slot = Some(cx.waker().clone());
                    std::task::Poll::Pending
                }));
                // Let the waiter register its waker (it may run on either worker).
                let waker = loop {
                    if let Some(w) = waker.lock().unwrap().take() {
                        break w;
                    }
                    brisk::task::yield_now().await;
                };
                flag.store(true, Ordering::SeqCst);
                // Woken from this poll, on this worker: into its LIFO slot.
                waker.wake();
                let started = std::time::Instant::now();
                while !_waiter.is_finished() && started.elapsed() < Duration::from_secs(20) {
                    std::hint::spin_loop();
                }
                _waiter.is_finished()
            })
            .await
            .unwrap()
        });
        assert!(
            ran_during_stall,
            "the task in the stuck worker's LIFO slot never ran"
        );
    });
}

/// Two tasks that wake each other on every poll pass each other through the
/// LIFO slot; the cap on slot polls in a row must still let a task waiting in
/// the same worker's queue run (one worker, so nobody can steal it).
#[test]
fn tasks_ping_ponging_through_the_lifo_slot_do_not_starve_the_queue() {
    struct PingPong {
        me: Arc<std::sync::Mutex<Option<std::task::Waker>>>,
        other: Arc<std::sync::Mutex<Option<std::task::Waker>>>,
        stop: Arc<AtomicBool>,
    }
    impl std::future::Future for PingPong {
        type Output = ();
        fn poll(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            if self.stop.load(Ordering::SeqCst) {
                if let Some(w) = self.other.lock().unwrap().take() {
                    w.wake();
                }
                return std::task::Poll::Ready(());
            }
            *self.me.lock().unwrap() = Some(cx.waker().clone());
            if let Some(w) = self.other.lock().unwrap().take() {
                w.wake();
            }
            std::task::Poll::Pending
        }
    }
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        rt.block_on(async move {
            brisk::spawn(async move {
                let a = Arc::new(std::sync::Mutex::new(None));
                let b = Arc::new(std::sync::Mutex::new(None));
                let ping = brisk::spawn(PingPong {
                    me: a.clone(),
                    other: b.clone(),
                    stop: s.clone(),
                });
                let pong = brisk::spawn(PingPong {
                    me: b,
                    other: a,
                    stop: s.clone(),
                });
                // Each yield puts this task at the back of the queue, behind
                // the ping-pong: it only comes back if the pair lets it.
                for _ in 0..20 {
                    brisk::task::yield_now().await;
                }
                s.store(true, Ordering::SeqCst);
                ping.await.unwrap();
                pong.await.unwrap();
            })
            .await
            .unwrap();
        });
        assert!(stop.load(Ordering::SeqCst));
    });
}
