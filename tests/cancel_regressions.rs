//! Regression tests for cancellation edge cases: cancel-unaware sets,
//! late spawns in scopes, scopes awaited by another task, stale unwind
//! flags around shielded cleanup, and scopes dropped with pending children.
mod support;

use brisk::time::{sleep, Instant};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use support::within;

const HOUR: Duration = Duration::from_secs(3600);
const LIM: Duration = Duration::from_secs(5);

fn rt() -> brisk::Runtime {
    brisk::Runtime::builder().current_thread().build().unwrap()
}

// A: join_all (FutureSet engine) is not a cancellation point: a cancelled task hangs.
#[test]
fn join_all_in_a_cancelled_task_stops() {
    within(LIM, || {
        rt().block_on(async {
            let t = brisk::spawn(async {
                brisk::future::join_all(vec![sleep(HOUR), sleep(HOUR)]).await;
            });
            sleep(Duration::from_millis(5)).await;
            t.cancel();
            assert!(t.await.unwrap_err().is_cancelled());
        })
    });
}

// A2: with_deadline around join_all never fires.
#[test]
fn with_deadline_reaches_join_all_members() {
    within(LIM, || {
        rt().block_on(async {
            let out = brisk::time::with_deadline(
                Instant::now() + Duration::from_millis(10),
                brisk::future::join_all(vec![sleep(HOUR)]),
            )
            .await;
            assert!(out.is_err());
        })
    });
}

// A3: with_deadline around TaskGroup::join_next never fires.
#[test]
fn with_deadline_reaches_a_group_join_next() {
    within(LIM, || {
        rt().block_on(async {
            let mut g = brisk::task::TaskGroup::new();
            g.spawn(async { sleep(HOUR).await });
            let out = brisk::time::with_deadline(
                Instant::now() + Duration::from_millis(10),
                g.join_next(),
            )
            .await;
            assert!(out.is_err());
            g.abort_all();
        })
    });
}

// B: a child that spawns a grandchild and finishes in the same poll, as the
// last child: the scope returns without running the grandchild.
#[test]
fn scope_runs_a_grandchild_spawned_by_its_last_child() {
    within(LIM, || {
        rt().block_on(async {
            let ran = AtomicBool::new(false);
            let ran_ref = &ran;
            brisk::scope(|s| async move {
                let s2 = s.clone();
                s.spawn(async move {
                    brisk::task::yield_now().await;
                    s2.spawn(async move {
                        ran_ref.store(true, Ordering::SeqCst);
                    });
                });
            })
            .await;
            assert!(
                ran.load(Ordering::SeqCst),
                "scope returned before its grandchild ran"
            );
        })
    });
}

// C: a scope built outside the task that awaits it hangs under the builder:
// JoinHandle::cancel of the awaiting task does not reach its body.
#[test]
fn scope_joins_the_tree_of_the_task_that_awaits_it() {
    within(LIM, || {
        rt().block_on(async {
            let t = brisk::spawn(brisk::scope(|_s| async move {
                sleep(HOUR).await;
            }));
            sleep(Duration::from_millis(5)).await;
            t.cancel();
            assert!(t.await.unwrap_err().is_cancelled());
        })
    });
}

// D: a stale unwind flag (a branch raised it, the combinator still returned
// Ready) cuts short a later non_cancellable cleanup in the same poll.
#[test]
fn stale_unwind_flag_does_not_cut_shielded_cleanup() {
    within(LIM, || {
        rt().block_on(async {
            let cleaned = Arc::new(AtomicBool::new(false));
            let c2 = cleaned.clone();
            let t = brisk::spawn(async move {
                // wait until cancelled, via I/O-style check
                while !brisk::task::is_cancelled() {
                    // a non-Brisk yield
                    let mut yielded = false;
                    std::future::poll_fn(|cx| {
                        if yielded {
                            return Poll::Ready(());
                        }
                        yielded = true;
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    })
                    .await;
                }
                let mut s = Box::pin(sleep(HOUR));
                // "poll!" : one poll, then carry on
                let _ =
                    std::future::poll_fn(|cx| Poll::Ready(s.as_mut().poll(cx).is_ready())).await;
                brisk::task::non_cancellable(async {
                    sleep(Duration::from_millis(5)).await;
                })
                .await;
                c2.store(true, Ordering::SeqCst);
            });
            brisk::task::yield_now().await;
            t.cancel();
            let _ = t.await;
            assert!(
                cleaned.load(Ordering::SeqCst),
                "non_cancellable cleanup was cut short"
            );
        })
    });
}

