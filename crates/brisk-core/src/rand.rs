//! Randomness through the current runtime.
//!
//! Every function here asks the runtime polling the calling task for its
//! random numbers, so the same code draws from the native runtime's fast
//! per-runtime generator in production and from a seeded, per-node generator
//! in the simulator (where a run is then reproducible from its seed).
//! Outside any runtime a per-thread generator, seeded from the operating
//! system's entropy, is used.
//!
//! The generator is *not* cryptographically secure: use it for jitter,
//! sampling, load balancing and tests, never for keys or tokens.
//!
//! ```
//! # brisk::run(async {
//! let jitter_ms = brisk::rand::range(0..50u64);
//! assert!(jitter_ms < 50);
//! let mut order = vec![1, 2, 3, 4];
//! brisk::rand::shuffle(&mut order);
//! order.sort();
//! assert_eq!(order, [1, 2, 3, 4]);
//! # });
//! ```

use std::cell::Cell;
use std::ops::{Range, RangeInclusive};
// A single `fetch_add` on a counter: every interleaving hands each caller a
// distinct state, so there is nothing for a loom model to explore; plain std
// atomics keep the generator usable outside loom models as well.
use std::sync::atomic::{AtomicU64, Ordering};

/// The wyrand increment (an odd constant, so the state walks all 2^64 values).
const WY_ADD: u64 = 0xa076_1d64_78bd_642f;
/// The wyrand mixing constant.
const WY_XOR: u64 = 0xe703_7ed1_a0b4_28db;

/// The wyrand output function of state `s`.
#[inline]
fn wymix(s: u64) -> u64 {
    let t = u128::from(s).wrapping_mul(u128::from(s ^ WY_XOR));
    ((t >> 64) as u64) ^ (t as u64)
}

/// A fast, seedable generator (wyrand: a 64-bit counter and a multiply-mix).
///
/// Backends own one each (principle: no globals). Its state is an atomic
/// counter, so one generator can serve every worker of a runtime: `next_u64`
/// is one `fetch_add` and a multiply. Same seed, same sequence (for a
/// single-threaded caller such as the simulator).
///
/// ```
/// use brisk::rand::Rng;
/// let a = Rng::from_seed(7);
/// let b = Rng::from_seed(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Debug)]
pub struct Rng {
    state: AtomicU64,
}

impl Rng {
    /// A generator that produces the sequence determined by `seed`.
    pub const fn from_seed(seed: u64) -> Rng {
        Rng {
            state: AtomicU64::new(seed),
        }
    }

    /// A generator seeded from the operating system's entropy.
    pub fn from_entropy() -> Rng {
        Rng::from_seed(entropy_seed())
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&self) -> u64 {
        wymix(
            self.state
                .fetch_add(WY_ADD, Ordering::Relaxed)
                .wrapping_add(WY_ADD),
        )
    }
}

/// 64 bits of seed from the operating system's entropy (through the keys
/// std draws for `HashMap`), different on every call.
pub fn entropy_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::time::clock::system_now().as_nanos() as u64);
    h.finish()
}

/// Mixes two 64-bit values into one well-spread value (for deriving seeds,
/// for example a node's from the simulation's seed and the node's name).
///
/// ```
/// assert_ne!(brisk::rand::mix(1, 2), brisk::rand::mix(2, 1));
/// ```
pub fn mix(a: u64, b: u64) -> u64 {
    wymix(wymix(a.wrapping_add(WY_ADD)) ^ b)
}

thread_local! {
    /// The generator used outside any runtime: the state of a thread-local
    /// wyrand, seeded lazily (0 means "not seeded yet").
    static LOCAL: Cell<u64> = const { Cell::new(0) };
}

fn thread_local_u64() -> u64 {
    LOCAL
        .try_with(|s| {
            let mut state = s.get();
            if state == 0 {
                state = entropy_seed() | 1;
            }
            state = state.wrapping_add(WY_ADD);
            s.set(state);
            wymix(state)
        })
        // During thread teardown: fresh entropy each call.
        .unwrap_or_else(|_| wymix(entropy_seed()))
}

/// 64 random bits from the current runtime (or the thread's generator
/// outside a runtime).
///
/// ```
/// # brisk::run(async {
/// let id = brisk::rand::u64();
/// # let _ = id;
/// # });
/// ```
#[inline]
pub fn u64() -> u64 {
    match crate::context::with_current(|h| h.backend().rand_u64()) {
        Some(Some(v)) => v,
        _ => thread_local_u64(),
    }
}

/// 32 random bits.
///
/// ```
/// let _ = brisk::rand::u32();
/// ```
#[inline]
pub fn u32() -> u32 {
    (u64() >> 32) as u32
}

