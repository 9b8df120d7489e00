//! Task-local storage: values that belong to a future rather than a thread.
//!
//! A thread-local value stays with the thread, but a task may run on a
//! different thread at every poll, and one thread polls many tasks in turn.
//! A *task-local* value is attached to a future instead: declare a key with
//! [`task_local!`](crate::task_local!), wrap a future with
//! [`LocalKey::scope`], and code running inside that future, on whatever
//! thread polls it, reads the value with [`LocalKey::with`] or
//! [`LocalKey::get`].
//!
//! ```
//! brisk::task_local! {
//!     /// The id of the request the current task is serving.
//!     static REQUEST_ID: u64;
//! }
//!
//! async fn log(msg: &str) {
//!     REQUEST_ID.with(|id| println!("[request {id}] {msg}"));
//! }
//!
//! # let rt = brisk::Runtime::builder().current_thread().build().unwrap();
//! rt.block_on(REQUEST_ID.scope(7, async {
//!     log("started").await;
//!     assert_eq!(REQUEST_ID.get(), 7);
//! }));
//! // Outside the scope there is no value.
//! assert!(REQUEST_ID.try_with(|_| ()).is_err());
//! ```
//!
//! # How it works
//!
//! Every key owns a thread-local slot that points at the *current* value.
//! A [`TaskLocalFuture`] owns its value; each time it is polled it points
//! the polling thread's slot at that value, polls the inner future, and
//! puts the previous pointer back afterwards, also when the inner poll
//! panics. [`LocalKey::sync_scope`] does the same around a closure. Scopes
//! therefore nest: an inner scope of the same key shadows the outer value,
//! and the outer value is visible again once the inner scope's poll or
//! closure returns.
//!
//! Because the slot holds a pointer and not the value itself, reading a
//! value never locks the slot: [`with`](LocalKey::with) calls may nest, and
//! a `with` closure may itself enter [`sync_scope`](LocalKey::sync_scope) or
//! poll a [`scope`](LocalKey::scope)d future of the same key (for example,
//! to run code with a value derived from the current one).
//!
//! # Dropping
//!
//! The value lives exactly as long as its [`TaskLocalFuture`]. When the
//! future is dropped, the inner future is dropped first, *with the value
//! set* (so destructors of the inner future's locals can still read it),
//! and then the value itself is dropped, after the slot has been restored;
//! a destructor of the value sees the enclosing scope's value, if any.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};
use std::thread;

/// Declares one or more task-local keys of type [`LocalKey`].
///
/// Each `static NAME: Type;` becomes a `static NAME: LocalKey<Type>`.
/// Attributes (including doc comments) and visibility are kept. The key has
/// no value until one is provided with [`LocalKey::scope`] or
/// [`LocalKey::sync_scope`].
///
/// ```
/// brisk::task_local! {
///     /// The user on whose behalf the current task runs.
///     pub static USER: String;
///     static ATTEMPT: u32;
/// }
///
/// let name = USER.sync_scope("ada".to_string(), || USER.get());
/// assert_eq!(name, "ada");
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::task_local!(@key $(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::task_local!(@key $(#[$attr])* $vis $name, $t);
    };
    (@key $(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task_local::LocalKey<$t> = {
            ::std::thread_local! {
                static __BRISK_TASK_LOCAL_SLOT: $crate::task_local::Slot<$t> =
                    const { $crate::task_local::Slot::new() };
            }
            $crate::task_local::LocalKey::from_slot(
                __BRISK_TASK_LOCAL_SLOT,
                ::core::stringify!($name),
            )
        };
    };
}

/// The per-thread slot behind a [`LocalKey`]: a pointer to the value of the
/// innermost scope that is active on this thread, if any.
///
/// An implementation detail of [`task_local!`](crate::task_local!), public
/// only so that the macro can name it. Its contents are private: only this
/// module publishes and reads the pointer, which is what makes the
/// dereference in [`LocalKey::try_with`] sound.
#[doc(hidden)]
pub struct Slot<T: 'static> {
    current: Cell<Option<NonNull<T>>>,
}

impl<T: 'static> Slot<T> {
    /// An empty slot. Used by [`task_local!`](crate::task_local!).
    #[doc(hidden)]
    #[must_use]
    pub const fn new() -> Self {
        Self {
            current: Cell::new(None),
        }
    }
}

/// Puts the slot's previous pointer back when dropped, including while
/// unwinding from a panic in the scope it guards.
struct Restore<'a, T: 'static> {
    slot: &'a Slot<T>,
    previous: Option<NonNull<T>>,
}

impl<T: 'static> Drop for Restore<'_, T> {
    fn drop(&mut self) {
        self.slot.current.set(self.previous);
    }
}

/// A key for task-local data, declared with
/// [`task_local!`](crate::task_local!).
///
/// A key has a value only inside a scope: while a future returned by
/// [`scope`](Self::scope) is being polled, or while the closure given to
/// [`sync_scope`](Self::sync_scope) runs. Read the value with
/// [`with`](Self::with), [`try_with`](Self::try_with) or
/// [`get`](Self::get).
///
/// ```
/// use brisk::task::LocalKey;
///
/// brisk::task_local! {
///     static DEPTH: u32;
/// }
///
/// fn depth(key: &'static LocalKey<u32>) -> u32 {
///     key.try_with(|d| *d).unwrap_or(0)
/// }
///
/// assert_eq!(depth(&DEPTH), 0);
/// DEPTH.sync_scope(1, || assert_eq!(depth(&DEPTH), 1));
/// ```
pub struct LocalKey<T: 'static> {
    slot: thread::LocalKey<Slot<T>>,
    name: &'static str,
}

