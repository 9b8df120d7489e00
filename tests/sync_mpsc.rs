//! `brisk::sync::mpsc`: ordering, closing, cancel safety, blocking use from
//! plain threads, streams, other executors, wait-points, and a stress test
//! with random cancellation on a multi-thread runtime.

mod support;

use brisk::sync::mpsc::{self, SendError, TryRecvError, TrySendError};
use brisk::wait::ResourceKind;
use futures::StreamExt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use support::{within, LIMIT};

fn noop_cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

/// Counts drops, to see where messages end up.
struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A tiny deterministic generator for the stress test.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.next() % n == 0
    }
}

#[test]
#[should_panic(expected = "capacity of zero")]
fn a_zero_capacity_panics_with_the_fix() {
    let _ = mpsc::channel::<u8>(0);
}

#[test]
fn messages_from_each_sender_arrive_in_order() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(4);
            for p in 0..4u32 {
                let tx = tx.clone();
                brisk::spawn(async move {
                    for seq in 0..500u32 {
                        tx.send((p, seq)).await.unwrap();
                    }
                });
            }
            drop(tx);
            let mut next = [0u32; 4];
            while let Some((p, seq)) = rx.recv().await {
                assert_eq!(seq, next[p as usize], "producer {p} out of order");
                next[p as usize] += 1;
            }
            assert_eq!(next, [500; 4]);
        });
    });
}

#[brisk::test]
async fn recv_returns_none_after_every_sender_is_dropped_and_the_queue_drained() {
    let (tx, mut rx) = mpsc::channel(4);
    let tx2 = tx.clone();
    tx.send(1).await.unwrap();
    drop(tx);
    tx2.send(2).await.unwrap();
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[brisk::test]
async fn a_receiver_waiting_on_an_empty_channel_wakes_when_the_last_sender_drops() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let waiter = brisk::spawn(async move { rx.recv().await });
    brisk::task::yield_now().await;
    drop(tx);
    assert_eq!(waiter.await.unwrap(), None);
}

#[brisk::test]
async fn dropping_the_receiver_fails_a_blocked_sender_with_its_message() {
    let (tx, rx) = mpsc::channel(1);
    tx.send(1).await.unwrap();
    let blocked = brisk::spawn(async move { tx.send(2).await });
    waiting_on_a_channel(&blocked).await;
    drop(rx);
    assert_eq!(blocked.await.unwrap(), Err(SendError(2)));
}

/// Waits until `task` is pending on a channel (its wait-point says so).
async fn waiting_on_a_channel<T>(task: &brisk::JoinHandle<T>) -> brisk::wait::WaitPoint {
    loop {
        if let Some(wp) = task.task().wait_point() {
            if wp.kind == ResourceKind::Channel {
                return wp;
            }
        }
        brisk::task::yield_now().await;
    }
}

#[brisk::test]
async fn close_fails_waiting_and_later_sends_and_keeps_queued_messages() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send("queued").await.unwrap();
    let tx2 = tx.clone();
    let blocked = brisk::spawn(async move { tx2.send("blocked").await });
    brisk::task::yield_now().await;
    rx.close();
    assert_eq!(blocked.await.unwrap(), Err(SendError("blocked")));
    assert_eq!(tx.send("late").await, Err(SendError("late")));
    assert_eq!(tx.try_send("late"), Err(TrySendError::Closed("late")));
    assert!(tx.reserve().await.is_err());
    assert!(tx.is_closed());
    assert_eq!(rx.recv().await, Some("queued"));
    assert_eq!(rx.recv().await, None);
}

#[brisk::test]
async fn sender_closed_completes_when_the_receiver_goes_away() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let (utx, urx) = mpsc::unbounded_channel::<u8>();
    let watchers = brisk::spawn(async move {
        tx.closed().await;
        utx.closed().await;
        (tx.is_closed(), utx.is_closed())
    });
    brisk::task::yield_now().await;
    rx.close();
    drop(urx);
    assert_eq!(watchers.await.unwrap(), (true, true));
}

#[test]
fn a_dropped_closed_future_leaves_nothing_behind() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    {
        let mut closed = pin!(tx.closed());
        assert!(closed.as_mut().poll(&mut noop_cx()).is_pending());
    }
    drop(rx);
    assert!(futures::executor::block_on(async {
        tx.closed().await;
        tx.is_closed()
    }));
}

