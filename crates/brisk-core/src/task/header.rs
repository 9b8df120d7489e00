//! The task header: the type-erased front of every task allocation.

use super::cancel::TaskNode;
use super::instrument::TaskDiag;
use super::state::State;
use super::{Id, TaskKind};
use crate::loom::{AtomicPtr, AtomicU32, AtomicU64, Ordering, UnsafeCell};
use crate::runtime::Schedule;
use crate::traced::Site;
use crate::wait::{ResourceKind, WaitPoint};
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::Waker;

/// Functions that know the concrete future type behind a header.
pub(crate) struct Vtable {
    /// Polls the task (the caller holds a `Notified`).
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Frees the cell; called when the reference count reaches zero.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Moves a finished output into `dst` (a `*mut Poll<Result<T, JoinError>>`).
    pub(crate) read_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops whatever the stage holds (future or output). Caller owns the stage.
    pub(crate) drop_stage: unsafe fn(NonNull<Header>),
    /// Drops the future and completes the task as cancelled. Caller holds `RUNNING`
    /// and one reference, which this consumes.
    pub(crate) cancel_in_place: unsafe fn(NonNull<Header>),
}

/// Per-task counters read by diagnostics. Writers use relaxed load+store (not
/// read-modify-write) to stay off the hot path's critical section; two threads
/// waking the same task at the same instant may lose a count.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) polls: AtomicU32,
    pub(crate) waker_clones: AtomicU32,
    pub(crate) waker_wakes: AtomicU32,
    pub(crate) waker_drops: AtomicU32,
}

impl Counters {
    #[inline]
    pub(crate) fn bump(counter: &AtomicU32) {
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }
}

/// Metadata fixed at spawn, packed to four words (plus the task's console
/// span with the `tokio-console` feature).
pub(crate) struct Meta {
    /// The id in the low 56 bits, the `TaskKind` in the top byte.
    id_kind: u64,
    /// The parent's id, or 0 for none.
    parent: u64,
    /// The name, behind a thin pointer (named tasks pay one more allocation,
    /// unnamed ones pay one word).
    #[allow(clippy::box_collection)] // the point: one word instead of two
    name: Option<Box<String>>,
    /// Where the task was spawned.
    pub(crate) location: &'static Location<'static>,
    /// The task's `runtime.spawn` span for tokio-console.
    #[cfg(feature = "tokio-console")]
    pub(crate) console: super::console::TaskSpan,
}

const KIND_SHIFT: u32 = 56;

impl Meta {
    pub(crate) fn new(
        id: Id,
        parent: Option<Id>,
        name: Option<&str>,
        location: &'static Location<'static>,
        kind: TaskKind,
    ) -> Meta {
        #[cfg(feature = "tokio-console")]
        let console = super::console::TaskSpan::new(id, name, location, kind);
        let kind = match kind {
            TaskKind::Task => 0u64,
            TaskKind::Local => 1,
            TaskKind::Blocking => 2,
        };
        Meta {
            id_kind: (id.0 & ((1 << KIND_SHIFT) - 1)) | (kind << KIND_SHIFT),
            parent: parent.map_or(0, |p| p.0),
            name: name.map(|n| Box::new(n.to_owned())),
            location,
            #[cfg(feature = "tokio-console")]
            console,
        }
    }

    #[inline]
    pub(crate) fn id(&self) -> Id {
        Id(self.id_kind & ((1 << KIND_SHIFT) - 1))
    }

    pub(crate) fn kind(&self) -> TaskKind {
        match self.id_kind >> KIND_SHIFT {
            0 => TaskKind::Task,
            1 => TaskKind::Local,
            _ => TaskKind::Blocking,
        }
    }

    pub(crate) fn parent(&self) -> Option<Id> {
        (self.parent != 0).then_some(Id(self.parent))
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref().map(String::as_str)
    }
}

/// What the task is pending on: a resource word (kind in the top byte, id in
/// the rest) and the `#[track_caller]` location of the wait. Written only by
/// the task itself while it runs; read by diagnostics from any thread.
pub(crate) struct WaitCell {
    resource: AtomicU64,
    location: AtomicPtr<Location<'static>>,
}

