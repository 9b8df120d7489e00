//! The channel core shared by the bounded and the unbounded channel, and the
//! futures both receivers (and both senders' `closed`) return.
//!
//! Ground rules:
//! - `Shared` lives in a spin lock, and every critical section is a few
//!   instructions: no message is dropped and no waker is woken under it
//!   (messages and wakers leaving the lock are dropped or woken after the
//!   unlock). Waker clones do happen under it, as in the waiter list.
//! - The receiver keeps a private queue. When it runs dry the receiver locks
//!   once and swaps it (empty) with the shared queue, so it takes the lock
//!   once per batch of messages, not once per message.
//! - The receiver registers its waker under the same lock it found the
//!   shared queue empty under, and a sender pushes and takes that waker under
//!   the lock: a push lands either before the check (and is seen) or after
//!   the registration (and wakes). A taken waker stays taken until the
//!   receiver registers again, so a burst of sends wakes it once.
//! - Bounded channels: every message in either queue holds one permit of the
//!   semaphore, from the sender's acquire until the receiver hands the
//!   message to the user or drops it. The free permits are therefore exactly
//!   the free slots.
//! - `rx_closed` is set once, under the lock, before the semaphore is closed.
//!   A push checks it under the lock and hands the message back if set, so no
//!   message enters a closed channel, and messages already queued stay
//!   receivable.
//! - `tx_closed` is set under the lock by the drop of the last sender. No
//!   sender exists afterwards, so no push follows it.
//! - A message is taken out of the receiver's queue only by a poll (or
//!   `try_recv`) that returns it: dropping a receive future loses nothing.

use crate::loom::{AtomicUsize, Ordering};
use crate::raw_semaphore::RawSemaphore;
use crate::resource::Resource;
use crate::waiters::{Key, WaitList, WakeList};
use brisk_core::spin::SpinLock;
use brisk_core::wait::ResourceKind;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::TryRecvError;

/// State shared by the senders and the receiver of one channel.
pub(super) struct Chan<T> {
    shared: SpinLock<Shared<T>>,
    /// Live senders. The one that takes it to zero sets `tx_closed`.
    tx_count: AtomicUsize,
    /// The free slots of a bounded channel (one permit per slot); `None` for
    /// an unbounded channel.
    sem: Option<RawSemaphore>,
    /// The capacity given to `channel` (0 for unbounded).
    max_capacity: usize,
    pub(super) res: Resource,
}

struct Shared<T> {
    /// Messages pushed since the receiver last swapped.
    queue: VecDeque<T>,
    /// The receiver's waker while it waits on an empty queue.
    rx_waker: Option<Waker>,
    /// The receiver closed or was dropped.
    rx_closed: bool,
    /// Every sender was dropped.
    tx_closed: bool,
    /// Senders waiting in `closed()`.
    closed_waiters: WaitList<()>,
}

/// What a refill under the lock found.
enum Refill {
    /// Messages moved into the receiver's queue.
    Got,
    /// None, and none will come.
    Closed,
    /// None yet (the waker was registered, if one was given).
    Empty,
}

