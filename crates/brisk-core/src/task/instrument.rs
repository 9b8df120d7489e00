//! Per-task instrumentation: the side structure a task carries when its
//! runtime's diagnostics are on (see `crate::diag`), and the two harness
//! steps around a poll that fill it and look for hazards.
//!
//! Ground rules:
//! - The record lives in the task's own allocation, in the [`PREFIX`] bytes
//!   right before the header (`raw::Instrumented`), so it costs no
//!   allocation of its own and sits next to the header in memory; the
//!   header's `instrumented` flag (a byte in what would otherwise be
//!   padding) says it is there. It is written at spawn, before any waker of
//!   the task exists, and dropped with the cell; a task spawned while
//!   diagnostics are off has neither flag nor record. What only slow polls and
//!   cancelled tasks need (`Cold`) is allocated the first time one happens.
//! - Timing fields and `cold` are written only by the holder of `RUNNING`
//!   (one writer at a time, relaxed load + store; `cold` is published with
//!   `Release`) and read by diagnostics from any thread.
//! - A poll's start is the end of the previous poll on the same thread when
//!   the backend marks a run of consecutive polls (`diag::PollRun`): one
//!   clock read per poll instead of two.
//! - `live_wakers` counts wakers from our vtable exactly (read-modify-write,
//!   relaxed): +1 per clone, -1 per drop and per by-value wake. A by-value
//!   wake sets `NOTIFIED`, then issues a `Release` fence, then counts its
//!   waker gone. The check loads the count and then issues an `Acquire`
//!   fence: if it read a count that includes the decrement (or any later
//!   change), the fences synchronise and the check sees `NOTIFIED`. So a
//!   poller that reads zero live wakers and then finds `NOTIFIED` clear
//!   knows that no waker was woken since it last could have been.

use super::header::Header;
use super::TaskKind;
use super::TaskRef;
use crate::diag::{self, Diagnostics, POLL_HISTOGRAM_BUCKETS};
use crate::loom::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};
use crate::wait::WaitPoint;
use std::ptr::NonNull;
use std::time::Duration;

/// Bits of `Record::reported`: each hazard is reported once per task.
const REPORTED_LONG_POLL: u8 = 1 << 0;
const REPORTED_LOST_WAKER: u8 = 1 << 1;
const REPORTED_CANCELLED_RUNNING: u8 = 1 << 2;

/// Bytes in front of the header of an instrumented task: a [`Record`],
/// padded. A multiple of every alignment up to its own value, so the cell
/// that follows starts exactly here whatever its alignment (up to this
/// value; tasks whose cell is aligned more are not instrumented).
pub(crate) const PREFIX: usize = 64;

/// The record and its padding, as laid out before the header: the record
/// last, so that the fields every poll touches (at its end) sit right
/// before the header, usually on the header's first cache line.
#[repr(C)]
pub(crate) struct Prefix {
    _pad: std::mem::MaybeUninit<[u8; PREFIX - std::mem::size_of::<Record>()]>,
    record: Record,
}

const _: () = assert!(std::mem::size_of::<Prefix>() == PREFIX);

/// Bytes from the record's start to the header.
const RECORD_BACK: usize = PREFIX - std::mem::offset_of!(Prefix, record);

impl Prefix {
    /// A fresh record for a task spawned now (`now_ns`) on a runtime with
    /// `diagnostics`, which must belong to the registry of the scheduler
    /// the task stores (the `Schedule` contract keeps it alive as long as
    /// the task).
    pub(crate) fn new(diagnostics: &Diagnostics, now_ns: u64) -> Prefix {
        Prefix {
            _pad: std::mem::MaybeUninit::uninit(),
            record: Record {
                reported: AtomicU8::new(0),
                spawned_ns: now_ns,
                cold: AtomicPtr::new(std::ptr::null_mut()),
                live_wakers: AtomicU64::new(0),
                diagnostics: NonNull::from(diagnostics),
                busy_ns: AtomicU64::new(0),
                poll_start_ns: AtomicU64::new(0),
            },
        }
    }
}

/// The record of the task at `ptr`, if it has one.
///
/// # Safety
/// `ptr` points at the live header of a task cell (with the provenance of
/// the whole allocation, as every task pointer has), and the record is not
/// used after the cell is freed (`'a`).
#[inline]
pub(crate) unsafe fn record<'a>(ptr: NonNull<Header>) -> Option<&'a Record> {
    // SAFETY: the header is alive per the contract.
    if !unsafe { ptr.as_ref() }.instrumented {
        return None;
    }
    // SAFETY: a header with the flag set is the `cell` of a `raw::Instrumented`,
    // which starts right after the `Prefix` whose last field is the record
    // (both `repr(C)`), `RECORD_BACK` bytes long; the record lives as long
    // as the cell.
    Some(unsafe { &*ptr.as_ptr().byte_sub(RECORD_BACK).cast::<Record>() })
}