impl<T: 'static> LocalKey<T> {
    /// Builds a key around its thread-local slot. Used by
    /// [`task_local!`](crate::task_local!); `name` is the key's name, shown
    /// in errors.
    #[doc(hidden)]
    #[must_use]
    pub const fn from_slot(slot: thread::LocalKey<Slot<T>>, name: &'static str) -> Self {
        Self { slot, name }
    }

    /// Wraps `future` so that this key has the value `value` while the
    /// future is being polled, on whatever thread polls it.
    ///
    /// The value is moved into the returned [`TaskLocalFuture`] and dropped
    /// with it (after the inner future; see the [module docs](self)). A
    /// scope inside another scope of the same key shadows the outer value
    /// until the inner future's poll returns.
    ///
    /// ```
    /// brisk::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// # let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    /// rt.block_on(NUMBER.scope(1, async {
    ///     assert_eq!(NUMBER.get(), 1);
    ///     NUMBER.scope(2, async {
    ///         assert_eq!(NUMBER.get(), 2);
    ///     }).await;
    ///     assert_eq!(NUMBER.get(), 1);
    /// }));
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with this key set to `value`, and returns what `f` returns.
    ///
    /// The previous value (or the absence of one) is restored when `f`
    /// returns or panics; `value` is dropped after that.
    ///
    /// ```
    /// brisk::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// let doubled = NUMBER.sync_scope(21, || NUMBER.get() * 2);
    /// assert_eq!(doubled, 42);
    /// ```
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        self.enter(Some(&value), f)
    }

    /// Calls `f` with a reference to the current value.
    ///
    /// `with` calls may nest, and `f` may enter a new scope of this same
    /// key (with [`sync_scope`](Self::sync_scope), or by polling a
    /// [`scope`](Self::scope)d future); the reference `f` received keeps
    /// pointing at the outer value throughout.
    ///
    /// # Panics
    ///
    /// If the key has no value here, i.e. outside every
    /// [`scope`](Self::scope) and [`sync_scope`](Self::sync_scope) of this
    /// key. Use [`try_with`](Self::try_with) where that can happen.
    ///
    /// ```
    /// brisk::task_local! {
    ///     static NAME: String;
    /// }
    ///
    /// NAME.sync_scope("outer".to_string(), || {
    ///     NAME.with(|outer| {
    ///         // A scope derived from the current value, entered while it is
    ///         // borrowed.
    ///         let inner = NAME.sync_scope(format!("{outer}/inner"), || NAME.get());
    ///         assert_eq!(inner, "outer/inner");
    ///         assert_eq!(outer, "outer");
    ///     });
    /// });
    /// ```
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(result) => result,
            Err(err) => self.missing("with(..)", err),
        }
    }

    /// Calls `f` with a reference to the current value, or returns an
    /// [`AccessError`] if the key has no value here.
    ///
    /// # Errors
    ///
    /// [`AccessError`] outside every [`scope`](Self::scope) and
    /// [`sync_scope`](Self::sync_scope) of this key; `f` is not called then.
    ///
    /// ```
    /// brisk::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// assert!(NUMBER.try_with(|n| *n).is_err());
    /// assert_eq!(NUMBER.sync_scope(5, || NUMBER.try_with(|n| *n)), Ok(5));
    /// ```
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        let current = self
            .slot
            .try_with(|slot| slot.current.get())
            .map_err(|_| self.error(ErrorKind::Destroyed))?;
        let Some(pointer) = current else {
            return Err(self.error(ErrorKind::NotSet));
        };
        // SAFETY: the slot is private to this module and only `enter` writes
        // it. `enter` publishes a pointer made from a `&T` that is borrowed
        // for the whole `enter` call, and its `Restore` guard puts the
        // previous pointer back before that call returns or unwinds. Calls
        // to `enter` on one thread are strictly nested (each lives on the
        // call stack), so a non-null pointer read here always comes from an
        // `enter` call that is still running further up this thread's stack:
        // its `T` is alive, has not moved, and is only shared-borrowed for
        // as long as that call runs, which outlasts this one. The reference
        // is handed only to `f`, whose signature (`FnOnce(&T) -> R` for any
        // lifetime) stops it from escaping the call.
        let value = unsafe { pointer.as_ref() };
        Ok(f(value))
    }

    /// Returns a clone of the current value.
    ///
    /// # Panics
    ///
    /// If the key has no value here; see [`with`](Self::with).
    ///
    /// ```
    /// brisk::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// assert_eq!(NUMBER.sync_scope(3, || NUMBER.get()), 3);
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        match self.try_with(T::clone) {
            Ok(value) => value,
            Err(err) => self.missing("get()", err),
        }
    }

    /// Publishes `value` (or no value) as the current one while `f` runs on
    /// this thread, and restores the previous one afterwards.
    ///
    /// The soundness of [`try_with`](Self::try_with) rests on this being the
    /// only writer of the slot: the borrow `value` lasts for the whole call,
    /// and the guard un-publishes it before the call ends, even by panic.
    fn enter<R>(&'static self, value: Option<&T>, f: impl FnOnce() -> R) -> R {
        // The slot is const-initialised and has no destructor, so this
        // thread-local is usable at any time, even while the thread's other
        // thread-locals are being destroyed.
        self.slot.with(|slot| {
            let _restore = Restore {
                slot,
                previous: slot.current.replace(value.map(NonNull::from)),
            };
            f()
        })
    }

    fn error(&'static self, kind: ErrorKind) -> AccessError {
        AccessError {
            key: self.name,
            ty: std::any::type_name::<T>(),
            kind,
        }
    }

    #[track_caller]
    fn missing(&'static self, api: &str, err: AccessError) -> ! {
        panic!(
            "`{}.{api}` was called where the key has no value. {err}; \
             use `{}.try_with(..)` where a missing value is expected",
            self.name, self.name
        )
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey")
            .field("name", &self.name)
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

/// A future that sets a task-local value while its inner future is polled;
/// returned by [`LocalKey::scope`].
///
/// Each poll makes the value current on the polling thread, polls the inner
/// future, and restores the previous value (also if the inner poll panics).
/// Dropping it drops the inner future while the value is still set, then
/// the value.
///
/// ```
/// brisk::task_local! {
///     static NUMBER: u32;
/// }
///
/// # let rt = brisk::Runtime::builder().current_thread().build().unwrap();
/// let fut: brisk::task::TaskLocalFuture<u32, _> = NUMBER.scope(7, async { NUMBER.get() });
/// assert_eq!(rt.block_on(fut), 7);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TaskLocalFuture<T: 'static, F> {
    key: &'static LocalKey<T>,
    // Not structurally pinned: `project` hands it out as `&mut Option<T>`,
    // and `take_value` moves the value out.
    value: Option<T>,
    // Structurally pinned: only ever reached through `Pin<&mut Option<F>>`.
    // `Some` until `Drop::drop` drops the future in place.
    future: Option<F>,
}

