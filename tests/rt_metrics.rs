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

/// Queue depths and steals move: tasks spawned from outside while both
/// workers are busy wait in the inject queue; tasks spawned by a task
/// that then blocks its worker wait in that worker's local queue, and the
/// other worker steals them.
#[test]
fn queue_depths_and_steals_are_seen() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    let rt = brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(2)
        .long_poll_threshold(None)
        .build()
        .unwrap();
    let wait_for = |what: &str, cond: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while !cond() {
            assert!(start.elapsed() < Duration::from_secs(60), "never: {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    };

    // Both workers blocked inside a poll; ten tasks from outside queue up.
    let release = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let blockers: Vec<_> = (0..2)
        .map(|_| {
            let (release, started) = (release.clone(), started.clone());
            rt.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                while !release.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        })
        .collect();
    wait_for("both workers blocked", &|| {
        started.load(Ordering::SeqCst) == 2
    });
    let queued: Vec<_> = (0..10).map(|i| rt.spawn(async move { i })).collect();
    let m = rt.metrics();
    assert!(m.inject_queue_depth >= 10, "{m:?}");
    release.store(true, Ordering::SeqCst);
    rt.block_on(async {
        for b in blockers {
            b.await.unwrap();
        }
        for (i, q) in queued.into_iter().enumerate() {
            assert_eq!(q.await.unwrap(), i);
        }
    });
    assert_eq!(rt.metrics().inject_queue_depth, 0);

    // A task spawns 100 tasks onto its worker's queue, then blocks that
    // worker until they ran: the other worker steals them.
    let ran = Arc::new(AtomicUsize::new(0));
    let deepest = Arc::new(AtomicUsize::new(0));
    let steals_before = rt.metrics().steals;
    let spawner = {
        let ran = ran.clone();
        let deepest = deepest.clone();
        let handle = rt.handle().clone();
        rt.spawn(async move {
            // They wait for the gate, so whatever the other worker steals
            // first, most of them are still queued when the depths are read.
            let gate = Arc::new(AtomicBool::new(false));
            for _ in 0..100 {
                let (ran, gate) = (ran.clone(), gate.clone());
                brisk::spawn(async move {
                    while !gate.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    ran.fetch_add(1, Ordering::SeqCst);
                });
            }
            let depth = brisk::runtime::RuntimeMetrics::of(&handle)
                .unwrap()
                .local_queue_depths
                .into_iter()
                .max()
                .unwrap();
            deepest.store(depth, Ordering::SeqCst);
            gate.store(true, Ordering::SeqCst);
            while ran.load(Ordering::SeqCst) < 100 {
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    rt.block_on(spawner).unwrap();
    assert!(
        deepest.load(Ordering::SeqCst) > 0,
        "no local queue depth seen"
    );
    let m = rt.metrics();
    assert!(m.steals > steals_before, "{m:?}");
    assert_eq!(m.worker_steals.iter().sum::<u64>(), m.steals);
}