#[test]
fn dropping_the_receiver_drops_queued_messages() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(4);
    for _ in 0..3 {
        tx.try_send(Tracked(drops.clone())).unwrap();
    }
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    // A send into the closed channel hands the message back...
    let back = tx.try_send(Tracked(drops.clone())).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn a_permit_used_after_the_receiver_closed_drops_the_message_and_the_slot() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    permit.send(Tracked(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(tx.capacity(), 1);
    assert!(rx.try_recv().is_err());
}

#[test]
fn a_dropped_recv_future_loses_no_message() {
    let (tx, mut rx) = mpsc::channel(2);
    {
        let mut recv = pin!(rx.recv());
        assert!(recv.as_mut().poll(&mut noop_cx()).is_pending());
    }
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[brisk::test]
async fn recv_in_a_losing_select_branch_loses_no_message() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut got = Vec::new();
    for i in 0..100 {
        // Each round polls `recv` once, as a `select!` would, and gives up on
        // it if it is not ready; the message sent afterwards must still come.
        if let Poll::Ready(v) = futures::poll!(pin!(rx.recv())) {
            got.push(v.unwrap());
        }
        tx.send(i).unwrap();
    }
    drop(tx);
    while let Some(v) = rx.recv().await {
        got.push(v);
    }
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[test]
fn a_dropped_send_future_sent_nothing_and_frees_its_place() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(Tracked(drops.clone())).unwrap();
    {
        let mut send = pin!(tx.send(Tracked(drops.clone())));
        assert!(send.as_mut().poll(&mut noop_cx()).is_pending());
    }
    // The message was dropped with the future, and nothing was queued.
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(rx.len(), 1);
    drop(rx.try_recv().unwrap());
    assert_eq!(rx.try_recv().err(), Some(TryRecvError::Empty));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn a_reserve_granted_a_slot_and_then_dropped_gives_the_slot_back() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    tx.try_send(1).unwrap();
    let mut reserve = Box::pin(tx.reserve());
    assert!(reserve.as_mut().poll(&mut noop_cx()).is_pending());
    assert_eq!(rx.try_recv(), Ok(1)); // the freed slot goes to `reserve`
    assert_eq!(tx.capacity(), 0);
    drop(reserve);
    assert_eq!(tx.capacity(), 1);
    tx.try_send(2).unwrap();
}

#[test]
fn waiting_senders_are_served_in_arrival_order() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut cx = noop_cx();
    let mut first = Box::pin(tx.send(1));
    let mut second = Box::pin(tx.send(2));
    assert!(first.as_mut().poll(&mut cx).is_pending());
    assert!(second.as_mut().poll(&mut cx).is_pending());
    // A newcomer does not overtake them.
    assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(second.as_mut().poll(&mut cx).is_pending());
    assert!(matches!(first.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(matches!(second.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_a_completed_reserve_again_panics_with_the_fix() {
    let (tx, _rx) = mpsc::channel::<u8>(2);
    let mut reserve = Box::pin(tx.reserve());
    let Poll::Ready(Ok(_permit)) = reserve.as_mut().poll(&mut noop_cx()) else {
        panic!("a free slot is granted at once");
    };
    let _ = reserve.as_mut().poll(&mut noop_cx());
}

#[test]
fn capacity_counts_queued_messages_and_held_permits() {
    let (tx, mut rx) = mpsc::channel::<u8>(3);
    assert_eq!((tx.capacity(), tx.max_capacity()), (3, 3));
    tx.try_send(1).unwrap();
    let permit = tx.try_reserve().unwrap();
    assert_eq!(tx.capacity(), 1);
    assert_eq!(rx.len(), 1);
    permit.send(2);
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.capacity(), 2);
}

#[brisk::test]
async fn owned_permits_move_into_other_tasks() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.clone().reserve_owned().await.unwrap();
    brisk::spawn(async move {
        let tx = permit.send(1);
        tx.send(2).await.unwrap();
    });
    drop(tx);
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);
}

#[brisk::test]
async fn recv_many_takes_up_to_the_limit() {
    let (tx, mut rx) = mpsc::channel(8);
    for i in 0..5 {
        tx.send(i).await.unwrap();
    }
    let mut buf = Vec::new();
    assert_eq!(rx.recv_many(&mut buf, 0).await, 0);
    assert_eq!(rx.recv_many(&mut buf, 2).await, 2);
    assert_eq!(rx.recv_many(&mut buf, 10).await, 3);
    assert_eq!(buf, [0, 1, 2, 3, 4]);
    assert_eq!(tx.capacity(), 8);
    drop(tx);
    assert_eq!(rx.recv_many(&mut buf, 10).await, 0);
}

#[test]
fn send_blocking_on_a_thread_feeds_a_task() {
    within(LIMIT, || {
        let (tx, mut rx) = mpsc::channel(2);
        let producer = std::thread::spawn(move || {
            for i in 0..1_000u32 {
                tx.send_blocking(i).unwrap();
            }
        });
        let got = brisk::run(async move {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        });
        producer.join().unwrap();
        assert_eq!(got, (0..1_000).collect::<Vec<_>>());
    });
}

#[test]
fn recv_blocking_on_a_thread_drains_a_task() {
    within(LIMIT, || {
        let (tx, mut rx) = mpsc::channel(2);
        let (utx, mut urx) = mpsc::unbounded_channel();
        let consumer = std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(v) = rx.recv_blocking() {
                got.push(v);
            }
            let mut ugot = Vec::new();
            while let Some(v) = urx.recv_blocking() {
                ugot.push(v);
            }
            (got, ugot)
        });
        brisk::run(async move {
            for i in 0..1_000u32 {
                tx.send(i).await.unwrap();
                utx.send(i).unwrap();
            }
        });
        let (got, ugot) = consumer.join().unwrap();
        assert_eq!(got, (0..1_000).collect::<Vec<_>>());
        assert_eq!(ugot, got);
    });
}

