//! `brisk::sync::oneshot`: delivery, closing from either side, cancel
//! safety, blocking use from plain threads, other executors, wait-points.

mod support;

use brisk::sync::oneshot::{self, RecvError, TryRecvError};
use brisk::wait::ResourceKind;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use support::{within, LIMIT};

#[brisk::test]
async fn a_sent_value_arrives() {
    let (tx, rx) = oneshot::channel();
    brisk::spawn(async move { tx.send(String::from("paid")).unwrap() });
    assert_eq!(rx.await.as_deref(), Ok("paid"));
}

#[brisk::test]
async fn dropping_the_sender_without_sending_wakes_the_receiver_with_an_error() {
    let (tx, rx) = oneshot::channel::<u32>();
    let waiter = brisk::spawn(rx);
    brisk::task::yield_now().await;
    drop(tx);
    let err: RecvError = waiter.await.unwrap().unwrap_err();
    assert!(err.to_string().contains("dropped without sending"));
}

fn recv_error() -> RecvError {
    let (tx, rx) = oneshot::channel::<()>();
    drop(tx);
    futures::executor::block_on(rx).unwrap_err()
}

#[test]
fn send_to_a_dropped_receiver_returns_the_value() {
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(vec![1, 2]), Err(vec![1, 2]));
}

#[test]
fn close_refuses_later_sends_but_keeps_an_earlier_value() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(1).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(1));

    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert_eq!(tx.send(2), Err(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn try_recv_reports_empty_then_the_value_then_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send('x').unwrap();
    assert_eq!(rx.try_recv(), Ok('x'));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[brisk::test]
async fn sender_closed_completes_when_the_receiver_is_dropped() {
    let (mut tx, rx) = oneshot::channel::<u32>();
    let watcher = brisk::spawn(async move {
        tx.closed().await;
        tx.is_closed()
    });
    brisk::task::yield_now().await;
    drop(rx);
    assert!(watcher.await.unwrap());
}

#[brisk::test]
async fn sender_closed_completes_when_the_receiver_closes() {
    let (mut tx, mut rx) = oneshot::channel::<u32>();
    let watcher = brisk::spawn(async move {
        tx.closed().await;
        tx.send(1)
    });
    brisk::task::yield_now().await;
    rx.close();
    assert_eq!(watcher.await.unwrap(), Err(1));
}

#[brisk::test]
async fn polling_the_receiver_and_dropping_that_poll_loses_nothing() {
    let (tx, mut rx) = oneshot::channel();
    // A `select!` branch that loses: `&mut rx` is polled once, then dropped.
    assert!(futures::poll!(&mut rx).is_pending());
    tx.send(5).unwrap();
    assert_eq!(rx.await, Ok(5));
}

#[test]
fn a_replaced_waker_is_the_one_woken() {
    struct Count(AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let first = Arc::new(Count(AtomicUsize::new(0)));
    let second = Arc::new(Count(AtomicUsize::new(0)));
    let (tx, mut rx) = oneshot::channel();
    let w1 = Waker::from(first.clone());
    let w2 = Waker::from(second.clone());
    assert!(Pin::new(&mut rx)
        .poll(&mut Context::from_waker(&w1))
        .is_pending());
    assert!(Pin::new(&mut rx)
        .poll(&mut Context::from_waker(&w2))
        .is_pending());
    tx.send(1).unwrap();
    assert_eq!(first.0.load(Ordering::SeqCst), 0);
    assert_eq!(second.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        Pin::new(&mut rx).poll(&mut Context::from_waker(Waker::noop())),
        Poll::Ready(Ok(1))
    );
}

#[test]
fn recv_blocking_on_a_thread_receives_from_a_task() {
    within(LIMIT, || {
        let (tx, rx) = oneshot::channel();
        let thread = std::thread::spawn(move || rx.recv_blocking());
        brisk::run(async move {
            brisk::spawn(async move { tx.send(11).unwrap() })
                .await
                .unwrap();
        });
        assert_eq!(thread.join().unwrap(), Ok(11));
    });
}

#[test]
fn a_task_receives_from_a_plain_thread() {
    within(LIMIT, || {
        let (tx, rx) = oneshot::channel();
        let thread = std::thread::spawn(move || tx.send(12).unwrap());
        assert_eq!(brisk::run(rx), Ok(12));
        thread.join().unwrap();
    });
}

#[test]
fn recv_blocking_inside_a_task_says_what_to_use() {
    brisk::run(async {
        let err = brisk::spawn(async {
            let (_tx, rx) = oneshot::channel::<()>();
            let _ = rx.recv_blocking();
        })
        .await
        .unwrap_err();
        let msg = err.panic_message().unwrap_or_default().to_string();
        assert!(msg.contains("recv_blocking"), "{msg}");
        assert!(msg.contains("spawn_blocking"), "{msg}");
    });
}

#[test]
fn works_under_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let got = rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        let t = tokio::spawn(rx);
        tokio::task::yield_now().await;
        tx.send(3).unwrap();
        t.await.unwrap()
    });
    assert_eq!(got, Ok(3));
}

#[test]
fn works_under_futures_block_on() {
    let (tx, rx) = oneshot::channel();
    let thread = std::thread::spawn(move || tx.send(4).unwrap());
    assert_eq!(futures::executor::block_on(rx), Ok(4));
    thread.join().unwrap();
}

#[brisk::test]
async fn a_waiting_receiver_names_the_channel_in_its_wait_point() {
    let line = line!() + 1;
    let (tx, rx) = oneshot::channel::<u8>();
    let id = rx.resource_id();
    assert_eq!(id, tx.resource_id());
    let waiter = brisk::spawn(rx);
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
fn many_channels_across_worker_threads_each_deliver_once() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        let sum = rt.block_on(async {
            let mut receivers = Vec::new();
            for i in 0..2_000u64 {
                let (tx, rx) = oneshot::channel();
                brisk::spawn(async move {
                    let _ = tx.send(i);
                });
                receivers.push(brisk::spawn(rx));
            }
            let mut sum = 0;
            for r in receivers {
                sum += r.await.unwrap().unwrap();
            }
            sum
        });
        assert_eq!(sum, 1_999_000);
    });
}

#[test]
fn errors_display_their_cause() {
    assert!(recv_error().to_string().contains("closed"));
    assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
    assert_eq!(TryRecvError::Closed.to_string(), "channel closed");
    fn is_error<E: std::error::Error>(_: &E) {}
    is_error(&recv_error());
    is_error(&TryRecvError::Empty);
}
