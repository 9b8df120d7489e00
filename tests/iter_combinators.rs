//! `brisk::iter` adapters and consumers: results, order, laziness, fusing,
//! `next` on references and boxes, and `poll_progress` forwarding.

use brisk::iter::{self, AsyncIterator, AsyncIteratorExt};
use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};

#[brisk::test]
async fn map_filter_take_collect() {
    let v: Vec<i32> = iter::iter(1..)
        .map(|x| x * 3)
        .filter(|x| x % 2 == 0)
        .take(3)
        .collect()
        .await;
    assert_eq!(v, [6, 12, 18]);
}

#[brisk::test]
async fn take_stops_pulling_after_n_items() {
    let pulled = Cell::new(0);
    let v: Vec<u32> = iter::repeat_with(|| {
        pulled.set(pulled.get() + 1);
        pulled.get()
    })
    .take(2)
    .collect()
    .await;
    assert_eq!(v, [1, 2]);
    assert_eq!(pulled.get(), 2);
}

#[brisk::test]
async fn then_maps_asynchronously_in_order() {
    let v: Vec<String> = iter::iter([3u64, 1, 2])
        .then(|x| async move {
            for _ in 0..x {
                brisk::task::yield_now().await;
            }
            format!("#{x}")
        })
        .collect()
        .await;
    assert_eq!(v, ["#3", "#1", "#2"]);
}

#[brisk::test]
async fn chain_and_zip() {
    let chained: Vec<i32> = iter::iter([1, 2])
        .chain(iter::empty())
        .chain(iter::iter([3]))
        .collect()
        .await;
    assert_eq!(chained, [1, 2, 3]);

    let zipped: Vec<(i32, &str)> = iter::iter([1, 2, 3])
        .zip(iter::iter(["a", "b"]))
        .collect()
        .await;
    assert_eq!(zipped, [(1, "a"), (2, "b")]);
}

#[brisk::test]
async fn zip_waits_for_the_slower_side() {
    let slow = iter::stream(|y| async move {
        for c in ['x', 'y'] {
            brisk::task::yield_now().await;
            brisk::task::yield_now().await;
            y.yield_(c).await;
        }
    });
    let v: Vec<(u8, char)> = iter::iter([1u8, 2, 3]).zip(slow).collect().await;
    assert_eq!(v, [(1, 'x'), (2, 'y')]);
}

#[brisk::test]
async fn merge_alternates_when_both_are_ready_and_ends_when_both_end() {
    let v: Vec<&str> = iter::iter(["a1", "a2", "a3", "a4"])
        .merge(iter::iter(["b1", "b2"]))
        .collect()
        .await;
    assert_eq!(v, ["a1", "b1", "a2", "b2", "a3", "a4"]);

    let v: Vec<&str> = iter::iter(["a1"])
        .merge(iter::iter(["b1", "b2", "b3"]))
        .collect()
        .await;
    assert_eq!(v, ["a1", "b1", "b2", "b3"]);
}

#[brisk::test]
async fn merge_takes_items_from_a_side_that_was_pending() {
    let late = iter::stream(|y| async move {
        brisk::time::sleep(std::time::Duration::from_millis(5)).await;
        y.yield_(100).await;
    });
    let mut v: Vec<i32> = iter::iter([1, 2]).merge(late).collect().await;
    v.sort();
    assert_eq!(v, [1, 2, 100]);
}

/// Returns one item, then `None`, and panics if polled after that.
struct EndsOnce {
    calls: u32,
}

impl AsyncIterator for EndsOnce {
    type Item = u32;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u32>> {
        self.calls += 1;
        match self.calls {
            1 => Poll::Ready(Some(7)),
            2 => Poll::Ready(None),
            _ => panic!("polled after it ended"),
        }
    }
}

#[brisk::test]
async fn fuse_never_polls_an_ended_iterator_again() {
    let mut it = EndsOnce { calls: 0 }.fuse();
    assert_eq!(it.next().await, Some(7));
    assert!(!it.is_done());
    assert_eq!(it.next().await, None);
    assert!(it.is_done());
    assert_eq!(it.next().await, None);
    assert_eq!(it.next().await, None);
}

#[brisk::test]
async fn collect_into_other_collections() {
    let s: String = iter::iter("héllo".chars()).collect().await;
    assert_eq!(s, "héllo");
    let set: HashSet<i32> = iter::iter([1, 1, 2]).collect().await;
    assert_eq!(set, HashSet::from([1, 2]));
    let map: BTreeMap<&str, i32> = iter::iter([("a", 1), ("b", 2)]).collect().await;
    assert_eq!(map.get("b"), Some(&2));
}

#[brisk::test]
async fn try_collect_stops_at_the_first_error() {
    let pulled = Cell::new(0);
    let result: Result<Vec<i32>, String> =
        iter::iter([Ok(1), Ok(2), Err("boom".to_string()), Ok(4)])
            .map(|r| {
                pulled.set(pulled.get() + 1);
                r
            })
            .try_collect()
            .await;
    assert_eq!(result, Err("boom".to_string()));
    assert_eq!(pulled.get(), 3, "items after the error are not pulled");

    let ok: Result<Vec<i32>, String> = iter::iter([Ok(1), Ok(2)]).try_collect().await;
    assert_eq!(ok, Ok(vec![1, 2]));
}

