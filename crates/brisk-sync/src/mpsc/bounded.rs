//! The bounded channel: senders wait for a free slot.

use super::chan::{Chan, Closed, Recv, RecvMany, Rx};
use super::{SendError, TryRecvError, TrySendError};
use crate::raw_semaphore::{AcquireState, TryAcquire};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Creates a channel that holds at most `capacity` messages.
///
/// A sender that finds it full waits for a slot, in arrival order.
///
/// # Panics
/// If `capacity` is zero, or larger than
/// [`Semaphore::MAX_PERMITS`](crate::Semaphore::MAX_PERMITS).
///
/// # Examples
/// ```
/// use brisk::sync::mpsc;
///
/// # brisk::run(async {
/// let (tx, mut rx) = mpsc::channel(8);
/// brisk::spawn(async move {
///     for i in 0..3 {
///         tx.send(i).await.unwrap();
///     }
/// });
/// assert_eq!(rx.recv().await, Some(0));
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, Some(2));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "{}", crate::error::ZERO_CAPACITY);
    let chan = Arc::new(Chan::new(Some(capacity)));
    (
        Sender { chan: chan.clone() },
        Receiver { rx: Rx::new(chan) },
    )
}

/// Sends messages into a bounded [`channel`]. Clone it for more producers;
/// the receiver sees `None` once every sender is dropped.
///
/// Messages from one sender arrive in the order they were sent.
///
/// # Examples
/// ```
/// use brisk::sync::mpsc;
///
/// # brisk::run(async {
/// let (tx, mut rx) = mpsc::channel(4);
/// let tx2 = tx.clone();
/// tx.send("a").await.unwrap();
/// tx2.send("b").await.unwrap();
/// drop((tx, tx2));
/// assert_eq!(rx.recv().await, Some("a"));
/// assert_eq!(rx.recv().await, Some("b"));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives the messages of a bounded [`channel`].
///
/// Also a [`Stream`](futures_core::Stream) of the messages.
///
/// # Examples
/// ```
/// use brisk::sync::mpsc;
///
/// # brisk::run(async {
/// let (tx, mut rx) = mpsc::channel(4);
/// brisk::spawn(async move { tx.send(1).await.unwrap() });
/// while let Some(v) = rx.recv().await {
///     assert_eq!(v, 1);
/// }
/// # });
/// ```
pub struct Receiver<T> {
    rx: Rx<T>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for a free slot if the channel is full.
    ///
    /// Returns the message back in [`SendError`] if the receiver is dropped
    /// or closed, including while this waits.
    ///
    /// Cancel safety: dropping the future before it completes means nothing
    /// was sent; the message is dropped with the future, and its place in
    /// the queue of waiting senders goes to the next one. To keep the
    /// message when a `select!` branch loses, wait for a slot with
    /// [`reserve`](Sender::reserve) and send into the permit.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.send(1).await.unwrap();
    /// assert_eq!(rx.recv().await, Some(1));
    /// drop(rx);
    /// assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    /// # });
    /// ```
    #[track_caller]
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            sender: self,
            st: AcquireState::new(1),
            value: Some(value),
            location: Location::caller(),
        }
    }

    /// Sends `value` if a slot is free now, without waiting.
    ///
    /// Fails with [`TrySendError::Full`] when the channel is full or other
    /// senders already wait for a slot (they are served first), and with
    /// [`TrySendError::Closed`] when the receiver is gone; both carry the
    /// message back.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc::{self, TrySendError};
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// rx.close();
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.sem().try_acquire(1) {
            Ok(()) => {}
            Err(TryAcquire::Closed) => return Err(TrySendError::Closed(value)),
            Err(TryAcquire::NoPermits) => return Err(TrySendError::Full(value)),
        }
        self.chan.push(value).map_err(|value| {
            self.chan.sem().release(1);
            TrySendError::Closed(value)
        })
    }

    /// Blocks this thread until `value` is sent; for plain threads.
    ///
    /// # Panics
    /// Inside an async task (it would block a worker thread): use
    /// [`send`](Sender::send) there.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// std::thread::spawn(move || {
    ///     tx.send_blocking(1).unwrap();
    ///     tx.send_blocking(2).unwrap();
    /// });
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, Some(2));
    /// # });
    /// ```
    #[track_caller]
    pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
        crate::blocking::block_on(self.send(value))
    }

    /// Waits for a free slot and holds it in a [`Permit`], which sends
    /// without waiting. Fails if the receiver is dropped or closed.
    ///
    /// Cancel safety: dropping the future before it completes gives back the
    /// slot if one had already been granted to it; no slot or wake-up is
    /// lost. This is the way to send from a `select!` branch without losing
    /// the message: reserve in the branch, and keep the message outside.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.reserve().await.unwrap();
    /// assert_eq!(tx.capacity(), 0);
    /// permit.send("ready");
    /// assert_eq!(rx.recv().await, Some("ready"));
    /// # });
    /// ```
    #[track_caller]
    pub fn reserve(&self) -> Reserve<'_, T> {
        Reserve {
            sender: self,
            st: AcquireState::new(1),
            done: false,
            location: Location::caller(),
        }
    }

    /// Takes a free slot now, without waiting.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc::{self, TrySendError};
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    /// drop(permit);
    /// assert!(tx.try_reserve().is_ok());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.chan.sem().try_acquire(1) {
            Ok(()) => Ok(Permit { sender: self }),
            Err(TryAcquire::Closed) => Err(TrySendError::Closed(())),
            Err(TryAcquire::NoPermits) => Err(TrySendError::Full(())),
        }
    }

    /// Like [`reserve`](Sender::reserve), but the permit owns the sender, so
    /// it can be moved into another task.
    ///
    /// Cancel safety: as for [`reserve`](Sender::reserve).
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.reserve_owned().await.unwrap();
    /// brisk::spawn(async move {
    ///     let _tx = permit.send(7);
    /// });
    /// assert_eq!(rx.recv().await, Some(7));
    /// # });
    /// ```
    #[track_caller]
    pub fn reserve_owned(self) -> ReserveOwned<T> {
        ReserveOwned {
            sender: Some(self),
            st: AcquireState::new(1),
            location: Location::caller(),
        }
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// Cancel safety: dropping the future loses nothing; it only registered
    /// interest.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, rx) = mpsc::channel::<u8>(1);
    /// brisk::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    #[track_caller]
    pub fn closed(&self) -> Closed<'_, T> {
        Closed::new(&self.chan, Location::caller())
    }

    /// True once the receiver was dropped or closed.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<u8>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Free slots now: the capacity minus queued messages and held permits.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The capacity the channel was created with.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(4);
    /// assert_eq!(tx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.max_capacity()
    }

    /// True if both senders feed the same channel.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (a, _rx) = mpsc::channel::<u8>(1);
    /// let (b, _rx2) = mpsc::channel::<u8>(1);
    /// assert!(a.same_channel(&a.clone()));
    /// assert!(!a.same_channel(&b));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// This channel's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<u8>(1);
    /// assert_eq!(tx.resource_id(), rx.resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.chan.res.id()
    }

    /// One step of `send`/`reserve`: waits for a slot. `Err` means the
    /// receiver is gone.
    fn poll_slot(
        &self,
        st: &mut AcquireState,
        cx: &mut Context<'_>,
        location: &'static Location<'static>,
    ) -> Poll<Result<(), ()>> {
        std::task::ready!(brisk_core::coop::poll_proceed(cx));
        match self.chan.sem().poll_acquire(st, cx) {
            Poll::Ready(r) => Poll::Ready(r),
            Poll::Pending => {
                self.chan.res.wait_here(location);
                Poll::Pending
            }
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("id", &self.chan.res.id())
            .field("capacity", &self.capacity())
            .field("max_capacity", &self.max_capacity())
            .finish()
    }
}

