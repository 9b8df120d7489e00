//! Scopes: structured concurrency with children that may borrow.
//!
//! [`scope`] runs a body that can start children with [`Scope::spawn`].
//! The scope returns only after the body and every child finished, so
//! children may borrow anything that outlives the `scope(..).await`:
//!
//! ```
//! # brisk::run(async {
//! let mut totals = vec![0u64; 4];
//! let slots = &mut totals; // the body is `async move`: borrow before it
//! brisk::scope(|s| async move {
//!     for (i, slot) in slots.iter_mut().enumerate() {
//!         s.spawn(async move {
//!             brisk::task::yield_now().await;
//!             *slot = (i as u64 + 1) * 10;
//!         });
//!     }
//! })
//! .await;
//! assert_eq!(totals, [10, 20, 30, 40]);
//! # });
//! ```
//!
//! The body is an `async move` block (it must own the `Scope` handle), so
//! take the references the children need *before* it, as `slots` above;
//! children are usually `async move` blocks too, moving those references in.
//!
//! # Concurrent, not parallel — and why
//!
//! A scope's children run **concurrently inside the task that awaits the
//! scope**: the scope future polls them, each with its own waker, so only
//! the children that were woken are polled. They never run in parallel with
//! each other or with the body. This is what makes borrowing sound: Rust
//! cannot stop a future from being leaked (`mem::forget`), and a leaked
//! scope whose children ran on other threads could let them use borrowed
//! data after it is gone. Children polled only through the scope future
//! simply stop when it stops.
//!
//! For **parallel** work use `'static` futures: a
//! [`TaskGroup`](crate::task::TaskGroup) spawns real tasks (on any worker)
//! with the same structured lifetime — they are cancelled when the group is
//! cancelled or dropped, and `TaskGroup::shutdown` waits for them.
//!
//! | started with | runs | may borrow from the caller |
//! |---|---|---|
//! | the scope's body, [`Scope::spawn`], [`TryScope::spawn`] | concurrently, inside the task that awaits the scope: one at a time, interleaved at their `.await`s, never in parallel | yes |
//! | [`TaskGroup::spawn`](crate::task::TaskGroup::spawn) (a group created in the body or a child) | in parallel, as tasks on any worker of the runtime; cancelled with the group, awaited by `join_next` / `shutdown` | no (`'static`) |
//! | `brisk::spawn` from the body or a child | in parallel, as a task; a child of the scope's node in the cancellation tree, so cancelling the scope reaches it | no (`'static`) |
//!
//! So on a multi-thread runtime, CPU-heavy children belong in a group (or
//! in `spawn_blocking`); scope children are for waiting on many things at
//! once while borrowing.
//!
//! # Failure and cancellation
//! - A child that **panics** cancels the body and its siblings (they see
//!   [`CancelReason::SiblingFailed`](crate::task::CancelReason)); once all
//!   of them finished, the scope panics with a message that names the child
//!   (its name from [`Scope::spawn_named`], else its spawn location) and
//!   repeats the original message.
//! - [`try_scope`]: the first child (or body) that returns `Err` cancels
//!   the others, and the scope returns that error after they finished.
//! - [`Scope::cancel`] cancels the children (not the body): their Brisk
//!   operations return `Cancelled` (see [`Cancelled`]).
//! - Cancelling the task around the scope cancels body and children; the
//!   scope still waits for them, so their cleanup (for example in
//!   [`non_cancellable`](crate::task::non_cancellable)) runs to the end.
//! - A panic in the **body** is held the same way: the children are
//!   cancelled, the scope waits for them, then the body's panic resumes
//!   unchanged.
//! - The scope joins the cancellation tree where it is first polled (the
//!   task awaiting it), not where `scope(..)` was called.
//! - Children show up in diagnostics as children of the scope's task: a
//!   dump (`brisk::diag::dump()`) lists each live child under the task that
//!   runs its scope, with its name, spawn location, cancellation and what
//!   it waits on ([`ScopeChildInfo`]); tasks they spawn are children of
//!   that task too. A scope driven directly by `block_on`, outside any
//!   task, is not listed.

pub(crate) mod diag;

pub use diag::ScopeChildInfo;

