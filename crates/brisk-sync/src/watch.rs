//! A single-producer, multi-consumer channel that keeps only the latest value.
//!
//! Receivers see the newest value and can wait for it to change; values in
//! between may be skipped. The API follows `tokio::sync::watch`.
//!
//! ```
//! use brisk::sync::watch;
//!
//! # brisk::run(async {
//! let (tx, mut rx) = watch::channel("starting");
//! let worker = brisk::spawn(async move {
//!     rx.wait_for(|s| *s == "ready").await.is_ok()
//! });
//! tx.send("ready").unwrap();
//! assert!(worker.await.unwrap());
//! # });
//! ```
//!
//! Ground rules:
//! - `state` is the version with the `CLOSED` bit at the bottom. The version
//!   moves on by `STEP` only while the value's write lock is held, so a
//!   version read under the read lock names exactly the value read with it.
//!   `CLOSED` is set once, when the sender drops.
//! - A receiver's `version` is the last version it has seen. It changes only
//!   through `&mut Receiver`: `borrow_and_update`, `mark_*`, or a poll of
//!   `changed`, `wait_for` or the stream that returns `Ready`. Dropping a
//!   future therefore never loses a change.
//! - No lost wake-up: a waiting receiver reads `state` again while holding
//!   the `rx_waiters` lock and queues itself under that same lock; the sender
//!   changes `state` first and then takes the lock to serve every queued
//!   waiter. Either the receiver's re-check sees the change, or its waker is
//!   in the list when the sender serves it. The same holds for `rx_count`
//!   reaching zero and `tx_waiters` (the sender's `closed`).
//! - A receiver owns at most one waiter slot (`Cursor::key`); its futures and
//!   its stream share it, since each needs `&mut Receiver`. Whoever stops
//!   waiting (Ready, future drop, receiver drop) frees it.
//! - Lock order: a waiter list's spin lock may be taken while the value's
//!   lock is held (`wait_for` returning its `Ref`), never the reverse.
//!   Wakers are woken after every lock is released.

use crate::loom::{AtomicUsize, Ordering};
use crate::resource::Resource;
use crate::waiters::{Key, WaitList, WakeList};
use brisk_core::spin::SpinLock;
use brisk_core::wait::ResourceKind;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::panic::Location;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Waker};

// The value's lock. brisk-core's loom shim has no reader-writer lock, so the
// swap happens here: loom's model under `--cfg loom`, std's otherwise.
#[cfg(loom)]
use loom::sync::{RwLock, RwLockReadGuard};
#[cfg(not(loom))]
use std::sync::{RwLock, RwLockReadGuard};

/// Low bit of `state`: the sender has been dropped.
const CLOSED: usize = 1;
/// What one change adds to `state`.
const STEP: usize = 2;

struct Shared<T> {
    value: RwLock<T>,
    /// Version (multiple of `STEP`) | `CLOSED`.
    state: AtomicUsize,
    /// Live receivers; the sender's `closed` waits for zero.
    rx_count: AtomicUsize,
    /// Receivers waiting for a change.
    rx_waiters: SpinLock<WaitList<()>>,
    /// `Sender::closed` futures waiting for `rx_count == 0`.
    tx_waiters: SpinLock<WaitList<()>>,
    res: Resource,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, T> {
        // A panic in `send_modify`'s closure poisons the lock; the value is
        // still a valid `T`, so carry on (the change was not published).
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn version(&self) -> usize {
        self.state.load(Ordering::Acquire) & !CLOSED
    }

    /// Serves every waiter in `list` and wakes them after unlocking.
    fn wake_all(list: &SpinLock<WaitList<()>>) {
        let mut list = list.lock();
        if list.is_empty() {
            return;
        }
        let mut wakes = WakeList::new();
        while let Some(w) = list.serve_front() {
            wakes.push(w);
        }
        drop(list);
        wakes.wake_all();
    }

    /// Queues `key` (or refreshes its waker) in `list`, which is locked.
    /// Returns a waker to drop once the lock is released.
    #[must_use = "drop the replaced waker after releasing the lock"]
    fn register(list: &mut WaitList<()>, key: &mut Option<Key>, cx: &Context<'_>) -> Option<Waker> {
        match *key {
            Some(k) if list.is_queued(k) => list.update_waker(k, cx.waker()),
            Some(k) => {
                // Served but not finished (e.g. re-opened by a new
                // receiver): queue again.
                let removed = list.remove(k);
                *key = Some(list.push_back(cx.waker(), ()));
                removed.waker
            }
            None => {
                *key = Some(list.push_back(cx.waker(), ()));
                None
            }
        }
    }

    fn unregister(list: &SpinLock<WaitList<()>>, key: &mut Option<Key>) {
        if let Some(k) = key.take() {
            // The guard is a temporary of this statement; the waker is
            // dropped after it.
            let removed = list.lock().remove(k);
            drop(removed);
        }
    }
}

/// What a receiver has seen, and its waiter slot.
struct Cursor {
    version: usize,
    key: Option<Key>,
}

impl Cursor {
    /// `Some(Ok(v))` if `state` holds an unseen version `v`, `Some(Err)` if
    /// not and the sender is gone, `None` to keep waiting.
    fn check(&self, state: usize) -> Option<Result<usize, RecvError>> {
        let v = state & !CLOSED;
        if v != self.version {
            Some(Ok(v))
        } else if state & CLOSED != 0 {
            Some(Err(RecvError(())))
        } else {
            None
        }
    }

