//! The runtime's task registry: every live task, for shutdown and diagnostics.
//!
//! Sharded slabs of task pointers, written for the two moments every task
//! has — spawn and completion — to cost a few plain stores on the threads
//! that run tasks:
//!
//! - **Shards are owned.** A scheduler thread (a worker, a current-thread
//!   driver, a `block_on` caller) claims a shard for as long as it runs
//!   ([`Registry::enter_owner`]). It reserves slab slots `BATCH` at a time
//!   under the shard's lock; a spawn then takes a reserved slot and an id
//!   from a reserved block (one shared `fetch_add` per `ID_BLOCK` spawns),
//!   and lists the task with one release store, without the lock.
//! - **Removal is batched.** A task completing on an owner thread goes into
//!   that thread's *dead* buffer (owner-private; it keeps the registry's
//!   reference and the completer's meanwhile); once per `DEAD_BATCH`
//!   completions, or before the thread sleeps ([`Registry::flush_local`]),
//!   the batch is unlisted, one lock per shard it touches, and the
//!   references are released. A finished task thus outlives its completion
//!   by at most one batch, and is skipped by readers meanwhile.
//! - **Everyone else locks.** Threads that own no shard (blocking threads,
//!   foreign threads, a third `block_on` caller) list and unlist under the
//!   lock of a shared shard.
//!
//! Slabs are chunked: chunks never move, so an owner writes its reserved
//! slots while a reader iterates under the lock, and slots are atomics.
//! Readers (dumps, shutdown) lock one shard at a time. A task's shard and
//! slot live in its header (`registry_shard`, `registry_slot`), written
//! once at spawn, before the task is published; completion reads them and
//! touches no other task's header (unlike an intrusive list), so it stays
//! cheap when many tasks are alive, and nothing writes a task's header
//! from another thread while it runs.
//!
//! Why ours: no crate offers a concurrent set with an owner fast path and
//! stable, cheap iteration under a per-shard lock; and the registry is on
//! the path of every spawn, so its cost is the runtime's.

use super::header::Header;
use super::trace::TraceSink;
use super::{Id, Task, TaskRef};
use crate::diag::{DiagConfig, Diagnostics};
use crate::loom::{AtomicBool, AtomicU64, AtomicUsize, Ordering, UnsafeCell};
use crate::scope::diag::{ScopeDirectory, ScopeRecord};
use crate::scope::ScopeChildInfo;
use crate::spin::SpinLock;
use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Weak;

/// A task's `registry_slot` when it is not listed; also the end of a
/// slab's free list.
const NONE: u32 = u32::MAX;

/// A slot an owner reserved and has not used yet (vacant to readers: odd).
const RESERVED: usize = usize::MAX;

/// Slots an owner reserves at a time.
const BATCH: usize = if cfg!(loom) { 2 } else { 32 };

/// Completions an owner unlists at a time. Small: the batch's cells are
/// freed together, and a per-thread allocator cache holds only a few
/// blocks of a size (glibc's tcache: 7), so a chain of tasks that each
/// spawn the next keeps reusing the same few, cache-hot blocks.
const DEAD_BATCH: usize = if cfg!(loom) { 2 } else { 6 };

/// Task ids an owner thread reserves at a time.
const ID_BLOCK: u64 = 64;

/// Slots per slab chunk (small under loom, whose atomics are costly).
const CHUNK: usize = if cfg!(loom) { 4 } else { 1024 };

/// One shard's slots, in chunks that never move. A slot holds a listed
/// task's header address (even), or is vacant: `(next_free << 1) | 1`, or
/// `RESERVED`.
struct Slab {
    chunks: Vec<Box<[AtomicUsize]>>,
    /// Slots ever handed out: `0..end`.
    end: u32,
    /// Head of the free list.
    free: u32,
    /// Slots holding a task or reserved by the owner.
    taken: usize,
    closed: bool,
}

impl Slab {
    fn slot(&self, i: u32) -> &AtomicUsize {
        &self.chunks[i as usize / CHUNK][i as usize % CHUNK]
    }

