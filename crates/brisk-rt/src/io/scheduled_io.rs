//! Per-source readiness and the wakers waiting on it.
//!
//! Ground rules:
//! - `readiness` holds the ready bits the reactor saw (`READABLE`, ...) and,
//!   above them, a tick that counts reactor updates. A task that hits
//!   `WouldBlock` clears only the bits of the event it acted on, and only if
//!   no newer event arrived since (the tick still matches): a readiness
//!   update is never lost.
//! - The reactor sets readiness first, then takes the waiter lock to collect
//!   wakers; a poller stores its waker under the same lock and then re-reads
//!   readiness. One of the two always sees the other.
//! - Wakers are woken after the lock is released.

use brisk_core::spin::SpinLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

/// Readiness bits.
pub(crate) const READABLE: usize = 0b0_0001;
pub(crate) const WRITABLE: usize = 0b0_0010;
pub(crate) const READ_CLOSED: usize = 0b0_0100;
pub(crate) const WRITE_CLOSED: usize = 0b0_1000;
pub(crate) const ERROR: usize = 0b1_0000;
/// The reactor is gone: every wait ends with an error.
pub(crate) const SHUTDOWN: usize = 0b10_0000;
const READY_MASK: usize = 0b11_1111;
const TICK_SHIFT: u32 = 8;

/// Which direction a wait is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The bits that end a wait in this direction.
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN,
        }
    }
}

/// What a poll for readiness found; give it back to `clear_readiness` on
/// `WouldBlock`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    pub(crate) ready: usize,
    tick: usize,
}

/// The wakers of the tasks waiting in one direction. Several tasks may wait
/// on one socket (an `Arc<UdpSocket>` shared by receivers): each distinct
/// waker is kept until the next readiness event wakes them all.
#[derive(Default)]
struct DirWaiters {
    first: Option<Waker>,
    more: Vec<Waker>,
}

impl DirWaiters {
    /// Above this many distinct wakers, the list is flushed (all woken) before
    /// adding: waiters that gave up (a timed-out `recv`) would otherwise pile
    /// up on a quiet socket. A live waiter just polls again and re-registers.
    const FLUSH_AT: usize = 32;

    fn register(&mut self, waker: &Waker, flushed: &mut Vec<Waker>) {
        if self.more.len() >= Self::FLUSH_AT {
            self.take_into(flushed);
        }
        match &self.first {
            None => self.first = Some(waker.clone()),
            Some(w) if w.will_wake(waker) => {}
            Some(_) => {
                if !self.more.iter().any(|w| w.will_wake(waker)) {
                    self.more.push(waker.clone());
                }
            }
        }
    }

    fn take_into(&mut self, wakes: &mut Vec<Waker>) {
        wakes.extend(self.first.take());
        wakes.append(&mut self.more);
    }
}

#[derive(Default)]
struct Waiters {
    reader: DirWaiters,
    writer: DirWaiters,
}

/// Readiness of one registered source.
pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: SpinLock<Waiters>,
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(0),
            waiters: SpinLock::new(Waiters::default()),
        }
    }

    /// Records new readiness from the reactor and returns the wakers to wake.
    pub(crate) fn set_readiness(&self, ready: usize, wakes: &mut Vec<Waker>) {
        let mut cur = self.readiness.load(Ordering::Acquire);
        loop {
            let tick = (cur >> TICK_SHIFT).wrapping_add(1);
            let new = (tick << TICK_SHIFT) | (cur & READY_MASK) | ready;
            match self.readiness.compare_exchange_weak(
                cur,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        let mut w = self.waiters.lock();
        if ready & Direction::Read.mask() != 0 {
            w.reader.take_into(wakes);
        }
        if ready & Direction::Write.mask() != 0 {
            w.writer.take_into(wakes);
        }
    }

    /// Ends every wait (the reactor shut down or the source deregistered).
    pub(crate) fn shutdown(&self) {
        let mut wakes = Vec::new();
        self.set_readiness(SHUTDOWN, &mut wakes);
        for w in wakes {
            w.wake();
        }
    }

    /// Ready now in `dir`, or registers `cx`'s waker and returns `Pending`.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        let cur = self.readiness.load(Ordering::Acquire);
        if cur & dir.mask() != 0 {
            return Poll::Ready(event(cur, dir));
        }
        let mut flushed = Vec::new();
        let mut w = self.waiters.lock();
        match dir {
            Direction::Read => w.reader.register(cx.waker(), &mut flushed),
            Direction::Write => w.writer.register(cx.waker(), &mut flushed),
        }
        drop(w);
        for stale in flushed {
            stale.wake();
        }
        let cur = self.readiness.load(Ordering::Acquire);
        if cur & dir.mask() != 0 {
            return Poll::Ready(event(cur, dir));
        }
        Poll::Pending
    }

    /// The readiness event in `dir` right now, if any.
    pub(crate) fn readiness_event(&self, dir: Direction) -> Option<ReadyEvent> {
        let cur = self.readiness.load(Ordering::Acquire);
        (cur & dir.mask() != 0).then(|| event(cur, dir))
    }

    /// After `WouldBlock`: clears what `event` reported, unless a newer event
    /// arrived meanwhile. Closed and shutdown bits stay; `ERROR` is cleared
    /// too (the operation that consumed the socket error already reported
    /// it), or every later wait would end at once and `poll_io` would spin.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.ready & (READABLE | WRITABLE | ERROR);
        let mut cur = self.readiness.load(Ordering::Acquire);
        loop {
            if (cur >> TICK_SHIFT) != event.tick {
                return;
            }
            let new = cur & !clear;
            match self.readiness.compare_exchange_weak(
                cur,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }
}

fn event(cur: usize, dir: Direction) -> ReadyEvent {
    ReadyEvent {
        ready: cur & dir.mask(),
        tick: cur >> TICK_SHIFT,
    }
}
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Two tasks waiting to read (say, two acceptors on one listener) are
    /// both woken by the next event: neither waker replaces the other.
    #[test]
    fn every_waiting_task_is_woken() {
        let io = ScheduledIo::new();
        let counts: Vec<Arc<Count>> = (0..2)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        for c in &counts {
            let waker = Waker::from(c.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
            // Polling again with the same waker does not add it twice.
            assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        }
        let mut wakes = Vec::new();
        io.set_readiness(READABLE, &mut wakes);
        assert_eq!(wakes.len(), 2);
        wakes.into_iter().for_each(Waker::wake);
        assert!(counts.iter().all(|c| c.0.load(Ordering::SeqCst) == 1));
    }

    /// An error consumed by the operation that hit `WouldBlock` next does not
    /// keep every later wait ready (which made `poll_io` spin forever).
    #[test]
    fn would_block_clears_a_consumed_error() {
        let io = ScheduledIo::new();
        io.set_readiness(ERROR | READABLE, &mut Vec::new());
        let ev = io.readiness_event(Direction::Read).expect("ready");
        io.clear_readiness(ev);
        assert!(io.readiness_event(Direction::Read).is_none());
        assert!(io.readiness_event(Direction::Write).is_none());
        // Closed bits stay: end-of-stream is not forgotten.
        io.set_readiness(READ_CLOSED, &mut Vec::new());
        let ev = io.readiness_event(Direction::Read).expect("ready");
        io.clear_readiness(ev);
        assert!(io.readiness_event(Direction::Read).is_some());
    }
}
