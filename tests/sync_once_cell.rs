//! `brisk::sync::OnceCell`: one initializer at a time, set/get/take,
//! failures and cancellation handing over to the next caller, wait-points,
//! and use on other executors and plain threads.

mod support;

use brisk::sync::{Notify, OnceCell, SetError};
use brisk::wait::ResourceKind;
use std::future::pending;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::{within, LIMIT};

#[test]
fn many_callers_run_one_initializer_and_share_its_value() {
    within(LIMIT, || {
        for (name, rt) in support::runtimes() {
            let (runs, values) = rt.block_on(async {
                let cell = Arc::new(OnceCell::new());
                let runs = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..16)
                    .map(|i| {
                        let (cell, runs) = (cell.clone(), runs.clone());
                        brisk::spawn(async move {
                            *cell
                                .get_or_init(|| async move {
                                    runs.fetch_add(1, Ordering::Relaxed);
                                    brisk::task::yield_now().await;
                                    i
                                })
                                .await
                        })
                    })
                    .collect();
                let mut values = Vec::new();
                for t in tasks {
                    values.push(t.await.unwrap());
                }
                (runs.load(Ordering::Relaxed), values)
            });
            assert_eq!(runs, 1, "{name}");
            assert!(values.iter().all(|v| *v == values[0]), "{name}");
        }
    });
}

#[test]
fn set_stores_once_and_hands_the_value_back_after() {
    let cell = OnceCell::new();
    assert_eq!(cell.get(), None);
    assert_eq!(cell.set(1), Ok(()));
    assert_eq!(cell.set(2), Err(SetError::AlreadyInitialized(2)));
    assert_eq!(cell.get(), Some(&1));
}

#[brisk::test]
async fn set_while_an_initializer_runs_reports_initializing() {
    let cell = OnceCell::new();
    let mut init = pin!(cell.get_or_init(pending));
    assert!(futures::poll!(init.as_mut()).is_pending());
    let err = cell.set(5).unwrap_err();
    assert!(err.is_initializing_err());
    assert_eq!(err, SetError::Initializing(5));
}

#[brisk::test]
async fn an_initialized_cell_does_not_call_init() {
    let cell = OnceCell::new_with(Some(3));
    assert!(cell.initialized());
    assert_eq!(*cell.get_or_init(|| async { unreachable!() }).await, 3);
    let v: Result<_, ()> = cell.get_or_try_init(|| async { unreachable!() }).await;
    assert_eq!(v, Ok(&3));
}

#[brisk::test]
async fn a_failed_initializer_leaves_the_cell_empty() {
    let cell = OnceCell::<u32>::new();
    assert_eq!(
        cell.get_or_try_init(|| async { Err("no") }).await,
        Err("no")
    );
    assert!(!cell.initialized());
    assert_eq!(cell.set(1), Ok(()));
}

#[brisk::test]
async fn a_failed_initializer_lets_the_next_waiting_caller_run() {
    let cell = OnceCell::new();
    let go = Notify::new();
    let mut first = pin!(cell.get_or_try_init(|| async {
        go.notified().await;
        Err("first failed")
    }));
    let mut second = pin!(cell.get_or_try_init(|| async { Ok::<_, &str>(2) }));
    assert!(futures::poll!(first.as_mut()).is_pending()); // running
    assert!(futures::poll!(second.as_mut()).is_pending()); // waiting its turn
    go.notify_one();
    assert_eq!(first.await, Err("first failed"));
    assert_eq!(second.await, Ok(&2));
}

#[brisk::test]
async fn a_cancelled_initializer_lets_the_next_waiting_caller_run() {
    let cell = OnceCell::new();
    let mut first = Box::pin(cell.get_or_init(pending));
    let mut second = pin!(cell.get_or_init(|| async { 2 }));
    assert!(futures::poll!(first.as_mut()).is_pending()); // running
    assert!(futures::poll!(second.as_mut()).is_pending()); // waiting its turn
    drop(first);
    assert_eq!(*second.await, 2);
}

#[brisk::test]
async fn a_cancelled_waiter_does_not_hold_up_the_others() {
    let cell = OnceCell::new();
    let go = Notify::new();
    let mut first = pin!(cell.get_or_init(|| async {
        go.notified().await;
        1
    }));
    let mut gone = Box::pin(cell.get_or_init(|| async { 2 }));
    let mut third = pin!(cell.get_or_init(|| async { 3 }));
    assert!(futures::poll!(first.as_mut()).is_pending());
    assert!(futures::poll!(gone.as_mut()).is_pending());
    assert!(futures::poll!(third.as_mut()).is_pending());
    drop(gone);
    go.notify_one();
    assert_eq!(*first.await, 1);
    assert_eq!(*third.await, 1);
}

#[test]
fn a_panicking_initializer_lets_the_next_caller_run() {
    brisk::run(async {
        let cell = Arc::new(OnceCell::new());
        let c = cell.clone();
        let err = brisk::spawn(async move {
            c.get_or_init(|| async { panic!("init failed") }).await;
        })
        .await
        .unwrap_err();
        assert!(err.is_panic());
        assert!(!cell.initialized());
        assert_eq!(*cell.get_or_init(|| async { 7 }).await, 7);
    });
}

#[test]
fn take_empties_the_cell_for_reuse() {
    let mut cell = OnceCell::new_with(Some(String::from("a")));
    assert_eq!(cell.take().as_deref(), Some("a"));
    assert!(!cell.initialized());
    assert_eq!(cell.take(), None);
    assert_eq!(cell.set(String::from("b")), Ok(()));
    assert_eq!(cell.into_inner().as_deref(), Some("b"));
}