use crate::future::FutureSet;
use crate::spin::SpinLock;
use crate::task::cancel::{self, CancelReason, Cancelled, Node};
use crate::wait::{self, ResourceKind};
use diag::{ChildRecord, ScopeRecord};
use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Runs `body` with a [`Scope`] whose children may borrow from the caller;
/// returns the body's output once the body and every child finished.
///
/// The body and the children started with [`Scope::spawn`] run
/// **concurrently inside the task that awaits the scope**, never in
/// parallel: that is what lets them borrow soundly. For parallel children
/// use a [`TaskGroup`](crate::task::TaskGroup) (`'static` tasks with the same
/// structured lifetime). See the [module docs](self) for the full table of
/// what runs where, and how panics and cancellation travel.
///
/// # Panics
/// Re-raises the first panic of a child, naming the child.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let words = vec!["alpha".to_string(), "beta".to_string()];
/// let words = &words;
/// let total = brisk::scope(|s| async move {
///     let a = s.spawn(async move { words[0].len() });
///     let b = s.spawn(async move { words[1].len() });
///     a.await.unwrap() + b.await.unwrap()
/// })
/// .await;
/// assert_eq!(total, 9);
/// # });
/// ```
#[track_caller]
pub fn scope<'env, F, Fut>(body: F) -> ScopeFuture<'env, Fut, Infallible, Plain>
where
    F: FnOnce(Scope<'env>) -> Fut,
    Fut: Future + 'env,
{
    let shared = Shared::new(Location::caller());
    let body = body(Scope {
        shared: shared.clone(),
    });
    ScopeFuture::new(shared, body)
}

/// Like [`scope`], for fallible work: the body and the children return
/// `Result<_, E>`; the first `Err` cancels everyone else and is returned
/// once they finished.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let out: Result<(), String> = brisk::try_scope(|s| async move {
///     s.spawn(async { Err::<(), _>("disk full".to_string()) });
///     s.spawn(async {
///         // Cancelled by the sibling's error: the sleep unwinds.
///         brisk::time::sleep(std::time::Duration::from_secs(3600)).await;
///         Ok(())
///     });
///     Ok(())
/// })
/// .await;
/// assert_eq!(out.unwrap_err(), "disk full");
/// # });
/// ```
#[track_caller]
pub fn try_scope<'env, F, Fut, T, E>(body: F) -> ScopeFuture<'env, Fut, E, Fallible>
where
    F: FnOnce(TryScope<'env, E>) -> Fut,
    Fut: Future<Output = Result<T, E>> + 'env,
    E: Send + 'env,
{
    let shared = Shared::new(Location::caller());
    let body = body(TryScope {
        shared: shared.clone(),
    });
    ScopeFuture::new(shared, body)
}

type ChildFuture<'env, E> = Pin<Box<dyn Future<Output = ChildEnd<E>> + Send + 'env>>;

/// How a child ended, as the scope sees it.
enum ChildEnd<E> {
    Done,
    Cancelled,
    Failed(E),
    Panicked(Box<dyn Any + Send>, String),
}

/// State shared by the scope future and its `Scope` handles.
struct Shared<'env, E> {
    /// The body's node (cancelled when a child fails; cascades to the
    /// children's) and the children's node (cancelled by `Scope::cancel`).
    /// Created at the scope's first poll, under the code that awaits it.
    nodes: std::sync::OnceLock<Nodes>,
    /// Children spawned since the scope future last looked, and whether the
    /// scope finished (checked under the same lock, so no spawn slips in
    /// after the last look).
    pending: SpinLock<Pending<'env, E>>,
    /// The scope future's waker, to pick up children spawned from elsewhere.
    waker: SpinLock<Option<Waker>>,
    location: &'static Location<'static>,
    /// The live children, for diagnostics.
    record: Arc<ScopeRecord>,
}

struct Nodes {
    body: Arc<Node>,
    children: Arc<Node>,
}

struct Pending<'env, E> {
    children: Vec<ChildFuture<'env, E>>,
    closed: bool,
}

