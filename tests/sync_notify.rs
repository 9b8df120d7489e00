//! `brisk::sync::Notify`: permits, `notify_one` order, `notify_waiters`,
//! cancel safety, wait-points, and use on other executors and plain threads.

mod support;

use brisk::sync::Notify;
use brisk::wait::ResourceKind;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use support::{within, LIMIT};

#[test]
fn notify_one_with_nobody_waiting_stores_a_permit() {
    brisk::run(async {
        let notify = Notify::new();
        notify.notify_one();
        let wait = pin!(notify.notified());
        assert!(futures::poll!(wait).is_ready());
    });
}

#[test]
fn permits_do_not_add_up() {
    brisk::run(async {
        let notify = Notify::new();
        notify.notify_one();
        notify.notify_one();
        notify.notified().await;
        let second = pin!(notify.notified());
        assert!(futures::poll!(second).is_pending());
    });
}

#[test]
fn notify_one_wakes_a_waiting_task() {
    within(LIMIT, || {
        for (_name, rt) in support::runtimes() {
            rt.block_on(async {
                let notify = Arc::new(Notify::new());
                let n = notify.clone();
                let waiter = brisk::spawn(async move { n.notified().await });
                loop {
                    let kind = waiter.task().wait_point().map(|w| w.kind);
                    if kind == Some(ResourceKind::Notify) {
                        break;
                    }
                    brisk::task::yield_now().await;
                }
                notify.notify_one();
                waiter.await.unwrap();
            });
        }
    });
}

#[test]
fn notify_one_serves_waiters_in_arrival_order() {
    brisk::run(async {
        let notify = Notify::new();
        let mut first = pin!(notify.notified());
        let mut second = pin!(notify.notified());
        assert!(futures::poll!(second.as_mut()).is_pending()); // queued first
        assert!(futures::poll!(first.as_mut()).is_pending());
        notify.notify_one();
        assert!(futures::poll!(second.as_mut()).is_ready());
        assert!(futures::poll!(first.as_mut()).is_pending());
    });
}

#[test]
fn a_notification_to_a_waiter_stores_no_permit() {
    brisk::run(async {
        let notify = Notify::new();
        let mut wait = pin!(notify.notified());
        assert!(!wait.as_mut().enable());
        notify.notify_one();
        assert!(wait.as_mut().enable());
        let later = pin!(notify.notified());
        assert!(futures::poll!(later).is_pending());
    });
}

#[test]
fn notify_waiters_wakes_every_future_created_before_it_even_unpolled() {
    brisk::run(async {
        let notify = Notify::new();
        let mut polled = pin!(notify.notified());
        let unpolled = notify.notified();
        assert!(futures::poll!(polled.as_mut()).is_pending());
        notify.notify_waiters();
        assert!(futures::poll!(polled).is_ready());
        assert!(futures::poll!(pin!(unpolled)).is_ready());
    });
}

#[test]
fn notify_waiters_stores_no_permit() {
    brisk::run(async {
        let notify = Notify::new();
        notify.notify_waiters();
        let after = pin!(notify.notified());
        assert!(futures::poll!(after).is_pending());
    });
}

#[test]
fn notify_waiters_leaves_a_stored_permit_in_place() {
    brisk::run(async {
        let notify = Notify::new();
        notify.notify_one();
        notify.notify_waiters();
        let after = pin!(notify.notified());
        assert!(futures::poll!(after).is_ready());
    });
}

#[test]
fn enable_reports_a_stored_permit() {
    let notify = Notify::new();
    notify.notify_one();
    let mut wait = pin!(notify.notified());
    assert!(wait.as_mut().enable());
    futures::executor::block_on(wait);
}

#[test]
fn dropping_a_chosen_waiter_passes_the_notification_to_the_next() {
    brisk::run(async {
        let notify = Notify::new();
        let mut first = Box::pin(notify.notified());
        let mut second = pin!(notify.notified());
        assert!(futures::poll!(first.as_mut()).is_pending());
        assert!(futures::poll!(second.as_mut()).is_pending());
        notify.notify_one(); // picks `first`, which never looks
        drop(first);
        assert!(futures::poll!(second).is_ready());
    });
}

#[test]
fn dropping_a_chosen_waiter_with_nobody_behind_restores_the_permit() {
    brisk::run(async {
        let notify = Notify::new();
        let mut first = Box::pin(notify.notified());
        assert!(futures::poll!(first.as_mut()).is_pending());
        notify.notify_one();
        drop(first);
        let next = pin!(notify.notified());
        assert!(futures::poll!(next).is_ready());
    });
}

#[test]
fn dropping_a_queued_waiter_leaves_the_queue() {
    brisk::run(async {
        let notify = Notify::new();
        let mut gone = Box::pin(notify.notified());
        assert!(futures::poll!(gone.as_mut()).is_pending());
        drop(gone);
        notify.notify_one(); // nobody queued now: stored as a permit
        let next = pin!(notify.notified());
        assert!(futures::poll!(next).is_ready());
    });
}

