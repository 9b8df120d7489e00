//! `brisk::sync::Semaphore`: FIFO with partial grants, closing, cancel safety,
//! holders, and a stress run that checks no permit is lost.

mod support;

use brisk::sync::{AcquireError, Semaphore, TryAcquireError};
use futures::FutureExt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use support::{within, LIMIT};

#[test]
fn a_big_request_is_not_overtaken_by_small_ones() {
    let sem = Semaphore::new(3);
    let mut cx = Context::from_waker(Waker::noop());
    let held = sem.try_acquire_many(3).unwrap();
    let mut big = Box::pin(sem.acquire_many(3));
    assert!(big.as_mut().poll(&mut cx).is_pending());
    drop(held);
    // All three permits went to the queued request, none to a newcomer.
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    let Poll::Ready(Ok(p)) = big.as_mut().poll(&mut cx) else {
        panic!("queued request not served")
    };
    assert_eq!(p.num_permits(), 3);
    drop(p);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn permits_trickle_to_the_front_waiter() {
    let sem = Semaphore::new(2);
    let mut cx = Context::from_waker(Waker::noop());
    let a = sem.try_acquire().unwrap();
    let b = sem.try_acquire().unwrap();
    let mut big = Box::pin(sem.acquire_many(2));
    let mut small = Box::pin(sem.acquire());
    assert!(big.as_mut().poll(&mut cx).is_pending());
    assert!(small.as_mut().poll(&mut cx).is_pending());
    drop(a);
    // One permit collected by `big`; `small` still waits behind it.
    assert!(big.as_mut().poll(&mut cx).is_pending());
    assert!(small.as_mut().poll(&mut cx).is_pending());
    // Cancelling `big` gives its collected permit to `small`.
    drop(big);
    assert!(small.as_mut().poll(&mut cx).is_ready());
    drop(b);
    drop(small);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn close_fails_waiters_and_later_acquires() {
    brisk::run(async {
        let sem = Arc::new(Semaphore::new(0));
        let s2 = sem.clone();
        let waiter = brisk::spawn(async move { s2.acquire().await.map(|_| ()) });
        while !sem.has_waiters() {
            brisk::task::yield_now().await;
        }
        sem.close();
        assert!(matches!(waiter.await.unwrap(), Err(AcquireError { .. })));
        assert!(sem.acquire().await.is_err());
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
        assert_eq!(
            sem.acquire().await.unwrap_err().to_string(),
            "the semaphore is closed"
        );
    });
}

#[test]
fn forget_and_add_permits() {
    let sem = Semaphore::new(2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
    sem.add_permits(4);
    assert_eq!(sem.available_permits(), 5);
    assert_eq!(sem.forget_permits(10), 5);
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn holders_list_the_tasks_with_permits() {
    brisk::run(async {
        let sem = Arc::new(Semaphore::new(8));
        let mut ids = Vec::new();
        let mut releases = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let sem = sem.clone();
            let (tx, rx) = futures::channel::oneshot::channel::<()>();
            releases.push(tx);
            let t = brisk::spawn(async move {
                let _p = sem.acquire_owned().await.unwrap();
                let _ = rx.await;
            });
            ids.push(t.id());
            tasks.push(t);
        }
        while sem.available_permits() > 2 {
            brisk::task::yield_now().await;
        }
        let h = sem.holders();
        // Four named, the rest counted.
        assert_eq!(h.holders.len() + h.more, 6);
        assert_eq!(h.holders.len(), brisk::wait::HOLDER_SLOTS);
        for holder in &h.holders {
            assert!(ids.contains(&holder.unwrap()));
        }
        drop(releases);
        for t in tasks {
            t.await.unwrap();
        }
        assert!(sem.holders().is_empty());
    });
}

#[test]
fn works_under_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let sem = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let sem = sem.clone();
                let inside = inside.clone();
                tokio::spawn(async move {
                    for _ in 0..50 {
                        let _p = sem.acquire().await.unwrap();
                        assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
                        tokio::task::yield_now().await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(sem.available_permits(), 2);
}

/// Random sizes, random cancellation: never more than the limit inside,
/// and every permit comes back.
#[test]
fn stress_no_permit_lost() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(async {
            const LIMIT_PERMITS: usize = 5;
            let sem = Arc::new(Semaphore::new(LIMIT_PERMITS));
            let inside = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..24u64)
                .map(|t| {
                    let sem = sem.clone();
                    let inside = inside.clone();
                    brisk::spawn(async move {
                        let mut rng = 0xD1B5_4A32_D192_ED03u64 ^ (t + 1);
                        for _ in 0..300 {
                            rng ^= rng << 13;
                            rng ^= rng >> 7;
                            rng ^= rng << 17;
                            let n = (rng % 3 + 1) as u32;
                            let mut f = Box::pin(sem.acquire_many(n));
                            let permit = if rng % 4 == 0 {
                                match (&mut f).now_or_never() {
                                    Some(p) => p.unwrap(),
                                    None => continue, // cancelled while queued
                                }
                            } else {
                                f.await.unwrap()
                            };
                            let now = inside.fetch_add(n as usize, Ordering::SeqCst) + n as usize;
                            assert!(now <= LIMIT_PERMITS, "{now} permits out");
                            brisk::task::yield_now().await;
                            inside.fetch_sub(n as usize, Ordering::SeqCst);
                            drop(permit);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(sem.available_permits(), LIMIT_PERMITS);
            assert!(!sem.has_waiters());
        });
    });
}

#[test]
fn adding_too_many_permits_panics_with_the_limit() {
    let sem = Semaphore::new(5);
    let err =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sem.add_permits(usize::MAX)))
            .unwrap_err();
    let msg = *err.downcast::<String>().unwrap();
    assert!(msg.contains("MAX_PERMITS"), "{msg}");
    assert_eq!(sem.available_permits(), 5);
}
