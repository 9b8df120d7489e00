//! `brisk::iter` and `futures::Stream`: conversions both ways and round trips.

use brisk::iter::{self, AsyncIterator, AsyncIteratorExt, IntoAsyncIter};
use futures::StreamExt;

#[brisk::test]
async fn async_iterator_to_stream_and_back() {
    let stream = iter::iter(1..=4).map(|x| x * 2).into_stream();
    assert_eq!(futures::Stream::size_hint(&stream), (4, Some(4)));
    let back = stream
        .filter(|x| futures::future::ready(*x != 4))
        .into_async_iter();
    let v: Vec<i32> = back.then(|x| async move { x + 1 }).collect().await;
    assert_eq!(v, [3, 7, 9]);
}

#[brisk::test]
async fn stream_to_async_iterator_and_back() {
    let stream = futures::stream::unfold(0u32, |n| async move { (n < 3).then_some((n, n + 1)) });
    let it = iter::from_stream(stream);
    let round_trip: Vec<u32> = it.map(|n| n * 10).into_stream().collect().await;
    assert_eq!(round_trip, [0, 10, 20]);

    let it = iter::from_stream(futures::stream::iter(["a", "b"]));
    assert_eq!(it.size_hint(), (2, Some(2)));
    let mut s = it.into_inner();
    assert_eq!(s.next().await, Some("a"));
}

#[brisk::test]
async fn a_generator_drives_a_futures_combinator() {
    let gen = iter::stream(|y| async move {
        for w in ["x", "y", "z"] {
            brisk::task::yield_now().await;
            y.yield_(w).await;
        }
    });
    let joined = gen
        .into_stream()
        .fold(String::new(), |acc, w| async move { acc + w })
        .await;
    assert_eq!(joined, "xyz");
}

#[brisk::test]
async fn futures_buffered_stream_of_brisk_futures_is_consumed_by_brisk() {
    // futures' own `buffered` on a stream, then consumed by brisk's
    // `for_each`: works, though futures' adapter has no `poll_progress`.
    let s = futures::stream::iter(0..5u64)
        .map(|i| async move {
            brisk::time::sleep(std::time::Duration::from_millis(5 - i)).await;
            i
        })
        .buffered(2);
    let mut seen = Vec::new();
    s.into_async_iter()
        .for_each(|i| {
            seen.push(i);
            async {}
        })
        .await;
    assert_eq!(seen, [0, 1, 2, 3, 4]);
}
