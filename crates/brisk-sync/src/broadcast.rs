//! A multi-producer, multi-consumer channel where every receiver sees every
//! message.
//!
//! The channel keeps the last `capacity` messages. A receiver that falls
//! further behind is told how many it missed ([`RecvError::Lagged`]) and
//! continues from the oldest message still kept. Senders never wait. The API
//! follows `tokio::sync::broadcast`.
//!
//! ```
//! use brisk::sync::broadcast;
//!
//! # brisk::run(async {
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! tx.send("hello").unwrap();
//! assert_eq!(rx1.recv().await.unwrap(), "hello");
//! assert_eq!(rx2.recv().await.unwrap(), "hello");
//! # });
//! ```
//!
//! Ground rules:
//! - Everything lives in one `Ring` under one spin lock. Message number
//!   `pos` sits in slot `pos % capacity`; `tail` is the number of the next
//!   message. The messages kept are `tail - min(tail, capacity) .. tail`.
//! - A slot's `rem` counts the receivers that still have to read it. A
//!   message is counted for the receivers alive when it was sent; a new
//!   receiver starts at `tail`. `val.is_some()` exactly when `rem > 0`: the
//!   last reader takes the value out instead of cloning it, and a dropped
//!   receiver gives up its share of every kept message it had not read.
//!   Overwriting a slot whose `rem > 0` evicts the message for its laggards.
//!   `queued` is the number of slots with `rem > 0`.
//! - A receiver's `next` is the number of the next message it will read. It
//!   changes only in a call that returns the message (or `Lagged`), so
//!   dropping a `recv` future loses nothing.
//! - No lost wake-up: a receiver finds nothing to read and queues itself in
//!   one critical section; a send or the last sender's drop changes the ring
//!   and serves every queued receiver in one critical section.
//! - Wakers are woken, and evicted values dropped, after the lock is
//!   released (a value's destructor may use this channel).
//! - `T::clone` runs under the lock, so it must not use this channel.

use crate::resource::Resource;
use crate::waiters::{Key, WaitList, WakeList};
use brisk_core::spin::{SpinGuard, SpinLock};
use brisk_core::wait::ResourceKind;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    /// Number of the message in `val` (meaningless while `rem == 0`).
    pos: u64,
    /// Receivers that still have to read it.
    rem: usize,
    val: Option<T>,
}

struct Ring<T> {
    slots: Box<[Slot<T>]>,
    /// Number of the next message sent.
    tail: u64,
    /// Slots with `rem > 0`.
    queued: usize,
    rx_count: usize,
    tx_count: usize,
    /// Receivers waiting for a message.
    rx_waiters: WaitList<()>,
    /// `Sender::closed` futures waiting for `rx_count == 0`.
    tx_waiters: WaitList<()>,
}

struct Shared<T> {
    ring: SpinLock<Ring<T>>,
    cap: u64,
    res: Resource,
}

impl<T> Ring<T> {
    fn oldest(&self) -> u64 {
        self.tail.saturating_sub(self.slots.len() as u64)
    }

    fn slot_mut(&mut self, pos: u64) -> &mut Slot<T> {
        let i = (pos % self.slots.len() as u64) as usize;
        &mut self.slots[i]
    }

