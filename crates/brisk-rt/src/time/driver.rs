//! The native time driver: timer wheels behind the `TimeDriver` contract.
//!
//! Ground rules:
//! - There is one wheel per worker (a shard), each behind its own mutex. A
//!   timer is armed in the shard of the thread that first polls it, so the
//!   common case (arm, poll, drop on one worker) never contends.
//! - Any thread may advance any shard (`process`); it uses `try_lock` and
//!   skips shards another thread is advancing right now.
//! - A fired entry stays in its wheel, marked fired, until its `Sleep` polls
//!   or drops it (`cancel`), so `poll` can answer `Ready` without races.
//! - Wakers are collected under the shard lock and woken after releasing it.
//! - One tick is one millisecond; deadlines round up, so a timer never fires early.

use super::wheel::{TimerKey, Wheel};
use crate::loom::{AtomicBool, AtomicU64, Mutex, Ordering};
use brisk_core::time::{clock, Instant, TimeDriver, TimerError, TimerId};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

/// Bits of a `TimerId` that hold the shard index.
const SHARD_SHIFT: u32 = 56;

struct Entry {
    waker: Option<Waker>,
    fired: bool,
}

/// The driver shared by a runtime's threads.
pub(crate) struct Driver {
    shards: Box<[Mutex<Wheel<Entry>>]>,
    /// The clock reading that is tick 0.
    origin: Instant,
    /// The tick at which the timer thread plans to wake: 0 while no thread
    /// waits for timers (nobody to wake), u64::MAX while it sleeps with no
    /// timer armed. Arming a timer earlier than this unparks it.
    planned_wake: AtomicU64,

    /// Unparks the thread that waits for timers.
    unpark: std::sync::OnceLock<Arc<dyn Fn() + Send + Sync>>,
    shutdown: AtomicBool,
}

thread_local! {
    /// The shard the current thread arms timers in (its worker index).
    static SHARD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Makes this thread arm its timers in `shard`.
pub(crate) fn set_thread_shard(shard: usize) {
    SHARD.with(|s| s.set(shard));
}

impl Driver {
    pub(crate) fn new(shards: usize) -> Driver {
        let shards = shards.clamp(1, 255);
        Driver {
            shards: (0..shards).map(|_| Mutex::new(Wheel::new())).collect(),
            origin: Instant::from_origin(clock::system_now()),
            planned_wake: AtomicU64::new(0),

            unpark: std::sync::OnceLock::new(),
            shutdown: AtomicBool::new(false),
        }
    }

    /// Sets how to wake the thread that waits for timers.
    pub(crate) fn set_unpark(&self, f: Arc<dyn Fn() + Send + Sync>) {
        let _ = self.unpark.set(f);
    }

    pub(crate) fn clock_now(&self) -> Instant {
        Instant::from_origin(clock::system_now())
    }

    /// Deadline to tick, rounding up.
    fn tick_of(&self, deadline: Instant) -> u64 {
        let d = deadline.saturating_duration_since(self.origin);
        let ms = d.as_millis();
        let round_up = (d.as_nanos() % 1_000_000 != 0) as u128;
        (ms + round_up).min(u64::MAX as u128 - 1) as u64
    }

    /// Tick of the current time, rounding down.
    fn now_tick(&self) -> u64 {
        self.clock_now()
            .saturating_duration_since(self.origin)
            .as_millis()
            .min(u64::MAX as u128 - 1) as u64
    }

    fn split(id: TimerId) -> (usize, TimerKey) {
        (
            (id.0 >> SHARD_SHIFT) as usize,
            TimerKey::from_raw(id.0 & ((1 << SHARD_SHIFT) - 1)),
        )
    }

    fn maybe_unpark(&self, tick: u64) {
        if tick < self.planned_wake.load(Ordering::SeqCst) {
            if let Some(unpark) = self.unpark.get() {
                unpark();
            }
        }
    }

    /// Fires every due timer. Returns how many wakers were woken.
    pub(crate) fn process(&self) -> usize {
        let now = self.now_tick();
        let mut wakers: Vec<Waker> = Vec::new();
        for shard in self.shards.iter() {
            let Ok(mut wheel) = shard.try_lock() else {
                continue;
            };
            if wheel.next_expiration().is_none_or(|t| t > now) {
                continue;
            }
            wheel.advance(now, |_, entry| {
                entry.fired = true;
                if let Some(w) = entry.waker.take() {
                    wakers.push(w);
                }
            });
        }
        let n = wakers.len();
        for w in wakers {
            w.wake();
        }
        n
    }

    /// How long the timer thread may sleep before the next timer is due
    /// (`None`: no timer armed). Records the planned wake so that arming an
    /// earlier timer unparks the sleeper.
    pub(crate) fn park_timeout(&self) -> Option<Duration> {
        // Publish "sleeping" first: a timer armed while we scan unparks us.
        self.planned_wake.store(u64::MAX, Ordering::SeqCst);
        let mut next = u64::MAX;
        for shard in self.shards.iter() {
            if let Some(t) = shard.lock().unwrap().next_expiration() {
                next = next.min(t);
            }
        }
        self.planned_wake.store(next, Ordering::SeqCst);
        if next == u64::MAX {
            return None;
        }
        let deadline = self.origin + Duration::from_millis(next);
        Some(deadline.saturating_duration_since(self.clock_now()))
    }

    /// The timer thread woke up; arming no longer needs to unpark it.
    pub(crate) fn clear_planned_wake(&self) {
        self.planned_wake.store(0, Ordering::SeqCst);
    }

    /// Stops the driver: later operations fail with `TimerError::Shutdown`,
    /// and every pending timer's task is woken so it can observe that.
    pub(crate) fn shutdown(&self) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            let mut wheel = shard.lock().unwrap();
            wheel.advance(u64::MAX - 1, |_, entry| {
                entry.fired = true;
                if let Some(w) = entry.waker.take() {
                    wakers.push(w);
                }
            });
        }
        for w in wakers {
            w.wake();
        }
    }

    /// Timers armed (or fired) and not cancelled yet: the wheels' entries,
    /// counted under their locks rather than by a shared counter on the
    /// arm/cancel path.
    pub(crate) fn live_timers(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap().len() as u64)
            .sum()
    }
}

