//! The wait-for graph of a dump: task → resource → holder task.

use crate::dump::{Dump, Holder, TaskDump, WaitDump};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

impl Dump {
    /// Edges task → task: the first (or a child of a scope it runs) waits
    /// on a resource the second holds.
    fn wait_for_edges(&self) -> BTreeMap<u64, BTreeSet<u64>> {
        let mut edges: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for t in &self.tasks {
            for w in waits(t) {
                for h in &w.holders {
                    if let Holder::Task(holder) = h {
                        edges.entry(t.id).or_default().insert(*holder);
                    }
                }
            }
        }
        edges
    }

    /// Deadlocks among Brisk resources: each cycle of the wait-for graph
    /// (task A waits on a resource held by B, B on one held by ..., back to
    /// A), as the task ids along the cycle, starting from the smallest.
    /// A task waiting on a lock it holds itself is a cycle of one.
    ///
    /// Only resources that record their holders take part (`Mutex`,
    /// `RwLock`, `Semaphore`, `OnceCell`); a wait on a channel or a task has
    /// no holder to point at.
    pub fn wait_for_cycles(&self) -> Vec<Vec<u64>> {
        brisk_core::diag::wait_for_cycles(&self.wait_for_edges())
    }

    /// The wait-for graph as Graphviz DOT: tasks as ellipses, resources as
    /// boxes, "waits" and "held by" edges; edges on a deadlock cycle are red.
    /// Render with `dot -Tsvg`.
    ///
    /// ```
    /// # brisk::run(async {
    /// let dot = brisk::diag::dump().to_dot();
    /// assert!(dot.starts_with("digraph wait_for {"));
    /// # });
    /// ```
    pub fn to_dot(&self) -> String {
        let on_cycle: BTreeSet<(u64, u64)> = self
            .wait_for_cycles()
            .iter()
            .flat_map(|c| (0..c.len()).map(move |i| (c[i], c[(i + 1) % c.len()])))
            .collect();
        let mut out = String::from("digraph wait_for {\n  rankdir=LR;\n");
        let mut resources = BTreeSet::new();
        for t in &self.tasks {
            let _ = writeln!(
                out,
                "  t{} [label=\"{}\\n{}\"];",
                t.id,
                escape(&t.label()),
                escape(&t.location)
            );
        }
        for (t, w) in self
            .tasks
            .iter()
            .flat_map(|t| waits(t).map(move |w| (t, w)))
        {
            if w.kind == "Yield" {
                continue;
            }
            let r = format!("r{}_{}", w.kind, w.resource);
            if resources.insert(r.clone()) {
                let _ = writeln!(
                    out,
                    "  {r} [shape=box, label=\"{} #{}\"];",
                    w.kind, w.resource
                );
            }
            let red = |holder: u64| on_cycle.contains(&(t.id, holder));
            let waits_red = w
                .holders
                .iter()
                .any(|h| matches!(h, Holder::Task(id) if red(*id)));
            let _ = writeln!(
                out,
                "  t{} -> {r} [label=\"waits at {}\"{}];",
                t.id,
                escape(&w.location),
                if waits_red { ", color=red" } else { "" }
            );
            for h in &w.holders {
                if let Holder::Task(id) = h {
                    let _ = writeln!(
                        out,
                        "  {r} -> t{id} [label=\"held by\"{}];",
                        if red(*id) { ", color=red" } else { "" }
                    );
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

/// What a task waits on: its own wait-point, then those of the children of
/// the scopes it runs (which wait inside it).
fn waits(t: &TaskDump) -> impl Iterator<Item = &WaitDump> {
    t.waiting_on.iter().chain(
        t.scope_children
            .iter()
            .filter_map(|c| c.waiting_on.as_ref()),
    )
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::{TaskDump, WaitDump, WakerDump};

    fn task(id: u64, waits_on: Option<(u64, Vec<u64>)>) -> TaskDump {
        TaskDump {
            id,
            name: None,
            location: "x.rs:1:1".into(),
            parent: None,
            kind: "task",
            state: "idle",
            cancelled: false,
            polls: 1,
            wakers: WakerDump::default(),
            waiting_on: waits_on.map(|(r, holders)| WaitDump {
                kind: "Mutex",
                resource: r,
                location: "x.rs:2:2".into(),
                holders: holders.into_iter().map(Holder::Task).collect(),
                more_holders: 0,
                chain: Vec::new(),
            }),
            busy_us: None,
            idle_us: None,
            poll_histogram_us: None,
            scope_children: Vec::new(),
        }
    }

    fn dump(tasks: Vec<TaskDump>) -> Dump {
        Dump {
            runtime: "test".into(),
            tasks,
        }
    }

    #[test]
    fn finds_two_and_three_task_cycles_and_self_waits() {
        let d = dump(vec![
            task(1, Some((10, vec![2]))),
            task(2, Some((11, vec![1]))),
            task(3, Some((12, vec![4]))),
            task(4, Some((13, vec![5]))),
            task(5, Some((14, vec![3]))),
            task(6, Some((15, vec![6]))),
            task(7, Some((16, vec![1]))), // waits on a deadlocked task, not in a cycle
            task(8, None),
        ]);
        assert_eq!(
            d.wait_for_cycles(),
            vec![vec![1, 2], vec![3, 4, 5], vec![6]]
        );
        let dot = d.to_dot();
        assert!(
            dot.contains("t1 -> rMutex_10 [label=\"waits at x.rs:2:2\", color=red]"),
            "{dot}"
        );
        assert!(dot.contains("rMutex_16 -> t1 [label=\"held by\"]"), "{dot}");
    }

    #[test]
    fn a_chain_is_not_a_cycle() {
        let d = dump(vec![
            task(1, Some((10, vec![2]))),
            task(2, Some((11, vec![3]))),
            task(3, None),
        ]);
        assert!(d.wait_for_cycles().is_empty());
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let n = 200_000u64;
        let tasks = (1..=n)
            .map(|i| task(i, Some((i, vec![if i == n { 1 } else { i + 1 }]))))
            .collect();
        let cycles = dump(tasks).wait_for_cycles();
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), n as usize);
    }
}
