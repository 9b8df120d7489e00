//! The reactor: one `mio::Poll` per runtime, driven by whichever scheduler
//! thread parks first (it sleeps in `epoll_wait` instead of on a condition
//! variable; on a multi-thread runtime only workers do, never a `block_on`
//! thread), polled without blocking by busy workers every few ticks and, when
//! no worker turned it since the monitor's last check (every worker stuck in
//! a long poll), by the monitor thread, so readiness is noticed within a few
//! milliseconds even then (the monitor checks every 1 to 4 ms, see
//! `multi_thread::run_monitor`).
//!
//! Ground rules:
//! - Only the holder of `core` (a `try_lock`) calls `mio::Poll::poll`.
//! - Sources live in a slab; a token is the slot index plus a generation, so
//!   an event for a source that was deregistered (and its slot reused) in
//!   the meantime is ignored.
//! - Wakers collected during a turn are woken after every lock is released.

use super::scheduled_io::{ScheduledIo, ERROR, READABLE, READ_CLOSED, WRITABLE, WRITE_CLOSED};
use mio::{Events, Interest, Poll, Registry, Token};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

const WAKE_TOKEN: Token = Token(usize::MAX);

struct Slot {
    generation: u32,
    io: Option<Arc<ScheduledIo>>,
}

#[derive(Default)]
struct Slab {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

/// What the thread driving the reactor owns.
pub(crate) struct DriverCore {
    poll: Poll,
    events: Events,
    /// Reused between turns.
    scratch: Vec<(usize, Arc<ScheduledIo>)>,
    wakes: Vec<Waker>,
}

/// One runtime's reactor.
pub(crate) struct IoDriver {
    core: Mutex<DriverCore>,
    registry: Registry,
    waker: mio::Waker,
    slab: brisk_core::spin::SpinLock<Slab>,
    registrations: AtomicUsize,
    shutdown: AtomicBool,
    /// Counts finished turns (see `turns`).
    turns: AtomicUsize,
}

/// A source registered with the reactor; deregistered by `IoDriver::deregister`.
pub(crate) struct Registration {
    pub(crate) io: Arc<ScheduledIo>,
    token: Token,
}

impl IoDriver {
    pub(crate) fn new() -> io::Result<IoDriver> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        Ok(IoDriver {
            core: Mutex::new(DriverCore {
                poll,
                events: Events::with_capacity(1024),
                scratch: Vec::new(),
                wakes: Vec::new(),
            }),
            registry,
            waker,
            slab: brisk_core::spin::SpinLock::new(Slab::default()),
            registrations: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            turns: AtomicUsize::new(0),
        })
    }

    /// Registers `source` for read and write readiness.
    pub(crate) fn register(
        &self,
        source: &mut impl mio::event::Source,
    ) -> io::Result<Registration> {
        if self.shutdown.load(Ordering::Acquire) {
            return Err(io::Error::other(crate::error::IO_DRIVER_GONE));
        }
        let io = Arc::new(ScheduledIo::new());
        let token = {
            let mut slab = self.slab.lock();
            let idx = match slab.free.pop() {
                Some(i) => i,
                None => {
                    slab.slots.push(Slot {
                        generation: 0,
                        io: None,
                    });
                    (slab.slots.len() - 1) as u32
                }
            };
            let slot = &mut slab.slots[idx as usize];
            slot.generation = slot.generation.wrapping_add(1);
            slot.io = Some(io.clone());
            Token(((slot.generation as usize) << 32) | idx as usize)
        };
        // `shutdown` stores its flag before it takes the slab lock to list
        // the sources it ends: either it listed this one, or we see the flag
        // now (a source registered unseen would wait forever).
        if self.shutdown.load(Ordering::Acquire) {
            self.release(token);
            return Err(io::Error::other(crate::error::IO_DRIVER_GONE));
        }
        if let Err(e) =
            self.registry
                .register(source, token, Interest::READABLE | Interest::WRITABLE)
        {
            self.release(token);
            return Err(e);
        }
        self.registrations.fetch_add(1, Ordering::Relaxed);
        Ok(Registration { io, token })
    }

