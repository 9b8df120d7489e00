//! Spawning, joining, aborting, naming, local and blocking tasks.

mod support;

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{runtimes, within, LIMIT};

#[test]
fn spawn_and_join_on_both_flavours() {
    within(LIMIT, || {
        for (name, rt) in runtimes() {
            let sum = rt.block_on(async {
                let handles: Vec<_> = (0..10_000u64)
                    .map(|i| brisk::spawn(async move { i }))
                    .collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            });
            assert_eq!(sum, 49_995_000, "{name}");
        }
    });
}

#[test]
fn panicking_task_yields_join_error_with_name_and_location() {
    for (flavor, rt) in runtimes() {
        let err = rt.block_on(async {
            brisk::task::Builder::new()
                .name("checkout")
                .spawn(async { panic!("out of stock") })
                .await
                .unwrap_err()
        });
        assert!(err.is_panic(), "{flavor}");
        assert_eq!(err.name(), Some("checkout"));
        assert_eq!(err.location().file(), file!());
        assert_eq!(err.panic_message().as_deref(), Some("out of stock"));
        let text = err.to_string();
        assert!(
            text.contains("checkout")
                && text.contains("rt_spawn.rs")
                && text.contains("out of stock"),
            "{text}"
        );
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"out of stock"));
    }
}

#[test]
fn runtime_keeps_running_after_a_task_panics_by_default() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    let v = rt.block_on(async {
        let _ = brisk::spawn(async { panic!("first") }).await;
        brisk::spawn(async { 7 }).await.unwrap()
    });
    assert_eq!(v, 7);
}

#[test]
fn abort_cancels_a_pending_task_and_drops_its_future() {
    struct DropFlag(Arc<AtomicUsize>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    for (flavor, rt) in runtimes() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        rt.block_on(async move {
            let guard = DropFlag(d);
            let h = brisk::spawn(async move {
                let _g = guard;
                std::future::pending::<()>().await;
            });
            brisk::task::yield_now().await;
            assert!(!h.is_finished());
            h.abort();
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled(), "{flavor}");
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1, "{flavor}");
    }
}

#[test]
fn abort_handle_and_is_finished() {
    brisk::run(async {
        let h = brisk::spawn(async { 1 });
        let abort = h.abort_handle();
        while !h.is_finished() {
            brisk::task::yield_now().await;
        }
        abort.abort(); // too late: the output is kept
        assert_eq!(h.await.unwrap(), 1);
    });
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    rt.block_on(async move {
        drop(brisk::spawn(async move {
            brisk::task::yield_now().await;
            d.fetch_add(1, Ordering::SeqCst);
        }));
        while done.load(Ordering::SeqCst) == 0 {
            brisk::task::yield_now().await;
        }
    });
}

#[test]
fn spawn_local_runs_non_send_futures_on_both_flavours() {
    for (flavor, rt) in runtimes() {
        let v = rt.block_on(async {
            let shared = Rc::new(std::cell::Cell::new(0));
            let mut handles = Vec::new();
            for i in 0..100 {
                let s = shared.clone();
                handles.push(brisk::spawn_local(async move {
                    brisk::task::yield_now().await;
                    s.set(s.get() + i);
                    Rc::new(i)
                }));
            }
            for h in handles {
                let _rc: Rc<i32> = h.await.unwrap();
            }
            shared.get()
        });
        assert_eq!(v, 4950, "{flavor}");
    }
}

#[test]
fn spawn_local_inside_a_worker_task_stays_on_that_worker() {
    let rt = support::multi_thread(2);
    rt.block_on(async {
        brisk::spawn(async {
            let here = std::thread::current().id();
            let local = brisk::spawn_local(async move {
                let not_send = Rc::new(());
                for _ in 0..50 {
                    assert_eq!(std::thread::current().id(), here);
                    brisk::task::yield_now().await;
                }
                drop(not_send);
                std::thread::current().id()
            });
            assert_eq!(local.await.unwrap(), here);
        })
        .await
        .unwrap();
    });
}

#[test]
fn local_tasks_are_cancelled_when_block_on_returns() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    let drops = Rc::new(std::cell::Cell::new(0));
    struct D(Rc<std::cell::Cell<i32>>);
    impl Drop for D {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let d = D(drops.clone());
    rt.block_on(async move {
        let _h = brisk::spawn_local(async move {
            let _d = d;
            std::future::pending::<()>().await
        });
        brisk::task::yield_now().await;
    });
    assert_eq!(drops.get(), 1);
}

