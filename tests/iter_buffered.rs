//! `buffered`, `buffer_unordered` and `for_each_concurrent`: output order,
//! limits, and the point of `poll_progress` — producer work overlaps a slow
//! consumer. Overlap is shown by the order of instants recorded on the
//! runtime's clock, never by measuring durations.

mod support;

use brisk::iter::{self, AsyncIteratorExt};
use brisk::sync::oneshot;
use brisk::time::{sleep, Instant};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ITEMS: usize = 8;
const PRODUCE: Duration = Duration::from_millis(20);
const SLOW: Duration = Duration::from_millis(30);

/// What happened when: producers' first polls and finishing instants, and
/// the consumer's `slow` calls as (start, end).
#[derive(Default)]
struct Timeline {
    started: Mutex<Vec<(usize, Instant)>>,
    finished: Mutex<Vec<(usize, Instant)>>,
    slow: Mutex<Vec<(usize, Instant, Instant)>>,
}

impl Timeline {
    fn producer(self: &Arc<Self>, i: usize) -> impl Future<Output = usize> + Send + 'static {
        let t = self.clone();
        async move {
            t.started.lock().unwrap().push((i, Instant::now()));
            sleep(PRODUCE).await;
            t.finished.lock().unwrap().push((i, Instant::now()));
            i
        }
    }

    fn slow(self: &Arc<Self>, i: usize, length: Duration) -> impl Future<Output = ()> + Send {
        let t = self.clone();
        async move {
            let start = Instant::now();
            sleep(length).await;
            t.slow.lock().unwrap().push((i, start, Instant::now()));
        }
    }

    /// Producers that finished strictly inside some `slow` call: their
    /// futures were polled while the consumer was busy.
    fn finished_during_slow(&self) -> Vec<usize> {
        self.during_slow(&self.finished)
    }

    /// Producers first polled strictly inside some `slow` call: they were
    /// pulled from the upstream while the consumer was busy.
    fn started_during_slow(&self) -> Vec<usize> {
        self.during_slow(&self.started)
    }

    fn during_slow(&self, events: &Mutex<Vec<(usize, Instant)>>) -> Vec<usize> {
        let slow = self.slow.lock().unwrap();
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, at)| slow.iter().any(|(_, start, end)| start < at && at < end))
            .map(|(i, _)| *i)
            .collect()
    }

    fn slow_items(&self) -> Vec<usize> {
        self.slow
            .lock()
            .unwrap()
            .iter()
            .map(|(i, _, _)| *i)
            .collect()
    }

    fn two_slow_calls_overlapped(&self) -> bool {
        let slow = self.slow.lock().unwrap();
        slow.iter().enumerate().any(|(a, (_, s1, e1))| {
            slow.iter()
                .skip(a + 1)
                .any(|(_, s2, e2)| s1 < e2 && s2 < e1)
        })
    }
}

async fn buffered_for_each_overlaps() {
    let t = Arc::new(Timeline::default());
    iter::iter(0..ITEMS)
        .map(|i| t.producer(i))
        .buffered(5)
        .for_each(|i| t.slow(i, SLOW))
        .await;
    assert_eq!(t.slow_items(), (0..ITEMS).collect::<Vec<_>>());
    assert!(
        !t.finished_during_slow().is_empty(),
        "no producer finished while `slow` ran: buffered stalled during for_each"
    );
    assert!(
        !t.started_during_slow().is_empty(),
        "buffered did not refill from the upstream while `slow` ran"
    );
}