impl<T> Chan<T> {
    /// A channel with one sender; bounded to `capacity` if given.
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        Chan {
            shared: SpinLock::new(Shared {
                queue: VecDeque::new(),
                rx_waker: None,
                rx_closed: false,
                tx_closed: false,
                closed_waiters: WaitList::new(),
            }),
            tx_count: AtomicUsize::new(1),
            sem: capacity.map(RawSemaphore::new),
            max_capacity: capacity.unwrap_or(0),
            res: Resource::new(ResourceKind::Channel),
        }
    }

    /// The semaphore of a bounded channel.
    #[inline]
    pub(super) fn sem(&self) -> &RawSemaphore {
        self.sem
            .as_ref()
            .expect("only bounded channels acquire slots")
    }

    /// Gives back `n` slots (bounded channels only).
    #[inline]
    fn release(&self, n: usize) {
        if let Some(sem) = &self.sem {
            sem.release(n);
        }
    }

    /// Free slots now (bounded channels).
    pub(super) fn capacity(&self) -> usize {
        self.sem().available_permits()
    }

    pub(super) fn max_capacity(&self) -> usize {
        self.max_capacity
    }

    /// Queues `value` unless the receiver is gone, and wakes the receiver.
    /// The caller already holds a slot (bounded channels); on `Err` the slot
    /// is still the caller's to give back.
    #[inline]
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let mut sh = self.shared.lock();
        if sh.rx_closed {
            return Err(value);
        }
        sh.queue.push_back(value);
        let waker = sh.rx_waker.take();
        drop(sh);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Queues `value` while holding a slot; if the receiver is gone, drops
    /// the value and gives the slot back.
    pub(super) fn push_with_permit(&self, value: T) {
        if let Err(value) = self.push(value) {
            self.release(1);
            drop(value);
        }
    }

    pub(super) fn is_rx_closed(&self) -> bool {
        self.shared.lock().rx_closed
    }

    pub(super) fn add_sender(&self) {
        // Relaxed: a new sender is made from an existing one, which keeps
        // the count above zero meanwhile.
        self.tx_count.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn drop_sender(&self) {
        if self.tx_count.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut sh = self.shared.lock();
        sh.tx_closed = true;
        let waker = sh.rx_waker.take();
        drop(sh);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Marks the receiver gone, wakes the senders waiting in `closed()`, and
    /// closes the semaphore so blocked senders fail with their message.
    fn close_rx(&self) {
        let mut sh = self.shared.lock();
        if sh.rx_closed {
            return;
        }
        sh.rx_closed = true;
        let mut wakes = WakeList::new();
        while let Some(w) = sh.closed_waiters.serve_front() {
            wakes.push(w);
        }
        drop(sh);
        if let Some(sem) = &self.sem {
            sem.close();
        }
        wakes.wake_all();
    }

    /// Polls for the receiver to be gone, for a sender's `closed()`.
    fn poll_closed(
        &self,
        key: &mut Option<Key>,
        cx: &mut Context<'_>,
        location: &'static Location<'static>,
    ) -> Poll<()> {
        let mut sh = self.shared.lock();
        if sh.rx_closed {
            let removed = key.take().map(|k| sh.closed_waiters.remove(k));
            drop(sh);
            drop(removed);
            return Poll::Ready(());
        }
        let replaced = match *key {
            // Served only by `close_rx`, which set `rx_closed` first.
            Some(k) => sh.closed_waiters.update_waker(k, cx.waker()),
            None => {
                *key = Some(sh.closed_waiters.push_back(cx.waker(), ()));
                None
            }
        };
        drop(sh);
        drop(replaced);
        self.res.wait_here(location);
        Poll::Pending
    }

    fn drop_closed(&self, key: &mut Option<Key>) {
        if let Some(k) = key.take() {
            // The guard is a temporary of this statement; the waker is
            // dropped after it.
            let removed = self.shared.lock().closed_waiters.remove(k);
            drop(removed);
        }
    }
}

/// The receiving half's state: the channel and the private queue.
pub(super) struct Rx<T> {
    pub(super) chan: Arc<Chan<T>>,
    /// Messages already swapped out of the shared queue; only the receiver
    /// touches it.
    buf: VecDeque<T>,
}

// Messages are never pinned: they move in and out by value.
impl<T> Unpin for Rx<T> {}

impl<T> Rx<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Rx<T> {
        Rx {
            chan,
            buf: VecDeque::new(),
        }
    }

    /// Moves the shared queue into the (empty) private one, or, if it is
    /// empty, says whether more can come and registers `waker`.
    fn refill(&mut self, waker: Option<&Waker>) -> Refill {
        debug_assert!(self.buf.is_empty());
        let mut sh = self.chan.shared.lock();
        if !sh.queue.is_empty() {
            std::mem::swap(&mut sh.queue, &mut self.buf);
            return Refill::Got;
        }
        if sh.rx_closed || sh.tx_closed {
            return Refill::Closed;
        }
        let Some(waker) = waker else {
            return Refill::Empty;
        };
        let old = match &sh.rx_waker {
            Some(w) if w.will_wake(waker) => None,
            _ => sh.rx_waker.replace(waker.clone()),
        };
        drop(sh);
        drop(old);
        Refill::Empty
    }

    #[inline]
    pub(super) fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
        location: &'static Location<'static>,
    ) -> Poll<Option<T>> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        if self.buf.is_empty() {
            match self.refill(Some(cx.waker())) {
                Refill::Got => {}
                Refill::Closed => return Poll::Ready(None),
                Refill::Empty => {
                    self.chan.res.wait_here(location);
                    return Poll::Pending;
                }
            }
        }
        let value = self.buf.pop_front();
        self.chan.release(1);
        Poll::Ready(value)
    }

    pub(super) fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Vec<T>,
        limit: usize,
        location: &'static Location<'static>,
    ) -> Poll<usize> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        if limit == 0 {
            return Poll::Ready(0);
        }
        if self.buf.is_empty() {
            match self.refill(Some(cx.waker())) {
                Refill::Got => {}
                Refill::Closed => return Poll::Ready(0),
                Refill::Empty => {
                    self.chan.res.wait_here(location);
                    return Poll::Pending;
                }
            }
        }
        let n = limit.min(self.buf.len());
        out.extend(self.buf.drain(..n));
        self.chan.release(n);
        Poll::Ready(n)
    }

    pub(super) fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if self.buf.is_empty() {
            match self.refill(None) {
                Refill::Got => {}
                Refill::Closed => return Err(TryRecvError::Disconnected),
                Refill::Empty => return Err(TryRecvError::Empty),
            }
        }
        let value = self.buf.pop_front().expect("refilled");
        self.chan.release(1);
        Ok(value)
    }

    pub(super) fn close(&mut self) {
        self.chan.close_rx();
    }

    pub(super) fn is_closed(&self) -> bool {
        let sh = self.chan.shared.lock();
        sh.rx_closed || sh.tx_closed
    }

    pub(super) fn len(&self) -> usize {
        self.buf.len() + self.chan.shared.lock().queue.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.chan.shared.lock().queue.is_empty()
    }
}