impl<'env, E> Shared<'env, E> {
    fn new(location: &'static Location<'static>) -> Arc<Self> {
        Arc::new(Shared {
            nodes: std::sync::OnceLock::new(),
            pending: SpinLock::new(Pending {
                children: Vec::new(),
                closed: false,
            }),
            waker: SpinLock::new(None),
            location,
            record: ScopeRecord::new(location),
        })
    }

    /// The scope's nodes, created under the current code on first use (the
    /// scope's first poll, unless a child is spawned before it).
    fn nodes(&self) -> &Nodes {
        self.nodes.get_or_init(|| {
            let body = match cancel::current_parent() {
                Some(parent) => Node::child(&parent, None),
                None => Node::root(None),
            };
            let children = Node::child(&body, None);
            Nodes { body, children }
        })
    }

    fn push(&self, child: ChildFuture<'env, E>, location: &'static Location<'static>) {
        {
            let mut pending = self.pending.lock();
            if !pending.closed {
                pending.children.push(child);
                drop(pending);
                let waker = self.waker.lock().clone();
                if let Some(w) = waker {
                    w.wake();
                }
                return;
            }
        }
        panic!(
            "{} (spawn at {location}, scope entered at {})",
            crate::error::SCOPE_SPAWN_AFTER_END,
            self.location
        );
    }

    /// Marks the scope finished if no child is pending; false otherwise.
    fn try_close(&self) -> bool {
        let mut pending = self.pending.lock();
        if pending.children.is_empty() {
            pending.closed = true;
            true
        } else {
            false
        }
    }
}

/// Drops the children that were spawned but never picked up when the scope
/// future is dropped: they may hold `Scope` clones, which would otherwise
/// keep each other alive.
struct DrainOnDrop<'env, E>(Arc<Shared<'env, E>>);

impl<E> Drop for DrainOnDrop<'_, E> {
    fn drop(&mut self) {
        let orphans = {
            let mut pending = self.0.pending.lock();
            pending.closed = true;
            std::mem::take(&mut pending.children)
        };
        drop(orphans);
    }
}

/// The handle a [`scope`] body gets: spawns children that may borrow
/// anything that outlives the scope. Cheap to clone; children may spawn
/// more children with a clone.
pub struct Scope<'env> {
    shared: Arc<Shared<'env, Infallible>>,
}

/// The handle a [`try_scope`] body gets: like [`Scope`], for children that
/// return `Result<T, E>`.
pub struct TryScope<'env, E> {
    shared: Arc<Shared<'env, E>>,
}

impl Clone for Scope<'_> {
    fn clone(&self) -> Self {
        Scope {
            shared: self.shared.clone(),
        }
    }
}

impl<E> Clone for TryScope<'_, E> {
    fn clone(&self) -> Self {
        TryScope {
            shared: self.shared.clone(),
        }
    }
}

impl fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("entered_at", &self.shared.location.to_string())
            .finish_non_exhaustive()
    }
}

impl<E> fmt::Debug for TryScope<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryScope")
            .field("entered_at", &self.shared.location.to_string())
            .finish_non_exhaustive()
    }
}

macro_rules! common_scope_api {
    () => {
        /// Cancels the children (not the body): their Brisk operations
        /// return `Cancelled`, and the scope still waits for them.
        ///
        /// # Examples
        /// ```
        /// use std::time::Duration;
        ///
        /// # brisk::run(async {
        /// let stopped = brisk::scope(|s| async move {
        ///     let poller = s.spawn(brisk::time::sleep(Duration::from_secs(3600)));
        ///     s.cancel(); // the body goes on; the children stop
        ///     assert!(s.is_cancelled());
        ///     poller.await.is_err()
        /// })
        /// .await;
        /// assert!(stopped);
        /// # });
        /// ```
        pub fn cancel(&self) {
            self.shared.nodes().children.cancel(CancelReason::Requested);
        }

        /// True once the children were cancelled (by [`cancel`](Self::cancel),
        /// a failing sibling, or the cancellation of the enclosing task).
        pub fn is_cancelled(&self) -> bool {
            self.shared.nodes().children.reason().is_some()
        }
    };
}