#[test]
fn get_mut_changes_the_value_in_place() {
    let mut cell = OnceCell::new();
    assert_eq!(cell.get_mut(), None);
    cell.set(vec![1]).unwrap();
    cell.get_mut().unwrap().push(2);
    assert_eq!(cell.get(), Some(&vec![1, 2]));
}

#[test]
fn the_value_is_dropped_with_the_cell() {
    let marker = Arc::new(());
    let cell = OnceCell::new();
    cell.set(marker.clone()).unwrap();
    assert_eq!(Arc::strong_count(&marker), 2);
    drop(cell);
    assert_eq!(Arc::strong_count(&marker), 1);
}

#[test]
fn clone_eq_and_debug_show_the_value() {
    let cell = OnceCell::from(4);
    let copy = cell.clone();
    assert_eq!(cell, copy);
    assert_ne!(cell, OnceCell::new());
    assert!(format!("{cell:?}").contains("Some(4)"));
}

#[test]
fn the_cell_is_send_and_sync_for_send_and_sync_values() {
    fn shareable<T: Send + Sync>() {}
    shareable::<OnceCell<String>>();
    shareable::<Notify>();
    shareable::<brisk::sync::Barrier>();
}

#[test]
fn a_task_waiting_on_an_initializer_names_the_cell_and_the_line() {
    brisk::run(async {
        brisk::spawn(async {
            let cell = Arc::new(OnceCell::new());
            let go = Arc::new(Notify::new());
            let mut init = pin!(cell.get_or_init(|| async {
                go.notified().await;
                1
            }));
            assert!(futures::poll!(init.as_mut()).is_pending());
            let c = cell.clone();
            let line = line!() + 1;
            let waiter = brisk::spawn(async move { *c.get_or_init(|| async { 2 }).await });
            let wp = loop {
                let wp = waiter.task().wait_point();
                match wp {
                    Some(wp) if wp.kind == ResourceKind::OnceCell => break wp,
                    _ => brisk::task::yield_now().await,
                }
            };
            assert_eq!(wp.resource, cell.resource_id());
            assert_eq!(wp.location.file(), file!());
            assert_eq!(wp.location.line(), line);
            let held = brisk::wait::holders_of(cell.resource_id()).expect("published");
            assert_eq!(held.holders, vec![Some(brisk::task::id())]);
            go.notify_one();
            assert_eq!(*init.await, 1);
            assert_eq!(waiter.await.unwrap(), 1);
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
    let cell = Arc::new(OnceCell::new());
    let runs = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (cell, runs) = (cell.clone(), runs.clone());
                tokio::spawn(async move {
                    *cell
                        .get_or_init(|| async move {
                            runs.fetch_add(1, Ordering::Relaxed);
                            tokio::task::yield_now().await;
                            "tokio"
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "tokio");
        }
    });
    assert_eq!(runs.load(Ordering::Relaxed), 1);
}

#[test]
fn works_under_futures_block_on_on_plain_threads() {
    within(LIMIT, || {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let (cell, runs) = (cell.clone(), runs.clone());
                std::thread::spawn(move || {
                    *futures::executor::block_on(cell.get_or_init(|| async move {
                        runs.fetch_add(1, Ordering::Relaxed);
                        i
                    }))
                })
            })
            .collect();
        let values: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(values.iter().all(|v| *v == values[0]));
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    });
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Counts initializers running at once; the count goes down even when the
/// initializer is cancelled.
struct Running(Arc<AtomicUsize>);

impl Running {
    fn enter(count: &Arc<AtomicUsize>) -> Running {
        let before = count.fetch_add(1, Ordering::AcqRel);
        assert_eq!(before, 0, "two initializers ran at once");
        Running(count.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Round after round, tasks race to initialise a fresh cell; initializers
/// fail or are cancelled at random. At most one initializer runs at a time,
/// exactly one succeeds, every caller that completes sees its value, and
/// nobody hangs.
#[test]
fn stress_one_initializer_at_a_time_under_random_failure_and_cancellation() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(async {
            const TASKS: u64 = 8;
            for round in 0..200u64 {
                let cell = Arc::new(OnceCell::new());
                let running = Arc::new(AtomicUsize::new(0));
                let successes = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let (cell, running) = (cell.clone(), running.clone());
                        let successes = successes.clone();
                        brisk::spawn(async move {
                            let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (round * TASKS + t + 1);
                            let fail = xorshift(&mut rng) % 3 == 0;
                            let yields = xorshift(&mut rng) % 3;
                            let init = || async move {
                                let _running = Running::enter(&running);
                                for _ in 0..yields {
                                    brisk::task::yield_now().await;
                                }
                                if fail {
                                    return Err(());
                                }
                                successes.fetch_add(1, Ordering::AcqRel);
                                Ok(t)
                            };
                            if xorshift(&mut rng) % 3 == 0 {
                                // Poll once, then cancel (maybe mid-initializer).
                                let mut f = Box::pin(cell.get_or_try_init(init));
                                let polled = futures::poll!(f.as_mut());
                                drop(f);
                                if let std::task::Poll::Ready(Ok(v)) = polled {
                                    return Some(*v);
                                }
                                None
                            } else {
                                cell.get_or_try_init(init).await.ok().copied()
                            }
                        })
                    })
                    .collect();
                let mut seen = Vec::new();
                for t in tasks {
                    seen.extend(t.await.unwrap());
                }
                // Every caller may have failed or been cancelled; finish the
                // round with one more caller, which must not wait forever.
                let v = *cell.get_or_init(|| async { 99 }).await;
                let successes = successes.load(Ordering::Acquire);
                assert!(successes <= 1, "round {round}");
                assert_eq!(successes == 1, v != 99, "round {round}");
                assert!(seen.iter().all(|s| *s == v), "round {round}");
                assert_eq!(running.load(Ordering::Acquire), 0, "round {round}");
            }
        });
    });
}