    fn get(&self, i: u32) -> Option<NonNull<Header>> {
        // Acquire: owners fill reserved slots without the lock.
        let v = self.slot(i).load(Ordering::Acquire);
        if v & 1 == 1 {
            None
        } else {
            NonNull::new(v as *mut Header)
        }
    }

    /// Takes a vacant slot (the lock is held).
    fn take(&mut self) -> u32 {
        self.taken += 1;
        if self.free != NONE {
            let i = self.free;
            self.free = (self.slot(i).load(Ordering::Relaxed) >> 1) as u32;
            return i;
        }
        let i = self.end;
        assert!(
            i < NONE,
            "more than 2^32 - 1 live tasks in one registry shard"
        );
        if i as usize == self.chunks.len() * CHUNK {
            self.chunks
                .push((0..CHUNK).map(|_| AtomicUsize::new(RESERVED)).collect());
        }
        self.end += 1;
        i
    }

    /// Makes slot `i` vacant (the lock is held).
    fn give_back(&mut self, i: u32) {
        self.slot(i)
            .store(((self.free as usize) << 1) | 1, Ordering::Relaxed);
        self.free = i;
        self.taken -= 1;
    }

    /// Unlists `header`'s task (this shard's lock is held through `&mut self`).
    fn unlist(&mut self, ptr: NonNull<Header>, header: &Header) {
        // SAFETY: after spawn, `registry_slot` is only written under the
        // lock of the task's shard, which the caller holds.
        let index = header
            .registry_slot
            .with_mut(|s| unsafe { std::mem::replace(&mut *s, NONE) });
        if index != NONE {
            debug_assert_eq!(
                self.slot(index).load(Ordering::Relaxed),
                ptr.as_ptr() as usize
            );
            self.give_back(index);
        }
    }

    /// Calls `f` with every listed task (the lock is held).
    fn for_each(&self, mut f: impl FnMut(NonNull<Header>)) {
        for i in 0..self.end {
            if let Some(ptr) = self.get(i) {
                f(ptr);
            }
        }
    }
}

struct Shard {
    slab: SpinLock<Slab>,
    /// Owner-private: reserved slots (the slot and its index), the last
    /// `reserve_len` of which are unused.
    reserve: UnsafeCell<[(*const AtomicUsize, u32); BATCH]>,
    /// Written by the owner only; read by `len`.
    reserve_len: AtomicUsize,
    /// Owner-private: finished tasks (of any shard) waiting to be unlisted.
    dead: UnsafeCell<[*mut Header; DEAD_BATCH]>,
    /// Entries in `dead`; written by the owner only, read by `len`.
    dead_len: AtomicUsize,
    /// True while a thread owns the shard.
    owned: AtomicBool,
    /// Owner-private: the owner's reserved ids, `next..end`.
    ids: UnsafeCell<(u64, u64)>,
}

impl Shard {
    fn new() -> Shard {
        Shard {
            slab: SpinLock::new(Slab {
                chunks: Vec::new(),
                end: 0,
                free: NONE,
                taken: 0,
                closed: false,
            }),
            reserve: UnsafeCell::new([(std::ptr::null(), NONE); BATCH]),
            reserve_len: AtomicUsize::new(0),
            dead: UnsafeCell::new([std::ptr::null_mut(); DEAD_BATCH]),
            dead_len: AtomicUsize::new(0),
            owned: AtomicBool::new(false),
            ids: UnsafeCell::new((0, 0)),
        }
    }
}

/// Keeps each shard on its own cache lines, so workers completing tasks in
/// different shards do not contend on one line.
#[repr(align(128))]
struct Padded<T>(T);

/// The shard this thread owns, if any.
#[derive(Clone, Copy)]
struct Owner {
    registry: *const Registry,
    shard: usize,
}

const NO_OWNER: Owner = Owner {
    registry: std::ptr::null(),
    shard: 0,
};