impl<'env> Scope<'env> {
    /// Starts `future` as a child of the scope. It runs concurrently with
    /// the body and the other children, in the scope's task (see the
    /// [module docs](self)); it may borrow anything that outlives the scope.
    ///
    /// The handle yields its output, or `Err(Cancelled)` if it was
    /// cancelled at a cancellation point. Dropping the handle does not stop
    /// the child.
    ///
    /// # Panics
    /// If the scope already finished (a clone of the `Scope` escaped it).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> ScopedJoinHandle<F::Output>
    where
        F: Future + Send + 'env,
        F::Output: Send + 'env,
    {
        self.spawn_inner(None, future)
    }

    /// Like [`spawn`](Self::spawn), with a name that a panic report and
    /// task dumps use.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let caught = brisk::spawn(async {
    ///     brisk::scope(|s| async move {
    ///         s.spawn_named("checkout", async { panic!("card declined") });
    ///     })
    ///     .await
    /// })
    /// .await
    /// .unwrap_err();
    /// let message = caught.panic_message().unwrap();
    /// assert!(message.contains("`checkout`") && message.contains("card declined"));
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn_named<F>(&self, name: &str, future: F) -> ScopedJoinHandle<F::Output>
    where
        F: Future + Send + 'env,
        F::Output: Send + 'env,
    {
        self.spawn_inner(Some(name), future)
    }

    #[track_caller]
    fn spawn_inner<F>(&self, name: Option<&str>, future: F) -> ScopedJoinHandle<F::Output>
    where
        F: Future + Send + 'env,
        F::Output: Send + 'env,
    {
        spawn_child(&self.shared, name, Location::caller(), future, Ok)
    }

    common_scope_api!();
}

impl<'env, E: Send + 'env> TryScope<'env, E> {
    /// Starts a fallible child: `Ok(v)` goes to the handle; `Err(e)` cancels
    /// the body and the other children, and the scope returns `e` (the
    /// handle then yields `Err(Cancelled)`).
    ///
    /// # Panics
    /// If the scope already finished (a clone of the `TryScope` escaped it).
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let sizes: Result<usize, std::num::ParseIntError> = brisk::try_scope(|s| async move {
    ///     let a = s.spawn(async { "12".parse::<usize>() });
    ///     let b = s.spawn(async { "30".parse::<usize>() });
    ///     Ok(a.await.unwrap() + b.await.unwrap())
    /// })
    /// .await;
    /// assert_eq!(sizes, Ok(42));
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&self, future: F) -> ScopedJoinHandle<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'env,
        T: Send + 'env,
    {
        self.spawn_inner(None, future)
    }

    /// Like [`spawn`](Self::spawn), with a name that a panic report and
    /// task dumps use.
    #[track_caller]
    pub fn spawn_named<F, T>(&self, name: &str, future: F) -> ScopedJoinHandle<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'env,
        T: Send + 'env,
    {
        self.spawn_inner(Some(name), future)
    }

    #[track_caller]
    fn spawn_inner<F, T>(&self, name: Option<&str>, future: F) -> ScopedJoinHandle<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'env,
        T: Send + 'env,
    {
        spawn_child(&self.shared, name, Location::caller(), future, |r| r)
    }

    common_scope_api!();
}

/// Queues one child: its boundary (own node, panic catching) and the code
/// that hands its output to the handle and its end to the scope. `split`
/// turns the child's output into what the handle gets or the scope's error.
fn spawn_child<'env, E, F, T>(
    shared: &Shared<'env, E>,
    name: Option<&str>,
    location: &'static Location<'static>,
    future: F,
    split: impl FnOnce(F::Output) -> Result<T, E> + Send + 'env,
) -> ScopedJoinHandle<T>
where
    E: Send + 'env,
    F: Future + Send + 'env,
    T: Send + 'env,
{
    let node = Node::child(&shared.nodes().children, None);
    let record = ChildRecord::new(name, location, node.clone());
    shared.record.add(&record);
    let slot = Arc::new(HandleSlot::default());
    let handle = ScopedJoinHandle {
        slot: slot.clone(),
        node: Some(node),
        id: record.id,
        location,
    };
    let child = ChildBoundary {
        future: Some(future),
        record,
    };
    shared.push(
        Box::pin(async move {
            match child.await {
                ChildOutcome::Output(out) => match split(out) {
                    Ok(v) => {
                        slot.set(Ok(v));
                        ChildEnd::Done
                    }
                    Err(e) => {
                        slot.set(Err(Cancelled::new(CancelReason::SiblingFailed)));
                        ChildEnd::Failed(e)
                    }
                },
                ChildOutcome::Cancelled(c) => {
                    slot.set(Err(c));
                    ChildEnd::Cancelled
                }
                ChildOutcome::Panicked(payload, label) => {
                    slot.set(Err(Cancelled::new(CancelReason::SiblingFailed)));
                    ChildEnd::Panicked(payload, label)
                }
            }
        }),
        location,
    );
    handle
}

