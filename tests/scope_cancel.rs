//! Scopes, task groups and the cancellation tree.

mod support;

use brisk::task::{CancelReason, Cancelled, JoinHandle, TaskGroup};
use brisk::time::{sleep, Instant};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{runtimes, within};

const HOUR: Duration = Duration::from_secs(3600);

/// Cancelling a task reaches its grandchildren, which only the tree links
/// to it: their pending `sleep(1h)` stops at once — unwinding the task, or
/// returning `Err(Cancelled)` at a `with_deadline` boundary.
#[test]
fn cancel_reaches_grandchildren_and_sleep_returns_promptly() {
    type Grandchildren = (JoinHandle<()>, JoinHandle<Result<(), Cancelled>>);
    for (name, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async move {
                let (tx, rx) = std::sync::mpsc::channel::<Grandchildren>();
                let sleeping = Arc::new(AtomicUsize::new(0));
                let s = sleeping.clone();
                let parent = brisk::spawn(async move {
                    let child = brisk::spawn(async move {
                        let s2 = s.clone();
                        let plain = brisk::spawn(async move {
                            s2.fetch_add(1, Ordering::SeqCst);
                            sleep(HOUR).await;
                        });
                        let bounded = brisk::spawn(async move {
                            let far = Instant::now() + 24 * HOUR;
                            brisk::time::with_deadline(far, async {
                                s.fetch_add(1, Ordering::SeqCst);
                                sleep(HOUR).await;
                            })
                            .await
                        });
                        // The handles leave the tree's code: only the tree
                        // links the grandchildren to `parent` now.
                        tx.send((plain, bounded)).unwrap();
                        sleep(HOUR).await;
                    });
                    let _ = child.await;
                });
                let (plain, bounded) = loop {
                    match rx.try_recv() {
                        Ok(handles) => break handles,
                        Err(_) => brisk::task::yield_now().await,
                    }
                };
                while sleeping.load(Ordering::SeqCst) < 2 {
                    brisk::task::yield_now().await;
                }
                parent.cancel();
                // Promptly: a generous bound, far below the hour they sleep.
                let bound = Duration::from_secs(10);
                let err = brisk::time::timeout(bound, plain)
                    .await
                    .expect("the grandchild's sleep(1h) was not cancelled")
                    .unwrap_err();
                assert!(err.is_cancelled(), "{name}: {err}");
                let out = brisk::time::timeout(bound, bounded)
                    .await
                    .expect("the grandchild's sleep(1h) was not cancelled")
                    .expect("the grandchild itself finished normally");
                assert_eq!(out.unwrap_err().reason(), CancelReason::Requested, "{name}");
                assert!(parent.await.unwrap_err().is_cancelled(), "{name}");
            })
        });
    }
}

#[test]
fn cancelled_io_returns_an_io_error_that_names_the_cause() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let listener = brisk::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let task = brisk::spawn(async move { listener.accept().await.map(|_| ()) });
                brisk::task::yield_now().await;
                sleep(Duration::from_millis(5)).await;
                task.cancel();
                let err = task.await.unwrap().unwrap_err();
                let c = Cancelled::from_io(&err).expect("a Cancelled inside the io::Error");
                assert_eq!(c.reason(), CancelReason::Requested);
                assert_eq!(err.kind(), std::io::ErrorKind::Other);
                assert!(err.to_string().contains("cancelled"), "{err}");
                assert!(err.to_string().contains("non_cancellable"), "{err}");

                // A deadline: kind `TimedOut`, and the message says so.
                let listener = brisk::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let deadline = Instant::now() + Duration::from_millis(5);
                let err = brisk::time::with_deadline(deadline, listener.accept())
                    .await
                    .expect("I/O returns its error instead of unwinding")
                    .unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
                assert_eq!(
                    Cancelled::from_io(&err).unwrap().reason(),
                    CancelReason::DeadlineExceeded
                );
                assert!(err.to_string().contains("deadline"), "{err}");
            })
        });
    }
}

#[test]
fn non_cancellable_shields_cleanup() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let task = brisk::spawn(async {
                    let r = brisk::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .unwrap()
                        .accept()
                        .await;
                    assert!(r.is_err());
                    assert!(brisk::task::is_cancelled());
                    brisk::task::non_cancellable(async {
                        assert!(!brisk::task::is_cancelled());
                        sleep(Duration::from_millis(5)).await;
                        "cleaned up"
                    })
                    .await
                });
                sleep(Duration::from_millis(5)).await;
                task.cancel();
                assert_eq!(task.await.unwrap(), "cleaned up");
            })
        });
    }
}

