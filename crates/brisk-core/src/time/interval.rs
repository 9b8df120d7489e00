//! `Interval`: ticks at a fixed period.

use super::{sleep_until, Duration, Instant, Sleep};
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What an [`Interval`] does after missing ticks (the task was busy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up (the default).
    #[default]
    Burst,
    /// Restart the schedule one period after the late tick.
    Delay,
    /// Drop the missed ticks and keep the original phase.
    Skip,
}

/// Ticks every `period`, starting now (the first tick completes at once).
///
/// # Panics
/// If `period` is zero.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// # brisk::run(async {
/// let mut every = brisk::time::interval(Duration::from_millis(1));
/// let first = every.tick().await;
/// let second = every.tick().await;
/// assert!(second - first >= Duration::from_millis(1));
/// # });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, with the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    if period.is_zero() {
        panic!("{}", crate::error::INTERVAL_ZERO_PERIOD);
    }
    Interval {
        delay: sleep_until(start),
        period,
        missed: MissedTickBehavior::default(),
        location: Location::caller(),
    }
}

/// A stream of ticks; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
    location: &'static Location<'static>,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled time.
    ///
    /// Cancel-safe: dropping the future before it completes loses no tick.
    pub fn tick(&mut self) -> Tick<'_> {
        Tick { interval: self }
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.delay.poll_elapsed(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        let next = match self.missed {
            MissedTickBehavior::Burst => scheduled + self.period,
            MissedTickBehavior::Delay => {
                if now > scheduled {
                    now + self.period
                } else {
                    scheduled + self.period
                }
            }
            MissedTickBehavior::Skip => {
                let behind = now.saturating_duration_since(scheduled);
                let periods = behind.as_nanos() / self.period.as_nanos() + 1;
                scheduled
                    + self
                        .period
                        .saturating_mul(periods.min(u32::MAX as u128) as u32)
            }
        };
        self.delay.reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.delay.reset(Instant::now() + self.period);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The behaviour after missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the behaviour after missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// Where the interval was created.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

/// The future returned by [`Interval::tick`].
///
/// Cancel-safe: the schedule lives in the `Interval`, so dropping this
/// future loses no tick.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Tick<'a> {
    interval: &'a mut Interval,
}

impl Future for Tick<'_> {
    type Output = Instant;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        self.interval.poll_tick(cx)
    }
}
