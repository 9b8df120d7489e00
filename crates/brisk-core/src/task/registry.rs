//! The runtime's task registry: every live task, for shutdown and diagnostics.
//!
//! Sharded slabs of task pointers, written for the two moments every task
//! has — spawn and completion — to cost a few plain stores on the threads
//! that run tasks:
//!
//! - **Shards are owned.** A scheduler thread (a worker, a current-thread
//!   driver, a `block_on` caller) claims a shard for as long as it runs
//!   ([`Registry::enter_owner`]). It keeps a private reserve of its
//!   shard's slots — a chain of vacant ones, then a range of fresh ones,
//!   never written — and a spawn takes the next one and an id from a
//!   reserved block (one shared `fetch_add` per `ID_BLOCK` spawns), and
//!   lists the task with one release store, without the lock. When the
//!   reserve runs out, the owner takes, under the lock, every slot the
//!   other threads handed back to the shard, or `BATCH` fresh ones.
//! - **Removal is batched.** A task completing on an owner thread goes into
//!   that thread's *dead* buffer (owner-private; it keeps the registry's
//!   reference and the completer's meanwhile); once per `DEAD_BATCH`
//!   completions, or before the thread sleeps ([`Registry::flush_local`]),
//!   the batch is unlisted and the references are released. A finished
//!   task thus outlives its completion by at most one batch, and is
//!   skipped by readers meanwhile. It is uncounted before its completion
//!   is published, so no joiner sees it alive.
//! - **Locks are held for a few instructions.** Unlisting vacates the
//!   slots without the lock, linking them into a chain; then one lock per
//!   shard hands the chain to the shard's owner (or keeps it, for the
//!   owner's own slots), and waits out any reader that saw the tasks,
//!   before their references go. Nothing that may miss the cache (a slot
//!   another core wrote) happens under a lock that the shard's spawner and
//!   the threads completing its tasks share.
//! - **Everyone else locks.** Threads that own no shard (blocking threads,
//!   foreign threads, a third `block_on` caller) list and unlist under the
//!   lock of a shared shard.
//!
//! A shard's slots live in chunks that double in size and never move
//! (`Slots`), so a slot is found from its index without the lock, an owner
//! writes its slots while a reader iterates under the lock, and slots are
//! atomics. Readers (dumps, shutdown) lock one shard at a time; the count
//! (`Registry::len`) holds every shard's lock at once. A task's
//! shard and slot live in its header (`registry_shard`, `registry_slot`),
//! written once at spawn, before the task is published; completion reads
//! them and touches no other task's header (unlike an intrusive list), so
//! it stays cheap when many tasks are alive, and nothing writes a task's
//! header from another thread while it runs.
//!
//! Why ours: no crate offers a concurrent set with an owner fast path and
//! stable, cheap iteration under a per-shard lock; and the registry is on
//! the path of every spawn, so its cost is the runtime's.

use super::header::Header;
use super::trace::TraceSink;
use super::{Id, Task, TaskRef};
use crate::diag::{DiagConfig, Diagnostics};
use crate::loom::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, UnsafeCell};
use crate::scope::diag::{ScopeDirectory, ScopeRecord};
use crate::scope::ScopeChildInfo;
use crate::spin::SpinLock;
use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Weak;

/// A task's `registry_slot` when it is not listed; also the end of a
/// chain of vacant slots.
const NONE: u32 = u32::MAX;

/// Slots an owner takes at a time when its shard has no vacant ones.
const BATCH: u32 = if cfg!(loom) { 2 } else { 32 };

/// Completions an owner unlists at a time. Small: the batch's cells are
/// freed together, and a per-thread allocator cache holds only a few
/// blocks of a size (glibc's tcache: 7), so a chain of tasks that each
/// spawn the next keeps reusing the same few, cache-hot blocks.
const DEAD_BATCH: usize = if cfg!(loom) { 2 } else { 6 };

/// Task ids an owner thread reserves at a time.
const ID_BLOCK: u64 = 64;

