//! The task cell (header + stage in one allocation) and the harness that polls,
//! completes, cancels and frees it.
//!
//! All functions here take a `NonNull<Header>` that points at a live
//! `Cell<F>`; each `unsafe fn` lists what its caller must hold.

use super::header::{Counters, Header, Meta, Vtable};
use super::instrument;
use super::registry::Unlisted;
use super::state::{TransitionToIdle, TransitionToRunning};
use super::{console, trace, JoinError, Notified};
use crate::context;
use crate::loom::UnsafeCell;
use crate::runtime::ScheduleRef;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// What the cell holds after the header: the future (from spawn until it
/// finishes), then its output, until that is taken or dropped.
///
/// It is stored untagged (a [`StageSlot`]) with its tag in the header's
/// `stage_tag` byte, which sits in padding there: `async` blocks expose no
/// niche, so a tagged enum in the cell would cost every such task a whole
/// word. `Stage` is what [`set_stage`] writes over the running future.
pub(crate) enum Stage<F: Future> {
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// Tags of the stage, kept in `Header::stage_tag`.
pub(crate) const STAGE_RUNNING: u8 = 0;
const STAGE_FINISHED: u8 = 1;
const STAGE_CONSUMED: u8 = 2;

/// The stage in the cell; which field is live is the header's
/// `stage_tag` (`Consumed`: neither).
pub(crate) union StageSlot<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<Result<F::Output, JoinError>>,
}

/// One allocation per task.
#[repr(C)]
pub(crate) struct Cell<F: Future> {
    pub(crate) header: Header,
    pub(crate) stage: UnsafeCell<StageSlot<F>>,
}

/// What spawn was given, for diagnostics: the future's size, and whether
/// spawn boxed it. Only the type matters; never instantiated.
pub(crate) trait Spawned {
    const SIZE: usize;
    const BOXED: bool;
}

/// The future was stored in the cell as it was given.
pub(crate) struct Inline<F>(PhantomData<fn() -> F>);

impl<F> Spawned for Inline<F> {
    const SIZE: usize = std::mem::size_of::<F>();
    const BOXED: bool = false;
}

/// The future (`G`) was boxed first; the cell holds the box.
pub(crate) struct Boxed<G>(PhantomData<fn() -> G>);

impl<G> Spawned for Boxed<G> {
    const SIZE: usize = std::mem::size_of::<G>();
    const BOXED: bool = true;
}

/// The allocation of a task whose runtime's diagnostics are on: the
/// task's record, then the cell (see `instrument`). Task pointers point at
/// `cell`, exactly `instrument::PREFIX` bytes in.
#[repr(C)]
struct Instrumented<F: Future> {
    prefix: instrument::Prefix,
    cell: Cell<F>,
}

/// The vtable of a `Cell<F>` spawned as `S`.
struct Vtables<F, S>(PhantomData<fn() -> (F, S)>);

impl<F: Future, S: Spawned> Vtables<F, S> {
    const VTABLE: Vtable = Vtable {
        poll: poll::<F>,
        dealloc: dealloc::<F>,
        read_output: read_output::<F>,
        drop_stage: drop_stage::<F>,
        cancel_in_place: cancel_in_place::<F>,
        future_size: S::SIZE,
        future_boxed: S::BOXED,
    };
}

impl<F: Future> Cell<F> {
    /// Where the cell starts in an `Instrumented` allocation.
    const INSTRUMENTED_OFFSET: usize = std::mem::offset_of!(Instrumented<F>, cell);