impl<T> Receiver<T> {
    /// Waits for the next message; `None` once the channel is closed (every
    /// sender dropped, or [`close`](Receiver::close) called) and drained.
    ///
    /// Cancel safety: dropping the future loses no message; a message is
    /// taken out of the channel only by the poll that returns it, so `recv`
    /// can be used in a `select!` loop.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// brisk::spawn(async move { tx.send("hi").await.unwrap() });
    /// assert_eq!(rx.recv().await, Some("hi"));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    #[track_caller]
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv::new(&mut self.rx, Location::caller())
    }

    /// Waits for at least one message, then moves up to `limit` messages
    /// into `buffer`; returns how many. Returns 0 right away if `limit` is
    /// 0, and 0 once the channel is closed and drained.
    ///
    /// Cancel safety: as for [`recv`](Receiver::recv); messages move into
    /// `buffer` only in the poll that returns their count.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::channel(8);
    /// for i in 0..5 {
    ///     tx.send(i).await.unwrap();
    /// }
    /// let mut batch = Vec::new();
    /// assert_eq!(rx.recv_many(&mut batch, 3).await, 3);
    /// assert_eq!(batch, [0, 1, 2]);
    /// # });
    /// ```
    #[track_caller]
    pub fn recv_many<'a>(&'a mut self, buffer: &'a mut Vec<T>, limit: usize) -> RecvMany<'a, T> {
        RecvMany::new(&mut self.rx, buffer, limit, Location::caller())
    }

    /// Takes the next message if there is one, without waiting.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// Blocks this thread until a message arrives (or the channel closes);
    /// for plain threads.
    ///
    /// # Panics
    /// Inside an async task (it would block a worker thread): use
    /// [`recv`](Receiver::recv) there.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// std::thread::spawn(move || tx.send_blocking(5).unwrap());
    /// assert_eq!(rx.recv_blocking(), Some(5));
    /// assert_eq!(rx.recv_blocking(), None);
    /// ```
    #[track_caller]
    pub fn recv_blocking(&mut self) -> Option<T> {
        crate::blocking::block_on(self.recv())
    }

    /// Polls for the next message; the poll form of
    /// [`recv`](Receiver::recv), for hand-written futures and streams.
    ///
    /// Cancel safety: a message is taken out only when this returns
    /// `Ready(Some(_))`.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    /// ```
    #[track_caller]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx, Location::caller())
    }

    /// Closes the channel for sending: waiting and future sends fail with
    /// their message, and senders' [`closed`](Sender::closed) completes.
    /// Messages already queued can still be received; after them `recv`
    /// returns `None`.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::channel(2);
    /// tx.send(1).await.unwrap();
    /// rx.close();
    /// assert!(tx.send(2).await.is_err());
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub fn close(&mut self) {
        self.rx.close()
    }

    /// True once every sender was dropped or [`close`](Receiver::close) was
    /// called. Queued messages may remain.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<u8>(1);
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }

    /// Messages queued now.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True if no message is queued now.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(4);
    /// assert!(rx.is_empty());
    /// tx.try_send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Free slots now.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.rx.chan.capacity()
    }

    /// The capacity the channel was created with.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (_tx, rx) = mpsc::channel::<u8>(4);
    /// assert_eq!(rx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.rx.chan.max_capacity()
    }

    /// This channel's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<u8>(1);
    /// assert_eq!(rx.resource_id(), tx.resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.rx.chan.res.id()
    }
}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    #[track_caller]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx, Location::caller())
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.rx, f)
    }
}

