//! A channel that carries one value from one task to another.
//!
//! ```
//! use brisk::sync::oneshot;
//!
//! # brisk::run(async {
//! let (tx, rx) = oneshot::channel();
//! brisk::spawn(async move {
//!     let _ = tx.send("paid");
//! });
//! assert_eq!(rx.await, Ok("paid"));
//! # });
//! ```
//!
//! The [`Receiver`] is itself a future; it resolves to the value, or to
//! [`RecvError`] if the [`Sender`] is dropped without sending. The sender can
//! wait for the receiver to go away with [`Sender::closed`], to stop work
//! whose result nobody wants.
//!
//! # Design
//! One allocation holds a state word, the value, and one waker cell per side.
//! Sending is a store and one compare-and-swap; there is no lock.
//!
//! Ground rules (each bit of `state`, and who may touch which cell):
//! - `COMPLETE`: the sender is done: it sent (the value cell holds the value)
//!   or was dropped (the cell is empty). Set once, never cleared, never set
//!   once `CLOSED` is.
//! - `CLOSED`: the receiver closed or was dropped. Set once, never cleared.
//! - The value cell belongs to the sender until it sets `COMPLETE` (it writes
//!   the value first, and reads it back if `CLOSED` refused the completion).
//!   From `COMPLETE` on it belongs to the receiver, which saw the bit with
//!   Acquire ordering.
//! - `RX_WAKER`: the receiver's waker cell holds a waker the sender may read.
//!   The receiver writes the cell only while the bit is clear (it clears the
//!   bit first, and gives up the cell if `COMPLETE` was already set). The
//!   sender reads it only if the bit was set when it set `COMPLETE`, after
//!   which the receiver never writes it again.
//! - `TX_WAKER`: the same for the sender's waker cell (used by
//!   [`Sender::closed`]), read by the receiver when it sets `CLOSED`.
//! - Wakers left in the cells are dropped with the allocation.

use crate::loom::{AtomicUsize, Ordering, UnsafeCell};
use crate::resource::Resource;
use brisk_core::wait::ResourceKind;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// The sender finished: it sent a value or was dropped.
const COMPLETE: usize = 0b0001;
/// The receiver closed or was dropped.
const CLOSED: usize = 0b0010;
/// `rx_waker` holds a waker the sender may wake.
const RX_WAKER: usize = 0b0100;
/// `tx_waker` holds a waker the receiver may wake.
const TX_WAKER: usize = 0b1000;

struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
    res: Resource,
}

// SAFETY: the cells are handed between the two sides by the ground rules,
// each hand-over being a Release/Acquire pair on `state`, so no cell is
// accessed by two threads unless both only read it. The value moves from one
// thread to another once, which needs `T: Send` and nothing more; wakers are
// `Send + Sync`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// Sets `COMPLETE` unless the receiver closed first, and wakes the
    /// receiver. Returns false (and changes nothing) if it had closed.
    fn complete(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & CLOSED != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                s,
                s | COMPLETE,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        if s & RX_WAKER != 0 {
            self.rx_waker.with(|w| {
                // SAFETY: `RX_WAKER` was set when we set `COMPLETE`: the
                // receiver wrote the cell before setting the bit (our AcqRel
                // CAS acquired that write), and it writes the cell again only
                // after clearing the bit and seeing `COMPLETE` clear, which
                // can no longer happen. The receiver may read the cell at the
                // same time (`will_wake`); two reads are fine.
                let w = unsafe { &*w };
                if let Some(w) = w {
                    w.wake_by_ref();
                }
            });
        }
        true
    }

    /// Registers `waker` in the cell guarded by `bit`, unless `done` is set
    /// in the state (before or during registration). Returns true if `done`
    /// was seen, in which case the cell was not left registered anew.
    ///
    /// # Safety
    /// The caller is the side that owns `cell` (the receiver for `RX_WAKER`,
    /// the sender for `TX_WAKER`), and `done` is the bit the other side sets
    /// before reading the cell.
    unsafe fn register(
        &self,
        cell: &UnsafeCell<Option<Waker>>,
        bit: usize,
        done: usize,
        waker: &Waker,
    ) -> bool {
        let mut s = self.state.load(Ordering::Acquire);
        if s & done != 0 {
            return true;
        }
        if s & bit != 0 {
            // SAFETY: the bit is set, so the other side may be reading the
            // cell too, but nobody writes it: reading is fine.
            let same = cell.with(|w| unsafe { &*w }.as_ref().is_some_and(|w| w.will_wake(waker)));
            if same {
                return false;
            }
            s = self.state.fetch_and(!bit, Ordering::AcqRel);
            if s & done != 0 {
                // The other side saw the bit set and may be reading the
                // cell: leave it alone.
                return true;
            }
        }
        // SAFETY: the bit is clear and `done` was clear when we cleared it,
        // so the other side will not read the cell until we set the bit
        // again; as the owning side (the caller's contract) nobody else
        // writes it.
        let old = cell.with_mut(|w| unsafe { (*w).replace(waker.clone()) });
        s = self.state.fetch_or(bit, Ordering::AcqRel);
        drop(old);
        s & done != 0
    }
}