#[cfg(not(loom))]
std::thread_local! {
    static OWNER: Cell<Owner> = const { Cell::new(NO_OWNER) };
}

#[cfg(loom)]
loom::thread_local! {
    static OWNER: Cell<Owner> = Cell::new(NO_OWNER);
}

/// Every live task of one runtime.
///
/// Backends own one registry each (there are no process-wide task lists) and
/// hand it to core through [`Schedule::registry`](crate::runtime::Schedule::registry).
/// Their scheduler threads claim shards with [`enter_owner`](Self::enter_owner)
/// and call [`flush_local`](Self::flush_local) before they sleep.
pub struct Registry {
    shards: Box<[Padded<Shard>]>,
    next_task_id: AtomicU64,
    /// Shards `0..shared` are for threads that own none; the rest can be owned.
    shared: usize,
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
// lock is held (listed tasks hold the registry's reference, released only
// after unlisting under that lock), by the owner thread (its dead buffer,
// whose entries hold references), or through the task's own thread-safe
// state; headers are `Send + Sync` by construction (their shared fields are
// atomics or immutable after spawn). Reserved slot pointers point into
// chunks the registry owns and never moves.
unsafe impl Send for Registry {}
// SAFETY: see `Send`; the owner-private fields are only touched by the
// thread that claimed the shard (`owned`, `OWNER`).
unsafe impl Sync for Registry {}

/// A claim on one shard of a [`Registry`] by the current thread; see
/// [`Registry::enter_owner`]. Not `Send`: the claim is the thread's.
pub struct OwnerGuard<'a> {
    registry: &'a Registry,
    shard: usize,
    prev: Owner,
    _not_send: PhantomData<*const ()>,
}

impl Drop for OwnerGuard<'_> {
    fn drop(&mut self) {
        // The buffers are the owner's until `owned` is cleared. Releasing
        // references cannot drop the registry here: the guard borrows it.
        self.registry.flush_dead_of(self.shard);
        let shard = &self.registry.shards[self.shard].0;
        {
            let mut slab = shard.slab.lock();
            let unused = shard.reserve_len.load(Ordering::Relaxed);
            // SAFETY: the reserve is private to the owner, this thread.
            let reserve = shard.reserve.with(|r| unsafe { *r });
            for &(_, index) in &reserve[..unused] {
                slab.give_back(index);
            }
            shard.reserve_len.store(0, Ordering::Relaxed);
        }
        OWNER.with(|o| o.set(self.prev));
        shard.owned.store(false, Ordering::Release);
    }
}

impl std::fmt::Debug for OwnerGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnerGuard")
            .field("shard", &self.shard)
            .finish()
    }
}

impl Registry {
    /// Creates a registry with `shards` shared shards (at least one) and no
    /// shards to own, and the default diagnostics ([`DiagConfig::default`]).
    pub fn new(shards: usize) -> Registry {
        Registry::with_diagnostics(shards, DiagConfig::default())
    }

    /// Creates a registry with `shards` shared shards, whose runtime's
    /// diagnostics follow `config`.
    pub fn with_diagnostics(shards: usize, config: DiagConfig) -> Registry {
        Registry::with_owners(shards, 0, config)
    }

    /// Creates a registry with `shared` shards for threads that own none
    /// and `owners` shards that scheduler threads can claim with
    /// [`enter_owner`](Self::enter_owner).
    pub fn with_owners(shared: usize, owners: usize, config: DiagConfig) -> Registry {
        let shared = shared.max(1);
        let n = shared + owners;
        assert!(
            n <= usize::from(u16::MAX),
            "Registry: too many shards ({n})"
        );
        Registry {
            shards: (0..n).map(|_| Padded(Shard::new())).collect(),
            next_task_id: AtomicU64::new(1),
            shared,
            closed: AtomicBool::new(false),
            tracked: config.tracks_tasks(),
            trace: TraceSink::new(),
            diagnostics: Diagnostics::new(config),
            scopes: ScopeDirectory::new(n.next_power_of_two()),
        }
    }