/// A uniform `f64` in `[0, 1)`.
///
/// ```
/// let x = brisk::rand::f64();
/// assert!((0.0..1.0).contains(&x));
/// ```
#[inline]
pub fn f64() -> f64 {
    (u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// True with probability `p` (clamped to `[0, 1]`).
///
/// ```
/// assert!(brisk::rand::bool(1.0));
/// assert!(!brisk::rand::bool(0.0));
/// ```
#[inline]
pub fn bool(p: f64) -> bool {
    if p >= 1.0 {
        return true;
    }
    if p <= 0.0 || p.is_nan() {
        return false;
    }
    f64() < p
}

/// A uniform value below `n` (Lemire's nearly divisionless method: unbiased).
fn below(n: u64, mut next: impl FnMut() -> u64) -> u64 {
    debug_assert!(n > 0);
    let mut m = u128::from(next()) * u128::from(n);
    if (m as u64) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u64) < threshold {
            m = u128::from(next()) * u128::from(n);
        }
    }
    (m >> 64) as u64
}

/// A uniform index below `n` drawn from `next` (for backends that keep their
/// own generator, such as the simulator's scheduler).
///
/// # Panics
/// If `n` is zero.
#[track_caller]
pub fn below_with(n: u64, next: impl FnMut() -> u64) -> u64 {
    assert!(n > 0, "{}", crate::error::RAND_EMPTY_RANGE);
    below(n, next)
}

/// A range `range` can sample from: `lo..hi` and `lo..=hi` of the integer
/// types.
pub trait SampleRange {
    /// The type of the values.
    type Item;
    /// A uniform value in the range, from the 64-bit source `next`.
    ///
    /// # Panics
    /// If the range is empty.
    fn sample(self, next: &mut dyn FnMut() -> u64) -> Self::Item;
}

macro_rules! sample_int {
    ($($t:ty => $u:ty),*) => {$(
        impl SampleRange for Range<$t> {
            type Item = $t;
            #[track_caller]
            fn sample(self, next: &mut dyn FnMut() -> u64) -> $t {
                assert!(self.start < self.end, "{}", crate::error::RAND_EMPTY_RANGE);
                let span = (self.end as $u).wrapping_sub(self.start as $u) as u64;
                (self.start as $u).wrapping_add(below(span, next) as $u) as $t
            }
        }
        impl SampleRange for RangeInclusive<$t> {
            type Item = $t;
            #[track_caller]
            fn sample(self, next: &mut dyn FnMut() -> u64) -> $t {
                let (lo, hi) = self.into_inner();
                assert!(lo <= hi, "{}", crate::error::RAND_EMPTY_RANGE);
                let span = (hi as $u).wrapping_sub(lo as $u) as u64;
                let off = if span == u64::MAX { next() } else { below(span + 1, next) };
                (lo as $u).wrapping_add(off as $u) as $t
            }
        }
    )*};
}

sample_int!(u8 => u8, u16 => u16, u32 => u32, u64 => u64, usize => usize,
    i8 => u8, i16 => u16, i32 => u32, i64 => u64, isize => usize);

/// A uniform value in `range` (`lo..hi` or `lo..=hi`, any integer type).
///
/// # Panics
/// If the range is empty.
///
/// ```
/// let die = brisk::rand::range(1..=6);
/// assert!((1..=6).contains(&die));
/// let i = brisk::rand::range(0..10usize);
/// assert!(i < 10);
/// ```
#[track_caller]
pub fn range<R: SampleRange>(range: R) -> R::Item {
    range.sample(&mut u64)
}

/// Fills `buf` with random bytes.
///
/// ```
/// let mut key = [0u8; 16];
/// brisk::rand::fill(&mut key);
/// ```
pub fn fill(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        let bytes = u64().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// Shuffles `slice` uniformly (Fisher–Yates).
///
/// ```
/// let mut v: Vec<u32> = (0..10).collect();
/// brisk::rand::shuffle(&mut v);
/// v.sort();
/// assert_eq!(v, (0..10).collect::<Vec<_>>());
/// ```
pub fn shuffle<T>(slice: &mut [T]) {
    for i in (1..slice.len()).rev() {
        let j = below(i as u64 + 1, u64) as usize;
        slice.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_sequences_repeat_and_differ() {
        let (a, b, c) = (Rng::from_seed(1), Rng::from_seed(1), Rng::from_seed(2));
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn ranges_stay_inside_and_cover() {
        let mut seen = [false; 6];
        for _ in 0..1000 {
            let v = range(1..=6u8);
            assert!((1..=6).contains(&v));
            seen[usize::from(v - 1)] = true;
            let w = range(-3..3i32);
            assert!((-3..3).contains(&w));
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(range(5..6u64), 5);
        let _ = range(i64::MIN..=i64::MAX);
    }

    #[test]
    #[should_panic(expected = "empty range")]
    fn empty_range_panics() {
        let _ = range(3..3u32);
    }

    #[test]
    fn f64_and_bool_are_in_bounds() {
        let hits = (0..10_000).filter(|_| bool(0.25)).count();
        assert!((2000..3000).contains(&hits), "{hits}");
        for _ in 0..1000 {
            let x = f64();
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn fill_writes_every_byte() {
        let mut buf = [0u8; 37];
        fill(&mut buf);
        assert!(buf.iter().filter(|b| **b != 0).count() > 20);
    }
}
