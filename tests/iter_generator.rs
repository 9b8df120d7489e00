//! `brisk::iter::stream` / `try_stream`: order of hand-over, early drop,
//! awaiting inside the producer, errors, `Send`, and misuse.

use brisk::iter::{self, AsyncIteratorExt, Yielder};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, event: impl Into<String>) {
    log.lock().unwrap().push(event.into());
}

#[brisk::test]
async fn consumer_receives_each_item_before_the_producer_continues() {
    let log = Log::default();
    let producer_log = log.clone();
    let mut it = iter::stream(move |y| async move {
        for i in 1..=3 {
            push(&producer_log, format!("produce {i}"));
            y.yield_(i).await;
        }
        push(&producer_log, "producer done");
    });
    while let Some(i) = it.next().await {
        push(&log, format!("got {i}"));
    }
    assert_eq!(
        *log.lock().unwrap(),
        [
            "produce 1",
            "got 1",
            "produce 2",
            "got 2",
            "produce 3",
            "got 3",
            "producer done"
        ]
    );
    assert_eq!(it.next().await, None, "stays ended");
}

struct OnDrop(Log);

impl Drop for OnDrop {
    fn drop(&mut self) {
        push(&self.0, "producer dropped");
    }
}

#[brisk::test]
async fn dropping_the_iterator_drops_the_producer_where_it_stopped() {
    let log = Log::default();
    let producer_log = log.clone();
    let mut it = iter::stream(move |y| async move {
        let _guard = OnDrop(producer_log.clone());
        for i in 1..=5 {
            push(&producer_log, format!("produce {i}"));
            y.yield_(i).await;
        }
    });
    assert_eq!(it.next().await, Some(1));
    assert_eq!(it.next().await, Some(2));
    drop(it);
    assert_eq!(
        *log.lock().unwrap(),
        ["produce 1", "produce 2", "producer dropped"]
    );
}

#[brisk::test]
async fn the_producer_can_await_between_items() {
    let it = iter::stream(|y| async move {
        for i in 0..3u64 {
            brisk::time::sleep(Duration::from_millis(2)).await;
            brisk::task::yield_now().await;
            y.yield_(i).await;
        }
    });
    let v: Vec<u64> = it.collect().await;
    assert_eq!(v, [0, 1, 2]);
}

#[brisk::test]
async fn an_abandoned_yield_does_not_lose_or_reorder_items() {
    // A `yield_` future polled once (item in the slot) and then abandoned:
    // the item still comes out, before the next one.
    let v: Vec<u32> = iter::stream(|y| async move {
        let mut first = std::pin::pin!(y.yield_(1));
        std::future::poll_fn(|cx| {
            let _ = first.as_mut().poll(cx);
            std::task::Poll::Ready(())
        })
        .await;
        y.yield_(2).await;
    })
    .collect()
    .await;
    assert_eq!(v, [1, 2]);
}

#[brisk::test]
async fn try_stream_yields_ok_items_then_the_error_then_ends() {
    let mut it = iter::try_stream(|y| async move {
        y.yield_(1).await;
        y.yield_(2).await;
        Err::<(), _>("failed at 3")
    });
    assert_eq!(it.next().await, Some(Ok(1)));
    assert_eq!(it.next().await, Some(Ok(2)));
    assert_eq!(it.next().await, Some(Err("failed at 3")));
    assert_eq!(it.next().await, None);

    let all: Result<Vec<u8>, String> = iter::try_stream(|y| async move {
        y.yield_(4).await;
        Ok(())
    })
    .try_collect()
    .await;
    assert_eq!(all, Ok(vec![4]));
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generator_of_send_items_is_send_and_can_be_spawned() {
    let it = iter::stream(|y| async move {
        for i in 0..100u32 {
            if i % 10 == 0 {
                brisk::task::yield_now().await;
            }
            y.yield_(i).await;
        }
    });
    let sum = brisk::spawn(async move { it.fold(0u32, |a, x| async move { a + x }).await })
        .await
        .unwrap();
    assert_eq!(sum, (0..100).sum());
}

#[test]
#[should_panic(expected = "awaited outside its generator's future")]
fn yield_outside_the_generator_panics_with_the_fix() {
    brisk::run(async {
        let mut smuggled: Option<Yielder<u8>> = None;
        let it = iter::stream(|y| {
            smuggled = Some(y);
            async {}
        });
        drop(it);
        smuggled.unwrap().yield_(1).await;
    });
}
