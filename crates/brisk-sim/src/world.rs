//! The state one simulation shares between its nodes: virtual time, the
//! ready set, timers, node table and the scheduler's generator.
//!
//! # Ground rules
//! - Everything runs on the simulation's thread; the lock exists because
//!   `Schedule` and `TimeDriver` must be `Send + Sync`. It is never held
//!   while a task is polled, a waker is woken or dropped, or a `Notified`
//!   is dropped (each of these may call back into the world): functions
//!   that remove such values return them, and callers drop them after
//!   unlocking.
//! - Every decision is a function of the seed and of the order of earlier
//!   events: the ready set is a `Vec` in wake order, timers are ordered by
//!   `(deadline, id)`, and maps are only looked up, never iterated, unless
//!   they are `BTreeMap`s.

use brisk_core::rand::{below_with, mix, Rng};
use brisk_core::spin::SpinLock;
use brisk_core::task::Notified;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::task::Waker;

/// How the scheduler picks the next task among the ready ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Scheduler {
    /// Uniformly at random among all ready tasks of all nodes (the default).
    #[default]
    Random,
    /// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010):
    /// every task gets a random priority when first scheduled and the
    /// highest-priority ready task always runs; at `depth - 1` random steps
    /// (drawn from the first [`PCT_HORIZON`] steps) the running task drops
    /// to the lowest priority. Finds a bug that needs `depth` ordering
    /// constraints with probability at least 1/(n·k^(depth-1)).
    Pct {
        /// The bug depth to aim for (at least 1).
        depth: u32,
    },
}

/// The number of steps PCT draws its priority change points from.
pub const PCT_HORIZON: u64 = 10_000;

/// A task that was woken, with the node (and node generation) it runs on.
pub(crate) struct Ready {
    pub(crate) node: u32,
    pub(crate) gen: u64,
    pub(crate) task: Notified,
}

/// One node, as the world sees it.
pub(crate) struct NodeInfo {
    pub(crate) name: Arc<str>,
    /// Bumped by each crash: schedulers and timers of older generations are
    /// dead.
    pub(crate) gen: u64,
    pub(crate) alive: bool,
    pub(crate) paused: bool,
    pub(crate) is_client: bool,
    /// Tasks woken while the node is paused.
    pub(crate) parked: Vec<Notified>,
    pub(crate) clock: Clock,
    /// The node's disk: survives crashes (minus what was not durable).
    pub(crate) disk: crate::disk::model::Disk,
    /// Faults injected into the disk, from `Sim::disk`.
    pub(crate) disk_faults: crate::disk::Faults,
}

/// A node's clock as a function of global virtual time:
/// `local = skew + global · (1 + drift_ppm / 10^6)`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Clock {
    pub(crate) skew_ns: u64,
    pub(crate) drift_ppm: i64,
}

const PPM: i128 = 1_000_000;

impl Clock {
    pub(crate) fn local(self, global: u64) -> u64 {
        let scaled = i128::from(global) * (PPM + i128::from(self.drift_ppm)) / PPM;
        (i128::from(self.skew_ns) + scaled).clamp(0, i128::from(u64::MAX)) as u64
    }

    /// The earliest global time at which the local clock reads `local` or more.
    pub(crate) fn global_for(self, local: u64) -> u64 {
        let Some(x) = local.checked_sub(self.skew_ns) else {
            return 0;
        };
        let rate = PPM + i128::from(self.drift_ppm);
        let g = (i128::from(x) * PPM + rate - 1) / rate;
        g.clamp(0, i128::from(u64::MAX)) as u64
    }
}

pub(crate) struct Timer {
    pub(crate) node: u32,
    pub(crate) at: u64,
    pub(crate) waker: Option<Waker>,
    pub(crate) fired: bool,
}

/// Armed timers of every node, ordered by global deadline.
#[derive(Default)]
pub(crate) struct Timers {
    next_id: u64,
    pub(crate) by_id: BTreeMap<u64, Timer>,
    pub(crate) queue: BTreeSet<(u64, u64)>,
}