#[test]
fn send_blocking_inside_a_task_says_what_to_use() {
    brisk::run(async {
        let err = brisk::spawn(async {
            let (tx, _rx) = mpsc::channel(1);
            let _ = tx.send_blocking(1);
        })
        .await
        .unwrap_err();
        let msg = err.panic_message().unwrap_or_default().to_string();
        assert!(msg.contains("send_blocking"), "{msg}");
        assert!(msg.contains("spawn_blocking"), "{msg}");
    });
}

#[brisk::test]
async fn the_receiver_is_a_stream() {
    let (tx, rx) = mpsc::channel(4);
    let (utx, urx) = mpsc::unbounded_channel();
    brisk::spawn(async move {
        for i in 1..=4 {
            tx.send(i).await.unwrap();
            utx.send(i * 10).unwrap();
        }
    });
    let doubled: Vec<i32> = rx.map(|v| v * 2).collect().await;
    assert_eq!(doubled, [2, 4, 6, 8]);
    let sum: i32 = urx.fold(0, |a, v| async move { a + v }).await;
    assert_eq!(sum, 100);
}

#[test]
fn a_recv_loop_that_always_finds_messages_still_lets_other_tasks_run() {
    brisk::run(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..10_000u32 {
            tx.send(i).unwrap();
        }
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        brisk::spawn(async move { r.store(true, Ordering::SeqCst) });
        let mut seen_at = None;
        for i in 0..10_000u32 {
            assert_eq!(rx.recv().await, Some(i));
            if seen_at.is_none() && ran.load(Ordering::SeqCst) {
                seen_at = Some(i);
            }
        }
        assert!(
            seen_at.is_some(),
            "the other task never ran during the loop"
        );
    });
}

#[brisk::test]
async fn waiting_tasks_name_the_channel_in_their_wait_points() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let id = rx.resource_id();
    assert_eq!(tx.resource_id(), id);
    let line = line!() + 1;
    let waiter = brisk::spawn(async move { (rx.recv().await, rx) });
    let wp = waiting_on_a_channel(&waiter).await;
    assert_eq!(wp.resource, id);
    assert_eq!(wp.location.file(), file!());
    assert_eq!(wp.location.line(), line);
    tx.send(1).await.unwrap();
    let (got, mut rx) = waiter.await.unwrap();
    assert_eq!(got, Some(1));

    // A sender blocked on a full channel names it too.
    tx.try_send(2).unwrap();
    let line = line!() + 1;
    let blocked = brisk::spawn(async move { tx.send(3).await });
    let wp = waiting_on_a_channel(&blocked).await;
    assert_eq!((wp.resource, wp.location.line()), (id, line));
    assert_eq!(rx.recv().await, Some(2));
    blocked.await.unwrap().unwrap();
    assert_eq!(rx.recv().await, Some(3));
}

