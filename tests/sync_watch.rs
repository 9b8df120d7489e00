//! `brisk::sync::watch`: change notification, closing, `wait_for`, cancel
//! safety, streams, wait-points, other executors, and a multi-thread stress
//! test with random cancellation.

mod support;

use brisk::sync::watch;
use brisk::wait::ResourceKind;
use futures::StreamExt;
use std::task::Poll;
use support::{within, LIMIT};

/// A tiny deterministic xorshift, for reproducible "random" choices.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn changed_wakes_a_waiting_receiver_with_the_new_value() {
    brisk::run(async {
        let (tx, mut rx) = watch::channel(0);
        let waiter = brisk::spawn(async move {
            rx.changed().await.unwrap();
            *rx.borrow_and_update()
        });
        brisk::task::yield_now().await;
        tx.send(5).unwrap();
        assert_eq!(waiter.await.unwrap(), 5);
    });
}

#[test]
fn every_receiver_is_told_of_a_change() {
    brisk::run(async {
        let (tx, rx) = watch::channel(0);
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let mut rx = rx.clone();
                brisk::spawn(async move {
                    rx.changed().await.unwrap();
                    *rx.borrow()
                })
            })
            .collect();
        brisk::task::yield_now().await;
        tx.send(1).unwrap();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 1);
        }
    });
}

#[test]
fn closed_after_the_sender_drops_and_the_last_value_is_seen() {
    brisk::run(async {
        let (tx, mut rx) = watch::channel(0);
        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(rx.has_changed(), Ok(true));
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 1);
        let err = rx.changed().await.unwrap_err();
        assert!(err.to_string().contains("sender was dropped"), "{err}");
        assert!(rx.has_changed().is_err());
        let _: &dyn std::error::Error = &err;
    });
}

#[test]
fn dropping_the_sender_wakes_a_waiting_receiver() {
    brisk::run(async {
        let (tx, mut rx) = watch::channel(0);
        let waiter = brisk::spawn(async move { rx.changed().await });
        brisk::task::yield_now().await;
        drop(tx);
        assert!(waiter.await.unwrap().is_err());
    });
}

#[test]
fn send_without_receivers_fails_but_send_replace_stores() {
    let (tx, rx) = watch::channel(0);
    drop(rx);
    assert!(tx.is_closed());
    let err = tx.send(1).unwrap_err();
    assert_eq!(err.0, 1);
    assert!(err.to_string().contains("no receivers"));
    assert_eq!(*tx.borrow(), 0);
    assert_eq!(tx.send_replace(2), 0);
    let rx = tx.subscribe();
    assert_eq!(*rx.borrow(), 2);
    assert_eq!(rx.has_changed(), Ok(false));
}

#[test]
fn sender_closed_resolves_when_every_receiver_is_dropped() {
    brisk::run(async {
        let (tx, rx) = watch::channel(0);
        let rx2 = rx.clone();
        assert_eq!(tx.receiver_count(), 2);
        let closed = brisk::spawn(async move { tx.closed().await });
        brisk::task::yield_now().await;
        drop(rx);
        brisk::task::yield_now().await;
        assert!(!closed.is_finished());
        drop(rx2);
        closed.await.unwrap();
    });
}

#[test]
fn send_if_modified_notifies_only_on_true() {
    brisk::run(async {
        let (tx, mut rx) = watch::channel(1);
        assert!(!tx.send_if_modified(|_| false));
        assert_eq!(rx.has_changed(), Ok(false));
        tx.send_modify(|v| *v += 1);
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 2);
    });
}

#[test]
fn wait_for_checks_the_current_value_then_each_new_one() {
    brisk::run(async {
        let (tx, mut rx) = watch::channel(3);
        assert_eq!(*rx.wait_for(|v| *v == 3).await.unwrap(), 3);
        let waiter = brisk::spawn(async move {
            let mut seen = Vec::new();
            let v = *rx
                .wait_for(|v| {
                    seen.push(*v);
                    *v >= 10
                })
                .await
                .unwrap();
            (v, seen)
        });
        for v in [4, 10] {
            brisk::task::yield_now().await;
            tx.send(v).unwrap();
        }
        let (v, seen) = waiter.await.unwrap();
        assert_eq!(v, 10);
        assert_eq!(seen.first(), Some(&3));
        assert_eq!(seen.last(), Some(&10));
    });
}

#[test]
fn wait_for_errors_after_checking_the_last_value() {
    brisk::run(async {
        let (tx, mut rx) = watch::channel(0);
        tx.send(1).unwrap();
        drop(tx);
        let mut checked = Vec::new();
        let r = rx
            .wait_for(|v| {
                checked.push(*v);
                false
            })
            .await;
        assert!(r.is_err());
        assert_eq!(checked, [1]);
    });
}