/// What a task records when its runtime's diagnostics are on, in 56 bytes:
/// the fields every poll or waker touches last, nearest the header.
#[repr(C)]
pub(crate) struct Record {
    /// `REPORTED_*` bits.
    reported: AtomicU8,
    /// Monotonic nanoseconds (see `Diagnostics::now_ns`) at spawn.
    spawned_ns: u64,
    /// What slow polls and cancelled tasks record; null until needed.
    cold: AtomicPtr<Cold>,
    /// Live wakers, as a wrapping two's-complement count.
    live_wakers: AtomicU64,
    /// The runtime's diagnostics (in its registry), kept here so a poll
    /// does not ask the scheduler for them through a virtual call.
    diagnostics: NonNull<Diagnostics>,
    /// Nanoseconds spent inside finished polls.
    busy_ns: AtomicU64,
    /// Start of the poll running now, or 0.
    poll_start_ns: AtomicU64,
}

/// The part of a task's record that fast polls never touch.
struct Cold {
    /// Polls per histogram bucket, except bucket 0 (polls under 2 µs), which
    /// is the task's poll count minus the others.
    histogram: [AtomicU32; POLL_HISTOGRAM_BUCKETS],
    /// When a poll first ended with the task cancelled, or 0.
    cancelled_ns: AtomicU64,
}

// SAFETY: `diagnostics` points into the runtime's registry, which is
// `Sync` and outlives the task (see `Record::diagnostics`); `cold` is
// owned by the record and only shared as `&Cold` (atomics); every other
// field is an atomic.
unsafe impl Send for Record {}
// SAFETY: as for `Send`.
unsafe impl Sync for Record {}

impl Drop for Record {
    fn drop(&mut self) {
        let cold = self.cold.load(Ordering::Acquire);
        if !cold.is_null() {
            // SAFETY: `cold` was leaked from a `Box` by `cold_or_init` and
            // is freed only here, by the structure's owner.
            drop(unsafe { Box::from_raw(cold) });
        }
    }
}

impl Record {
    /// The runtime's diagnostics.
    #[inline]
    fn diagnostics(&self) -> &Diagnostics {
        // SAFETY: the pointer came from the registry of the task's
        // scheduler, which `Schedule` requires to live as long as any task
        // that stores the scheduler; this structure lives inside the task.
        unsafe { self.diagnostics.as_ref() }
    }

    /// The cold part, if a slow poll or a cancellation made one.
    fn cold(&self) -> Option<&Cold> {
        // SAFETY: a non-null pointer was published (`Release`) after the
        // `Cold` was initialised and stays valid until the structure drops.
        unsafe { self.cold.load(Ordering::Acquire).as_ref() }
    }

    /// The cold part, made now if there is none. The task's poll and a
    /// periodic check (`check_cancelled`, on another thread) may both get
    /// here first: one publishes its part, the other frees its own.
    #[cold]
    fn cold_or_init(&self) -> &Cold {
        if let Some(cold) = self.cold() {
            return cold;
        }
        let cold = Box::into_raw(Box::new(Cold {
            histogram: std::array::from_fn(|_| AtomicU32::new(0)),
            cancelled_ns: AtomicU64::new(0),
        }));
        match self.cold.compare_exchange(
            std::ptr::null_mut(),
            cold,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: just made and published; freed only when the
            // structure drops.
            Ok(_) => unsafe { &*cold },
            Err(theirs) => {
                // SAFETY: ours was never published; theirs was, after its
                // initialisation (`Release`), and lives as long as `self`.
                unsafe {
                    drop(Box::from_raw(cold));
                    &*theirs
                }
            }
        }
    }

    /// A waker of the task was cloned (called before the clone exists).
    #[inline]
    pub(crate) fn waker_cloned(&self) {
        self.live_wakers.fetch_add(1, Ordering::Relaxed);
    }

    /// A waker of the task was dropped, or consumed by a wake (called after
    /// the wake published `NOTIFIED`).
    #[inline]
    pub(crate) fn waker_gone(&self) {
        // Orders a by-value wake's `NOTIFIED` before the decrement for a
        // checker that reads it (see the ground rules).
        fence(Ordering::Release);
        self.live_wakers.fetch_sub(1, Ordering::Relaxed);
    }