pin_project_lite::pin_project! {
    /// Polls one child under its own node, catching panics; keeps the
    /// child's record (node, name, wait-point) for diagnostics.
    struct ChildBoundary<F> {
        #[pin]
        future: Option<F>,
        record: Arc<ChildRecord>,
    }
}

enum ChildOutcome<T> {
    Output(T),
    Cancelled(Cancelled),
    Panicked(Box<dyn Any + Send>, String),
}

impl<F: Future> Future for ChildBoundary<F> {
    type Output = ChildOutcome<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let fut = this
            .future
            .as_mut()
            .as_pin_mut()
            .expect("a scope child was polled after it finished");
        let task = this.record.start_poll();
        let out = cancel::poll_boundary(&this.record.node, cx, true, |cx| {
            match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
                Err(payload) => Poll::Ready(Err(payload)),
            }
        });
        let out = match out {
            Poll::Pending => {
                this.record.finish_pending_poll(task);
                return Poll::Pending;
            }
            Poll::Ready(out) => out,
        };
        // Drop the future before reporting, so its destructors run while
        // the scope still waits.
        let dropped = catch_unwind(AssertUnwindSafe(|| this.future.set(None)));
        Poll::Ready(match (out, dropped) {
            (Ok(Ok(v)), Ok(())) => ChildOutcome::Output(v),
            (Ok(Err(payload)), _) | (_, Err(payload)) => {
                ChildOutcome::Panicked(payload, this.record.label())
            }
            (Err(c), Ok(())) => ChildOutcome::Cancelled(c),
        })
    }
}

// ---- handles -----------------------------------------------------------------

struct HandleState<T> {
    value: Option<Result<T, Cancelled>>,
    done: bool,
    waker: Option<Waker>,
}

struct HandleSlot<T> {
    state: SpinLock<HandleState<T>>,
}

