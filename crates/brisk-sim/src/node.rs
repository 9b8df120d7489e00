//! One simulated node as brisk-core sees it: a `Backend` with its own task
//! registry, clock view, timers and random generator, scheduling into the
//! simulation's shared ready set.

use crate::world::World;
use brisk_core::rand::{mix, Rng};
use brisk_core::runtime::{Backend, Schedule, ScheduleRef};
use brisk_core::task::{JoinError, Notified, Registry, TaskRef};
use brisk_core::time::{Instant, TimeDriver, TimerError, TimerId};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::thread::ThreadId;

/// Where a node's tasks go when woken: the simulation's ready set, tagged
/// with the node and its generation (a crash starts a new generation, and
/// wake-ups of the old one are dropped).
pub(crate) struct NodeSchedule {
    pub(crate) world: Arc<World>,
    pub(crate) node: u32,
    pub(crate) gen: u64,
    registry: Registry,
}

// SAFETY: every `Notified` goes to the world's ready set (or is dropped);
// the simulation loop runs each at most once, on the simulation's thread.
// Local tasks can only be spawned on that thread (`local_scheduler` checks),
// so they run on the thread that spawned them. The registry lives as long as
// this scheduler.
unsafe impl Schedule for NodeSchedule {
    fn schedule(&self, task: Notified) {
        let dead = self
            .world
            .state
            .lock()
            .push_ready(self.node, self.gen, task);
        // Dropped after unlocking: a release may deallocate the task.
        drop(dead);
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn task_panicked(&self, task: TaskRef<'_>, error: &JoinError) {
        let mut st = self.world.state.lock();
        let id = task.id().as_u64();
        if st.client_roots.contains(&(self.node, id)) {
            let name = st.nodes[self.node as usize].name.to_string();
            st.failures.push((name, error.to_string()));
        }
    }
}

/// A node's timers: entries in the world's timer queue, with deadlines
/// converted from the node's clock to global virtual time.
pub(crate) struct NodeTime {
    pub(crate) world: Arc<World>,
    pub(crate) node: u32,
}

impl NodeTime {
    fn local_now(&self) -> u64 {
        let st = self.world.state.lock();
        st.nodes[self.node as usize].clock.local(st.now)
    }
}

impl TimeDriver for NodeTime {
    fn now(&self) -> Instant {
        Instant::from_origin(std::time::Duration::from_nanos(self.local_now()))
    }

    fn register(&self, deadline: Instant, waker: &Waker) -> Result<Option<TimerId>, TimerError> {
        let local = deadline.since_origin().as_nanos().min(u128::from(u64::MAX)) as u64;
        let mut st = self.world.state.lock();
        let clock = st.nodes[self.node as usize].clock;
        if local <= clock.local(st.now) {
            return Ok(None);
        }
        let at = st.round_up(clock.global_for(local)).max(st.now);
        Ok(Some(TimerId(st.timers.insert(
            self.node,
            at,
            waker.clone(),
        ))))
    }

    fn poll(&self, id: TimerId, waker: &Waker) -> Result<Poll<()>, TimerError> {
        let mut st = self.world.state.lock();
        let Some(t) = st.timers.by_id.get_mut(&id.0) else {
            return Err(TimerError::Shutdown);
        };
        if t.fired {
            return Ok(Poll::Ready(()));
        }
        let old = match &t.waker {
            Some(w) if w.will_wake(waker) => None,
            _ => t.waker.replace(waker.clone()),
        };
        drop(st);
        drop(old);
        Ok(Poll::Pending)
    }

    fn reset(&self, id: TimerId, deadline: Instant) -> Result<(), TimerError> {
        let local = deadline.since_origin().as_nanos().min(u128::from(u64::MAX)) as u64;
        let mut st = self.world.state.lock();
        let clock = st.nodes[self.node as usize].clock;
        let passed = local <= clock.local(st.now);
        let at = st.round_up(clock.global_for(local)).max(st.now);
        let Some(t) = st.timers.by_id.get_mut(&id.0) else {
            return Err(TimerError::Shutdown);
        };
        let old_at = t.at;
        let was_queued = !t.fired;
        let wake = if passed {
            t.fired = true;
            t.waker.take()
        } else {
            t.fired = false;
            t.at = at;
            None
        };
        if was_queued {
            st.timers.queue.remove(&(old_at, id.0));
        }
        if !passed {
            st.timers.queue.insert((at, id.0));
        }
        drop(st);
        if let Some(w) = wake {
            w.wake();
        }
        Ok(())
    }

    fn cancel(&self, id: TimerId) {
        let mut st = self.world.state.lock();
        let removed = st.timers.by_id.remove(&id.0);
        if let Some(t) = &removed {
            st.timers.queue.remove(&(t.at, id.0));
        }
        drop(st);
        drop(removed);
    }
}

/// A node's runtime, as portable code sees it.
pub(crate) struct NodeBackend {
    pub(crate) world: Arc<World>,
    pub(crate) name: Arc<str>,
    sched: ScheduleRef,
    time: Arc<dyn TimeDriver>,
    rng: Rng,
    owner: ThreadId,
    describe: String,
    net: crate::net::SimNet,
    fs: crate::disk::SimFs,
}

impl NodeBackend {
    pub(crate) fn new(world: Arc<World>, node: u32, gen: u64, name: Arc<str>) -> NodeBackend {
        let seed = world.state.lock().seed;
        let name_hash = crate::buggify::fnv(name.as_bytes());
        NodeBackend {
            sched: ScheduleRef::new(Arc::new(NodeSchedule {
                world: world.clone(),
                node,
                gen,
                registry: Registry::new(1),
            })),
            time: Arc::new(NodeTime {
                world: world.clone(),
                node,
            }),
            rng: Rng::from_seed(mix(mix(seed, name_hash), gen)),
            owner: std::thread::current().id(),
            net: crate::net::SimNet {
                world: world.clone(),
                node,
            },
            fs: crate::disk::SimFs {
                world: world.clone(),
                node,
                gen,
            },
            describe: format!("Brisk simulator node \"{name}\""),
            world,
            name,
        }
    }
}

impl Backend for NodeBackend {
    fn scheduler(&self) -> &ScheduleRef {
        &self.sched
    }

    fn local_scheduler(&self) -> Option<ScheduleRef> {
        // `!Send` tasks must run on the thread that spawns them: the
        // simulation's own.
        (std::thread::current().id() == self.owner).then(|| self.sched.clone())
    }

    fn blocking_scheduler(&self) -> &ScheduleRef {
        // Blocking closures run inline on the simulation thread when their
        // task is picked, so they are scheduled like any other task.
        &self.sched
    }

    fn now(&self) -> Instant {
        self.time.now()
    }

    fn time_driver(&self) -> Option<&Arc<dyn TimeDriver>> {
        Some(&self.time)
    }

    fn describe(&self) -> &str {
        &self.describe
    }

    fn net(&self) -> Option<&dyn brisk_core::net::NetDriver> {
        Some(&self.net)
    }

    fn fs(&self) -> Option<&dyn brisk_core::fs::FsDriver> {
        Some(&self.fs)
    }

    fn rand_u64(&self) -> Option<u64> {
        Some(self.rng.next_u64())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
