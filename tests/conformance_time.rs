//! Conformance: the runtime's clock and timers behave the same on every
//! backend (see `conformance/mod.rs` for the matrix). Only lower bounds on
//! elapsed time are asserted: real backends may always be late.

mod conformance;

use brisk::time::{interval, sleep, sleep_until, timeout, Instant};
use conformance::conformance;
use std::time::Duration;

conformance! {
    /// `sleep` waits at least its duration on the runtime's clock.
    async fn sleep_waits_at_least() {
        let start = Instant::now();
        sleep(Duration::from_millis(10)).await;
        assert!(start.elapsed() >= Duration::from_millis(10));
    }

    /// A deadline in the past completes at once; `sleep_until` reaches its deadline.
    async fn sleep_until_reaches_its_deadline() {
        sleep_until(Instant::now() - Duration::from_millis(1)).await;
        let deadline = Instant::now() + Duration::from_millis(3);
        sleep_until(deadline).await;
        assert!(Instant::now() >= deadline);
    }

    /// A reset sleep waits for the new deadline.
    async fn sleep_reset_moves_the_deadline() {
        let start = Instant::now();
        let mut s = std::pin::pin!(sleep(Duration::from_secs(3600)));
        // Arm the hour-long timer, then move it close.
        assert!(timeout(Duration::from_millis(1), s.as_mut()).await.is_err());
        s.as_mut().reset(Instant::now() + Duration::from_millis(5));
        s.await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(5) && waited < Duration::from_secs(3000));
    }

    /// `timeout` passes a quick future through and stops a slow one.
    async fn timeout_passes_or_elapses() {
        assert_eq!(timeout(Duration::from_secs(30), async { 5 }).await, Ok(5));
        let start = Instant::now();
        assert!(timeout(Duration::from_millis(5), std::future::pending::<()>()).await.is_err());
        assert!(start.elapsed() >= Duration::from_millis(5));
    }

    /// An interval ticks at once, then once per period.
    async fn interval_ticks_each_period() {
        let mut tick = interval(Duration::from_millis(4));
        let first = tick.tick().await;
        let mut last = first;
        for _ in 0..3 {
            let t = tick.tick().await;
            assert!(t >= last + Duration::from_millis(4));
            last = t;
        }
        assert!(Instant::now() >= first + Duration::from_millis(12));
    }

    /// Many concurrent sleepers all wake, each no earlier than its deadline.
    async fn many_sleepers_all_wake() {
        let start = Instant::now();
        let handles: Vec<_> = (0..50u64)
            .map(|i| brisk::spawn(async move {
                let d = Duration::from_millis(i % 7);
                sleep(d).await;
                start.elapsed() >= d
            }))
            .collect();
        for h in handles {
            assert!(h.await.unwrap());
        }
    }

    /// A timer dropped before it fires wakes nobody and leaves no task behind.
    async fn dropped_timers_are_cancelled() {
        for _ in 0..20 {
            let _ = timeout(Duration::from_micros(100), sleep(Duration::from_secs(3600))).await;
        }
        sleep(Duration::from_millis(1)).await;
    }
}