/// Creates a one-value channel.
///
/// # Examples
/// ```
/// use brisk::sync::oneshot;
///
/// # brisk::run(async {
/// let (tx, rx) = oneshot::channel::<u32>();
/// tx.send(3).unwrap();
/// assert_eq!(rx.await, Ok(3));
/// # });
/// ```
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let res = Resource::new(ResourceKind::Channel);
    let id = res.id();
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
        res,
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver {
            inner: Some(inner),
            location: Location::caller(),
            id,
        },
    )
}

/// Sends the one value of a [`channel`].
///
/// Dropping the sender without sending wakes the receiver with
/// [`RecvError`].
///
/// # Examples
/// ```
/// use brisk::sync::oneshot;
///
/// # brisk::run(async {
/// let (tx, rx) = oneshot::channel::<u32>();
/// drop(tx);
/// assert!(rx.await.is_err());
/// # });
/// ```
pub struct Sender<T> {
    /// `None` only after `send` took it.
    inner: Option<Arc<Inner<T>>>,
}

/// Receives the one value of a [`channel`]; a future of the value.
///
/// Await it (it is `Unpin`, so `&mut rx` can be awaited or polled in a
/// `select!` loop), poll it with [`try_recv`](Receiver::try_recv), or block a
/// plain thread with [`recv_blocking`](Receiver::recv_blocking).
///
/// Cancel safety: dropping the receiver closes the channel; a future that
/// awaits `&mut rx` can be dropped at any time without losing the value, which
/// is only taken out by the poll that returns it.
///
/// # Examples
/// ```
/// use brisk::sync::oneshot;
///
/// # brisk::run(async {
/// let (tx, rx) = oneshot::channel();
/// brisk::spawn(async move { tx.send(5u8).unwrap() });
/// assert_eq!(rx.await, Ok(5));
/// # });
/// ```
pub struct Receiver<T> {
    /// `None` once a value or an error was returned.
    inner: Option<Arc<Inner<T>>>,
    /// Where the channel was created: the receiver's wait-point.
    location: &'static Location<'static>,
    /// The channel's resource id, kept after `inner` is let go.
    id: u64,
}

