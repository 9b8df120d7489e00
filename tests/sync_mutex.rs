//! `brisk::sync::Mutex`: exclusion, FIFO fairness, cancel safety, holders and
//! wait-points, and use on other executors and plain threads.

mod support;

use brisk::sync::Mutex;
use brisk::wait::ResourceKind;
use futures::FutureExt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use support::{within, LIMIT};

#[test]
fn excludes_across_workers() {
    within(LIMIT, || {
        for (name, rt) in support::runtimes() {
            let total = rt.block_on(async {
                let m = Arc::new(Mutex::new(0u64));
                let tasks: Vec<_> = (0..8)
                    .map(|_| {
                        let m = m.clone();
                        brisk::spawn(async move {
                            for _ in 0..500 {
                                let mut g = m.lock().await;
                                let v = *g;
                                brisk::task::yield_now().await;
                                *g = v + 1;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                let v = *m.lock().await;
                v
            });
            assert_eq!(total, 4000, "{name}");
        }
    });
}

#[test]
fn waiters_get_the_lock_in_arrival_order() {
    brisk::run(async {
        let m = Arc::new(Mutex::new(Vec::new()));
        let guard = m.lock().await;
        let mut tasks = Vec::new();
        for i in 0..5 {
            let m2 = m.clone();
            tasks.push(brisk::spawn(async move { m2.lock().await.push(i) }));
            // On the current-thread runtime one yield lets task i run and
            // queue before task i + 1 is spawned.
            brisk::task::yield_now().await;
        }
        drop(guard);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*m.lock().await, vec![0, 1, 2, 3, 4]);
    });
}

#[test]
fn a_relocking_holder_goes_behind_waiters() {
    let m = Mutex::new(());
    let mut cx = Context::from_waker(Waker::noop());
    let g = m.try_lock().unwrap();
    let mut waiter = Box::pin(m.lock());
    assert!(waiter.as_mut().poll(&mut cx).is_pending());
    drop(g);
    // The lock was handed to the queued waiter: a newcomer cannot take it.
    assert!(m.try_lock().is_err());
    let Poll::Ready(g) = waiter.as_mut().poll(&mut cx) else {
        panic!("the waiter was not handed the lock")
    };
    drop(g);
    assert!(m.try_lock().is_ok());
}

#[test]
fn dropping_a_queued_lock_future_loses_nothing() {
    let m = Mutex::new(1);
    let mut cx = Context::from_waker(Waker::noop());
    let g = m.try_lock().unwrap();
    let mut first = Box::pin(m.lock());
    let mut second = Box::pin(m.lock());
    assert!(first.as_mut().poll(&mut cx).is_pending());
    assert!(second.as_mut().poll(&mut cx).is_pending());
    // Cancel the first waiter while queued, then release.
    drop(first);
    drop(g);
    let Poll::Ready(g) = second.as_mut().poll(&mut cx) else {
        panic!("the second waiter was skipped")
    };
    drop(g);
    assert!(!m.has_waiters());
    assert!(m.try_lock().is_ok());
}

#[test]
fn dropping_a_waiter_that_was_handed_the_lock_passes_it_on() {
    let m = Mutex::new(());
    let mut cx = Context::from_waker(Waker::noop());
    let g = m.try_lock().unwrap();
    let mut first = Box::pin(m.lock());
    let mut second = Box::pin(m.lock());
    assert!(first.as_mut().poll(&mut cx).is_pending());
    assert!(second.as_mut().poll(&mut cx).is_pending());
    drop(g); // hands the lock to `first`, which never looks
    drop(first); // ... and gives it to `second`
    assert!(second.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn a_waiting_task_names_the_mutex_and_the_mutex_names_its_holder() {
    brisk::run(async {
        brisk::spawn(async {
            let m = Arc::new(Mutex::new(0));
            let guard = m.lock().await;
            let me = brisk::task::id();
            let m2 = m.clone();
            let line = line!() + 1;
            let waiter = brisk::spawn(async move { *m2.lock().await += 1 });
            while !m.has_waiters() {
                brisk::task::yield_now().await;
            }
            let wp = waiter
                .task()
                .wait_point()
                .expect("waiter records a wait-point");
            assert_eq!(wp.kind, ResourceKind::Mutex);
            assert_eq!(wp.resource, m.resource_id());
            assert_eq!(wp.location.file(), file!());
            assert_eq!(wp.location.line(), line);
            assert_eq!(m.holders().holders, vec![Some(me)]);
            let held = brisk::wait::holders_of(m.resource_id()).expect("published");
            assert_eq!(held.holders, vec![Some(me)]);
            assert_eq!(
                format!("{wp}, held by {held}"),
                format!(
                    "Mutex #{} at {}:{}:{}, held by task #{}",
                    m.resource_id(),
                    file!(),
                    line,
                    wp.location.column(),
                    me.as_u64()
                )
            );
            drop(guard);
            waiter.await.unwrap();
            assert!(m.holders().is_empty());
        })
        .await
        .unwrap()
    });
}

#[test]
fn owned_guard_moves_into_another_task() {
    brisk::run(async {
        let m = Arc::new(Mutex::new(String::new()));
        let g = m.clone().lock_owned().await;
        let t = brisk::spawn(async move {
            let mut g = g;
            g.push_str("from a task");
        });
        t.await.unwrap();
        assert_eq!(*m.lock().await, "from a task");
    });
}

#[test]
fn works_under_tokio_and_futures_block_on() {
    let m = Arc::new(Mutex::new(0u32));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let m2 = m.clone();
    rt.block_on(async move {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let m = m2.clone();
                tokio::spawn(async move {
                    for _ in 0..200 {
                        let mut g = m.lock().await;
                        tokio::task::yield_now().await;
                        *g += 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(futures::executor::block_on(async { *m.lock().await }), 800);
}

#[test]
fn blocking_lock_from_a_plain_thread() {
    within(LIMIT, || {
        brisk::run(async {
            let m = Arc::new(Mutex::new(0));
            let g = m.lock().await;
            let m2 = m.clone();
            let t = std::thread::spawn(move || *m2.blocking_lock() += 1);
            while !m.has_waiters() {
                brisk::task::yield_now().await;
            }
            drop(g);
            brisk::spawn_blocking(move || t.join().unwrap())
                .await
                .unwrap();
            assert_eq!(*m.lock().await, 1);
        })
    });
}

#[test]
fn blocking_lock_inside_a_task_says_what_to_use() {
    brisk::run(async {
        let err = brisk::spawn(async {
            let m = Mutex::new(());
            let _g = m.blocking_lock();
        })
        .await
        .unwrap_err();
        let msg = err.panic_message().unwrap_or_default().to_string();
        assert!(msg.contains("blocking_lock"), "{msg}");
        assert!(msg.contains("spawn_blocking"), "{msg}");
    });
}

/// Many tasks lock, some are cancelled at random points (queued, or just
/// handed the lock): no increment is lost or doubled and the lock ends free.
#[test]
fn stress_with_random_cancellation() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(async {
            let m = Arc::new(Mutex::new(0u64));
            let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let tasks: Vec<_> = (0..32u64)
                .map(|t| {
                    let m = m.clone();
                    let done = done.clone();
                    brisk::spawn(async move {
                        let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (t + 1);
                        for _ in 0..300 {
                            rng ^= rng << 13;
                            rng ^= rng >> 7;
                            rng ^= rng << 17;
                            if rng % 3 == 0 {
                                // Poll once, then cancel.
                                let mut f = Box::pin(m.lock());
                                if let Some(mut g) = (&mut f).now_or_never() {
                                    *g += 1;
                                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                }
                                drop(f);
                            } else {
                                let mut g = m.lock().await;
                                if rng % 5 == 0 {
                                    brisk::task::yield_now().await;
                                }
                                *g += 1;
                                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(
                *m.lock().await,
                done.load(std::sync::atomic::Ordering::Relaxed)
            );
            assert!(!m.has_waiters());
            assert!(m.try_lock().is_ok());
        });
    });
}

#[test]
fn polling_a_finished_lock_future_panics_instead_of_handing_out_a_second_guard() {
    let m = Mutex::new(0);
    let mut cx = Context::from_waker(Waker::noop());
    let mut fut = Box::pin(m.lock());
    let Poll::Ready(guard) = fut.as_mut().poll(&mut cx) else {
        panic!("free mutex not locked")
    };
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = fut.as_mut().poll(&mut cx);
    }));
    let msg = *again.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("polled again after it completed"), "{msg}");
    drop(guard);
    drop(fut);
    // Still exactly one permit.
    let g = m.try_lock().unwrap();
    assert!(m.try_lock().is_err());
    drop(g);
}