/// Slots in a shard's first chunk; each later chunk doubles the total.
const CHUNK: usize = if cfg!(loom) { 4 } else { 1024 };

/// Chunks a shard can have: enough for every `u32` slot index (fewer under
/// loom, whose atomics are costly).
const MAX_CHUNKS: usize = if cfg!(loom) {
    4
} else {
    33 - CHUNK.trailing_zeros() as usize
};

/// A slot: a listed task's header (even address), a vacant slot's link
/// (odd, see [`vacant`]), or null (never written: not handed out yet, or
/// in an owner's fresh range).
type Slot = AtomicPtr<Header>;

/// A vacant slot's value: an odd address with no provenance (never
/// dereferenced), holding the next vacant slot of its chain.
#[inline]
fn vacant(next: u32) -> *mut Header {
    std::ptr::without_provenance_mut(((next as usize) << 1) | 1)
}

/// The next slot of a vacant slot's chain.
#[inline]
fn next_vacant(value: *mut Header) -> u32 {
    debug_assert_eq!(
        value.addr() & 1,
        1,
        "a listed slot is not in a vacant chain"
    );
    (value.addr() >> 1) as u32
}

/// A shard's slots, in chunks that never move, so that a slot is found
/// without the shard's lock: chunk 0 holds `CHUNK` slots, chunk `k ≥ 1`
/// holds `CHUNK << (k - 1)` (slots `CHUNK << (k - 1)` up to `CHUNK << k`).
/// A slot holds a listed task's header address (even), or is vacant: odd
/// (see [`vacant`]), or zero (never written). Chunks are added under the
/// shard's lock.
struct Slots {
    chunks: [AtomicPtr<Slot>; MAX_CHUNKS],
}

impl Slots {
    fn new() -> Slots {
        Slots {
            chunks: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
        }
    }

    /// Slot `i`'s chunk and its place there.
    #[inline]
    fn locate(i: u32) -> (usize, usize) {
        let q = i as usize / CHUNK;
        if q == 0 {
            return (0, i as usize);
        }
        let k = (usize::BITS - q.leading_zeros()) as usize;
        (k, i as usize - (CHUNK << (k - 1)))
    }

    fn chunk_len(k: usize) -> usize {
        if k == 0 {
            CHUNK
        } else {
            CHUNK << (k - 1)
        }
    }

    /// Slot `i`, which was handed out (`i < end` of the shard's slab, as
    /// seen under its lock or by the owner that took it).
    #[inline]
    fn get(&self, i: u32) -> &Slot {
        let (k, at) = Slots::locate(i);
        let base = self.chunks[k].load(Ordering::Acquire);
        debug_assert!(!base.is_null() && at < Slots::chunk_len(k));
        // SAFETY: slot `i` was handed out, so its chunk was allocated
        // (before the lock release that published `i`) and holds
        // `chunk_len(k) > at` slots; chunks live as long as `self`.
        unsafe { &*base.add(at) }
    }

    /// Makes sure slot `i` exists (the shard's lock is held).
    fn grow_to(&self, i: u32) {
        let (k, _) = Slots::locate(i);
        assert!(
            k < MAX_CHUNKS,
            "Registry: more live tasks in one shard than it can hold ({i})"
        );
        if self.chunks[k].load(Ordering::Relaxed).is_null() {
            #[cfg(not(loom))]
            let chunk = spare::take(k).unwrap_or_else(|| {
                let layout = Slots::chunk_layout(k);
                // Zeroed (a null slot lists nothing), so that a large
                // chunk's pages are only touched as its slots are handed
                // out.
                // SAFETY: the layout is not zero-sized (`len >= CHUNK`).
                let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<Slot>();
                if ptr.is_null() {
                    std::alloc::handle_alloc_error(layout);
                }
                ptr
            });
            #[cfg(loom)]
            let chunk = Box::into_raw(
                (0..Slots::chunk_len(k))
                    .map(|_| Slot::new(std::ptr::null_mut()))
                    .collect::<Box<[_]>>(),
            )
            .cast::<Slot>();
            self.chunks[k].store(chunk, Ordering::Release);
        }
    }

