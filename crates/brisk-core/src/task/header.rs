//! The task header: the type-erased front of every task allocation.

use super::cancel::TaskNode;
use super::state::State;
use super::{Id, TaskKind};
use crate::loom::{AtomicPtr, AtomicU32, AtomicU64, Ordering, UnsafeCell};
use crate::runtime::ScheduleRef;
use crate::traced::Site;
use crate::wait::{ResourceKind, WaitPoint};
use std::panic::Location;
use std::ptr::NonNull;
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
    /// `size_of` of the future given to spawn (before any boxing).
    pub(crate) future_size: usize,
    /// Whether spawn moved that future into a box of its own (it was larger
    /// than `BOX_FUTURE_THRESHOLD`).
    pub(crate) future_boxed: bool,
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

/// Metadata fixed at spawn, packed to three words (plus the task's console
/// span with the `tokio-console` feature).
pub(crate) struct Meta {
    /// The id in the low 56 bits, the `TaskKind` in the top byte.
    id_kind: u64,
    /// Where the task was spawned.
    pub(crate) location: &'static Location<'static>,
    /// The parent's id and the name, in one word (see [`ParentName`]).
    parent_name: ParentName,
    /// The task's `runtime.spawn` span for tokio-console.
    #[cfg(feature = "tokio-console")]
    pub(crate) console: super::console::TaskSpan,
}

const KIND_SHIFT: u32 = 56;
const ID_MASK: u64 = (1 << KIND_SHIFT) - 1;

/// The rarely read part of the metadata, allocated at spawn for named tasks
/// only (unnamed tasks keep their parent inline in [`ParentName`]).
struct Cold {
    name: Option<Box<str>>,
    /// The parent's id, or 0 for none.
    parent: u64,
}

/// The parent's id and the name in one word, immutable after spawn:
/// - null: no parent, no name;
/// - odd address: no name, the parent's id is `addr >> 1` (a tagged
///   integer with no provenance, never dereferenced);
/// - even, non-null: a pointer from `Box::into_raw` to a [`Cold`] block
///   holding both (owned by this word, freed with it).
///
/// Unnamed tasks, spawned from a task or not, therefore cost one word and
/// no allocation of their own for these two fields. (A parent id too large
/// for the inline form, possible only where `usize` is 32 bits, goes to the
/// cold block too.)
struct ParentName(*mut Cold);

const _: () = assert!(std::mem::align_of::<Cold>() >= 2);

impl ParentName {
    fn new(parent: Option<Id>, name: Option<&str>) -> ParentName {
        let parent = parent.map_or(0, |p| p.0 & ID_MASK);
        let inline = parent < (1u64 << (usize::BITS - 1));
        match name {
            None if parent == 0 => ParentName(std::ptr::null_mut()),
            None if inline => ParentName(std::ptr::without_provenance_mut(
                ((parent << 1) | 1) as usize,
            )),
            _ => ParentName(Box::into_raw(Box::new(Cold {
                name: name.map(Box::from),
                parent,
            }))),
        }
    }

    #[inline]
    fn cold(&self) -> Option<&Cold> {
        if self.0.addr() & 1 == 1 {
            return None;
        }
        // SAFETY: an even address is null or a pointer from `Box::into_raw`
        // (see `new`), freed only when `self` drops.
        unsafe { self.0.as_ref() }
    }

    fn parent(&self) -> u64 {
        if self.0.addr() & 1 == 1 {
            (self.0.addr() >> 1) as u64
        } else {
            self.cold().map_or(0, |c| c.parent)
        }
    }

    fn name(&self) -> Option<&str> {
        self.cold()?.name.as_deref()
    }
}

impl Drop for ParentName {
    fn drop(&mut self) {
        if self.0.addr() & 1 == 0 && !self.0.is_null() {
            // SAFETY: as in `cold`; this is the word's one owner, dropped once.
            drop(unsafe { Box::from_raw(self.0) });
        }
    }
}

// SAFETY: the word is immutable after spawn and the `Cold` block it may own
// holds only `Send + Sync` data (a string and an integer).
unsafe impl Send for ParentName {}
// SAFETY: see `Send`; shared access only reads.
unsafe impl Sync for ParentName {}

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
            id_kind: (id.0 & ID_MASK) | (kind << KIND_SHIFT),
            location,
            parent_name: ParentName::new(parent, name),
            #[cfg(feature = "tokio-console")]
            console,
        }
    }

    #[inline]
    pub(crate) fn id(&self) -> Id {
        Id(self.id_kind & ID_MASK)
    }

    pub(crate) fn kind(&self) -> TaskKind {
        match self.id_kind >> KIND_SHIFT {
            0 => TaskKind::Task,
            1 => TaskKind::Local,
            _ => TaskKind::Blocking,
        }
    }

    pub(crate) fn parent(&self) -> Option<Id> {
        let parent = self.parent_name.parent();
        (parent != 0).then_some(Id(parent))
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.parent_name.name()
    }
}

/// The bit of a wait-cell word that marks the wait as past (see
/// [`WaitCell`]); kinds fit in the top byte's low seven bits.
const STALE: u64 = 1 << 63;

/// What the task is pending on: a resource word (kind in the top byte, id in
/// the rest) and the `#[track_caller]` location of the wait. Written only by
/// the task itself while it runs; read by diagnostics from any thread.
///
/// A poll does not erase the wait it resumes from: it marks it stale
/// ([`STALE`] in the word), so the task waits on nothing while it runs
/// ([`get`](Self::get)), yet a report about a poll stuck now can still say
/// where the task came from ([`last`](Self::last)).
pub(crate) struct WaitCell {
    resource: AtomicU64,
    location: AtomicPtr<Location<'static>>,
}

