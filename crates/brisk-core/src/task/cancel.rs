//! The cancellation tree.
//!
//! Cancellation in Brisk is a state, not only a drop. Every place code runs
//! "inside" something cancellable has a [`Node`]: a task, a scope's body, a
//! scope's children, a `TaskGroup`, a `with_deadline` block. Nodes form a
//! tree that mirrors the structure of the program: a task spawned from a
//! task is a child of its spawner's current node, a scope's node is a child
//! of the node it was entered in, and so on. Cancelling a node marks it and
//! every descendant, and wakes the code running under each of them.
//!
//! What marked code sees, at its next *cancellation point* (a Brisk leaf
//! future being polled: `coop::poll_proceed`, which every leaf calls first,
//! and `wait::set`, which it calls before returning `Pending`):
//! - operations that return `io::Result` return an `io::Error` carrying
//!   [`Cancelled`], so the code can clean up with `?`;
//! - every other operation *unwinds*: it returns `Pending` and raises a flag
//!   that makes the nearest boundary (the task, a scope child,
//!   `with_deadline`) drop the future right there, exactly as if it had been
//!   aborted at that await; the boundary reports [`Cancelled`].
//!
//! `non_cancellable` installs a fresh node that nothing above can cancel.
//!
//! Costs: a task spawned under a node (from inside a task that has one or
//! whose `JoinHandle` is alive, or inside a scope or group) allocates its
//! own node (about 100 bytes) and links it into its parent's child list (a
//! short spin-locked section). Other tasks get a node only when it is first
//! needed: `JoinHandle::cancel`, an `AbortHandle`, or spawning while their
//! own `JoinHandle` is alive. Checking for cancellation is a thread-local
//! read and one atomic load per leaf poll.
//!
//! A task that finishes leaves the tree (so long chains of tasks spawning
//! tasks do not keep each other's nodes alive): tasks it left running are
//! no longer reached through it. Scopes and groups never leave children
//! running, so structured code keeps its whole tree.

use super::header::Header;
use crate::context;
use crate::loom::{AtomicPtr, AtomicU8, Ordering};
use crate::spin::SpinLock;
use std::fmt;
use std::ptr::NonNull;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

/// Why a piece of code was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelReason {
    /// Someone asked: `JoinHandle::cancel`, `Scope::cancel`,
    /// `TaskGroup::cancel`, or the cancellation of an enclosing task.
    Requested,
    /// The deadline set with `brisk::time::with_deadline` passed.
    DeadlineExceeded,
    /// A sibling in the same scope panicked or (in `try_scope`) returned an
    /// error.
    SiblingFailed,
}

impl CancelReason {
    fn to_u8(self) -> u8 {
        match self {
            CancelReason::Requested => 1,
            CancelReason::DeadlineExceeded => 2,
            CancelReason::SiblingFailed => 3,
        }
    }

    fn from_u8(v: u8) -> Option<CancelReason> {
        match v {
            1 => Some(CancelReason::Requested),
            2 => Some(CancelReason::DeadlineExceeded),
            3 => Some(CancelReason::SiblingFailed),
            _ => None,
        }
    }
}

/// The error of an operation stopped by cancellation.
///
/// Boundaries (`with_deadline`, scope child handles) return it directly;
/// I/O operations return an `io::Error` whose inner error is a `Cancelled`
/// (kind [`TimedOut`](std::io::ErrorKind::TimedOut) for a deadline,
/// [`Other`](std::io::ErrorKind::Other) otherwise), which
/// [`Cancelled::from_io`] recovers.
///
/// ```
/// use std::time::Duration;
/// use brisk::task::Cancelled;
///
/// # brisk::run(async {
/// let deadline = brisk::time::Instant::now() + Duration::from_millis(5);
/// let out = brisk::time::with_deadline(deadline, async {
///     brisk::time::sleep(Duration::from_secs(3600)).await;
/// })
/// .await;
/// let err: Cancelled = out.unwrap_err();
/// assert_eq!(err.reason(), brisk::task::CancelReason::DeadlineExceeded);
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cancelled {
    reason: CancelReason,
}