/// The sender was dropped without sending a value (from awaiting a
/// [`Receiver`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed: the sender was dropped without sending a value")
    }
}
impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; the sender may still send one.
    Empty,
    /// No value will come: the sender was dropped, the receiver was closed,
    /// or the value was already received.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed"),
        }
    }
}
impl std::error::Error for TryRecvError {}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        self.inner
            .as_ref()
            .expect("a live sender holds its channel")
    }

    /// Sends `value`, consuming the sender. Never waits.
    ///
    /// Returns the value back if the receiver was dropped or closed. `Ok`
    /// means the value is in the channel, not that it was received: the
    /// receiver may still drop it.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("a live sender holds its channel");
        if inner.state.load(Ordering::Acquire) & CLOSED != 0 {
            return Err(value);
        }
        // SAFETY: `COMPLETE` is clear (only the sender sets it, and this one
        // is being consumed), so the value cell is the sender's alone.
        inner.value.with_mut(|p| unsafe { *p = Some(value) });
        if inner.complete() {
            Ok(())
        } else {
            // SAFETY: `CLOSED` refused the completion, so `COMPLETE` stays
            // clear and the cell is still the sender's alone.
            let value = inner.value.with_mut(|p| unsafe { (*p).take() });
            Err(value.expect("the value written just above"))
        }
    }

    /// True once the receiver was dropped or closed: a value sent now would
    /// come straight back.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner().state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// Use it to stop computing a value nobody will read, for example in a
    /// `select!` against the work itself.
    ///
    /// Cancel safety: dropping the future loses nothing; it only registered
    /// interest.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::oneshot;
    ///
    /// # brisk::run(async {
    /// let (mut tx, rx) = oneshot::channel::<u32>();
    /// brisk::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    #[track_caller]
    pub fn closed(&mut self) -> Closed<'_, T> {
        Closed {
            sender: self,
            location: Location::caller(),
        }
    }

    /// Polls for the receiver to be dropped or closed; the poll form of
    /// [`closed`](Sender::closed). Only the waker of the latest call is woken.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::oneshot;
    /// use std::task::{Context, Waker};
    ///
    /// let (mut tx, rx) = oneshot::channel::<u32>();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(tx.poll_closed(&mut cx).is_pending());
    /// drop(rx);
    /// assert!(tx.poll_closed(&mut cx).is_ready());
    /// ```
    #[track_caller]
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_closed_at(cx, Location::caller())
    }

    fn poll_closed_at(
        &mut self,
        cx: &mut Context<'_>,
        location: &'static Location<'static>,
    ) -> Poll<()> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        let inner = self.inner();
        // SAFETY: we are the sender, which owns `tx_waker`; the receiver sets
        // `CLOSED` before reading it.
        if unsafe { inner.register(&inner.tx_waker, TX_WAKER, CLOSED, cx.waker()) } {
            Poll::Ready(())
        } else {
            inner.res.wait_here(location);
            Poll::Pending
        }
    }

    /// This channel's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel::<()>();
    /// assert_eq!(tx.resource_id(), rx.resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.inner().res.id()
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = &self.inner {
            inner.complete();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Some(inner) => f
                .debug_struct("oneshot::Sender")
                .field("id", &inner.res.id())
                .field("closed", &self.is_closed())
                .finish(),
            None => f.write_str("oneshot::Sender(<sent>)"),
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if one was sent, without waiting.
    ///
    /// After the value was taken (here or by awaiting), and after the sender
    /// was dropped without sending, this returns [`TryRecvError::Closed`].
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(7).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(7));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = &self.inner else {
            return Err(TryRecvError::Closed);
        };
        let s = inner.state.load(Ordering::Acquire);
        if s & COMPLETE != 0 {
            self.take_value().map_err(|_| TryRecvError::Closed)
        } else if s & CLOSED != 0 {
            self.inner = None;
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Closes the channel: the sender's [`send`](Sender::send) now fails and
    /// its [`closed`](Sender::closed) completes. A value sent before the
    /// close can still be taken with [`try_recv`](Receiver::try_recv) (or by
    /// awaiting).
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel::<u32>();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn close(&mut self) {
        let Some(inner) = &self.inner else { return };
        let prev = inner.state.fetch_or(CLOSED, Ordering::AcqRel);
        if prev & (TX_WAKER | COMPLETE | CLOSED) == TX_WAKER {
            inner.tx_waker.with(|w| {
                // SAFETY: `TX_WAKER` was set when we set `CLOSED`: the sender
                // wrote the cell before setting the bit (our AcqRel acquired
                // that write), and writes it again only after clearing the
                // bit and seeing `CLOSED` clear, which can no longer happen.
                // The sender may read it at the same time; two reads are
                // fine.
                let w = unsafe { &*w };
                if let Some(w) = w {
                    w.wake_by_ref();
                }
            });
        }
    }

    /// Blocks this thread until the value arrives; for plain threads.
    ///
    /// # Panics
    /// Inside an async task (it would block a worker thread): await the
    /// receiver there.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// std::thread::spawn(move || tx.send(9).unwrap());
    /// assert_eq!(rx.recv_blocking(), Ok(9));
    /// ```
    #[track_caller]
    pub fn recv_blocking(self) -> Result<T, RecvError> {
        crate::blocking::block_on(self)
    }

    /// This channel's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel::<()>();
    /// assert_eq!(rx.resource_id(), tx.resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.id
    }

    /// Takes the value out after `COMPLETE` was observed with Acquire
    /// ordering, and lets go of the channel.
    fn take_value(&mut self) -> Result<T, RecvError> {
        let inner = self.inner.take().expect("checked by the caller");
        // SAFETY: `COMPLETE` was observed with Acquire ordering, so the value
        // cell is the receiver's now (ground rules).
        let value = inner.value.with_mut(|p| unsafe { (*p).take() });
        value.ok_or(RecvError(()))
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// Cancel safety: the value is only taken out by the poll that returns
    /// it; until then it stays in the channel.
    ///
    /// # Panics
    /// If polled again after it returned `Ready`.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        let inner = this
            .inner
            .as_ref()
            .expect(crate::error::ONESHOT_POLLED_AFTER_COMPLETION);
        let s = inner.state.load(Ordering::Acquire);
        if s & COMPLETE == 0 && s & CLOSED != 0 {
            // Closed by us, and the sender can no longer complete.
            this.inner = None;
            return Poll::Ready(Err(RecvError(())));
        }
        // SAFETY: we are the receiver, which owns `rx_waker`; the sender sets
        // `COMPLETE` before reading it.
        if unsafe { inner.register(&inner.rx_waker, RX_WAKER, COMPLETE, cx.waker()) } {
            Poll::Ready(this.take_value())
        } else {
            inner.res.wait_here(this.location);
            Poll::Pending
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Some(inner) => f
                .debug_struct("oneshot::Receiver")
                .field("id", &inner.res.id())
                .finish(),
            None => f.write_str("oneshot::Receiver(<done>)"),
        }
    }
}

