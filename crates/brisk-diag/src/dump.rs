//! The task dump: a snapshot of every task of one runtime.

use brisk_core::runtime::Handle;
use brisk_core::task::Registry;
use brisk_core::task::{TaskKind, TaskState};
use brisk_core::wait::holders_of_in;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The message of [`dump`] outside a runtime.
const DUMP_OUTSIDE_RUNTIME: &str = "`brisk::diag::dump` was called outside a Brisk runtime: \
call it from inside a task or `block_on`, or use `Dump::of(&handle)` with a \
`brisk::runtime::Handle` (for example from another thread)";

/// A snapshot of every task of a runtime, taken by [`dump`] or
/// [`Dump::of`].
///
/// Prints as a tree (children under the task that spawned them), serialises
/// with serde, and exports its wait-for graph with [`to_dot`](Dump::to_dot).
#[derive(Clone, Debug, Serialize)]
pub struct Dump {
    /// The runtime's description (flavour, workers).
    pub runtime: String,
    /// The tasks, by id.
    pub tasks: Vec<TaskDump>,
}

/// One task in a [`Dump`].
#[derive(Clone, Debug, Serialize)]
pub struct TaskDump {
    /// The task's id (unique within its runtime).
    pub id: u64,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Where it was spawned, as `file:line:column`.
    pub location: String,
    /// The task that spawned it (scope children and group members are
    /// children of the task that runs the scope or the group).
    pub parent: Option<u64>,
    /// `"task"`, `"local"` or `"blocking"`.
    pub kind: &'static str,
    /// `"idle"`, `"scheduled"`, `"running"` or `"complete"`.
    pub state: &'static str,
    /// True if it was cancelled (softly or hard).
    pub cancelled: bool,
    /// How many times it was polled.
    pub polls: u64,
    /// Waker activity.
    pub wakers: WakerDump,
    /// What it waits on, if it is waiting on a Brisk resource.
    pub waiting_on: Option<WaitDump>,
    /// Microseconds spent inside polls (`None` when the runtime does not
    /// measure polls: see `Builder::task_timing` and `BRISK_TASK_TIMING`).
    pub busy_us: Option<u64>,
    /// Microseconds alive but not being polled (queued or waiting).
    pub idle_us: Option<u64>,
    /// Poll durations: bucket `i` counts polls that lasted
    /// `[2^i, 2^(i+1))` µs; bucket 0 also takes polls under 1 µs, and the
    /// last bucket everything longer.
    pub poll_histogram_us: Option<Vec<u64>>,
    /// The live children of the scopes this task runs (`brisk::scope`
    /// children are not tasks: they run inside this one), in spawn order.
    pub scope_children: Vec<ScopeChildDump>,
}

/// A child of a `brisk::scope` run by a task, in that task's
/// [`TaskDump::scope_children`].
#[derive(Clone, Debug, Serialize)]
pub struct ScopeChildDump {
    /// The child's id: whoever awaits its `ScopedJoinHandle` waits on
    /// `Scope #id`.
    pub id: u64,
    /// Its scope's id: the task awaiting the scope waits on `Scope #scope`.
    pub scope: u64,
    /// The name given with `Scope::spawn_named`, if any.
    pub name: Option<String>,
    /// Where the child was spawned, as `file:line:column`.
    pub location: String,
    /// Where its scope was entered, as `file:line:column`.
    pub scope_location: String,
    /// True if it was cancelled.
    pub cancelled: bool,
    /// How many times it was polled.
    pub polls: u64,
    /// What it waits on, when its task is idle and it waits on a Brisk
    /// resource.
    pub waiting_on: Option<WaitDump>,
}

/// Waker activity of a task.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct WakerDump {
    /// Clones of its waker.
    pub clones: u64,
    /// Wakes.
    pub wakes: u64,
    /// Wakers dropped without waking.
    pub drops: u64,
}

/// A task's wait-point: what it waits on and where.
#[derive(Clone, Debug, Serialize)]
pub struct WaitDump {
    /// The resource kind (`"Mutex"`, `"Timer"`, `"Io"`, `"Channel"`, ...).
    pub kind: &'static str,
    /// The resource's id (for `"Task"`, the awaited task's id).
    pub resource: u64,
    /// Where the task waits, as `file:line:column`.
    pub location: String,
    /// Who holds the resource, for resources that record holders.
    pub holders: Vec<Holder>,
    /// Holders beyond those listed.
    pub more_holders: usize,
    /// The `#[brisk::traced]` functions the task waits in, outermost first
    /// (empty when it waits in none).
    pub chain: Vec<ChainFrame>,
}

/// One `#[brisk::traced]` function in a wait's await chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainFrame {
    /// The function's path (`module::function`) or the name given to the
    /// attribute.
    pub name: &'static str,
    /// Where the function is defined, as `file:line:column`.
    pub location: String,
}

