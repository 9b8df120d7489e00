//! Scope children in diagnostics.
//!
//! A scope child is not a task: it is polled by the task that awaits its
//! scope. To show it in dumps anyway, each scope keeps a [`ScopeRecord`]
//! listing its live children, and registers it once with the registry of
//! the task that first polls it. Dumps read the records and list each child
//! under that task.
//!
//! Ground rules:
//! - A child's [`ChildRecord`] is owned by the child's boundary future; the
//!   scope's list and the registry's list hold `Weak`s, so a finished child
//!   (or a dropped scope) disappears from dumps without any unlisting step.
//!   Dead `Weak`s are pruned when a list is about to grow.
//! - What a child waits on is copied from the task's wait-point after each
//!   poll of the child that returns `Pending` (the task's cell is cleared
//!   before the poll, so a child that recorded nothing reads as none).
//! - The record's owner is the task that polled the scope last; 0 before
//!   the scope was polled in a task (a scope driven by `block_on` directly
//!   has no task, and is not listed).

use crate::spin::SpinLock;
use crate::task::cancel::Node;
use crate::task::header::{Header, WaitCell};
use crate::task::Id;
use crate::wait::WaitPoint;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// A child of a [`scope`](crate::scope::scope) or
/// [`try_scope`](crate::scope::try_scope), as diagnostics list it.
///
/// Scope children are not tasks of their own: they run inside the task
/// that awaits their scope, so dumps show them under that task
/// ([`task`](Self::task)). Taken by
/// [`Registry::scope_children`](crate::task::Registry::scope_children).
#[derive(Clone, Debug)]
pub struct ScopeChildInfo {
    /// The task that runs the child's scope: the child's parent in dumps.
    pub task: Id,
    /// The child's id: a task awaiting its `ScopedJoinHandle` waits on
    /// [`ResourceKind::Scope`](crate::wait::ResourceKind::Scope) with this id.
    pub id: u64,
    /// Its scope's id: the task awaiting the scope waits on
    /// [`ResourceKind::Scope`](crate::wait::ResourceKind::Scope) with this id.
    pub scope: u64,
    /// The name given with `Scope::spawn_named`, if any.
    pub name: Option<Arc<str>>,
    /// Where the child was spawned.
    pub location: &'static Location<'static>,
    /// Where its scope was entered (`brisk::scope(..)` was called).
    pub scope_location: &'static Location<'static>,
    /// Whether the child was cancelled (by `Scope::cancel`, its handle, a
    /// failing sibling, or the cancellation of the task).
    pub cancelled: bool,
    /// What it waited on when it was last polled and returned `Pending`.
    pub wait_point: Option<WaitPoint>,
    /// How many times it was polled.
    pub polls: u64,
}

/// One live scope child, owned by its boundary future.
pub(crate) struct ChildRecord {
    /// A resource id (`wait::next_resource_id`), shown in dumps and in the
    /// wait-point of whoever awaits the child's handle.
    pub(crate) id: u64,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) location: &'static Location<'static>,
    /// The child's node in the cancellation tree.
    pub(crate) node: Arc<Node>,
    wait: WaitCell,
    polls: AtomicU64,
}

impl ChildRecord {
    pub(crate) fn new(
        name: Option<&str>,
        location: &'static Location<'static>,
        node: Arc<Node>,
    ) -> Arc<ChildRecord> {
        Arc::new(ChildRecord {
            id: crate::wait::next_resource_id(),
            name: name.map(Arc::from),
            location,
            node,
            wait: WaitCell::new(),
            polls: AtomicU64::new(0),
        })
    }

    /// Starts a poll of the child: counts it and clears the task's
    /// wait-point, so what the child records can be told apart. Returns the
    /// task being polled, if any, for [`finish_poll`](Self::finish_poll).
    #[inline]
    pub(crate) fn start_poll(&self) -> Option<NonNull<Header>> {
        // Only the task polling the scope writes it: a plain load and store.
        let polls = self.polls.load(Ordering::Relaxed);
        self.polls.store(polls.wrapping_add(1), Ordering::Relaxed);
        let task = crate::context::current_task_ptr()?;
        // SAFETY: the current task pointer is set only while that task is
        // being polled on this thread, so the header is alive.
        unsafe { task.as_ref() }.wait.clear();
        Some(task)
    }

