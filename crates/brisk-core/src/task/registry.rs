//! The runtime's task registry: every live task, for shutdown and diagnostics.
//!
//! A sharded, intrusive, doubly-linked list. Each task's links live in its
//! header and are only touched under the lock of the shard its id maps to.
//! The registry holds one reference to every task it lists; `complete` drops it.

use super::header::Header;
use super::{Id, Task, TaskRef};
use crate::loom::{AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};
use std::ptr::NonNull;

struct Shard {
    head: Option<NonNull<Header>>,
    closed: bool,
}

/// Every live task of one runtime.
///
/// Backends own one registry each (there are no process-wide task lists) and
/// hand it to core through [`Schedule::registry`](crate::runtime::Schedule::registry).
pub struct Registry {
    shards: Box<[Mutex<Shard>]>,
    mask: u64,
    len: AtomicUsize,
    next_task_id: AtomicU64,
    next_resource_id: AtomicU64,
    closed: AtomicBool,
}

// SAFETY: the raw header pointers are only dereferenced under the shard lock
// (for the links) or through the task's own thread-safe state; headers are
// `Send + Sync` by construction (all their shared fields are atomics or
// immutable after spawn).
unsafe impl Send for Registry {}
// SAFETY: see `Send`; all mutation goes through the shard mutexes.
unsafe impl Sync for Registry {}

impl Registry {
    /// Creates a registry with about `shards` shards (rounded up to a power of two).
    pub fn new(shards: usize) -> Registry {
        let n = shards.max(1).next_power_of_two();
        Registry {
            shards: (0..n)
                .map(|_| {
                    Mutex::new(Shard {
                        head: None,
                        closed: false,
                    })
                })
                .collect(),
            mask: n as u64 - 1,
            len: AtomicUsize::new(0),
            next_task_id: AtomicU64::new(1),
            next_resource_id: AtomicU64::new(1),
            closed: AtomicBool::new(false),
        }
    }

    /// Hands out the next task id (unique within this runtime).
    pub fn next_task_id(&self) -> Id {
        Id(self.next_task_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Hands out the next resource id (unique within this runtime).
    pub fn next_resource_id(&self) -> u64 {
        self.next_resource_id.fetch_add(1, Ordering::Relaxed)
    }

    fn shard(&self, id: Id) -> &Mutex<Shard> {
        &self.shards[(id.0 & self.mask) as usize]
    }

    /// Lists a new task. Returns false if the registry is closed.
    pub(crate) fn insert(&self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller holds a reference to the task.
        let header = unsafe { ptr.as_ref() };
        let mut shard = self.shard(header.meta.id).lock().unwrap();
        if shard.closed {
            return false;
        }
        let old_head = shard.head;
        // SAFETY: links are guarded by this shard's lock, which we hold; the
        // old head is listed, hence alive (the registry holds a reference).
        unsafe {
            header.links.with_mut(|l| {
                (*l).prev = None;
                (*l).next = old_head;
            });
            if let Some(old) = old_head {
                old.as_ref().links.with_mut(|l| (*l).prev = Some(ptr));
            }
        }
        shard.head = Some(ptr);
        self.len.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Unlists a task if it is listed.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) {
        // SAFETY: the caller holds a reference to the task.
        let header = unsafe { ptr.as_ref() };
        let mut shard = self.shard(header.meta.id).lock().unwrap();
        // SAFETY: links are guarded by the shard lock we hold; neighbours are
        // listed, hence alive.
        unsafe {
            let (prev, next) = header.links.with(|l| ((*l).prev, (*l).next));
            let listed = prev.is_some() || shard.head == Some(ptr);
            if !listed {
                return;
            }
            match prev {
                Some(p) => p.as_ref().links.with_mut(|l| (*l).next = next),
                None => shard.head = next,
            }
            if let Some(n) = next {
                n.as_ref().links.with_mut(|l| (*l).prev = prev);
            }
            header.links.with_mut(|l| {
                (*l).prev = None;
                (*l).next = None;
            });
        }
        self.len.fetch_sub(1, Ordering::Relaxed);
    }

    /// Number of listed (not yet completed) tasks.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// True when no task is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Refuses new tasks from now on. Returns true if this call closed it.
    pub fn close(&self) -> bool {
        let first = !self.closed.swap(true, Ordering::AcqRel);
        for shard in self.shards.iter() {
            shard.lock().unwrap().closed = true;
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
            let shard = shard.lock().unwrap();
            let mut cur = shard.head;
            while let Some(ptr) = cur {
                f(TaskRef::new(ptr));
                // SAFETY: listed tasks are alive and their links are guarded
                // by the lock we hold.
                cur = unsafe { ptr.as_ref().links.with(|l| (*l).next) };
            }
        }
    }

    /// Owned references to every listed task.
    pub fn tasks(&self) -> Vec<Task> {
        let mut out = Vec::with_capacity(self.len());
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
