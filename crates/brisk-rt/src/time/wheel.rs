//! A hierarchical hashed timer wheel: the data structure behind the time driver.
//!
//! [`Wheel<T>`] maps integer deadlines, measured in *ticks*, to payloads of type
//! `T`. It is a pure data structure: it never reads a clock, never wakes
//! anything and holds no locks. The caller decides what a tick is (one
//! millisecond for the native runtime) and tells the wheel what time it is by
//! calling [`Wheel::advance`].
//!
//! # Levels
//!
//! The wheel has 6 levels of 64 slots. A slot in level `i` is `64^i` ticks wide
//! and the whole level spans `64^(i+1)` ticks: level 0 resolves single ticks over
//! 64 ticks, level 1 has 64-tick slots over 4096 ticks, and level 5 has
//! `2^30`-tick slots over `2^36` ticks (about 2.2 years at one tick per
//! millisecond). An entry due at
//! tick `when` is filed by the usual "highest differing bit" rule: the level is
//! the index of the highest bit in which `when` and [`Wheel::elapsed`] differ,
//! divided by 6, and the slot is the 6-bit digit of `when` at that level. Hence
//! every slot of every level holds only deadlines inside the current rotation of
//! that level, and the first occupied slot of each level (found with a
//! per-level `u64` occupancy bitmask) gives a lower bound for that level's
//! deadlines in O(1).
//!
//! When time reaches the start of an occupied slot in level `i > 0`, its entries
//! are *cascaded*: re-filed relative to the new time, which puts each one in a
//! strictly lower level (or fires it). An entry therefore moves at most 6 times
//! before it fires, which makes [`Wheel::advance`] amortised O(1) per entry, and
//! empty stretches of time are skipped via the bitmasks, so jumping `10^9` ticks
//! costs no more than the entries it touches.
//!
//! Two lists sit beside the levels:
//!
//! * the *due* list holds entries whose deadline is not after `elapsed` (they were
//!   inserted or reset with a deadline in the past, or have just been cascaded
//!   onto their exact deadline). They fire on the next `advance`, whatever `now`
//!   it is given.
//! * the *overflow* list holds entries due `2^36` ticks or more after `elapsed`
//!   (precisely: that differ from `elapsed` above bit 35). It is rescanned each
//!   time the wheel crosses into a new `2^36`-tick epoch, when every entry in it
//!   is re-filed. While the overflow list is being considered the levels are
//!   necessarily empty, so the wheel jumps straight to `min(now, earliest
//!   overflow deadline)`, and even a jump to `u64::MAX` is one scan. The scan is
//!   O(overflow length); a pathological workload of many overflow entries in
//!   many distinct far epochs costs one scan per epoch reached.
//!
//! # Storage
//!
//! Entries live in a slab (a `Vec` plus an intrusive free list). Each list above
//! is a doubly linked list threaded through the slab by `u32` indices, so
//! [`insert`](Wheel::insert), [`remove`](Wheel::remove) and
//! [`reset`](Wheel::reset) are O(1) and, once the slab has grown to its working
//! size, never allocate. A [`TimerKey`] is a slab index plus a 24-bit generation
//! that is bumped whenever the slot is freed, so a stale key is answered with
//! `None`/`false` and can never reach a newer entry (unless one slab slot is
//! reused `2^24` times while the stale key is kept). The generation is 24 bits so
//! that a key packs into 56 bits ([`TimerKey::to_raw`]), leaving the top byte of
//! a `u64` timer id to the driver.
//!
//! # Ground rules: who owns an entry
//!
//! * The wheel owns every payload from [`insert`](Wheel::insert) until
//!   [`remove`](Wheel::remove). Only `remove` takes a payload out and frees its
//!   slab slot; the wheel never frees an entry by itself.
//! * When an entry fires, [`advance`](Wheel::advance) unlinks it, marks it fired
//!   and calls `fire(key, &mut payload)`. The entry **stays in the slab**: its
//!   owner (typically the timer future holding the key) can still
//!   [`get`](Wheel::get) it, [`reset`](Wheel::reset) it to re-arm it, or
//!   [`remove`](Wheel::remove) it. Whoever holds the key must eventually call
//!   `remove`, or the slot leaks until the wheel is dropped.
//! * `fire` cannot touch the wheel (the wheel is mutably borrowed for the whole
//!   call), so nothing can be inserted, reset or removed while `advance` runs.
//!   Callers that need to do so should collect keys inside `fire` and act
//!   afterwards. If `fire` panics, the wheel stays consistent: the entries that
//!   had not fired yet remain armed and fire on the next `advance`.
//! * Firing order: the entries that were already due fire first, then the rest
//!   in non-decreasing deadline order. The order among entries that become due
//!   at the same tick is unspecified.

// The time driver uses only part of this API; the rest is exercised by the tests.
#![allow(dead_code)]

use std::fmt;