#[test]
fn dropping_a_pending_changed_loses_no_change() {
    brisk::run(async {
        let (tx, mut rx) = watch::channel(0);
        {
            let mut changed = rx.changed();
            assert!(futures::poll!(&mut changed).is_pending());
            tx.send(1).unwrap(); // wakes `changed`, which is never polled again
        }
        assert_eq!(rx.has_changed(), Ok(true));
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 1);
    });
}

#[test]
fn mark_changed_and_mark_unchanged_control_the_next_changed() {
    brisk::run(async {
        let (tx, mut rx) = watch::channel(0);
        rx.mark_changed();
        rx.changed().await.unwrap();
        tx.send(1).unwrap();
        rx.mark_unchanged();
        let mut changed = rx.changed();
        assert!(futures::poll!(&mut changed).is_pending());
    });
}

#[test]
fn stream_yields_new_values_then_ends_when_the_sender_drops() {
    brisk::run(async {
        let (tx, mut rx) = watch::channel(0);
        tx.send(1).unwrap();
        assert_eq!(rx.next().await, Some(1));
        tx.send(2).unwrap();
        tx.send(3).unwrap(); // 2 is skipped: only the latest value is kept
        drop(tx);
        assert_eq!(rx.collect::<Vec<_>>().await, [3]);
    });
}

#[test]
fn same_channel_tells_channels_apart() {
    let (_tx, rx) = watch::channel(0);
    let (_tx2, other) = watch::channel(0);
    assert!(rx.same_channel(&rx.clone()));
    assert!(!rx.same_channel(&other));
}

#[brisk::test]
async fn a_waiting_receiver_names_the_channel_in_its_wait_point() {
    let (tx, mut rx) = watch::channel(0);
    let id = tx.resource_id();
    let line = line!() + 1;
    let waiter = brisk::spawn(async move { rx.changed().await });
    let wp = loop {
        if let Some(wp) = waiter.task().wait_point() {
            if wp.kind == ResourceKind::Channel {
                break wp;
            }
        }
        brisk::task::yield_now().await;
    };
    assert_eq!(wp.resource, id);
    assert_eq!(wp.location.file(), file!());
    assert_eq!(wp.location.line(), line);
    tx.send(1).unwrap();
    assert_eq!(waiter.await.unwrap(), Ok(()));
}

#[test]
fn works_under_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let got = rt.block_on(async {
        let (tx, mut rx) = watch::channel(0);
        let t = tokio::spawn(async move { *rx.wait_for(|v| *v == 2).await.unwrap() });
        tx.send(1).unwrap();
        tokio::task::yield_now().await;
        tx.send(2).unwrap();
        t.await.unwrap()
    });
    assert_eq!(got, 2);
}

#[test]
fn works_under_futures_block_on() {
    let (tx, mut rx) = watch::channel(0);
    let t = std::thread::spawn(move || {
        for i in 1..=3 {
            tx.send(i).unwrap();
        }
    });
    let last = futures::executor::block_on(async {
        while rx.changed().await.is_ok() {}
        *rx.borrow()
    });
    t.join().unwrap();
    assert_eq!(last, 3);
}

/// One sender, six receivers on four workers; receivers cancel a third of
/// their `changed()`s after one poll. Each receiver sees strictly increasing
/// values, ends on the final value, and then gets an error.
#[test]
fn stress_multi_thread_with_random_cancellation() {
    const LAST: u64 = 5_000;
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, rx) = watch::channel(0u64);
            let readers: Vec<_> = (0..6u64)
                .map(|i| {
                    let mut rx = rx.clone();
                    brisk::spawn(async move {
                        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (i + 1));
                        let mut last = 0;
                        loop {
                            let r = if rng.next() % 3 == 0 {
                                let mut changed = rx.changed();
                                match futures::poll!(&mut changed) {
                                    Poll::Ready(r) => r,
                                    Poll::Pending => continue, // dropped
                                }
                            } else {
                                rx.changed().await
                            };
                            if r.is_err() {
                                return last;
                            }
                            let v = *rx.borrow_and_update();
                            assert!(v > last, "{v} after {last}");
                            last = v;
                        }
                    })
                })
                .collect();
            drop(rx);
            let mut rng = XorShift(0xDEAD_BEEF);
            for v in 1..=LAST {
                tx.send(v).unwrap();
                if rng.next() % 4 == 0 {
                    brisk::task::yield_now().await;
                }
            }
            drop(tx);
            for r in readers {
                assert_eq!(r.await.unwrap(), LAST);
            }
        });
    });
}
