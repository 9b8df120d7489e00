//! `brisk::future`: `join!`, `try_join!`, `join_all`, `try_join_all`, `race`,
//! `race_all`, `select!` (fairness, `biased`, disabled branches, `else`,
//! loops over a pinned future) and `FutureSet`.

mod support;

use brisk::future::{join_all, race, race_all, try_join_all, FutureSet};
use brisk::sync::{mpsc, oneshot};
use std::future::{poll_fn, ready, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use support::{within, LIMIT};

/// Adds one to a counter when dropped.
struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Ready on its `n`-th poll; wakes itself before then; counts polls.
struct Countdown {
    left: usize,
    polls: Arc<AtomicUsize>,
}
impl Future for Countdown {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let n = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
        self.left -= 1;
        if self.left == 0 {
            Poll::Ready(n)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

// ---- join! / try_join! -------------------------------------------------------------

#[test]
fn join_returns_outputs_of_different_types_in_order() {
    brisk::run(async {
        let (a, b, c) = brisk::join!(
            async {
                brisk::time::sleep(Duration::from_millis(5)).await;
                1u8
            },
            async { "two" },
            ready(3.0f64),
        );
        assert_eq!((a, b, c), (1, "two", 3.0));
    });
}

#[test]
fn join_takes_twelve_futures_and_nests() {
    brisk::run(async {
        let t = brisk::join!(
            ready(0),
            ready(1),
            ready(2),
            ready(3),
            ready(4),
            ready(5),
            ready(6),
            ready(7),
            ready(8),
            ready(9),
            ready(10),
            async { brisk::join!(ready(11), ready(12)) },
        );
        assert_eq!(t.0 + t.5 + t.10, 15);
        assert_eq!(t.11, (11, 12));
    });
}

#[test]
fn join_never_polls_a_finished_future_again() {
    brisk::run(async {
        let quick = Arc::new(AtomicUsize::new(0));
        let slow = Arc::new(AtomicUsize::new(0));
        let (a, b) = brisk::join!(
            Countdown {
                left: 1,
                polls: quick.clone()
            },
            Countdown {
                left: 50,
                polls: slow.clone()
            },
        );
        assert_eq!((a, b), (1, 50));
        assert_eq!(quick.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn try_join_returns_the_first_error_and_drops_the_rest_at_once() {
    brisk::run(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(drops.clone());
        let result: Result<((), u8), &str> = brisk::try_join!(
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok(())
            },
            async {
                brisk::task::yield_now().await;
                Err("out of stock")
            },
        );
        assert_eq!(result, Err("out of stock"));
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the pending future was dropped"
        );
    });
}

#[test]
fn try_join_returns_all_ok_values() {
    brisk::run(async {
        let r: Result<(u8, &str), ()> = brisk::try_join!(async { Ok(1) }, async { Ok("a") });
        assert_eq!(r, Ok((1, "a")));
    });
}

// ---- join_all / try_join_all -------------------------------------------------------

#[test]
fn join_all_keeps_input_order() {
    brisk::run(async {
        let out = join_all([30u64, 10, 20, 0].map(|ms| async move {
            brisk::time::sleep(Duration::from_millis(ms)).await;
            ms
        }))
        .await;
        assert_eq!(out, [30, 10, 20, 0]);
        assert!(join_all(Vec::<std::future::Ready<u8>>::new())
            .await
            .is_empty());
    });
}

/// `n` futures that each park once (keeping their waker) and finish on
/// their next poll; the counter counts their polls.
fn parked_futures(
    n: usize,
) -> (
    Arc<AtomicUsize>,
    Arc<Mutex<Vec<Waker>>>,
    impl Iterator<Item = impl Future<Output = usize>>,
) {
    let member_polls = Arc::new(AtomicUsize::new(0));
    let wakers = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let (polls, parked_wakers) = (member_polls.clone(), wakers.clone());
    let futures = (0..n).map(move |i| {
        let polls = polls.clone();
        let wakers = parked_wakers.clone();
        let mut parked = false;
        poll_fn(move |cx| {
            polls.fetch_add(1, Ordering::Relaxed);
            if parked {
                Poll::Ready(i)
            } else {
                parked = true;
                wakers.lock().unwrap().push(cx.waker().clone());
                Poll::Pending
            }
        })
    });
    (member_polls, wakers, futures)
}

/// Polls `all` until every member parked, wakes them all, and awaits it;
/// checks the work was linear: two polls per member, and few outer polls.
async fn assert_linear_in_wakes<J: Future>(
    n: usize,
    all: J,
    member_polls: &AtomicUsize,
    wakers: &Mutex<Vec<Waker>>,
) -> J::Output {
    let mut all = pin!(all);
    let mut outer_polls = 0;
    while wakers.lock().unwrap().len() < n {
        outer_polls += 1;
        assert!(futures::poll!(all.as_mut()).is_pending());
    }
    for w in wakers.lock().unwrap().drain(..) {
        w.wake();
    }
    let out = all.await;
    // Each future: one poll to park, one after its single wake.
    assert_eq!(member_polls.load(Ordering::Relaxed), 2 * n);
    // And the set was polled in batches, not once per member per wake.
    assert!(outer_polls <= n / 32, "{outer_polls} outer polls");
    out
}

#[test]
fn join_all_polls_are_linear_in_wakes() {
    const N: usize = 10_000;
    brisk::run(async {
        let (polls, wakers, futures) = parked_futures(N);
        let out = assert_linear_in_wakes(N, join_all(futures), &polls, &wakers).await;
        assert!(out.iter().enumerate().all(|(i, &v)| i == v));
    });
}

#[test]
fn try_join_all_polls_are_linear_in_wakes() {
    const N: usize = 10_000;
    brisk::run(async {
        let (polls, wakers, futures) = parked_futures(N);
        let fallible = futures.map(|f| async move { Ok::<_, ()>(f.await) });
        let out = assert_linear_in_wakes(N, try_join_all(fallible), &polls, &wakers).await;
        assert!(out.unwrap().iter().enumerate().all(|(i, &v)| i == v));
    });
}

type BoxedTry = Pin<Box<dyn Future<Output = Result<u8, String>>>>;

#[test]
fn try_join_all_stops_at_the_first_error() {
    brisk::run(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let futures: Vec<BoxedTry> = vec![
            Box::pin(async { Ok(1) }),
            Box::pin({
                let guard = DropCount(drops.clone());
                async move {
                    let _guard = guard;
                    std::future::pending().await
                }
            }),
            Box::pin(async {
                brisk::task::yield_now().await;
                Err("bad".to_string())
            }),
        ];
        assert_eq!(try_join_all(futures).await, Err("bad".to_string()));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        let ok = try_join_all((0..3u8).map(|i| async move { Ok::<_, ()>(i) })).await;
        assert_eq!(ok, Ok(vec![0, 1, 2]));
    });
}

// ---- race / race_all ---------------------------------------------------------------

#[test]
fn race_returns_the_first_and_drops_the_other() {
    brisk::run(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(drops.clone());
        let winner = race(
            async move {
                let _guard = guard;
                brisk::time::sleep(Duration::from_secs(60)).await;
                "slow"
            },
            async {
                brisk::task::yield_now().await;
                "fast"
            },
        )
        .await;
        assert_eq!(winner, "fast");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn race_all_returns_the_first_to_finish() {
    brisk::run(async {
        let first = race_all([40u64, 5, 20].map(|ms| async move {
            brisk::time::sleep(Duration::from_millis(ms)).await;
            ms
        }))
        .await;
        assert_eq!(first, 5);
    });
}

#[test]
#[should_panic(expected = "race_all` was given no futures")]
fn race_all_of_nothing_panics_with_the_fix() {
    drop(race_all(Vec::<std::future::Ready<()>>::new()));
}

// ---- select! -----------------------------------------------------------------------

#[test]
fn select_without_biased_lets_every_ready_branch_win_sometimes() {
    brisk::run(async {
        let mut wins = [0u32; 2];
        for _ in 0..200 {
            let mut a = ready(0usize);
            let mut b = ready(1usize);
            let i = brisk::select! {
                i = &mut a => i,
                i = &mut b => i,
            };
            wins[i] += 1;
        }
        assert!(wins[0] > 20 && wins[1] > 20, "unfair: {wins:?}");
    });
}

#[test]
fn select_biased_polls_in_order() {
    brisk::run(async {
        for _ in 0..50 {
            let mut a = ready("a");
            let mut b = ready("b");
            let won = brisk::select! {
                biased;
                v = &mut a => v,
                v = &mut b => v,
            };
            assert_eq!(won, "a");
        }
    });
}

#[test]
fn select_disables_a_branch_whose_pattern_does_not_match() {
    brisk::run(async {
        let mut none = ready(None::<u8>);
        let got = brisk::select! {
            biased;
            Some(v) = &mut none => v,
            _ = brisk::time::sleep(Duration::from_millis(1)) => 7,
        };
        assert_eq!(got, 7);
    });
}

#[test]
fn select_runs_else_when_every_branch_is_disabled() {
    brisk::run(async {
        let mut a = ready(None::<u8>);
        let mut b = ready(Err::<u8, ()>(()));
        let got = brisk::select! {
            Some(v) = &mut a => v,
            Ok(v) = &mut b => v,
            else => 99,
        };
        assert_eq!(got, 99);

        let mut c = ready(1u8);
        let skipped = brisk::select! {
            v = &mut c, if false => v,
            else => 0,
        };
        assert_eq!(skipped, 0);
    });
}

#[test]
#[should_panic(expected = "every branch is disabled")]
fn select_without_else_panics_when_every_branch_is_disabled() {
    brisk::run(async {
        let mut a = ready(None::<u8>);
        brisk::select! {
            Some(_) = &mut a => {}
        }
    });
}

#[test]
fn select_loop_keeps_a_pinned_future_alive_across_iterations() {
    brisk::run(async {
        let (tx, mut rx) = mpsc::channel(16);
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
        let polls = Arc::new(AtomicUsize::new(0));
        // Needs 8 polls; dropping it would restart the count.
        let mut slow = pin!(Countdown {
            left: 8,
            polls: polls.clone()
        });
        let mut received = Vec::new();
        let finished_after = loop {
            brisk::select! {
                biased;
                Some(v) = rx.recv() => received.push(v),
                n = &mut slow => break n,
            }
        };
        assert_eq!(received, [0, 1, 2, 3, 4]);
        assert_eq!(finished_after, 8);
        assert_eq!(polls.load(Ordering::SeqCst), 8);
    });
}

#[test]
fn select_handlers_can_await_continue_and_return() {
    async fn first_even(rx: &mut mpsc::Receiver<u32>) -> Option<u32> {
        loop {
            brisk::select! {
                Some(v) = rx.recv() => {
                    brisk::task::yield_now().await;
                    if v % 2 == 1 {
                        continue;
                    }
                    return Some(v);
                }
                else => return None,
            }
        }
    }
    brisk::run(async {
        let (tx, mut rx) = mpsc::channel(8);
        for v in [1, 3, 4, 5] {
            tx.send(v).await.unwrap();
        }
        drop(tx);
        assert_eq!(first_even(&mut rx).await, Some(4));
        assert_eq!(first_even(&mut rx).await, None);
    });
}

#[test]
fn select_takes_a_oneshot_receiver_by_mut_and_it_survives() {
    within(LIMIT, || {
        brisk::run(async {
            let (tx, mut rx) = oneshot::channel::<&str>();
            let timed_out = brisk::select! {
                _ = &mut rx => false,
                _ = brisk::time::sleep(Duration::from_millis(1)) => true,
            };
            assert!(timed_out);
            tx.send("late").unwrap();
            let v = brisk::select! {
                v = &mut rx => v.unwrap(),
                _ = brisk::time::sleep(Duration::from_secs(30)) => "timeout",
            };
            assert_eq!(v, "late");
        })
    });
}

#[test]
fn select_works_on_the_multi_thread_runtime() {
    within(LIMIT, || {
        for (_name, rt) in support::runtimes() {
            rt.block_on(async {
                let (tx, mut rx) = mpsc::channel(1);
                brisk::spawn(async move {
                    brisk::time::sleep(Duration::from_millis(2)).await;
                    tx.send(5u8).await.unwrap();
                });
                let v = brisk::select! {
                    Some(v) = rx.recv() => v,
                    _ = brisk::time::sleep(Duration::from_secs(30)) => 0,
                };
                assert_eq!(v, 5);
            });
        }
    });
}

#[test]
fn select_accepts_leaf_futures_by_value() {
    use brisk::io::AsyncReadExt;
    within(LIMIT, || {
        brisk::run(async {
            let socket = brisk::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let mut buf = [0u8; 8];
            let timed_out = brisk::select! {
                _ = socket.recv_from(&mut buf) => false,
                _ = brisk::time::sleep(Duration::from_millis(1)) => true,
            };
            assert!(timed_out, "nothing was sent");
            socket
                .send_to(b"hi", socket.local_addr().unwrap())
                .await
                .unwrap();
            let mut other = [0u8; 8];
            let n = brisk::select! {
                r = socket.recv(&mut other), if false => r.unwrap(),
                r = socket.recv_from(&mut buf) => r.unwrap().0,
            };
            assert_eq!(&buf[..n], b"hi");

            let mut input: &[u8] = b"abc";
            let n = brisk::select! {
                n = input.read(&mut buf) => n.unwrap(),
                _ = brisk::task::yield_now() => 0,
            };
            assert!(n == 3 || n == 0);
        })
    });
}

#[test]
fn select_takes_a_join_handle_by_mut_and_keeps_its_output() {
    brisk::run(async {
        let (go_tx, go_rx) = oneshot::channel::<()>();
        let mut handle = brisk::spawn(async move {
            go_rx.await.unwrap();
            42
        });
        let early = brisk::select! {
            r = &mut handle => Some(r.unwrap()),
            _ = brisk::task::yield_now() => None,
        };
        assert_eq!(early, None);
        go_tx.send(()).unwrap();
        assert_eq!(handle.await.unwrap(), 42);
    });
}

#[test]
fn select_nests_inside_a_handler() {
    brisk::run(async {
        let mut a = ready(1u8);
        let mut b = ready(2u8);
        let mut c = ready(3u8);
        let sum = brisk::select! {
            biased;
            x = &mut a => {
                let y = brisk::select! {
                    biased;
                    y = &mut b => y,
                    y = &mut c => y,
                };
                x + y
            }
        };
        assert_eq!(sum, 3);
    });
}

// ---- FutureSet and spawning -----------------------------------------------------------

#[test]
fn future_set_yields_in_completion_order_and_accepts_new_members() {
    brisk::run(async {
        let mut set = FutureSet::new();
        let slow = set.push(async {
            brisk::time::sleep(Duration::from_millis(20)).await;
            "slow"
        });
        let fast = set.push(async { "fast" });
        assert_eq!(set.next().await, Some((fast, "fast")));
        let late = set.push(async { "late" });
        assert_eq!(set.next().await, Some((late, "late")));
        assert_eq!(set.next().await, Some((slow, "slow")));
        assert_eq!(set.next().await, None);
    });
}

#[test]
fn future_set_in_select_loses_nothing() {
    brisk::run(async {
        let mut set = FutureSet::new();
        for ms in [3u64, 6, 9] {
            set.push(async move {
                brisk::time::sleep(Duration::from_millis(ms)).await;
                ms
            });
        }
        let mut interval = brisk::time::interval(Duration::from_millis(1));
        let mut done = Vec::new();
        let mut ticks = 0u32;
        while !set.is_empty() {
            brisk::select! {
                Some((_, ms)) = set.next() => done.push(ms),
                _ = interval.tick() => ticks += 1,
            }
        }
        assert!(ticks > 0);
        assert_eq!(done, [3, 6, 9]);
    });
}

#[test]
fn spawn_accepts_futures_above_the_box_threshold() {
    within(LIMIT, || {
        for (_name, rt) in support::runtimes() {
            let out = rt.block_on(async {
                let big = async {
                    let buf = [7u8; 4 * brisk::future::BOX_FUTURE_THRESHOLD];
                    brisk::task::yield_now().await;
                    buf.iter().map(|&b| b as usize).sum::<usize>()
                };
                let size = std::mem::size_of_val(&big);
                assert!(size > brisk::future::BOX_FUTURE_THRESHOLD);
                let handle = brisk::spawn(big);
                assert!(handle.task().is_future_boxed(), "spawn stored it inline");
                assert_eq!(handle.task().future_size(), size);
                // A future under the threshold stays in the task's cell.
                let small = brisk::spawn(async { 1u8 });
                assert!(!small.task().is_future_boxed());
                assert_eq!(small.await.unwrap(), 1);
                handle.await.unwrap()
            });
            assert_eq!(out, 7 * 4 * brisk::future::BOX_FUTURE_THRESHOLD);
        }
    });
}

#[test]
fn waker_free_poll_of_join_all_is_pending_then_ready() {
    // `join_all` used by hand with a no-op waker: no runtime needed.
    let mut all = pin!(join_all((0..3).map(|i| async move { i })));
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(all.as_mut().poll(&mut cx), Poll::Ready(vec![0, 1, 2]));
}