#[test]
fn spawn_blocking_runs_on_the_pool_and_can_spawn() {
    for (flavor, rt) in runtimes() {
        let v = rt.block_on(async {
            let main_thread = std::thread::current().id();
            brisk::spawn_blocking(move || {
                assert_ne!(std::thread::current().id(), main_thread);
                // The runtime context is entered on blocking threads.
                brisk::spawn(async { 2 })
            })
            .await
            .unwrap()
            .await
            .unwrap()
        });
        assert_eq!(v, 2, "{flavor}");
    }
}

#[test]
fn blocking_pool_is_bounded() {
    let rt = brisk::Runtime::builder()
        .current_thread()
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                brisk::spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert!(peak.load(Ordering::SeqCst) <= 2);
    assert!(rt.metrics().blocking_threads <= 2);
}

#[test]
fn spawn_from_another_thread_through_a_handle() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    let handle = rt.handle().clone();
    let join = std::thread::spawn(move || handle.spawn(async { 9 }))
        .join()
        .unwrap();
    assert_eq!(rt.block_on(join).unwrap(), 9);
}

#[test]
fn two_runtimes_in_parallel_threads_are_independent() {
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let rt = support::multi_thread(2);
                rt.block_on(async move {
                    let h = brisk::spawn(async move {
                        brisk::time::sleep(Duration::from_millis(2)).await;
                        i
                    });
                    // Task ids are per runtime: the first task of each is #1.
                    assert_eq!(h.id().as_u64(), 1);
                    h.await.unwrap()
                })
            })
        })
        .collect();
    let got: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(got, vec![0, 1, 2, 3]);
}

#[test]
fn task_ids_parents_and_names_are_visible() {
    brisk::run(async {
        // The future given to `block_on` is not a task.
        assert!(brisk::task::try_id().is_none());
        let outer = brisk::spawn(async {
            let me = brisk::task::id();
            let child = brisk::task::Builder::new()
                .name("child")
                .spawn(async { brisk::task::id() });
            let info = child.task().info();
            assert_eq!(info.name.as_deref(), Some("child"));
            assert_eq!(info.location.file(), file!());
            assert_eq!(info.parent, Some(me));
            let child_id = child.id();
            assert_eq!(child.await.unwrap(), child_id);
            me
        });
        let outer_id = outer.id();
        assert_eq!(outer.await.unwrap(), outer_id);
    });
}

#[test]
fn yield_now_lets_other_tasks_run() {
    brisk::run(async {
        let flag = Arc::new(AtomicUsize::new(0));
        let f = flag.clone();
        let _h = brisk::spawn(async move { f.store(1, Ordering::SeqCst) });
        while flag.load(Ordering::SeqCst) == 0 {
            brisk::task::yield_now().await;
        }
    });
}

#[test]
fn wait_points_name_what_a_task_waits_on() {
    brisk::run(async {
        let sleeper = brisk::spawn(async { brisk::time::sleep(Duration::from_secs(3600)).await });
        let joiner = {
            let other = brisk::spawn(std::future::pending::<()>());
            let id = other.id();
            (brisk::spawn(async move { other.await.is_ok() }), id)
        };
        // A task whose future is another task's handle: Brisk's own code
        // polls the handle.
        let forwarder = {
            let other = brisk::spawn(std::future::pending::<()>());
            let spawned_at = other.task().location();
            (brisk::spawn(other), spawned_at)
        };
        // Polled by a combinator, through `Pin<&mut JoinHandle>`: the
        // handle's caller is `core`, so the same.
        let collector = {
            let other = brisk::spawn(std::future::pending::<()>());
            let spawned_at = other.task().location();
            let all = brisk::future::join_all([other]);
            (brisk::spawn(async move { all.await.len() }), spawned_at)
        };
        for _ in 0..3 {
            brisk::task::yield_now().await;
        }
        let wait = sleeper
            .task()
            .wait_point()
            .expect("sleeper waits on a timer");
        assert_eq!(wait.kind, brisk::wait::ResourceKind::Timer);
        assert_eq!(wait.location.file(), file!());
        let wait = joiner
            .0
            .task()
            .wait_point()
            .expect("joiner waits on a task");
        assert_eq!(wait.kind, brisk::wait::ResourceKind::Task);
        assert_eq!(wait.resource, joiner.1.as_u64());
        assert!(wait.to_string().starts_with("Task #"), "{wait}");
        // Awaited directly: the wait is at the `.await`.
        assert_eq!(wait.location.file(), file!(), "{wait}");
        // Polled by Brisk: the wait is at the awaited task's spawn.
        let wait = forwarder
            .0
            .task()
            .wait_point()
            .expect("forwarder waits on a task");
        assert_eq!(wait.kind, brisk::wait::ResourceKind::Task);
        assert_eq!(wait.location, forwarder.1, "{wait}");
        let wait = collector.0.task().wait_point().expect("collector waits");
        assert_eq!(wait.kind, brisk::wait::ResourceKind::Task);
        assert_eq!(wait.location, collector.1, "{wait}");
        collector.0.abort();
        sleeper.abort();
        joiner.0.abort();
        forwarder.0.abort();
    });
}

