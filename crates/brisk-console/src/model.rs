//! The snapshot as the console reads it: its own structs, every field
//! defaulted, so the console works with servers older and newer than
//! itself (missing fields show as "—", unknown fields are ignored).

use serde::Deserialize;
use std::collections::BTreeMap;

/// The protocol version this console was written for.
pub const PROTOCOL_VERSION: u32 = 1;

/// One line of the protocol: a snapshot of the runtime.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    /// The protocol version of the server.
    pub v: u32,
    /// The snapshot's number, from 0 per server.
    pub seq: u64,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// The task dump.
    pub dump: Dump,
    /// The hazards seen in this snapshot.
    pub hazards: Vec<Hazard>,
    /// The runtime's counters by name, if the server sends them.
    pub metrics: Option<BTreeMap<String, serde_json::Value>>,
}

impl Snapshot {
    /// Parses one line of the protocol.
    ///
    /// # Errors
    /// If the line is not a JSON object.
    pub fn parse(line: &str) -> Result<Snapshot, serde_json::Error> {
        serde_json::from_str(line)
    }

    /// The task with this id.
    pub fn task(&self, id: u64) -> Option<&Task> {
        self.dump.tasks.iter().find(|t| t.id == id)
    }

    /// `#id (name)`, or `#id` for an unnamed or unknown task.
    pub fn label(&self, id: u64) -> String {
        match self.task(id) {
            Some(t) => t.label(),
            None => format!("#{id}"),
        }
    }
}

/// The task dump of a snapshot.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Dump {
    /// The runtime's description.
    pub runtime: String,
    /// Its tasks.
    pub tasks: Vec<Task>,
}

/// One task.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Task {
    /// Its id.
    pub id: u64,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Where it was spawned, `file:line:column`.
    pub location: String,
    /// The task that spawned it.
    pub parent: Option<u64>,
    /// `task`, `local` or `blocking`.
    pub kind: String,
    /// `idle`, `scheduled`, `running` or `complete`.
    pub state: String,
    /// Whether it was cancelled.
    pub cancelled: bool,
    /// Polls so far.
    pub polls: u64,
    /// Waker activity.
    pub wakers: Wakers,
    /// What it waits on.
    pub waiting_on: Option<Wait>,
    /// Time spent in polls, in microseconds, if the runtime times polls.
    pub busy_us: Option<u64>,
    /// Time spent between polls, in microseconds, if the runtime times polls.
    pub idle_us: Option<u64>,
    /// Poll durations: bucket `i` counts polls that took
    /// `[2^i, 2^(i+1))` microseconds.
    pub poll_histogram_us: Option<Vec<u64>>,
    /// The live children of the scopes it runs (they run inside it).
    pub scope_children: Vec<ScopeChild>,
}

/// A child of a `brisk::scope` run by a task.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScopeChild {
    /// Its id (a handle awaiting it waits on `Scope #id`).
    pub id: u64,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Where it was spawned, `file:line:column`.
    pub location: String,
    /// Whether it was cancelled.
    pub cancelled: bool,
    /// Polls so far.
    pub polls: u64,
    /// What it waits on.
    pub waiting_on: Option<Wait>,
}

impl Task {
    /// `#id (name)` or `#id`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("#{} ({n})", self.id),
            None => format!("#{}", self.id),
        }
    }

    /// The name, or `—`.
    pub fn name_or_dash(&self) -> &str {
        self.name.as_deref().unwrap_or(DASH)
    }
}

/// Waker activity of a task.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Wakers {
    /// Clones of its waker.
    pub clones: u64,
    /// Wakes.
    pub wakes: u64,
    /// Wakers dropped without waking.
    pub drops: u64,
}

/// A task's wait-point.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Wait {
    /// The resource kind (`Mutex`, `Timer`, `Io`, `Task`, ...).
    pub kind: String,
    /// The resource's id (for `Task`, the awaited task).
    pub resource: u64,
    /// Where the task waits.
    pub location: String,
    /// Who holds the resource.
    pub holders: Vec<Holder>,
    /// Holders beyond those listed.
    pub more_holders: u64,
    /// The `#[brisk::traced]` functions the task waits in, outermost first.
    pub chain: Vec<Frame>,
}

/// One `#[brisk::traced]` function in a wait's await chain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Frame {
    /// The function's path or given name.
    pub name: String,
    /// Where it is defined.
    pub location: String,
}

impl Wait {
    /// `Mutex #7`.
    pub fn resource_label(&self) -> String {
        format!("{} #{}", self.kind, self.resource)
    }
}

/// A holder of a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "serde_json::Value")]
pub enum Holder {
    /// A task, by id.
    Task(u64),
    /// A thread outside any task.
    Thread,
    /// A holder this console does not know how to read.
    Unknown,
}

impl From<serde_json::Value> for Holder {
    fn from(v: serde_json::Value) -> Holder {
        if let Some(id) = v.get("Task").and_then(serde_json::Value::as_u64) {
            Holder::Task(id)
        } else if v == "Thread" {
            Holder::Thread
        } else {
            Holder::Unknown
        }
    }
}

/// A hazard reported by the server.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Hazard {
    /// What kind (`long_poll`, `lost_waker`, ...).
    pub kind: String,
    /// The task concerned, if one is.
    pub task: Option<u64>,
    /// What happened, in words.
    pub message: String,
    /// More for some kinds: a deadlock's dump and cycles, a wait-for
    /// cycle's Graphviz DOT graph.
    pub report: Option<String>,
}

/// What the console shows for a value the server did not send.
pub const DASH: &str = "—";

/// A duration in microseconds, short: `850µs`, `1.2ms`, `3.40s`, `2m05s`.
pub fn fmt_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else if us < 60_000_000 {
        format!("{:.2}s", us as f64 / 1e6)
    } else {
        let s = us / 1_000_000;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// `fmt_us` of a value the server may not send.
pub fn fmt_opt_us(us: Option<u64>) -> String {
    us.map_or_else(|| DASH.to_owned(), fmt_us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_missing_and_unknown_fields() {
        let s = Snapshot::parse(
            r#"{"v":2,"future":true,"dump":{"tasks":[{"id":3,"extra":[1],
            "waiting_on":{"kind":"Mutex","resource":9,"holders":[{"Task":1},"Thread",{"Robot":2}]}}]}}"#,
        )
        .unwrap();
        assert_eq!(s.v, 2);
        let t = &s.dump.tasks[0];
        assert_eq!(t.id, 3);
        assert_eq!(t.busy_us, None);
        assert_eq!(
            t.waiting_on.as_ref().unwrap().holders,
            vec![Holder::Task(1), Holder::Thread, Holder::Unknown]
        );
        assert!(s.hazards.is_empty());
    }

    #[test]
    fn durations() {
        assert_eq!(fmt_us(850), "850µs");
        assert_eq!(fmt_us(1_240), "1.2ms");
        assert_eq!(fmt_us(3_400_000), "3.40s");
        assert_eq!(fmt_us(125_000_000), "2m05s");
        assert_eq!(fmt_opt_us(None), DASH);
    }
}