    /// Waits for a version other than `self.version`; does not mark it seen.
    fn poll_wait<T>(
        &mut self,
        shared: &Shared<T>,
        location: &'static Location<'static>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, RecvError>> {
        if let Some(r) = self.check(shared.state.load(Ordering::Acquire)) {
            Shared::<T>::unregister(&shared.rx_waiters, &mut self.key);
            return Poll::Ready(r);
        }
        let mut list = shared.rx_waiters.lock();
        if let Some(r) = self.check(shared.state.load(Ordering::Acquire)) {
            let removed = self.key.take().map(|k| list.remove(k));
            drop(list);
            drop(removed);
            return Poll::Ready(r);
        }
        let replaced = Shared::<T>::register(&mut list, &mut self.key, cx);
        drop(list);
        drop(replaced);
        shared.res.wait_here(location);
        Poll::Pending
    }
}

/// Creates a watch channel holding `init`.
///
/// The receiver starts having seen `init`: its first `changed()` waits for a
/// new value (call [`Receiver::mark_changed`] to be told about `init` too).
///
/// # Examples
/// ```
/// use brisk::sync::watch;
///
/// let (tx, rx) = watch::channel(1);
/// tx.send(2).unwrap();
/// assert_eq!(*rx.borrow(), 2);
/// ```
#[track_caller]
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        rx_count: AtomicUsize::new(1),
        rx_waiters: SpinLock::new(WaitList::new()),
        tx_waiters: SpinLock::new(WaitList::new()),
        res: Resource::new(ResourceKind::Channel),
    });
    let rx = Receiver {
        shared: shared.clone(),
        cursor: Cursor {
            version: 0,
            key: None,
        },
        location: Location::caller(),
    };
    (Sender { shared }, rx)
}

/// The sending half of a [`watch`](self) channel; there is one per channel.
///
/// Dropping it closes the channel: receivers get [`RecvError`] once they have
/// seen the last value.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half of a [`watch`](self) channel. Clone it for more
/// receivers; each tracks which version it has seen.
///
/// With `T: Clone` it is also a [`Stream`](futures_core::Stream) yielding a
/// clone of each new value (values sent in between may be skipped) and ending
/// when the sender is dropped. A task waiting in the stream has its wait-point
/// set to where this receiver was created.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    cursor: Cursor,
    location: &'static Location<'static>,
}

/// A read guard on the channel's value.
///
/// It holds the value's read lock: the sender's next change waits until it
/// is dropped, so do not keep it across an `.await`, and do not borrow the
/// same channel again while holding it.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// True if this value had not been marked seen by the receiver when it
    /// was borrowed (always false for [`Sender::borrow`]).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(0);
    /// assert!(!rx.borrow().has_changed());
    /// tx.send(1).unwrap();
    /// assert!(rx.borrow().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The value could not be sent: every receiver is gone. Holds the value.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError { .. }")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the watch channel has no receivers left: the value was not stored")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The sender was dropped and the receiver has seen its last value.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the watch channel's sender was dropped and no unseen value remains")
    }
}

impl std::error::Error for RecvError {}

/// The error types, also under this path for code written against
/// `tokio::sync::watch::error`.
pub mod error {
    pub use super::{RecvError, SendError};
}