    /// Claims a free shard for the current thread until the guard drops:
    /// tasks this thread spawns or completes on this registry then skip
    /// the shard locks (see the module docs). `None` if every ownable shard
    /// is taken, or this thread already owns one of this registry.
    ///
    /// Dropping the guard unlists what its thread finished and returns its
    /// reserved slots.
    ///
    /// # Safety
    /// The guard must be dropped, on this thread, before the registry is:
    /// not leaked (`mem::forget`). A leaked guard leaves the thread marked
    /// as the owner of a shard of this address, which a registry allocated
    /// there later would take for a claim of its own.
    pub unsafe fn enter_owner(&self) -> Option<OwnerGuard<'_>> {
        if self.owned_shard().is_some() {
            return None;
        }
        let shard = (self.shared..self.shards.len()).find(|&i| {
            self.shards[i]
                .0
                .owned
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        let prev = OWNER.with(|o| {
            o.replace(Owner {
                registry: self,
                shard,
            })
        });
        Some(OwnerGuard {
            registry: self,
            shard,
            prev,
            _not_send: PhantomData,
        })
    }

    /// Unlists the finished tasks this thread's shard holds back, if it
    /// owns one. Scheduler threads call it before they sleep, so that a
    /// quiet runtime's registry lists exactly its live tasks.
    pub fn flush_local(&self) {
        if let Some(s) = self.owned_shard() {
            self.flush_dead_of(s);
        }
    }

    /// The shard the current thread owns in this registry.
    #[inline]
    fn owned_shard(&self) -> Option<usize> {
        let owner = OWNER.with(|o| o.get());
        std::ptr::eq(owner.registry, self).then_some(owner.shard)
    }

    /// The runtime's diagnostics: its configuration and hazard log.
    #[inline]
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    /// Calls `f` with the task `id` if it is listed and not finished, under
    /// its shard lock (the same rules as [`for_each`](Self::for_each)).
    pub fn with_task<R>(&self, id: u64, f: impl FnOnce(TaskRef<'_>) -> R) -> Option<R> {
        let id = Id(id);
        for shard in self.shards.iter() {
            let slab = shard.0.slab.lock();
            let mut found = None;
            slab.for_each(|ptr| {
                if found.is_none() && TaskRef::new(ptr).id() == id {
                    found = Some(ptr);
                }
            });
            if let Some(ptr) = found {
                let task = TaskRef::new(ptr);
                return (!is_finished(task)).then(|| f(task));
            }
        }
        None
    }

    /// Hands out the next task id (unique within this runtime, never 0).
    #[inline]
    pub fn next_task_id(&self) -> Id {
        if let Some(s) = self.owned_shard() {
            // SAFETY: the id block is private to the owner, this thread.
            return self.shards[s].0.ids.with_mut(|ids| unsafe {
                let (next, end) = &mut *ids;
                if *next == *end {
                    *next = self.next_task_id.fetch_add(ID_BLOCK, Ordering::Relaxed);
                    *end = *next + ID_BLOCK;
                }
                *next += 1;
                Id(*next - 1)
            });
        }
        Id(self.next_task_id.fetch_add(1, Ordering::Relaxed))
    }

    /// The shard a task is listed in.
    #[inline]
    fn shard_of(&self, ptr: NonNull<Header>) -> usize {
        // SAFETY: callers hold a reference to the task; the field was
        // written before the task was published.
        unsafe { ptr.as_ref() }
            .registry_shard
            .with(|s| unsafe { *s }) as usize
    }

    /// Lists a new task, which is not published yet. Returns false if the
    /// registry is closed.
    pub(crate) fn insert(&self, ptr: NonNull<Header>) -> bool {
        if !self.tracked {
            // Not listed: the registry's reference is released by
            // `complete` all the same.
            return !self.closed.load(Ordering::Acquire);
        }
        // SAFETY: the caller holds a reference to the task.
        let header = unsafe { ptr.as_ref() };
        let owned = self.owned_shard();
        let s = owned.unwrap_or_else(|| foreign_shard(self.shared));
        // SAFETY: the task is not published yet, so nobody else reads the
        // field; its publication orders this write before every later read.
        header.registry_shard.with_mut(|f| unsafe { *f = s as u16 });
        let shard = &self.shards[s].0;
        if owned.is_some() {
            // A spawn racing `close` may still be listed here; shutdown
            // sweeps the registry again until it is empty.
            if self.closed.load(Ordering::Acquire) {
                return false;
            }
            let mut unused = shard.reserve_len.load(Ordering::Relaxed);
            if unused == 0 {
                self.refill(shard);
                unused = BATCH;
            }
            // SAFETY: the reserve is private to the owner, this thread.
            let (slot, index) = shard.reserve.with(|r| unsafe { (*r)[unused - 1] });
            // SAFETY: as for `registry_shard` above.
            header.registry_slot.with_mut(|f| unsafe { *f = index });
            // SAFETY: reserved slots point into chunks of this shard's slab,
            // which never move or shrink while the registry lives; nobody
            // else writes a reserved slot.
            unsafe { &*slot }.store(ptr.as_ptr() as usize, Ordering::Release);
            shard.reserve_len.store(unused - 1, Ordering::Relaxed);
            return true;
        }
        let mut slab = shard.slab.lock();
        if slab.closed {
            return false;
        }
        let index = slab.take();
        slab.slot(index)
            .store(ptr.as_ptr() as usize, Ordering::Release);
        // SAFETY: as for `registry_shard` above.
        header.registry_slot.with_mut(|f| unsafe { *f = index });
        true
    }

    /// Reserves `BATCH` slots for the owner of `shard` (owner thread only).
    #[cold]
    fn refill(&self, shard: &Shard) {
        let mut slab = shard.slab.lock();
        let mut reserve = [(std::ptr::null::<AtomicUsize>(), NONE); BATCH];
        for entry in reserve.iter_mut() {
            let index = slab.take();
            let slot = slab.slot(index);
            slot.store(RESERVED, Ordering::Relaxed);
            *entry = (slot as *const AtomicUsize, index);
        }
        // SAFETY: the reserve is private to the owner, this thread.
        shard.reserve.with_mut(|r| unsafe { *r = reserve });
        shard.reserve_len.store(BATCH, Ordering::Relaxed);
    }

    /// Unlists a finished task, whose caller (the thread that completed it)
    /// holds a reference of its own, or, on an owner thread, queues it to be
    /// unlisted. Says which references the caller releases now.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> Unlisted {
        if !self.tracked {
            return Unlisted::ReleaseBoth;
        }
        if let Some(own) = self.owned_shard() {
            let shard = &self.shards[own].0;
            let len = shard.dead_len.load(Ordering::Relaxed);
            // SAFETY: the dead buffer is private to the owner, this thread.
            shard
                .dead
                .with_mut(|dead| unsafe { (*dead)[len] = ptr.as_ptr() });
            shard.dead_len.store(len + 1, Ordering::Relaxed);
            if len + 1 == DEAD_BATCH {
                self.flush_dead_of(own);
            }
            return Unlisted::Kept;
        }
        // SAFETY: the caller holds a reference to the task.
        let header = unsafe { ptr.as_ref() };
        self.shards[self.shard_of(ptr)]
            .0
            .slab
            .lock()
            .unlist(ptr, header);
        Unlisted::ReleaseBoth
    }

    /// Unlists the dead buffer of shard `own`, whose owner is this thread,
    /// one lock per shard it touches, then releases the references. Touches
    /// nothing of the registry after the first release: a released task
    /// may have held the last handle on its runtime.
    fn flush_dead_of(&self, own: usize) {
        let shard = &self.shards[own].0;
        let len = shard.dead_len.load(Ordering::Relaxed);
        if len == 0 {
            return;
        }
        // SAFETY: the dead buffer is private to the owner, this thread.
        let mut pending = shard.dead.with(|dead| unsafe { *dead });
        let mut remaining = len;
        while remaining > 0 {
            // SAFETY: dead entries hold references.
            let s = self.shard_of(unsafe { NonNull::new_unchecked(pending[0]) });
            let mut slab = self.shards[s].0.slab.lock();
            let mut i = 0;
            while i < remaining {
                // SAFETY: as above.
                let ptr = unsafe { NonNull::new_unchecked(pending[i]) };
                if self.shard_of(ptr) != s {
                    i += 1;
                    continue;
                }
                // Uncount it before unlisting, so that `len` may count a
                // finished task for a moment but never misses a live one.
                remaining -= 1;
                shard.dead_len.store(remaining, Ordering::Relaxed);
                // SAFETY: as above.
                slab.unlist(ptr, unsafe { ptr.as_ref() });
                pending.swap(i, remaining);
            }
        }
        for &p in &pending[..len] {
            // SAFETY: each dead entry held the registry's reference and its
            // completer's to this finished, now unlisted task; both are
            // released once, here.
            unsafe {
                let ptr = NonNull::new_unchecked(p);
                let header = ptr.as_ref();
                if header.state.ref_dec_twice() {
                    (header.vtable.dealloc)(ptr);
                }
            }
        }
    }

    /// Number of listed tasks that have not finished. Exact on a quiet
    /// runtime; while tasks spawn and finish it may count a task that just
    /// finished, or miss one that was spawned and finished during the count.
    pub fn len(&self) -> usize {
        let listed: usize = self
            .shards
            .iter()
            .map(|s| {
                let shard = &s.0;
                let slab = shard.slab.lock();
                slab.taken
                    .saturating_sub(shard.reserve_len.load(Ordering::Relaxed))
            })
            .sum();
        let held: usize = self
            .shards
            .iter()
            .map(|s| s.0.dead_len.load(Ordering::Relaxed))
            .sum();
        listed.saturating_sub(held)
    }

    /// True when no unfinished task is listed (see [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Refuses new tasks from now on. Returns true if this call closed it.
    ///
    /// A spawn on a shard's owner thread that races this call may still
    /// be listed; callers that cancel every task sweep the registry again.
    pub fn close(&self) -> bool {
        let first = !self.closed.swap(true, Ordering::AcqRel);
        for shard in self.shards.iter() {
            shard.0.slab.lock().closed = true;
        }
        first
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Calls `f` with a view of every listed, unfinished task, shard by
    /// shard, under the shard lock. `f` must not spawn, complete or cancel
    /// tasks; take owned references with [`TaskRef::to_task`] and act after
    /// the call instead.
    pub fn for_each(&self, mut f: impl FnMut(TaskRef<'_>)) {
        for shard in self.shards.iter() {
            let slab = shard.0.slab.lock();
            slab.for_each(|ptr| {
                // Listed tasks are alive: the registry holds a reference.
                let task = TaskRef::new(ptr);
                if !is_finished(task) {
                    f(task);
                }
            });
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

/// What [`Registry::remove`] leaves to its caller.
pub(crate) enum Unlisted {
    /// Release the registry's reference and your own.
    ReleaseBoth,
    /// Release nothing: the registry took your reference over, and releases
    /// both with the next batch.
    Kept,
}

/// A finished task may stay listed until its owner's next flush.
fn is_finished(task: TaskRef<'_>) -> bool {
    task.header().state.load().is_complete()
}

/// The shared shard for the current thread (one that owns none): spread by
/// thread, so that foreign threads spawning at once rarely share a lock.
fn foreign_shard(shared: usize) -> usize {
    if shared == 1 {
        return 0;
    }
    std::thread_local! {
        static SPOT: u8 = const { 0 };
    }
    let addr = SPOT.with(|s| s as *const u8 as usize);
    ((addr >> 6).wrapping_mul(0x9E37_79B9) >> 8) % shared
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}