/// Borrows of the fields of a pinned [`TaskLocalFuture`].
struct Projection<'a, T: 'static, F> {
    key: &'static LocalKey<T>,
    value: &'a mut Option<T>,
    future: Pin<&'a mut Option<F>>,
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of the scope and returns it; `None` if it was
    /// already taken.
    ///
    /// This works before, during or after the inner future runs. If the
    /// future is polled again after the value was taken, the key has *no*
    /// value inside it (the scope does not fall back to an enclosing
    /// scope's value).
    ///
    /// ```
    /// use std::pin::pin;
    ///
    /// brisk::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// let mut fut = pin!(NUMBER.scope(9, async {}));
    /// assert_eq!(fut.as_mut().take_value(), Some(9));
    /// assert_eq!(fut.as_mut().take_value(), None);
    /// ```
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().value.take()
    }

    fn project(self: Pin<&mut Self>) -> Projection<'_, T, F> {
        // SAFETY: the reference is used only to borrow the fields below and
        // is never used to move `self`.
        let this = unsafe { self.get_unchecked_mut() };
        Projection {
            key: this.key,
            value: &mut this.value,
            // SAFETY: `future` is pinned whenever `self` is ("structural"
            // pinning), which holds because: it is reachable only through
            // this projection; nothing moves it out (the `Drop` impl drops
            // it in place with `Pin::set`); `TaskLocalFuture` is `Unpin` only
            // when `F` is (see the `Unpin` impl below); and the struct is not
            // `#[repr(packed)]`.
            future: unsafe { Pin::new_unchecked(&mut this.future) },
        }
    }
}