impl<T> Sender<T> {
    /// Stores `value` and notifies every receiver.
    ///
    /// # Errors
    /// [`SendError`] with the value, not stored, if there are no receivers.
    /// Use [`send_replace`](Sender::send_replace) to store it regardless.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// assert_eq!(*tx.borrow(), 1);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` even without receivers, notifies them, and returns the
    /// previous value.
    ///
    /// # Examples
    /// ```
    /// let (tx, _rx) = brisk::sync::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut value = Some(value);
        let mut old = None;
        self.send_modify(|v| old = Some(std::mem::replace(v, value.take().expect("set above"))));
        old.expect("`send_modify` runs its closure")
    }

    /// Modifies the value in place and notifies every receiver.
    ///
    /// If `modify` panics the panic propagates, the receivers are not
    /// notified and the value may be partly modified.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Lets `modify` change the value; notifies the receivers only if it
    /// returns true. Returns what `modify` returned.
    ///
    /// If `modify` panics the panic propagates, the receivers are not
    /// notified and the value may be partly modified.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(5);
    /// assert!(!tx.send_if_modified(|v| std::mem::replace(v, 5) != 5));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| std::mem::replace(v, 6) != 6));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        {
            let mut value = self
                .shared
                .value
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if !modify(&mut value) {
                return false;
            }
            // Under the write lock: the version names this value.
            self.shared.state.fetch_add(STEP, Ordering::AcqRel);
        }
        Shared::<T>::wake_all(&self.shared.rx_waiters);
        true
    }

    /// Borrows the current value. See [`Ref`] on holding it.
    ///
    /// # Examples
    /// ```
    /// let (tx, _rx) = brisk::sync::watch::channel("a");
    /// assert_eq!(*tx.borrow(), "a");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            has_changed: false,
        }
    }

    /// A new receiver that has seen the current value.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    #[track_caller]
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.rx_count.fetch_add(1, Ordering::AcqRel);
        Receiver {
            shared: self.shared.clone(),
            cursor: Cursor {
                version: self.shared.version(),
                key: None,
            },
            location: Location::caller(),
        }
    }

    /// The number of live receivers.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(0);
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// # drop((rx, rx2));
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.rx_count.load(Ordering::Acquire)
    }

    /// True when every receiver has been dropped.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(0);
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver has been dropped.
    ///
    /// Cancel safety: dropping the future only leaves the queue; it consumes
    /// nothing.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let (tx, rx) = brisk::sync::watch::channel(0);
    /// brisk::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    #[track_caller]
    pub fn closed(&self) -> Closed<'_, T> {
        Closed {
            shared: &self.shared,
            key: None,
            location: Location::caller(),
        }
    }

    /// This channel's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(0);
    /// assert_eq!(tx.resource_id(), rx.resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.shared.res.id()
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.state.fetch_or(CLOSED, Ordering::AcqRel);
        Shared::<T>::wake_all(&self.shared.rx_waiters);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("id", &self.shared.res.id())
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen. See [`Ref`] on
    /// holding it.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert_eq!(*rx.borrow(), 1);
    /// assert!(rx.has_changed().unwrap()); // still unseen
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let has_changed = self.shared.version() != self.cursor.version;
        Ref { guard, has_changed }
    }

    /// Borrows the current value and marks it seen.
    ///
    /// # Examples
    /// ```
    /// let (tx, mut rx) = brisk::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 1);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let version = self.shared.version();
        let has_changed = version != self.cursor.version;
        self.cursor.version = version;
        Ref { guard, has_changed }
    }

    /// Waits for a value this receiver has not seen, and marks it seen.
    ///
    /// # Errors
    /// [`RecvError`] once the sender is dropped and no unseen value remains
    /// (a value sent just before the drop is still reported as a change).
    ///
    /// Cancel safety: the value is marked seen only when the future returns
    /// `Ready`; dropping it earlier loses no change and no wake-up.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let (tx, mut rx) = brisk::sync::watch::channel(0);
    /// brisk::spawn(async move { tx.send(7).unwrap() });
    /// rx.changed().await.unwrap();
    /// assert_eq!(*rx.borrow(), 7);
    /// assert!(rx.changed().await.is_err()); // sender dropped
    /// # });
    /// ```
    #[track_caller]
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            rx: self,
            location: Location::caller(),
        }
    }

    /// True if there is a value this receiver has not seen.
    ///
    /// # Errors
    /// [`RecvError`] if the sender is dropped and no unseen value remains,
    /// as for [`changed`](Receiver::changed). (tokio's version errors as soon
    /// as the sender is dropped.)
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::watch::channel(0);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        match self.cursor.check(self.shared.state.load(Ordering::Acquire)) {
            Some(Ok(_)) => Ok(true),
            Some(Err(e)) => Err(e),
            None => Ok(false),
        }
    }

    /// Marks the current value unseen: the next `changed()` returns at once.
    ///
    /// # Examples
    /// ```
    /// let (_tx, mut rx) = brisk::sync::watch::channel(0);
    /// rx.mark_changed();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn mark_changed(&mut self) {
        self.cursor.version = self.shared.version().wrapping_sub(STEP);
    }

    /// Marks the current value seen without borrowing it.
    ///
    /// # Examples
    /// ```
    /// let (tx, mut rx) = brisk::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.cursor.version = self.shared.version();
    }

    /// Waits until `pred` holds for the value, checking the current value
    /// first and then each new one; marks the value seen.
    ///
    /// # Errors
    /// [`RecvError`] if the sender is dropped; `pred` was then called on the
    /// last value and returned false.
    ///
    /// Cancel safety: dropping the future loses no wake-up; values it looked
    /// at stay marked seen.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let (tx, mut rx) = brisk::sync::watch::channel(0);
    /// brisk::spawn(async move {
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap();
    ///         brisk::task::yield_now().await;
    ///     }
    /// });
    /// assert!(*rx.wait_for(|v| *v >= 3).await.unwrap() >= 3);
    /// # });
    /// ```
    #[track_caller]
    pub fn wait_for<F: FnMut(&T) -> bool>(&mut self, pred: F) -> WaitFor<'_, T, F> {
        WaitFor {
            shared: &self.shared,
            cursor: &mut self.cursor,
            pred,
            first: true,
            location: Location::caller(),
        }
    }

    /// True if both receivers belong to the same channel.
    ///
    /// # Examples
    /// ```
    /// let (_tx, rx) = brisk::sync::watch::channel(0);
    /// let (_tx2, other) = brisk::sync::watch::channel(0);
    /// assert!(rx.same_channel(&rx.clone()));
    /// assert!(!rx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// This channel's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// let (_tx, rx) = brisk::sync::watch::channel(0);
    /// assert_eq!(rx.resource_id(), rx.clone().resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.shared.res.id()
    }
}