#[test]
fn with_deadline_reaches_children_and_reports_the_deadline() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let deadline = Instant::now() + Duration::from_millis(30);
                let (tx, rx) = std::sync::mpsc::channel::<JoinHandle<Result<(), Cancelled>>>();
                let out = brisk::time::with_deadline(deadline, async move {
                    let child = brisk::spawn(async move {
                        // A grandchild, whose handle leaves the tree's code:
                        // only the tree links it to the deadline.
                        let grandchild = brisk::spawn(async {
                            let far = Instant::now() + 24 * HOUR;
                            brisk::time::with_deadline(far, sleep(HOUR)).await
                        });
                        tx.send(grandchild).unwrap();
                        sleep(HOUR).await;
                    });
                    let _ = child.await;
                    // Only reached if the child finished normally.
                    sleep(HOUR).await;
                })
                .await;
                assert_eq!(out.unwrap_err().reason(), CancelReason::DeadlineExceeded);
                assert!(Instant::now() >= deadline);
                let grandchild = rx.try_recv().expect("the child ran");
                let inner = brisk::time::timeout(Duration::from_secs(10), grandchild)
                    .await
                    .expect("the deadline did not reach the grandchild")
                    .unwrap();
                assert_eq!(inner.unwrap_err().reason(), CancelReason::DeadlineExceeded);
                // Finishing in time is `Ok`.
                let ok = brisk::time::with_deadline(Instant::now() + HOUR, async { 5 }).await;
                assert_eq!(ok, Ok(5));
            })
        });
    }
}

#[test]
fn borrowing_children_mutate_disjoint_parts_and_scope_waits_for_all() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let mut data = vec![0u32; 64];
                let finished = AtomicUsize::new(0);
                let out = brisk::scope(|s| {
                    let finished = &finished;
                    let data = &mut data;
                    async move {
                        for (i, chunk) in data.chunks_mut(8).enumerate() {
                            s.spawn(async move {
                                for (j, x) in chunk.iter_mut().enumerate() {
                                    sleep(Duration::from_millis((j % 3) as u64)).await;
                                    *x = (i * 8 + j) as u32;
                                }
                                finished.fetch_add(1, Ordering::SeqCst);
                            });
                        }
                        "body done"
                    }
                })
                .await;
                assert_eq!(out, "body done");
                assert_eq!(finished.load(Ordering::SeqCst), 8);
                assert_eq!(data, (0..64).collect::<Vec<u32>>());
            })
        });
    }
}

#[test]
fn panicking_child_cancels_siblings_and_surfaces_with_its_name() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let sibling_cancelled = Arc::new(AtomicUsize::new(0));
                let sc = sibling_cancelled.clone();
                let task = brisk::spawn(async move {
                    brisk::scope(|s| async move {
                        let sc2 = sc.clone();
                        s.spawn_named("sibling", async move {
                            struct OnDrop(Arc<AtomicUsize>);
                            impl Drop for OnDrop {
                                fn drop(&mut self) {
                                    self.0.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            let _guard = OnDrop(sc2);
                            sleep(HOUR).await;
                        });
                        s.spawn_named("checkout", async {
                            sleep(Duration::from_millis(5)).await;
                            panic!("card declined");
                        });
                        sleep(HOUR).await;
                    })
                    .await
                });
                let err = task.await.unwrap_err();
                assert!(err.is_panic());
                let payload = err.into_panic();
                let msg = payload.downcast_ref::<String>().expect("a String payload");
                assert!(msg.contains("`checkout`"), "{msg}");
                assert!(msg.contains("card declined"), "{msg}");
                assert_eq!(sibling_cancelled.load(Ordering::SeqCst), 1);
            })
        });
    }
}

#[test]
fn try_scope_returns_first_error_after_cancelling_the_rest() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let cleanups = AtomicUsize::new(0);
                let out: Result<u32, String> = brisk::try_scope(|s| {
                    let cleanups = &cleanups;
                    async move {
                        for _ in 0..3 {
                            s.spawn(async move {
                                let r = brisk::net::TcpListener::bind("127.0.0.1:0")
                                    .await
                                    .unwrap()
                                    .accept()
                                    .await;
                                let e = r.unwrap_err();
                                assert_eq!(
                                    Cancelled::from_io(&e).unwrap().reason(),
                                    CancelReason::SiblingFailed
                                );
                                cleanups.fetch_add(1, Ordering::SeqCst);
                                Ok(())
                            });
                        }
                        s.spawn(async {
                            sleep(Duration::from_millis(10)).await;
                            Err::<(), _>("bad input".to_string())
                        });
                        sleep(HOUR).await;
                        Ok(1)
                    }
                })
                .await;
                assert_eq!(out, Err("bad input".to_string()));
                assert_eq!(cleanups.load(Ordering::SeqCst), 3);
            })
        });
    }
}

