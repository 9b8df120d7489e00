//! Wait-points: what a pending task is waiting on.
//!
//! When a Brisk leaf future returns `Pending` it records, in the current
//! task's header, the kind and id of the resource it waits on and the
//! `#[track_caller]` location of the wait. Recording is two relaxed stores
//! and is always on; dumps, deadlock detection and the console read it.

use std::fmt;
use std::panic::Location;

/// The kind of resource a task waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A timer (`sleep`, `timeout`, `interval`).
    Timer = 1,
    /// Another task's completion (`JoinHandle`); the id is the task id.
    Task = 2,
    /// `yield_now`: runnable again right away.
    Yield = 3,
    /// A mutex.
    Mutex = 4,
    /// A reader-writer lock.
    RwLock = 5,
    /// A semaphore.
    Semaphore = 6,
    /// A `Notify`.
    Notify = 7,
    /// A channel.
    Channel = 8,
    /// I/O readiness.
    Io = 9,
    /// A barrier.
    Barrier = 10,
    /// A `OnceCell` being initialised.
    OnceCell = 11,
    /// A child scope or group.
    Scope = 12,
    /// Something else.
    Other = 13,
}

impl ResourceKind {
    pub(crate) fn from_u8(v: u8) -> Option<ResourceKind> {
        use ResourceKind::*;
        Some(match v {
            1 => Timer,
            2 => Task,
            3 => Yield,
            4 => Mutex,
            5 => RwLock,
            6 => Semaphore,
            7 => Notify,
            8 => Channel,
            9 => Io,
            10 => Barrier,
            11 => OnceCell,
            12 => Scope,
            13 => Other,
            _ => return None,
        })
    }

    /// The kind as a word (`"Mutex"`, `"Timer"`, ...).
    pub fn as_str(self) -> &'static str {
        use ResourceKind::*;
        match self {
            Timer => "Timer",
            Task => "Task",
            Yield => "Yield",
            Mutex => "Mutex",
            RwLock => "RwLock",
            Semaphore => "Semaphore",
            Notify => "Notify",
            Channel => "Channel",
            Io => "Io",
            Barrier => "Barrier",
            OnceCell => "OnceCell",
            Scope => "Scope",
            Other => "Other",
        }
    }
}

/// What a task waits on: a resource and the place in the code that waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitPoint {
    /// The resource's kind.
    pub kind: ResourceKind,
    /// The resource's id (for `Task`, the awaited task's id).
    pub resource: u64,
    /// Where the wait happens.
    pub location: &'static Location<'static>,
}

impl fmt::Display for WaitPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ResourceKind::Yield => write!(f, "yield_now at {}", self.location),
            _ => write!(
                f,
                "{} #{} at {}",
                self.kind.as_str(),
                self.resource,
                self.location
            ),
        }
    }
}

/// Records that the current task waits on `resource` of `kind` at `location`.
/// Does nothing outside a task. Leaf futures call it when returning `Pending`.
#[inline]
pub fn set(kind: ResourceKind, resource: u64, location: &'static Location<'static>) {
    if let Some(ptr) = crate::context::current_task_ptr() {
        // SAFETY: the current task pointer is set only while that task is
        // being polled on this thread, so the header is alive.
        unsafe { ptr.as_ref() }.wait.set(kind, resource, location);
    }
}

/// A fresh resource id from the current runtime (or a process-wide counter
/// outside any runtime), for primitives that want to appear in dumps.
pub fn next_resource_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static OUTSIDE: AtomicU64 = AtomicU64::new(1 << 48);
    crate::context::with_current(|h| h.backend().registry().next_resource_id())
        .unwrap_or_else(|| OUTSIDE.fetch_add(1, Ordering::Relaxed))
}