/// Bits of a deadline resolved by one level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// Number of levels.
const LEVELS: usize = 6;
/// Number of low bits of a deadline covered by the levels (`2^36` ticks).
const RANGE_BITS: u32 = SLOT_BITS * LEVELS as u32;
/// Number of wheel-slot lists; list `level * SLOTS + slot` is that slot.
const WHEEL_LISTS: usize = LEVELS * SLOTS;
/// List id of the due list.
const DUE: u16 = WHEEL_LISTS as u16;
/// List id of the overflow list.
const OVERFLOW: u16 = DUE + 1;
/// Total number of lists with a head.
const LISTS: usize = WHEEL_LISTS + 2;
/// Pseudo list id of an entry that has fired and is linked nowhere.
const FIRED: u16 = u16::MAX - 1;
/// Pseudo list id of a free slab slot.
const VACANT: u16 = u16::MAX;
/// The "no index" link value.
const NIL: u32 = u32::MAX;
/// Bits of a slot's generation counter (it counts modulo `2^GENERATION_BITS`).
const GENERATION_BITS: u32 = 24;
/// Mask of a valid generation.
const GENERATION_MASK: u32 = (1 << GENERATION_BITS) - 1;

/// Handle to an entry of a [`Wheel`]: a slab index plus the slot's generation.
///
/// Keys stay valid (for `get`, `reset`, `remove`) after the entry fires, until
/// the entry is removed; after that every method answers `None`/`false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerKey {
    /// Index of the entry in the slab.
    index: u32,
    /// Generation of the slab slot when the entry was inserted (below `2^24`).
    generation: u32,
}

impl TimerKey {
    /// Number of low bits that [`to_raw`](Self::to_raw) may set; the bits above
    /// are always zero.
    pub(crate) const RAW_BITS: u32 = 32 + GENERATION_BITS;

    /// Packs the key into the low [`RAW_BITS`](Self::RAW_BITS) bits of a `u64`
    /// (index in bits 0..32, generation in bits 32..56).
    pub(crate) fn to_raw(self) -> u64 {
        u64::from(self.index) | u64::from(self.generation) << 32
    }

    /// The entry's slot in the slab: unique among the wheel's live entries,
    /// reused once an entry is removed.
    pub(crate) fn index(self) -> u32 {
        self.index
    }

    /// Unpacks a key made by [`to_raw`](Self::to_raw).
    ///
    /// Any other value gives a key the wheel treats as stale or unknown (a value
    /// with bits set at or above `RAW_BITS` never matches an entry).
    pub(crate) fn from_raw(raw: u64) -> Self {
        TimerKey {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        }
    }
}

/// One slab slot: a live entry (armed or fired) or a free slot.
struct Node<T> {
    /// Deadline in ticks; meaningful while the slot is live.
    when: u64,
    /// Bumped (modulo `2^24`) every time the slot is freed, invalidating outstanding keys.
    generation: u32,
    /// Previous node in the same list, or `NIL`.
    prev: u32,
    /// Next node in the same list, or `NIL`; for a vacant slot, the next free slot.
    next: u32,
    /// The list the node is on (a wheel slot, `DUE`, `OVERFLOW`), or `FIRED`, or `VACANT`.
    list: u16,
    /// The payload; `None` exactly when the slot is vacant.
    value: Option<T>,
}

/// A hierarchical hashed timer wheel holding payloads of type `T`.
///
/// See the module documentation for the design and the ownership rules.
pub(crate) struct Wheel<T> {
    /// The tick the wheel has advanced to; entries with `when <= elapsed` are due.
    elapsed: u64,
    /// Slab of entries, indexed by `TimerKey::index`.
    nodes: Vec<Node<T>>,
    /// First free slab slot (free slots are chained through `Node::next`), or `NIL`.
    free_head: u32,
    /// First node of every list (wheel slots, then `DUE`, then `OVERFLOW`), or `NIL`.
    heads: [u32; LISTS],
    /// Per level, bit `s` is set exactly when slot `s` of that level is non-empty.
    occupied: [u64; LEVELS],
    /// Lower bound of the deadlines in the overflow list (tight after each rescan).
    overflow_min: u64,
    /// Number of live slab entries, armed or fired.
    len: usize,
    /// Number of armed entries (in a wheel slot, the due list or the overflow list).
    armed: usize,
}

impl<T> Wheel<T> {
    /// Creates an empty wheel whose current tick is 0.
    pub(crate) fn new() -> Self {
        Wheel {
            elapsed: 0,
            nodes: Vec::new(),
            free_head: NIL,
            heads: [NIL; LISTS],
            occupied: [0; LEVELS],
            overflow_min: u64::MAX,
            len: 0,
            armed: 0,
        }
    }

    /// Returns the tick the wheel has advanced to.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Returns the number of entries in the slab: armed ones plus fired ones not yet removed.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Returns true if the slab holds no entry at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the number of entries that are armed (have not fired yet).
    pub(crate) fn armed(&self) -> usize {
        self.armed
    }

    /// Arms a new entry that fires at tick `when` and returns its key.
    ///
    /// `when <= elapsed()` means "due": the entry fires on the next
    /// [`advance`](Self::advance), whatever `now` that call is given.
    ///
    /// # Panics
    ///
    /// Panics if the slab would exceed `u32::MAX - 1` entries.
    pub(crate) fn insert(&mut self, when: u64, value: T) -> TimerKey {
        let index = if self.free_head != NIL {
            let index = self.free_head;
            let node = &mut self.nodes[index as usize];
            self.free_head = node.next;
            node.when = when;
            node.value = Some(value);
            index
        } else {
            let index = match u32::try_from(self.nodes.len()) {
                Ok(index) if index != NIL => index,
                _ => panic!("timer wheel: too many entries"),
            };
            self.nodes.push(Node {
                when,
                generation: 0,
                prev: NIL,
                next: NIL,
                list: FIRED,
                value: Some(value),
            });
            index
        };
        self.len += 1;
        self.arm(index);
        TimerKey {
            index,
            generation: self.nodes[index as usize].generation,
        }
    }

