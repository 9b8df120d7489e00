//! `brisk::sync::Barrier`: tripping, leaders, reuse, cancel safety,
//! wait-points, misuse, and use on other executors and plain threads.

mod support;

use brisk::sync::{Barrier, Mutex};
use brisk::wait::ResourceKind;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::{within, LIMIT};

#[test]
#[should_panic(expected = "`brisk::sync::Barrier::new` was given zero tasks")]
fn a_barrier_of_zero_panics_with_the_fix() {
    let _ = Barrier::new(0);
}

#[test]
fn all_tasks_continue_and_exactly_one_leads() {
    within(LIMIT, || {
        for (name, rt) in support::runtimes() {
            let leaders = rt.block_on(async {
                let barrier = Arc::new(Barrier::new(8));
                let tasks: Vec<_> = (0..8)
                    .map(|_| {
                        let b = barrier.clone();
                        brisk::spawn(async move { b.wait().await.is_leader() })
                    })
                    .collect();
                let mut leaders = 0;
                for t in tasks {
                    leaders += usize::from(t.await.unwrap());
                }
                leaders
            });
            assert_eq!(leaders, 1, "{name}");
        }
    });
}

#[test]
fn it_waits_until_n_tasks_arrive() {
    brisk::run(async {
        let barrier = Barrier::new(3);
        let mut a = pin!(barrier.wait());
        let mut b = pin!(barrier.wait());
        assert!(futures::poll!(a.as_mut()).is_pending());
        assert!(futures::poll!(b.as_mut()).is_pending());
        assert!(barrier.wait().await.is_leader()); // the third trips it
        assert!(!a.await.is_leader());
        assert!(!b.await.is_leader());
    });
}