impl WaitCell {
    pub(crate) fn new() -> WaitCell {
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

    /// No current wait: the last one is kept, marked stale.
    #[inline]
    pub(crate) fn clear(&self) {
        let word = self.resource.load(Ordering::Relaxed);
        if word != 0 && word & STALE == 0 {
            self.resource.store(word | STALE, Ordering::Relaxed);
        }
    }

    /// Copies `other`'s wait-point (a scope child keeps what it waits on
    /// out of its task's cell). Same tearing rules as `set`: a reader may
    /// pair the new resource with the old location for an instant.
    #[inline]
    pub(crate) fn copy_from(&self, other: &WaitCell) {
        let word = other.resource.load(Ordering::Relaxed);
        if word != 0 {
            self.location
                .store(other.location.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.resource.store(word, Ordering::Relaxed);
    }

    /// The recorded wait-point as stored (`None` if none), for
    /// [`restore`](Self::restore) after a later record in the same poll.
    #[inline]
    pub(crate) fn save(&self) -> Option<(u64, *mut Location<'static>)> {
        let word = self.resource.load(Ordering::Relaxed);
        (word != 0 && word & STALE == 0).then(|| (word, self.location.load(Ordering::Relaxed)))
    }

    /// Puts back what [`save`](Self::save) returned.
    #[inline]
    pub(crate) fn restore(&self, (word, location): (u64, *mut Location<'static>)) {
        self.location.store(location, Ordering::Relaxed);
        self.resource.store(word, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> Option<WaitPoint> {
        self.read(0)
    }

    /// The last recorded wait-point, current or stale (the one a running
    /// poll resumed from).
    pub(crate) fn last(&self) -> Option<WaitPoint> {
        self.read(STALE)
    }

    /// The wait-point, with the bits of `ignore` cleared from the word
    /// first (a stale word's kind is no kind).
    fn read(&self, ignore: u64) -> Option<WaitPoint> {
        let word = self.resource.load(Ordering::Relaxed) & !ignore;
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
    /// the blocking pool (one word: see [`ScheduleRef`]).
    pub(crate) sched: ScheduleRef,
    /// Id, kind, spawn location, parent and name.
    pub(crate) meta: Meta,
    /// This task's slot in its registry shard (`u32::MAX`: not listed);
    /// written once at spawn, before the task is published, then only
    /// read. It, the four 32-bit counters, the stage tag, the
    /// diagnostics flag and the shard pack into three words.
    pub(crate) registry_slot: UnsafeCell<u32>,
    /// Poll and waker counters.
    pub(crate) counters: Counters,
    /// Which part of the cell's stage is live (future, output or neither;
    /// see `raw::Stage`), guarded like the stage itself. In what would
    /// otherwise be padding.
    pub(crate) stage_tag: UnsafeCell<u8>,
    /// Whether the cell carries a diagnostics record in front of it (the
    /// runtime's diagnostics were on at spawn; see `instrument`). Fixed at
    /// spawn; one branch per poll. Also in what would otherwise be padding.
    pub(crate) instrumented: bool,
    /// The registry shard the task is listed in; written once at spawn,
    /// before the task is published. In the last two bytes that would
    /// otherwise be padding (slot, counters, tag, flag and shard fill
    /// three words).
    pub(crate) registry_shard: UnsafeCell<u16>,
    /// The `JoinHandle`'s waker; see the ground rules in `state.rs`.
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// The task's node in the cancellation tree, if it has one.
    pub(crate) cancel: TaskNode,
    /// The current wait-point.
    pub(crate) wait: WaitCell,
}

impl Header {
    pub(crate) fn new(vtable: &'static Vtable, sched: ScheduleRef, meta: Meta) -> Header {
        let diagnostics = sched.registry().diagnostics();
        let instrumented = diagnostics.instrumented();
        Header {
            state: State::new(),
            vtable,
            sched,
            meta,
            registry_slot: UnsafeCell::new(u32::MAX),
            registry_shard: UnsafeCell::new(0),
            counters: Counters::default(),
            stage_tag: UnsafeCell::new(super::raw::STAGE_RUNNING),
            join_waker: UnsafeCell::new(None),
            cancel: TaskNode::new(None),
            instrumented,
            wait: WaitCell::new(),
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
    /// Fourteen words: state, vtable, scheduler, id+kind, location,
    /// parent+name, registry slot, four counters, the stage tag and the
    /// diagnostics flag (three words), join waker (two), cancellation node,
    /// wait-point (two).
    #[test]
    fn the_header_stays_within_112_bytes() {
        assert!(
            std::mem::size_of::<super::Header>() <= 112,
            "{}",
            std::mem::size_of::<super::Header>()
        );
    }

    /// The parent and the name survive the packing into one word, in all
    /// four combinations, and only named tasks own a cold block.
    #[test]
    fn parent_and_name_share_one_word() {
        use super::{Id, ParentName};
        let none = ParentName::new(None, None);
        assert!(none.0.is_null());
        assert_eq!((none.parent(), none.name()), (0, None));

        let parent = ParentName::new(Some(Id((1 << 56) - 1)), None);
        assert_eq!(
            parent.0.addr() & 1,
            1,
            "unnamed tasks keep the parent inline"
        );
        assert_eq!((parent.parent(), parent.name()), ((1 << 56) - 1, None));

        let named = ParentName::new(None, Some("checkout"));
        assert_eq!((named.parent(), named.name()), (0, Some("checkout")));

        let both = ParentName::new(Some(Id(7)), Some(""));
        assert_eq!((both.parent(), both.name()), (7, Some("")));
    }
}
