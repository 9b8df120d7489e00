//! Recording a timeline of task events for trace export.
//!
//! Each runtime's [`Registry`](super::Registry) owns a [`TraceSink`]. While
//! it records, the task harness appends one [`Record`] per spawn, poll,
//! wake and completion of that runtime's tasks; `brisk::diag::trace` starts
//! and stops it and turns the records into Chrome trace-event JSON.
//!
//! # Cost
//! Off (the default), every poll, spawn and wake pays one relaxed load of a
//! process-wide count of sinks that are recording, and nothing else. That
//! count is the only process-wide state here: it lets every runtime skip
//! the per-runtime check while no runtime records at all. The records
//! themselves, the on/off switch and the buffers belong to one runtime.
//!
//! On, a poll reads the clock twice ([`std::time::Instant`], a monotonic
//! clock: poll durations are real time even in the simulator) and appends
//! to a buffer owned by the polling thread, so workers never contend.
//!
//! # Bounds
//! Each thread's buffer keeps at most the capacity given to
//! [`TraceSink::start`]; when it is full the oldest record is overwritten
//! (a flight recorder: the end of the run, where the problem usually is,
//! survives). [`Recorded::dropped`] counts the overwritten records.
//!
//! Recording uses std's atomics and locks directly, not the loom shim: no
//! loom model records a trace.

use super::header::Header;
use super::{Id, TaskKind};
use crate::spin::SpinLock;
use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many sinks are recording now, in the whole process.
static RECORDING: AtomicUsize = AtomicUsize::new(0);

/// Session ids: unique in the process, never 0.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// Thread numbers for records: unique in the process, from 1.
static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);

thread_local! {
    /// This thread's number, 0 until it first records.
    static THREAD: Cell<u32> = const { Cell::new(0) };
    /// This thread's buffer in the session it last recorded in.
    static LOCAL: RefCell<Option<(u64, Arc<ThreadBuffer>)>> = const { RefCell::new(None) };
}

fn thread_number() -> u32 {
    THREAD.with(|t| {
        let mut n = t.get();
        if n == 0 {
            n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            t.set(n);
        }
        n
    })
}

/// One recorded event.
#[derive(Clone, Debug)]
pub struct Record {
    /// When it happened (monotonic clock).
    pub at: Instant,
    /// The task it is about: the one spawned, polled, woken or completed.
    pub task: Id,
    /// The thread it happened on, as numbered in [`Recorded::threads`].
    pub thread: u32,
    /// What happened.
    pub kind: RecordKind,
}

/// What a [`Record`] records.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RecordKind {
    /// The task was spawned (on the spawning thread).
    Spawn(Box<RecordedTask>),
    /// The task was polled once, from `at` for `duration_ns` nanoseconds.
    Poll {
        /// The poll's length in nanoseconds.
        duration_ns: u64,
    },
    /// The task was woken (on the waking thread).
    Wake {
        /// The task whose code woke it, if a task did.
        by: Option<Id>,
        /// True for `wake_by_ref`, false for `wake`.
        by_ref: bool,
    },
    /// The task completed (finished, panicked or was cancelled).
    Complete(Box<RecordedTask>),
}

/// A task's metadata, carried by spawn and completion records so the
/// export can name tasks that were spawned before recording started.
#[derive(Clone, Debug)]
pub struct RecordedTask {
    /// The task's name, if it has one.
    pub name: Option<Arc<str>>,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// Task, local or blocking.
    pub kind: TaskKind,
    /// The task that spawned it.
    pub parent: Option<Id>,
    /// Its polls so far (all of them, in a completion record).
    pub polls: u64,
}

impl RecordedTask {
    fn of(header: &Header) -> Box<RecordedTask> {
        Box::new(RecordedTask {
            name: header.meta.name().map(Arc::from),
            location: header.meta.location,
            kind: header.meta.kind(),
            parent: header.meta.parent(),
            polls: u64::from(header.counters.polls.load(crate::loom::Ordering::Relaxed)),
        })
    }
}

/// A thread that recorded events.
#[derive(Clone, Debug)]
pub struct RecordedThread {
    /// Its number in [`Record::thread`].
    pub number: u32,
    /// Its name (`std::thread::Builder::name`), if it has one.
    pub name: Option<String>,
}