impl Timers {
    pub(crate) fn insert(&mut self, node: u32, at: u64, waker: Waker) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.by_id.insert(
            id,
            Timer {
                node,
                at,
                waker: Some(waker),
                fired: false,
            },
        );
        self.queue.insert((at, id));
        id
    }
}

/// PCT's bookkeeping.
pub(crate) struct Pct {
    /// Priorities by (node, generation, task id); looked up, never iterated.
    priorities: HashMap<(u32, u64, u64), u64>,
    /// Steps after which the running task is demoted, sorted.
    change_points: Vec<u64>,
    /// The next low priority to hand out (counts down from `depth`).
    next_low: u64,
}

/// What the scheduler ran last, for PCT's demotion.
pub(crate) struct Picked {
    pub(crate) ready: Ready,
    key: (u32, u64, u64),
}

pub(crate) struct State {
    /// Global virtual time in nanoseconds since the simulation started.
    pub(crate) now: u64,
    pub(crate) tick: u64,
    pub(crate) ready: Vec<Ready>,
    pub(crate) nodes: Vec<NodeInfo>,
    pub(crate) timers: Timers,
    pub(crate) steps: u64,
    pub(crate) seed: u64,
    sched_rng: Rng,
    pct: Option<Pct>,
    /// Requests from `brisk::sim::handle()`, applied after the current poll.
    pub(crate) controls: Vec<crate::handle::Control>,
    /// Root tasks of clients: (node, task id).
    pub(crate) client_roots: Vec<(u32, u64)>,
    /// Client failures, in the order they happened.
    pub(crate) failures: Vec<(String, String)>,
    pub(crate) buggify: crate::buggify::Sites,
    /// The simulated network.
    pub(crate) net: crate::net::Net,
}

impl State {
    /// Rounds a global time up to the tick.
    pub(crate) fn round_up(&self, t: u64) -> u64 {
        t.div_ceil(self.tick).saturating_mul(self.tick)
    }

    /// Queues a woken task, or parks it (paused node), or hands it back to
    /// be dropped (dead node generation).
    pub(crate) fn push_ready(&mut self, node: u32, gen: u64, task: Notified) -> Option<Notified> {
        let n = &mut self.nodes[node as usize];
        if n.gen != gen || !n.alive {
            return Some(task);
        }
        if n.paused {
            n.parked.push(task);
        } else {
            self.ready.push(Ready { node, gen, task });
        }
        None
    }

    /// Takes the next task to run.
    pub(crate) fn pick(&mut self) -> Option<Picked> {
        if self.ready.is_empty() {
            return None;
        }
        let i = match &mut self.pct {
            None => {
                let rng = &self.sched_rng;
                below_with(self.ready.len() as u64, || rng.next_u64()) as usize
            }
            Some(pct) => {
                let mut best = (0usize, 0u64);
                for (i, r) in self.ready.iter().enumerate() {
                    let key = (r.node, r.gen, r.task.id().as_u64());
                    let rng = &self.sched_rng;
                    // Normal priorities have the top bit set; demoted ones do not.
                    let p = *pct
                        .priorities
                        .entry(key)
                        .or_insert_with(|| rng.next_u64() | (1 << 63));
                    if i == 0 || p > best.1 {
                        best = (i, p);
                    }
                }
                best.0
            }
        };
        let ready = self.ready.swap_remove(i);
        let key = (ready.node, ready.gen, ready.task.id().as_u64());
        Some(Picked { ready, key })
    }

    /// Counts a step; at a PCT change point, demotes the task that ran.
    pub(crate) fn after_step(&mut self, key_of: Option<(u32, u64, u64)>) {
        self.steps += 1;
        if let (Some(pct), Some(key)) = (&mut self.pct, key_of) {
            while pct.change_points.first() == Some(&self.steps) {
                pct.change_points.remove(0);
                pct.next_low = pct.next_low.saturating_sub(1);
                pct.priorities.insert(key, pct.next_low);
            }
        }
    }