    /// Reads the message at `*next`, or says why there is none.
    fn try_recv(&mut self, next: &mut u64) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        if *next == self.tail {
            return Err(if self.tx_count == 0 {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        let oldest = self.oldest();
        if *next < oldest {
            let missed = oldest - *next;
            *next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        let pos = *next;
        let slot = self.slot_mut(pos);
        debug_assert!(
            slot.pos == pos && slot.rem > 0,
            "broadcast slot out of sync"
        );
        // Clone first: if it panics, nothing has changed.
        let value = if slot.rem == 1 {
            slot.val.take()
        } else {
            slot.val.clone()
        }
        .expect("a slot with readers left holds its value");
        slot.rem -= 1;
        if slot.rem == 0 {
            self.queued -= 1;
        }
        *next += 1;
        Ok(value)
    }

    /// Serves every waiter in `list`.
    fn serve_all(list: &mut WaitList<()>) -> WakeList {
        let mut wakes = WakeList::new();
        while let Some(w) = list.serve_front() {
            wakes.push(w);
        }
        wakes
    }
}

/// Queues `key` (or refreshes its waker) in `list`. Returns a waker to drop
/// once the lock is released.
#[must_use = "drop the replaced waker after releasing the lock"]
fn register(list: &mut WaitList<()>, key: &mut Option<Key>, cx: &Context<'_>) -> Option<Waker> {
    match *key {
        Some(k) if list.is_queued(k) => list.update_waker(k, cx.waker()),
        Some(k) => {
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

/// Creates a broadcast channel keeping the last `capacity` messages.
///
/// The capacity is used exactly as given (tokio rounds it up to a power of
/// two).
///
/// # Panics
/// If `capacity` is zero.
///
/// # Examples
/// ```
/// let (tx, mut rx) = brisk::sync::broadcast::channel(2);
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(
///     rx.try_recv(),
///     Err(brisk::sync::broadcast::TryRecvError::Lagged(1))
/// );
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "{}", crate::error::ZERO_BROADCAST_CAPACITY);
    let slots = (0..capacity)
        .map(|_| Slot {
            pos: 0,
            rem: 0,
            val: None,
        })
        .collect();
    let shared = Arc::new(Shared {
        ring: SpinLock::new(Ring {
            slots,
            tail: 0,
            queued: 0,
            rx_count: 1,
            tx_count: 1,
            rx_waiters: WaitList::new(),
            tx_waiters: WaitList::new(),
        }),
        cap: capacity as u64,
        res: Resource::new(ResourceKind::Channel),
    });
    let rx = Receiver {
        shared: shared.clone(),
        next: 0,
        key: None,
        location: Location::caller(),
    };
    (Sender { shared }, rx)
}

/// A sending half of a [`broadcast`](self) channel. Clone it for more
/// senders; the channel closes when the last one is dropped.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half of a [`broadcast`](self) channel; it sees every message
/// sent after it was created. More come from [`Sender::subscribe`] and
/// [`Receiver::resubscribe`].
///
/// It is also a [`Stream`](futures_core::Stream) of `Result<T, RecvError>`:
/// `Ok` for each message, `Err(Lagged(n))` after falling behind, and the end
/// once the channel is closed and drained. A task waiting in the stream has
/// its wait-point set to where this receiver was created.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Number of the next message to read.
    next: u64,
    /// Our waiter slot while a `recv` or the stream waits.
    key: Option<Key>,
    location: &'static Location<'static>,
}

/// The message could not be sent: there are no receivers. Holds the message.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError { .. }")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the broadcast channel has no receivers: the message was not sent")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Receiver::recv`] returned no message.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvError {
    /// Every sender was dropped and every kept message has been received.
    Closed,
    /// The receiver fell behind and this many messages were overwritten
    /// before it read them; the next receive returns the oldest kept one.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("the broadcast channel is closed and drained"),
            RecvError::Lagged(n) => write!(f, "the receiver lagged behind and missed {n} messages"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no message.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// No message is available now.
    Empty,
    /// Every sender was dropped and every kept message has been received.
    Closed,
    /// The receiver fell behind and this many messages were overwritten
    /// before it read them; the next receive returns the oldest kept one.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the broadcast channel has no message ready"),
            TryRecvError::Closed => f.write_str("the broadcast channel is closed and drained"),
            TryRecvError::Lagged(n) => {
                write!(f, "the receiver lagged behind and missed {n} messages")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The error types, also under this path for code written against
/// `tokio::sync::broadcast::error`.
pub mod error {
    pub use super::{RecvError, SendError, TryRecvError};
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver alive now; returns how many that is.
    /// Never waits: when the channel is full the oldest message is
    /// overwritten, and receivers that had not read it will get
    /// [`RecvError::Lagged`].
    ///
    /// # Errors
    /// [`SendError`] with the value if there are no receivers.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::broadcast::channel(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send(1).unwrap(), 2);
    /// drop((rx, _rx2));
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut ring = self.shared.ring.lock();
        let receivers = ring.rx_count;
        if receivers == 0 {
            return Err(SendError(value));
        }
        let pos = ring.tail;
        let slot = ring.slot_mut(pos);
        let evicted = slot.rem > 0;
        let old = slot.val.replace(value);
        slot.pos = pos;
        slot.rem = receivers;
        if !evicted {
            ring.queued += 1;
        }
        ring.tail += 1;
        let wakes = Ring::<T>::serve_all(&mut ring.rx_waiters);
        drop(ring);
        drop(old);
        wakes.wake_all();
        Ok(receivers)
    }

    /// A new receiver that will see every message sent from now on.
    ///
    /// # Examples
    /// ```
    /// let (tx, _rx) = brisk::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    #[track_caller]
    pub fn subscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared, Location::caller())
    }

    /// The number of live receivers.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::broadcast::channel::<u8>(4);
    /// assert_eq!(tx.receiver_count(), 1);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.ring.lock().rx_count
    }

    /// The number of kept messages that some receiver has yet to read
    /// (a message counts for the receivers alive when it was sent).
    ///
    /// # Examples
    /// ```
    /// let (tx, mut rx) = brisk::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(tx.len(), 2);
    /// rx.try_recv().unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.ring.lock().queued
    }

    /// True if every receiver has read every kept message.
    ///
    /// # Examples
    /// ```
    /// let (tx, mut rx) = brisk::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until every receiver has been dropped.
    ///
    /// Cancel safety: dropping the future only leaves the queue; it consumes
    /// nothing.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let (tx, rx) = brisk::sync::broadcast::channel::<u8>(4);
    /// brisk::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert_eq!(tx.receiver_count(), 0);
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
    /// let (tx, rx) = brisk::sync::broadcast::channel::<u8>(4);
    /// assert_eq!(tx.resource_id(), rx.resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.shared.res.id()
    }
}