// F: dropping a ScopeFuture while a pending (not yet polled) child holds a
// Scope clone leaks the child, the Shared and its nodes (Arc cycle).
#[test]
fn dropped_scope_drops_children_never_polled() {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    within(LIM, || {
        rt().block_on(async {
            let dropped = Arc::new(AtomicBool::new(false));
            let d = dropped.clone();
            let mut fut = Box::pin(brisk::scope(move |s| async move {
                let s2 = s.clone();
                s.spawn(async move {
                    let mut yielded = false;
                    std::future::poll_fn(|cx| {
                        if yielded {
                            return Poll::Ready(());
                        }
                        yielded = true;
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    })
                    .await;
                    let s3 = s2.clone();
                    let flag = Flag(d);
                    s2.spawn(async move {
                        let _keep = (s3, flag);
                    });
                    std::future::pending::<()>().await;
                });
            }));
            let mut n = 0;
            std::future::poll_fn(|cx| {
                let _ = fut.as_mut().poll(cx);
                n += 1;
                if n == 2 {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            drop(fut);
            assert!(
                dropped.load(Ordering::SeqCst),
                "pending child leaked with the scope's Shared"
            );
        })
    });
}

/// A panic in the scope body: the children are cancelled and awaited
/// (their shielded cleanup finishes), then the body's panic resumes.
#[test]
fn body_panic_waits_for_cancelled_children_then_resumes() {
    within(LIM, || {
        rt().block_on(async {
            let cleaned = Arc::new(AtomicBool::new(false));
            let c = cleaned.clone();
            let t = brisk::spawn(async move {
                brisk::scope(|s| async move {
                    s.spawn(async move {
                        let r =
                            brisk::time::with_deadline(Instant::now() + HOUR, sleep(HOUR)).await;
                        assert!(r.is_err());
                        brisk::task::non_cancellable(sleep(Duration::from_millis(5))).await;
                        c.store(true, Ordering::SeqCst);
                    });
                    sleep(Duration::from_millis(2)).await;
                    panic!("body failed");
                })
                .await
            });
            let err = t.await.unwrap_err();
            assert!(err.is_panic());
            assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "body failed");
            assert!(
                cleaned.load(Ordering::SeqCst),
                "the child's cleanup did not finish first"
            );
        })
    });
}

/// A cancelled sibling in the same `join!` does not cut a pending
/// `non_cancellable` block short, whichever order they are polled in.
#[test]
fn shielded_branch_finishes_before_its_cancelled_sibling_unwinds() {
    for shield_first in [true, false] {
        within(LIM, move || {
            rt().block_on(async move {
                let cleaned = Arc::new(AtomicBool::new(false));
                let c = cleaned.clone();
                let t = brisk::spawn(async move {
                    let shield = brisk::task::non_cancellable(async move {
                        sleep(Duration::from_millis(20)).await;
                        c.store(true, Ordering::SeqCst);
                    });
                    let other = sleep(HOUR);
                    if shield_first {
                        brisk::join!(shield, other);
                    } else {
                        brisk::join!(other, shield);
                    }
                });
                sleep(Duration::from_millis(5)).await;
                t.cancel();
                assert!(t.await.unwrap_err().is_cancelled());
                assert!(
                    cleaned.load(Ordering::SeqCst),
                    "shield_first={shield_first}"
                );
            })
        });
    }
}

// `wait::set` is the only cancellation point of `yield_now` and of leaves that
// do not call `coop::poll_proceed`: a cancelled task that only yields, or only
// waits through such a leaf, still stops.
#[test]
fn wait_set_is_a_cancellation_point_for_yield_and_hand_written_leaves() {
    within(LIM, || {
        rt().block_on(async {
            let yielder = brisk::spawn(async {
                loop {
                    brisk::task::yield_now().await;
                }
            });
            let leaf = brisk::spawn(async {
                loop {
                    std::future::poll_fn(|cx| {
                        brisk::wait::set(
                            brisk::wait::ResourceKind::Other,
                            0,
                            std::panic::Location::caller(),
                        );
                        cx.waker().wake_by_ref();
                        Poll::<()>::Pending
                    })
                    .await;
                }
            });
            brisk::task::yield_now().await;
            yielder.cancel();
            leaf.cancel();
            assert!(yielder.await.unwrap_err().is_cancelled());
            assert!(leaf.await.unwrap_err().is_cancelled());
        })
    });
}
