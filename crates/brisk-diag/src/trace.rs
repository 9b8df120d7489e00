//! A timeline of a runtime's tasks — spawns, polls, wakes and completions —
//! exported as Chrome trace-event JSON for [Perfetto](https://ui.perfetto.dev)
//! or `chrome://tracing`.
//!
//! ```
//! # brisk::run(async {
//! let recorder = brisk::diag::trace::start();
//! let worker = brisk::task::Builder::new().name("worker").spawn(async {
//!     for _ in 0..3 {
//!         brisk::task::yield_now().await;
//!     }
//! });
//! worker.await.unwrap();
//! let trace = recorder.stop();
//!
//! let task = trace.tasks.iter().find(|t| t.name.as_deref() == Some("worker")).unwrap();
//! let polls = trace.events.iter().filter(|e| e.task == task.id && e.is_poll());
//! assert_eq!(polls.count(), 4);
//! let json = trace.to_chrome_json(); // save as worker.json, open in Perfetto
//! assert!(json.starts_with("{\"traceEvents\":["));
//! # });
//! ```
//!
//! # What the JSON shows
//! - each worker (or `block_on`) thread as a track, named after the thread;
//!   each poll as a slice on it (`"ph":"X"`), named after the task
//!   (`task #7` for an unnamed one), with the task's id, kind and spawn
//!   location in its arguments;
//! - each task's lifetime, spawn to completion, as an async slice
//!   (`"ph":"b"`/`"e"`, category `task`) — from the start of the trace for a
//!   task spawned before it, to its end for one still running;
//! - each wake as an instant (`"ph":"i"`) on the waking thread, and, when a
//!   task woke another, an arrow (`"ph":"s"`/`"f"`) from the waker's poll to
//!   the woken task's next poll.
//!
//! # Cost and bounds
//! Recording is off by default; then a poll pays one relaxed atomic load.
//! On, each thread appends to its own buffer (two clock reads per poll, no
//! contention between workers). A buffer keeps the newest
//! [`Builder::capacity`] events of its thread and overwrites the oldest
//! beyond that, like a flight recorder; [`Trace::dropped`] counts them.
//!
//! # Which clock
//! Timestamps come from [`std::time::Instant`], the process's monotonic
//! clock, not from the runtime's clock (`brisk::time::Instant`): a poll's
//! duration is the real time the thread spent in it, which is what a
//! profile is for, and in the simulator the runtime's clock is virtual
//! (it does not advance during a poll at all).

use brisk_core::runtime::Handle;
use brisk_core::task::trace::{Record, RecordKind, RecordedTask};
use brisk_core::task::TaskKind;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::time::{Duration, Instant};

/// The message of [`start`] outside a runtime.
const TRACE_OUTSIDE_RUNTIME: &str = "`brisk::diag::trace::start` was called outside a Brisk \
runtime: call it from inside a task or `block_on`, or use \
`brisk::diag::trace::Builder::new().start_on(&handle)` with a `brisk::runtime::Handle`";

/// The message when a runtime is already recording.
const TRACE_ALREADY_RECORDING: &str = "`brisk::diag::trace` was started on a runtime that \
is already recording a trace: stop the first `Recorder` (`Recorder::stop`, or drop it) \
before starting another one on the same runtime";

/// Events each thread keeps by default (about 64 bytes each).
pub const DEFAULT_CAPACITY: usize = 65_536;

/// Starts recording the current runtime's task events, with the default
/// capacity; [`Recorder::stop`] returns the [`Trace`].
///
/// # Panics
/// Outside a Brisk runtime, or if the runtime is already recording.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let recorder = brisk::diag::trace::start();
/// brisk::spawn(async {}).await.unwrap();
/// let trace = recorder.stop();
/// assert!(trace.events.iter().any(|e| e.is_poll()));
/// # });
/// ```
#[track_caller]
pub fn start() -> Recorder {
    Builder::new().start()
}

/// Configures a trace recording before starting it.
///
/// ```
/// # brisk::run(async {
/// let recorder = brisk::diag::trace::Builder::new().capacity(1024).start();
/// brisk::task::yield_now().await;
/// let trace = recorder.stop();
/// assert_eq!(trace.dropped, 0);
/// # });
/// ```
#[derive(Clone, Debug)]
#[must_use = "a trace Builder records nothing until you call `start`"]
pub struct Builder {
    capacity: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with [`DEFAULT_CAPACITY`].
    pub fn new() -> Builder {
        Builder {
            capacity: DEFAULT_CAPACITY,
        }
    }