#[brisk::test]
async fn buffered_keeps_producing_while_for_each_is_busy() {
    buffered_for_each_overlaps().await;
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_keeps_producing_while_for_each_is_busy_multi_thread() {
    buffered_for_each_overlaps().await;
}

#[brisk::test]
async fn buffered_keeps_producing_while_then_is_busy() {
    let t = Arc::new(Timeline::default());
    let n = iter::iter(0..ITEMS)
        .map(|i| t.producer(i))
        .buffered(5)
        .then(|i| t.slow(i, SLOW))
        .count()
        .await;
    assert_eq!(n, ITEMS);
    assert!(!t.finished_during_slow().is_empty());
    assert!(!t.started_during_slow().is_empty());
}

#[brisk::test]
async fn buffered_keeps_producing_while_fold_is_busy() {
    let t = Arc::new(Timeline::default());
    let sum = iter::iter(0..ITEMS)
        .map(|i| t.producer(i))
        .buffered(5)
        .fold(0, |acc, i| {
            let slow = t.slow(i, SLOW);
            async move {
                slow.await;
                acc + i
            }
        })
        .await;
    assert_eq!(sum, (0..ITEMS).sum());
    assert!(!t.finished_during_slow().is_empty());
    assert!(!t.started_during_slow().is_empty());
}

/// The control: seen through `futures::Stream`, which has no
/// `poll_progress`, the same pipeline only runs producers between `slow`
/// calls. This is the stall the trait exists to avoid, and shows the checks
/// above can fail.
#[brisk::test]
async fn without_poll_progress_producers_stall_during_the_consumer() {
    use futures::StreamExt;
    let t = Arc::new(Timeline::default());
    iter::iter(0..ITEMS)
        .map(|i| t.producer(i))
        .buffered(5)
        .into_stream()
        .for_each(|i| t.slow(i, SLOW))
        .await;
    assert_eq!(t.slow_items(), (0..ITEMS).collect::<Vec<_>>());
    assert_eq!(t.finished_during_slow(), Vec::<usize>::new());
    assert_eq!(t.started_during_slow(), Vec::<usize>::new());
}

/// A hand-written loop keeps the producers going by awaiting its work
/// through `drive`; awaiting it directly stalls them (the control).
#[brisk::test]
async fn a_hand_written_loop_keeps_producing_through_drive_and_stalls_without() {
    for through_drive in [true, false] {
        let t = Arc::new(Timeline::default());
        let mut pages = iter::iter(0..ITEMS).map(|i| t.producer(i)).buffered(5);
        while let Some(i) = pages.next().await {
            if through_drive {
                pages.drive(t.slow(i, SLOW)).await;
            } else {
                t.slow(i, SLOW).await;
            }
        }
        assert_eq!(t.slow_items(), (0..ITEMS).collect::<Vec<_>>());
        if through_drive {
            assert!(!t.finished_during_slow().is_empty(), "drive stalled");
            assert!(!t.started_during_slow().is_empty(), "drive did not refill");
        } else {
            assert_eq!(t.finished_during_slow(), Vec::<usize>::new());
            assert_eq!(t.started_during_slow(), Vec::<usize>::new());
        }
    }
}

#[brisk::test]
async fn for_each_concurrent_keeps_the_upstream_producing_while_full() {
    let t = Arc::new(Timeline::default());
    let upstream = iter::iter(0..ITEMS).map(|i| t.producer(i)).buffered(4);
    upstream
        .for_each_concurrent(2, |i| t.slow(i, SLOW + SLOW))
        .await;
    let mut items = t.slow_items();
    items.sort();
    assert_eq!(items, (0..ITEMS).collect::<Vec<_>>());
    assert!(t.two_slow_calls_overlapped(), "the calls ran one at a time");
    assert!(
        !t.finished_during_slow().is_empty(),
        "no producer finished while the consumer was full"
    );
    assert!(!t.started_during_slow().is_empty());
}

/// Futures that finish in `order`: each waits for its gate, and the one
/// finishing opens the gate of the next in `order`.
fn gated(order: [usize; 3]) -> Vec<impl Future<Output = usize>> {
    let (mut txs, mut rxs): (Vec<_>, Vec<_>) = (0..3).map(|_| oneshot::channel::<()>()).unzip();
    let mut txs: Vec<Option<oneshot::Sender<()>>> = txs.drain(..).map(Some).collect();
    let first = txs[order[0]].take().unwrap();
    brisk::spawn(async move { first.send(()).unwrap() });
    let mut next_of = [None, None, None];
    for w in order.windows(2) {
        next_of[w[0]] = txs[w[1]].take();
    }
    rxs.drain(..)
        .zip(next_of)
        .enumerate()
        .map(|(k, (rx, next))| async move {
            rx.await.unwrap();
            if let Some(next) = next {
                next.send(()).unwrap();
            }
            k
        })
        .collect()
}

#[brisk::test]
async fn buffered_yields_in_input_order_and_buffer_unordered_in_completion_order() {
    let v: Vec<usize> = iter::iter(gated([2, 0, 1])).buffered(3).collect().await;
    assert_eq!(v, [0, 1, 2]);
    let v: Vec<usize> = iter::iter(gated([2, 0, 1]))
        .buffer_unordered(3)
        .collect()
        .await;
    assert_eq!(v, [2, 0, 1]);
    let v: Vec<usize> = iter::iter(gated([1, 2, 0]))
        .buffer_unordered(3)
        .collect()
        .await;
    assert_eq!(v, [1, 2, 0]);
}

/// A future that counts itself as active from its first poll to its end.
fn tracked(active: &Arc<AtomicUsize>, max: &Arc<AtomicUsize>) -> impl Future<Output = ()> {
    let (active, max) = (active.clone(), max.clone());
    async move {
        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(now, Ordering::SeqCst);
        for _ in 0..3 {
            brisk::task::yield_now().await;
        }
        active.fetch_sub(1, Ordering::SeqCst);
    }
}

#[brisk::test]
async fn limits_are_reached_and_respected() {
    for n in [1, 3] {
        let (active, max) = (Arc::default(), Arc::default());
        let count = iter::iter(0..10)
            .map(|_| tracked(&active, &max))
            .buffer_unordered(n)
            .count()
            .await;
        assert_eq!(count, 10);
        assert_eq!(max.load(Ordering::SeqCst), n, "buffer_unordered({n})");

        let (active, max) = (Arc::default(), Arc::default());
        let count = iter::iter(0..10)
            .map(|_| tracked(&active, &max))
            .buffered(n)
            .count()
            .await;
        assert_eq!(count, 10);
        assert_eq!(max.load(Ordering::SeqCst), n, "buffered({n})");

        let (active, max) = (Arc::default(), Arc::default());
        iter::iter(0..10)
            .for_each_concurrent(n, |_| tracked(&active, &max))
            .await;
        assert_eq!(max.load(Ordering::SeqCst), n, "for_each_concurrent({n})");
    }
}

#[brisk::test]
async fn buffered_pulls_from_a_pending_upstream() {
    let futures = iter::stream(|y| async move {
        for i in 0..6u64 {
            brisk::task::yield_now().await;
            y.yield_(async move {
                sleep(Duration::from_millis(6 - i)).await;
                i
            })
            .await;
        }
    });
    let v: Vec<u64> = futures.buffered(3).collect().await;
    assert_eq!(v, [0, 1, 2, 3, 4, 5]);
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_items_run_in_parallel_and_keep_input_order() {
    let v: Vec<usize> = iter::iter(0..6)
        .map(|i| {
            brisk::spawn(async move {
                sleep(Duration::from_millis(6 - i as u64)).await;
                i * i
            })
        })
        .buffered(3)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(v, [0, 1, 4, 9, 16, 25]);
}

#[test]
fn buffered_adapters_of_send_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let buffered = iter::iter(0..3).map(|i| async move { i }).buffered(2);
    assert_send(&buffered);
    let unordered = iter::iter(0..3)
        .map(|i| async move { i })
        .buffer_unordered(2);
    assert_send(&unordered);
    let each = iter::iter(0..3).for_each_concurrent(2, |_| async {});
    assert_send(&each);
}

#[test]
#[should_panic(expected = "limit of 0")]
fn a_limit_of_zero_panics() {
    let _ = iter::iter([async {}]).buffered(0);
}

#[test]
fn a_buffered_iterator_runs_on_another_executor() {
    support::within(support::LIMIT, || {
        let v: Vec<u32> = futures::executor::block_on(
            iter::iter([3u32, 1, 2])
                .map(|x| async move { x * 2 })
                .buffer_unordered(2)
                .collect(),
        );
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, [2, 4, 6]);
    });
}
