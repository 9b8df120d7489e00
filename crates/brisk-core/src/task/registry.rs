//! The runtime's task registry: every live task, for shutdown and diagnostics.
//!
//! Sharded slabs of task pointers. A task's slot index lives in its header
//! (`registry_slot`) and both are only touched under the lock of the shard its
//! id maps to. Removal never touches another task's header (unlike an
//! intrusive list), which keeps completion cheap when many tasks are alive.
//! The registry holds one reference to every task it lists; `complete` drops it.

use super::header::Header;
use super::trace::TraceSink;
use super::{Id, Task, TaskRef};
use crate::diag::{DiagConfig, Diagnostics};
use crate::loom::{AtomicBool, AtomicU64, Ordering};
use crate::scope::diag::{ScopeDirectory, ScopeRecord};
use crate::scope::ScopeChildInfo;
use crate::spin::SpinLock;
use std::ptr::NonNull;
use std::sync::Weak;

/// A vacant slot: `(next_free << 1) | 1`; an occupied one: the header address.
const NONE: u32 = u32::MAX;

struct Shard {
    slots: Vec<usize>,
    free: u32,
    len: usize,
    closed: bool,
}

impl Shard {
    fn get(&self, i: usize) -> Option<NonNull<Header>> {
        let v = self.slots[i];
        if v & 1 == 1 {
            None
        } else {
            NonNull::new(v as *mut Header)
        }
    }
}

/// Keeps each shard on its own cache lines, so workers completing tasks in
/// different shards do not contend on one line.
#[repr(align(128))]
struct Padded<T>(T);

/// Every live task of one runtime.
///
/// Backends own one registry each (there are no process-wide task lists) and
/// hand it to core through [`Schedule::registry`](crate::runtime::Schedule::registry).
pub struct Registry {
    shards: Box<[Padded<SpinLock<Shard>>]>,
    mask: u64,
    next_task_id: AtomicU64,
    closed: AtomicBool,
    /// False when tasks are not listed (benchmarks only; see
    /// `DiagConfig::set_untracked_for_benchmarks`).
    tracked: bool,
    trace: TraceSink,
    diagnostics: Diagnostics,
    /// Scopes run by this runtime's tasks, for listing their children.
    scopes: ScopeDirectory,
}

// SAFETY: the stored header pointers are only dereferenced while the shard
// lock is held (slot index) or through the task's own thread-safe state;
// headers are `Send + Sync` by construction (their shared fields are atomics
// or immutable after spawn).
unsafe impl Send for Registry {}
// SAFETY: see `Send`; all mutation goes through the shard mutexes.
unsafe impl Sync for Registry {}

impl Registry {
    /// Creates a registry with about `shards` shards (rounded up to a power
    /// of two) and the default diagnostics ([`DiagConfig::default`]).
    pub fn new(shards: usize) -> Registry {
        Registry::with_diagnostics(shards, DiagConfig::default())
    }

    /// Creates a registry whose runtime's diagnostics follow `config`.
    pub fn with_diagnostics(shards: usize, config: DiagConfig) -> Registry {
        let n = shards.max(1).next_power_of_two();
        Registry {
            shards: (0..n)
                .map(|_| {
                    Padded(SpinLock::new(Shard {
                        slots: Vec::new(),
                        free: NONE,
                        len: 0,
                        closed: false,
                    }))
                })
                .collect(),
            mask: n as u64 - 1,
            next_task_id: AtomicU64::new(1),
            closed: AtomicBool::new(false),
            tracked: config.tracks_tasks(),
            trace: TraceSink::new(),
            diagnostics: Diagnostics::new(config),
            scopes: ScopeDirectory::new(n),
        }
    }