    /// How many events each thread keeps (at least one); older ones are
    /// overwritten when a thread records more.
    pub fn capacity(mut self, events_per_thread: usize) -> Self {
        self.capacity = events_per_thread.max(1);
        self
    }

    /// Starts recording the current runtime.
    ///
    /// # Panics
    /// Outside a Brisk runtime, or if the runtime is already recording.
    #[track_caller]
    pub fn start(self) -> Recorder {
        match Handle::try_current() {
            Some(handle) => self.start_on(&handle),
            None => panic!("{TRACE_OUTSIDE_RUNTIME}"),
        }
    }

    /// Starts recording `handle`'s runtime; callable from any thread.
    ///
    /// # Panics
    /// If the runtime is already recording.
    #[track_caller]
    pub fn start_on(self, handle: &Handle) -> Recorder {
        let started = Instant::now();
        if !handle.backend().registry().trace().start(self.capacity) {
            panic!("{TRACE_ALREADY_RECORDING}");
        }
        Recorder {
            handle: handle.clone(),
            started,
            stopped: false,
        }
    }
}

/// A trace being recorded; [`stop`](Recorder::stop) it to get the
/// [`Trace`]. Dropping it stops recording and discards the events.
#[derive(Debug)]
#[must_use = "stop the Recorder to get its Trace; dropping it discards the events"]
pub struct Recorder {
    handle: Handle,
    started: Instant,
    stopped: bool,
}

impl Recorder {
    /// Stops recording and returns what was recorded.
    pub fn stop(mut self) -> Trace {
        self.stopped = true;
        let ended = Instant::now();
        let registry = self.handle.backend().registry();
        let recorded = registry.trace().stop().unwrap_or_default();
        let mut trace = Trace {
            runtime: self.handle.backend().describe().to_owned(),
            duration: ended.saturating_duration_since(self.started),
            events: Vec::with_capacity(recorded.records.len()),
            tasks: Vec::new(),
            threads: recorded
                .threads
                .iter()
                .map(|t| TraceThread {
                    number: t.number,
                    name: t.name.clone(),
                })
                .collect(),
            dropped: recorded.dropped,
        };
        let mut records = recorded.records;
        records.sort_by_key(|r| r.at);
        let mut tasks: BTreeMap<u64, Option<TraceTask>> = BTreeMap::new();
        for record in records {
            let id = record.task.as_u64();
            let slot = tasks.entry(id).or_default();
            if let RecordKind::Spawn(meta) | RecordKind::Complete(meta) = &record.kind {
                *slot = Some(TraceTask::of(id, meta));
            }
            if let Some(event) = self.event(&record) {
                trace.events.push(event);
            }
        }
        trace.threads.sort_by_key(|t| t.number);
        // Tasks spawned before the recording and still running: the
        // registry knows them.
        registry.for_each(|t| {
            if let Some(slot @ None) = tasks.get_mut(&t.id().as_u64()) {
                let info = t.info();
                *slot = Some(TraceTask {
                    id: info.id.as_u64(),
                    name: info.name.as_deref().map(str::to_owned),
                    location: info.location.to_string(),
                    kind: kind_str(info.kind),
                    parent: info.parent.map(|p| p.as_u64()),
                    polls: info.polls,
                });
            }
        });
        trace.tasks = tasks
            .into_iter()
            .map(|(id, t)| {
                t.unwrap_or(TraceTask {
                    id,
                    name: None,
                    location: String::from("unknown"),
                    kind: "task",
                    parent: None,
                    polls: 0,
                })
            })
            .collect();
        trace
    }

    fn event(&self, record: &Record) -> Option<TraceEvent> {
        let kind = match &record.kind {
            RecordKind::Spawn(_) => EventKind::Spawn,
            RecordKind::Poll { duration_ns } => EventKind::Poll {
                duration: Duration::from_nanos(*duration_ns),
            },
            RecordKind::Wake { by, by_ref } => EventKind::Wake {
                by: by.map(|b| b.as_u64()),
                by_ref: *by_ref,
            },
            RecordKind::Complete(_) => EventKind::Complete,
            // A kind this version does not know.
            _ => return None,
        };
        Some(TraceEvent {
            at: record.at.saturating_duration_since(self.started),
            thread: record.thread,
            task: record.task.as_u64(),
            kind,
        })
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.handle.backend().registry().trace().stop();
        }
    }
}

fn kind_str(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Task => "task",
        TaskKind::Local => "local",
        _ => "blocking",
    }
}

