//! `TaskGroup`: parallel `'static` children with a structured lifetime.

use super::cancel::{self, CancelReason, Node};
use super::{AbortHandle, Builder, JoinError, JoinHandle};
use crate::future::FutureSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// A set of `'static` tasks that run in parallel (on any worker) and share
/// one lifetime: cancelling the group, dropping it, or cancelling the task
/// that created it cancels all of them.
///
/// Where a [`scope`](crate::scope::scope) runs borrowing children concurrently
/// inside one task, a group runs independent tasks in parallel. Their
/// results come back in completion order through
/// [`join_next`](Self::join_next).
///
/// - [`cancel`](Self::cancel) is soft: the tasks' Brisk operations return
///   `Cancelled`, and they may clean up.
/// - [`shutdown`](Self::shutdown) cancels, waits up to a grace period, then
///   aborts whatever is left and waits for that too: when it returns, no
///   task of the group is running.
/// - Dropping the group cancels the remaining tasks; they stop at their next
///   cancellation point, after their cleanup (a destructor cannot wait; use
///   `shutdown` to wait, `abort_all` for a hard stop).
///
/// ```
/// use brisk::task::TaskGroup;
/// # brisk::run(async {
/// let mut group = TaskGroup::new();
/// for i in 0..4u64 {
///     group.spawn(async move { i * i });
/// }
/// let mut sum = 0;
/// while let Some(res) = group.join_next().await {
///     sum += res.unwrap();
/// }
/// assert_eq!(sum, 14);
/// # });
/// ```
pub struct TaskGroup<T> {
    node: Arc<Node>,
    tasks: FutureSet<'static, Result<T, JoinError>>,
    /// Abort handles by `FutureSet` key.
    aborts: Vec<Option<AbortHandle>>,
}

impl<T: Send + 'static> TaskGroup<T> {
    /// An empty group, under the current task (or scope, or group) in the
    /// cancellation tree.
    pub fn new() -> TaskGroup<T> {
        let node = match cancel::current_parent() {
            Some(parent) => Node::child(&parent, None),
            None => Node::root(None),
        };
        TaskGroup {
            node,
            tasks: FutureSet::new(),
            aborts: Vec::new(),
        }
    }

    /// Spawns `future` as a task of the group on the current runtime.
    ///
    /// # Panics
    /// Outside a Brisk runtime, like [`spawn`](super::spawn).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let handle = Builder::new().under(&self.node).spawn(future);
        self.insert(handle)
    }

    /// Like [`spawn`](Self::spawn), with a task name.
    #[track_caller]
    pub fn spawn_named<F>(&mut self, name: &str, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let handle = Builder::new().name(name).under(&self.node).spawn(future);
        self.insert(handle)
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let kept = handle.abort_handle();
        let key = self.tasks.push(handle);
        if self.aborts.len() <= key {
            self.aborts.resize_with(key + 1, || None);
        }
        self.aborts[key] = Some(kept);
        abort
    }

    /// Number of tasks whose results were not collected yet.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True if no task is left to collect.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Waits for the next task to finish: `Some(result)`, or `None` when the
    /// group is empty.
    ///
    /// Cancel safety: cancel-safe; no result is lost if the future is
    /// dropped. Awaiting it is a cancellation point.
    pub fn join_next(&mut self) -> JoinNext<'_, T> {
        JoinNext { group: self }
    }

    /// Waits for every task and returns their results in completion order.
    pub async fn join_all(mut self) -> Vec<Result<T, JoinError>> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(res) = self.join_next().await {
            out.push(res);
        }
        out
    }

    /// Cancels every task of the group (softly; see the type docs). Tasks
    /// spawned afterwards start cancelled. Their results still arrive
    /// through [`join_next`](Self::join_next), which waits for them.
    ///
    /// # Examples
    /// ```
    /// use brisk::task::TaskGroup;
    /// use std::time::Duration;
    ///
    /// # brisk::run(async {
    /// let mut group = TaskGroup::new();
    /// for _ in 0..3 {
    ///     group.spawn(brisk::time::sleep(Duration::from_secs(3600)));
    /// }
    /// group.cancel();
    /// assert!(group.is_cancelled());
    /// while let Some(res) = group.join_next().await {
    ///     assert!(res.unwrap_err().is_cancelled());
    /// }
    /// # });
    /// ```
    pub fn cancel(&self) {
        self.node.cancel(CancelReason::Requested);
    }

    /// True once the group was cancelled (directly, or by the cancellation
    /// of the code that created it).
    pub fn is_cancelled(&self) -> bool {
        self.node.reason().is_some()
    }

    /// Aborts every task (hard: each future is dropped at its next
    /// scheduling point). Their results still arrive through `join_next`.
    pub fn abort_all(&self) {
        for abort in self.aborts.iter().flatten() {
            abort.abort();
        }
    }

    /// Cancels the group, waits up to `grace` for the tasks to finish, then
    /// aborts those still running and waits for them. Returns every result
    /// collected, in completion order. Not itself cancellable: a graceful
    /// shutdown must not be cut short by the cancellation it performs.
    ///
    /// ```
    /// use std::time::Duration;
    /// use brisk::task::TaskGroup;
    /// # brisk::run(async {
    /// let mut group = TaskGroup::new();
    /// group.spawn(async {
    ///     brisk::time::sleep(Duration::from_secs(3600)).await;
    ///     "never"
    /// });
    /// let results = group.shutdown(Duration::from_millis(50)).await;
    /// assert!(results[0].as_ref().unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub async fn shutdown(mut self, grace: Duration) -> Vec<Result<T, JoinError>> {
        self.cancel();
        cancel::non_cancellable(async move {
            let mut out = Vec::with_capacity(self.len());
            let deadline = crate::time::Instant::now() + grace;
            loop {
                match crate::time::timeout_at(deadline, self.join_next()).await {
                    Ok(Some(res)) => out.push(res),
                    Ok(None) => return out,
                    Err(_) => break,
                }
            }
            self.abort_all();
            while let Some(res) = self.join_next().await {
                out.push(res);
            }
            out
        })
        .await
    }
}

impl<T: Send + 'static> Default for TaskGroup<T> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<T> Drop for TaskGroup<T> {
    /// Cancels the remaining tasks (softly: they stop at their next
    /// cancellation point and may finish their cleanup). A destructor cannot
    /// wait for them; use [`shutdown`](TaskGroup::shutdown) to wait, or
    /// [`abort_all`](TaskGroup::abort_all) first for a hard stop.
    fn drop(&mut self) {
        if !self.tasks.is_empty() {
            self.node.cancel(CancelReason::Requested);
        }
    }
}

impl<T> fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("len", &self.tasks.len())
            .field("cancelled", &self.node.reason().is_some())
            .finish()
    }
}

/// The future of [`TaskGroup::join_next`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct JoinNext<'a, T> {
    group: &'a mut TaskGroup<T>,
}

impl<T> Future for JoinNext<'_, T> {
    type Output = Option<Result<T, JoinError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let group = &mut *self.group;
        match group.tasks.poll_next(cx) {
            Poll::Ready(Some((key, res))) => {
                if let Some(slot) = group.aborts.get_mut(key) {
                    *slot = None;
                }
                Poll::Ready(Some(res))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> fmt::Debug for JoinNext<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinNext").finish_non_exhaustive()
    }
}