impl TimeDriver for Driver {
    fn now(&self) -> Instant {
        self.clock_now()
    }

    fn register(&self, deadline: Instant, waker: &Waker) -> Result<Option<TimerId>, TimerError> {
        if self.shutdown.load(Ordering::Acquire) {
            return Err(TimerError::Shutdown);
        }
        // `sleep` just read the clock to compute the deadline; compare with
        // that reading instead of reading the clock again. A deadline that
        // passed since then fires on the next `process`.
        if deadline.since_origin() <= clock::last_reading() {
            return Ok(None);
        }
        let tick = self.tick_of(deadline);
        let shard = SHARD.with(|s| s.get()) % self.shards.len();
        let key = self.shards[shard].lock().unwrap().insert(
            tick,
            Entry {
                waker: Some(waker.clone()),
                fired: false,
            },
        );
        self.maybe_unpark(tick);
        Ok(Some(TimerId(
            ((shard as u64) << SHARD_SHIFT) | key.to_raw(),
        )))
    }

    fn poll(&self, id: TimerId, waker: &Waker) -> Result<Poll<()>, TimerError> {
        let (shard, key) = Self::split(id);
        let mut wheel = self.shards[shard].lock().unwrap();
        let Some(entry) = wheel.get_mut(key) else {
            return Err(TimerError::Shutdown);
        };
        if entry.fired {
            drop(wheel);
            if self.shutdown.load(Ordering::Acquire) {
                return Err(TimerError::Shutdown);
            }
            return Ok(Poll::Ready(()));
        }
        match &mut entry.waker {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        Ok(Poll::Pending)
    }

    fn reset(&self, id: TimerId, deadline: Instant) -> Result<(), TimerError> {
        if self.shutdown.load(Ordering::Acquire) {
            return Err(TimerError::Shutdown);
        }
        let (shard, key) = Self::split(id);
        let tick = self.tick_of(deadline);
        {
            let mut wheel = self.shards[shard].lock().unwrap();
            if !wheel.reset(key, tick) {
                return Err(TimerError::Shutdown);
            }
            if let Some(entry) = wheel.get_mut(key) {
                entry.fired = false;
            }
        }
        self.maybe_unpark(tick);
        Ok(())
    }

    /// The timer's slot across all wheels, counting from 1: slot `i` of
    /// shard `s` is `i × shards + s + 1`. Unique among live timers (a slot
    /// holds one entry at a time) and small: it grows with the number of
    /// timers armed at once, not with the number ever armed.
    fn resource_id(&self, id: TimerId) -> u64 {
        let (shard, key) = Self::split(id);
        u64::from(key.index()) * self.shards.len() as u64 + shard as u64 + 1
    }

    fn cancel(&self, id: TimerId) {
        let (shard, key) = Self::split(id);
        let removed = self.shards[shard].lock().unwrap().remove(key);
        // The entry's waker (if any) drops here, outside the lock.
        drop(removed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A timer's resource id is its slot across the shards, counting from 1,
    /// whatever generation the slot is in.
    #[test]
    fn resource_ids_are_small_slot_numbers() {
        let driver = Driver::new(2);
        let far = driver.clock_now() + Duration::from_secs(3600);
        let waker = Waker::noop();
        let arm = |shard: usize| {
            set_thread_shard(shard);
            driver.register(far, waker).unwrap().expect("armed")
        };
        // Recycle slot 0 of shard 0 a few times: its generation moves on.
        for _ in 0..3 {
            let id = arm(0);
            driver.cancel(id);
        }
        let a = arm(0);
        assert!(a.0 >= 1 << 32, "the handle carries the slot's generation");
        let b = arm(0);
        let c = arm(1);
        assert_eq!(driver.resource_id(a), 1);
        assert_eq!(driver.resource_id(c), 2);
        assert_eq!(driver.resource_id(b), 3);
        for id in [a, b, c] {
            driver.cancel(id);
        }
        set_thread_shard(0);
    }
}