/// A recorded timeline: events in time order, the tasks and threads they
/// name. Export it with [`to_chrome_json`](Trace::to_chrome_json).
#[derive(Clone, Debug, Serialize)]
pub struct Trace {
    /// The runtime's description (flavour, workers).
    pub runtime: String,
    /// From [`start`] to [`Recorder::stop`].
    pub duration: Duration,
    /// The events, in time order.
    pub events: Vec<TraceEvent>,
    /// Every task that appears in an event, by id.
    pub tasks: Vec<TraceTask>,
    /// Every thread that appears in an event, by number.
    pub threads: Vec<TraceThread>,
    /// Events overwritten because a thread's buffer was full.
    pub dropped: u64,
}

/// One event of a [`Trace`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEvent {
    /// When it happened, since the recording started.
    pub at: Duration,
    /// The thread it happened on ([`TraceThread::number`]).
    pub thread: u32,
    /// The task spawned, polled, woken or completed.
    pub task: u64,
    /// What happened.
    pub kind: EventKind,
}

impl TraceEvent {
    /// True for a poll.
    pub fn is_poll(&self) -> bool {
        matches!(self.kind, EventKind::Poll { .. })
    }
}

/// What a [`TraceEvent`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum EventKind {
    /// The task was spawned (on the spawning thread).
    Spawn,
    /// The task was polled once, starting at the event's time.
    Poll {
        /// How long the poll took.
        duration: Duration,
    },
    /// The task was woken (on the waking thread).
    Wake {
        /// The task whose code woke it, if a task did (itself, for a yield).
        by: Option<u64>,
        /// True for `wake_by_ref`, false for `wake`.
        by_ref: bool,
    },
    /// The task finished, panicked or was cancelled.
    Complete,
}

/// A task that appears in a [`Trace`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceTask {
    /// Its id.
    pub id: u64,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Where it was spawned, as `file:line:column`.
    pub location: String,
    /// `"task"`, `"local"` or `"blocking"`.
    pub kind: &'static str,
    /// The task that spawned it.
    pub parent: Option<u64>,
    /// Its polls over its whole life as the task counts them: at
    /// completion, or when the trace stopped for a task still running (0
    /// if neither was seen). For a task spawned and completed during the
    /// recording, this is its number of poll events unless some were
    /// dropped.
    pub polls: u64,
}

impl TraceTask {
    fn of(id: u64, meta: &RecordedTask) -> TraceTask {
        TraceTask {
            id,
            name: meta.name.as_deref().map(str::to_owned),
            location: meta.location.to_string(),
            kind: kind_str(meta.kind),
            parent: meta.parent.map(|p| p.as_u64()),
            polls: meta.polls,
        }
    }

    /// The task's name, or `task #id`: the label used in the JSON.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("task #{}", self.id),
        }
    }
}

/// A thread that appears in a [`Trace`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceThread {
    /// Its number (the `tid` in the JSON).
    pub number: u32,
    /// Its name, if it has one.
    pub name: Option<String>,
}

/// One object of the `traceEvents` array.
struct ChromeEvent<'a> {
    name: &'a str,
    cat: Option<&'static str>,
    ph: &'static str,
    ts: Option<Duration>,
    dur: Option<Duration>,
    pid: u32,
    tid: Option<u32>,
    id: Option<u64>,
    /// Instant scope (`"t"`: thread).
    s: Option<&'static str>,
    /// Flow binding point (`"e"`: the enclosing slice).
    bp: Option<&'static str>,
    /// A JSON object, already written.
    args: Option<String>,
}

impl ChromeEvent<'_> {
    fn new<'a>(ph: &'static str, name: &'a str, pid: u32) -> ChromeEvent<'a> {
        ChromeEvent {
            name,
            cat: None,
            ph,
            ts: None,
            dur: None,
            pid,
            tid: None,
            id: None,
            s: None,
            bp: None,
            args: None,
        }
    }

    fn write(&self, out: &mut String) {
        let mut o = JsonObject::new(out);
        o.str("name", self.name);
        if let Some(cat) = self.cat {
            o.str("cat", cat);
        }
        o.str("ph", self.ph);
        if let Some(ts) = self.ts {
            o.micros("ts", ts);
        }
        if let Some(dur) = self.dur {
            o.micros("dur", dur);
        }
        o.u64("pid", self.pid.into());
        if let Some(tid) = self.tid {
            o.u64("tid", tid.into());
        }
        if let Some(id) = self.id {
            o.u64("id", id);
        }
        if let Some(s) = self.s {
            o.str("s", s);
        }
        if let Some(bp) = self.bp {
            o.str("bp", bp);
        }
        if let Some(args) = &self.args {
            o.raw("args", args);
        }
        o.end();
    }
}