    /// Deregisters `source` and frees its slot; waiters are woken with an
    /// error.
    pub(crate) fn deregister(&self, reg: &Registration, source: &mut impl mio::event::Source) {
        let _ = self.registry.deregister(source);
        self.release(reg.token);
        self.registrations.fetch_sub(1, Ordering::Relaxed);
        reg.io.shutdown();
    }

    fn release(&self, token: Token) {
        let idx = (token.0 & 0xFFFF_FFFF) as u32;
        let mut slab = self.slab.lock();
        let slot = &mut slab.slots[idx as usize];
        slot.io = None;
        slab.free.push(idx);
    }

    /// Sources registered now.
    pub(crate) fn registrations(&self) -> usize {
        self.registrations.load(Ordering::Relaxed)
    }

    /// The right to drive the reactor, if nobody else has it.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, DriverCore>> {
        match self.core.try_lock() {
            Ok(g) => Some(g),
            // A waker that panicked during a turn poisoned the lock; the
            // core's state is still valid (`turn` starts from empty lists).
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Interrupts a thread blocked in `turn`.
    pub(crate) fn wake(&self) {
        let _ = self.waker.wake();
    }

    /// Waits up to `timeout` for events (`None`: until one arrives or `wake`)
    /// and wakes the tasks whose sources became ready.
    pub(crate) fn turn(&self, core: &mut DriverCore, timeout: Option<Duration>) {
        if self.shutdown.load(Ordering::Acquire) {
            return;
        }
        let DriverCore {
            poll,
            events,
            scratch,
            wakes,
        } = core;
        // Left over only if a waker panicked during the last turn.
        scratch.clear();
        wakes.clear();
        if let Err(e) = poll.poll(events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                // epoll_wait failing otherwise means a broken fd: nothing to
                // dispatch; the caller's loop re-checks its queues.
                return;
            }
        }
        {
            let slab = self.slab.lock();
            for ev in events.iter() {
                let token = ev.token();
                if token == WAKE_TOKEN {
                    continue;
                }
                let idx = token.0 & 0xFFFF_FFFF;
                let generation = (token.0 >> 32) as u32;
                let Some(slot) = slab.slots.get(idx) else {
                    continue;
                };
                if slot.generation != generation {
                    continue;
                }
                let Some(io) = &slot.io else { continue };
                let mut ready = 0;
                if ev.is_readable() {
                    ready |= READABLE;
                }
                if ev.is_writable() {
                    ready |= WRITABLE;
                }
                if ev.is_read_closed() {
                    ready |= READ_CLOSED;
                }
                if ev.is_write_closed() {
                    ready |= WRITE_CLOSED;
                }
                if ev.is_error() {
                    ready |= ERROR;
                }
                scratch.push((ready, io.clone()));
            }
        }
        for (ready, io) in scratch.drain(..) {
            io.set_readiness(ready, wakes);
        }
        for w in wakes.drain(..) {
            w.wake();
        }
        // Only the lock holder writes it.
        self.turns.store(
            self.turns.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// How many turns have finished so far: a fallback poller (the monitor)
    /// compares two readings to see whether anybody drove the reactor in
    /// between.
    pub(crate) fn turns(&self) -> usize {
        self.turns.load(Ordering::Relaxed)
    }

    /// Polls without blocking if nobody drives the reactor right now.
    pub(crate) fn poll_now(&self) {
        if let Some(mut core) = self.try_lock() {
            self.turn(&mut core, Some(Duration::ZERO));
        }
    }

    /// Ends every wait on every source (runtime shutdown).
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.wake();
        let ios: Vec<Arc<ScheduledIo>> = {
            let slab = self.slab.lock();
            slab.slots.iter().filter_map(|s| s.io.clone()).collect()
        };
        for io in ios {
            io.shutdown();
        }
    }
}