    /// Allocates the cell (with the task's record in front of it when the
    /// runtime's diagnostics are on) and returns a pointer to its header;
    /// `S` says what spawn was given.
    pub(crate) fn allocate<S: Spawned>(
        future: F,
        sched: ScheduleRef,
        meta: Meta,
    ) -> NonNull<Header> {
        // The header's tag starts as `STAGE_RUNNING`.
        let mut header = Header::new(&Vtables::<F, S>::VTABLE, sched, meta);
        if header.instrumented && Self::INSTRUMENTED_OFFSET != instrument::PREFIX {
            // A cell aligned to more than `PREFIX` bytes cannot follow the
            // record at that distance: such a (rare) task is not
            // instrumented.
            header.instrumented = false;
        }
        let stage = UnsafeCell::new(StageSlot {
            future: ManuallyDrop::new(future),
        });
        if !header.instrumented {
            let cell = Box::new(Cell { header, stage });
            return NonNull::from(Box::leak(cell)).cast();
        }
        let d = header.sched.registry().diagnostics();
        let prefix = instrument::Prefix::new(d, d.now_ns());
        let raw = Box::into_raw(Box::new(Instrumented {
            prefix,
            cell: Cell { header, stage },
        }));
        // SAFETY: `raw` is a fresh, valid allocation; the field pointer
        // keeps the provenance of the whole allocation, which `dealloc` and
        // `instrument::record` use to reach the prefix.
        let cell = unsafe { std::ptr::addr_of_mut!((*raw).cell) };
        // SAFETY: derived from a non-null `Box` pointer.
        unsafe { NonNull::new_unchecked(cell) }.cast()
    }
}

impl<F: Future> Drop for Cell<F> {
    fn drop(&mut self) {
        let ptr = NonNull::from(&mut *self).cast::<Header>();
        // SAFETY: `&mut self`: nobody else can reach the cell, so we have
        // exclusive access to the stage, which is dropped exactly once here.
        unsafe { drop_live_stage::<F>(ptr) };
    }
}

/// # Safety
/// `ptr` points at a live `Cell<F>`.
unsafe fn stage<'a, F: Future>(ptr: NonNull<Header>) -> &'a UnsafeCell<StageSlot<F>> {
    // SAFETY: `Cell` is `repr(C)` with the header first, so the header pointer
    // is the cell pointer; the caller guarantees the cell is a live `Cell<F>`.
    unsafe { &ptr.cast::<Cell<F>>().as_ref().stage }
}

/// The live stage's tag.
///
/// # Safety
/// The caller has exclusive access to the stage (as for [`set_stage`]).
unsafe fn stage_tag(ptr: NonNull<Header>) -> u8 {
    // SAFETY: the tag is guarded like the stage, which the caller owns.
    unsafe { ptr.as_ref().stage_tag.with(|t| *t) }
}

/// # Safety
/// As for [`stage_tag`].
unsafe fn set_stage_tag(ptr: NonNull<Header>, tag: u8) {
    // SAFETY: as in `stage_tag`.
    unsafe { ptr.as_ref().stage_tag.with_mut(|t| *t = tag) }
}

/// Drops the live stage in place, leaving the tag as it is.
///
/// # Safety
/// `ptr` points at a live `Cell<F>`; the caller has exclusive access to the
/// stage and does not use or drop the dropped value again.
unsafe fn drop_live_stage<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the tag says which union field is live; the caller's
    // exclusive access covers both.
    unsafe {
        match stage_tag(ptr) {
            STAGE_RUNNING => stage::<F>(ptr).with_mut(|s| ManuallyDrop::drop(&mut (*s).future)),
            STAGE_FINISHED => stage::<F>(ptr).with_mut(|s| ManuallyDrop::drop(&mut (*s).output)),
            _ => {}
        }
    }
}

/// Writes `new` over a stage that was already dropped (or moved out).
///
/// # Safety
/// As for [`drop_live_stage`]; the old stage is no longer live.
unsafe fn write_stage<F: Future>(ptr: NonNull<Header>, new: Stage<F>) {
    // SAFETY: exclusive access per the caller; writing a union field never
    // drops the old contents.
    unsafe {
        let tag = match new {
            Stage::Finished(output) => {
                stage::<F>(ptr).with_mut(|s| (*s).output = ManuallyDrop::new(output));
                STAGE_FINISHED
            }
            Stage::Consumed => STAGE_CONSUMED,
        };
        set_stage_tag(ptr, tag);
    }
}