#[test]
fn scope_cancel_stops_children_not_the_body() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let out = brisk::scope(|s| async move {
                    let h = s.spawn(async { sleep(HOUR).await });
                    sleep(Duration::from_millis(2)).await;
                    s.cancel();
                    assert!(s.is_cancelled());
                    let r = h.await;
                    assert_eq!(r.unwrap_err().reason(), CancelReason::Requested);
                    sleep(Duration::from_millis(1)).await; // the body goes on
                    7
                })
                .await;
                assert_eq!(out, 7);
            })
        });
    }
}

#[test]
fn cancelling_the_enclosing_task_cancels_scope_children_and_waits_for_cleanup() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let cleaned = Arc::new(AtomicUsize::new(0));
                let c = cleaned.clone();
                let task = brisk::spawn(async move {
                    brisk::scope(|s| async move {
                        for _ in 0..4 {
                            let c = c.clone();
                            s.spawn(async move {
                                let r = brisk::net::UdpSocket::bind("127.0.0.1:0")
                                    .await
                                    .unwrap()
                                    .recv_from(&mut [0u8; 8])
                                    .await;
                                assert!(r.is_err());
                                brisk::task::non_cancellable(sleep(Duration::from_millis(3))).await;
                                c.fetch_add(1, Ordering::SeqCst);
                            });
                        }
                        sleep(HOUR).await;
                    })
                    .await
                });
                sleep(Duration::from_millis(5)).await;
                task.cancel();
                assert!(task.await.unwrap_err().is_cancelled());
                assert_eq!(cleaned.load(Ordering::SeqCst), 4);
            })
        });
    }
}

#[test]
fn task_group_collects_results_and_shuts_down_gracefully() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let mut group = TaskGroup::new();
                for i in 0..8u64 {
                    group.spawn(async move { i });
                }
                let mut got: Vec<u64> = Vec::new();
                while let Some(r) = group.join_next().await {
                    got.push(r.unwrap());
                }
                got.sort();
                assert_eq!(got, (0..8).collect::<Vec<_>>());

                // Shutdown: a cooperative task finishes its cleanup, a stuck
                // one is aborted after the grace period.
                let mut group = TaskGroup::new();
                group.spawn(async {
                    let r = brisk::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .unwrap()
                        .accept()
                        .await;
                    assert!(r.is_err());
                    "cooperative"
                });
                group.spawn(brisk::task::non_cancellable(async {
                    sleep(HOUR).await;
                    "stuck"
                }));
                sleep(Duration::from_millis(5)).await;
                let results = group.shutdown(Duration::from_millis(30)).await;
                assert_eq!(results.len(), 2);
                assert!(results.iter().any(|r| matches!(r, Ok("cooperative"))));
                assert!(results
                    .iter()
                    .any(|r| r.as_ref().is_err_and(|e| e.is_cancelled())));
            })
        });
    }
}

/// Group members are tasks on the runtime's workers: two of them run at the
/// same instant (each waits, blocking its thread, until it sees the other).
#[test]
fn task_group_members_run_in_parallel() {
    use std::sync::atomic::AtomicBool;
    let rt = support::multi_thread(2);
    within(support::LIMIT, move || {
        rt.block_on(async {
            let flags = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
            let mut group = TaskGroup::new();
            for me in 0..2 {
                let flags = flags.clone();
                group.spawn(async move {
                    flags[me].store(true, Ordering::SeqCst);
                    // Blocks this worker: only a member on another thread
                    // can set the other flag meanwhile.
                    let give_up = std::time::Instant::now() + Duration::from_secs(20);
                    while !flags[1 - me].load(Ordering::SeqCst) {
                        if std::time::Instant::now() > give_up {
                            return false;
                        }
                        std::thread::yield_now();
                    }
                    true
                });
            }
            while let Some(saw_the_other) = group.join_next().await {
                assert!(saw_the_other.unwrap(), "the members never ran at once");
            }
        })
    });
}

#[test]
fn cancelling_a_task_cancels_its_groups() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let ended = Arc::new(AtomicUsize::new(0));
                let e = ended.clone();
                let task = brisk::spawn(async move {
                    let mut group = TaskGroup::new();
                    for _ in 0..3 {
                        let e = e.clone();
                        group.spawn(async move {
                            let r = brisk::time::with_deadline(Instant::now() + HOUR, sleep(HOUR))
                                .await;
                            assert_eq!(r.unwrap_err().reason(), CancelReason::Requested);
                            e.fetch_add(1, Ordering::SeqCst);
                        });
                    }
                    while group.join_next().await.is_some() {}
                });
                sleep(Duration::from_millis(5)).await;
                task.cancel();
                let _ = task.await;
                // The group was dropped with the task; its tasks stop (a
                // hang here fails the test at the `within` limit).
                while ended.load(Ordering::SeqCst) < 3 {
                    sleep(Duration::from_millis(1)).await;
                }
            })
        });
    }
}