    /// Removes the entry for `key`, armed or fired, and returns its payload. O(1).
    ///
    /// Returns `None` if `key` is stale (already removed) or unknown.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<T> {
        let index = self.lookup(key)?;
        self.disarm(index);
        let node = &mut self.nodes[index as usize];
        node.list = VACANT;
        node.generation = node.generation.wrapping_add(1) & GENERATION_MASK;
        node.prev = NIL;
        node.next = self.free_head;
        self.free_head = index;
        self.len -= 1;
        node.value.take()
    }

    /// Re-arms the entry for `key` (armed or fired) to fire at tick `when`. O(1).
    ///
    /// As with [`insert`](Self::insert), `when <= elapsed()` makes it due.
    /// Returns false, changing nothing, if `key` is stale or unknown.
    pub(crate) fn reset(&mut self, key: TimerKey, when: u64) -> bool {
        let Some(index) = self.lookup(key) else {
            return false;
        };
        self.disarm(index);
        self.nodes[index as usize].when = when;
        self.arm(index);
        true
    }

    /// Returns the payload of the entry for `key`, armed or fired.
    pub(crate) fn get(&self, key: TimerKey) -> Option<&T> {
        let index = self.lookup(key)?;
        self.nodes[index as usize].value.as_ref()
    }

    /// Returns the payload of the entry for `key`, armed or fired, mutably.
    pub(crate) fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        let index = self.lookup(key)?;
        self.nodes[index as usize].value.as_mut()
    }

    /// Returns true if the entry for `key` exists and has not fired yet.
    pub(crate) fn is_armed(&self, key: TimerKey) -> bool {
        self.lookup(key)
            .is_some_and(|index| self.nodes[index as usize].list != FIRED)
    }

    /// Returns the earliest tick at which [`advance`](Self::advance) could fire something.
    ///
    /// The answer is never later than the earliest armed deadline, but may be
    /// earlier when that deadline sits in a coarse level (advancing there merely
    /// cascades entries) or in the overflow list. Returns `Some(elapsed())` if
    /// something is due and `None` if nothing is armed. O(levels).
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        if self.armed == 0 {
            return None;
        }
        if self.heads[DUE as usize] != NIL {
            return Some(self.elapsed);
        }
        let (tick, list) = self.next_bound()?;
        let tick = if list == OVERFLOW {
            tick.max(self.overflow_min)
        } else {
            tick
        };
        Some(tick.max(self.elapsed))
    }

    /// Advances the wheel to tick `now` and fires every entry whose deadline is `<= now`.
    ///
    /// Each firing entry is unlinked and marked fired (it stays in the slab; see
    /// the module documentation), then `fire(key, &mut payload)` is called.
    /// Entries that were already due fire even if `now <= elapsed()`, in which
    /// case the wheel does not move. Amortised O(1) per entry; empty stretches of
    /// time cost nothing, however long.
    pub(crate) fn advance(&mut self, now: u64, mut fire: impl FnMut(TimerKey, &mut T)) {
        loop {
            self.fire_due(&mut fire);
            let Some((start, list)) = self.next_bound() else {
                break;
            };
            if start > now {
                break;
            }
            if list == OVERFLOW {
                // The levels are empty (their deadlines all precede the overflow
                // epoch), so the wheel may jump to any tick not after the
                // earliest overflow deadline.
                debug_assert!(self.occupied.iter().all(|&bits| bits == 0));
                let mut earliest = u64::MAX;
                let mut index = self.heads[OVERFLOW as usize];
                while index != NIL {
                    let node = &self.nodes[index as usize];
                    earliest = earliest.min(node.when);
                    index = node.next;
                }
                debug_assert!(earliest >= start);
                self.elapsed = now.min(earliest);
                self.overflow_min = u64::MAX;
            } else {
                self.elapsed = start;
            }
            self.refile(list);
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// Returns the slab index for `key` if it names a live entry.
    fn lookup(&self, key: TimerKey) -> Option<u32> {
        let node = self.nodes.get(key.index as usize)?;
        (node.generation == key.generation && node.list != VACANT).then_some(key.index)
    }

    /// Returns the list an armed entry due at `when` belongs on, relative to `elapsed`.
    fn list_for(&self, when: u64) -> u16 {
        if when <= self.elapsed {
            return DUE;
        }
        // `| (SLOTS - 1)` makes deadlines within the current 64 ticks land in level 0.
        let masked = (self.elapsed ^ when) | (SLOTS as u64 - 1);
        let level = (63 - masked.leading_zeros()) / SLOT_BITS;
        if level as usize >= LEVELS {
            return OVERFLOW;
        }
        let slot = (when >> (level * SLOT_BITS)) as usize & (SLOTS - 1);
        (level as usize * SLOTS + slot) as u16
    }

    /// Returns the lowest tick at which something in the levels or the overflow
    /// list needs attention, and the list to process then. Ignores the due list.
    fn next_bound(&self) -> Option<(u64, u16)> {
        let mut best: Option<(u64, u16)> = None;
        for (level, &bits) in self.occupied.iter().enumerate() {
            if bits == 0 {
                continue;
            }
            let slot = bits.trailing_zeros();
            let shift = level as u32 * SLOT_BITS;
            // Start of the current rotation of this level, plus the slot's offset.
            let rotation = self.elapsed & !((1u64 << (shift + SLOT_BITS)) - 1);
            let start = rotation + (u64::from(slot) << shift);
            if best.is_none_or(|(tick, _)| start < tick) {
                best = Some((start, (level * SLOTS) as u16 + slot as u16));
            }
        }
        if best.is_none() && self.heads[OVERFLOW as usize] != NIL {
            // Overflow deadlines lie in a later 2^36-tick epoch than `elapsed`,
            // so this cannot overflow.
            let epoch = ((self.elapsed >> RANGE_BITS) + 1) << RANGE_BITS;
            best = Some((epoch, OVERFLOW));
        }
        best
    }

    /// Re-files every entry of `list` relative to the (just moved) `elapsed`.
    ///
    /// Entries that are now due go to the due list rather than firing here, so
    /// no user code runs while lists are being rearranged.
    fn refile(&mut self, list: u16) {
        let mut index = self.heads[list as usize];
        while index != NIL {
            let next = self.nodes[index as usize].next;
            self.unlink(index);
            // Relinking at the head of the same list (overflow only) leaves the
            // unvisited tail starting at `next` untouched.
            let target = self.list_for(self.nodes[index as usize].when);
            debug_assert!(target != list || list == OVERFLOW);
            self.link(index, target);
            index = next;
        }
    }

    /// Fires every entry of the due list, one at a time.
    fn fire_due(&mut self, fire: &mut impl FnMut(TimerKey, &mut T)) {
        loop {
            let index = self.heads[DUE as usize];
            if index == NIL {
                return;
            }
            self.disarm(index);
            let node = &mut self.nodes[index as usize];
            let key = TimerKey {
                index,
                generation: node.generation,
            };
            if let Some(value) = node.value.as_mut() {
                fire(key, value);
            }
        }
    }

    /// Files the live, unlinked entry `index` on the list its deadline calls for.
    fn arm(&mut self, index: u32) {
        let list = self.list_for(self.nodes[index as usize].when);
        self.link(index, list);
        self.armed += 1;
    }

    /// Unlinks the live entry `index` if it is armed and marks it fired.
    fn disarm(&mut self, index: u32) {
        if self.nodes[index as usize].list != FIRED {
            self.unlink(index);
            self.nodes[index as usize].list = FIRED;
            self.armed -= 1;
        }
    }

    /// Pushes `index` on the front of `list`.
    fn link(&mut self, index: u32, list: u16) {
        let head = self.heads[list as usize];
        if head != NIL {
            self.nodes[head as usize].prev = index;
        }
        let node = &mut self.nodes[index as usize];
        node.prev = NIL;
        node.next = head;
        node.list = list;
        self.heads[list as usize] = index;
        let list = list as usize;
        if list < WHEEL_LISTS {
            self.occupied[list / SLOTS] |= 1 << (list % SLOTS);
        } else if list == OVERFLOW as usize {
            self.overflow_min = if head == NIL {
                node.when
            } else {
                self.overflow_min.min(node.when)
            };
        }
    }

    /// Takes `index` off the list it is on (it must be on one).
    fn unlink(&mut self, index: u32) {
        let node = &self.nodes[index as usize];
        let (prev, next, list) = (node.prev, node.next, node.list as usize);
        debug_assert!(list < LISTS);
        if prev != NIL {
            self.nodes[prev as usize].next = next;
        } else {
            self.heads[list] = next;
            if next == NIL && list < WHEEL_LISTS {
                self.occupied[list / SLOTS] &= !(1 << (list % SLOTS));
            }
        }
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        }
    }
}