/// # Safety
/// The caller holds a `Notified` for this task (one reference plus the right to
/// claim `RUNNING`), which this call consumes.
unsafe fn poll<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the `Notified`'s reference keeps the cell alive.
    let header = unsafe { ptr.as_ref() };
    match header.state.transition_to_running() {
        TransitionToRunning::Success => {}
        TransitionToRunning::Cancelled => {
            // SAFETY: we hold RUNNING and the `Notified`'s reference.
            unsafe { cancel_in_place::<F>(ptr) };
            return;
        }
        TransitionToRunning::Failed => return,
        TransitionToRunning::Dealloc => {
            // SAFETY: the count reached zero; nobody else can reach the cell.
            unsafe { dealloc::<F>(ptr) };
            return;
        }
    }

    Counters::bump(&header.counters.polls);
    // SAFETY: the `Notified`'s reference keeps the cell alive.
    let record = unsafe { instrument::record(ptr) };
    let instrumented = record.map(|r| instrument::poll_started(header, r));
    // SAFETY: the reference held by the `Notified` outlives the waker borrow,
    // and `ManuallyDrop` keeps this non-owning waker from releasing a reference.
    let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(ptr)) });
    let mut cx = Context::from_waker(&waker);

    // The task context stays set while the future is dropped after `Ready`,
    // so its destructors see the same `task::id()` as its polls did.
    // Entering it clears the wait-point (after `instrument_start` read it).
    let mut task_guard = Some(context::enter_poll(ptr));
    let result = {
        // SAFETY: we hold RUNNING until after this block, where the guard ends.
        let _console = unsafe { console::enter_poll(header) };
        let trace = trace::poll_started(header);
        let result = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: holding RUNNING gives exclusive access to the stage. The
            // future is never moved: it stays in the heap cell until dropped.
            unsafe {
                assert!(
                    stage_tag(ptr) == STAGE_RUNNING,
                    "a task was polled after it finished"
                );
                stage::<F>(ptr).with_mut(|s| Pin::new_unchecked(&mut *(*s).future).poll(&mut cx))
            }
        }));
        trace::poll_finished(header, trace);
        result
    };

    // A leaf future found the task cancelled and asked to unwind: the
    // future is dropped at that await, as if aborted there.
    // Not ready: leave the task context now, reading the unwind flag in
    // the same step.
    // A task that woke itself (to yield) goes back to its queue as the
    // poll ends.
    let (mut unwound, mut self_woken) = (false, false);
    if !matches!(result, Ok(Poll::Ready(_))) {
        if let Some(left) = task_guard.take().map(context::TaskGuard::leave) {
            (unwound, self_woken) = (left.unwind, left.self_woken);
        }
    }
    if let (Some(start), Some(record)) = (instrumented, record) {
        // Only a task going idle without being requeued can lose its wakers.
        instrument_finish(
            ptr,
            record,
            start,
            matches!(result, Ok(Poll::Pending)) && !unwound && !self_woken,
        );
    }
    match result {
        Ok(Poll::Pending) if unwound => {
            // SAFETY: we hold RUNNING and the `Notified`'s reference.
            unsafe { cancel_in_place::<F>(ptr) };
        }
        Ok(Poll::Pending) => match header.state.transition_to_idle(self_woken) {
            TransitionToIdle::Ok => {}
            TransitionToIdle::OkNotified => {
                // The reference of the `Notified` we ran moves to the new one.
                header.sched.yield_now(Notified::from_raw(ptr));
            }
            TransitionToIdle::OkDealloc => {
                // SAFETY: the count reached zero.
                unsafe { dealloc::<F>(ptr) };
            }
            TransitionToIdle::Cancelled => {
                // SAFETY: we still hold RUNNING and the reference.
                unsafe { cancel_in_place::<F>(ptr) };
            }
        },
        Ok(Poll::Ready(output)) => {
            // SAFETY: RUNNING gives exclusive access to the stage.
            let dropped = unsafe { set_stage::<F>(ptr, Stage::Finished(Ok(output))) };
            if let Err(payload) = dropped {
                // The future's destructor panicked after it returned: report it.
                let err = JoinError::panic(&header.meta, payload);
                header.sched.task_panicked(super::TaskRef::new(ptr), &err);
                // SAFETY: as above.
                let _ = unsafe { set_stage::<F>(ptr, Stage::Finished(Err(err))) };
            }
            drop(task_guard.take());
            // SAFETY: we hold RUNNING and the `Notified`'s reference.
            unsafe { complete(ptr) };
        }
        Err(payload) => {
            let err = JoinError::panic(&header.meta, payload);
            header.sched.task_panicked(super::TaskRef::new(ptr), &err);
            // SAFETY: RUNNING gives exclusive access; a panicking destructor of
            // the future is swallowed, the first panic is the one reported.
            let _ = unsafe { set_stage::<F>(ptr, Stage::Finished(Err(err))) };
            // SAFETY: we hold RUNNING and the `Notified`'s reference.
            unsafe { complete(ptr) };
        }
    }
}