impl Cancelled {
    /// A `Cancelled` error for `reason`.
    pub fn new(reason: CancelReason) -> Cancelled {
        Cancelled { reason }
    }

    /// Why the code was cancelled.
    pub fn reason(&self) -> CancelReason {
        self.reason
    }

    /// The `Cancelled` inside an `io::Error` returned by a Brisk I/O
    /// operation in a cancelled context, if that is what `err` is.
    ///
    /// # Examples
    /// ```
    /// use brisk::task::{CancelReason, Cancelled};
    /// use std::time::Duration;
    ///
    /// # brisk::run(async {
    /// let socket = brisk::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let deadline = brisk::time::Instant::now() + Duration::from_millis(5);
    /// let mut buf = [0u8; 16];
    /// let received = brisk::time::with_deadline(deadline, socket.recv(&mut buf)).await;
    /// // I/O returns its error (it does not unwind): the caller sees why.
    /// let err = received.unwrap().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    /// let cause = Cancelled::from_io(&err).unwrap();
    /// assert_eq!(cause.reason(), CancelReason::DeadlineExceeded);
    /// # });
    /// ```
    pub fn from_io(err: &std::io::Error) -> Option<Cancelled> {
        err.get_ref()?.downcast_ref::<Cancelled>().copied()
    }

    /// True if `err` is an I/O error caused by cancellation.
    pub fn is_io(err: &std::io::Error) -> bool {
        Cancelled::from_io(err).is_some()
    }

    /// The `io::Error` Brisk I/O operations return when cancelled.
    pub fn into_io(self) -> std::io::Error {
        let kind = match self.reason {
            CancelReason::DeadlineExceeded => std::io::ErrorKind::TimedOut,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, self)
    }
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.reason {
            CancelReason::Requested => {
                "operation cancelled: the task, scope or group it runs in was cancelled \
                 (wrap cleanup that must finish in `brisk::task::non_cancellable`)"
            }
            CancelReason::DeadlineExceeded => {
                "operation cancelled: the deadline set by `brisk::time::with_deadline` passed"
            }
            CancelReason::SiblingFailed => {
                "operation cancelled: a sibling in the same scope panicked or returned an error"
            }
        })
    }
}

impl std::error::Error for Cancelled {}

impl From<Cancelled> for std::io::Error {
    fn from(c: Cancelled) -> std::io::Error {
        c.into_io()
    }
}

// ---- nodes ----------------------------------------------------------------

/// One node of the cancellation tree.
pub(crate) struct Node {
    /// 0 while live; a `CancelReason` code once cancelled (set once).
    reason: AtomicU8,
    inner: SpinLock<Inner>,
}

struct Inner {
    /// Child nodes; freed slots form a list through `Slot::Free`.
    slots: Vec<Slot>,
    free: u32,
    /// Wakes the code running under this node when it is cancelled.
    waker: Option<Waker>,
    /// The parent and our slot in it, while attached.
    parent: Option<(Arc<Node>, u32)>,
}

enum Slot {
    Node(Weak<Node>),
    Free(u32),
}

const NO_SLOT: u32 = u32::MAX;

impl Node {
    fn new(waker: Option<Waker>) -> Node {
        Node::with(0, waker, None)
    }

    fn with(reason: u8, waker: Option<Waker>, parent: Option<(Arc<Node>, u32)>) -> Node {
        Node {
            reason: AtomicU8::new(reason),
            inner: SpinLock::new(Inner {
                slots: Vec::new(),
                free: NO_SLOT,
                waker,
                parent,
            }),
        }
    }

    /// A node with no parent: nothing above can cancel it.
    pub(crate) fn root(waker: Option<Waker>) -> Arc<Node> {
        Arc::new(Node::new(waker))
    }

