//! The task registry as users see it: through dumps and metrics. Tasks that
//! workers spawn are listed without a lock (in slots the worker reserved),
//! and those that workers finish are unlisted in batches; both must be
//! invisible to users: a dump lists every live task, from before its first
//! poll, and no finished one; `alive_tasks` counts exactly the live ones.

mod support;

use brisk::runtime::RuntimeMetrics;
use brisk::sync::Notify;
use std::collections::HashSet;
use std::sync::Arc;
use support::within;

/// More than one batch of fresh slots (32), so that the worker refills its
/// chain of vacant slots while spawning.
const CHILDREN: usize = 70;

#[test]
fn tasks_spawned_on_workers_are_listed_before_their_first_poll_and_leave_when_finished() {
    within(support::LIMIT, || {
        let rt = support::multi_thread(2);
        let go = Arc::new(Notify::new());
        let go2 = go.clone();
        let (ids_tx, ids_rx) = std::sync::mpsc::channel();
        let spawner = rt.spawn(async move {
            let children: Vec<_> = (0..CHILDREN)
                .map(|_| {
                    let go = go2.clone();
                    brisk::spawn(async move { go.notified().await })
                })
                .collect();
            // Listed now, whether polled yet or not.
            let dump = brisk::diag::dump();
            let listed: HashSet<u64> = dump.tasks.iter().map(|t| t.id).collect();
            for c in &children {
                assert!(listed.contains(&c.id().as_u64()), "{dump}");
            }
            ids_tx
                .send(children.iter().map(|c| c.id().as_u64()).collect::<Vec<_>>())
                .unwrap();
            for c in children {
                c.await.unwrap();
            }
            // Finished children are gone from the dump at once, even those
            // whose unlisting waits for their worker's next batch.
            let dump = brisk::diag::dump();
            assert_eq!(dump.tasks.len(), 1, "only the spawner is left: {dump}");
            let m = RuntimeMetrics::of(&brisk::runtime::Handle::current()).unwrap();
            assert_eq!(m.alive_tasks, 1, "{m:?}");
        });
        let ids = ids_rx.recv().unwrap();
        assert_eq!(ids.len(), CHILDREN);
        // Every child is alive and counted (the spawner too).
        assert_eq!(rt.metrics().alive_tasks, CHILDREN + 1);
        // Children may still be getting their first poll: wake all waiters
        // that are registered, repeatedly, until the spawner finishes.
        while !spawner.is_finished() {
            go.notify_waiters();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        rt.block_on(spawner).unwrap();
        assert_eq!(rt.metrics().alive_tasks, 0);
    });
}

#[test]
fn task_ids_are_unique_when_workers_spawn_at_once() {
    within(support::LIMIT, || {
        let rt = support::multi_thread(2);
        let ids = rt.block_on(async {
            let spawners: Vec<_> = (0..4)
                .map(|_| {
                    brisk::spawn(async {
                        let mut ids = Vec::new();
                        for _ in 0..500 {
                            let h = brisk::spawn(async {});
                            ids.push(h.id().as_u64());
                            if ids.len() % 50 == 0 {
                                brisk::task::yield_now().await;
                            }
                        }
                        ids
                    })
                })
                .collect();
            let mut all = Vec::new();
            for s in spawners {
                all.extend(s.await.unwrap());
            }
            all
        });
        let unique: HashSet<u64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "duplicate task ids");
        assert!(!unique.contains(&0));
    });
}

#[test]
fn a_quiet_runtime_lists_no_finished_task() {
    within(support::LIMIT, || {
        for rt in [
            brisk::Runtime::builder().current_thread().build().unwrap(),
            support::multi_thread(2),
        ] {
            rt.block_on(async {
                let hs: Vec<_> = (0..100)
                    .map(|_| brisk::spawn(async { brisk::task::yield_now().await }))
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            });
            assert_eq!(rt.metrics().alive_tasks, 0);
            let dump = rt.block_on(async { brisk::diag::dump() });
            assert!(dump.tasks.is_empty(), "{dump}");
        }
    });
}

/// A task whose `JoinHandle` returned is no longer counted, even while its
/// worker is still finishing it (releasing it, or unlisting its batch):
/// the count is checked straight after each join, many times over.
#[test]
fn a_joined_task_is_never_counted_as_alive() {
    within(support::LIMIT, || {
        let rt = support::multi_thread(2);
        for round in 0..300 {
            let n = rt.block_on(async {
                let h = brisk::spawn(async { brisk::task::yield_now().await });
                h.await.unwrap();
                let handle = brisk::runtime::Handle::current();
                RuntimeMetrics::of(&handle).unwrap().alive_tasks
            });
            assert_eq!(n, 0, "round {round}");
            assert_eq!(rt.metrics().alive_tasks, 0, "round {round}");
        }
    });
}