/// Per-poll instrumentation, after the poll: timing and hazard checks.
/// The caller holds RUNNING and a reference; `pending` means the task
/// returned `Pending` and will go idle (not unwinding for cancellation).
#[inline(never)]
fn instrument_finish(
    ptr: NonNull<Header>,
    record: &instrument::Record,
    start: instrument::PollStart,
    pending: bool,
) {
    instrument::poll_finished(ptr, record, start, pending);
}

/// Replaces the stage, dropping the old one **in place** inside
/// `catch_unwind`.
///
/// In place matters: the future is pinned in the cell, and a
/// self-referential future (one suspended while borrowing its own locals)
/// must be dropped where it lives. Moving it out first and dropping the
/// copy leaves its inner references pointing at the cell, which then holds
/// something else.
///
/// # Safety
/// The caller has exclusive access to the stage (holds RUNNING, or the task is
/// complete and the caller is the only party allowed to touch the output).
unsafe fn set_stage<F: Future>(
    ptr: NonNull<Header>,
    new: Stage<F>,
) -> Result<(), Box<dyn std::any::Any + Send>> {
    // SAFETY: exclusive access per the caller's contract; the old stage is
    // valid and is dropped exactly once, where it is. If its drop panics,
    // drop glue still drops its remaining fields while unwinding, so it
    // counts as dropped either way.
    let res = catch_unwind(AssertUnwindSafe(|| unsafe { drop_live_stage::<F>(ptr) }));
    // SAFETY: as above; the slot holds a dropped value, so it is overwritten
    // without dropping it again.
    unsafe { write_stage::<F>(ptr, new) };
    res
}

/// Drops the future and finishes the task as cancelled.
///
/// # Safety
/// The caller holds RUNNING and one reference (a `Notified` or an owned
/// `Task`), which is consumed.
unsafe fn cancel_in_place<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive.
    let header = unsafe { ptr.as_ref() };
    let err = {
        let _task = context::enter_task(ptr);
        // SAFETY: RUNNING gives exclusive access to the stage.
        match unsafe { set_stage::<F>(ptr, Stage::Consumed) } {
            Ok(()) => JoinError::cancelled(&header.meta),
            Err(payload) => JoinError::panic(&header.meta, payload),
        }
    };
    // SAFETY: as above.
    let _ = unsafe { set_stage::<F>(ptr, Stage::Finished(Err(err))) };
    // SAFETY: we hold RUNNING and a reference.
    unsafe { complete(ptr) };
}

/// Leaves the registry, publishes completion, wakes the joiner and releases
/// the caller's reference and the registry's.
///
/// # Safety
/// The caller holds RUNNING and one reference, and has written the final stage.
unsafe fn complete(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive.
    let header = unsafe { ptr.as_ref() };
    // SAFETY: we still hold RUNNING (published as COMPLETE just below).
    unsafe { console::close(header) };
    trace::completed(header);
    // Leave the registry before publishing completion, so that a joiner
    // never sees its finished task counted as alive. Ours and the
    // registry's references go at the end, or later with the batch the
    // registry unlists the task in.
    let unlisted = header.sched.registry().remove(ptr);
    let snapshot = header.state.transition_to_complete();
    // Leave the cancellation tree: the node's waker holds a reference and
    // must not outlive the task's run (see `TaskNode` for the race with a
    // late `JoinHandle::cancel`).
    header.cancel.close();
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !snapshot.is_join_interested() {
            // Nobody will read the output: drop it here, on the task's thread.
            // SAFETY: without join interest the output is ours alone.
            unsafe { (header.vtable.drop_stage)(ptr) };
        } else if snapshot.is_join_waker_set() {
            // SAFETY: JOIN_WAKER was set when COMPLETE was published, so the
            // handle no longer writes the slot; reading it is shared access.
            header.join_waker.with(|waker| unsafe {
                if let Some(waker) = &*waker {
                    waker.wake_by_ref();
                }
            });
        }
    }));
    let last = match unlisted {
        Unlisted::ReleaseBoth => header.state.ref_dec_twice(),
        Unlisted::Kept => false,
    };
    if last {
        // SAFETY: the count reached zero.
        unsafe { (header.vtable.dealloc)(ptr) };
    }
}

