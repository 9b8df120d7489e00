//! Time through the current runtime: `Instant`, `sleep`, `timeout`, `interval`.
//!
//! Every function here reads the clock and arms timers of the runtime that
//! polls the calling task, so the same code runs on the native runtime (a
//! hierarchical timer wheel with 1 ms resolution) and in the simulator
//! (virtual time).
//!
//! ```
//! use std::time::Duration;
//! use brisk::time::{sleep, timeout};
//! # brisk::run(async {
//! sleep(Duration::from_millis(1)).await;
//! let slow = sleep(Duration::from_secs(60));
//! assert!(timeout(Duration::from_millis(5), slow).await.is_err());
//! # });
//! ```

pub mod clock;
mod instant;
mod interval;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior, Tick};
pub use std::time::Duration;

use crate::error;
use crate::wait::{self, ResourceKind};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A backend's timers.
///
/// Implementations MUST:
/// - fire a timer no earlier than its deadline on [`now`](TimeDriver::now)'s clock;
/// - wake the most recent waker passed to `register`/`poll` when it fires;
/// - keep a fired timer's id valid until `cancel`, so `poll` reports `Ready`;
/// - make every call O(1) apart from lock acquisition (cancel in particular);
/// - return [`TimerError::Shutdown`] once the runtime is gone, never hang.
pub trait TimeDriver: Send + Sync + 'static {
    /// The driver's clock.
    fn now(&self) -> Instant;

    /// Arms a timer for `deadline`. `Ok(None)` means the deadline has passed.
    fn register(&self, deadline: Instant, waker: &Waker) -> Result<Option<TimerId>, TimerError>;

    /// `Ready` once the timer fired; otherwise remembers `waker`.
    fn poll(&self, id: TimerId, waker: &Waker) -> Result<Poll<()>, TimerError>;

    /// Moves an armed or fired timer to a new deadline.
    fn reset(&self, id: TimerId, deadline: Instant) -> Result<(), TimerError>;

    /// Disarms the timer and frees its slot. The id is invalid afterwards.
    fn cancel(&self, id: TimerId);

    /// The number that stands for timer `id` wherever a wait on it is shown:
    /// the resource id of its wait-point, so `Timer #3` in a task dump, a
    /// hazard report, the console or a trace export is the same timer.
    ///
    /// It MUST be unique among the driver's armed (and fired, not yet
    /// cancelled) timers, and SHOULD be small: a person reads it. The default
    /// is the id itself, for drivers whose ids are already small numbers.
    fn resource_id(&self, id: TimerId) -> u64 {
        id.0
    }
}

/// An armed timer, as numbered by its driver.
///
/// The value is the driver's own handle (it may pack a shard, a slot and a
/// generation, as the native driver's does) and is not meant for people;
/// dumps and the console show [`TimeDriver::resource_id`] instead. The
/// backends number timers as follows:
/// - native runtime: the timer's slot in the runtime's timer wheels,
///   counting from 1 (`slot × shards + shard + 1`), unique among the
///   runtime's live timers and reused once a timer is dropped, like a file
///   descriptor;
/// - simulator and tokio backend: the order in which timers were armed,
///   counting from 1, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerId(pub u64);

/// Why a timer operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerError {
    /// The runtime that owns the timer has shut down.
    Shutdown,
}

impl fmt::Display for TimerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(error::TIMER_AFTER_SHUTDOWN)
    }
}

impl std::error::Error for TimerError {}

/// Waits until `duration` has elapsed on the current runtime's clock.
///
/// The timer is armed the first time the future is polled, so creating and
/// dropping an unpolled `Sleep` costs only a clock read. Resolution is 1 ms
/// on the native runtime (deadlines are rounded up).
///
/// # Panics
/// When polled outside a runtime or on a runtime without timers; the message
/// says how to fix it.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// # brisk::run(async {
/// brisk::time::sleep(Duration::from_millis(2)).await;
/// # });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now() + duration, Location::caller())
}

/// Waits until `deadline` on the current runtime's clock.
///
/// ```
/// use std::time::Duration;
/// use brisk::time::{sleep_until, Instant};
/// # brisk::run(async {
/// let deadline = Instant::now() + Duration::from_millis(2);
/// sleep_until(deadline).await;
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline, Location::caller())
}

enum SleepState {
    Unregistered,
    /// The driver, the timer, and the timer's resource id for wait-points.
    Registered(Arc<dyn TimeDriver>, TimerId, u64),
    Elapsed,
}

/// The future returned by [`sleep`] and [`sleep_until`]. It is `Unpin`: it
/// can be polled by `&mut` without pinning.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    state: SleepState,
    location: &'static Location<'static>,
}

impl Sleep {
    fn new(deadline: Instant, location: &'static Location<'static>) -> Sleep {
        Sleep {
            deadline,
            state: SleepState::Unregistered,
            location,
        }
    }

    /// When the sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline was observed to pass.
    pub fn is_elapsed(&self) -> bool {
        matches!(self.state, SleepState::Elapsed)
    }