    /// A node under `parent`, cancelled from the start if `parent` is.
    pub(crate) fn child(parent: &Arc<Node>, waker: Option<Waker>) -> Arc<Node> {
        let mut p = parent.inner.lock();
        let slot = p.reserve();
        // Read under the parent's lock: a `cancel` of the parent either ran
        // before (we inherit its mark) or will find us in its list.
        let inherited = parent.reason.load(Ordering::Acquire);
        let node = Arc::new(Node::with(inherited, waker, Some((parent.clone(), slot))));
        p.slots[slot as usize] = Slot::Node(Arc::downgrade(&node));
        drop(p);
        node
    }

    /// Why this node was cancelled, if it was.
    #[inline]
    pub(crate) fn reason(&self) -> Option<CancelReason> {
        CancelReason::from_u8(self.reason.load(Ordering::Acquire))
    }

    /// Replaces the waker that cancellation fires, unless it would wake the
    /// same task.
    pub(crate) fn set_waker(&self, waker: &Waker) {
        let old = {
            let mut g = self.inner.lock();
            match &g.waker {
                Some(w) if w.will_wake(waker) => None,
                _ => g.waker.replace(waker.clone()),
            }
        };
        drop(old); // outside the lock: a waker's drop may run anything
    }

    /// True if the waker this node fires on cancellation is `task`'s.
    pub(crate) fn wakes(&self, task: NonNull<super::header::Header>) -> bool {
        let g = self.inner.lock();
        g.waker
            .as_ref()
            .is_some_and(|w| super::raw::header_of(w) == Some(task))
    }

    /// Takes the waker out (the owner finished), breaking the cycle a task's
    /// own node and its waker would otherwise form.
    pub(crate) fn clear_waker(&self) -> Option<Waker> {
        self.inner.lock().waker.take()
    }

    /// Leaves the parent's child list (the owner finished).
    pub(crate) fn detach(&self) {
        let parent = self.inner.lock().parent.take();
        if let Some((parent, slot)) = parent {
            parent.inner.lock().remove(slot);
        }
    }

    /// Marks this node and every descendant cancelled for `reason`, and wakes
    /// the code running under each newly marked node. Idempotent.
    pub(crate) fn cancel(self: &Arc<Node>, reason: CancelReason) {
        let mut stack = vec![self.clone()];
        let mut wakers = Vec::new();
        while let Some(node) = stack.pop() {
            if node
                .reason
                .compare_exchange(0, reason.to_u8(), Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                continue;
            }
            let g = node.inner.lock();
            if let Some(w) = &g.waker {
                wakers.push(w.clone());
            }
            for slot in &g.slots {
                if let Slot::Node(weak) = slot {
                    if let Some(child) = weak.upgrade() {
                        stack.push(child);
                    }
                }
            }
        }
        for w in wakers {
            w.wake();
        }
    }
}

impl Inner {
    /// Takes a slot for a child about to be stored there (holds an empty
    /// `Weak` meanwhile).
    fn reserve(&mut self) -> u32 {
        if self.free != NO_SLOT {
            let idx = self.free;
            let Slot::Free(next) = self.slots[idx as usize] else {
                unreachable!("the free list points at a used slot")
            };
            self.free = next;
            self.slots[idx as usize] = Slot::Node(Weak::new());
            idx
        } else {
            self.slots.push(Slot::Node(Weak::new()));
            (self.slots.len() - 1) as u32
        }
    }