    /// Chunk `k`'s memory layout.
    #[cfg(not(loom))]
    fn chunk_layout(k: usize) -> std::alloc::Layout {
        std::alloc::Layout::array::<Slot>(Slots::chunk_len(k))
            .expect("Registry: a slot chunk fits in memory")
    }

    /// Calls `f` with each of slots `0..end` that lists a task.
    fn for_each_listed(&self, end: u32, mut f: impl FnMut(NonNull<Header>)) {
        let mut first = 0usize;
        for (k, chunk) in self.chunks.iter().enumerate() {
            if first >= end as usize {
                break;
            }
            let len = Slots::chunk_len(k).min(end as usize - first);
            let base = chunk.load(Ordering::Acquire);
            for at in 0..len {
                // SAFETY: slots below `end` exist (see `get`).
                let v = unsafe { &*base.add(at) }.load(Ordering::Acquire);
                if v.addr() & 1 == 0 {
                    if let Some(ptr) = NonNull::new(v) {
                        f(ptr);
                    }
                }
            }
            first += Slots::chunk_len(k);
        }
    }
}

impl Slots {
    /// Frees the chunks, or keeps them for another registry (see
    /// [`spare`]), zeroed: slots `0..end` were handed out, the rest were
    /// never written.
    fn release(&mut self, end: u32) {
        let mut first = 0usize;
        for (k, chunk) in self.chunks.iter().enumerate() {
            let base = chunk.swap(std::ptr::null_mut(), Ordering::Relaxed);
            let len = Slots::chunk_len(k);
            if !base.is_null() {
                #[cfg(not(loom))]
                {
                    let used = len.min((end as usize).saturating_sub(first));
                    // SAFETY: the chunk holds `len >= used` slots and no
                    // registry uses it any more; all-zero bytes are a
                    // null `Slot`.
                    unsafe { std::ptr::write_bytes(base, 0, used) };
                    spare::give(k, base);
                }
                #[cfg(loom)]
                // SAFETY: allocated by `grow_to` as a boxed slice of `len`
                // slots.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(base, len)) });
            }
            first += len;
        }
    }
}

/// Slot chunks of dropped registries, kept for the next registry's, up to
/// [`spare::MAX_BYTES`] in all.
///
/// A program that builds runtime after runtime (a test suite, a tool that
/// calls `block_on` per command, a benchmark) would otherwise get fresh
/// pages from the kernel for each runtime's slots, and the kernel zeroes
/// every page on its first touch: for a burst of a million tasks that is
/// 8 MB of page faults per runtime. A kept chunk's pages are already
/// mapped; it is zeroed like a new one, up to the slots its registry used.
/// What is kept stays with the process (like memory an allocator keeps)
/// until a registry takes it.
#[cfg(not(loom))]
mod spare {
    use super::{Slot, Slots, MAX_CHUNKS};
    use std::sync::Mutex;

    /// Bytes of slot chunks kept at most (a million slots).
    pub(super) const MAX_BYTES: usize = 8 << 20;

    /// Kept chunks, by size class (`Slots::chunk_len(k)` slots each).
    struct Spare {
        chunks: [Vec<SendPtr>; MAX_CHUNKS],
        bytes: usize,
    }

    struct SendPtr(*mut Slot);

    // SAFETY: a kept chunk is plain memory that no registry uses; whoever
    // takes it from the lock owns it.
    unsafe impl Send for SendPtr {}

    static SPARE: Mutex<Spare> = Mutex::new(Spare {
        chunks: [const { Vec::new() }; MAX_CHUNKS],
        bytes: 0,
    });

    fn bytes(k: usize) -> usize {
        Slots::chunk_len(k) * std::mem::size_of::<Slot>()
    }

    /// A kept chunk of size class `k`, if there is one.
    pub(super) fn take(k: usize) -> Option<*mut Slot> {
        let mut spare = SPARE.lock().unwrap_or_else(|e| e.into_inner());
        let chunk = spare.chunks[k].pop()?;
        spare.bytes -= bytes(k);
        Some(chunk.0)
    }