impl<T> Clone for Receiver<T> {
    /// Another receiver that has seen what this one has seen.
    fn clone(&self) -> Self {
        self.shared.rx_count.fetch_add(1, Ordering::AcqRel);
        Receiver {
            shared: self.shared.clone(),
            cursor: Cursor {
                version: self.cursor.version,
                key: None,
            },
            location: self.location,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        Shared::<T>::unregister(&self.shared.rx_waiters, &mut self.cursor.key);
        if self.shared.rx_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            Shared::<T>::wake_all(&self.shared.tx_waiters);
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("id", &self.shared.res.id())
            .field("version", &(self.cursor.version / STEP))
            .finish()
    }
}

/// Yields a clone of each value the receiver has not seen (marking it seen);
/// ends when the sender is dropped and no unseen value remains.
///
/// Cancel safety: as for [`Receiver::changed`].
impl<T: Clone> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        let this = self.get_mut();
        match this.cursor.poll_wait(&this.shared, this.location, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Ready(Ok(_)) => Poll::Ready(Some(this.borrow_and_update().clone())),
        }
    }
}

/// The future of [`Receiver::changed`].
#[must_use = "futures do nothing unless awaited"]
pub struct Changed<'a, T> {
    rx: &'a mut Receiver<T>,
    location: &'static Location<'static>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        let this = &mut *self;
        let rx = &mut *this.rx;
        let version = std::task::ready!(rx.cursor.poll_wait(&rx.shared, this.location, cx))?;
        rx.cursor.version = version;
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        Shared::<T>::unregister(&self.rx.shared.rx_waiters, &mut self.rx.cursor.key);
    }
}

impl<T> fmt::Debug for Changed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Changed({:?})", self.rx.shared.res)
    }
}

/// The future of [`Receiver::wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<'a, T, F> {
    shared: &'a Shared<T>,
    cursor: &'a mut Cursor,
    pred: F,
    /// The current value has not been checked yet.
    first: bool,
    location: &'static Location<'static>,
}

// Nothing in `WaitFor` is pinned structurally: `pred` is only called
// through `&mut`.
impl<T, F> Unpin for WaitFor<'_, T, F> {}

