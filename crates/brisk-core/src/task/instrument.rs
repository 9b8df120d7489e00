//! Per-task instrumentation: the side structure a task carries when its
//! runtime's diagnostics are on (see `crate::diag`), and the two harness
//! steps around a poll that fill it and look for hazards.
//!
//! Ground rules:
//! - The structure is allocated at spawn, before any waker of the task
//!   exists, and freed with the cell; a task spawned while diagnostics are
//!   off never gets one.
//! - Timing fields are written only by the holder of `RUNNING` (one writer
//!   at a time, relaxed load + store) and read by diagnostics from any
//!   thread.
//! - `live_wakers` counts wakers from our vtable exactly (read-modify-write):
//!   +1 per clone, -1 per drop and per by-value wake. A by-value wake sets
//!   `NOTIFIED` *before* it counts its waker gone, so a poller that reads
//!   zero live wakers and then finds `NOTIFIED` clear knows that no waker
//!   was woken since it last could have been (both `SeqCst`).

use super::header::Header;
use super::TaskKind;
use super::TaskRef;
use crate::diag::{self, Diagnostics, POLL_HISTOGRAM_BUCKETS};
use crate::loom::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use crate::wait::WaitPoint;
use std::ptr::NonNull;
use std::time::Duration;

/// Bits of `TaskDiag::reported`: each hazard is reported once per task.
const REPORTED_LONG_POLL: u8 = 1 << 0;
const REPORTED_LOST_WAKER: u8 = 1 << 1;
const REPORTED_CANCELLED_RUNNING: u8 = 1 << 2;

/// What a task records when its runtime's diagnostics are on.
pub(crate) struct TaskDiag {
    /// The runtime's diagnostics (in its registry), kept here so a poll
    /// does not ask the scheduler for them through a virtual call.
    diagnostics: NonNull<Diagnostics>,
    /// Monotonic nanoseconds (since the runtime's epoch) at spawn.
    spawned_ns: u64,
    /// Nanoseconds spent inside finished polls.
    busy_ns: AtomicU64,
    /// Start of the poll running now, or 0.
    poll_start_ns: AtomicU64,
    histogram: [AtomicU32; POLL_HISTOGRAM_BUCKETS],
    /// Live wakers, as a wrapping two's-complement count.
    live_wakers: AtomicU64,
    /// When a poll first ended with the task cancelled, or 0.
    cancelled_ns: AtomicU64,
    /// `REPORTED_*` bits.
    reported: AtomicU8,
}

// SAFETY: `diagnostics` points into the runtime's registry, which is
// `Sync` and outlives the task (see `TaskDiag::diagnostics`); every other
// field is an atomic.
unsafe impl Send for TaskDiag {}
// SAFETY: as for `Send`.
unsafe impl Sync for TaskDiag {}

impl TaskDiag {
    /// `diagnostics` must belong to the registry of the scheduler the task
    /// stores (the `Schedule` contract keeps it alive as long as the task).
    pub(crate) fn new(diagnostics: &Diagnostics, now_ns: u64) -> Box<TaskDiag> {
        Box::new(TaskDiag {
            diagnostics: NonNull::from(diagnostics),
            spawned_ns: now_ns,
            busy_ns: AtomicU64::new(0),
            poll_start_ns: AtomicU64::new(0),
            histogram: std::array::from_fn(|_| AtomicU32::new(0)),
            live_wakers: AtomicU64::new(0),
            cancelled_ns: AtomicU64::new(0),
            reported: AtomicU8::new(0),
        })
    }

    /// The runtime's diagnostics.
    #[inline]
    fn diagnostics(&self) -> &Diagnostics {
        // SAFETY: the pointer came from the registry of the task's
        // scheduler, which `Schedule` requires to live as long as any task
        // that stores the scheduler; this structure lives inside the task.
        unsafe { self.diagnostics.as_ref() }
    }

    /// A waker of the task was cloned (called before the clone exists).
    #[inline]
    pub(crate) fn waker_cloned(&self) {
        self.live_wakers.fetch_add(1, Ordering::SeqCst);
    }

