//! A cheap monotonic clock for per-poll timing.
//!
//! Per-poll timing reads the clock twice per poll. `std::time::Instant::now`
//! goes through `clock_gettime`, which costs tens of nanoseconds on virtual
//! machines — as much as a whole poll of a small task. On x86-64 machines
//! whose kernel itself keeps time with the time-stamp counter (the
//! `clocksource` is `tsc`: the counter is invariant and synchronised across
//! cores), this clock reads the counter directly (`rdtsc`) and converts
//! ticks to nanoseconds with a ratio measured once per process against
//! `Instant` (over about a millisecond). Everywhere else it is `Instant`.
//!
//! It is for diagnostics only — busy time, poll-time histograms, hazard
//! thresholds — never for the application's clock (`brisk::time::Instant`
//! asks the runtime, so that a simulation can replace it).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A clock started at some moment: [`CycleClock::now_ns`] counts from it.
///
/// Every clock made by [`CycleClock::new`] is a copy of one process-wide
/// clock, so readings of different runtimes compare (a thread that runs
/// polls of two runtimes one after the other shares its last reading; see
/// `diag::PollRun`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CycleClock {
    epoch: Instant,
    tsc: Option<Tsc>,
}

/// The counter's value at the epoch and the calibrated conversion.
#[derive(Debug, Clone, Copy)]
struct Tsc {
    start: u64,
    /// Nanoseconds per tick in 32.32 fixed point.
    ns_per_tick: u64,
}

impl CycleClock {
    /// The process-wide clock, whose zero is the first call.
    pub(crate) fn new() -> CycleClock {
        static CLOCK: OnceLock<CycleClock> = OnceLock::new();
        *CLOCK.get_or_init(|| {
            let tsc = calibration().map(|ns_per_tick| Tsc {
                start: ticks(),
                ns_per_tick,
            });
            CycleClock {
                epoch: Instant::now(),
                tsc,
            }
        })
    }

    /// Nanoseconds since the clock was made. Under loom, always 0: a model
    /// must explore the same atomic operations on every run, and a poll's
    /// measured length decides whether its slow path (with atomics of its
    /// own) runs.
    #[inline]
    pub(crate) fn now_ns(&self) -> u64 {
        if cfg!(loom) {
            return 0;
        }
        match self.tsc {
            Some(t) => {
                let elapsed = ticks().saturating_sub(t.start);
                ((elapsed as u128 * t.ns_per_tick as u128) >> 32) as u64
            }
            None => self.epoch.elapsed().as_nanos() as u64,
        }
    }

    /// True when the clock reads the time-stamp counter.
    #[cfg(test)]
    pub(crate) fn uses_tsc(&self) -> bool {
        self.tsc.is_some()
    }
}

/// The process-wide ratio (nanoseconds per tick, 32.32), or `None` when
/// the counter is not to be trusted here.
fn calibration() -> Option<u64> {
    static RATIO: OnceLock<Option<u64>> = OnceLock::new();
    *RATIO.get_or_init(|| {
        if !tsc_is_clocksource() {
            return None;
        }
        let (i0, t0) = paired_reading();
        // Spin rather than sleep: a sleep on a busy machine could last far
        // longer, which is harmless, but a spin bounds the start-up cost.
        while i0.elapsed() < Duration::from_millis(1) {
            std::hint::spin_loop();
        }
        let (i1, t1) = paired_reading();
        let ns = i1.duration_since(i0).as_nanos();
        let ticks = t1.checked_sub(t0).filter(|&d| d > 0)?;
        let ratio = (ns << 32) / ticks as u128;
        u64::try_from(ratio).ok().filter(|&r| r > 0)
    })
}

/// An `Instant` and the counter read at (nearly) the same moment: of a few
/// tries, the one whose counter readings around `Instant::now` are closest,
/// so that a preemption between the two clocks cannot skew the ratio.
fn paired_reading() -> (Instant, u64) {
    let mut best = (Instant::now(), ticks(), u64::MAX);
    for _ in 0..16 {
        let before = ticks();
        let now = Instant::now();
        let after = ticks();
        let width = after.wrapping_sub(before);
        if width < best.2 {
            best = (now, before + width / 2, width);
        }
    }
    (best.0, best.1)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux", not(loom), not(miri)))]
fn tsc_is_clocksource() -> bool {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .is_ok_and(|s| s.trim() == "tsc")
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(loom), not(miri))))]
fn tsc_is_clocksource() -> bool {
    false
}

#[cfg(all(target_arch = "x86_64", target_os = "linux", not(loom), not(miri)))]
#[inline]
fn ticks() -> u64 {
    // SAFETY: `rdtsc` exists on every x86-64 processor and has no
    // preconditions; it only reads the counter.
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(loom), not(miri))))]
#[inline]
fn ticks() -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_instant() {
        let clock = CycleClock::new();
        let i0 = Instant::now();
        let a = clock.now_ns();
        std::thread::sleep(Duration::from_millis(20));
        let b = clock.now_ns();
        let real = i0.elapsed().as_nanos() as u64;
        assert!(b > a);
        // Within 10% of `Instant` (plus scheduling slack) over 20 ms.
        let measured = b - a;
        assert!(
            measured <= real + real / 10 && measured >= 20_000_000 - 2_000_000,
            "tsc: {}, measured {measured} ns, real {real} ns",
            clock.uses_tsc()
        );
    }

    #[test]
    fn is_monotonic_across_threads() {
        let clock = std::sync::Arc::new(CycleClock::new());
        let mut last = clock.now_ns();
        for _ in 0..50 {
            let c = clock.clone();
            let there = std::thread::spawn(move || c.now_ns()).join().unwrap();
            assert!(there >= last, "{there} < {last}");
            last = there;
        }
    }
}
