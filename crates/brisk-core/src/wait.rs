//! Wait-points: what a pending task is waiting on.
//!
//! When a Brisk leaf future returns `Pending` it records, in the current
//! task's header, the kind and id of the resource it waits on and the
//! `#[track_caller]` location of the wait. Recording is two relaxed stores
//! and is always on; dumps, deadlock detection and the console read it.

use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

/// The kind of resource a task waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A timer (`sleep`, `timeout`, `interval`); the id is the number its
    /// driver gives it for people (see [`crate::time::TimerId`]).
    Timer = 1,
    /// Another task's completion (`JoinHandle`); the id is the task id. The
    /// wait-point's location is the `.await` when user code awaits the
    /// handle directly, else (Brisk's own code polls it: the handle spawned
    /// as a task, `timeout`, `join_all`, ...) where the awaited task was
    /// spawned.
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
    /// A scope (its task waits for the body and children), or one child
    /// of a scope (awaited through its `ScopedJoinHandle`). The id is the
    /// scope's or the child's, as dumps list them under the task that runs
    /// the scope. The location is the scope's `brisk::scope(..)` call, or
    /// the handle's `.await` (where Brisk's own code polls the handle,
    /// where the child was spawned).
    Scope = 12,
    /// Something else.
    Other = 13,
}

impl ResourceKind {
    /// True for the kinds whose ids are in the holder directory
    /// ([`holders_of`]): `Mutex`, `RwLock`, `Semaphore`, `OnceCell`. Ids of
    /// other kinds (tasks, timers, sockets) are counted apart and may equal
    /// a lock's, so only these kinds are looked up there.
    pub fn records_holders(self) -> bool {
        matches!(
            self,
            ResourceKind::Mutex
                | ResourceKind::RwLock
                | ResourceKind::Semaphore
                | ResourceKind::OnceCell
        )
    }

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
    /// Where the wait happens: the leaf future's `#[track_caller]` location
    /// (for `sleep`, `lock`, `recv`, ... the call that made the future). For
    /// [`ResourceKind::Task`], see there.
    pub location: &'static Location<'static>,
    /// The `#[brisk::traced]` functions the wait happens in, outermost
    /// first (empty when none; see [`crate::traced`]).
    pub chain: &'static [&'static crate::traced::Frame],
}

impl fmt::Display for WaitPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ResourceKind::Yield => write!(f, "yield_now at {}", self.location)?,
            _ => write!(
                f,
                "{} #{} at {}",
                self.kind.as_str(),
                self.resource,
                self.location
            )?,
        }
        for (i, frame) in self.chain.iter().enumerate() {
            f.write_str(if i == 0 { " in " } else { " → " })?;
            write!(f, "{frame}")?;
        }
        Ok(())
    }
}

/// Records that the current task waits on `resource` of `kind` at `location`.
/// Does nothing outside a task. Leaf futures call it when returning `Pending`.
///
/// This is also Brisk's *cancellation point*: if the code around the caller
/// was cancelled (see `brisk::task::Cancelled`), it raises the flag that
/// makes the nearest cancellation boundary drop the pending future there.
/// A leaf future that calls `set` must be safe to drop right after it
/// returns `Pending`, which every future must be anyway.
#[inline]
pub fn set(kind: ResourceKind, resource: u64, location: &'static Location<'static>) {
    record(kind, resource, location);
    crate::task::cancel::unwind_if_cancelled();
}

/// [`set`] without the cancellation point: for waits that must go on in
/// cancelled code (a scope waiting for its children), and for leaves that
/// passed `coop::poll_proceed` earlier in the same poll (`Sleep`,
/// `JoinHandle`). For those a second check would be redundant: code
/// cancelled after `poll_proceed` is woken by the cancellation, and its next
/// poll stops at `poll_proceed`.
///
/// `set` itself keeps its check: it is the only cancellation point of
/// `yield_now` and of hand-written leaves that do not call `poll_proceed`.
#[inline]
pub(crate) fn record(kind: ResourceKind, resource: u64, location: &'static Location<'static>) {
    if let Some(ptr) = crate::context::current_task_for_wait() {
        // SAFETY: the current task pointer is set only while that task is
        // being polled on this thread, so the header is alive.
        unsafe { ptr.as_ref() }.wait.set(kind, resource, location);
    }
}