brisk::task_local! {
    static REQUEST_ID: u64;
}

#[test]
fn task_local_values_follow_the_task_across_threads() {
    let rt = support::multi_thread(2);
    rt.block_on(async {
        let handles: Vec<_> = (0..20u64)
            .map(|i| {
                brisk::spawn(REQUEST_ID.scope(i, async move {
                    for _ in 0..10 {
                        brisk::task::yield_now().await;
                        assert_eq!(REQUEST_ID.get(), i);
                    }
                    REQUEST_ID.get()
                }))
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i as u64);
        }
    });
    assert!(REQUEST_ID.try_with(|_| ()).is_err());
}

/// A yield requeues its task as the poll ends, without a wake through the
/// waker, yet each one is still counted as the wake it stands for, and the
/// task is polled once more per yield.
#[test]
fn each_yield_counts_as_a_wake_and_a_poll() {
    for (flavor, rt) in runtimes() {
        rt.block_on(async {
            let handle = brisk::spawn(async {
                for _ in 0..3 {
                    brisk::task::yield_now().await;
                }
            });
            while !handle.is_finished() {
                brisk::task::yield_now().await;
            }
            let task = handle.task();
            assert_eq!(task.waker_counts().wakes, 3, "{flavor}");
            assert_eq!(task.polls(), 4, "{flavor}");
            handle.await.unwrap();
        });
    }
}

#[test]
fn waker_counters_are_recorded() {
    brisk::run(async {
        let waiter = brisk::spawn(async {
            brisk::spawn(async { brisk::task::yield_now().await })
                .await
                .unwrap();
        });
        let task = waiter.abort_handle();
        let before = waiter.task().waker_counts();
        while !waiter.is_finished() {
            brisk::task::yield_now().await;
        }
        let after = waiter.task().waker_counts();
        // Awaiting the child stored a clone of the waiter's waker, and the
        // child's completion woke it.
        assert!(
            after.clones > before.clones || after.clones >= 1,
            "{after:?}"
        );
        assert!(after.wakes >= 1, "{after:?}");
        drop(task);
        waiter.await.unwrap();
    });
}

#[test]
fn concurrent_block_on_calls_share_a_current_thread_runtime() {
    within(LIMIT, || {
        let rt = Arc::new(brisk::Runtime::builder().current_thread().build().unwrap());
        let threads: Vec<_> = (0..3u64)
            .map(|i| {
                let rt = rt.clone();
                std::thread::spawn(move || {
                    rt.block_on(async move {
                        let local = Rc::new(i);
                        let l = local.clone();
                        let a = brisk::spawn_local(async move {
                            brisk::time::sleep(Duration::from_millis(2)).await;
                            *l
                        });
                        let b = brisk::spawn(async move {
                            brisk::time::sleep(Duration::from_millis(3)).await;
                            i * 10
                        });
                        a.await.unwrap() + b.await.unwrap() + *local
                    })
                })
            })
            .collect();
        let got: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(got, vec![0, 12, 24]);
    });
}

#[test]
fn a_current_thread_runtime_survives_a_panicking_block_on() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { panic!("boom") })
        }));
        assert!(r.is_err());
        let v = rt.block_on(async {
            brisk::time::sleep(Duration::from_millis(1)).await;
            brisk::spawn(async { 7 }).await.unwrap()
        });
        assert_eq!(v, 7);
    });
}
