//! Brisk timers on tokio's timers.
//!
//! Every armed Brisk timer is one tokio task sleeping on tokio's timer
//! wheel until the deadline; it then marks the timer fired and wakes the
//! waiting Brisk task. Re-arming or cancelling aborts that tokio task
//! (bumping the timer's generation first, so the aborted sleeper knows it
//! was not the runtime shutting down).
//!
//! Ground rules:
//! - lock order: `timers` map, then a timer's `state`;
//! - a waker is woken after every lock is released;
//! - a sleeper whose generation is no longer the timer's does nothing.

use brisk_core::time::{clock, Instant, TimeDriver, TimerError, TimerId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

struct State {
    /// Bumped by every re-arm and by cancel.
    gen: u64,
    fired: bool,
    /// The sleeper was dropped without firing and without being replaced:
    /// the tokio runtime is shutting down.
    shutdown: bool,
    waker: Option<Waker>,
}

struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Timer {
    shared: Arc<Shared>,
    sleeper: ::tokio::task::AbortHandle,
}

pub(crate) struct TokioTime {
    tokio: ::tokio::runtime::Handle,
    timers: Mutex<HashMap<u64, Timer>>,
    next_id: AtomicU64,
}

impl TokioTime {
    pub(crate) fn new(tokio: ::tokio::runtime::Handle) -> TokioTime {
        TokioTime {
            tokio,
            timers: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    fn timers(&self) -> MutexGuard<'_, HashMap<u64, Timer>> {
        self.timers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a tokio task that fires generation `gen` of `shared` at
    /// `deadline`.
    fn arm(&self, shared: &Arc<Shared>, gen: u64, deadline: Instant) -> ::tokio::task::AbortHandle {
        let guard = FireOnDrop {
            shared: shared.clone(),
            gen,
            fired: false,
        };
        self.tokio
            .spawn(async move {
                let mut guard = guard;
                let deadline = deadline.since_origin();
                // tokio rounds deadlines up to its 1 ms tick, but converting
                // between clocks may lose a few nanoseconds: check ours.
                while clock::system_now() < deadline {
                    let at = ::tokio::time::Instant::from_std(clock::to_std(deadline));
                    ::tokio::time::sleep_until(at).await;
                }
                guard.fire();
            })
            .abort_handle()
    }
}

/// Owned by a sleeper task: fires the timer, or, if the task is dropped
/// before that while still current, reports the runtime's shutdown.
struct FireOnDrop {
    shared: Arc<Shared>,
    gen: u64,
    fired: bool,
}

impl FireOnDrop {
    fn fire(&mut self) {
        self.fired = true;
        let waker = {
            let mut st = self.shared.lock();
            if st.gen != self.gen {
                return;
            }
            st.fired = true;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Drop for FireOnDrop {
    fn drop(&mut self) {
        if self.fired {
            return;
        }
        let waker = {
            let mut st = self.shared.lock();
            if st.gen != self.gen {
                return;
            }
            st.shutdown = true;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl TimeDriver for TokioTime {
    fn now(&self) -> Instant {
        Instant::from_origin(clock::system_now())
    }

    fn register(&self, deadline: Instant, waker: &Waker) -> Result<Option<TimerId>, TimerError> {
        if deadline <= self.now() {
            return Ok(None);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                gen: 0,
                fired: false,
                shutdown: false,
                waker: Some(waker.clone()),
            }),
        });
        let sleeper = self.arm(&shared, 0, deadline);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.timers().insert(id, Timer { shared, sleeper });
        Ok(Some(TimerId(id)))
    }

    fn poll(&self, id: TimerId, waker: &Waker) -> Result<Poll<()>, TimerError> {
        let timers = self.timers();
        let Some(timer) = timers.get(&id.0) else {
            return Err(TimerError::Shutdown);
        };
        let mut st = timer.shared.lock();
        if st.fired {
            return Ok(Poll::Ready(()));
        }
        if st.shutdown {
            return Err(TimerError::Shutdown);
        }
        let old = match &st.waker {
            Some(w) if w.will_wake(waker) => None,
            _ => st.waker.replace(waker.clone()),
        };
        drop(st);
        drop(timers);
        drop(old);
        Ok(Poll::Pending)
    }

    fn reset(&self, id: TimerId, deadline: Instant) -> Result<(), TimerError> {
        let passed = deadline <= self.now();
        let mut timers = self.timers();
        let Some(timer) = timers.get_mut(&id.0) else {
            return Err(TimerError::Shutdown);
        };
        let (gen, waker) = {
            let mut st = timer.shared.lock();
            st.gen += 1;
            st.shutdown = false;
            st.fired = passed;
            (st.gen, if passed { st.waker.take() } else { None })
        };
        timer.sleeper.abort();
        if !passed {
            timer.sleeper = self.arm(&timer.shared, gen, deadline);
        }
        drop(timers);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    fn cancel(&self, id: TimerId) {
        let removed = self.timers().remove(&id.0);
        if let Some(timer) = removed {
            let waker = {
                let mut st = timer.shared.lock();
                st.gen += 1;
                st.waker.take()
            };
            timer.sleeper.abort();
            drop(waker);
        }
    }
}