/// Runs `inner` then `outer`, both polls of one combinator, so that the
/// task's wait-point is what `inner` recorded, if it recorded anything,
/// and `outer`'s otherwise: `timeout(d, rx.recv())` waits on the channel,
/// and shows the timer only around a future that records no wait of its
/// own. `outer` runs only if `inner` returns `None`; both get `cx`.
#[inline]
pub(crate) fn inner_wait_first<C, T>(
    cx: &mut C,
    inner: impl FnOnce(&mut C) -> Option<T>,
    outer: impl FnOnce(&mut C) -> T,
) -> T {
    let Some(task) = crate::context::current_task_for_wait() else {
        return match inner(cx) {
            Some(out) => out,
            None => outer(cx),
        };
    };
    // SAFETY: the current task pointer is set only while that task is
    // being polled on this thread, so the header is alive.
    let cell = &unsafe { task.as_ref() }.wait;
    cell.clear();
    if let Some(out) = inner(cx) {
        return out;
    }
    let recorded = cell.save();
    let out = outer(cx);
    if let Some(saved) = recorded {
        cell.restore(saved);
    }
    out
}

/// True for a location in brisk-core's own sources, or in the standard
/// library's (a future polled through `Pin<&mut F>` or `&mut F` reports
/// the forwarding impl): a wait-point there would point into the runtime
/// or `core` rather than at the user's code.
pub(crate) fn is_core_location(location: &Location<'_>) -> bool {
    // This file is `<src>/wait.rs`, and every brisk-core source is under
    // `<src>/`; both paths come from the same build of this crate, so they
    // agree however the build spells (or remaps) them.
    const THIS_FILE: &str = file!();
    let src = &THIS_FILE[..THIS_FILE.len() - "wait.rs".len()];
    let file = location.file();
    // The standard library's sources, as its builds spell them (remapped
    // to `/rustc/<commit>/library/core/src/...`, or a local checkout).
    // One scan for user paths, which rarely contain `library/` at all.
    file.starts_with(src)
        || file.find("library/").is_some_and(|at| {
            let rest = &file[at + "library/".len()..];
            ["core/src/", "alloc/src/", "std/src/"]
                .iter()
                .any(|dir| rest.starts_with(dir))
        })
}

/// A fresh resource id, for primitives that want to appear in dumps.
///
/// Ids are unique in the process, not per runtime: a primitive is not tied to
/// one runtime and may be shared between several.
pub fn next_resource_id() -> u64 {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// How many holders a [`Holders`] table names individually; further holders
/// are counted.
pub const HOLDER_SLOTS: usize = 4;

/// Stands for "a thread outside any task" in a holder slot.
const THREAD_HOLDER: u64 = u64::MAX;

/// Who currently holds a lock-like resource (a mutex, a reader-writer lock,
/// a semaphore's permits): up to [`HOLDER_SLOTS`] task ids, plus a count of
/// further holders.
///
/// Recording is one relaxed store (or compare-and-swap for shared holders) and
/// is always on. A guard that moves to another task keeps naming the task
/// that acquired it.
#[derive(Debug, Default)]
pub struct Holders {
    slots: [std::sync::atomic::AtomicU64; HOLDER_SLOTS],
    more: std::sync::atomic::AtomicUsize,
    published: std::sync::atomic::AtomicBool,
}

/// Where a holder was recorded in a [`Holders`] table; give it back to
/// [`Holders::remove`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HoldTicket(u8);

impl HoldTicket {
    const OVERFLOW: u8 = u8::MAX;
    /// The ticket [`Holders::set_single`] returns.
    pub const SINGLE: HoldTicket = HoldTicket(0);
}

/// A copy of a resource's holders at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HolderSnapshot {
    /// The holders found: `Some(id)` for a task, `None` for a thread outside
    /// any task.
    pub holders: Vec<Option<crate::task::Id>>,
    /// Holders beyond those listed.
    pub more: usize,
}

impl HolderSnapshot {
    /// True when nothing holds the resource.
    pub fn is_empty(&self) -> bool {
        self.holders.is_empty() && self.more == 0
    }
}