#[test]
fn a_barrier_of_one_never_waits() {
    brisk::run(async {
        let barrier = Barrier::new(1);
        for _ in 0..3 {
            assert!(barrier.wait().await.is_leader());
        }
    });
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_is_reusable_with_one_leader_per_generation() {
    const TASKS: usize = 4;
    const GENERATIONS: usize = 50;
    let barrier = Arc::new(Barrier::new(TASKS));
    let leaders = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (b, leaders) = (barrier.clone(), leaders.clone());
            brisk::spawn(async move {
                for _ in 0..GENERATIONS {
                    if b.wait().await.is_leader() {
                        leaders.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(leaders.load(Ordering::Relaxed), GENERATIONS);
}

#[brisk::test]
async fn dropping_a_wait_before_the_trip_withdraws_the_arrival() {
    let barrier = Barrier::new(2);
    let mut gone = Box::pin(barrier.wait());
    assert!(futures::poll!(gone.as_mut()).is_pending());
    drop(gone);
    let mut a = pin!(barrier.wait());
    assert!(
        futures::poll!(a.as_mut()).is_pending(),
        "tripped with only one live task"
    );
    assert!(barrier.wait().await.is_leader());
    assert!(!a.await.is_leader());
}

#[brisk::test]
async fn dropping_a_wait_after_the_trip_changes_nothing() {
    let barrier = Barrier::new(2);
    let mut tripped = Box::pin(barrier.wait());
    assert!(futures::poll!(tripped.as_mut()).is_pending());
    assert!(barrier.wait().await.is_leader());
    drop(tripped); // served, never looked
    let mut next = pin!(barrier.wait());
    assert!(futures::poll!(next.as_mut()).is_pending()); // a fresh generation
    assert!(barrier.wait().await.is_leader());
    next.await;
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_a_completed_wait_again_panics() {
    let barrier = Barrier::new(1);
    let mut wait = pin!(barrier.wait());
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(wait.as_mut().poll(&mut cx).is_ready());
    let _ = wait.as_mut().poll(&mut cx);
}

#[test]
fn a_waiting_task_names_the_barrier_and_the_line() {
    brisk::run(async {
        brisk::spawn(async {
            let barrier = Arc::new(Barrier::new(2));
            let b = barrier.clone();
            let line = line!() + 1;
            let waiter = brisk::spawn(async move { b.wait().await.is_leader() });
            let wp = loop {
                let wp = waiter.task().wait_point();
                match wp {
                    Some(wp) if wp.kind == ResourceKind::Barrier => break wp,
                    _ => brisk::task::yield_now().await,
                }
            };
            assert_eq!(wp.resource, barrier.resource_id());
            assert_eq!(wp.location.file(), file!());
            assert_eq!(wp.location.line(), line);
            assert!(barrier.wait().await.is_leader());
            assert!(!waiter.await.unwrap());
        })
        .await
        .unwrap()
    });
}

#[test]
fn works_under_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let leaders = rt.block_on(async {
        let barrier = Arc::new(Barrier::new(4));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let b = barrier.clone();
                tokio::spawn(async move { b.wait().await.is_leader() })
            })
            .collect();
        let mut leaders = 0;
        for t in tasks {
            leaders += usize::from(t.await.unwrap());
        }
        leaders
    });
    assert_eq!(leaders, 1);
}

#[test]
fn works_under_futures_block_on_on_plain_threads() {
    within(LIMIT, || {
        let barrier = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let b = barrier.clone();
                std::thread::spawn(move || futures::executor::block_on(b.wait()).is_leader())
            })
            .collect();
        let leaders: usize = threads
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert_eq!(leaders, 1);
    });
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Tasks pass the barrier generation after generation; before each real
/// wait, a task may arrive and cancel a few times at random. Arrivals are
/// serialised by a lock (so a cancelled wait cannot be caught in a trip
/// between its poll and its drop, which would make the outcome ambiguous),
/// while waiting, waking and cancelling run on four workers. Every trip must
/// find all tasks really arrived, with one leader per generation.
#[test]
fn stress_cancelled_arrivals_never_trip_the_barrier_early() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(async {
            const TASKS: usize = 6;
            const GENERATIONS: usize = 300;
            let barrier = Arc::new(Barrier::new(TASKS));
            let arrivals = Arc::new(Mutex::new(()));
            let arrived: Arc<Vec<AtomicUsize>> =
                Arc::new((0..GENERATIONS).map(|_| AtomicUsize::new(0)).collect());
            let leaders: Arc<Vec<AtomicUsize>> =
                Arc::new((0..GENERATIONS).map(|_| AtomicUsize::new(0)).collect());
            let tasks: Vec<_> = (0..TASKS as u64)
                .map(|t| {
                    let (barrier, arrivals) = (barrier.clone(), arrivals.clone());
                    let (arrived, leaders) = (arrived.clone(), leaders.clone());
                    brisk::spawn(async move {
                        let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (t + 1);
                        for g in 0..GENERATIONS {
                            let lock = arrivals.lock().await;
                            arrived[g].fetch_add(1, Ordering::AcqRel);
                            let mut result = None;
                            for _ in 0..xorshift(&mut rng) % 3 {
                                let mut attempt = Box::pin(barrier.wait());
                                if let std::task::Poll::Ready(r) = futures::poll!(attempt.as_mut())
                                {
                                    result = Some(r); // this arrival tripped it
                                    break;
                                }
                                drop(attempt); // cancelled: the arrival is withdrawn
                            }
                            let result = match result {
                                Some(r) => Ok(r),
                                None => {
                                    let mut wait = Box::pin(barrier.wait());
                                    match futures::poll!(wait.as_mut()) {
                                        std::task::Poll::Ready(r) => Ok(r),
                                        std::task::Poll::Pending => Err(wait),
                                    }
                                }
                            };
                            drop(lock);
                            if xorshift(&mut rng) % 2 == 0 {
                                brisk::task::yield_now().await;
                            }
                            let r = match result {
                                Ok(r) => r,
                                Err(wait) => wait.await,
                            };
                            assert_eq!(
                                arrived[g].load(Ordering::Acquire),
                                TASKS,
                                "generation {g} tripped before every task arrived"
                            );
                            if r.is_leader() {
                                leaders[g].fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            for (g, l) in leaders.iter().enumerate() {
                assert_eq!(l.load(Ordering::Relaxed), 1, "generation {g}");
            }
        });
    });
}
