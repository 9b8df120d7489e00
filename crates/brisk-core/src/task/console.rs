//! The tokio-console schema (feature `tokio-console`): every task is a
//! `runtime.spawn` span and every waker operation a `runtime::waker` event,
//! as console-subscriber expects, so the unmodified `tokio-console` lists
//! Brisk tasks with their names, spawn locations, polls and wakers.
//!
//! - The span (target `tokio::task`, name `runtime.spawn`, `parent: None`)
//!   carries `kind` (`"task"`, `"local"` or `"blocking"`), `task.name` (for
//!   named tasks), `task.id` (the Brisk id) and `loc.file`/`loc.line`/
//!   `loc.col` (the spawn location). It is created at spawn, entered around
//!   every poll, and closed when the task completes.
//! - Waker events (target `runtime::waker`) carry `op` (`waker.clone`,
//!   `waker.wake`, `waker.wake_by_ref` or `waker.drop`) and `task.id` = the
//!   span's id, which is how console-subscriber finds the task.
//!
//! Without a subscriber that wants these callsites, spawning costs one
//! check of tracing's level filter and interest cache, and polls and waker
//! operations one branch on the stored span id (zero: no span). Without the
//! feature this module compiles to nothing and the task cell does not grow.

#[cfg(feature = "tokio-console")]
mod imp {
    use crate::task::header::{Header, Meta};
    use crate::task::{Id, TaskKind};
    use std::cell::UnsafeCell;
    use std::panic::Location;
    use tracing::Span;

    /// A task's span and its id, stored in the task's metadata.
    ///
    /// Ground rules: `id` is written once before the task is published and
    /// only read afterwards (from any thread, by waker events). `span` is
    /// touched only by the party that holds the task's `RUNNING` bit (to
    /// enter it around a poll, and to take and close it at completion) or
    /// by the cell's destructor.
    pub(crate) struct TaskSpan {
        id: u64,
        span: UnsafeCell<Option<Span>>,
    }

    impl TaskSpan {
        pub(crate) fn new(
            id: Id,
            name: Option<&str>,
            location: &'static Location<'static>,
            kind: TaskKind,
        ) -> TaskSpan {
            let span = tracing::trace_span!(
                target: "tokio::task",
                parent: None,
                "runtime.spawn",
                kind = kind.as_str(),
                task.name = name,
                task.id = id.as_u64(),
                loc.file = location.file(),
                loc.line = location.line(),
                loc.col = location.column(),
            );
            let id = span.id().map_or(0, |id| id.into_u64());
            TaskSpan {
                id,
                span: UnsafeCell::new((id != 0).then_some(span)),
            }
        }
    }

    /// Entered around one poll; exits the span when dropped.
    pub(crate) struct PollSpan<'a> {
        _entered: Option<tracing::span::Entered<'a>>,
    }

    /// Enters the task's span for one poll.
    ///
    /// # Safety
    /// The caller holds the task's `RUNNING` bit and drops the guard before
    /// giving it up (before the task can complete on another thread).
    #[inline]
    pub(crate) unsafe fn enter_poll(header: &Header) -> PollSpan<'_> {
        let console = &header.meta.console;
        if console.id == 0 {
            return PollSpan { _entered: None };
        }
        // SAFETY: RUNNING gives this thread exclusive access to the span
        // slot, and the guard ends before RUNNING is released.
        let span = unsafe { (*console.span.get()).as_ref() };
        PollSpan {
            _entered: span.map(Span::enter),
        }
    }

    /// Closes the task's span: the task completed.
    ///
    /// # Safety
    /// The caller holds the task's `RUNNING` bit.
    #[inline]
    pub(crate) unsafe fn close(header: &Header) {
        let console = &header.meta.console;
        if console.id != 0 {
            // SAFETY: RUNNING gives this thread exclusive access to the slot.
            drop(unsafe { (*console.span.get()).take() });
        }
    }

    /// Emits a waker event for the task's span.
    #[inline]
    pub(crate) fn waker_op(meta: &Meta, op: &'static str) {
        let id = meta.console.id;
        if id != 0 {
            tracing::trace!(target: "runtime::waker", op = op, task.id = id);
        }
    }
}

#[cfg(not(feature = "tokio-console"))]
mod imp {
    use crate::task::header::{Header, Meta};

    /// Nothing without the feature.
    pub(crate) struct PollSpan;

    /// # Safety
    /// None; the signature matches the feature's.
    #[inline(always)]
    pub(crate) unsafe fn enter_poll(_: &Header) -> PollSpan {
        PollSpan
    }

    /// # Safety
    /// None; the signature matches the feature's.
    #[inline(always)]
    pub(crate) unsafe fn close(_: &Header) {}

    #[inline(always)]
    pub(crate) fn waker_op(_: &Meta, _: &'static str) {}
}

pub(crate) use imp::*;

/// The `op` values console-subscriber reads.
pub(crate) const WAKER_CLONE: &str = "waker.clone";
pub(crate) const WAKER_WAKE: &str = "waker.wake";
pub(crate) const WAKER_WAKE_BY_REF: &str = "waker.wake_by_ref";
pub(crate) const WAKER_DROP: &str = "waker.drop";