    fn remove(&mut self, idx: u32) {
        if let Some(slot) = self.slots.get_mut(idx as usize) {
            if matches!(slot, Slot::Node(_)) {
                *slot = Slot::Free(self.free);
                self.free = idx;
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let parent = self.inner.lock().parent.take();
        if let Some((parent, slot)) = parent {
            parent.inner.lock().remove(slot);
        }
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("reason", &self.reason())
            .finish_non_exhaustive()
    }
}

// ---- a task's own node -------------------------------------------------------

/// The per-task word: null, or a pointer from `Arc::into_raw`.
///
/// Completion and a late `get_or_create` (a `JoinHandle::cancel` racing the
/// task's end) meet Dekker-style: completion publishes `COMPLETE` and then
/// loads this word; `get_or_create` publishes its node and then loads the
/// state; both with `SeqCst`, so at least one of them sees the other and
/// releases the node's waker (whichever does it first; the second finds
/// nothing to release).
pub(crate) struct TaskNode(AtomicPtr<Node>);

impl TaskNode {
    pub(crate) fn new(node: Option<Arc<Node>>) -> TaskNode {
        TaskNode(AtomicPtr::new(
            node.map_or(std::ptr::null_mut(), |n| Arc::into_raw(n) as *mut Node),
        ))
    }

    /// The node, if the task has one (borrowed from the header).
    #[inline]
    pub(crate) fn get(&self) -> Option<&Node> {
        let p = self.0.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Arc::into_raw` and is
        // released only when the header is dropped.
        unsafe { p.as_ref() }
    }

    /// A counted handle to the task's node, creating it if needed.
    pub(crate) fn get_or_create(&self, task: NonNull<Header>) -> Arc<Node> {
        let mut p = self.0.load(Ordering::Acquire);
        if p.is_null() {
            let node = Node::root(Some(task_waker(task)));
            let raw = Arc::into_raw(node) as *mut Node;
            match self
                .0
                .compare_exchange(p, raw, Ordering::SeqCst, Ordering::Acquire)
            {
                Ok(_) => {
                    p = raw;
                    // SAFETY: the caller holds a reference to the task.
                    if unsafe { task.as_ref() }.state.load_seqcst().is_complete() {
                        // The task finished meanwhile: release what
                        // completion may not have seen.
                        // SAFETY: just published; the header holds a count.
                        let node = unsafe { &*raw };
                        drop(node.clear_waker());
                        node.detach();
                    }
                }
                Err(actual) => {
                    // SAFETY: `raw` came from `Arc::into_raw` just above and
                    // was never published.
                    drop(unsafe { Arc::from_raw(raw) });
                    p = actual;
                }
            }
        }
        // SAFETY: as in `get`; the header holds one count, we add ours.
        unsafe {
            Arc::increment_strong_count(p);
            Arc::from_raw(p)
        }
    }

    /// The task finished (`COMPLETE` is published): an existing node forgets
    /// its waker and leaves its parent.
    pub(crate) fn close(&self) {
        let p = self.0.load(Ordering::SeqCst);
        // SAFETY: as in `get`.
        if let Some(node) = unsafe { p.as_ref() } {
            drop(node.clear_waker());
            node.detach();
        }
    }

    /// Installs the node of a task spawned under `parent`; called once,
    /// before the task is first scheduled.
    pub(crate) fn init_child(&self, task: NonNull<Header>, parent: &Arc<Node>) {
        let node = Node::child(parent, Some(task_waker(task)));
        let old = self
            .0
            .swap(Arc::into_raw(node) as *mut Node, Ordering::AcqRel);
        debug_assert!(old.is_null());
    }
}

impl Drop for TaskNode {
    /// Releases the header's count on the node (the header is being freed).
    fn drop(&mut self) {
        // `&mut self`: no other thread can reach the word; a plain load.
        let p = self.0.load(Ordering::Relaxed);
        if !p.is_null() {
            // SAFETY: the pointer came from `Arc::into_raw`; this is the
            // header's one count, released once.
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}

/// A counted waker for `task`.
fn task_waker(task: NonNull<Header>) -> Waker {
    // SAFETY: the caller holds a reference to the task (it is polling it or
    // owns a handle); the clone takes a reference of its own, which the
    // returned waker owns.
    unsafe {
        let borrowed = std::mem::ManuallyDrop::new(Waker::from_raw(super::raw::raw_waker(task)));
        (*borrowed).clone()
    }
}

// ---- the current node --------------------------------------------------------

/// The node code on this thread currently runs under: the innermost
/// boundary's, else the current task's (if it has one).
pub(crate) fn current_reason() -> Option<CancelReason> {
    let (node, task) = context::cancel_context();
    if let Some(node) = node {
        // SAFETY: the boundary that installed the pointer holds an `Arc` to
        // the node for as long as the pointer is installed.
        return unsafe { node.as_ref() }.reason();
    }
    let task = task?;
    // SAFETY: the current task is alive while it is being polled.
    unsafe { task.as_ref() }.cancel.get()?.reason()
}

/// The node a task, scope or group started here should hang under: the
/// innermost boundary's, else the current task's.
///
/// A task that nobody can cancel softly — it has no node yet and its
/// `JoinHandle` is gone (a detached task) — gets no node: what it starts
/// hangs nowhere, which is exactly as cancellable, and spares spawn-heavy
/// fire-and-forget code an allocation and a lock per spawn. Creating an
/// `AbortHandle` gives the task its node, so `AbortHandle::cancel` still
/// reaches everything started afterwards.
pub(crate) fn current_parent() -> Option<Arc<Node>> {
    let (node, task) = context::cancel_context();
    if let Some(node) = node {
        // SAFETY: as in `current_reason`; we add a count of our own.
        unsafe {
            Arc::increment_strong_count(node.as_ptr());
            return Some(Arc::from_raw(node.as_ptr()));
        }
    }
    let task = task?;
    // SAFETY: the current task is alive while it is being polled.
    let header = unsafe { task.as_ref() };
    if header.cancel.get().is_none() && !header.state.load().is_join_interested() {
        return None;
    }
    Some(header.cancel.get_or_create(task))
}

/// Called by a leaf future about to return `Pending`: if the code around it
/// is cancelled, raise the unwind flag (the nearest boundary drops the
/// future) and return true.
#[inline]
pub(crate) fn unwind_if_cancelled() -> bool {
    if current_reason().is_some() {
        context::set_unwind();
        true
    } else {
        false
    }
}

/// For I/O leaf futures: `Some(error)` when the code around them is
/// cancelled.
#[inline]
pub(crate) fn io_cancelled() -> Option<std::io::Error> {
    current_reason().map(|r| Cancelled::new(r).into_io())
}

/// Polls a wait (`f`) as an I/O cancellation point: where the wait would
/// unwind in cancelled code, this returns the `io::Error` instead.
pub(crate) fn poll_io<T>(f: impl FnOnce() -> Poll<T>) -> Poll<std::io::Result<T>> {
    let saved = context::take_unwind();
    let out = f();
    let raised = context::take_unwind();
    if saved {
        context::set_unwind();
    }
    match out {
        Poll::Ready(v) => Poll::Ready(Ok(v)),
        Poll::Pending if raised => Poll::Ready(Err(Cancelled::new(
            current_reason().unwrap_or(CancelReason::Requested),
        )
        .into_io())),
        Poll::Pending => Poll::Pending,
    }
}

/// Polls `f` with `node` as the current node: a cancellation boundary.
/// `Ready(Err)` means the code under `node` unwound at a cancellation point
/// and must be dropped by the caller now.
pub(crate) fn poll_boundary<R>(
    node: &Arc<Node>,
    cx: &mut Context<'_>,
    register_waker: bool,
    f: impl FnOnce(&mut Context<'_>) -> Poll<R>,
) -> Poll<Result<R, Cancelled>> {
    if register_waker {
        node.set_waker(cx.waker());
    }
    let guard = context::enter_node(NonNull::from(&**node));
    let out = f(cx);
    let (raised, shields) = guard.exit();
    match out {
        Poll::Ready(v) => Poll::Ready(Ok(v)),
        // A pending shielded block holds the unwind back: its cleanup must
        // not be dropped by the code around it.
        Poll::Pending if raised && shields == 0 => Poll::Ready(Err(Cancelled::new(
            node.reason().unwrap_or(CancelReason::Requested),
        ))),
        Poll::Pending => {
            context::add_shields(shields);
            Poll::Pending
        }
    }
}

// ---- public boundaries ---------------------------------------------------------

/// Runs `future` shielded from cancellation: inside it, Brisk operations
/// behave as if nothing was cancelled, and tasks or groups it starts hang
/// under a fresh node that nothing above can cancel. Use it for cleanup that
/// must finish (flushing a buffer, sending a goodbye, committing a log).
///
/// While the block is pending, the code around it is not unwound either
/// (it unwinds at its next cancellation point after the block finished), so
/// a cancelled sibling in the same `join!` or `select!` cannot drop the
/// cleanup half-way.
///
/// Only soft cancellation is shielded: `JoinHandle::abort`, a runtime
/// shutdown, or dropping the future still stop it, so pair long cleanup
/// with a timeout.
///
/// ```
/// use std::time::Duration;
/// # brisk::run(async {
/// let task = brisk::spawn(async {
///     let work = brisk::time::sleep(Duration::from_secs(3600));
///     work.await; // cancelled here: the task unwinds...
/// });
/// task.cancel();
/// assert!(task.await.unwrap_err().is_cancelled());
///
/// let flushed = brisk::spawn(async {
///     brisk::task::non_cancellable(async {
///         // ...but a shielded block runs to the end.
///         brisk::time::sleep(Duration::from_millis(5)).await;
///         "flushed"
///     })
///     .await
/// });
/// flushed.cancel();
/// assert_eq!(flushed.await.unwrap(), "flushed");
/// # });
/// ```
pub fn non_cancellable<F: std::future::Future>(future: F) -> NonCancellable<F> {
    NonCancellable { future, node: None }
}

pin_project_lite::pin_project! {
    /// The future of [`non_cancellable`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct NonCancellable<F> {
        #[pin]
        future: F,
        node: Option<Arc<Node>>,
    }
}

impl<F: std::future::Future> std::future::Future for NonCancellable<F> {
    type Output = F::Output;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let node = this.node.get_or_insert_with(|| Node::root(None));
        let future = this.future;
        match poll_boundary(node, cx, false, |cx| future.poll(cx)) {
            Poll::Ready(Ok(v)) => {
                if current_reason().is_some() {
                    // The code around was cancelled while the block ran and
                    // held its unwind back: let it reach its next
                    // cancellation point now.
                    cx.waker().wake_by_ref();
                }
                Poll::Ready(v)
            }
            // Nothing cancels a fresh root node, so nothing unwinds to it.
            Poll::Ready(Err(_)) => unreachable!("a non-cancellable block was cancelled"),
            Poll::Pending => {
                context::add_shields(1);
                Poll::Pending
            }
        }
    }
}

impl<F> fmt::Debug for NonCancellable<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonCancellable").finish_non_exhaustive()
    }
}