fn new_receiver<T>(shared: &Arc<Shared<T>>, location: &'static Location<'static>) -> Receiver<T> {
    let mut ring = shared.ring.lock();
    ring.rx_count += 1;
    let next = ring.tail;
    drop(ring);
    Receiver {
        shared: shared.clone(),
        next,
        key: None,
        location,
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.ring.lock().tx_count += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut ring = self.shared.ring.lock();
        ring.tx_count -= 1;
        if ring.tx_count > 0 {
            return;
        }
        let wakes = Ring::<T>::serve_all(&mut ring.rx_waiters);
        drop(ring);
        wakes.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender")
            .field("id", &self.shared.res.id())
            .field("capacity", &self.shared.cap)
            .finish()
    }
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next message.
    ///
    /// # Errors
    /// - [`RecvError::Lagged`]`(n)` if `n` messages were overwritten before
    ///   this receiver read them; the next call returns the oldest kept one.
    /// - [`RecvError::Closed`] once every sender is dropped and every kept
    ///   message has been received.
    ///
    /// Cancel safety: the receiver moves past a message only when the future
    /// returns it; dropping the future earlier loses no message and no
    /// wake-up.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::broadcast::{self, RecvError};
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = broadcast::channel(4);
    /// brisk::spawn(async move {
    ///     tx.send(1).unwrap();
    ///     tx.send(2).unwrap();
    /// });
    /// assert_eq!(rx.recv().await, Ok(1));
    /// assert_eq!(rx.recv().await, Ok(2));
    /// assert_eq!(rx.recv().await, Err(RecvError::Closed));
    /// # });
    /// ```
    #[track_caller]
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            rx: self,
            location: Location::caller(),
        }
    }

    /// Takes the next message if one is ready.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if none is ready yet; otherwise as for
    /// [`recv`](Receiver::recv).
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::broadcast::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut ring = self.shared.ring.lock();
        let r = ring.try_recv(&mut self.next);
        let mut removed = None;
        if !matches!(r, Err(TryRecvError::Empty)) {
            removed = self.key.take().map(|k| ring.rx_waiters.remove(k));
        }
        drop(ring);
        drop(removed);
        r
    }

    /// Blocks this thread until the next message; for plain threads.
    ///
    /// # Errors
    /// As for [`recv`](Receiver::recv).
    ///
    /// # Panics
    /// Inside an async task (it would block a worker thread): use
    /// [`recv`](Receiver::recv) there.
    ///
    /// # Examples
    /// ```
    /// let (tx, mut rx) = brisk::sync::broadcast::channel(4);
    /// let t = std::thread::spawn(move || rx.recv_blocking());
    /// tx.send(3).unwrap();
    /// assert_eq!(t.join().unwrap(), Ok(3));
    /// ```
    #[track_caller]
    pub fn recv_blocking(&mut self) -> Result<T, RecvError> {
        crate::blocking::block_on(self.recv())
    }

    fn poll_recv(
        &mut self,
        location: &'static Location<'static>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        let mut ring = self.shared.ring.lock();
        let r = match ring.try_recv(&mut self.next) {
            Ok(v) => Ok(v),
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {
                let replaced = register(&mut ring.rx_waiters, &mut self.key, cx);
                drop(ring);
                drop(replaced);
                self.shared.res.wait_here(location);
                return Poll::Pending;
            }
        };
        let removed = self.key.take().map(|k| ring.rx_waiters.remove(k));
        drop(ring);
        drop(removed);
        Poll::Ready(r)
    }
}

