//! Conformance: tasks, scopes, cancellation and channels behave the same on
//! every backend (see `conformance/mod.rs` for the matrix).

mod conformance;

use conformance::conformance;
use std::time::Duration;

conformance! {
    /// Spawned tasks run and hand their output to `JoinHandle`.
    async fn spawn_join() {
        let handles: Vec<_> = (0..16u64).map(|i| brisk::spawn(async move { i * i })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        assert_eq!(sum, (0..16u64).map(|i| i * i).sum::<u64>());
    }

    /// A named task that panics reports the panic and its name.
    async fn panic_is_a_join_error() {
        let h = brisk::task::Builder::new()
            .name("doomed")
            .spawn(async { panic!("boom") });
        let err = h.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.name(), Some("doomed"));
        assert_eq!(err.panic_message().as_deref(), Some("boom"));
    }

    /// `abort` stops a task that would never finish.
    async fn abort_stops_a_pending_task() {
        let h = brisk::spawn(std::future::pending::<()>());
        brisk::task::yield_now().await;
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
    }

    /// `spawn_blocking` runs a closure off the scheduler and returns its result.
    async fn spawn_blocking_returns() {
        let v = brisk::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap();
        assert_eq!(v, 5050);
    }

    /// `spawn_local` runs `!Send` futures on the spawning thread.
    async fn spawn_local_runs_rc_futures() {
        let shared = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut handles = Vec::new();
        for i in 0..4 {
            let s = shared.clone();
            handles.push(brisk::spawn_local(async move {
                brisk::task::yield_now().await;
                s.borrow_mut().push(i);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let mut got = shared.borrow().clone();
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 3]);
    }

    /// Tasks that yield take turns: each sees the other's progress.
    async fn yield_now_interleaves() {
        let (tx, mut rx) = brisk::sync::mpsc::unbounded_channel();
        let a = {
            let tx = tx.clone();
            brisk::spawn(async move {
                for i in 0..3 {
                    tx.send(("a", i)).unwrap();
                    brisk::task::yield_now().await;
                }
            })
        };
        let b = brisk::spawn(async move {
            for i in 0..3 {
                tx.send(("b", i)).unwrap();
                brisk::task::yield_now().await;
            }
        });
        a.await.unwrap();
        b.await.unwrap();
        let mut seen = Vec::new();
        while let Some(m) = rx.recv().await {
            seen.push(m);
        }
        assert_eq!(seen.len(), 6);
        for who in ["a", "b"] {
            let order: Vec<_> = seen.iter().filter(|m| m.0 == who).map(|m| m.1).collect();
            assert_eq!(order, vec![0, 1, 2]);
        }
    }

    /// Scope children borrow from the caller and all finish before it returns.
    async fn scope_children_borrow() {
        let words = vec!["alpha".to_string(), "beta".to_string(), "gamma".to_string()];
        let words = &words;
        let total = brisk::scope(|s| async move {
            let handles: Vec<_> = (0..words.len())
                .map(|i| s.spawn(async move {
                    brisk::time::sleep(Duration::from_millis(1)).await;
                    words[i].len()
                }))
                .collect();
            let mut total = 0;
            for h in handles {
                total += h.await.unwrap();
            }
            total
        })
        .await;
        assert_eq!(total, 14);
    }

    /// The first error of a `try_scope` cancels its siblings.
    async fn try_scope_error_cancels_siblings() {
        let out: Result<(), &str> = brisk::try_scope(|s| async move {
            s.spawn(async {
                brisk::time::sleep(Duration::from_millis(1)).await;
                Err::<(), _>("disk full")
            });
            s.spawn(async {
                brisk::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            });
            Ok(())
        })
        .await;
        assert_eq!(out, Err("disk full"));
    }

    /// `cancel` reaches a task's children; I/O-shaped waits return `Cancelled`.
    async fn cancel_reaches_children() {
        let (mut tx, rx) = brisk::sync::oneshot::channel::<()>();
        let parent = brisk::spawn(async move {
            let child = brisk::spawn(async move {
                // A receive unwinds when cancelled; the message stays unsent.
                let _ = rx.await;
            });
            child.await
        });
        brisk::time::sleep(Duration::from_millis(2)).await;
        parent.cancel();
        let out = parent.await;
        assert!(matches!(out, Err(ref e) if e.is_cancelled()) || matches!(out, Ok(Err(ref e)) if e.is_cancelled()));
        // The child was cancelled too: its receiver goes away.
        tx.closed().await;
    }

    /// A deadline bounds a block and the tasks it starts.
    async fn with_deadline_cancels_the_block() {
        let deadline = brisk::time::Instant::now() + Duration::from_millis(5);
        let out = brisk::time::with_deadline(deadline, async {
            brisk::time::sleep(Duration::from_secs(3600)).await;
        })
        .await;
        assert!(out.is_err());
        assert!(brisk::time::Instant::now() >= deadline);
    }

    /// Bounded channels apply back-pressure and deliver in order.
    async fn mpsc_in_order_with_backpressure() {
        let (tx, mut rx) = brisk::sync::mpsc::channel::<u32>(2);
        let producer = brisk::spawn(async move {
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
        });
        let mut next = 0;
        while let Some(v) = rx.recv().await {
            assert_eq!(v, next);
            next += 1;
        }
        assert_eq!(next, 100);
        producer.await.unwrap();
    }

    /// A mutex serialises increments from many tasks.
    async fn mutex_serialises_tasks() {
        let counter = std::sync::Arc::new(brisk::sync::Mutex::new(0u32));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let c = counter.clone();
                brisk::spawn(async move {
                    for _ in 0..50 {
                        let mut g = c.lock().await;
                        let v = *g;
                        brisk::task::yield_now().await;
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(*counter.lock().await, 400);
    }

    /// `watch` and `broadcast` reach every receiver.
    async fn watch_and_broadcast_fan_out() {
        let (wtx, mut wrx) = brisk::sync::watch::channel(0u32);
        let (btx, mut brx1) = brisk::sync::broadcast::channel::<u32>(8);
        let mut brx2 = btx.subscribe();
        let w = brisk::spawn(async move {
            wrx.changed().await.unwrap();
            *wrx.borrow()
        });
        brisk::task::yield_now().await;
        wtx.send(7).unwrap();
        btx.send(1).unwrap();
        btx.send(2).unwrap();
        assert_eq!(w.await.unwrap(), 7);
        assert_eq!((brx1.recv().await.unwrap(), brx1.recv().await.unwrap()), (1, 2));
        assert_eq!((brx2.recv().await.unwrap(), brx2.recv().await.unwrap()), (1, 2));
    }

    /// `brisk::runtime::Handle` spawns onto the runtime from another task.
    async fn handle_spawns_on_the_same_runtime() {
        let handle = brisk::runtime::Handle::current();
        let inner = brisk::spawn(async move {
            handle.spawn(async { brisk::task::try_id().is_some() }).await.unwrap()
        });
        assert!(inner.await.unwrap());
    }
}
