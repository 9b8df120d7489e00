//! Timers: sleep, sleep_until, timeout, interval, and the runtime's clock.

mod support;

use brisk::time::{interval, sleep, sleep_until, timeout, Instant, MissedTickBehavior};
use std::time::Duration;
use support::{runtimes, within, LIMIT};

#[test]
fn sleep_waits_at_least_its_duration_on_both_flavours() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let start = Instant::now();
                sleep(Duration::from_millis(15)).await;
                assert!(start.elapsed() >= Duration::from_millis(15), "{flavor}");
                let deadline = Instant::now() + Duration::from_millis(5);
                sleep_until(deadline).await;
                assert!(Instant::now() >= deadline, "{flavor}");
            });
        }
    });
}

#[test]
fn many_timers_fire_in_deadline_order() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(async {
            let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut handles = Vec::new();
            for i in (0..20u64).rev() {
                let order = order.clone();
                handles.push(brisk::spawn(async move {
                    sleep(Duration::from_millis(2 * i)).await;
                    order.lock().unwrap().push(i);
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            let got = order.lock().unwrap().clone();
            let mut sorted = got.clone();
            sorted.sort();
            assert_eq!(got, sorted);
        });
    });
}

#[test]
fn timeout_returns_elapsed_and_drops_the_future() {
    brisk::run(async {
        assert_eq!(timeout(Duration::from_secs(5), async { 3 }).await, Ok(3));
        let err = timeout(Duration::from_millis(2), sleep(Duration::from_secs(3600)))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "deadline has elapsed");
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    });
}

#[test]
fn dropping_an_armed_sleep_disarms_it() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        for _ in 0..1000 {
            let mut s = sleep(Duration::from_secs(3600));
            let _ = std::future::poll_fn(|cx| std::task::Poll::Ready(s.poll_elapsed(cx))).await;
        }
    });
    assert_eq!(rt.metrics().armed_timers, 0);
}

#[test]
fn sleep_reset_moves_the_deadline() {
    brisk::run(async {
        let mut s = sleep(Duration::from_secs(3600));
        s.reset(Instant::now() + Duration::from_millis(2));
        s.await;
    });
}

#[test]
fn interval_ticks_at_its_period() {
    brisk::run(async {
        let mut every = interval(Duration::from_millis(3));
        let first = every.tick().await;
        let mut last = first;
        for _ in 0..4 {
            let t = every.tick().await;
            assert_eq!(t - last, Duration::from_millis(3));
            last = t;
        }
        every.set_missed_tick_behavior(MissedTickBehavior::Skip);
        brisk::spawn_blocking(|| std::thread::sleep(Duration::from_millis(10)))
            .await
            .unwrap();
        let late = every.tick().await;
        let next = every.tick().await;
        assert!(next > late);
        assert_eq!(
            (next - first).as_nanos() % Duration::from_millis(3).as_nanos(),
            0
        );
    });
}

#[test]
fn a_busy_task_does_not_starve_a_timer_on_the_same_thread() {
    // The busy task only ever finds ready futures (zero-length sleeps). The
    // cooperative budget makes it yield, so the timer task still runs.
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(async {
            let busy = brisk::spawn(async {
                loop {
                    sleep(Duration::ZERO).await;
                }
            });
            let timer = brisk::spawn(async {
                sleep(Duration::from_millis(5)).await;
                "fired"
            });
            assert_eq!(timer.await.unwrap(), "fired");
            busy.abort();
        });
    });
}

#[test]
fn instant_now_reads_the_runtime_clock() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    let outside = Instant::now();
    let inside = rt.block_on(async { Instant::now() });
    assert!(inside >= outside);
}

#[test]
fn timer_wait_points_show_small_ids_that_match_the_dump() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(async {
            // Arm and drop timers first, so the wheel reuses their slots.
            for _ in 0..3 {
                sleep(Duration::from_millis(1)).await;
            }
            let sleeper = brisk::spawn(sleep(Duration::from_secs(3600)));
            let wait = loop {
                if let Some(w) = sleeper.task().wait_point() {
                    break w;
                }
                brisk::task::yield_now().await;
            };
            assert_eq!(wait.kind, brisk::wait::ResourceKind::Timer);
            assert!(
                (1..=16).contains(&wait.resource),
                "a timer's id is a small number: {wait}"
            );
            let dump = brisk::diag::dump().to_string();
            let shown = format!("Timer #{} at", wait.resource);
            assert!(dump.contains(&shown), "the dump shows {shown:?}:\n{dump}");
            sleeper.abort();
        });
    });
}

/// A task in `timeout(d, fut)` waits on what `fut` waits on; on the timer
/// only when `fut` records no wait of its own.
#[test]
fn a_timeout_shows_what_its_future_waits_on() {
    brisk::run(async {
        let (_tx, mut rx) = brisk::sync::mpsc::channel::<u8>(1);
        let on_channel = brisk::spawn(async move {
            let _ = brisk::time::timeout(Duration::from_secs(3600), rx.recv()).await;
        });
        let on_nothing = brisk::spawn(async {
            let _ =
                brisk::time::timeout(Duration::from_secs(3600), std::future::pending::<()>()).await;
        });
        for _ in 0..3 {
            brisk::task::yield_now().await;
        }
        let wait = on_channel.task().wait_point().expect("waits");
        assert_eq!(wait.kind, brisk::wait::ResourceKind::Channel, "{wait}");
        assert_eq!(wait.location.file(), file!(), "{wait}");
        let wait = on_nothing.task().wait_point().expect("waits");
        assert_eq!(wait.kind, brisk::wait::ResourceKind::Timer, "{wait}");
        on_channel.abort();
        on_nothing.abort();
    });
}