/// The future of [`Sender::send`].
///
/// Cancel safety: dropping it before it completes means nothing was sent;
/// the message is dropped with it.
#[must_use = "futures do nothing unless awaited"]
pub struct Send<'a, T> {
    sender: &'a Sender<T>,
    st: AcquireState,
    /// `None` once the future completed.
    value: Option<T>,
    location: &'static Location<'static>,
}

// The message is never pinned: it is moved out by value.
impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(
            this.value.is_some(),
            "{}",
            crate::error::MPSC_SEND_POLLED_AFTER_COMPLETION
        );
        let granted = std::task::ready!(this.sender.poll_slot(&mut this.st, cx, this.location));
        // The slot (if any) now belongs to the message.
        this.st.mark_done();
        let value = this.value.take().expect("checked above");
        if granted.is_err() {
            return Poll::Ready(Err(SendError(value)));
        }
        let chan = &this.sender.chan;
        Poll::Ready(chan.push(value).map_err(|value| {
            chan.sem().release(1);
            SendError(value)
        }))
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        self.sender.chan.sem().drop_acquire(&mut self.st);
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send")
            .field("sender", &self.sender)
            .finish()
    }
}

/// The future of [`Sender::reserve`].
///
/// Cancel safety: dropping it gives back a slot it had been granted.
#[must_use = "futures do nothing unless awaited"]
pub struct Reserve<'a, T> {
    sender: &'a Sender<T>,
    st: AcquireState,
    /// The future completed; polling it again is a bug.
    done: bool,
    location: &'static Location<'static>,
}

impl<'a, T> Future for Reserve<'a, T> {
    type Output = Result<Permit<'a, T>, SendError<()>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let sender = this.sender;
        assert!(
            !this.done,
            "{}",
            crate::error::MPSC_RESERVE_POLLED_AFTER_COMPLETION
        );
        let granted = std::task::ready!(sender.poll_slot(&mut this.st, cx, this.location));
        // The slot (if any) now belongs to the permit.
        this.st.mark_done();
        this.done = true;
        match granted {
            Ok(()) => Poll::Ready(Ok(Permit { sender })),
            Err(()) => Poll::Ready(Err(SendError(()))),
        }
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        self.sender.chan.sem().drop_acquire(&mut self.st);
    }
}