impl<T> HandleSlot<T> {
    fn set(&self, value: Result<T, Cancelled>) {
        let waker = {
            let mut g = self.state.lock();
            g.value = Some(value);
            g.done = true;
            g.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Default for HandleSlot<T> {
    fn default() -> Self {
        HandleSlot {
            state: SpinLock::new(HandleState {
                value: None,
                done: false,
                waker: None,
            }),
        }
    }
}

/// Awaits a scope child's output: `Ok(output)`, or `Err(Cancelled)` if the
/// child was cancelled (or, in a `try_scope`, failed or panicked — the
/// scope reports those).
///
/// Awaiting it is a cancellation point. Dropping it leaves the child
/// running.
pub struct ScopedJoinHandle<T> {
    slot: Arc<HandleSlot<T>>,
    node: Option<Arc<Node>>,
    /// The child's resource id and spawn location, for wait-points.
    id: u64,
    location: &'static Location<'static>,
}

impl<T> ScopedJoinHandle<T> {
    /// Cancels this child only; its handle then yields `Err(Cancelled)`
    /// (unless it finished first).
    ///
    /// # Examples
    /// ```
    /// use brisk::task::CancelReason;
    /// use std::time::Duration;
    ///
    /// # brisk::run(async {
    /// brisk::scope(|s| async move {
    ///     let slow = s.spawn(brisk::time::sleep(Duration::from_secs(3600)));
    ///     let quick = s.spawn(async { 7 });
    ///     slow.cancel();
    ///     assert_eq!(slow.await.unwrap_err().reason(), CancelReason::Requested);
    ///     assert_eq!(quick.await, Ok(7)); // the sibling is untouched
    /// })
    /// .await;
    /// # });
    /// ```
    pub fn cancel(&self) {
        if let Some(node) = &self.node {
            node.cancel(CancelReason::Requested);
        }
    }

    /// True once the child finished.
    pub fn is_finished(&self) -> bool {
        self.slot.state.lock().done
    }
}

impl<T> Unpin for ScopedJoinHandle<T> {}

impl<T> Future for ScopedJoinHandle<T> {
    type Output = Result<T, Cancelled>;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(crate::coop::poll_proceed(cx));
        let mut g = self.slot.state.lock();
        if let Some(v) = g.value.take() {
            return Poll::Ready(v);
        }
        if g.done {
            panic!("{}", crate::error::SCOPED_HANDLE_POLLED_AFTER_COMPLETION);
        }
        let old = match &g.waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => g.waker.replace(cx.waker().clone()),
        };
        drop(g);
        // Outside the lock: a waker's drop may run anything.
        drop(old);
        // Where the handle is awaited; where the child was spawned when
        // Brisk's own code polls the handle for the caller (`join_all`,
        // `race`, ...), as for a task's `JoinHandle`.
        let caller = Location::caller();
        let location = if wait::is_core_location(caller) {
            self.location
        } else {
            caller
        };
        wait::set(ResourceKind::Scope, self.id, location);
        Poll::Pending
    }
}

impl<T> fmt::Debug for ScopedJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedJoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

// ---- the scope future ---------------------------------------------------------

/// The body output of [`scope`]: anything.
#[doc(hidden)]
#[derive(Debug)]
pub enum Plain {}

/// The body output of [`try_scope`]: a `Result`.
#[doc(hidden)]
#[derive(Debug)]
pub enum Fallible {}

/// How a body's output becomes the scope's output (`T` for [`scope`],
/// `Result<T, E>` for [`try_scope`]).
#[doc(hidden)]
pub trait IntoScopeResult<E, M> {
    type Ok;
    type Output;
    fn split(self) -> Result<Self::Ok, E>;
    fn succeed(ok: Self::Ok) -> Self::Output;
    fn fail(error: E) -> Self::Output;
}

impl<T> IntoScopeResult<Infallible, Plain> for T {
    type Ok = T;
    type Output = T;
    fn split(self) -> Result<T, Infallible> {
        Ok(self)
    }
    fn succeed(ok: T) -> T {
        ok
    }
    fn fail(error: Infallible) -> T {
        match error {}
    }
}

impl<T, E> IntoScopeResult<E, Fallible> for Result<T, E> {
    type Ok = T;
    type Output = Result<T, E>;
    fn split(self) -> Result<T, E> {
        self
    }
    fn succeed(ok: T) -> Result<T, E> {
        Ok(ok)
    }
    fn fail(error: E) -> Result<T, E> {
        Err(error)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`scope`] and [`try_scope`].
    #[must_use = "a scope does nothing unless you `.await` it"]
    pub struct ScopeFuture<'env, Fut, E, M>
    where
        Fut: Future,
        Fut::Output: IntoScopeResult<E, M>,
    {
        #[pin]
        body: Option<Fut>,
        body_out: Option<<Fut::Output as IntoScopeResult<E, M>>::Ok>,
        body_done: bool,
        children: FutureSet<'env, ChildEnd<E>>,
        shared: Arc<Shared<'env, E>>,
        first_error: Option<E>,
        first_panic: Option<(Box<dyn Any + Send>, String)>,
        body_panic: Option<Box<dyn Any + Send>>,
        // Whether the scope was listed with its task's registry (diagnostics).
        listed: bool,
        _drain: DrainOnDrop<'env, E>,
        _marker: PhantomData<fn() -> M>,
    }
}

impl<'env, Fut, E, M> ScopeFuture<'env, Fut, E, M>
where
    Fut: Future,
    Fut::Output: IntoScopeResult<E, M>,
{
    fn new(shared: Arc<Shared<'env, E>>, body: Fut) -> Self {
        ScopeFuture {
            body: Some(body),
            body_out: None,
            body_done: false,
            children: FutureSet::new(),
            _drain: DrainOnDrop(shared.clone()),
            shared,
            first_error: None,
            first_panic: None,
            body_panic: None,
            listed: false,
            _marker: PhantomData,
        }
    }
}

impl<'env, Fut, E, M> Future for ScopeFuture<'env, Fut, E, M>
where
    Fut: Future,
    E: 'env,
    Fut::Output: IntoScopeResult<E, M>,
{
    type Output = <Fut::Output as IntoScopeResult<E, M>>::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let nodes = this.shared.nodes();
        this.shared.record.poll_in_task(this.listed);
        {
            let old = {
                let mut w = this.shared.waker.lock();
                match &*w {
                    Some(old) if old.will_wake(cx.waker()) => None,
                    _ => w.replace(cx.waker().clone()),
                }
            };
            drop(old); // outside the lock: a waker's drop may run anything
        }
        let mut rounds = 0;
        loop {
            // The body, under its own node. A panic in it is held until the
            // children, cancelled, have finished.
            if !*this.body_done {
                let body = this
                    .body
                    .as_mut()
                    .as_pin_mut()
                    .expect("the scope body is present until it finishes");
                let polled = catch_unwind(AssertUnwindSafe(|| {
                    cancel::poll_boundary(&nodes.body, cx, true, |cx| body.poll(cx))
                }));
                match polled {
                    Ok(Poll::Pending) => {}
                    Ok(Poll::Ready(out)) => {
                        *this.body_done = true;
                        this.body.set(None);
                        if let Ok(v) = out {
                            match v.split() {
                                Ok(v) => *this.body_out = Some(v),
                                Err(e) => {
                                    if this.first_error.is_none() && this.first_panic.is_none() {
                                        *this.first_error = Some(e);
                                    }
                                    nodes.body.cancel(CancelReason::SiblingFailed);
                                }
                            }
                        }
                    }
                    Err(payload) => {
                        *this.body_done = true;
                        let body = &mut this.body;
                        let _ = catch_unwind(AssertUnwindSafe(|| body.set(None)));
                        *this.body_panic = Some(payload);
                        nodes.body.cancel(CancelReason::SiblingFailed);
                    }
                }
            }
            // Children spawned since the last look.
            let spawned = std::mem::take(&mut this.shared.pending.lock().children);
            for child in spawned {
                this.children.push_boxed(child);
            }
            // Children that finished.
            while let Poll::Ready(Some((_, end))) = this.children.poll_next(cx) {
                match end {
                    ChildEnd::Done | ChildEnd::Cancelled => {}
                    ChildEnd::Failed(e) => {
                        if this.first_error.is_none() && this.first_panic.is_none() {
                            *this.first_error = Some(e);
                        }
                        nodes.body.cancel(CancelReason::SiblingFailed);
                    }
                    ChildEnd::Panicked(payload, label) => {
                        if this.first_panic.is_none() {
                            *this.first_panic = Some((payload, label));
                        }
                        nodes.body.cancel(CancelReason::SiblingFailed);
                    }
                }
            }
            // Children spawned by children in this round: poll them now,
            // a bounded number of rounds per poll.
            if this.shared.pending.lock().children.is_empty() {
                break;
            }
            rounds += 1;
            if rounds == 32 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        if !*this.body_done || !this.children.is_empty() || !this.shared.try_close() {
            if *this.body_done && this.children.is_empty() {
                // A spawn raced the last look: go round again.
                cx.waker().wake_by_ref();
            }
            wait::record(
                ResourceKind::Scope,
                this.shared.record.id,
                this.shared.location,
            );
            return Poll::Pending;
        }
        if let Some(payload) = this.body_panic.take() {
            resume_unwind(payload);
        }
        if let Some((payload, label)) = this.first_panic.take() {
            let message = panic_message(&*payload);
            resume_unwind(Box::new(format!("scope child {label} panicked: {message}")));
        }
        if let Some(e) = this.first_error.take() {
            return Poll::Ready(<Fut::Output as IntoScopeResult<E, M>>::fail(e));
        }
        match this.body_out.take() {
            Some(v) => Poll::Ready(<Fut::Output as IntoScopeResult<E, M>>::succeed(v)),
            None => {
                // The body unwound because the code around the scope was
                // cancelled: keep unwinding to the enclosing boundary.
                crate::context::set_unwind();
                Poll::Pending
            }
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}