#[test]
fn dropping_a_waiter_woken_by_notify_waiters_passes_nothing_on() {
    brisk::run(async {
        let notify = Notify::new();
        let mut woken = Box::pin(notify.notified());
        assert!(futures::poll!(woken.as_mut()).is_pending());
        notify.notify_waiters();
        drop(woken);
        let next = pin!(notify.notified());
        assert!(futures::poll!(next).is_pending());
    });
}

#[test]
fn owned_notified_is_static_and_can_be_spawned() {
    brisk::run(async {
        let notify = Arc::new(Notify::new());
        let mut wait = Box::pin(notify.clone().notified_owned());
        assert!(!wait.as_mut().enable());
        let task = brisk::spawn(wait);
        notify.notify_one();
        task.await.unwrap();
    });
}

#[test]
fn a_waiting_task_names_the_notify_and_the_line() {
    brisk::run(async {
        brisk::spawn(async {
            let notify = Arc::new(Notify::new());
            let n = notify.clone();
            let line = line!() + 1;
            let waiter = brisk::spawn(async move { n.notified().await });
            let wp = loop {
                let wp = waiter.task().wait_point();
                match wp {
                    Some(wp) if wp.kind == ResourceKind::Notify => break wp,
                    _ => brisk::task::yield_now().await,
                }
            };
            assert_eq!(wp.resource, notify.resource_id());
            assert_eq!(wp.location.file(), file!());
            assert_eq!(wp.location.line(), line);
            notify.notify_one();
            waiter.await.unwrap();
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
    rt.block_on(async {
        let ping = Arc::new(Notify::new());
        let pong = Arc::new(Notify::new());
        let (pi, po) = (ping.clone(), pong.clone());
        let task = tokio::spawn(async move {
            for _ in 0..100 {
                pi.notified().await;
                po.notify_one();
            }
        });
        for _ in 0..100 {
            ping.notify_one();
            pong.notified().await;
        }
        task.await.unwrap();
    });
}

#[test]
fn works_under_futures_block_on_with_a_plain_thread() {
    within(LIMIT, || {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let t = std::thread::spawn(move || n.notify_one());
        futures::executor::block_on(notify.notified());
        t.join().unwrap();
    });
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A producer hands out items one at a time (each with one `notify_one`,
/// then waits for an acknowledgement); consumers wait for items (enable,
/// re-check, await); other tasks keep queueing `Notified` futures ahead of
/// them and cancelling them at random. A `notify_one` lost to a cancellation
/// would leave an item behind with every consumer asleep: the test would
/// hang.
#[test]
fn stress_no_wake_up_lost_to_random_cancellation() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(async {
            const ITEMS: u64 = 3_000;
            let notify = Arc::new(Notify::new());
            let ack = Arc::new(Notify::new());
            let items = Arc::new(AtomicU64::new(0));
            let consumed = Arc::new(AtomicU64::new(0));
            let done = Arc::new(AtomicBool::new(false));

            let mut tasks = Vec::new();
            for _ in 0..3 {
                let (notify, ack, items) = (notify.clone(), ack.clone(), items.clone());
                let (consumed, done) = (consumed.clone(), done.clone());
                tasks.push(brisk::spawn(async move {
                    loop {
                        if done.load(Ordering::Acquire) {
                            return;
                        }
                        let took = items
                            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| v.checked_sub(1))
                            .is_ok();
                        if took {
                            consumed.fetch_add(1, Ordering::AcqRel);
                            ack.notify_one();
                            continue;
                        }
                        let mut wait = pin!(notify.notified());
                        wait.as_mut().enable();
                        if done.load(Ordering::Acquire) || items.load(Ordering::Acquire) > 0 {
                            continue; // dropped: passes on anything it got
                        }
                        wait.await;
                    }
                }));
            }
            for c in 0..4u64 {
                let (notify, done) = (notify.clone(), done.clone());
                tasks.push(brisk::spawn(async move {
                    let mut rng = 0xD1B5_4A32_D192_ED03u64 ^ (c + 1);
                    while !done.load(Ordering::Acquire) {
                        let mut wait = Box::pin(notify.notified());
                        match xorshift(&mut rng) % 3 {
                            0 => {
                                let _ = futures::poll!(wait.as_mut());
                                brisk::task::yield_now().await;
                            }
                            1 => {
                                wait.as_mut().enable();
                                brisk::task::yield_now().await;
                            }
                            _ => {}
                        }
                        drop(wait); // cancelled, possibly after being picked
                        brisk::task::yield_now().await;
                    }
                }));
            }
            for _ in 0..ITEMS {
                items.fetch_add(1, Ordering::AcqRel);
                notify.notify_one();
                ack.notified().await;
            }
            done.store(true, Ordering::Release);
            notify.notify_waiters();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(consumed.load(Ordering::Acquire), ITEMS);
            assert_eq!(items.load(Ordering::Acquire), 0);
        });
    });
}