/// The future of [`Sender::closed`].
#[must_use = "futures do nothing unless awaited"]
pub struct Closed<'a, T> {
    sender: &'a mut Sender<T>,
    location: &'static Location<'static>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.sender.poll_closed_at(cx, this.location)
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Closed")
            .field("sender", &self.sender)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn receiver_wakes_after_send() {
        let (tx, mut rx) = channel::<u32>();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
        tx.send(4).unwrap();
        assert_eq!(Pin::new(&mut rx).poll(&mut cx), Poll::Ready(Ok(4)));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn value_sent_before_close_is_still_received() {
        let (tx, mut rx) = channel::<u32>();
        tx.send(4).unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok(4));
    }

    #[test]
    fn types_are_send_sync_and_unpin() {
        fn check<X: Send + Sync + Unpin>() {}
        check::<Sender<u8>>();
        check::<Receiver<u8>>();
        check::<Closed<'static, u8>>();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// The sender is dropped while the receiver waits: the receiver wakes
    /// with an error.
    #[test]
    fn loom_oneshot_sender_dropped_while_receiver_waits() {
        loom::model(|| {
            let (tx, rx) = channel::<u32>();
            let t = thread::spawn(move || drop(tx));
            assert_eq!(loom::future::block_on(rx), Err(RecvError(())));
            t.join().unwrap();
        });
    }

    /// A send and a waiting receiver: the wake-up is not lost and the value
    /// arrives.
    #[test]
    fn loom_oneshot_send_wakes_receiver() {
        loom::model(|| {
            let (tx, rx) = channel::<u32>();
            let t = thread::spawn(move || tx.send(1).unwrap());
            assert_eq!(loom::future::block_on(rx), Ok(1));
            t.join().unwrap();
        });
    }

    /// A send races the receiver's close: either the value is in the channel
    /// and can still be taken, or it came back to the sender. Never both,
    /// never neither.
    #[test]
    fn loom_oneshot_send_vs_close() {
        loom::model(|| {
            let (tx, mut rx) = channel::<u32>();
            let t = thread::spawn(move || tx.send(1));
            rx.close();
            let sent = t.join().unwrap();
            match sent {
                Ok(()) => assert_eq!(rx.try_recv(), Ok(1)),
                Err(v) => {
                    assert_eq!(v, 1);
                    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
                }
            }
        });
    }

    /// The sender waits in `closed()` while the receiver is dropped: the
    /// wake-up is not lost.
    #[test]
    fn loom_oneshot_closed_wakes_sender() {
        loom::model(|| {
            let (mut tx, rx) = channel::<u32>();
            let t = thread::spawn(move || drop(rx));
            loom::future::block_on(tx.closed());
            assert!(tx.is_closed());
            t.join().unwrap();
        });
    }
}