/// What a sink recorded between [`TraceSink::start`] and
/// [`TraceSink::stop`].
#[derive(Debug, Default)]
pub struct Recorded {
    /// The records, in no particular order across threads (each thread's
    /// own records are in order).
    pub records: Vec<Record>,
    /// The threads that recorded.
    pub threads: Vec<RecordedThread>,
    /// Records overwritten because a thread's buffer was full.
    pub dropped: u64,
}

/// A ring of records written by one thread, read when recording stops.
struct ThreadBuffer {
    number: u32,
    name: Option<String>,
    capacity: usize,
    ring: SpinLock<Ring>,
}

#[derive(Default)]
struct Ring {
    records: Vec<Record>,
    /// Where the next record goes once `records` is full (the oldest).
    next: usize,
    dropped: u64,
}

impl ThreadBuffer {
    fn push(&self, record: Record) {
        let mut ring = self.ring.lock();
        if ring.records.len() < self.capacity {
            ring.records.push(record);
        } else {
            let i = ring.next;
            ring.records[i] = record;
            ring.next = (i + 1) % self.capacity;
            ring.dropped += 1;
        }
    }

    /// Takes the records, oldest first.
    fn drain(&self) -> (Vec<Record>, u64) {
        let mut ring = self.ring.lock();
        let mut records = std::mem::take(&mut ring.records);
        records.rotate_left(ring.next);
        ring.next = 0;
        (records, std::mem::take(&mut ring.dropped))
    }
}

/// One runtime's trace recording: off until [`start`](TraceSink::start).
///
/// Reached through [`Registry::trace`](super::Registry::trace);
/// `brisk::diag::trace` is the user-facing side.
pub struct TraceSink {
    /// The session being recorded, 0 when off.
    session: AtomicU64,
    /// Per-thread capacity of the current session.
    capacity: AtomicUsize,
    /// The buffers of the current session's threads.
    threads: Mutex<Vec<Arc<ThreadBuffer>>>,
}

impl TraceSink {
    pub(crate) fn new() -> TraceSink {
        TraceSink {
            session: AtomicU64::new(0),
            capacity: AtomicUsize::new(0),
            threads: Mutex::new(Vec::new()),
        }
    }

    /// Starts recording, keeping up to `capacity` records per thread
    /// (at least one). Returns false if this sink is already recording.
    pub fn start(&self, capacity: usize) -> bool {
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        if self.session.load(Ordering::Relaxed) != 0 {
            return false;
        }
        threads.clear();
        self.capacity.store(capacity.max(1), Ordering::Relaxed);
        RECORDING.fetch_add(1, Ordering::Relaxed);
        let session = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
        self.session.store(session, Ordering::Release);
        true
    }

    /// True while recording.
    pub fn is_recording(&self) -> bool {
        self.session.load(Ordering::Relaxed) != 0
    }

    /// Stops recording and returns what was recorded, or `None` if it was
    /// not recording. Events racing with the stop may be left out.
    pub fn stop(&self) -> Option<Recorded> {
        let buffers = {
            let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
            if self.session.swap(0, Ordering::AcqRel) == 0 {
                return None;
            }
            RECORDING.fetch_sub(1, Ordering::Relaxed);
            std::mem::take(&mut *threads)
        };
        let mut out = Recorded::default();
        for buffer in buffers {
            let (records, dropped) = buffer.drain();
            out.records.extend(records);
            out.dropped += dropped;
            out.threads.push(RecordedThread {
                number: buffer.number,
                name: buffer.name.clone(),
            });
        }
        Some(out)
    }

    /// The current session, or 0 when off.
    #[inline]
    fn session(&self) -> u64 {
        self.session.load(Ordering::Acquire)
    }

    /// Appends a record to the calling thread's buffer for `session`;
    /// dropped if that session has ended.
    fn push(&self, session: u64, task: Id, at: Instant, kind: RecordKind) {
        let thread = thread_number();
        let record = Record {
            at,
            task,
            thread,
            kind,
        };
        // `try_with`: a record from a thread-local destructor is dropped.
        let _ = LOCAL.try_with(|local| {
            let Ok(mut local) = local.try_borrow_mut() else {
                return;
            };
            match &*local {
                Some((s, buffer)) if *s == session => buffer.push(record),
                _ => {
                    if let Some(buffer) = self.thread_buffer(session, thread) {
                        buffer.push(record);
                        *local = Some((session, buffer));
                    }
                }
            }
        });
    }

