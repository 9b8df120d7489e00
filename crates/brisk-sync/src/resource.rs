//! Every primitive is a resource: an id, a kind, and (for lock-like ones) a
//! table of holders that is allocated the first time something acquires it.

use crate::loom::{AtomicPtr, Ordering};
use brisk_core::wait::{self, HolderSnapshot, Holders, ResourceKind};
use std::panic::Location;
use std::sync::Arc;

/// Identity of a primitive in wait-points and dumps.
pub(crate) struct Resource {
    id: u64,
    kind: ResourceKind,
    /// `Arc<Holders>` turned into a raw pointer; null until first needed,
    /// then fixed until drop.
    holders: AtomicPtr<Holders>,
}

impl Resource {
    pub(crate) fn new(kind: ResourceKind) -> Resource {
        Resource {
            id: wait::next_resource_id(),
            kind,
            holders: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Records, in the current task, that it waits on this resource at
    /// `location`.
    #[inline]
    pub(crate) fn wait_here(&self, location: &'static Location<'static>) {
        wait::set(self.kind, self.id, location);
    }

    /// The holder table, allocated on first use.
    #[inline]
    pub(crate) fn holders(&self) -> &Holders {
        let p = self.holders.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: a non-null pointer came from `Arc::into_raw` in
            // `holders_slow` and is released only in `drop`, which cannot
            // run while `&self` is borrowed.
            return unsafe { &*p };
        }
        self.holders_slow()
    }

    #[cold]
    fn holders_slow(&self) -> &Holders {
        let fresh = Arc::into_raw(Arc::new(Holders::new())) as *mut Holders;
        let p = match self.holders.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(existing) => {
                // SAFETY: `fresh` came from `Arc::into_raw` just above and was
                // never shared.
                drop(unsafe { Arc::from_raw(fresh) });
                existing
            }
        };
        // SAFETY: as in `holders`.
        unsafe { &*p }
    }

    /// Lists this resource in the directory of contended resources, so a
    /// dump can name its holders. Called on the slow path, when a task is
    /// about to wait; cheap after the first call.
    pub(crate) fn publish(&self) {
        self.holders();
        let p = self.holders.load(Ordering::Acquire);
        // SAFETY: `holders()` made the pointer non-null; it came from
        // `Arc::into_raw` and the resource still owns that count, so
        // borrowing it as an `Arc` without dropping is sound.
        let arc = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(p) });
        wait::publish(self.kind, self.id, &arc);
    }

    /// The current holders (empty if nothing ever acquired the resource).
    pub(crate) fn snapshot(&self) -> HolderSnapshot {
        let p = self.holders.load(Ordering::Acquire);
        if p.is_null() {
            return HolderSnapshot::default();
        }
        // SAFETY: as in `holders`.
        unsafe { &*p }.snapshot()
    }
}

impl Drop for Resource {
    fn drop(&mut self) {
        let p = self.holders.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: the pointer came from `Arc::into_raw`; `&mut self` means
            // nobody borrows it any more, and this gives the count back once.
            let arc = unsafe { Arc::from_raw(p) };
            wait::unpublish(self.id, &arc);
        }
    }
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} #{}", self.kind.as_str(), self.id)
    }
}