/// # Safety
/// The reference count is zero: the caller is the last party with access.
unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the caller is the last party with access; the header is alive.
    if unsafe { ptr.as_ref() }.instrumented {
        // SAFETY: `Cell::allocate` made this cell the `cell` field of a
        // `Box<Instrumented<F>>`, `PREFIX` bytes in, and handed out a pointer
        // with the provenance of the whole allocation; no reference remains.
        drop(unsafe {
            Box::from_raw(
                ptr.as_ptr()
                    .byte_sub(instrument::PREFIX)
                    .cast::<Instrumented<F>>(),
            )
        });
    } else {
        // SAFETY: the cell was allocated by `Cell::allocate` as a
        // `Box<Cell<F>>`, and no reference to it remains.
        drop(unsafe { Box::from_raw(ptr.cast::<Cell<F>>().as_ptr()) });
    }
}

/// # Safety
/// The task is complete, the caller is the `JoinHandle` (sole reader of the
/// output) and `dst` points at a `Poll<Result<F::Output, JoinError>>`.
unsafe fn read_output<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: per the contract above, the stage is final and ours to take:
    // the output is moved out and the tag marks it gone.
    let output = unsafe {
        if stage_tag(ptr) != STAGE_FINISHED {
            panic!("{}", crate::error::JOIN_HANDLE_POLLED_AFTER_COMPLETION);
        }
        set_stage_tag(ptr, STAGE_CONSUMED);
        stage::<F>(ptr).with_mut(|s| ManuallyDrop::take(&mut (*s).output))
    };
    // SAFETY: the caller passes a valid, initialised destination of this type.
    unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(output) };
}

/// # Safety
/// The caller has exclusive access to the stage.
unsafe fn drop_stage<F: Future>(ptr: NonNull<Header>) {
    /// Marks the stage consumed even if dropping it panics, so the cell's
    /// own drop never drops it a second time.
    struct MarkConsumed<F: Future>(NonNull<Header>, std::marker::PhantomData<F>);
    impl<F: Future> Drop for MarkConsumed<F> {
        fn drop(&mut self) {
            // SAFETY: the stage was just dropped in place; mark it gone
            // without dropping it again.
            unsafe { set_stage_tag(self.0, STAGE_CONSUMED) };
        }
    }
    let _mark = MarkConsumed::<F>(ptr, std::marker::PhantomData);
    // SAFETY: exclusive access per the caller's contract; dropped in place
    // (see `set_stage`).
    unsafe { drop_live_stage::<F>(ptr) };
}

// ---- wakers ---------------------------------------------------------------

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

pub(crate) fn raw_waker(ptr: NonNull<Header>) -> RawWaker {
    RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE)
}

/// Returns the task header if `waker` is a Brisk task waker.
pub(crate) fn header_of(waker: &Waker) -> Option<NonNull<Header>> {
    if std::ptr::eq(waker.vtable(), &WAKER_VTABLE) {
        NonNull::new(waker.data() as *mut Header)
    } else {
        None
    }
}

/// # Safety (all waker functions)
/// `ptr` is a header pointer whose reference is held by the waker being
/// cloned, woken or dropped (or borrowed for `wake_by_ref`).
unsafe fn header<'a>(ptr: *const ()) -> &'a Header {
    // SAFETY: per the contract above the header is alive.
    unsafe { &*(ptr as *const Header) }
}

unsafe fn waker_clone(ptr: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds (or borrows) a reference.
    let header = unsafe { header(ptr) };
    header.state.ref_inc();
    Counters::bump(&header.counters.waker_clones);
    console::waker_op(&header.meta, console::WAKER_CLONE);
    // SAFETY: the waker's reference keeps the cell alive during the call;
    // waker pointers carry the provenance of the whole allocation.
    if let Some(record) = unsafe { instrument::record(NonNull::new_unchecked(ptr as *mut Header)) }
    {
        record.waker_cloned();
    }
    RawWaker::new(ptr, &WAKER_VTABLE)
}