    /// The earliest deadline among timers of unpaused nodes.
    pub(crate) fn next_timer(&self) -> Option<u64> {
        self.timers
            .queue
            .iter()
            .find(|(_, id)| {
                let node = self.timers.by_id[id].node;
                !self.nodes[node as usize].paused
            })
            .map(|(at, _)| *at)
    }

    /// Fires every timer of an unpaused node due at or before `now`, in
    /// `(deadline, id)` order; returns their wakers.
    pub(crate) fn fire_due(&mut self, only_node: Option<u32>) -> Vec<Waker> {
        let due: Vec<(u64, u64)> = self
            .timers
            .queue
            .range(..=(self.now, u64::MAX))
            .filter(|(_, id)| {
                let node = self.timers.by_id[id].node;
                !self.nodes[node as usize].paused && only_node.is_none_or(|n| n == node)
            })
            .copied()
            .collect();
        let mut wakers = Vec::with_capacity(due.len());
        for key in due {
            self.timers.queue.remove(&key);
            if let Some(t) = self.timers.by_id.get_mut(&key.1) {
                t.fired = true;
                wakers.extend(t.waker.take());
            }
        }
        wakers
    }

    /// Removes everything of node `node` from the ready set, the parked list
    /// and the timers. Returns the values to drop after unlocking.
    pub(crate) fn purge_node(&mut self, node: u32) -> (Vec<Ready>, Vec<Notified>, Vec<Timer>) {
        let mut ready = Vec::new();
        let mut i = 0;
        while i < self.ready.len() {
            if self.ready[i].node == node {
                ready.push(self.ready.remove(i));
            } else {
                i += 1;
            }
        }
        let parked = std::mem::take(&mut self.nodes[node as usize].parked);
        let ids: Vec<u64> = self
            .timers
            .by_id
            .iter()
            .filter(|(_, t)| t.node == node)
            .map(|(id, _)| *id)
            .collect();
        let mut timers = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(t) = self.timers.by_id.remove(&id) {
                self.timers.queue.remove(&(t.at, id));
                timers.push(t);
            }
        }
        (ready, parked, timers)
    }
}

/// One simulation's shared state.
pub(crate) struct World {
    pub(crate) state: SpinLock<State>,
}

impl World {
    pub(crate) fn new(
        seed: u64,
        tick: u64,
        scheduler: Scheduler,
        net: crate::net::NetConfig,
    ) -> World {
        let sched_rng = Rng::from_seed(mix(seed, 0x5C4E_D01E));
        let pct = match scheduler {
            Scheduler::Random => None,
            Scheduler::Pct { depth } => {
                let mut change_points: Vec<u64> = (1..depth)
                    .map(|_| 1 + below_with(PCT_HORIZON, || sched_rng.next_u64()))
                    .collect();
                change_points.sort_unstable();
                Some(Pct {
                    priorities: HashMap::new(),
                    change_points,
                    next_low: u64::from(depth),
                })
            }
        };
        World {
            state: SpinLock::new(State {
                now: 0,
                tick,
                ready: Vec::new(),
                nodes: Vec::new(),
                timers: Timers::default(),
                steps: 0,
                seed,
                sched_rng,
                pct,
                controls: Vec::new(),
                client_roots: Vec::new(),
                failures: Vec::new(),
                buggify: crate::buggify::Sites::new(seed),
                net: crate::net::Net::new(seed, tick, net),
            }),
        }
    }
}

impl Picked {
    /// The PCT key of the picked task.
    pub(crate) fn key(&self) -> (u32, u64, u64) {
        self.key
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn clock_inverse_is_exact() {
        for clock in [
            Clock::default(),
            Clock {
                skew_ns: 5_000,
                drift_ppm: 100,
            },
            Clock {
                skew_ns: 0,
                drift_ppm: -250_000,
            },
        ] {
            for local in [0u64, 1, 999, 5_000, 5_001, 1_000_000_007, 3_600_000_000_000] {
                let g = clock.global_for(local);
                assert!(clock.local(g) >= local, "{clock:?} {local}");
                if g > 0 {
                    assert!(clock.local(g - 1) < local, "{clock:?} {local}");
                }
            }
        }
    }
}