/// A server under a scope: cancelling its task stops the accept loop,
/// in-flight requests (shielded) complete, and it returns within the
/// deadline.
#[test]
fn server_under_scope_shuts_down_gracefully_with_in_flight_requests_completing() {
    use brisk::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use brisk::net::{TcpListener, TcpStream};

    async fn handle(stream: TcpStream, started: &AtomicUsize) -> std::io::Result<()> {
        let (r, mut w) = stream.into_split();
        let mut line = String::new();
        BufReader::new(r).read_line(&mut line).await?;
        started.fetch_add(1, Ordering::SeqCst);
        sleep(Duration::from_millis(100)).await; // the request's work
        w.write_all(format!("done {}", line.trim()).as_bytes())
            .await?;
        w.shutdown().await
    }

    async fn serve(
        listener: TcpListener,
        started: &AtomicUsize,
        served: &AtomicUsize,
    ) -> std::io::Result<()> {
        brisk::scope(|s| async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        // In-flight requests are shielded: they complete.
                        s.spawn(brisk::task::non_cancellable(async move {
                            if handle(stream, started).await.is_ok() {
                                served.fetch_add(1, Ordering::SeqCst);
                            }
                        }));
                    }
                    // Shutting down: stop accepting; the scope waits for
                    // the requests.
                    Err(e) if Cancelled::is_io(&e) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        })
        .await
    }

    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let started = Arc::new(AtomicUsize::new(0));
                let served = Arc::new(AtomicUsize::new(0));
                let (st, se) = (started.clone(), served.clone());
                let server = brisk::spawn(async move { serve(listener, &st, &se).await });
                let mut clients = Vec::new();
                for i in 0..5 {
                    clients.push(brisk::spawn(async move {
                        let mut c = TcpStream::connect(addr).await?;
                        c.write_all(format!("req{i}\n").as_bytes()).await?;
                        let mut reply = String::new();
                        c.read_to_string(&mut reply).await?;
                        Ok::<_, std::io::Error>(reply)
                    }));
                }
                // Shut down while every request is in its handler.
                while started.load(Ordering::SeqCst) < 5 {
                    sleep(Duration::from_millis(1)).await;
                }
                server.cancel();
                let out = brisk::time::timeout(Duration::from_secs(5), server)
                    .await
                    .expect("the server stopped within its deadline");
                out.unwrap().unwrap();
                assert_eq!(
                    served.load(Ordering::SeqCst),
                    5,
                    "every in-flight request completed"
                );
                for (i, c) in clients.into_iter().enumerate() {
                    assert_eq!(c.await.unwrap().unwrap(), format!("done req{i}"));
                }
                // The listener is gone: new connections are refused.
                let refused = TcpStream::connect(addr).await.unwrap_err();
                assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
            })
        });
    }
}

#[test]
fn cancelled_code_sees_channel_lock_and_fs_operations_stop() {
    for (_, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async {
                // Channel receive and lock unwind: the task reports Cancelled.
                let (_tx, mut rx) = brisk::sync::mpsc::channel::<u32>(1);
                let recv = brisk::spawn(async move { rx.recv().await });
                let lock = Arc::new(brisk::sync::Mutex::new(0));
                let guard = lock.clone().lock_owned().await;
                let l2 = lock.clone();
                let locker = brisk::spawn(async move { *l2.lock().await += 1 });
                sleep(Duration::from_millis(5)).await;
                recv.cancel();
                locker.cancel();
                assert!(recv.await.unwrap_err().is_cancelled());
                assert!(locker.await.unwrap_err().is_cancelled());
                drop(guard);
                assert_eq!(
                    *lock.lock().await,
                    0,
                    "the cancelled locker never got the lock"
                );

                // fs returns an io::Error carrying Cancelled.
                let fs_task = brisk::spawn(async {
                    let dir = std::env::temp_dir();
                    brisk::task::yield_now().await;
                    brisk::fs::metadata(dir).await
                });
                fs_task.cancel();
                match fs_task.await {
                    // Cancelled before reaching the fs call: unwound at yield_now.
                    Err(e) => assert!(e.is_cancelled()),
                    Ok(r) => assert!(Cancelled::is_io(&r.unwrap_err())),
                }
                let fs_task =
                    brisk::spawn(async { brisk::fs::metadata(std::env::temp_dir()).await });
                fs_task.cancel();
                let r = fs_task.await.unwrap();
                // Either the blocking job finished first (allowed: data that is
                // ready is returned) or the wait ended with Cancelled.
                if let Err(e) = r {
                    assert!(Cancelled::is_io(&e), "{e}");
                }
            })
        });
    }
}