    /// The live-waker count, for the lost-waker check: everything a wake
    /// did before its decrement is visible after this returns.
    fn live_wakers(&self) -> i64 {
        let live = self.live_wakers.load(Ordering::Relaxed) as i64;
        fence(Ordering::Acquire);
        live
    }

    /// True the first time a hazard of `kind` is claimed; `None` for a
    /// kind not tracked per task.
    pub(crate) fn claim_kind(&self, kind: &str) -> Option<bool> {
        let bit = match kind {
            diag::Hazard::LONG_POLL => REPORTED_LONG_POLL,
            diag::Hazard::LOST_WAKER => REPORTED_LOST_WAKER,
            diag::Hazard::CANCELLED_RUNNING => REPORTED_CANCELLED_RUNNING,
            _ => return None,
        };
        Some(self.claim_report(bit))
    }

    /// True the first time `bit` is claimed.
    fn claim_report(&self, bit: u8) -> bool {
        self.reported.fetch_or(bit, Ordering::Relaxed) & bit == 0
    }

    /// Busy time, idle time and histogram as of `now_ns`, for a task that
    /// has been polled `polls` times (counting a poll running now).
    pub(crate) fn timing(&self, now_ns: u64, polls: u32) -> diag::TaskTiming {
        let start = self.poll_start_ns.load(Ordering::Relaxed);
        let running = if start != 0 {
            now_ns.saturating_sub(start)
        } else {
            0
        };
        let busy = self.busy_ns.load(Ordering::Relaxed) + running;
        let alive = now_ns.saturating_sub(self.spawned_ns);
        let mut histogram = [0u64; POLL_HISTOGRAM_BUCKETS];
        if let Some(cold) = self.cold() {
            for (h, c) in histogram.iter_mut().zip(&cold.histogram).skip(1) {
                *h = c.load(Ordering::Relaxed) as u64;
            }
        }
        // Finished polls that went to no other bucket were under 2 µs.
        let finished = (polls as u64).saturating_sub((start != 0) as u64);
        histogram[0] = finished.saturating_sub(histogram.iter().sum());
        diag::TaskTiming {
            busy: Duration::from_nanos(busy),
            idle: Duration::from_nanos(alive.saturating_sub(busy)),
            poll_histogram: histogram,
        }
    }
}

/// What the harness remembers from the start of an instrumented poll.
pub(crate) struct PollStart {
    start_ns: u64,
    /// The wait-point the task resumes from (cleared for the poll), when
    /// long polls are reported.
    wait_before: Option<WaitPoint>,
}

/// Harness step before an instrumented poll: note the time and the
/// wait-point the task resumes from. The caller holds `RUNNING`.
#[inline]
pub(crate) fn poll_started(header: &Header, diag: &Record) -> PollStart {
    let start_ns = diag::poll_clock_start(diag.diagnostics());
    diag.poll_start_ns.store(start_ns, Ordering::Relaxed);
    PollStart {
        start_ns,
        // Only a long-poll report names it.
        wait_before: if diag.diagnostics().config().long_poll.is_some() {
            header.wait.get()
        } else {
            None
        },
    }
}

/// Harness step after an instrumented poll: account the poll, then look for
/// a long poll, a cancelled task still running and (if the poll returned
/// `Pending` and the task goes idle) a lost waker. The caller still holds
/// `RUNNING` and a reference.
///
/// A fast poll of a task whose runtime checks no hazard per poll costs one
/// clock read and three stores; everything else is on the slow paths.
#[inline]
pub(crate) fn poll_finished(ptr: NonNull<Header>, diag: &Record, start: PollStart, pending: bool) {
    let d = diag.diagnostics();
    let end_ns = diag::poll_clock_end(d);
    let took = end_ns.saturating_sub(start.start_ns);
    diag.poll_start_ns.store(0, Ordering::Relaxed);
    let busy = &diag.busy_ns;
    busy.store(busy.load(Ordering::Relaxed) + took, Ordering::Relaxed);
    if took >= d.slow_poll_ns() {
        slow_poll(ptr, diag, took, start.wait_before);
    }
    if d.checks_per_poll() {
        check_hazards(ptr, diag, end_ns, pending);
    }
}