// The value is not structurally pinned, so only the inner future decides.
impl<T: 'static, F: Unpin> Unpin for TaskLocalFuture<T, F> {}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this
            .future
            .as_pin_mut()
            .expect("a `TaskLocalFuture` is never polled after its inner future was dropped");
        this.key.enter(this.value.as_ref(), || future.poll(cx))
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        // SAFETY: `self` may have been pinned, so it is treated as pinned:
        // it is not moved, and the inner future is dropped in place through
        // the projection. It is not used again after `drop`.
        let this = unsafe { Pin::new_unchecked(self) }.project();
        if this.future.is_some() {
            let mut future = this.future;
            // Drop the inner future while the value is visible, so that its
            // destructors can read it. The value itself is dropped afterwards
            // by the field's drop glue, after the slot was restored.
            this.key.enter(this.value.as_ref(), || future.set(None));
        }
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("key", &self.key.name)
            .field("has_value", &self.value.is_some())
            .finish_non_exhaustive()
    }
}

/// The error returned by [`LocalKey::try_with`] when the key has no value.
///
/// Its message names the key and its type, and how to give it a value:
///
/// ```
/// brisk::task_local! {
///     static NUMBER: u32;
/// }
///
/// let err = NUMBER.try_with(|_| ()).unwrap_err();
/// assert!(err.to_string().starts_with(
///     "task-local value not set: call this inside `NUMBER.scope(value, future)`"
/// ));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError {
    key: &'static str,
    ty: &'static str,
    kind: ErrorKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ErrorKind {
    /// Outside every scope of the key.
    NotSet,
    /// The thread-local slot is gone. Cannot happen with the slots that
    /// `task_local!` declares (they have no destructor), but handled rather
    /// than assumed.
    Destroyed,
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessError")
            .field("key", &self.key)
            .field("type", &self.ty)
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { key, ty, kind } = *self;
        match kind {
            ErrorKind::NotSet => write!(
                f,
                "task-local value not set: call this inside `{key}.scope(value, future)` \
                 or `{key}.sync_scope(value, f)` (key `{key}: {ty}`)"
            ),
            ErrorKind::Destroyed => write!(
                f,
                "task-local `{key}: {ty}` cannot be accessed: this thread's thread-local \
                 storage has been destroyed"
            ),
        }
    }
}

impl std::error::Error for AccessError {}

