//! A token-bucket rate limiter, `Send` or `!Send` from one implementation.
//!
//! The logic lives in [`Bucket`], a plain struct with no sharing and no
//! clock of its own (the caller passes `now`). [`RateLimiter<S>`] shares a
//! bucket through `S`, a [`Shared`] cell: with `Arc<Mutex<Bucket>>` (the
//! default, [`SendRateLimiter`]) the limiter is `Send + Sync` and its
//! futures can move between worker threads; with `Rc<RefCell<Bucket>>`
//! ([`LocalRateLimiter`]) it is `!Send`, costs no atomics or locks, and
//! belongs in `brisk::spawn_local` tasks. Whether `acquire`'s future is
//! `Send` follows from `S`; nothing is written twice.
//!
//! # Cancel safety
//! [`RateLimiter::acquire`] is cancel-safe: tokens are taken only in the
//! poll that returns `Ready`, so dropping the future (a `select!` branch
//! that lost, a timeout, a cancelled task) takes nothing.

use brisk::time::{Duration, Instant};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// Tokens refilled continuously at `rate` per second, up to `burst`.
#[derive(Debug, Clone)]
pub struct Bucket {
    burst: f64,
    per_sec: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(per_sec: u32, burst: u32, now: Instant) -> Bucket {
        assert!(per_sec > 0 && burst > 0, "rate and burst must be positive");
        Bucket {
            burst: f64::from(burst),
            per_sec: f64::from(per_sec),
            tokens: f64::from(burst),
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.per_sec).min(self.burst);
        self.last = self.last.max(now);
    }

    /// Takes `n` tokens, or says how long until they will be there.
    ///
    /// # Panics
    /// If `n` is more than the burst (it could never be served).
    pub fn try_take(&mut self, n: u32, now: Instant) -> Result<(), Duration> {
        assert!(
            f64::from(n) <= self.burst,
            "asked for more tokens than the burst"
        );
        self.refill(now);
        let n = f64::from(n);
        if self.tokens >= n {
            self.tokens -= n;
            Ok(())
        } else {
            // Rounded up to a whole nanosecond, and never zero: a zero wait
            // would not advance the clock, and the loop in `acquire` would spin.
            let nanos = ((n - self.tokens) / self.per_sec * 1e9).ceil().max(1.0);
            Err(Duration::from_nanos(nanos as u64))
        }
    }
}

/// A cell that shares a value between clones: the one thing that differs
/// between `Send` and `!Send` use.
pub trait Shared<T>: Clone {
    /// Wraps `value`.
    fn new(value: T) -> Self;
    /// Runs `f` with exclusive access (never across an `.await`).
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R;
}

impl<T> Shared<T> for Arc<Mutex<T>> {
    fn new(value: T) -> Self {
        Arc::new(Mutex::new(value))
    }
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<T> Shared<T> for Rc<RefCell<T>> {
    fn new(value: T) -> Self {
        Rc::new(RefCell::new(value))
    }
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

/// A rate limiter whose clones share one bucket through `S`.
#[derive(Clone, Debug)]
pub struct RateLimiter<S = Arc<Mutex<Bucket>>> {
    bucket: S,
}

/// The `Send + Sync` limiter, for `brisk::spawn` tasks on any thread.
pub type SendRateLimiter = RateLimiter<Arc<Mutex<Bucket>>>;

/// The `!Send` limiter, for `brisk::spawn_local` tasks: no atomics, no locks.
pub type LocalRateLimiter = RateLimiter<Rc<RefCell<Bucket>>>;

impl<S: Shared<Bucket>> RateLimiter<S> {
    /// `per_sec` tokens a second, at most `burst` at once; starts full.
    /// Reads the current runtime's clock.
    pub fn new(per_sec: u32, burst: u32) -> Self {
        RateLimiter {
            bucket: S::new(Bucket::new(per_sec, burst, Instant::now())),
        }
    }

    /// Takes `n` tokens now, if they are there.
    pub fn try_acquire(&self, n: u32) -> bool {
        self.bucket.with(|b| b.try_take(n, Instant::now()).is_ok())
    }

    /// Waits until `n` tokens are there and takes them. Cancel-safe (see
    /// the module docs).
    pub async fn acquire(&self, n: u32) {
        loop {
            match self.bucket.with(|b| b.try_take(n, Instant::now())) {
                Ok(()) => return,
                Err(wait) => brisk::time::sleep(wait).await,
            }
        }
    }
}