    /// The child returned `Pending`: keep what it waits on.
    #[inline]
    pub(crate) fn finish_pending_poll(&self, task: Option<NonNull<Header>>) {
        match task {
            // SAFETY: as in `start_poll`; we are still inside the same poll.
            Some(task) => self.wait.copy_from(&unsafe { task.as_ref() }.wait),
            None => self.wait.clear(),
        }
    }

    /// The label a panic report uses: the name and where it was spawned.
    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("`{n}` (spawned at {})", self.location),
            None => format!("spawned at {}", self.location),
        }
    }
}

/// A scope's live children, for diagnostics.
pub(crate) struct ScopeRecord {
    /// A resource id (`wait::next_resource_id`): the scope's wait-point and
    /// its children in dumps name it.
    pub(crate) id: u64,
    /// The id of the task that polled the scope last; 0 for none yet.
    owner: AtomicU64,
    location: &'static Location<'static>,
    children: SpinLock<Vec<Weak<ChildRecord>>>,
}

impl ScopeRecord {
    pub(crate) fn new(location: &'static Location<'static>) -> Arc<ScopeRecord> {
        Arc::new(ScopeRecord {
            id: crate::wait::next_resource_id(),
            owner: AtomicU64::new(0),
            location,
            children: SpinLock::new(Vec::new()),
        })
    }

    /// Lists a new child.
    pub(crate) fn add(&self, child: &Arc<ChildRecord>) {
        push_pruned(&mut self.children.lock(), Arc::downgrade(child));
    }

    /// Called at each poll of the scope: notes the task running it, and
    /// lists the scope with that task's registry the first time (`listed`
    /// is the scope future's own flag).
    pub(crate) fn poll_in_task(self: &Arc<Self>, listed: &mut bool) {
        let Some(task) = crate::context::current_task_ptr() else {
            return;
        };
        // SAFETY: the current task pointer is set only while that task is
        // being polled on this thread, so the header is alive.
        let header = unsafe { task.as_ref() };
        let id = header.meta.id();
        self.owner.store(id.0, Ordering::Relaxed);
        if !*listed {
            *listed = true;
            header.sched.registry().list_scope(id, Arc::downgrade(self));
        }
    }

    /// Appends a snapshot of each live child to `out`.
    fn snapshot(&self, out: &mut Vec<ScopeChildInfo>) {
        let owner = self.owner.load(Ordering::Relaxed);
        if owner == 0 {
            return;
        }
        let children: Vec<Arc<ChildRecord>> = self
            .children
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for c in children {
            out.push(ScopeChildInfo {
                task: Id(owner),
                id: c.id,
                scope: self.id,
                name: c.name.clone(),
                location: c.location,
                scope_location: self.location,
                cancelled: c.node.reason().is_some(),
                wait_point: c.wait.get(),
                polls: c.polls.load(Ordering::Relaxed),
            });
        }
    }
}

/// The registry's list of scopes, sharded by the id of the task that lists
/// them, so that scopes started by different tasks rarely contend on one
/// lock.
pub(crate) struct ScopeDirectory {
    shards: Box<[SpinLock<Vec<Weak<ScopeRecord>>>]>,
}

impl ScopeDirectory {
    /// A directory with `shards` shards (a power of two).
    pub(crate) fn new(shards: usize) -> ScopeDirectory {
        debug_assert!(shards.is_power_of_two());
        ScopeDirectory {
            shards: (0..shards).map(|_| SpinLock::new(Vec::new())).collect(),
        }
    }

    pub(crate) fn list(&self, task: Id, scope: Weak<ScopeRecord>) {
        let shard = &self.shards[(task.0 as usize) & (self.shards.len() - 1)];
        push_pruned(&mut shard.lock(), scope);
    }

    pub(crate) fn children(&self) -> Vec<ScopeChildInfo> {
        let mut scopes: Vec<Arc<ScopeRecord>> = Vec::new();
        for shard in self.shards.iter() {
            scopes.extend(shard.lock().iter().filter_map(Weak::upgrade));
        }
        let mut out = Vec::new();
        for s in scopes {
            s.snapshot(&mut out);
        }
        out
    }
}

/// Pushes `item`, first dropping dead entries if the list would grow: the
/// pruning is paid once per doubling, so pushes stay amortised O(1).
fn push_pruned<T>(list: &mut Vec<Weak<T>>, item: Weak<T>) {
    if list.len() == list.capacity() {
        list.retain(|w| w.strong_count() > 0);
    }
    list.push(item);
}