impl<T> Default for Wheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Wheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.len)
            .field("armed", &self.armed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    /// Deterministic xorshift64 generator.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn fire_all(w: &mut Wheel<u64>, now: u64) -> Vec<(TimerKey, u64)> {
        let mut out = Vec::new();
        w.advance(now, |key, value| out.push((key, *value)));
        out
    }

    fn fired_values(w: &mut Wheel<u64>, now: u64) -> Vec<u64> {
        fire_all(w, now).into_iter().map(|(_, v)| v).collect()
    }

    #[test]
    fn empty_wheel() {
        let mut w: Wheel<u64> = Wheel::new();
        assert_eq!(w.elapsed(), 0);
        assert_eq!((w.len(), w.armed()), (0, 0));
        assert!(w.is_empty());
        assert_eq!(w.next_expiration(), None);
        assert!(fired_values(&mut w, 1_000).is_empty());
        assert_eq!(w.elapsed(), 1_000);
        assert!(fired_values(&mut w, 10).is_empty());
        assert_eq!(w.elapsed(), 1_000, "advance never goes backwards");
    }

    #[test]
    fn insert_get_remove() {
        let mut w = Wheel::new();
        let a = w.insert(10, 1u64);
        let b = w.insert(5_000, 2u64);
        assert_ne!(a, b);
        assert_eq!((w.len(), w.armed()), (2, 2));
        assert_eq!(w.get(a), Some(&1));
        assert!(w.is_armed(a) && w.is_armed(b));
        *w.get_mut(b).unwrap() = 20;
        assert_eq!(w.next_expiration(), Some(10));

        assert_eq!(w.remove(a), Some(1));
        assert_eq!(w.remove(a), None);
        assert_eq!(w.get(a), None);
        assert!(!w.is_armed(a));
        assert_eq!((w.len(), w.armed()), (1, 1));
        // `b` sits in level 2 (slot 1 starts at 4096).
        assert_eq!(w.next_expiration(), Some(4_096));

        assert!(fired_values(&mut w, 4_999).is_empty());
        assert_eq!(fired_values(&mut w, 5_000), vec![20]);
        assert_eq!(w.remove(b), Some(20));
        assert!(w.is_empty());
        assert_eq!(w.next_expiration(), None);
    }

    #[test]
    fn reset_armed_and_fired() {
        let mut w = Wheel::new();
        let k = w.insert(100, 7u64);
        assert!(w.reset(k, 10));
        assert_eq!(w.next_expiration(), Some(10));
        assert!(fired_values(&mut w, 9).is_empty());
        assert_eq!(fired_values(&mut w, 10), vec![7]);
        assert!(!w.is_armed(k));
        assert_eq!((w.len(), w.armed()), (1, 0));
        assert_eq!(w.next_expiration(), None);

        // Re-arm a fired entry.
        assert!(w.reset(k, 1_000_000));
        assert!(w.is_armed(k));
        assert_eq!(w.armed(), 1);
        assert!(fired_values(&mut w, 999_999).is_empty());
        assert_eq!(fired_values(&mut w, 1_000_000), vec![7]);

        // Reset into the past makes it due.
        assert!(w.reset(k, 3));
        assert_eq!(w.next_expiration(), Some(1_000_000));
        assert_eq!(fired_values(&mut w, 0), vec![7]);

        // Reset moves an armed entry later, across levels and into the overflow list.
        assert!(w.reset(k, 1_000_100));
        assert!(w.reset(k, 1_000_000 + (1 << 40)));
        assert!(w.reset(k, 1_000_000 + 64));
        assert!(fired_values(&mut w, 1_000_063).is_empty());
        assert_eq!(fired_values(&mut w, u64::MAX), vec![7]);
        assert_eq!(w.remove(k), Some(7));
        assert!(!w.reset(k, 5));
    }

    #[test]
    fn due_entries_fire_on_next_advance() {
        let mut w = Wheel::new();
        w.advance(100, |_, _: &mut u64| unreachable!());
        let a = w.insert(100, 1u64);
        let b = w.insert(3, 2u64);
        let c = w.insert(101, 3u64);
        assert_eq!(w.next_expiration(), Some(100));
        let mut got = fired_values(&mut w, 50);
        got.sort_unstable();
        assert_eq!(got, vec![1, 2]);
        assert_eq!(w.elapsed(), 100);
        assert!(!w.is_armed(a) && !w.is_armed(b) && w.is_armed(c));
        assert_eq!(w.next_expiration(), Some(101));
        assert_eq!(fired_values(&mut w, 101), vec![3]);
    }

    /// Deadlines on and around every level boundary, from several starting ticks.
    #[test]
    fn exact_firing_at_level_boundaries() {
        let mut deadlines = vec![1, 2, 62, 63, 64, 65, 127, 128, 129];
        for level in 2..=8u32 {
            let b = 1u64 << (6 * level);
            deadlines.extend([b - 1, b, b + 1, 3 * b - 1, 3 * b]);
        }
        deadlines.extend([(1 << 42) + 12_345, 1 << 50, u64::MAX - 1, u64::MAX]);
        let origins = [
            0,
            1,
            62,
            63,
            64,
            4_095,
            4_096,
            123_456_789,
            (1 << 36) - 1,
            (1 << 36) + 7,
            u64::MAX - (1 << 37),
        ];
        for &origin in &origins {
            for &d in &deadlines {
                let when = origin.saturating_add(d);
                if when == origin {
                    continue;
                }
                // Jump straight to the tick before, then to the deadline.
                let mut w = Wheel::new();
                w.advance(origin, |_, _: &mut u64| unreachable!());
                let k = w.insert(when, d);
                let next = w.next_expiration().unwrap();
                assert!(next > origin && next <= when, "{origin} {d} {next}");
                assert!(fired_values(&mut w, when - 1).is_empty(), "{origin} {d}");
                assert!(w.is_armed(k));
                assert!(w.next_expiration().unwrap() <= when);
                assert_eq!(fire_all(&mut w, when), vec![(k, d)], "{origin} {d}");
                assert_eq!(w.armed(), 0);

                // Drive it like the time driver does: always to `next_expiration`.
                let mut w = Wheel::new();
                w.advance(origin, |_, _: &mut u64| unreachable!());
                let k = w.insert(when, d);
                let mut steps = 0;
                while w.is_armed(k) {
                    let next = w.next_expiration().unwrap();
                    assert!(next <= when);
                    let fired = fired_values(&mut w, next);
                    assert_eq!(fired.is_empty(), next < when, "{origin} {d} {next}");
                    steps += 1;
                }
                assert!(steps <= LEVELS + 1, "{origin} {d} took {steps} steps");
                assert_eq!(w.elapsed(), when);
            }
        }
    }

    #[test]
    fn firing_order_across_levels() {
        let mut rng = XorShift(0x1234_5678_9abc_def1);
        let mut deadlines: Vec<u64> = (0..2_000).map(|_| 1 + rng.below(1 << 30)).collect();
        deadlines.extend([63, 64, 4_095, 4_096, 262_143, 262_144, 1 << 24, 1 << 30]);
        let mut w = Wheel::new();
        for &d in &deadlines {
            w.insert(d, d);
        }
        // One big jump: everything fires, in deadline order.
        let got = fired_values(&mut w, 1 << 31);
        let mut sorted = deadlines.clone();
        sorted.sort_unstable();
        assert_eq!(got, sorted);

        // Many uneven steps: each entry fires in the step that reaches it.
        let mut w = Wheel::new();
        for &d in &deadlines {
            w.insert(d, d);
        }
        let mut now = 0;
        let mut all = Vec::new();
        while now < 1 << 30 {
            let prev = now;
            let bits = rng.below(24);
            now += 1 + rng.below(1 << bits);
            for v in fired_values(&mut w, now) {
                assert!(v > prev && v <= now);
                all.push(v);
            }
        }
        assert_eq!(all, sorted);
    }

    #[test]
    fn tick_by_tick() {
        let mut w = Wheel::new();
        for d in (1..20_000u64).step_by(3) {
            w.insert(d, d);
        }
        for now in 1..20_000u64 {
            let expect: Vec<u64> = if now % 3 == 1 { vec![now] } else { vec![] };
            assert_eq!(fired_values(&mut w, now), expect);
        }
        assert_eq!(w.armed(), 0);
    }

    #[test]
    fn big_jumps() {
        let mut rng = XorShift(42);
        let mut w = Wheel::new();
        let mut deadlines: Vec<u64> = (0..10_000).map(|_| 1 + rng.below(1 << 40)).collect();
        for &d in &deadlines {
            w.insert(d, d);
        }
        deadlines.sort_unstable();
        let cut = deadlines.partition_point(|&d| d <= 1_000_000_000);
        assert_eq!(fired_values(&mut w, 1_000_000_000), deadlines[..cut]);
        let cut2 = deadlines.partition_point(|&d| d <= 1 << 39);
        assert_eq!(fired_values(&mut w, 1 << 39), deadlines[cut..cut2]);
        assert_eq!(fired_values(&mut w, u64::MAX), deadlines[cut2..]);
        assert_eq!(w.elapsed(), u64::MAX);

        // Two lonely entries far apart: neither iterates the gap.
        let mut w = Wheel::new();
        w.insert(1, 1u64);
        w.insert(1_000_000_000_000_000_000, 2);
        assert_eq!(fired_values(&mut w, 999_999_999_999_999_999), vec![1]);
        assert_eq!(w.next_expiration(), Some(1_000_000_000_000_000_000));
        assert_eq!(fired_values(&mut w, 1_000_000_000_000_000_000), vec![2]);
    }

    #[test]
    fn fired_entries_stay_until_removed() {
        let mut w = Wheel::new();
        let k = w.insert(5, 9u64);
        assert_eq!(fire_all(&mut w, 5), vec![(k, 9)]);
        assert_eq!((w.len(), w.armed()), (1, 0));
        assert_eq!(w.get(k), Some(&9));
        *w.get_mut(k).unwrap() += 1;
        assert!(!w.is_armed(k));
        // Firing happens once only.
        assert!(fire_all(&mut w, 1_000).is_empty());
        assert_eq!(w.remove(k), Some(10));
        assert_eq!((w.len(), w.armed()), (0, 0));
    }

    #[test]
    fn stale_keys() {
        let mut w = Wheel::new();
        let old = w.insert(10, 1u64);
        assert_eq!(w.remove(old), Some(1));
        let new = w.insert(20, 2u64);
        assert_eq!(new.index, old.index, "slot is reused");
        assert_ne!(new, old);
        assert_eq!(w.get(old), None);
        assert_eq!(w.get_mut(old), None);
        assert!(!w.is_armed(old));
        assert!(!w.reset(old, 5));
        assert_eq!(w.remove(old), None);
        assert_eq!(w.get(new), Some(&2));
        assert!(w.is_armed(new));

        let unknown = TimerKey {
            index: 1_000,
            generation: 0,
        };
        assert_eq!(w.get(unknown), None);
        assert_eq!(w.remove(unknown), None);
        assert!(!w.reset(unknown, 1));
        assert_eq!(fired_values(&mut w, 20), vec![2]);
        assert_eq!((w.len(), w.armed()), (1, 0));
    }

    #[test]
    fn raw_keys() {
        let mut w = Wheel::new();
        let keys: Vec<TimerKey> = (0..100u64).map(|v| w.insert(v, v)).collect();
        for &key in &keys {
            let raw = key.to_raw();
            assert!(raw < 1 << TimerKey::RAW_BITS);
            assert_eq!(TimerKey::from_raw(raw), key);
        }
        // The generation wraps at 2^24, and packed keys still round-trip.
        let k = keys[7];
        w.nodes[k.index as usize].generation = GENERATION_MASK;
        let k = TimerKey::from_raw(u64::from(GENERATION_MASK) << 32 | u64::from(k.index));
        assert_eq!(w.remove(k), Some(7));
        let k2 = w.insert(1, 70);
        assert_eq!((k2.index, k2.generation), (k.index, 0));
        assert_eq!(TimerKey::from_raw(k2.to_raw()), k2);
        assert_eq!(w.get(k), None);
        // Garbage in the high byte never matches a live entry.
        assert_eq!(w.get(TimerKey::from_raw(k2.to_raw() | 1 << 56)), None);
        assert_eq!(w.get(TimerKey::from_raw(u64::MAX)), None);
        assert!(!w.reset(TimerKey::from_raw(u64::MAX), 3));
    }

    #[test]
    fn beyond_wheel_range() {
        const EPOCH: u64 = 1 << 36;
        let deadlines = [
            EPOCH - 1,
            EPOCH,
            EPOCH + 1,
            2 * EPOCH + 5,
            1 << 40,
            (1 << 50) + 3,
            u64::MAX - 1,
            u64::MAX,
        ];
        let mut w = Wheel::new();
        for &d in deadlines.iter().rev() {
            w.insert(d, d);
        }
        assert_eq!(w.next_expiration(), Some(63 << 30), "level 5, slot 63");
        for &d in &deadlines {
            assert!(w.next_expiration().unwrap() <= d);
            assert!(fired_values(&mut w, d - 1).is_empty(), "{d}");
            assert_eq!(fired_values(&mut w, d), vec![d]);
        }

        // Remove and reset entries sitting in the overflow list.
        let mut w = Wheel::new();
        let a = w.insert(1 << 40, 1u64);
        let b = w.insert(1 << 41, 2u64);
        let c = w.insert(1 << 42, 3u64);
        assert_eq!(w.next_expiration(), Some(1 << 40));
        assert_eq!(w.remove(a), Some(1));
        assert!(w.next_expiration().unwrap() <= 1 << 41);
        assert!(w.reset(b, 50));
        assert_eq!(w.next_expiration(), Some(50));
        assert!(w.reset(c, 1 << 38));
        assert_eq!(fired_values(&mut w, 1 << 37), vec![2]);
        assert_eq!(w.next_expiration(), Some(1 << 38));
        assert_eq!(fired_values(&mut w, u64::MAX), vec![3]);
    }

    #[test]
    fn panic_in_fire_leaves_wheel_consistent() {
        let mut w = Wheel::new();
        for v in 0..3u64 {
            w.insert(5_000, v);
        }
        w.insert(6_000, 3);
        let mut calls = 0;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            w.advance(10_000, |_, _| {
                calls += 1;
                panic!("boom");
            })
        }));
        assert!(result.is_err());
        assert_eq!(calls, 1);
        assert_eq!((w.len(), w.armed()), (4, 3));
        assert_eq!(w.next_expiration(), Some(5_000));
        let mut rest = fired_values(&mut w, 10_000);
        rest.sort_unstable();
        assert_eq!(rest.len(), 3);
        assert_eq!(rest[2], 3);
        assert_eq!(w.armed(), 0);
    }

    /// Model entry: payload id, deadline, and whether it is still armed.
    struct Model {
        id: u64,
        when: u64,
        armed: bool,
    }

    fn random_deadline(rng: &mut XorShift, elapsed: u64) -> u64 {
        match rng.below(10) {
            0 => elapsed.saturating_sub(rng.below(100)),
            1 => elapsed.saturating_add(1 + rng.below(64)),
            2 => elapsed.saturating_add(1 + rng.below(4_096)),
            3 => elapsed.saturating_add(1 + rng.below(1 << 18)),
            4 => elapsed.saturating_add(1 + rng.below(1 << 24)),
            5 => elapsed.saturating_add(1 + rng.below(1 << 30)),
            6 => elapsed.saturating_add(1 + rng.below(1 << 36)),
            7 => {
                // Just around a level boundary above `elapsed`.
                let width = 1u64 << (6 * (1 + rng.below(7)));
                let boundary = (elapsed | (width - 1)).saturating_add(1);
                (boundary - 3).saturating_add(rng.below(7))
            }
            8 => elapsed.saturating_add(1 + rng.below(1 << 42)),
            _ => elapsed.saturating_add(rng.below(1 << 12)),
        }
    }

    fn check_next_expiration(w: &Wheel<u64>, armed: &BTreeSet<(u64, u64)>) {
        let next = w.next_expiration();
        match armed.first() {
            None => assert_eq!(next, None),
            Some(&(earliest, _)) => {
                let next = next.expect("entries armed but no next expiration");
                if earliest <= w.elapsed() {
                    assert_eq!(next, w.elapsed());
                } else {
                    assert!(next > w.elapsed(), "{next} vs elapsed {}", w.elapsed());
                    assert!(next <= earliest, "{next} later than {earliest}");
                }
            }
        }
    }

    /// Random operations checked against a naive model.
    fn model_check(seed: u64, origin: u64, ops: usize) {
        let mut rng = XorShift(seed);
        let mut w: Wheel<u64> = Wheel::new();
        w.advance(origin, |_, _| unreachable!());
        let mut model: HashMap<TimerKey, Model> = HashMap::new();
        let mut armed: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut live: Vec<TimerKey> = Vec::new();
        let mut stale: Vec<TimerKey> = Vec::new();
        let mut next_id = 0u64;
        let mut fired_total = 0usize;

        for _ in 0..ops {
            let op = rng.below(100);
            if op < 30 || live.is_empty() {
                let when = random_deadline(&mut rng, w.elapsed());
                let key = w.insert(when, next_id);
                assert!(model
                    .insert(
                        key,
                        Model {
                            id: next_id,
                            when,
                            armed: true
                        }
                    )
                    .is_none());
                armed.insert((when, next_id));
                live.push(key);
                next_id += 1;
            } else if op < 45 {
                let key = live.swap_remove(rng.below(live.len() as u64) as usize);
                let m = model.remove(&key).unwrap();
                if m.armed {
                    armed.remove(&(m.when, m.id));
                }
                assert_eq!(w.remove(key), Some(m.id));
                stale.push(key);
            } else if op < 57 {
                let key = live[rng.below(live.len() as u64) as usize];
                let when = random_deadline(&mut rng, w.elapsed());
                let m = model.get_mut(&key).unwrap();
                if m.armed {
                    armed.remove(&(m.when, m.id));
                }
                m.when = when;
                m.armed = true;
                armed.insert((when, m.id));
                assert!(w.reset(key, when));
                assert!(w.is_armed(key));
            } else if op < 60 {
                if let Some(&key) = stale.get(rng.below(stale.len() as u64 + 1) as usize) {
                    assert_eq!(w.get(key), None);
                    assert_eq!(w.get_mut(key), None);
                    assert!(!w.is_armed(key));
                    assert!(!w.reset(key, 0));
                    assert_eq!(w.remove(key), None);
                }
            } else if op < 65 {
                let key = live[rng.below(live.len() as u64) as usize];
                let m = &model[&key];
                assert_eq!(w.get(key), Some(&m.id));
                assert_eq!(w.is_armed(key), m.armed);
            } else {
                let before = w.elapsed();
                let now = match rng.below(10) {
                    0 => before,
                    1 => before.saturating_sub(rng.below(50)),
                    2..=4 => before.saturating_add(rng.below(64)),
                    5 | 6 => before.saturating_add(rng.below(5_000)),
                    7 => before.saturating_add(rng.below(1 << 20)),
                    8 => w.next_expiration().unwrap_or(before),
                    _ if rng.below(10) == 0 => before.saturating_add(rng.below(1 << 38)),
                    _ => before.saturating_add(rng.below(1 << 26)),
                };
                let horizon = now.max(before);
                let expected = armed.range(..=(horizon, u64::MAX)).count();
                let fired = fire_all(&mut w, now);
                assert_eq!(w.elapsed(), horizon);
                assert_eq!(fired.len(), expected, "advance {before} -> {now}");
                let mut last = 0;
                for (key, value) in fired {
                    let m = model.get_mut(&key).expect("fired a removed entry");
                    assert_eq!(m.id, value);
                    assert!(m.armed, "fired twice");
                    assert!(m.when <= horizon, "fired early");
                    let effective = m.when.max(before);
                    assert!(effective >= last, "out of order");
                    last = effective;
                    m.armed = false;
                    armed.remove(&(m.when, m.id));
                    assert!(!w.is_armed(key));
                }
                fired_total += expected;
                assert!(armed.first().is_none_or(|&(when, _)| when > horizon));
            }
            check_next_expiration(&w, &armed);
            assert_eq!(w.len(), model.len());
            assert_eq!(w.armed(), armed.len());
        }

        // Drain: everything still armed fires exactly once.
        let remaining = armed.len();
        assert_eq!(fire_all(&mut w, u64::MAX).len(), remaining);
        assert_eq!(w.armed(), 0);
        assert!(
            fired_total > ops / 10,
            "the model check barely fired anything"
        );
    }

    #[test]
    fn model_check_100k_ops() {
        model_check(0x9E37_79B9_7F4A_7C15, 0, 100_000);
    }

    #[test]
    fn model_check_other_origins() {
        model_check(7, (1 << 36) - 10_000, 30_000);
        model_check(0xDEAD_BEEF, 987_654_321_012, 30_000);
        model_check(99, u64::MAX - (1 << 39), 30_000);
    }

    /// Prints rough per-operation costs; run with `--ignored --nocapture`.
    #[test]
    #[ignore]
    fn micro_timing() {
        use std::hint::black_box;
        use std::time::Instant;
        const N: u64 = 10_000_000;
        let mut w = Wheel::new();
        let mut rng = XorShift(5);
        for i in 0..10_000 {
            w.insert(1 + rng.below(1 << 20), i);
        }
        let start = Instant::now();
        for i in 0..N {
            let key = w.insert(1 + (i * 7_919) % (1 << 20), i);
            black_box(w.remove(black_box(key)));
        }
        let per = start.elapsed().as_nanos() as f64 / N as f64;
        println!("insert + remove (armed): {per:.1} ns");

        let keys: Vec<TimerKey> = (0..10_000).map(|i| w.insert(1 + i, i)).collect();
        let start = Instant::now();
        for i in 0..N {
            let key = keys[(i % 10_000) as usize];
            black_box(w.reset(key, 1 + (i * 7_919) % (1 << 20)));
        }
        let per = start.elapsed().as_nanos() as f64 / N as f64;
        println!("reset (armed): {per:.1} ns");

        let start = Instant::now();
        let mut fired = 0u64;
        w.advance(u64::MAX, |_, _| fired += 1);
        let per = start.elapsed().as_nanos() as f64 / fired as f64;
        println!("advance: {per:.1} ns per fired entry ({fired} entries)");
    }
}
