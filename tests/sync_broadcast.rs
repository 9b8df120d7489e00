//! `brisk::sync::broadcast`: delivery to every receiver in order, lagging,
//! closing, cancel safety, streams, wait-points, other executors, and a
//! multi-thread stress test with random cancellation.

mod support;

use brisk::sync::broadcast::{self, RecvError, TryRecvError};
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
fn every_receiver_sees_every_message_in_order() {
    brisk::run(async {
        let (tx, rx) = broadcast::channel(64);
        let mut receivers = vec![rx];
        for _ in 0..3 {
            receivers.push(tx.subscribe());
        }
        let tasks: Vec<_> = receivers
            .into_iter()
            .map(|mut rx| {
                brisk::spawn(async move {
                    let mut seen = Vec::new();
                    while let Ok(v) = rx.recv().await {
                        seen.push(v);
                    }
                    seen
                })
            })
            .collect();
        for i in 0..50u32 {
            assert_eq!(tx.send(i).unwrap(), 4);
            brisk::task::yield_now().await;
        }
        drop(tx);
        for t in tasks {
            assert_eq!(t.await.unwrap(), (0..50).collect::<Vec<_>>());
        }
    });
}

#[test]
fn a_receiver_that_falls_behind_gets_lagged_once_then_the_oldest_kept() {
    brisk::run(async {
        let (tx, mut rx) = broadcast::channel(2);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 5);
        assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
        assert_eq!(rx.recv().await, Ok(3));
        assert_eq!(rx.recv().await, Ok(4));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

#[test]
fn lagged_error_displays_the_number_missed() {
    let (tx, mut rx) = broadcast::channel(1);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let err = rx.try_recv().unwrap_err();
    assert_eq!(err, TryRecvError::Lagged(1));
    assert!(err.to_string().contains("missed 1 messages"), "{err}");
    let _: &dyn std::error::Error = &err;
}

#[test]
fn closed_only_after_the_last_sender_drops_and_the_receiver_drains() {
    brisk::run(async {
        let (tx, mut rx) = broadcast::channel(4);
        let tx2 = tx.clone();
        tx.send(1).unwrap();
        drop(tx);
        tx2.send(2).unwrap();
        drop(tx2);
        assert_eq!(rx.recv().await, Ok(1));
        assert_eq!(rx.recv().await, Ok(2));
        let err = rx.recv().await.unwrap_err();
        assert_eq!(err, RecvError::Closed);
        assert!(err.to_string().contains("closed"));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

#[test]
fn dropping_the_last_sender_wakes_a_waiting_receiver() {
    brisk::run(async {
        let (tx, mut rx) = broadcast::channel::<u8>(4);
        let waiter = brisk::spawn(async move { rx.recv().await });
        brisk::task::yield_now().await;
        drop(tx);
        assert_eq!(waiter.await.unwrap(), Err(RecvError::Closed));
    });
}

#[test]
fn send_without_receivers_returns_the_message() {
    let (tx, rx) = broadcast::channel(4);
    drop(rx);
    let err = tx.send(String::from("lost?")).unwrap_err();
    assert_eq!(err.0, "lost?");
    assert!(err.to_string().contains("no receivers"));
}

#[test]
fn sender_closed_resolves_when_every_receiver_is_dropped() {
    brisk::run(async {
        let (tx, rx) = broadcast::channel::<u8>(4);
        let rx2 = rx.resubscribe();
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
#[should_panic(expected = "capacity of zero")]
fn zero_capacity_panics_with_a_fix() {
    let _ = broadcast::channel::<u8>(0);
}

#[test]
fn dropping_a_pending_recv_loses_no_message() {
    brisk::run(async {
        let (tx, mut rx) = broadcast::channel(4);
        {
            let mut recv = rx.recv();
            assert!(futures::poll!(&mut recv).is_pending());
        }
        tx.send(1).unwrap();
        assert_eq!(rx.recv().await, Ok(1));
    });
}

#[test]
fn dropping_a_woken_recv_before_it_looks_loses_no_message() {
    brisk::run(async {
        let (tx, mut rx) = broadcast::channel(4);
        {
            let mut recv = rx.recv();
            assert!(futures::poll!(&mut recv).is_pending());
            tx.send(1).unwrap(); // wakes `recv`, which is never polled again
        }
        assert_eq!(rx.recv().await, Ok(1));
        assert!(tx.is_empty());
    });
}

#[test]
fn stream_yields_messages_and_lag_then_ends_on_close() {
    brisk::run(async {
        let (tx, rx) = broadcast::channel(2);
        for i in 0..4 {
            tx.send(i).unwrap();
        }
        drop(tx);
        let items: Vec<_> = rx.collect().await;
        assert_eq!(items, vec![Err(RecvError::Lagged(2)), Ok(2), Ok(3)]);
    });
}

#[brisk::test]
async fn a_waiting_receiver_names_the_channel_in_its_wait_point() {
    let (tx, mut rx) = broadcast::channel::<u8>(4);
    let id = tx.resource_id();
    let line = line!() + 1;
    let waiter = brisk::spawn(async move { rx.recv().await });
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
    tx.send(9).unwrap();
    assert_eq!(waiter.await.unwrap(), Ok(9));
}

#[test]
fn works_under_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let got = rt.block_on(async {
        let (tx, mut rx) = broadcast::channel(4);
        let t = tokio::spawn(async move { (rx.recv().await, rx.recv().await) });
        tokio::task::yield_now().await;
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        t.await.unwrap()
    });
    assert_eq!(got, (Ok(1), Ok(2)));
}

#[test]
fn works_under_futures_block_on() {
    let (tx, mut rx) = broadcast::channel(4);
    let t = std::thread::spawn(move || {
        for i in 0..3 {
            tx.send(i).unwrap();
        }
    });
    let got = futures::executor::block_on(async {
        let mut got = Vec::new();
        while let Ok(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    t.join().unwrap();
    assert_eq!(got, [0, 1, 2]);
}

#[test]
fn recv_blocking_serves_plain_threads() {
    let (tx, mut rx) = broadcast::channel(4);
    let t = std::thread::spawn(move || {
        let a = rx.recv_blocking();
        let b = rx.recv_blocking();
        (a, b)
    });
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(t.join().unwrap(), (Ok(1), Err(RecvError::Closed)));
}

/// Two senders, six receivers on four workers; receivers cancel a third of
/// their `recv`s after one poll. Every receiver accounts for every message
/// exactly once (received or reported lagged), sees each sender's messages
/// in order, and ends with `Closed`.
#[test]
fn stress_multi_thread_with_random_cancellation() {
    const PER_SENDER: u64 = 2_000;
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, rx) = broadcast::channel::<(u64, u64)>(8);
            let mut receivers = vec![rx];
            for _ in 0..5 {
                receivers.push(tx.subscribe());
            }
            let readers: Vec<_> = receivers
                .into_iter()
                .enumerate()
                .map(|(i, mut rx)| {
                    brisk::spawn(async move {
                        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
                        let mut last = [None::<u64>; 2];
                        let (mut received, mut lagged) = (0u64, 0u64);
                        loop {
                            let r = if rng.next() % 3 == 0 {
                                let mut recv = rx.recv();
                                match futures::poll!(&mut recv) {
                                    Poll::Ready(r) => r,
                                    Poll::Pending => continue, // dropped
                                }
                            } else {
                                rx.recv().await
                            };
                            match r {
                                Ok((sender, n)) => {
                                    let s = sender as usize;
                                    assert!(last[s].is_none_or(|l| l < n), "out of order");
                                    last[s] = Some(n);
                                    received += 1;
                                }
                                Err(RecvError::Lagged(n)) => lagged += n,
                                Err(RecvError::Closed) => break,
                            }
                        }
                        (received, lagged)
                    })
                })
                .collect();
            let senders: Vec<_> = (0..2u64)
                .map(|s| {
                    let tx = tx.clone();
                    brisk::spawn(async move {
                        let mut rng = XorShift(0xDEAD_BEEF ^ (s + 7));
                        for n in 0..PER_SENDER {
                            tx.send((s, n)).unwrap();
                            if rng.next() % 4 == 0 {
                                brisk::task::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            drop(tx);
            for s in senders {
                s.await.unwrap();
            }
            for r in readers {
                let (received, lagged) = r.await.unwrap();
                assert_eq!(received + lagged, 2 * PER_SENDER);
            }
        });
    });
}