/// See `brisk::time::with_deadline`.
pub(crate) fn with_deadline_impl<F: std::future::Future>(
    deadline: crate::time::Instant,
    future: F,
) -> WithDeadline<F> {
    WithDeadline {
        future: Some(future),
        node: None,
        sleep: crate::time::sleep_until(deadline),
        expired: false,
    }
}

pin_project_lite::pin_project! {
    /// The future of `brisk::time::with_deadline`.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WithDeadline<F> {
        #[pin]
        future: Option<F>,
        node: Option<Arc<Node>>,
        #[pin]
        sleep: crate::time::Sleep,
        expired: bool,
    }
}

impl<F: std::future::Future> std::future::Future for WithDeadline<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let node = this.node.get_or_insert_with(|| match current_parent() {
            Some(parent) => Node::child(&parent, None),
            None => Node::root(None),
        });
        if !*this.expired {
            // The timer runs outside the node; a cancelled enclosing context
            // is seen by the future itself (its node is a descendant).
            let fired = {
                let saved = context::take_unwind();
                let fired = this.sleep.as_mut().poll(cx).is_ready();
                // The timer is ours, not a cancellation point of the caller.
                let _ = context::take_unwind();
                if saved {
                    context::set_unwind();
                }
                fired
            };
            if fired {
                *this.expired = true;
                node.cancel(CancelReason::DeadlineExceeded);
            }
        }
        let future = this
            .future
            .as_mut()
            .as_pin_mut()
            .expect("`with_deadline` was polled after it finished");
        let out = match poll_boundary(node, cx, true, |cx| future.poll(cx)) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(out) => out,
        };
        this.future.set(None);
        Poll::Ready(out)
    }
}