#[cfg(test)]
mod tests {
    use super::{AccessError, LocalKey, TaskLocalFuture};
    use std::cell::RefCell;
    use std::future::Future;
    use std::marker::PhantomPinned;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::pin::{pin, Pin};
    use std::rc::Rc;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread::{self, Thread};

    crate::task_local! {
        static NUMBER: u32;
        /// Attributes, doc comments and visibility are accepted.
        #[allow(dead_code, clippy::redundant_pub_crate)]
        pub(crate) static NAME: String;
        static NOT_SEND: Rc<u8>;
    }

    // The last key may omit its semicolon.
    crate::task_local!(static TRACKED: Tracked);

    /// Wakes a parked thread.
    struct ThreadWaker(Thread);

    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// A minimal executor: polls `future` on this thread, parking between
    /// polls until woken.
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            thread::park();
        }
    }

    /// Returns `Pending` once (waking itself), then `Ready`.
    async fn yield_now() {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
    }

    fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    fn number() -> Option<u32> {
        NUMBER.try_with(|n| *n).ok()
    }

    #[test]
    fn visible_inside_not_outside() {
        assert_eq!(number(), None);
        let out = block_on(NUMBER.scope(1, async {
            assert_eq!(NUMBER.get(), 1);
            yield_now().await;
            NUMBER.with(|n| assert_eq!(*n, 1));
            NUMBER.get() + 1
        }));
        assert_eq!(out, 2);
        assert_eq!(number(), None);
    }

    #[test]
    fn not_visible_between_polls() {
        let mut fut = pin!(NUMBER.scope(4, async {
            yield_now().await;
            NUMBER.get()
        }));
        assert!(poll_once(fut.as_mut()).is_pending());
        assert_eq!(number(), None);
        assert_eq!(poll_once(fut.as_mut()), Poll::Ready(4));
        assert_eq!(number(), None);
    }

    #[test]
    fn interleaved_futures_see_their_own_values() {
        let seen = RefCell::new(Vec::new());
        let task = |id: u32| {
            let seen = &seen;
            NUMBER.scope(id, async move {
                for _ in 0..3 {
                    seen.borrow_mut().push((id, NUMBER.get()));
                    yield_now().await;
                }
                NUMBER.get()
            })
        };
        let (a_out, b_out) = {
            let mut a = pin!(task(1));
            let mut b = pin!(task(2));
            let (mut a_out, mut b_out) = (None, None);
            while a_out.is_none() || b_out.is_none() {
                if a_out.is_none() {
                    if let Poll::Ready(v) = poll_once(a.as_mut()) {
                        a_out = Some(v);
                    }
                }
                assert_eq!(number(), None);
                if b_out.is_none() {
                    if let Poll::Ready(v) = poll_once(b.as_mut()) {
                        b_out = Some(v);
                    }
                }
                assert_eq!(number(), None);
            }
            (a_out, b_out)
        };
        assert_eq!((a_out, b_out), (Some(1), Some(2)));
        let seen = seen.into_inner();
        assert_eq!(seen.len(), 6);
        assert!(seen.iter().all(|&(id, value)| id == value), "{seen:?}");
        // They really did alternate.
        assert_eq!(
            seen.iter().map(|&(id, _)| id).collect::<Vec<_>>(),
            [1, 2, 1, 2, 1, 2]
        );
    }

    #[test]
    fn nested_scopes_restore_the_outer_value() {
        block_on(NUMBER.scope(1, async {
            assert_eq!(NUMBER.get(), 1);
            let inner = NUMBER.scope(2, async {
                assert_eq!(NUMBER.get(), 2);
                yield_now().await;
                assert_eq!(NUMBER.get(), 2);
                NUMBER.sync_scope(3, || assert_eq!(NUMBER.get(), 3));
                assert_eq!(NUMBER.get(), 2);
                NUMBER.get()
            });
            assert_eq!(inner.await, 2);
            assert_eq!(NUMBER.get(), 1);
        }));
        assert_eq!(number(), None);
    }

    #[test]
    fn different_keys_are_independent() {
        NUMBER.sync_scope(1, || {
            assert!(NAME.try_with(|_| ()).is_err());
            NAME.sync_scope("n".to_string(), || {
                assert_eq!(NUMBER.get(), 1);
                assert_eq!(NAME.get(), "n");
            });
        });
    }

    #[test]
    fn sync_scope_returns_and_restores() {
        assert_eq!(NUMBER.sync_scope(21, || NUMBER.get() * 2), 42);
        assert_eq!(number(), None);
        let nested = NUMBER.sync_scope(1, || {
            let inner = NUMBER.sync_scope(2, || NUMBER.get());
            (NUMBER.get(), inner)
        });
        assert_eq!(nested, (1, 2));
    }

    #[test]
    fn panic_in_poll_restores_the_slot() {
        NUMBER.sync_scope(1, || {
            let result = catch_unwind(AssertUnwindSafe(|| {
                block_on(NUMBER.scope(2, async {
                    assert_eq!(NUMBER.get(), 2);
                    panic!("inner poll panics");
                }))
            }));
            assert!(result.is_err());
            assert_eq!(NUMBER.get(), 1);
        });
        assert_eq!(number(), None);

        // Also with nothing set outside.
        let result = catch_unwind(|| block_on(NUMBER.scope(2, async { panic!("boom") })));
        assert!(result.is_err());
        assert_eq!(number(), None);
    }

    #[test]
    fn panic_in_sync_scope_restores_the_slot() {
        NUMBER.sync_scope(1, || {
            let result = catch_unwind(|| NUMBER.sync_scope(2, || panic!("boom")));
            assert!(result.is_err());
            assert_eq!(NUMBER.get(), 1);
        });
        assert_eq!(number(), None);
    }

    #[test]
    fn with_may_reenter_a_scope_of_the_same_key() {
        NUMBER.sync_scope(1, || {
            NUMBER.with(|outer| {
                assert_eq!(*outer, 1);
                // A scope derived from the borrowed value.
                let inner = NUMBER.sync_scope(outer + 1, || {
                    // Nested `with` inside the inner scope.
                    NUMBER.with(|inner| NUMBER.with(|again| (*inner, *again)))
                });
                assert_eq!(inner, (2, 2));
                // Polling a scoped future inside `with` works too.
                let polled = block_on(NUMBER.scope(outer + 10, async {
                    yield_now().await;
                    NUMBER.get()
                }));
                assert_eq!(polled, 11);
                // The outer reference and the current value are intact.
                assert_eq!(*outer, 1);
                assert_eq!(NUMBER.get(), 1);
            });
        });
    }

    #[test]
    fn with_and_get_panic_outside_a_scope() {
        let err = catch_unwind(|| NUMBER.with(|n| *n)).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(
            msg.starts_with("`NUMBER.with(..)` was called where the key has no value."),
            "{msg}"
        );
        assert!(
            msg.contains("call this inside `NUMBER.scope(value, future)`"),
            "{msg}"
        );
        assert!(msg.contains("`NUMBER.try_with(..)`"), "{msg}");

        let err = catch_unwind(|| NUMBER.get()).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.starts_with("`NUMBER.get()` was called"), "{msg}");
    }

    #[test]
    fn access_error_message() {
        let err: AccessError = NUMBER.try_with(|_| ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "task-local value not set: call this inside `NUMBER.scope(value, future)` \
             or `NUMBER.sync_scope(value, f)` (key `NUMBER: u32`)"
        );
        assert_eq!(err, NUMBER.try_with(|_| ()).unwrap_err());
        assert!(format!("{err:?}").contains("NotSet"));
        let _: &dyn std::error::Error = &err;
    }

    #[test]
    fn polled_on_another_thread() {
        let mut fut = Box::pin(NUMBER.scope(3, async {
            let first = NUMBER.get();
            yield_now().await;
            (first, NUMBER.get())
        }));
        assert!(poll_once(fut.as_mut()).is_pending());
        let out = thread::spawn(move || {
            assert_eq!(number(), None);
            let out = block_on(fut);
            assert_eq!(number(), None);
            out
        })
        .join()
        .unwrap();
        assert_eq!(out, (3, 3));
        assert_eq!(number(), None);
    }

    #[test]
    fn take_value() {
        NUMBER.sync_scope(1, || {
            let mut fut = pin!(NUMBER.scope(5, async {
                let before = number();
                yield_now().await;
                (before, number())
            }));
            assert!(poll_once(fut.as_mut()).is_pending());
            assert_eq!(fut.as_mut().take_value(), Some(5));
            assert_eq!(fut.as_mut().take_value(), None);
            // The emptied scope hides the outer value instead of exposing it.
            assert_eq!(poll_once(fut.as_mut()), Poll::Ready((Some(5), None)));
            assert_eq!(NUMBER.get(), 1);
        });
    }

    /// Records what `TRACKED` holds while it is dropped, and in which order
    /// things are dropped.
    struct Tracked {
        name: &'static str,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            let current = TRACKED.try_with(|t| t.name).unwrap_or("<none>");
            self.log
                .lock()
                .unwrap()
                .push(format!("drop {} (current: {current})", self.name));
        }
    }

    #[test]
    fn value_visible_while_the_inner_future_is_dropped() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let tracked = |name| Tracked {
            name,
            log: log.clone(),
        };

        // Polled once, so the inner future holds a live local.
        let local = tracked("local");
        let mut fut = Box::pin(TRACKED.scope(tracked("value"), async move {
            let _local = local;
            std::future::pending::<()>().await;
        }));
        assert!(poll_once(fut.as_mut()).is_pending());
        drop(fut);

        // Never polled: the captured variable is dropped with the future.
        let captured = tracked("captured");
        drop(TRACKED.scope(tracked("value2"), async move {
            let _captured = captured;
        }));

        assert_eq!(
            *log.lock().unwrap(),
            [
                "drop local (current: value)",
                "drop value (current: <none>)",
                "drop captured (current: value2)",
                "drop value2 (current: <none>)",
            ]
        );
    }

    #[test]
    fn value_dropped_after_completion_only_with_the_future() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let value = Tracked {
            name: "value",
            log: log.clone(),
        };
        let mut fut = pin!(TRACKED.scope(value, async {}));
        assert_eq!(poll_once(fut.as_mut()), Poll::Ready(()));
        assert!(log.lock().unwrap().is_empty());
        let taken = fut.as_mut().take_value().unwrap();
        drop(taken);
        assert_eq!(*log.lock().unwrap(), ["drop value (current: <none>)"]);
    }

    #[test]
    fn sync_scope_drops_the_value_after_restoring() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let outer = Tracked {
            name: "outer",
            log: log.clone(),
        };
        let inner = Tracked {
            name: "inner",
            log: log.clone(),
        };
        TRACKED.sync_scope(outer, || TRACKED.sync_scope(inner, || {}));
        assert_eq!(
            *log.lock().unwrap(),
            [
                "drop inner (current: outer)",
                "drop outer (current: <none>)",
            ]
        );
    }

    #[test]
    fn non_send_values_work_on_one_thread() {
        let rc = Rc::new(7);
        let out = block_on(NOT_SEND.scope(rc.clone(), async {
            yield_now().await;
            *NOT_SEND.get()
        }));
        assert_eq!(out, 7);
        assert_eq!(Rc::strong_count(&rc), 1);
    }

    #[test]
    fn auto_traits() {
        fn send<T: Send>() {}
        fn sync<T: Sync>() {}
        fn unpin<T: Unpin>() {}

        // Keys are usable from any thread whatever the value type.
        sync::<LocalKey<Rc<u8>>>();
        sync::<LocalKey<std::cell::Cell<u8>>>();
        // The future is `Send` when its value and inner future are.
        send::<TaskLocalFuture<u32, std::future::Ready<()>>>();
        sync::<TaskLocalFuture<u32, std::future::Ready<()>>>();
        // The value is not structurally pinned; only the future decides.
        unpin::<TaskLocalFuture<PhantomPinned, std::future::Ready<()>>>();
    }

    #[test]
    fn debug_output() {
        assert_eq!(
            format!("{NUMBER:?}"),
            "LocalKey { name: \"NUMBER\", type: \"u32\", .. }"
        );
        let fut = NUMBER.scope(1, async {});
        assert_eq!(
            format!("{fut:?}"),
            "TaskLocalFuture { key: \"NUMBER\", has_value: true, .. }"
        );
    }
}