    /// The calling thread's buffer in `session`, made on first use.
    #[cold]
    fn thread_buffer(&self, session: u64, number: u32) -> Option<Arc<ThreadBuffer>> {
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        if self.session.load(Ordering::Relaxed) != session {
            return None;
        }
        if let Some(b) = threads.iter().find(|b| b.number == number) {
            return Some(b.clone());
        }
        let buffer = Arc::new(ThreadBuffer {
            number,
            name: std::thread::current().name().map(str::to_owned),
            capacity: self.capacity.load(Ordering::Relaxed),
            ring: SpinLock::new(Ring::default()),
        });
        threads.push(buffer.clone());
        Some(buffer)
    }
}

impl Drop for TraceSink {
    fn drop(&mut self) {
        if *self.session.get_mut() != 0 {
            RECORDING.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for TraceSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceSink")
            .field("recording", &self.is_recording())
            .finish()
    }
}

// ---- hooks called by the task harness ---------------------------------------

/// True if any runtime in the process records; the one load paid when off.
#[inline(always)]
fn any_recording() -> bool {
    RECORDING.load(Ordering::Relaxed) != 0
}

/// The sink of the header's runtime and its session, if it records.
#[inline]
fn sink_of(header: &Header) -> Option<(&TraceSink, u64)> {
    let sink = header.sched.registry().trace();
    match sink.session() {
        0 => None,
        session => Some((sink, session)),
    }
}

/// A poll that is being recorded.
pub(crate) struct PollRecord<'a> {
    sink: &'a TraceSink,
    session: u64,
    start: Instant,
}

/// Called right before a task's future is polled.
#[inline(always)]
pub(crate) fn poll_started(header: &Header) -> Option<PollRecord<'_>> {
    if any_recording() {
        poll_started_slow(header)
    } else {
        None
    }
}

#[inline(never)]
fn poll_started_slow(header: &Header) -> Option<PollRecord<'_>> {
    let (sink, session) = sink_of(header)?;
    Some(PollRecord {
        sink,
        session,
        start: Instant::now(),
    })
}

/// Called right after the future's poll returned (or panicked).
#[inline(always)]
pub(crate) fn poll_finished(header: &Header, poll: Option<PollRecord<'_>>) {
    if let Some(poll) = poll {
        poll_finished_slow(header, poll);
    }
}

#[inline(never)]
fn poll_finished_slow(header: &Header, poll: PollRecord<'_>) {
    let duration_ns = u64::try_from(poll.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    poll.sink.push(
        poll.session,
        header.meta.id(),
        poll.start,
        RecordKind::Poll { duration_ns },
    );
}

/// Called when a task was spawned and listed.
#[inline(always)]
pub(crate) fn spawned(header: &Header) {
    if any_recording() {
        record_meta(header, true);
    }
}

/// Called when a task completes, before it leaves the registry.
#[inline(always)]
pub(crate) fn completed(header: &Header) {
    if any_recording() {
        record_meta(header, false);
    }
}

#[inline(never)]
fn record_meta(header: &Header, spawn: bool) {
    if let Some((sink, session)) = sink_of(header) {
        let task = RecordedTask::of(header);
        let kind = if spawn {
            RecordKind::Spawn(task)
        } else {
            RecordKind::Complete(task)
        };
        sink.push(session, header.meta.id(), Instant::now(), kind);
    }
}

/// Called when a task's waker wakes it (before the task is scheduled).
#[inline(always)]
pub(crate) fn woken(header: &Header, by_ref: bool) {
    if any_recording() {
        woken_slow(header, by_ref);
    }
}

#[inline(never)]
fn woken_slow(header: &Header, by_ref: bool) {
    if let Some((sink, session)) = sink_of(header) {
        let by = crate::context::current_task_id();
        sink.push(
            session,
            header.meta.id(),
            Instant::now(),
            RecordKind::Wake { by, by_ref },
        );
    }
}