#[test]
fn works_under_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let got = rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        let producer = tokio::spawn(async move {
            for i in 0..100u32 {
                tx.send(i).await.unwrap();
            }
        });
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        producer.await.unwrap();
        got
    });
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[test]
fn works_under_futures_block_on() {
    let (tx, mut rx) = mpsc::channel(1);
    let producer = std::thread::spawn(move || {
        futures::executor::block_on(async {
            for i in 0..100u32 {
                tx.send(i).await.unwrap();
            }
        })
    });
    let got = futures::executor::block_on(async {
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    producer.join().unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[test]
fn errors_carry_the_message_and_display_their_cause() {
    assert_eq!(SendError(3).into_inner(), 3);
    assert_eq!(TrySendError::Full(4).into_inner(), 4);
    assert_eq!(TrySendError::Closed(5).into_inner(), 5);
    assert!(SendError(()).to_string().contains("closed"));
    assert_eq!(TrySendError::Full(()).to_string(), "no available capacity");
    assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
    fn is_error<E: std::error::Error>(_: &E) {}
    is_error(&SendError(()));
    is_error(&TrySendError::Closed(()));
    is_error(&TryRecvError::Disconnected);
}

/// Checks that message `(p, seq)` is the next one expected from producer
/// `p`: a lost message or a duplicate breaks the sequence.
fn check((p, seq): (u64, u64), next: &mut [u64]) {
    assert_eq!(seq, next[p as usize], "producer {p}: lost or duplicated");
    next[p as usize] += 1;
}

/// Many producers, each sending numbered messages with a mix of `send`,
/// `reserve` and `try_send`, and abandoning pending futures at random; the
/// consumer abandons pending receives at random too. Every message must
/// arrive exactly once, in order per producer.
#[test]
fn stress_many_producers_with_random_cancellation_deliver_each_message_once() {
    const PRODUCERS: u64 = 16;
    const PER_PRODUCER: u64 = 2_000;
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        let next = rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<(u64, u64)>(8);
            for p in 0..PRODUCERS {
                let tx = tx.clone();
                brisk::spawn(async move {
                    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (p + 1));
                    let mut seq = 0;
                    while seq < PER_PRODUCER {
                        let msg = (p, seq);
                        let sent = match rng.next() % 4 {
                            0 => tx.try_send(msg).is_ok(),
                            1 => {
                                // Poll `reserve` once; abandon it if pending.
                                let mut reserve = pin!(tx.reserve());
                                match futures::poll!(reserve.as_mut()) {
                                    Poll::Ready(permit) => {
                                        permit.unwrap().send(msg);
                                        true
                                    }
                                    Poll::Pending if rng.one_in(2) => false,
                                    Poll::Pending => {
                                        reserve.await.unwrap().send(msg);
                                        true
                                    }
                                }
                            }
                            2 => {
                                // Poll `send` once; abandoning it drops the
                                // message, which is then sent again.
                                let mut send = pin!(tx.send(msg));
                                match futures::poll!(send.as_mut()) {
                                    Poll::Ready(r) => r.is_ok(),
                                    Poll::Pending if rng.one_in(2) => false,
                                    Poll::Pending => send.await.is_ok(),
                                }
                            }
                            _ => tx.send(msg).await.is_ok(),
                        };
                        if sent {
                            seq += 1;
                        } else {
                            brisk::task::yield_now().await;
                        }
                    }
                });
            }
            drop(tx);
            let mut rng = XorShift(0xDEAD_BEEF);
            let mut next = vec![0u64; PRODUCERS as usize];
            let mut batch = Vec::new();
            loop {
                match rng.next() % 3 {
                    0 => {
                        // Poll `recv` once and abandon it if pending.
                        match futures::poll!(pin!(rx.recv())) {
                            Poll::Ready(Some(m)) => check(m, &mut next),
                            Poll::Ready(None) => break,
                            Poll::Pending => brisk::task::yield_now().await,
                        }
                    }
                    1 => {
                        let n = rx.recv_many(&mut batch, 5).await;
                        if n == 0 {
                            break;
                        }
                        for m in batch.drain(..) {
                            check(m, &mut next);
                        }
                    }
                    _ => match rx.recv().await {
                        Some(m) => check(m, &mut next),
                        None => break,
                    },
                }
            }
            next
        });
        assert_eq!(next, vec![PER_PRODUCER; PRODUCERS as usize]);
    });
}