impl<T> Receiver<T> {
    /// A new receiver that will see every message sent from now on (not the
    /// ones this receiver has yet to read).
    ///
    /// # Examples
    /// ```
    /// let (tx, mut rx) = brisk::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx2.try_recv(), Ok(2));
    /// ```
    #[track_caller]
    pub fn resubscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared, Location::caller())
    }

    /// The number of messages sent that this receiver has yet to read. More
    /// than the capacity means the next receive reports
    /// [`Lagged`](RecvError::Lagged).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        let tail = self.shared.ring.lock().tail;
        usize::try_from(tail - self.next).unwrap_or(usize::MAX)
    }

    /// True if this receiver has read every message sent.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::broadcast::channel(4);
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if both receivers belong to the same channel.
    ///
    /// # Examples
    /// ```
    /// let (_tx, rx) = brisk::sync::broadcast::channel::<u8>(4);
    /// let (_tx2, other) = brisk::sync::broadcast::channel::<u8>(4);
    /// assert!(rx.same_channel(&rx.resubscribe()));
    /// assert!(!rx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// This channel's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = brisk::sync::broadcast::channel::<u8>(4);
    /// assert_eq!(rx.resource_id(), tx.resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.shared.res.id()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut ring: SpinGuard<'_, Ring<T>> = self.shared.ring.lock();
        let removed = self.key.take().map(|k| ring.rx_waiters.remove(k));
        // Give up our share of every kept message we had not read.
        let mut dropped = Vec::new();
        for pos in self.next.max(ring.oldest())..ring.tail {
            let slot = ring.slot_mut(pos);
            slot.rem -= 1;
            if slot.rem == 0 {
                dropped.extend(slot.val.take());
                ring.queued -= 1;
            }
        }
        ring.rx_count -= 1;
        let wakes = if ring.rx_count == 0 {
            Ring::<T>::serve_all(&mut ring.tx_waiters)
        } else {
            WakeList::new()
        };
        drop(ring);
        drop(removed);
        drop(dropped);
        wakes.wake_all();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("id", &self.shared.res.id())
            .field("next", &self.next)
            .finish()
    }
}

/// Yields `Ok` for each message and `Err(Lagged(n))` after falling behind;
/// ends once the channel is closed and drained.
///
/// Cancel safety: as for [`Receiver::recv`].
impl<T: Clone> futures_core::Stream for Receiver<T> {
    type Item = Result<T, RecvError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match std::task::ready!(this.poll_recv(this.location, cx)) {
            Err(RecvError::Closed) => Poll::Ready(None),
            r => Poll::Ready(Some(r)),
        }
    }
}