impl WaitCell {
    fn new() -> WaitCell {
        WaitCell {
            resource: AtomicU64::new(0),
            location: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    #[inline]
    pub(crate) fn set(&self, kind: ResourceKind, id: u64, location: &'static Location<'static>) {
        let word = ((kind as u64) << 56) | (id & ((1 << 56) - 1));
        self.resource.store(word, Ordering::Relaxed);
        // Under `#[brisk::traced]` frames the pointer is an interned `Site`
        // (location + await chain), tagged with the low bit; both types are
        // at least 2-aligned, so the bit is free.
        let ptr = match crate::traced::site(location) {
            None => location as *const Location<'static> as *mut Location<'static>,
            Some(site) => (site as *const Site)
                .map_addr(|a| a | SITE_TAG)
                .cast::<Location<'static>>()
                .cast_mut(),
        };
        self.location.store(ptr, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn clear(&self) {
        self.resource.store(0, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> Option<WaitPoint> {
        let word = self.resource.load(Ordering::Relaxed);
        let kind = ResourceKind::from_u8((word >> 56) as u8)?;
        let ptr = self.location.load(Ordering::Relaxed);
        let (location, chain) = if ptr.addr() & SITE_TAG != 0 {
            // SAFETY: tagged pointers are stored from interned `&'static Site`s
            // in `set`, which are never freed.
            let site = unsafe { &*ptr.map_addr(|a| a & !SITE_TAG).cast::<Site>() };
            (site.location, site.chain)
        } else {
            // SAFETY: the pointer was stored from a `&'static Location` in
            // `set` and is never freed; null means none was ever stored.
            (unsafe { ptr.as_ref() }?, &[][..])
        };
        Some(WaitPoint {
            kind,
            resource: word & ((1 << 56) - 1),
            location,
            chain,
        })
    }
}

/// Marks a wait-cell pointer as a `traced::Site` rather than a `Location`.
const SITE_TAG: usize = 1;
const _: () = assert!(std::mem::align_of::<Location<'static>>() > SITE_TAG);
const _: () = assert!(std::mem::align_of::<Site>() > SITE_TAG);

/// The first field of every task cell (`#[repr(C)]`, so a pointer to the cell
/// is a pointer to its header).
#[repr(C)]
pub(crate) struct Header {
    /// Lifecycle bits and reference count.
    pub(crate) state: State,
    /// Type-specific operations.
    pub(crate) vtable: &'static Vtable,
    /// Where wakes go: the runtime's scheduler, a worker's local scheduler, or
    /// the blocking pool.
    pub(crate) sched: Arc<dyn Schedule>,
    /// Id, parent, name, spawn location, kind.
    pub(crate) meta: Meta,
    /// The current wait-point.
    pub(crate) wait: WaitCell,
    /// Poll and waker counters.
    pub(crate) counters: Counters,
    /// This task's slot in its registry shard (`u32::MAX`: not listed);
    /// guarded by that shard's lock.
    pub(crate) registry_slot: UnsafeCell<u32>,
    /// The `JoinHandle`'s waker; see the ground rules in `state.rs`.
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// The task's node in the cancellation tree, if it has one.
    pub(crate) cancel: TaskNode,
    /// Timing and waker accounting, only when the runtime's diagnostics are
    /// on (`None`: one null word, one branch per poll).
    pub(crate) diag: Option<Box<TaskDiag>>,
}

impl Header {
    pub(crate) fn new(vtable: &'static Vtable, sched: Arc<dyn Schedule>, meta: Meta) -> Header {
        let diagnostics = sched.registry().diagnostics();
        let diag = diagnostics.instrumented().then(TaskDiag::marker);
        Header {
            state: State::new(),
            vtable,
            sched,
            meta,
            wait: WaitCell::new(),
            counters: Counters::default(),
            registry_slot: UnsafeCell::new(u32::MAX),
            join_waker: UnsafeCell::new(None),
            cancel: TaskNode::new(None),
            diag,
        }
    }
}

// The `tokio-console` feature adds the task's span to the header by design.
#[cfg(all(
    test,
    not(loom),
    not(feature = "tokio-console"),
    target_pointer_width = "64"
))]
mod tests {
    /// The header was 128 bytes; diagnostics may add one word (their
    /// optional side structure), no more.
    #[test]
    fn the_header_stays_within_128_bytes_plus_one_word() {
        assert!(
            std::mem::size_of::<super::Header>() <= 136,
            "{}",
            std::mem::size_of::<super::Header>()
        );
    }
}
