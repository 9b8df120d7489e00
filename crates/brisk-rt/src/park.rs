//! Parking a scheduler thread until it has work, and waking it.
//!
//! A `Parker` is a one-token semaphore: `unpark` leaves a token (idempotent),
//! `park` consumes it or sleeps until one arrives or the timeout passes.
//! Spurious returns are allowed; callers re-check their queues in a loop.
//!
//! A parker of a runtime with a reactor sleeps *in the reactor* when nobody
//! else drives it: `epoll_wait` instead of the condition variable, so I/O
//! readiness wakes the thread. `unpark` then interrupts the reactor.

use crate::io::IoDriver;
use crate::loom::{AtomicUsize, Condvar, Mutex, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;
/// The thread sleeps in the reactor.
const PARKED_IO: usize = 3;

/// The longest a thread that found the reactor taken sleeps on its condition
/// variable before it tries again. The holder may be a passing `poll_now`
/// (the monitor, a busy worker) or a thread about to leave the reactor for
/// good (a `block_on` whose future finished); without a bound, every thread
/// could end up asleep with nobody in `epoll_wait`, and I/O would wait for
/// the next timer (seen as 17 s connect stalls under connection churn).
const REACTOR_RETRY: Duration = Duration::from_millis(10);

/// A thread's parking spot.
#[derive(Debug)]
pub(crate) struct Parker {
    /// EMPTY, PARKED (a thread sleeps or is about to), or NOTIFIED (a token waits).
    state: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
    /// The runtime's reactor, driven while parked when it is free.
    io: Option<Arc<IoDriver>>,
}

impl std::fmt::Debug for IoDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IoDriver")
    }
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker::with_io(None)
    }

    /// A parker that drives `io` while it sleeps, when nobody else does.
    pub(crate) fn with_io(io: Option<Arc<IoDriver>>) -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            cvar: Condvar::new(),
            io,
        }
    }

    /// Sleeps in the reactor if it is free; false if it was not.
    fn park_in_reactor(&self, timeout: Option<Duration>) -> bool {
        let Some(io) = &self.io else { return false };
        let Some(mut core) = io.try_lock() else {
            return false;
        };
        match self
            .state
            .compare_exchange(EMPTY, PARKED_IO, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, Ordering::SeqCst);
                return true;
            }
            Err(actual) => panic!("inconsistent park state: {actual}"),
        }
        io.turn(&mut core, timeout);
        // Any token that arrived meanwhile is consumed: the caller re-checks.
        self.state.swap(EMPTY, Ordering::SeqCst);
        true
    }

    /// Sleeps until unparked or `timeout` passes (`None`: no timeout).
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        // Fast path: a token is already there.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            return;
        }
        if self.park_in_reactor(timeout) {
            return;
        }
        let timeout = match (&self.io, timeout) {
            (None, t) => t,
            (Some(_), None) => Some(REACTOR_RETRY),
            (Some(_), Some(t)) => Some(t.min(REACTOR_RETRY)),
        };
        let mut guard = self.lock.lock().unwrap();
        match self
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // Consume the token with a read-modify-write, so this thread
                // synchronises with the latest `unpark` (a plain store would
                // only order us after the one the failed CAS happened to read).
                self.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
            Err(actual) => panic!("inconsistent park state: {actual}"),
        }
        loop {
            guard = match timeout {
                None => self.cvar.wait(guard).unwrap(),
                Some(t) => {
                    #[cfg(not(loom))]
                    {
                        self.cvar.wait_timeout(guard, t).unwrap().0
                    }
                    #[cfg(loom)]
                    {
                        let _ = t;
                        self.cvar.wait(guard).unwrap()
                    }
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
            if timeout.is_some() {
                // Timed out (or spurious): give up the PARKED claim.
                match self.state.swap(EMPTY, Ordering::SeqCst) {
                    NOTIFIED | PARKED => return,
                    actual => panic!("inconsistent park state: {actual}"),
                }
            }
        }
    }

    /// Leaves a token and wakes the thread if it sleeps.
    pub(crate) fn unpark(&self) {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Take the lock so the sleeper is inside `wait` (not between
                // its check and its wait) when we notify.
                drop(self.lock.lock().unwrap());
                self.cvar.notify_one();
            }
            PARKED_IO => {
                if let Some(io) = &self.io {
                    io.wake();
                }
            }
            actual => panic!("inconsistent park state: {actual}"),
        }
    }
}

thread_local! {
    /// Its address identifies the current thread cheaply.
    static MARK: u8 = const { 0 };
}

/// A cheap identity of the current thread.
pub(crate) fn thread_mark() -> usize {
    MARK.with(|m| m as *const u8 as usize)
}

/// A waker that unparks a thread: what `block_on` uses for its own future.
pub(crate) struct ThreadWaker {
    pub(crate) parker: Arc<Parker>,
    /// Set when the future should be polled again.
    pub(crate) woken: crate::loom::AtomicBool,
    /// `thread_mark()` of the thread that polls the future: a wake from that
    /// thread needs no unpark, it checks `woken` before it sleeps.
    owner: usize,
}

impl ThreadWaker {
    /// A waker for a future polled on the calling thread.
    pub(crate) fn new(parker: Arc<Parker>) -> Arc<ThreadWaker> {
        Arc::new(ThreadWaker {
            parker,
            woken: crate::loom::AtomicBool::new(true),
            owner: thread_mark(),
        })
    }

    pub(crate) fn waker(self: &Arc<Self>) -> Waker {
        Waker::from(self.clone())
    }

    /// Consumes the woken flag.
    pub(crate) fn take_woken(&self) -> bool {
        self.woken.swap(false, Ordering::AcqRel)
    }
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) && thread_mark() != self.owner {
            self.parker.unpark();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::Parker;
    use crate::loom::{thread, AtomicBool, Ordering};
    use std::sync::Arc;

    /// An unpark racing a park is never lost: the parker returns.
    #[test]
    fn unpark_racing_park_is_not_lost() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let p = parker.clone();
            let t = thread::spawn(move || p.unpark());
            parker.park(None);
            t.join().unwrap();
        });
    }

    /// The classic use: a flag set before unpark is visible after park returns
    /// (re-checking in a loop tolerates spurious returns).
    #[test]
    fn flag_then_unpark_is_seen() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let flag = Arc::new(AtomicBool::new(false));
            let (p, f) = (parker.clone(), flag.clone());
            let t = thread::spawn(move || {
                f.store(true, Ordering::Release);
                p.unpark();
            });
            while !flag.load(Ordering::Acquire) {
                parker.park(None);
            }
            t.join().unwrap();
        });
    }

    /// Two unparks and two parks: tokens do not accumulate beyond one, and
    /// no park blocks forever while a token is pending.
    #[test]
    fn repeated_unpark_park() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let done = Arc::new(AtomicBool::new(false));
            let (p, d) = (parker.clone(), done.clone());
            let t = thread::spawn(move || {
                p.unpark();
                d.store(true, Ordering::Release);
                p.unpark();
            });
            while !done.load(Ordering::Acquire) {
                parker.park(None);
            }
            t.join().unwrap();
        });
    }
}