/// Writes one JSON object, member by member. Written by hand rather than
/// with `serde_json`: that crate's `PartialEq` impls for integers would
/// reach every crate that depends on `brisk` and break type inference in
/// code such as `assert_eq!(n, (0..10).sum())`.
struct JsonObject<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> JsonObject<'a> {
    fn new(out: &'a mut String) -> JsonObject<'a> {
        out.push('{');
        JsonObject { out, empty: true }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        json_string(self.out, key);
        self.out.push(':');
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        json_string(self.out, value);
    }

    fn u64(&mut self, key: &str, value: u64) {
        use std::fmt::Write as _;
        self.key(key);
        let _ = write!(self.out, "{value}");
    }

    fn opt_u64(&mut self, key: &str, value: Option<u64>) {
        match value {
            Some(v) => self.u64(key, v),
            None => self.raw(key, "null"),
        }
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.raw(key, if value { "true" } else { "false" });
    }

    /// A duration in microseconds, exact to the nanosecond.
    fn micros(&mut self, key: &str, d: Duration) {
        use std::fmt::Write as _;
        self.key(key);
        let ns = d.as_nanos();
        let _ = write!(self.out, "{}.{:03}", ns / 1000, ns % 1000);
    }

    fn raw(&mut self, key: &str, json: &str) {
        self.key(key);
        self.out.push_str(json);
    }

    fn end(self) {
        self.out.push('}');
    }
}

