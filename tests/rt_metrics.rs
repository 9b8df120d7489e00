//! Runtime metrics: workers, queue depths, polls and steals per worker,
//! blocking threads, read from the runtime or from a handle.

use brisk::runtime::RuntimeMetrics;

#[test]
fn multi_thread_metrics_count_polls_per_worker() {
    let rt = brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..50).map(|i| brisk::spawn(async move { i })).collect();
        for t in tasks {
            t.await.unwrap();
        }
        brisk::spawn_blocking(|| ()).await.unwrap();
    });
    let m = rt.metrics();
    assert_eq!(m.workers, 2);
    assert_eq!(m.local_queue_depths.len(), 2);
    assert_eq!(m.worker_polls.len(), 2);
    assert_eq!(m.worker_steals.len(), 2);
    assert!(m.polls >= 50, "{m:?}");
    assert_eq!(m.worker_polls.iter().sum::<u64>(), m.polls);
    assert_eq!(m.worker_steals.iter().sum::<u64>(), m.steals);
    assert!(m.blocking_threads >= 1, "{m:?}");
    assert!(m.idle_blocking_threads <= m.blocking_threads);
    // The last task may still be leaving the registry (it wakes its
    // joiner first): at most one is left.
    assert!(m.alive_tasks <= 1, "{m:?}");
}

#[test]
fn metrics_of_a_handle_match_the_runtime() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    let from_handle = rt.block_on(async {
        let (_tx, rx) = brisk::sync::oneshot::channel::<()>();
        let _waiting = brisk::spawn(rx);
        brisk::task::yield_now().await;
        RuntimeMetrics::of(&brisk::runtime::Handle::current()).unwrap()
    });
    assert_eq!(from_handle.workers, 1);
    assert_eq!(from_handle.alive_tasks, 1);
    assert_eq!(from_handle.worker_polls, vec![from_handle.polls]);
    assert_eq!(rt.metrics().workers, 1);
}

#[test]
fn a_simulated_handle_has_no_native_metrics() {
    let mut sim = brisk::sim::Sim::builder().build();
    let c = sim.client("c", async {
        RuntimeMetrics::of(&brisk::runtime::Handle::current()).is_none()
    });
    sim.run().unwrap();
    assert!(c.output());
}