impl fmt::Display for HolderSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, h) in self.holders.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match h {
                Some(id) => write!(f, "task #{}", id.as_u64())?,
                None => f.write_str("a thread outside any task")?,
            }
        }
        if self.more > 0 {
            if !self.holders.is_empty() {
                f.write_str(" ")?;
            }
            write!(f, "and {} more", self.more)?;
        }
        Ok(())
    }
}

/// Bits of a holder word that hold the task id; the bits above hold the
/// task's runtime tag (`Registry::tag`): ids count per runtime, and a lock
/// may be shared by several.
const HOLDER_ID_BITS: u32 = 48;
const HOLDER_ID_MASK: u64 = (1 << HOLDER_ID_BITS) - 1;

fn current_holder() -> u64 {
    crate::context::current_task_id_and_tag().map_or(THREAD_HOLDER, |(id, tag)| {
        (u64::from(tag) << HOLDER_ID_BITS) | (id.as_u64() & HOLDER_ID_MASK)
    })
}

impl Holders {
    /// An empty table.
    pub fn new() -> Holders {
        Holders::default()
    }

    /// Records the current task (or thread) as the only holder, for resources
    /// with one holder at a time.
    #[inline]
    pub fn set_single(&self) -> HoldTicket {
        self.slots[0].store(current_holder(), Ordering::Relaxed);
        HoldTicket(0)
    }