impl<F> fmt::Debug for WithDeadline<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithDeadline")
            .field("expired", &self.expired)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn cancel_marks_descendants_once_and_wakes_each() {
        let wakes = Arc::new(Count(AtomicUsize::new(0)));
        let w = Waker::from(wakes.clone());
        let root = Node::root(Some(w.clone()));
        let a = Node::child(&root, Some(w.clone()));
        let b = Node::child(&a, Some(w.clone()));
        let shield = Node::root(Some(w));
        root.cancel(CancelReason::DeadlineExceeded);
        root.cancel(CancelReason::Requested); // idempotent: the first reason stays
        assert_eq!(b.reason(), Some(CancelReason::DeadlineExceeded));
        assert_eq!(shield.reason(), None);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 3);
        // A child created under a cancelled node starts cancelled.
        let late = Node::child(&b, None);
        assert_eq!(late.reason(), Some(CancelReason::DeadlineExceeded));
    }

    #[test]
    fn dropped_children_free_their_slots_for_reuse() {
        let root = Node::root(None);
        for _ in 0..100 {
            let c = Node::child(&root, None);
            drop(c);
        }
        assert!(root.inner.lock().slots.len() <= 1);
        let keep: Vec<_> = (0..5).map(|_| Node::child(&root, None)).collect();
        keep[2].detach();
        drop(keep);
        assert!(root
            .inner
            .lock()
            .slots
            .iter()
            .all(|s| matches!(s, Slot::Free(_))));
    }

    #[test]
    fn cancelled_io_error_names_the_cause() {
        let e = Cancelled::new(CancelReason::DeadlineExceeded).into_io();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("with_deadline"), "{e}");
        assert_eq!(
            Cancelled::from_io(&e).map(|c| c.reason()),
            Some(CancelReason::DeadlineExceeded)
        );
        let e = Cancelled::new(CancelReason::Requested).into_io();
        assert_eq!(e.kind(), std::io::ErrorKind::Other);
        assert!(e.to_string().contains("non_cancellable"), "{e}");
        assert!(!Cancelled::is_io(&std::io::Error::other("x")));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::thread;

    /// A child attached while its parent is being cancelled ends up
    /// cancelled either way.
    #[test]
    fn loom_cancel_races_attach() {
        loom::model(|| {
            let parent = Node::root(None);
            let p2 = parent.clone();
            let t = thread::spawn(move || p2.cancel(CancelReason::Requested));
            let child = Node::child(&parent, None);
            t.join().unwrap();
            assert_eq!(child.reason(), Some(CancelReason::Requested));
            drop(child);
            assert!(parent
                .inner
                .lock()
                .slots
                .iter()
                .all(|s| matches!(s, Slot::Free(_))));
        });
    }

    /// A child dropped while its parent is cancelled leaves no stale slot.
    #[test]
    fn loom_cancel_races_detach() {
        loom::model(|| {
            let parent = Node::root(None);
            let child = Node::child(&parent, None);
            let p2 = parent.clone();
            let t = thread::spawn(move || p2.cancel(CancelReason::Requested));
            drop(child);
            t.join().unwrap();
            assert!(parent
                .inner
                .lock()
                .slots
                .iter()
                .all(|s| matches!(s, Slot::Free(_))));
        });
    }
}