    /// Moves the deadline; the sleep becomes pending again if it had elapsed.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        match &self.state {
            SleepState::Registered(driver, id, _) => {
                if driver.reset(*id, deadline).is_err() {
                    panic!("{}", error::TIMER_AFTER_SHUTDOWN);
                }
            }
            SleepState::Elapsed => self.state = SleepState::Unregistered,
            SleepState::Unregistered => {}
        }
    }

    /// Polls the sleep by `&mut` (it is `Unpin`).
    pub fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // The cancellation point; the wait-points below only record (see
        // `wait::record`).
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let res = match &self.state {
            SleepState::Elapsed => return Poll::Ready(()),
            SleepState::Unregistered => {
                let driver =
                    match crate::context::with_current(|h| h.backend().time_driver().cloned()) {
                        None => panic!(
                            "{} (sleep created at {})",
                            error::SLEEP_OUTSIDE_RUNTIME,
                            self.location
                        ),
                        Some(None) => panic!(
                            "{} (sleep created at {})",
                            error::TIME_DISABLED,
                            self.location
                        ),
                        Some(Some(d)) => d,
                    };
                match driver.register(self.deadline, cx.waker()) {
                    Ok(None) => Poll::Ready(()),
                    Ok(Some(id)) => {
                        let shown = driver.resource_id(id);
                        wait::record(ResourceKind::Timer, shown, self.location);
                        self.state = SleepState::Registered(driver, id, shown);
                        return Poll::Pending;
                    }
                    Err(_) => panic!(
                        "{} (sleep created at {})",
                        error::TIMER_AFTER_SHUTDOWN,
                        self.location
                    ),
                }
            }
            SleepState::Registered(driver, id, shown) => match driver.poll(*id, cx.waker()) {
                Ok(Poll::Ready(())) => {
                    driver.cancel(*id);
                    Poll::Ready(())
                }
                Ok(Poll::Pending) => {
                    wait::record(ResourceKind::Timer, *shown, self.location);
                    return Poll::Pending;
                }
                Err(_) => panic!(
                    "{} (sleep created at {})",
                    error::TIMER_AFTER_SHUTDOWN,
                    self.location
                ),
            },
        };
        self.state = SleepState::Elapsed;
        res
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_elapsed(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let SleepState::Registered(driver, id, _) = &self.state {
            driver.cancel(*id);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("elapsed", &self.is_elapsed())
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// Runs `future` with a time limit: `Ok(output)` if it finishes within
/// `duration`, `Err(Elapsed)` otherwise (the future is then dropped).
///
/// In dumps, a task waiting here waits on what `future` waits on (a lock,
/// a channel, ...), and on the timer only if `future` records no wait of
/// its own.
///
/// ```
/// use std::time::Duration;
/// # brisk::run(async {
/// let fast = brisk::time::timeout(Duration::from_secs(1), async { 7 }).await;
/// assert_eq!(fast, Ok(7));
/// let never = brisk::time::timeout(Duration::from_millis(1), std::future::pending::<()>()).await;
/// assert!(never.is_err());
/// # });
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        delay: sleep(duration),
    }
}

/// Runs `future` with a deadline that it — and every task, scope and group
/// it starts — can see and react to.
///
/// At `deadline` the code is cancelled with
/// [`CancelReason::DeadlineExceeded`](crate::task::CancelReason): its Brisk
/// operations return `Cancelled` from then on (I/O returns an `io::Error` of
/// kind `TimedOut`), and it may still clean up, for example in
/// [`non_cancellable`](crate::task::non_cancellable). Unlike [`timeout`],
/// which drops the future at the deadline, this lets it finish its own way
/// and reaches the children it started.
///
/// Returns `Ok(output)` if the future finished (even after the deadline,
/// having handled the cancellation itself), or `Err(Cancelled)` if it
/// unwound at a cancellation point.
///
/// The deadline is watched while the returned future is polled: tasks
/// started inside the block are cancelled at the deadline if the block is
/// still running then. A task that outlives the block (detached, or its
/// handle returned) is not cancelled by a deadline that passes later; start
/// it in a [`TaskGroup`](crate::task::TaskGroup) or scope inside the block
/// to keep it bounded.
///
/// ```
/// use std::time::Duration;
/// use brisk::time::{sleep, with_deadline, Instant};
///
/// # brisk::run(async {
/// let deadline = Instant::now() + Duration::from_millis(20);
/// let out = with_deadline(deadline, async {
///     // A child task inherits the deadline.
///     let child = brisk::spawn(async { sleep(Duration::from_secs(3600)).await });
///     // Shielded, this wait outlasts the deadline and sees the child's end.
///     brisk::task::non_cancellable(child).await
/// })
/// .await;
/// // The child was cancelled at the deadline.
/// assert!(out.unwrap().unwrap_err().is_cancelled());
/// # });
/// ```
pub fn with_deadline<F: Future>(deadline: Instant, future: F) -> WithDeadline<F> {
    crate::task::cancel::with_deadline_impl(deadline, future)
}

pub use crate::task::cancel::WithDeadline;

/// Like [`timeout`], with an absolute deadline.
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        delay: sleep_until(deadline),
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        delay: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The wrapped future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// Takes the wrapped future out.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (future, delay) = (this.future, this.delay);
        // The task waits on what the inner future waits on (the timer only
        // if it records nothing).
        wait::inner_wait_first(
            cx,
            |cx| match future.poll(cx) {
                Poll::Ready(v) => Some(Poll::Ready(Ok(v))),
                Poll::Pending => None,
            },
            // Check the deadline even when the inner future spent the
            // budget, so a busy future still times out.
            |cx| {
                crate::context::with_budget(crate::context::UNCONSTRAINED, || {
                    delay.poll_elapsed(cx)
                })
                .map(|()| Err(Elapsed(())))
            },
        )
    }
}