/// The future of [`Receiver::recv`].
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    location: &'static Location<'static>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let location = self.location;
        self.rx.poll_recv(location, cx)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(k) = self.rx.key.take() {
            // The guard is a temporary of this statement; the waker is
            // dropped after it.
            let removed = self.rx.shared.ring.lock().rx_waiters.remove(k);
            drop(removed);
        }
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recv({:?})", self.rx.shared.res)
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
        let mut ring = this.shared.ring.lock();
        if ring.rx_count == 0 {
            let removed = this.key.take().map(|k| ring.tx_waiters.remove(k));
            drop(ring);
            drop(removed);
            return Poll::Ready(());
        }
        let replaced = register(&mut ring.tx_waiters, &mut this.key, cx);
        drop(ring);
        drop(replaced);
        this.shared.res.wait_here(this.location);
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            // The guard is a temporary of this statement; the waker is
            // dropped after it.
            let removed = self.shared.ring.lock().tx_waiters.remove(k);
            drop(removed);
        }
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
    fn last_reader_takes_the_value_and_drops_free_it() {
        let (tx, mut rx1) = channel(4);
        let rx2 = tx.subscribe();
        let v = Arc::new(());
        tx.send(v.clone()).unwrap();
        assert_eq!(Arc::strong_count(&v), 2);
        drop(rx1.try_recv().unwrap());
        assert_eq!(Arc::strong_count(&v), 2, "rx2 still needs it");
        drop(rx2);
        assert_eq!(
            Arc::strong_count(&v),
            1,
            "freed by the last receiver's drop"
        );
        assert!(tx.is_empty());
    }

    #[test]
    fn dropped_recv_future_leaves_no_waiter() {
        let (tx, mut rx) = channel::<u8>(1);
        let mut cx = Context::from_waker(Waker::noop());
        {
            let mut fut = rx.recv();
            assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
            assert_eq!(tx.shared.ring.lock().rx_waiters.len(), 1);
        }
        assert!(tx.shared.ring.lock().rx_waiters.is_empty());
    }

    #[test]
    fn eviction_keeps_queued_count() {
        let (tx, _rx) = channel(2);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(tx.len(), 2);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::thread;

    /// A send racing with a waiting `recv` always wakes it (the sender
    /// stays alive, so only the sends can complete the waits).
    #[test]
    fn loom_broadcast_send_vs_recv() {
        loom::model(|| {
            let (tx, mut rx) = channel(2);
            let t = thread::spawn(move || {
                tx.send(1u32).unwrap();
                tx.send(2).unwrap();
                tx
            });
            assert_eq!(loom::future::block_on(rx.recv()), Ok(1));
            assert_eq!(loom::future::block_on(rx.recv()), Ok(2));
            drop(t.join().unwrap());
        });
    }

    /// Dropping the last sender while a receiver waits wakes it with
    /// `Closed`, after any message sent before the drop.
    #[test]
    fn loom_broadcast_sender_drop_wakes_waiter() {
        loom::model(|| {
            let (tx, mut rx) = channel(1);
            let t = thread::spawn(move || {
                tx.send(1u32).unwrap();
            });
            assert_eq!(loom::future::block_on(rx.recv()), Ok(1));
            assert_eq!(loom::future::block_on(rx.recv()), Err(RecvError::Closed));
            t.join().unwrap();
        });
    }

    /// With capacity 1, a receiver either keeps up or is told it lagged by
    /// exactly the messages it missed; it always ends on the last message.
    #[test]
    fn loom_broadcast_lagging_cap_1() {
        loom::model(|| {
            let (tx, mut rx) = channel(1);
            let t = thread::spawn(move || {
                tx.send(1u32).unwrap();
                tx.send(2).unwrap();
                tx
            });
            let first = loom::future::block_on(rx.recv());
            let second = loom::future::block_on(rx.recv());
            assert!(
                matches!(
                    (first, second),
                    (Ok(1), Ok(2)) | (Err(RecvError::Lagged(1)), Ok(2))
                ),
                "{first:?} {second:?}"
            );
            let tx = t.join().unwrap();
            assert!(tx.is_empty());
        });
    }

    /// A receiver dropped while a message is sent: the message's reader
    /// count and `len` stay consistent.
    #[test]
    fn loom_broadcast_receiver_drop_vs_send() {
        loom::model(|| {
            let (tx, rx) = channel(1);
            let mut rx2 = tx.subscribe();
            let t = thread::spawn(move || drop(rx));
            tx.send(1u32).unwrap();
            t.join().unwrap();
            assert_eq!(tx.len(), 1);
            assert_eq!(rx2.try_recv(), Ok(1));
            assert!(tx.is_empty());
        });
    }
}