/// A holder of a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Holder {
    /// A task, by id.
    Task(u64),
    /// A thread outside any task (a `blocking_lock` caller, say).
    Thread,
}

/// A dump of the current runtime.
///
/// # Panics
/// Outside a Brisk runtime; use [`try_dump`] or [`Dump::of`] there.
#[track_caller]
pub fn dump() -> Dump {
    match try_dump() {
        Some(d) => d,
        None => panic!("{DUMP_OUTSIDE_RUNTIME}"),
    }
}

/// A dump of the current runtime, or `None` outside any runtime.
pub fn try_dump() -> Option<Dump> {
    Handle::try_current().map(|h| Dump::of(&h))
}

impl Dump {
    /// A dump of `handle`'s runtime; callable from any thread.
    pub fn of(handle: &Handle) -> Dump {
        // Owned references first, so no registry lock is held while the
        // holder directory is read.
        let registry = handle.backend().registry();
        let tasks = registry.tasks();
        let mut out: Vec<TaskDump> = tasks
            .iter()
            .map(|t| TaskDump::of(registry, t.as_ref()))
            .collect();
        out.sort_by_key(|t| t.id);
        for child in registry.scope_children() {
            let Ok(i) = out.binary_search_by_key(&child.task.as_u64(), |t| t.id) else {
                continue; // its task finished since the task list was taken
            };
            let task = &mut out[i];
            let waiting_on = child
                .wait_point
                .filter(|_| task.state == "idle")
                .map(|w| WaitDump::of(registry, w));
            task.scope_children.push(ScopeChildDump {
                id: child.id,
                scope: child.scope,
                name: child.name.as_deref().map(str::to_owned),
                location: child.location.to_string(),
                scope_location: child.scope_location.to_string(),
                cancelled: child.cancelled,
                polls: child.polls,
                waiting_on,
            });
        }
        Dump {
            runtime: handle.backend().describe().to_owned(),
            tasks: out,
        }
    }

    /// The task with this id, if it is in the dump.
    pub fn task(&self, id: u64) -> Option<&TaskDump> {
        self.tasks
            .binary_search_by_key(&id, |t| t.id)
            .ok()
            .map(|i| &self.tasks[i])
    }
}

impl TaskDump {
    fn of(registry: &Registry, t: brisk_core::task::TaskRef<'_>) -> TaskDump {
        let info = t.info();
        let counts = t.waker_counts();
        let timing = t.timing();
        // A task that is running or done waits on nothing now.
        let waiting_on = info
            .wait_point
            .filter(|_| info.state == TaskState::Idle)
            .map(|w| WaitDump::of(registry, w));
        TaskDump {
            id: info.id.as_u64(),
            name: info.name.as_deref().map(str::to_owned),
            location: info.location.to_string(),
            parent: info.parent.map(|p| p.as_u64()),
            kind: match info.kind {
                TaskKind::Task => "task",
                TaskKind::Local => "local",
                _ => "blocking",
            },
            state: match info.state {
                TaskState::Idle => "idle",
                TaskState::Scheduled => "scheduled",
                TaskState::Running => "running",
                _ => "complete",
            },
            cancelled: info.cancelled,
            polls: info.polls,
            wakers: WakerDump {
                clones: counts.clones,
                wakes: counts.wakes,
                drops: counts.drops,
            },
            waiting_on,
            busy_us: timing.as_ref().map(|t| t.busy.as_micros() as u64),
            idle_us: timing.as_ref().map(|t| t.idle.as_micros() as u64),
            poll_histogram_us: timing.map(|t| t.poll_histogram.to_vec()),
            scope_children: Vec::new(),
        }
    }

    /// `#id (name)` or `#id`.
    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("#{} ({n})", self.id),
            None => format!("#{}", self.id),
        }
    }
}

impl WaitDump {
    /// `w`, with the holders of its lock as `registry`'s runtime sees them
    /// (tasks of other runtimes counted in `more_holders`).
    fn of(registry: &Registry, w: brisk_core::wait::WaitPoint) -> WaitDump {
        let (holders, more_holders) = match holders_of_in(w.resource, registry) {
            Some(snap) if w.kind.records_holders() => (
                snap.holders
                    .iter()
                    .map(|h| match h {
                        Some(id) => Holder::Task(id.as_u64()),
                        None => Holder::Thread,
                    })
                    .collect(),
                snap.more,
            ),
            _ => (Vec::new(), 0),
        };
        WaitDump {
            kind: w.kind.as_str(),
            resource: w.resource,
            location: w.location.to_string(),
            holders,
            more_holders,
            chain: w
                .chain
                .iter()
                .map(|fr| ChainFrame {
                    name: fr.name,
                    location: format!("{}:{}:{}", fr.file, fr.line, fr.column),
                })
                .collect(),
        }
    }
}

