//! Scheduling traces and the determinism check.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

/// One scheduling decision: which task of which node ran, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// The step number (0 for the first poll of the run).
    pub step: u64,
    /// Global virtual time of the poll.
    pub time: Duration,
    /// The node's name.
    pub node: Arc<str>,
    /// The task's id within its node.
    pub task: u64,
    /// The task's name, if it has one.
    pub task_name: Option<Arc<str>>,
    /// Where the task was spawned.
    pub location: &'static Location<'static>,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {} at {:?}: node \"{}\" task #{}",
            self.step, self.time, self.node, self.task
        )?;
        if let Some(name) = &self.task_name {
            write!(f, " ({name})")?;
        }
        write!(f, " spawned at {}", self.location)
    }
}

/// The first difference between two runs of one seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The seed both runs used.
    pub seed: u64,
    /// The first run's decision at the divergent step (`None`: it ended).
    pub first: Option<TraceEvent>,
    /// The second run's decision at that step (`None`: it ended).
    pub second: Option<TraceEvent>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |e: &Option<TraceEvent>| match e {
            Some(e) => e.to_string(),
            None => "the run had ended".to_owned(),
        };
        write!(
            f,
            "brisk::sim: seed {:#x} is not deterministic: two runs diverged.\n  first run:  {}\n  second run: {}\n\
             Something outside the simulation influenced the run: look at what the task above reads \
             (std::time, std::thread, thread_rng, HashMap iteration order, a global or static, \
             the file system) and route it through `brisk::time`, `brisk::rand` or the simulation's state",
            self.seed,
            show(&self.first),
            show(&self.second)
        )
    }
}

/// The first step where `a` and `b` differ.
pub(crate) fn first_divergence(
    seed: u64,
    a: &[TraceEvent],
    b: &[TraceEvent],
) -> Option<Divergence> {
    let n = a.len().max(b.len());
    (0..n).find(|&i| a.get(i) != b.get(i)).map(|i| Divergence {
        seed,
        first: a.get(i).cloned(),
        second: b.get(i).cloned(),
    })
}