    /// Keeps chunk `base` of size class `k`, zeroed and used by no
    /// registry any more, or frees it if [`MAX_BYTES`] are kept already.
    pub(super) fn give(k: usize, base: *mut Slot) {
        {
            let mut spare = SPARE.lock().unwrap_or_else(|e| e.into_inner());
            if spare.bytes + bytes(k) <= MAX_BYTES {
                spare.bytes += bytes(k);
                spare.chunks[k].push(SendPtr(base));
                return;
            }
        }
        // SAFETY: allocated by `Slots::grow_to` (or kept from a registry
        // that did) with this layout; no registry uses it any more.
        unsafe { std::alloc::dealloc(base.cast(), Slots::chunk_layout(k)) };
    }
}

/// The part of a shard that its lock guards.
struct Slab {
    /// Slots ever handed out: `0..end`.
    end: u32,
    /// The shared chain of vacant slots: its head, tail and length.
    free: u32,
    free_tail: u32,
    free_len: usize,
    /// Slots handed out and not in the shared chain: listing a task, or
    /// in the owner's reserve (its chain and fresh range).
    taken: usize,
    closed: bool,
}

struct Shard {
    slab: SpinLock<Slab>,
    slots: Slots,
    /// Owner-private: the owner's chain of vacant slots (head and tail).
    /// Only the owner takes from it, so a spawn lists its task without the
    /// lock.
    chain: UnsafeCell<(u32, u32)>,
    /// Owner-private: fresh slots taken for the owner (`next..end`), never
    /// written yet (null); spawns take them once the chain is empty, with
    /// no link to read or write.
    fresh: UnsafeCell<(u32, u32)>,
    /// Slots in the owner's chain and fresh range together. Written by the
    /// owner only, under the lock when the shard's `taken` changes with
    /// it; read by `len`.
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
                end: 0,
                free: NONE,
                free_tail: NONE,
                free_len: 0,
                taken: 0,
                closed: false,
            }),
            slots: Slots::new(),
            chain: UnsafeCell::new((NONE, NONE)),
            fresh: UnsafeCell::new((0, 0)),
            reserve_len: AtomicUsize::new(0),
            dead: UnsafeCell::new([std::ptr::null_mut(); DEAD_BATCH]),
            dead_len: AtomicUsize::new(0),
            owned: AtomicBool::new(false),
            ids: UnsafeCell::new((0, 0)),
        }
    }

    /// A slot never handed out before (the lock is held through `slab`).
    fn fresh(&self, slab: &mut Slab) -> u32 {
        let i = slab.end;
        assert!(
            i < NONE,
            "Registry: more than 2^32 - 1 live tasks in one shard"
        );
        self.slots.grow_to(i);
        slab.end += 1;
        i
    }

    /// Takes a vacant slot from the shared chain, or a fresh one (locked).
    fn take(&self, slab: &mut Slab) -> u32 {
        slab.taken += 1;
        if slab.free != NONE {
            let i = slab.free;
            slab.free = next_vacant(self.slots.get(i).load(Ordering::Relaxed));
            slab.free_len -= 1;
            return i;
        }
        self.fresh(slab)
    }

    /// Puts the chain `head..=tail` of `n` slots, vacated (linked to each
    /// other) by the caller, into the shared chain (locked).
    fn give_back(&self, slab: &mut Slab, head: u32, tail: u32, n: usize) {
        self.slots
            .get(tail)
            .store(vacant(slab.free), Ordering::Relaxed);
        if slab.free == NONE {
            slab.free_tail = tail;
        }
        slab.free = head;
        slab.free_len += n;
        slab.taken -= n;
    }

    /// Calls `f` with every listed task (the lock is held through `slab`).
    fn for_each(&self, slab: &Slab, f: impl FnMut(NonNull<Header>)) {
        self.slots.for_each_listed(slab.end, f);
    }
}