impl<'a, T, F: FnMut(&T) -> bool> Future for WaitFor<'a, T, F> {
    type Output = Result<Ref<'a, T>, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        let this = self.get_mut();
        let shared: &'a Shared<T> = this.shared;
        loop {
            {
                let guard = shared.read();
                let version = shared.version();
                let has_changed = version != this.cursor.version;
                if has_changed || this.first {
                    this.first = false;
                    this.cursor.version = version;
                    if (this.pred)(&guard) {
                        Shared::<T>::unregister(&shared.rx_waiters, &mut this.cursor.key);
                        return Poll::Ready(Ok(Ref { guard, has_changed }));
                    }
                }
            }
            // The value was checked; wait for the next one (or the close).
            std::task::ready!(this.cursor.poll_wait(shared, this.location, cx))?;
        }
    }
}

impl<T, F> Drop for WaitFor<'_, T, F> {
    fn drop(&mut self) {
        Shared::<T>::unregister(&self.shared.rx_waiters, &mut self.cursor.key);
    }
}

impl<T, F> fmt::Debug for WaitFor<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WaitFor({:?})", self.shared.res)
    }
}

/// The future of [`Sender::closed`].
#[must_use = "futures do nothing unless awaited"]
pub struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<Key>,
    location: &'static Location<'static>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let shared = this.shared;
        if shared.rx_count.load(Ordering::Acquire) == 0 {
            Shared::<T>::unregister(&shared.tx_waiters, &mut this.key);
            return Poll::Ready(());
        }
        let mut list = shared.tx_waiters.lock();
        if shared.rx_count.load(Ordering::Acquire) == 0 {
            let removed = this.key.take().map(|k| list.remove(k));
            drop(list);
            drop(removed);
            return Poll::Ready(());
        }
        let replaced = Shared::<T>::register(&mut list, &mut this.key, cx);
        drop(list);
        drop(replaced);
        shared.res.wait_here(this.location);
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        Shared::<T>::unregister(&self.shared.tx_waiters, &mut self.key);
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Closed({:?})", self.shared.res)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn dropped_changed_future_leaves_no_waiter_and_loses_no_change() {
        let (tx, mut rx) = channel(0);
        let mut cx = Context::from_waker(Waker::noop());
        {
            let mut fut = rx.changed();
            assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
            assert_eq!(tx.shared.rx_waiters.lock().len(), 1);
            tx.send(1).unwrap();
        }
        assert!(tx.shared.rx_waiters.lock().is_empty());
        assert!(rx.has_changed().unwrap());
    }

    #[test]
    fn version_step_never_touches_the_closed_bit() {
        let (tx, mut rx) = channel(0);
        tx.shared.state.store(usize::MAX - 1, Ordering::Relaxed);
        rx.mark_unchanged();
        tx.send(1).unwrap(); // the version wraps to zero
        assert_eq!(tx.shared.state.load(Ordering::Relaxed), 0);
        assert_eq!(tx.shared.state.load(Ordering::Relaxed) & CLOSED, 0);
        drop(tx);
        assert!(rx.has_changed().unwrap());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::thread;

    /// A send racing with a waiting `changed()` always wakes it (the sender
    /// stays alive, so only the send can complete the wait).
    #[test]
    fn loom_watch_send_vs_changed() {
        loom::model(|| {
            let (tx, mut rx) = channel(0u32);
            let t = thread::spawn(move || {
                tx.send(1).unwrap();
                tx
            });
            assert_eq!(loom::future::block_on(rx.changed()), Ok(()));
            assert_eq!(*rx.borrow(), 1);
            drop(t.join().unwrap());
        });
    }

    /// Dropping the sender while a receiver waits wakes it with an error.
    #[test]
    fn loom_watch_sender_drop_wakes_waiter() {
        loom::model(|| {
            let (tx, mut rx) = channel(0u32);
            let t = thread::spawn(move || drop(tx));
            assert!(loom::future::block_on(rx.changed()).is_err());
            t.join().unwrap();
        });
    }

    /// A send then a drop: the receiver sees the value before the error.
    #[test]
    fn loom_watch_last_value_before_close() {
        loom::model(|| {
            let (tx, mut rx) = channel(0u32);
            let t = thread::spawn(move || {
                tx.send(1).unwrap();
            });
            assert_eq!(loom::future::block_on(rx.changed()), Ok(()));
            assert_eq!(*rx.borrow_and_update(), 1);
            assert!(loom::future::block_on(rx.changed()).is_err());
            t.join().unwrap();
        });
    }

    /// Dropping the last receiver wakes the sender's `closed()`.
    #[test]
    fn loom_watch_receiver_drop_wakes_closed() {
        loom::model(|| {
            let (tx, rx) = channel(0u32);
            let t = thread::spawn(move || drop(rx));
            loom::future::block_on(tx.closed());
            assert!(tx.is_closed());
            t.join().unwrap();
        });
    }
}