    /// The runtime's diagnostics: its configuration and hazard log.
    #[inline]
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    /// Calls `f` with the task `id` if it is listed, under its shard lock
    /// (the same rules as [`for_each`](Self::for_each)).
    pub fn with_task<R>(&self, id: u64, f: impl FnOnce(TaskRef<'_>) -> R) -> Option<R> {
        let id = Id(id);
        let shard = self.shard(id).lock();
        for i in 0..shard.slots.len() {
            if let Some(ptr) = shard.get(i) {
                let task = TaskRef::new(ptr);
                if task.id() == id {
                    return Some(f(task));
                }
            }
        }
        None
    }

    /// Hands out the next task id (unique within this runtime).
    pub fn next_task_id(&self) -> Id {
        Id(self.next_task_id.fetch_add(1, Ordering::Relaxed))
    }

    fn shard(&self, id: Id) -> &SpinLock<Shard> {
        &self.shards[(id.0 & self.mask) as usize].0
    }

    /// Lists a new task. Returns false if the registry is closed.
    pub(crate) fn insert(&self, ptr: NonNull<Header>) -> bool {
        if !self.tracked {
            // Not listed: the registry's reference is released by
            // `complete` all the same.
            return !self.closed.load(Ordering::Acquire);
        }
        // SAFETY: the caller holds a reference to the task.
        let header = unsafe { ptr.as_ref() };
        let mut shard = self.shard(header.meta.id()).lock();
        if shard.closed {
            return false;
        }
        let addr = ptr.as_ptr() as usize;
        debug_assert_eq!(addr & 1, 0);
        let index = if shard.free != NONE {
            let i = shard.free;
            shard.free = (shard.slots[i as usize] >> 1) as u32;
            shard.slots[i as usize] = addr;
            i
        } else {
            let i =
                u32::try_from(shard.slots.len()).expect("more than 2^32 live tasks in one shard");
            shard.slots.push(addr);
            i
        };
        shard.len += 1;
        // SAFETY: `registry_slot` is guarded by this shard's lock, which we hold.
        header.registry_slot.with_mut(|s| unsafe { *s = index });
        true
    }

    /// Unlists a task if it is listed.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) {
        if !self.tracked {
            return;
        }
        // SAFETY: the caller holds a reference to the task.
        let header = unsafe { ptr.as_ref() };
        let mut shard = self.shard(header.meta.id()).lock();
        // SAFETY: `registry_slot` is guarded by this shard's lock, which we hold.
        let index = header
            .registry_slot
            .with_mut(|s| unsafe { std::mem::replace(&mut *s, NONE) });
        if index == NONE {
            return;
        }
        debug_assert_eq!(shard.slots[index as usize], ptr.as_ptr() as usize);
        shard.slots[index as usize] = ((shard.free as usize) << 1) | 1;
        shard.free = index;
        shard.len -= 1;
    }

    /// Number of listed (not yet completed) tasks.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.lock().len).sum()
    }

    /// True when no task is listed.
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.0.lock().len == 0)
    }

    /// Refuses new tasks from now on. Returns true if this call closed it.
    pub fn close(&self) -> bool {
        let first = !self.closed.swap(true, Ordering::AcqRel);
        for shard in self.shards.iter() {
            shard.0.lock().closed = true;
        }
        first
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Calls `f` with a view of every listed task, shard by shard, under the
    /// shard lock. `f` must not spawn, complete or cancel tasks; take owned
    /// references with [`TaskRef::to_task`] and act after the call instead.
    pub fn for_each(&self, mut f: impl FnMut(TaskRef<'_>)) {
        for shard in self.shards.iter() {
            let shard = shard.0.lock();
            for i in 0..shard.slots.len() {
                if let Some(ptr) = shard.get(i) {
                    // Listed tasks are alive: the registry holds a reference.
                    f(TaskRef::new(ptr));
                }
            }
        }
    }

    /// The runtime's trace recording (off unless started).
    pub fn trace(&self) -> &TraceSink {
        &self.trace
    }

    /// Lists a scope polled by one of this runtime's tasks (once per scope).
    pub(crate) fn list_scope(&self, task: Id, scope: Weak<ScopeRecord>) {
        self.scopes.list(task, scope);
    }

    /// A snapshot of every live child of the scopes this runtime's tasks
    /// run, grouped by scope, each scope's children in spawn order. Scope
    /// children are not tasks, so [`tasks`](Self::tasks) does not list
    /// them; each one names the task that runs its scope.
    pub fn scope_children(&self) -> Vec<ScopeChildInfo> {
        self.scopes.children()
    }

    /// Owned references to every listed task.
    pub fn tasks(&self) -> Vec<Task> {
        let mut out = Vec::new();
        self.for_each(|t| out.push(t.to_task()));
        out
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}