    /// Records the current task (or thread) as one more holder.
    #[inline]
    pub fn add(&self) -> HoldTicket {
        let me = current_holder();
        for (i, slot) in self.slots.iter().enumerate() {
            if slot.load(Ordering::Relaxed) == 0
                && slot
                    .compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                return HoldTicket(i as u8);
            }
        }
        self.more.fetch_add(1, Ordering::Relaxed);
        HoldTicket(HoldTicket::OVERFLOW)
    }

    /// Forgets the holder recorded at `ticket`.
    #[inline]
    pub fn remove(&self, ticket: HoldTicket) {
        match self.slots.get(ticket.0 as usize) {
            Some(slot) => slot.store(0, Ordering::Relaxed),
            None => {
                self.more.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// The current holders.
    pub fn snapshot(&self) -> HolderSnapshot {
        self.snapshot_in(None)
    }

    /// The current holders; with `Some(tag)`, tasks of other runtimes than
    /// the one with that tag are counted in `more` instead of listed (their
    /// ids would name tasks of this one).
    fn snapshot_in(&self, tag: Option<u16>) -> HolderSnapshot {
        let mut more = self.more.load(Ordering::Relaxed);
        let mut holders = Vec::new();
        for v in self.slots.iter().map(|s| s.load(Ordering::Relaxed)) {
            if v == 0 {
                continue;
            }
            if v == THREAD_HOLDER {
                holders.push(None);
                continue;
            }
            if tag.is_some_and(|t| u64::from(t) != v >> HOLDER_ID_BITS) {
                more += 1;
                continue;
            }
            holders.push(Some(crate::task::Id(v & HOLDER_ID_MASK)));
        }
        HolderSnapshot { holders, more }
    }
}

/// The directory's entries in one shard, by resource id.
type Entries = Option<HashMap<u64, (ResourceKind, Weak<Holders>)>>;

/// One shard of the directory of contended resources.
type Shard = std::sync::Mutex<Entries>;

const SHARDS: usize = 16;

/// Resources that have had a waiter, by id, so that a dump can name the
/// holders of what a task waits on. Process-wide because a primitive is not
/// tied to one runtime; it holds only weak references and never affects
/// scheduling.
static DIRECTORY: [Shard; SHARDS] = [const { std::sync::Mutex::new(None) }; SHARDS];

fn shard(id: u64) -> std::sync::MutexGuard<'static, Entries> {
    DIRECTORY[(id as usize) % SHARDS]
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Lists `holders` under resource `id` so [`holders_of`] can find it. Called
/// once, the first time a task has to wait on the resource; later calls do
/// nothing.
pub fn publish(kind: ResourceKind, id: u64, holders: &Arc<Holders>) {
    if holders.published.swap(true, Ordering::Relaxed) {
        return;
    }
    shard(id)
        .get_or_insert_with(HashMap::new)
        .insert(id, (kind, Arc::downgrade(holders)));
}

/// Removes resource `id` from the directory (when the resource is dropped).
pub fn unpublish(id: u64, holders: &Holders) {
    if holders.published.load(Ordering::Relaxed) {
        if let Some(map) = shard(id).as_mut() {
            // Remove only our own entry.
            if map
                .get(&id)
                .is_some_and(|(_, w)| std::ptr::eq(w.as_ptr(), holders))
            {
                map.remove(&id);
            }
        }
    }
}

/// The holders of resource `id`, if it has ever had a waiter and still exists.
///
/// ```
/// # brisk::run(async { brisk::spawn(async {
/// use std::sync::Arc;
/// let m = Arc::new(brisk::sync::Mutex::new(0));
/// let guard = m.lock().await;
/// let m2 = m.clone();
/// let waiter = brisk::spawn(async move { *m2.lock().await += 1 });
/// while !m.has_waiters() { brisk::task::yield_now().await; }
/// let held = brisk::wait::holders_of(m.resource_id()).unwrap();
/// assert_eq!(held.holders, vec![Some(brisk::task::id())]);
/// drop(guard);
/// waiter.await.unwrap();
/// # }).await.unwrap() });
/// ```
pub fn holders_of(id: u64) -> Option<HolderSnapshot> {
    Some(listed(id)?.snapshot())
}

/// The holder table listed under resource `id`, if it still exists.
fn listed(id: u64) -> Option<Arc<Holders>> {
    let guard = shard(id);
    let (_, weak) = guard.as_ref()?.get(&id)?;
    weak.upgrade()
}

/// [`holders_of`] as seen from `registry`'s runtime: holders that are tasks
/// of another runtime (whose ids would name tasks of this one) are counted
/// in `more` instead of listed.
pub fn holders_of_in(id: u64, registry: &crate::task::Registry) -> Option<HolderSnapshot> {
    Some(listed(id)?.snapshot_in(Some(registry.tag())))
}

/// Every resource in the directory that still exists, with its holders.
pub fn contended_resources() -> Vec<(ResourceKind, u64, HolderSnapshot)> {
    let mut out = Vec::new();
    for s in &DIRECTORY {
        let guard = s.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(map) = guard.as_ref() {
            for (&id, (kind, weak)) in map {
                if let Some(h) = weak.upgrade() {
                    out.push((*kind, id, h.snapshot()));
                }
            }
        }
    }
    out.sort_by_key(|e| e.1);
    out
}

/// An I/O object's identity in wait-points: a resource id and the place in
/// the code that created the object. Sockets of every backend record their
/// waits through it.
#[derive(Clone, Copy, Debug)]
pub struct IoSite {
    id: u64,
    location: &'static Location<'static>,
}

impl IoSite {
    /// A fresh id for an object created at `location`.
    pub fn new(location: &'static Location<'static>) -> IoSite {
        IoSite {
            id: next_resource_id(),
            location,
        }
    }

    /// The resource id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Where the object was created.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Passes `p` through, recording an `Io` wait-point at `location` when
    /// it is pending. This is the I/O cancellation point: in cancelled code
    /// a pending operation becomes `Ready(Err(e))`, where `e` carries
    /// `brisk::task::Cancelled` (the operation's start,
    /// `coop::poll_proceed_io`, is the other one).
    #[inline]
    pub fn track_at<T>(
        &self,
        p: std::task::Poll<std::io::Result<T>>,
        location: &'static Location<'static>,
    ) -> std::task::Poll<std::io::Result<T>> {
        if p.is_pending() {
            if let Some(err) = crate::task::cancel::io_cancelled() {
                return std::task::Poll::Ready(Err(err));
            }
            record(ResourceKind::Io, self.id, location);
        }
        p
    }

    /// Passes `p` through, recording an `Io` wait-point at the creation site
    /// when it is pending; see [`track_at`](Self::track_at).
    #[inline]
    pub fn track<T>(
        &self,
        p: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        self.track_at(p, self.location)
    }
}