impl fmt::Display for Dump {
    /// The tasks as a tree: each task under the task that spawned it (or at
    /// the top when its parent is gone), with what it waits on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "brisk task dump: {} ({} tasks)",
            self.runtime,
            self.tasks.len()
        )?;
        let mut children: BTreeMap<u64, Vec<&TaskDump>> = BTreeMap::new();
        let mut roots = Vec::new();
        for t in &self.tasks {
            match t.parent.filter(|p| self.task(*p).is_some()) {
                Some(p) => children.entry(p).or_default().push(t),
                None => roots.push(t),
            }
        }
        // Iterative depth-first walk: deep spawn chains must not overflow.
        let mut stack: Vec<(&TaskDump, usize)> = roots.into_iter().rev().map(|t| (t, 0)).collect();
        while let Some((t, depth)) = stack.pop() {
            write!(f, "{:indent$}", "", indent = 2 + 2 * depth)?;
            write_task(f, self, t)?;
            writeln!(f)?;
            for c in &t.scope_children {
                write!(f, "{:indent$}", "", indent = 4 + 2 * depth)?;
                write_scope_child(f, self, c)?;
                writeln!(f)?;
            }
            if let Some(kids) = children.get(&t.id) {
                stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
            }
        }
        let cycles = self.wait_for_cycles();
        for cycle in &cycles {
            let path: Vec<String> = cycle
                .iter()
                .map(|id| self.task(*id).map_or(format!("#{id}"), TaskDump::label))
                .collect();
            writeln!(f, "  DEADLOCK: {} -> {}", path.join(" -> "), path[0])?;
        }
        Ok(())
    }
}

fn write_task(f: &mut fmt::Formatter<'_>, dump: &Dump, t: &TaskDump) -> fmt::Result {
    write!(f, "{} {}", t.label(), t.state)?;
    if t.kind != "task" {
        write!(f, " {}", t.kind)?;
    }
    if t.cancelled {
        f.write_str(" cancelled")?;
    }
    write!(f, ", {} polls", t.polls)?;
    if let (Some(busy), Some(idle)) = (t.busy_us, t.idle_us) {
        write!(f, ", busy {}, idle {}", fmt_us(busy), fmt_us(idle))?;
    }
    write!(f, ", spawned at {}", t.location)?;
    if let Some(p) = t.parent.filter(|p| dump.task(*p).is_none()) {
        // Listed at the top: say whose it was.
        write!(f, " by task #{p} (finished)")?;
    }
    if let Some(w) = &t.waiting_on {
        write_wait(f, dump, w)?;
    }
    Ok(())
}

/// One scope child: its name, whether it was cancelled, its polls, where it
/// and its scope started, and what it waits on.
fn write_scope_child(f: &mut fmt::Formatter<'_>, dump: &Dump, c: &ScopeChildDump) -> fmt::Result {
    write!(f, "scope child #{}", c.id)?;
    if let Some(n) = &c.name {
        write!(f, " `{n}`")?;
    }
    if c.cancelled {
        f.write_str(" cancelled")?;
    }
    write!(
        f,
        ", {} polls, spawned at {} in scope #{} entered at {}",
        c.polls, c.location, c.scope, c.scope_location
    )?;
    if let Some(w) = &c.waiting_on {
        write_wait(f, dump, w)?;
    }
    Ok(())
}

fn write_wait(f: &mut fmt::Formatter<'_>, dump: &Dump, w: &WaitDump) -> fmt::Result {
    if w.kind == "Yield" {
        write!(f, "; yielded at {}", w.location)?;
    } else {
        write!(f, "; waits on {} #{} at {}", w.kind, w.resource, w.location)?;
    }
    if !w.holders.is_empty() || w.more_holders > 0 {
        f.write_str(", held by ")?;
        for (i, h) in w.holders.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match h {
                Holder::Task(id) => match dump.task(*id) {
                    Some(holder) => write!(f, "task {}", holder.label())?,
                    None => write!(f, "task #{id}")?,
                },
                Holder::Thread => f.write_str("a thread outside any task")?,
            }
        }
        if w.more_holders > 0 {
            write!(f, " and {} more", w.more_holders)?;
        }
    }
    for (i, frame) in w.chain.iter().enumerate() {
        f.write_str(if i == 0 { "; in " } else { " → " })?;
        write!(f, "{} ({})", frame.name, frame.location)?;
    }
    Ok(())
}

/// `850µs`, `12.3ms`, `4.0s`.
fn fmt_us(us: u64) -> String {
    if us >= 1_000_000 {
        format!("{:.1}s", us as f64 / 1e6)
    } else if us >= 1_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{us}µs")
    }
}