/// A poll of 2 µs or more (or over the long-poll threshold): its histogram
/// bucket, and the long-poll check.
#[cold]
#[inline(never)]
fn slow_poll(ptr: NonNull<Header>, diag: &Record, took: u64, wait_before: Option<WaitPoint>) {
    let bucket = diag::poll_histogram_bucket(took / 1_000);
    if bucket > 0 {
        let counter = &diag.cold_or_init().histogram[bucket];
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
    let task = TaskRef::new(ptr);
    if task.kind() == TaskKind::Blocking {
        // A blocking job is one long "poll" by design.
        return;
    }
    let d = diag.diagnostics();
    if let Some(threshold) = d.config().long_poll {
        let took = Duration::from_nanos(took);
        if took > threshold && diag.claim_report(REPORTED_LONG_POLL) {
            d.report(diag::long_poll(task, took, threshold, wait_before));
        }
    }
}

/// The periodic check of a cancelled, unfinished task (see
/// [`crate::diag::check_cancelled_tasks`]): a task that was cancelled and
/// then parked on something that is not a cancellation point is never
/// polled again, so the per-poll check alone would never see it. Its clock
/// starts at the first of its polls or checks after the cancellation.
pub(crate) fn check_cancelled(task: TaskRef<'_>, now_ns: u64) {
    // SAFETY: a `TaskRef` holds a reference to the task, keeping it alive.
    let Some(diag) = (unsafe { record(task.raw) }) else {
        return;
    };
    if task.kind() == TaskKind::Blocking || !task.is_cancelled() {
        return;
    }
    let d = diag.diagnostics();
    let Some(limit) = d.config().cancelled_running else {
        return;
    };
    let cold = diag.cold_or_init();
    let since = cold.cancelled_ns.load(Ordering::Relaxed);
    if since == 0 {
        // A poll ending now may store its own reading: either is a start.
        cold.cancelled_ns.store(now_ns, Ordering::Relaxed);
        return;
    }
    let for_ = Duration::from_nanos(now_ns.saturating_sub(since));
    if for_ > limit && diag.claim_report(REPORTED_CANCELLED_RUNNING) {
        d.report(diag::cancelled_running(task, for_));
    }
}

/// The per-poll hazard checks: a cancelled task that keeps running, and a
/// lost waker.
#[inline(never)]
fn check_hazards(ptr: NonNull<Header>, diag: &Record, end_ns: u64, pending: bool) {
    // SAFETY: the caller holds a reference to the task, keeping it alive.
    let header = unsafe { ptr.as_ref() };
    let task = TaskRef::new(ptr);
    if task.kind() == TaskKind::Blocking {
        // A blocking job never waits, and runs once.
        return;
    }
    let d = diag.diagnostics();
    let config = d.config();
    let cancelled = task.is_cancelled();
    if let (Some(limit), true) = (config.cancelled_running, cancelled) {
        let cold = diag.cold_or_init();
        let since = cold.cancelled_ns.load(Ordering::Relaxed);
        if since == 0 {
            cold.cancelled_ns.store(end_ns, Ordering::Relaxed);
        } else {
            let for_ = Duration::from_nanos(end_ns.saturating_sub(since));
            if for_ > limit && diag.claim_report(REPORTED_CANCELLED_RUNNING) {
                d.report(diag::cancelled_running(task, for_));
            }
        }
    }
    if pending
        && config.lost_waker
        && !cancelled
        && has_no_waker(ptr, header, diag)
        && diag.claim_report(REPORTED_LOST_WAKER)
    {
        d.report(diag::lost_waker(task));
    }
}

/// True if no waker of the task exists (other than its own cancellation
/// waker) and nothing woke it during the poll. Called by the holder of
/// `RUNNING`, before the task goes idle.
fn has_no_waker(ptr: NonNull<Header>, header: &Header, diag: &Record) -> bool {
    let live = diag.live_wakers();
    let live = match live {
        l if l <= 0 => 0,
        1 => {
            // The task's own cancellation node keeps a waker that fires only
            // on cancellation: it does not count. Re-read the count after
            // looking at the node: a node published meanwhile (a racing
            // `JoinHandle::cancel`) cloned its waker before publishing
            // itself, so the re-read sees the clone and the task is not
            // reported.
            let own = header.cancel.get().is_some_and(|node| node.wakes(ptr));
            if own && diag.live_wakers() == 1 {
                0
            } else {
                1
            }
        }
        l => l,
    };
    // A waker woken by value during the poll published `NOTIFIED` before it
    // counted itself gone (see the ground rules).
    live == 0 && !header.state.load_seqcst().is_notified()
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    /// Every poll touches the record: it stays within one cache line's
    /// worth of bytes.
    #[test]
    fn the_task_record_is_small() {
        assert!(std::mem::size_of::<super::Record>() <= 56);
    }
}