impl<T> Drop for Rx<T> {
    fn drop(&mut self) {
        self.chan.close_rx();
        let (queue, waker) = {
            let mut sh = self.chan.shared.lock();
            (std::mem::take(&mut sh.queue), sh.rx_waker.take())
        };
        let n = queue.len() + self.buf.len();
        drop(queue);
        drop(waker);
        self.buf.clear();
        self.chan.release(n);
    }
}

impl<T> fmt::Debug for Rx<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("id", &self.chan.res.id())
            .field("len", &self.len())
            .finish()
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.res)
    }
}

/// The future of `Receiver::recv` and `UnboundedReceiver::recv`.
///
/// Cancel safety: dropping it loses no message; a message is taken out only
/// by the poll that returns it.
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a, T> {
    rx: &'a mut Rx<T>,
    location: &'static Location<'static>,
}

impl<'a, T> Recv<'a, T> {
    pub(super) fn new(rx: &'a mut Rx<T>, location: &'static Location<'static>) -> Self {
        Recv { rx, location }
    }
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        this.rx.poll_recv(cx, this.location)
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("channel", &self.rx.chan)
            .finish()
    }
}

/// The future of `Receiver::recv_many` and `UnboundedReceiver::recv_many`.
///
/// Cancel safety: dropping it loses no message; messages are moved into the
/// vector only by the poll that returns their count.
#[must_use = "futures do nothing unless awaited"]
pub struct RecvMany<'a, T> {
    rx: &'a mut Rx<T>,
    out: &'a mut Vec<T>,
    limit: usize,
    location: &'static Location<'static>,
}

impl<'a, T> RecvMany<'a, T> {
    pub(super) fn new(
        rx: &'a mut Rx<T>,
        out: &'a mut Vec<T>,
        limit: usize,
        location: &'static Location<'static>,
    ) -> Self {
        RecvMany {
            rx,
            out,
            limit,
            location,
        }
    }
}

impl<T> Future for RecvMany<'_, T> {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let this = &mut *self;
        this.rx
            .poll_recv_many(cx, this.out, this.limit, this.location)
    }
}

impl<T> fmt::Debug for RecvMany<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvMany")
            .field("channel", &self.rx.chan)
            .field("limit", &self.limit)
            .finish()
    }
}

/// The future of `Sender::closed` and `UnboundedSender::closed`.
///
/// Cancel safety: dropping it loses nothing; it only registered interest.
#[must_use = "futures do nothing unless awaited"]
pub struct Closed<'a, T> {
    chan: &'a Chan<T>,
    key: Option<Key>,
    location: &'static Location<'static>,
}

impl<'a, T> Closed<'a, T> {
    pub(super) fn new(chan: &'a Chan<T>, location: &'static Location<'static>) -> Self {
        Closed {
            chan,
            key: None,
            location,
        }
    }
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.chan.poll_closed(&mut this.key, cx, this.location)
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        self.chan.drop_closed(&mut self.key);
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed")
            .field("channel", &self.chan)
            .finish()
    }
}