impl<T> fmt::Debug for Reserve<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserve")
            .field("sender", &self.sender)
            .finish()
    }
}

/// The future of [`Sender::reserve_owned`].
///
/// Cancel safety: dropping it gives back a slot it had been granted (and
/// drops the sender it owns).
#[must_use = "futures do nothing unless awaited"]
pub struct ReserveOwned<T> {
    /// `None` once the future completed.
    sender: Option<Sender<T>>,
    st: AcquireState,
    location: &'static Location<'static>,
}

impl<T> Future for ReserveOwned<T> {
    type Output = Result<OwnedPermit<T>, SendError<()>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let sender = this
            .sender
            .as_ref()
            .expect(crate::error::MPSC_RESERVE_POLLED_AFTER_COMPLETION);
        let granted = std::task::ready!(sender.poll_slot(&mut this.st, cx, this.location));
        this.st.mark_done();
        let sender = this.sender.take().expect("checked above");
        match granted {
            Ok(()) => Poll::Ready(Ok(OwnedPermit {
                sender: Some(sender),
            })),
            Err(()) => Poll::Ready(Err(SendError(()))),
        }
    }
}

impl<T> Drop for ReserveOwned<T> {
    fn drop(&mut self) {
        if let Some(sender) = &self.sender {
            sender.chan.sem().drop_acquire(&mut self.st);
        }
    }
}

impl<T> fmt::Debug for ReserveOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReserveOwned")
            .field("sender", &self.sender)
            .finish()
    }
}

/// One reserved slot of a bounded channel: [`send`](Permit::send) never
/// waits. Dropping the permit unused gives the slot back.
///
/// # Examples
/// ```
/// use brisk::sync::mpsc;
///
/// # brisk::run(async {
/// let (tx, mut rx) = mpsc::channel(1);
/// let permit = tx.reserve().await.unwrap();
/// drop(permit);
/// assert_eq!(tx.capacity(), 1);
/// tx.reserve().await.unwrap().send(2);
/// assert_eq!(rx.recv().await, Some(2));
/// # });
/// ```
#[must_use = "the slot is given back as soon as the permit is dropped"]
pub struct Permit<'a, T> {
    sender: &'a Sender<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot. If the receiver was dropped or
    /// closed meanwhile, the value is dropped.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.reserve().await.unwrap().send("x");
    /// assert_eq!(rx.recv().await, Some("x"));
    /// # });
    /// ```
    pub fn send(self, value: T) {
        let chan = &self.sender.chan;
        // The slot moves to the message (or is given back by
        // `push_with_permit`), so the permit's drop must not release it.
        std::mem::forget(self);
        chan.push_with_permit(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.sender.chan.sem().release(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("sender", &self.sender)
            .finish()
    }
}

/// One reserved slot that owns its [`Sender`]; from
/// [`Sender::reserve_owned`]. Dropping it unused gives the slot back.
///
/// # Examples
/// ```
/// use brisk::sync::mpsc;
///
/// # brisk::run(async {
/// let (tx, mut rx) = mpsc::channel(1);
/// let permit = tx.reserve_owned().await.unwrap();
/// let tx = permit.send(1);
/// drop(tx);
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
#[must_use = "the slot is given back as soon as the permit is dropped"]
pub struct OwnedPermit<T> {
    /// `None` only while `send` or `release` consumes it.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot and returns the sender. If the
    /// receiver was dropped or closed meanwhile, the value is dropped.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let tx = tx.reserve_owned().await.unwrap().send(1);
    /// assert_eq!(rx.recv().await, Some(1));
    /// tx.send(2).await.unwrap();
    /// # });
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("a live permit holds its sender");
        sender.chan.push_with_permit(value);
        sender
    }

    /// Gives the slot back without sending, and returns the sender.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let tx = tx.reserve_owned().await.unwrap().release();
    /// assert_eq!(tx.capacity(), 1);
    /// # });
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("a live permit holds its sender");
        sender.chan.sem().release(1);
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = &self.sender {
            sender.chan.sem().release(1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("sender", &self.sender)
            .finish()
    }
}