#[brisk::test]
async fn for_each_runs_one_item_at_a_time_in_order() {
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    iter::iter(0..3)
        .for_each(|i| {
            let log = log.clone();
            async move {
                log.borrow_mut().push(format!("start {i}"));
                brisk::task::yield_now().await;
                log.borrow_mut().push(format!("end {i}"));
            }
        })
        .await;
    assert_eq!(
        *log.borrow(),
        ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]
    );
}

#[brisk::test]
async fn fold_and_count() {
    let joined = iter::iter(["a", "b", "c"])
        .fold(String::new(), |mut acc, s| async move {
            brisk::task::yield_now().await;
            acc.push_str(s);
            acc
        })
        .await;
    assert_eq!(joined, "abc");
    assert_eq!(iter::iter(0..17).count().await, 17);
    assert_eq!(iter::empty::<()>().count().await, 0);
}

#[brisk::test]
async fn producers_from_fn_once_empty() {
    let mut left = 3;
    let v: Vec<i32> = iter::from_fn(|| {
        left -= 1;
        let n = left;
        async move {
            brisk::task::yield_now().await;
            (n >= 0).then_some(n)
        }
    })
    .collect()
    .await;
    assert_eq!(v, [2, 1, 0]);

    let mut once = pin!(iter::once(async { "only" }));
    assert_eq!(once.next().await, Some("only"));
    assert_eq!(once.next().await, None);

    let mut none = iter::empty::<u8>();
    assert_eq!(none.next().await, None);
}

#[brisk::test]
async fn next_through_mut_ref_box_and_pinned_box() {
    let mut it = iter::iter(1..=6);
    // By `&mut`: the adapter borrows, `it` continues afterwards.
    let first_two: Vec<i32> = (&mut it).take(2).collect().await;
    assert_eq!(first_two, [1, 2]);
    assert_eq!(it.next().await, Some(3));

    let mut boxed: Box<dyn AsyncIterator<Item = i32> + Unpin> = Box::new(it);
    assert_eq!(boxed.next().await, Some(4));

    let mut pinned: Pin<Box<dyn AsyncIterator<Item = i32>>> =
        Box::pin(boxed.then(|x| async move { x * 10 }));
    assert_eq!(pinned.next().await, Some(50));
    assert_eq!(pinned.next().await, Some(60));
    assert_eq!(pinned.next().await, None);
}

#[brisk::test]
async fn size_hints() {
    assert_eq!(iter::iter(0..10).size_hint(), (10, Some(10)));
    assert_eq!(iter::iter(0..10).take(3).size_hint(), (3, Some(3)));
    assert_eq!(
        iter::iter(0..10).filter(|_| true).size_hint(),
        (0, Some(10))
    );
    assert_eq!(
        iter::iter(0..4).chain(iter::iter(0..5)).size_hint(),
        (9, Some(9))
    );
    assert_eq!(
        iter::iter(0..4).zip(iter::repeat_with(|| 1)).size_hint(),
        (4, Some(4))
    );
    assert_eq!(
        iter::iter(0..4).merge(iter::iter(0..2)).size_hint(),
        (6, Some(6))
    );
    assert_eq!(iter::repeat_with(|| 1).size_hint(), (usize::MAX, None));
}

/// Counts `poll_progress` calls; never ends, never has an item ready.
#[derive(Default)]
struct Probe {
    progress_calls: Rc<Cell<u32>>,
}

impl AsyncIterator for Probe {
    type Item = u32;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u32>> {
        Poll::Pending
    }

    fn poll_progress(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.progress_calls.set(self.progress_calls.get() + 1);
        Poll::Ready(())
    }
}

async fn progress_once<I: AsyncIterator + Unpin>(it: &mut I) {
    std::future::poll_fn(|cx| {
        let _ = Pin::new(&mut *it).poll_progress(cx);
        Poll::Ready(())
    })
    .await
}

#[brisk::test]
async fn every_adapter_forwards_poll_progress() {
    let calls = Rc::new(Cell::new(0));
    let probe = || Probe {
        progress_calls: calls.clone(),
    };
    let mut expected = 0;
    macro_rules! check {
        ($name:literal, $it:expr, $per_call:expr) => {{
            let mut it = $it;
            progress_once(&mut it).await;
            expected += $per_call;
            assert_eq!(calls.get(), expected, "{} forwards poll_progress", $name);
        }};
    }
    check!("map", probe().map(|x| x + 1), 1);
    check!("filter", probe().filter(|_| true), 1);
    check!("take", probe().take(1), 1);
    check!("take(0)", probe().take(0), 0);
    check!("chain", probe().chain(probe()), 1);
    check!("zip", probe().zip(probe()), 2);
    check!("merge", probe().merge(probe()), 2);
    check!("fuse", probe().fuse(), 1);
    check!("&mut", &mut probe(), 1);
    check!("Box", Box::new(probe()), 1);
    check!("Pin<Box>", Box::pin(probe().then(|x| async move { x })), 1);
}