    /// A waker of the task was dropped, or consumed by a wake (called after
    /// the wake published `NOTIFIED`).
    #[inline]
    pub(crate) fn waker_gone(&self) {
        self.live_wakers.fetch_sub(1, Ordering::SeqCst);
    }

    fn live_wakers(&self) -> i64 {
        self.live_wakers.load(Ordering::SeqCst) as i64
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

    /// Busy time, idle time and histogram as of `now_ns`.
    pub(crate) fn timing(&self, now_ns: u64) -> diag::TaskTiming {
        let start = self.poll_start_ns.load(Ordering::Relaxed);
        let running = if start != 0 {
            now_ns.saturating_sub(start)
        } else {
            0
        };
        let busy = self.busy_ns.load(Ordering::Relaxed) + running;
        let alive = now_ns.saturating_sub(self.spawned_ns);
        diag::TaskTiming {
            busy: Duration::from_nanos(busy),
            idle: Duration::from_nanos(alive.saturating_sub(busy)),
            poll_histogram: std::array::from_fn(|i| {
                self.histogram[i].load(Ordering::Relaxed) as u64
            }),
        }
    }
}

/// What the harness remembers from the start of an instrumented poll.
pub(crate) struct PollStart {
    start_ns: u64,
    /// The wait-point the task resumes from (cleared for the poll).
    wait_before: Option<WaitPoint>,
}

/// Harness step before an instrumented poll: note the time and the
/// wait-point the task resumes from. The caller holds `RUNNING`.
pub(crate) fn poll_started(header: &Header, diag: &TaskDiag) -> PollStart {
    let start_ns = diag.diagnostics().now_ns();
    diag.poll_start_ns.store(start_ns, Ordering::Relaxed);
    PollStart {
        start_ns,
        wait_before: header.wait.get(),
    }
}

/// Harness step after an instrumented poll: account the poll, then look for
/// a long poll, a cancelled task still running and (if the poll returned
/// `Pending` and the task goes idle) a lost waker. The caller still holds
/// `RUNNING` and a reference.
pub(crate) fn poll_finished(
    ptr: NonNull<Header>,
    diag: &TaskDiag,
    start: PollStart,
    pending: bool,
) {
    // SAFETY: the caller holds a reference to the task, keeping it alive.
    let header = unsafe { ptr.as_ref() };
    let d = diag.diagnostics();
    let end_ns = d.now_ns();
    let took = end_ns.saturating_sub(start.start_ns);
    diag.poll_start_ns.store(0, Ordering::Relaxed);
    let busy = &diag.busy_ns;
    busy.store(busy.load(Ordering::Relaxed) + took, Ordering::Relaxed);
    let bucket = &diag.histogram[diag::poll_histogram_bucket(took / 1_000)];
    bucket.store(bucket.load(Ordering::Relaxed) + 1, Ordering::Relaxed);

    let task = TaskRef::new(ptr);
    if task.kind() == TaskKind::Blocking {
        // A blocking job is one long "poll" by design; it never waits.
        return;
    }
    let config = d.config();
    if let Some(threshold) = config.long_poll {
        let took = Duration::from_nanos(took);
        if took > threshold && diag.claim_report(REPORTED_LONG_POLL) {
            d.report(diag::long_poll(task, took, threshold, start.wait_before));
        }
    }
    let cancelled = task.is_cancelled();
    if let (Some(limit), true) = (config.cancelled_running, cancelled) {
        let since = diag.cancelled_ns.load(Ordering::Relaxed);
        if since == 0 {
            diag.cancelled_ns.store(end_ns, Ordering::Relaxed);
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
fn has_no_waker(ptr: NonNull<Header>, header: &Header, diag: &TaskDiag) -> bool {
    let live = diag.live_wakers();
    let live = match live {
        l if l <= 0 => 0,
        1 => {
            // The task's own cancellation node keeps a waker that fires only
            // on cancellation: it does not count. Re-read the count after
            // looking at the node: a node published meanwhile (a racing
            // `JoinHandle::cancel`) cloned its waker first, so the count
            // moved and the task is not reported.
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