/// Appends `s` as a JSON string.
fn json_string(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON object written by `f`.
fn json_object(f: impl FnOnce(&mut JsonObject<'_>)) -> String {
    let mut out = String::new();
    let mut o = JsonObject::new(&mut out);
    f(&mut o);
    o.end();
    out
}

/// Wake arrows of the JSON export.
#[derive(Default)]
struct Flows {
    /// Flow id by the index of the wake event it starts at.
    from: HashMap<usize, u64>,
    /// Flow ids by the index of the poll event they end at.
    to: HashMap<usize, Vec<u64>>,
}

impl Trace {
    /// Arrows, one for each wake by another task that is followed by a
    /// poll of the woken task: flow ids by the wake's event index, and by
    /// the poll's.
    fn flows(&self) -> Flows {
        let mut pending: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut flows = Flows::default();
        for (index, e) in self.events.iter().enumerate() {
            match e.kind {
                EventKind::Wake { by: Some(by), .. } if by != e.task => {
                    pending.entry(e.task).or_default().push(index);
                }
                EventKind::Poll { .. } => {
                    for wake in pending.remove(&e.task).unwrap_or_default() {
                        let id = flows.from.len() as u64 + 1;
                        flows.from.insert(wake, id);
                        flows.to.entry(index).or_default().push(id);
                    }
                }
                _ => {}
            }
        }
        flows
    }

    /// The task with this id, if it appears in the trace.
    pub fn task(&self, id: u64) -> Option<&TraceTask> {
        self.tasks
            .binary_search_by_key(&id, |t| t.id)
            .ok()
            .map(|i| &self.tasks[i])
    }

    /// The trace as Chrome trace-event JSON (the object form, with a
    /// `traceEvents` array), for Perfetto or `chrome://tracing`.
    ///
    /// ```
    /// # brisk::run(async {
    /// let recorder = brisk::diag::trace::start();
    /// brisk::task::Builder::new().name("job").spawn(async {}).await.unwrap();
    /// let json = recorder.stop().to_chrome_json();
    /// assert!(json.contains(r#""name":"job""#));
    /// # });
    /// ```
    pub fn to_chrome_json(&self) -> String {
        let mut out = Vec::new();
        self.write_chrome_json(&mut out)
            .expect("writing to a Vec does not fail");
        String::from_utf8(out).expect("the JSON is written from strings")
    }

    /// Writes the trace as Chrome trace-event JSON to `w` (buffer it: the
    /// JSON is written one event at a time).
    ///
    /// ```no_run
    /// # brisk::run(async {
    /// let recorder = brisk::diag::trace::start();
    /// // ... the code to look at ...
    /// let file = std::fs::File::create("trace.json").unwrap();
    /// recorder
    ///     .stop()
    ///     .write_chrome_json(std::io::BufWriter::new(file))
    ///     .unwrap();
    /// # });
    /// ```
    pub fn write_chrome_json<W: io::Write>(&self, mut w: W) -> io::Result<()> {
        let pid = std::process::id();
        let mut first = true;
        let mut line = String::new();
        let mut emit = |w: &mut W, e: &ChromeEvent<'_>| -> io::Result<()> {
            line.clear();
            if !first {
                line.push_str(",\n");
            }
            first = false;
            e.write(&mut line);
            w.write_all(line.as_bytes())
        };
        w.write_all(b"{\"traceEvents\":[")?;

        let process = format!("brisk: {}", self.runtime);
        let mut meta = ChromeEvent::new("M", "process_name", pid);
        meta.args = Some(json_object(|o| o.str("name", &process)));
        emit(&mut w, &meta)?;
        for thread in &self.threads {
            let name = match &thread.name {
                Some(n) => format!("{n} ({})", thread.number),
                None => format!("thread {}", thread.number),
            };
            let mut meta = ChromeEvent::new("M", "thread_name", pid);
            meta.tid = Some(thread.number);
            meta.args = Some(json_object(|o| o.str("name", &name)));
            emit(&mut w, &meta)?;
        }

        let labels: HashMap<u64, String> = self.tasks.iter().map(|t| (t.id, t.label())).collect();
        let label = |id: u64| labels.get(&id).map_or("task", String::as_str);
        let task_args = |id: u64| {
            json_object(|o| {
                o.u64("task", id);
                if let Some(t) = self.task(id) {
                    o.str("kind", t.kind);
                    o.str("location", &t.location);
                    o.opt_u64("parent", t.parent);
                }
            })
        };

        // Lifetimes: spawn (or the trace's start) to completion (or its
        // end), on the spawning and completing threads (or the task's first
        // and last).
        let mut first: HashMap<u64, &TraceEvent> = HashMap::new();
        let mut last: HashMap<u64, &TraceEvent> = HashMap::new();
        for e in &self.events {
            first.entry(e.task).or_insert(e);
            last.insert(e.task, e);
        }
        for t in &self.tasks {
            let (Some(first), Some(last)) = (first.get(&t.id), last.get(&t.id)) else {
                continue;
            };
            let begin = match first.kind {
                EventKind::Spawn => first.at,
                _ => Duration::ZERO,
            };
            let end = match last.kind {
                EventKind::Complete => last.at,
                _ => self.duration,
            };
            let name = label(t.id);
            let mut b = ChromeEvent::new("b", name, pid);
            b.cat = Some("task");
            b.id = Some(t.id);
            b.ts = Some(begin);
            b.tid = Some(first.thread);
            b.args = Some(task_args(t.id));
            emit(&mut w, &b)?;
            let mut e = ChromeEvent::new("e", name, pid);
            e.cat = Some("task");
            e.id = Some(t.id);
            e.ts = Some(end.max(begin));
            e.tid = Some(last.thread);
            emit(&mut w, &e)?;
        }

        // Polls, wakes, and arrows from a waking poll to the woken task's
        // next poll.
        let flows = self.flows();
        for (index, e) in self.events.iter().enumerate() {
            match e.kind {
                EventKind::Poll { duration } => {
                    let mut x = ChromeEvent::new("X", label(e.task), pid);
                    x.cat = Some("poll");
                    x.ts = Some(e.at);
                    x.dur = Some(duration);
                    x.tid = Some(e.thread);
                    x.args = Some(task_args(e.task));
                    emit(&mut w, &x)?;
                    for &flow in flows.to.get(&index).into_iter().flatten() {
                        let mut f = ChromeEvent::new("f", "wake", pid);
                        f.cat = Some("wake");
                        f.id = Some(flow);
                        f.ts = Some(e.at);
                        f.tid = Some(e.thread);
                        f.bp = Some("e");
                        emit(&mut w, &f)?;
                    }
                }
                EventKind::Wake { by, by_ref } => {
                    let mut i = ChromeEvent::new("i", "wake", pid);
                    i.cat = Some("wake");
                    i.ts = Some(e.at);
                    i.tid = Some(e.thread);
                    i.s = Some("t");
                    i.args = Some(json_object(|o| {
                        o.u64("task", e.task);
                        o.str("woken", label(e.task));
                        o.opt_u64("by", by);
                        o.bool("by_ref", by_ref);
                    }));
                    emit(&mut w, &i)?;
                    if let Some(&flow) = flows.from.get(&index) {
                        let mut s = ChromeEvent::new("s", "wake", pid);
                        s.cat = Some("wake");
                        s.id = Some(flow);
                        s.ts = Some(e.at);
                        s.tid = Some(e.thread);
                        emit(&mut w, &s)?;
                    }
                }
                _ => {}
            }
        }
        w.write_all(b"\n],\"displayTimeUnit\":\"ns\",\"otherData\":")?;
        let other = json_object(|o| {
            o.str("runtime", &self.runtime);
            o.u64("dropped_events", self.dropped);
        });
        w.write_all(other.as_bytes())?;
        w.write_all(b"}\n")?;
        w.flush()
    }
}