unsafe fn waker_wake(ptr: *const ()) {
    // SAFETY: this waker owns a reference.
    let header = unsafe { header(ptr) };
    // SAFETY: as in `waker_clone`.
    if let Some(record) = unsafe { instrument::record(NonNull::new_unchecked(ptr as *mut Header)) }
    {
        // Instrumented: publish the wake first, then count this waker gone,
        // then release its reference (the order lost-waker detection
        // relies on; see `instrument`).
        console::waker_op(&header.meta, console::WAKER_WAKE);
        trace::woken(header, false);
        // SAFETY: our own reference keeps the header alive for both calls.
        unsafe { wake_by_ref(ptr) };
        record.waker_gone();
        if header.state.ref_dec() {
            // SAFETY: the count reached zero; the pointer came from a header.
            unsafe { (header.vtable.dealloc)(NonNull::new_unchecked(ptr as *mut Header)) }
        }
        return;
    }
    Counters::bump(&header.counters.waker_wakes);
    console::waker_op(&header.meta, console::WAKER_WAKE);
    trace::woken(header, false);
    // SAFETY: the pointer is non-null: it came from a header.
    let nn = unsafe { NonNull::new_unchecked(ptr as *mut Header) };
    match header.state.transition_to_notified_by_val() {
        super::state::TransitionToNotified::DoNothing => {}
        super::state::TransitionToNotified::Submit => header.sched.schedule(Notified::from_raw(nn)),
        super::state::TransitionToNotified::Dealloc => {
            // SAFETY: the count reached zero.
            unsafe { (header.vtable.dealloc)(nn) }
        }
    }
}

/// `waker.wake_by_ref()` for a leaf future that wakes its own task to let
/// others run (`yield_now`, a spent budget). When `waker` is the waker of
/// the task being polled on this thread, the wake is folded into the end of
/// the poll: the task goes back to its queue with the state change that
/// ends the poll, saving an atomic operation. Counted, traced and reported
/// to the console as the `wake_by_ref` it stands for.
#[inline]
pub(crate) fn wake_by_ref_to_yield(waker: &Waker) {
    if let Some(ptr) = header_of(waker) {
        if context::defer_self_wake(ptr) {
            // SAFETY: the task is being polled on this thread, so its
            // `Notified` keeps the header alive.
            let header = unsafe { ptr.as_ref() };
            Counters::bump(&header.counters.waker_wakes);
            console::waker_op(&header.meta, console::WAKER_WAKE_BY_REF);
            trace::woken(header, true);
            return;
        }
    }
    waker.wake_by_ref();
}

unsafe fn waker_wake_by_ref(ptr: *const ()) {
    // SAFETY: the borrowed waker holds a reference for the duration of the call.
    let header = unsafe { header(ptr) };
    console::waker_op(&header.meta, console::WAKER_WAKE_BY_REF);
    trace::woken(header, true);
    // SAFETY: as above.
    unsafe { wake_by_ref(ptr) };
}

/// Counts a wake and schedules the task, keeping the caller's reference;
/// `wake_by_ref` itself and the instrumented `wake`.
///
/// # Safety
/// The caller holds (or borrows) a reference for the duration of the call.
unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: per the contract above.
    let header = unsafe { header(ptr) };
    Counters::bump(&header.counters.waker_wakes);
    if let super::state::TransitionToNotified::Submit = header.state.transition_to_notified_by_ref()
    {
        // SAFETY: the pointer is non-null: it came from a header.
        let nn = unsafe { NonNull::new_unchecked(ptr as *mut Header) };
        header.sched.schedule(Notified::from_raw(nn));
    }
}

unsafe fn waker_drop(ptr: *const ()) {
    // SAFETY: this waker owns a reference.
    let header = unsafe { header(ptr) };
    Counters::bump(&header.counters.waker_drops);
    console::waker_op(&header.meta, console::WAKER_DROP);
    // SAFETY: as in `waker_clone`.
    if let Some(record) = unsafe { instrument::record(NonNull::new_unchecked(ptr as *mut Header)) }
    {
        record.waker_gone();
    }
    if header.state.ref_dec() {
        // SAFETY: the count reached zero; the pointer came from a header.
        unsafe { (header.vtable.dealloc)(NonNull::new_unchecked(ptr as *mut Header)) }
    }
}