impl Drop for Shard {
    fn drop(&mut self) {
        let end = self.slab.lock().end;
        self.slots.release(end);
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
    /// Names this runtime among the process's (see [`tag`](Self::tag)).
    tag: u16,
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
        let n = shard.reserve_len.load(Ordering::Relaxed);
        if n > 0 {
            // SAFETY: the chain and the fresh range are private to the
            // owner, this thread.
            let ((mut head, mut tail), (next, end)) =
                unsafe { (shard.chain.with(|c| *c), shard.fresh.with(|f| *f)) };
            // The fresh slots join the chain, the highest first.
            for i in next..end {
                shard.slots.get(i).store(vacant(head), Ordering::Relaxed);
                if head == NONE {
                    tail = i;
                }
                head = i;
            }
            let mut slab = shard.slab.lock();
            shard.give_back(&mut slab, head, tail, n);
            // SAFETY: as above.
            unsafe {
                shard.chain.with_mut(|c| *c = (NONE, NONE));
                shard.fresh.with_mut(|f| *f = (0, 0));
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
            tag: next_tag(),
        }
    }

    /// A number for this runtime, unique among the runtimes alive in the
    /// process unless more than 65,535 were made (it then wraps), never 0.
    /// Lock holders are recorded with it: task ids count per runtime.
    pub fn tag(&self) -> u16 {
        self.tag
    }

    /// Claims a free shard for the current thread until the guard drops:
    /// tasks this thread spawns or completes on this registry then skip
    /// the shard locks (see the module docs). `None` if every ownable shard
    /// is taken, or this thread already owns one of this registry.
    ///
    /// Dropping the guard unlists what its thread finished and hands its
    /// chain of vacant slots back to the shard.
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
            let shard = &shard.0;
            let slab = shard.slab.lock();
            let mut found = None;
            shard.for_each(&slab, |ptr| {
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
        self.id_for(self.owned_shard())
    }

    /// What a spawn needs from the registry before its task exists: an id,
    /// and the shard this thread owns (looked up once per spawn).
    #[inline]
    pub(crate) fn ticket(&self) -> Ticket {
        let owned = self.owned_shard();
        Ticket {
            id: self.id_for(owned),
            owned,
        }
    }

    /// The next task id, from the block of shard `owned` if this thread
    /// owns it.
    #[inline]
    fn id_for(&self, owned: Option<usize>) -> Id {
        if let Some(s) = owned {
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

    /// Lists a new task, which is not published yet, with the ticket this
    /// thread took for it. Returns false if the registry is closed.
    pub(crate) fn insert(&self, ptr: NonNull<Header>, ticket: Ticket) -> bool {
        if !self.tracked {
            // Not listed: the registry's reference is released by
            // `complete` all the same.
            return !self.closed.load(Ordering::Acquire);
        }
        // SAFETY: the caller holds a reference to the task.
        let header = unsafe { ptr.as_ref() };
        let owned = ticket.owned;
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
                unused = self.refill(shard);
            }
            // SAFETY: the chain is private to the owner, this thread.
            let head = shard.chain.with(|c| unsafe { (*c).0 });
            let (index, slot) = if head != NONE {
                let slot = shard.slots.get(head);
                let next = next_vacant(slot.load(Ordering::Relaxed));
                if next != NONE {
                    // The next spawn's slot, which another thread may have
                    // vacated: in cache by then.
                    prefetch(shard.slots.get(next));
                }
                // SAFETY: as above.
                shard.chain.with_mut(|c| unsafe { (*c).0 = next });
                (head, slot)
            } else {
                // The chain is empty, so the rest of the reserve is fresh.
                // SAFETY: the fresh range is private to the owner, this
                // thread.
                let index = shard.fresh.with_mut(|f| unsafe {
                    debug_assert!((*f).0 < (*f).1);
                    (*f).0 += 1;
                    (*f).0 - 1
                });
                (index, shard.slots.get(index))
            };
            // SAFETY: as for `registry_shard` above.
            header.registry_slot.with_mut(|f| unsafe { *f = index });
            slot.store(ptr.as_ptr(), Ordering::Release);
            shard.reserve_len.store(unused - 1, Ordering::Relaxed);
            return true;
        }
        let mut slab = shard.slab.lock();
        if slab.closed {
            return false;
        }
        let index = shard.take(&mut slab);
        shard
            .slots
            .get(index)
            .store(ptr.as_ptr(), Ordering::Release);
        // SAFETY: as for `registry_shard` above.
        header.registry_slot.with_mut(|f| unsafe { *f = index });
        true
    }

    /// Gives the owner of `shard` (this thread), whose reserve is empty,
    /// every slot in the shared chain as its chain, else `BATCH` fresh
    /// slots as its fresh range. Returns how many.
    #[cold]
    fn refill(&self, shard: &Shard) -> usize {
        let mut slab = shard.slab.lock();
        let n = if slab.free != NONE {
            let chain = (slab.free, slab.free_tail);
            let n = slab.free_len;
            slab.free = NONE;
            slab.free_tail = NONE;
            slab.free_len = 0;
            // SAFETY: the chain is private to the owner, this thread.
            shard.chain.with_mut(|c| unsafe { *c = chain });
            n
        } else {
            let first = slab.end;
            assert!(
                first < NONE - BATCH,
                "Registry: more than 2^32 - 1 live tasks in one shard"
            );
            shard.slots.grow_to(first);
            shard.slots.grow_to(first + BATCH - 1);
            slab.end += BATCH;
            // SAFETY: the fresh range is private to the owner, this thread.
            shard
                .fresh
                .with_mut(|f| unsafe { *f = (first, first + BATCH) });
            BATCH as usize
        };
        slab.taken += n;
        // Under the lock, as `len` reads `taken` and `reserve_len`.
        shard.reserve_len.store(n, Ordering::Relaxed);
        n
    }

    /// Unlists a task that is about to publish its completion, whose caller
    /// (the thread completing it) holds a reference of its own, or, on an
    /// owner thread, queues it to be unlisted. Says which references the
    /// caller releases once it is done with the task.
    ///
    /// Called before completion is published, so that whoever sees the task
    /// finished (its joiner) never sees it counted by [`len`](Self::len).
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> Unlisted {
        let index = slot_of(ptr);
        if !self.tracked || index == NONE {
            // Never listed (untracked, or spawned after `close`).
            return Unlisted::ReleaseBoth;
        }
        if let Some(own) = self.owned_shard() {
            let shard = &self.shards[own].0;
            let mut len = shard.dead_len.load(Ordering::Relaxed);
            if len == DEAD_BATCH {
                // Unlist the full batch first; this task waits for the next
                // one. The caller's reference keeps the task, and through
                // its scheduler the registry, alive meanwhile.
                self.flush_dead_of(own);
                len = 0;
            }
            // SAFETY: the dead buffer is private to the owner, this thread.
            shard
                .dead
                .with_mut(|dead| unsafe { (*dead)[len] = ptr.as_ptr() });
            shard.dead_len.store(len + 1, Ordering::Relaxed);
            // The flush will vacate its slot, which its spawner wrote, maybe
            // on another core: in cache by then.
            prefetch(self.shards[self.shard_of(ptr)].0.slots.get(index));
            return Unlisted::Kept;
        }
        let shard = &self.shards[self.shard_of(ptr)].0;
        let mut slab = shard.slab.lock();
        let slot = shard.slots.get(index);
        debug_assert_eq!(slot.load(Ordering::Relaxed), ptr.as_ptr());
        shard.give_back(&mut slab, index, index, 1);
        Unlisted::ReleaseBoth
    }

    /// Unlists the dead buffer of shard `own`, whose owner is this thread,
    /// then releases the references. Touches nothing of the registry after
    /// the first release: a released task may have held the last handle on
    /// its runtime.
    ///
    /// The slots are vacated without their shard's lock, each shard's
    /// linked into a chain; the lock is then taken once per shard, to hand
    /// another shard's chain back, and so that no reader that saw one of
    /// these tasks is still looking at it when its references go.
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
            let home = &self.shards[s].0;
            // The chain vacated so far: its head, its tail and its length.
            let (mut head, mut tail, mut n) = (NONE, NONE, 0);
            let mut i = 0;
            while i < remaining {
                // SAFETY: as above.
                let ptr = unsafe { NonNull::new_unchecked(pending[i]) };
                if self.shard_of(ptr) != s {
                    i += 1;
                    continue;
                }
                remaining -= 1;
                pending.swap(i, remaining);
                // Only listed tasks enter the dead buffer (see `remove`).
                let index = slot_of(ptr);
                debug_assert_ne!(index, NONE);
                let slot = home.slots.get(index);
                debug_assert_eq!(slot.load(Ordering::Relaxed), ptr.as_ptr());
                slot.store(vacant(head), Ordering::Relaxed);
                if n == 0 {
                    tail = index;
                }
                head = index;
                n += 1;
            }
            // Under the home shard's lock: `len` holds every shard's lock,
            // so it sees these tasks either held back here or unlisted
            // there, never both or neither. The lock also waits out any
            // reader that saw them listed, before their references go.
            let mut slab = home.slab.lock();
            if s == own {
                // Its own slots join the owner's chain, for its next spawns.
                let unused = shard.reserve_len.load(Ordering::Relaxed);
                // SAFETY: the chain is private to the owner, this thread.
                shard.chain.with_mut(|c| unsafe {
                    let (old, old_tail) = if (*c).0 == NONE { (NONE, tail) } else { *c };
                    home.slots.get(tail).store(vacant(old), Ordering::Relaxed);
                    *c = (head, old_tail);
                });
                shard
                    .reserve_len
                    .store(unused + n as usize, Ordering::Relaxed);
            } else {
                home.give_back(&mut slab, head, tail, n as usize);
            }
            shard.dead_len.store(remaining, Ordering::Relaxed);
            drop(slab);
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

    /// Number of listed tasks that have not finished. Never counts a task
    /// whose completion was seen (its `JoinHandle` returned), and never
    /// misses a task whose spawn returned and that has not begun to finish
    /// (a task leaves the count just before it publishes its completion);
    /// exact on a quiet runtime.
    ///
    /// Holds every shard's lock at once (in order; nothing else holds two),
    /// as a batch of completions moves from one shard's held-back count to
    /// another shard's free slots in one step under the latter's lock.
    pub fn len(&self) -> usize {
        let locked: Vec<_> = self.shards.iter().map(|s| s.0.slab.lock()).collect();
        let (mut listed, mut held) = (0usize, 0usize);
        for (s, slab) in self.shards.iter().zip(&locked) {
            let shard = &s.0;
            listed += slab
                .taken
                .saturating_sub(shard.reserve_len.load(Ordering::Relaxed));
            held += shard.dead_len.load(Ordering::Relaxed);
        }
        drop(locked);
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
            let shard = &shard.0;
            let slab = shard.slab.lock();
            shard.for_each(&slab, |ptr| {
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

/// What a spawn took from [`Registry::ticket`]: its task's id, and the
/// shard its thread owns. Used on that thread, for that spawn only.
#[derive(Clone, Copy)]
pub(crate) struct Ticket {
    pub(crate) id: Id,
    owned: Option<usize>,
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

/// Asks the CPU to bring `slot`'s cache line in, without waiting for it.
#[inline(always)]
fn prefetch(slot: &Slot) {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    // SAFETY: a prefetch has no effect on memory; the address is a live slot.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (slot as *const Slot).cast(),
        );
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    let _ = slot;
}

/// A task's slot in its shard, `NONE` if it was never listed.
fn slot_of(ptr: NonNull<Header>) -> u32 {
    // SAFETY: callers hold a reference to the task; the field is written
    // once, at spawn, before the task is published.
    unsafe { ptr.as_ref() }
        .registry_slot
        .with(|s| unsafe { *s })
}

/// The next registry tag (never 0, which stands for no runtime).
fn next_tag() -> u16 {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(1);
    loop {
        let tag = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if tag != 0 {
            return tag;
        }
    }
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Lists fake, even, non-null "header" addresses in slots `taken`;
    /// never dereferenced.
    fn list_fakes(shard: &Shard, taken: &[u32]) {
        for &i in taken {
            let fake = std::ptr::without_provenance_mut(8 * (i as usize + 1));
            shard.slots.get(i).store(fake, Ordering::Relaxed);
        }
    }

    /// How many slots of `shard` list a task.
    fn count_listed(shard: &Shard, slab: &Slab) -> u32 {
        let mut listed = 0;
        shard.for_each(slab, |_| listed += 1);
        listed
    }

    /// Slot indices map onto chunks that double: every index lands in a
    /// chunk that holds it, chunks are contiguous, and the last `u32`
    /// index still has a chunk.
    #[test]
    fn slot_indices_map_onto_doubling_chunks() {
        assert_eq!(Slots::locate(0), (0, 0));
        assert_eq!(Slots::locate(CHUNK as u32 - 1), (0, CHUNK - 1));
        assert_eq!(Slots::locate(CHUNK as u32), (1, 0));
        assert_eq!(Slots::locate(2 * CHUNK as u32 - 1), (1, CHUNK - 1));
        assert_eq!(Slots::locate(2 * CHUNK as u32), (2, 0));
        assert_eq!(Slots::locate(4 * CHUNK as u32 - 1), (2, 2 * CHUNK - 1));
        assert_eq!(Slots::locate(4 * CHUNK as u32), (3, 0));
        // `NONE - 1` is the last index `fresh` hands out.
        let (k, at) = Slots::locate(NONE - 1);
        assert!(k < MAX_CHUNKS, "the last index needs chunk {k}");
        assert_eq!(at, Slots::chunk_len(k) - 2);
        // Contiguous: the first slot of each chunk follows the last of the
        // one before.
        let mut first = 0u64;
        for k in 0..MAX_CHUNKS {
            assert_eq!(Slots::locate(first as u32), (k, 0));
            first += Slots::chunk_len(k) as u64;
        }
        assert_eq!(first, 1 << 32);
    }

    /// A registry's slots grow past several chunks and are all listed,
    /// vacated and reused through the locked path.
    #[test]
    fn a_shared_shard_lists_and_reuses_slots_across_chunks() {
        let shard = Shard::new();
        let n = 5 * CHUNK as u32;
        let mut slab = shard.slab.lock();
        let taken: Vec<u32> = (0..n).map(|_| shard.take(&mut slab)).collect();
        assert_eq!(taken, (0..n).collect::<Vec<_>>());
        list_fakes(&shard, &taken);
        assert_eq!(count_listed(&shard, &slab), n);
        // Give back the odd slots, the highest first.
        for &i in taken.iter().rev().step_by(2) {
            shard.give_back(&mut slab, i, i, 1);
        }
        assert_eq!(count_listed(&shard, &slab), n / 2);
        assert_eq!(slab.taken, (n / 2) as usize);
        // Vacated slots come back before fresh ones, the last given first.
        assert_eq!(shard.take(&mut slab), 1);
        assert_eq!(shard.take(&mut slab), 3);
        assert_eq!(slab.end, n);
    }

    /// A dropped shard's chunks are kept for the next one, zeroed: fresh
    /// slots handed out and not written yet (an owner's fresh range) list
    /// nothing, whichever registry used the memory before.
    #[test]
    fn kept_chunks_come_back_zeroed() {
        let n = 3 * CHUNK as u32 + 5;
        for round in 0..3 {
            let shard = Shard::new();
            let mut slab = shard.slab.lock();
            let taken: Vec<u32> = (0..n).map(|_| shard.fresh(&mut slab)).collect();
            let listed = count_listed(&shard, &slab);
            assert_eq!(listed, 0, "round {round}: a fresh slot lists a task");
            list_fakes(&shard, &taken);
            assert_eq!(count_listed(&shard, &slab), n);
        }
    }
}
