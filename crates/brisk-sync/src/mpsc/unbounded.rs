//! The unbounded channel: sending never waits.

use super::chan::{Chan, Closed, Recv, RecvMany, Rx};
use super::{SendError, TryRecvError};
use std::fmt;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Creates a channel without a bound: [`UnboundedSender::send`] never waits.
///
/// Nothing slows a producer that outpaces the consumer, so memory can grow
/// without limit; prefer [`channel`](super::channel) unless the producer is
/// known to be slower or cannot wait (for example, a plain callback).
///
/// # Examples
/// ```
/// use brisk::sync::mpsc;
///
/// # brisk::run(async {
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// let mut got = Vec::new();
/// while let Some(i) = rx.recv().await {
///     got.push(i);
/// }
/// assert_eq!(got, [0, 1, 2]);
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { rx: Rx::new(chan) },
    )
}

/// Sends messages into an [`unbounded_channel`]. Clone it for more
/// producers; the receiver sees `None` once every sender is dropped.
///
/// Messages from one sender arrive in the order they were sent.
///
/// # Examples
/// ```
/// use brisk::sync::mpsc;
///
/// # brisk::run(async {
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// let tx2 = tx.clone();
/// std::thread::spawn(move || tx2.send("from a thread").unwrap());
/// assert_eq!(rx.recv().await, Some("from a thread"));
/// # drop(tx);
/// # });
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives the messages of an [`unbounded_channel`].
///
/// Also a [`Stream`](futures_core::Stream) of the messages.
///
/// # Examples
/// ```
/// use brisk::sync::mpsc;
///
/// # brisk::run(async {
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub struct UnboundedReceiver<T> {
    rx: Rx<T>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` without waiting. Returns it back in [`SendError`] if
    /// the receiver was dropped or closed.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value).map_err(SendError)
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
    /// let (tx, rx) = mpsc::unbounded_channel::<u8>();
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
    /// let (tx, rx) = mpsc::unbounded_channel::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// True if both senders feed the same channel.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (a, _rx) = mpsc::unbounded_channel::<u8>();
    /// let (b, _rx2) = mpsc::unbounded_channel::<u8>();
    /// assert!(a.same_channel(&a.clone()));
    /// assert!(!a.same_channel(&b));
    /// ```
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// This channel's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<u8>();
    /// assert_eq!(tx.resource_id(), rx.resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.chan.res.id()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("id", &self.chan.res.id())
            .finish()
    }
}

impl<T> UnboundedReceiver<T> {
    /// Waits for the next message; `None` once the channel is closed (every
    /// sender dropped, or [`close`](UnboundedReceiver::close) called) and
    /// drained.
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
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// brisk::spawn(async move { tx.send("hi").unwrap() });
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
    /// Cancel safety: as for [`recv`](UnboundedReceiver::recv); messages
    /// move into `buffer` only in the poll that returns their count.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// for i in 0..5 {
    ///     tx.send(i).unwrap();
    /// }
    /// let mut batch = Vec::new();
    /// assert_eq!(rx.recv_many(&mut batch, 10).await, 5);
    /// assert_eq!(batch, [0, 1, 2, 3, 4]);
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
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
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
    /// [`recv`](UnboundedReceiver::recv) there.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(5).unwrap());
    /// assert_eq!(rx.recv_blocking(), Some(5));
    /// assert_eq!(rx.recv_blocking(), None);
    /// ```
    #[track_caller]
    pub fn recv_blocking(&mut self) -> Option<T> {
        crate::blocking::block_on(self.recv())
    }

    /// Polls for the next message; the poll form of
    /// [`recv`](UnboundedReceiver::recv).
    ///
    /// Cancel safety: a message is taken out only when this returns
    /// `Ready(Some(_))`.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    /// ```
    #[track_caller]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx, Location::caller())
    }

    /// Closes the channel for sending: further sends fail with their
    /// message, and senders' [`closed`](UnboundedSender::closed) completes.
    /// Messages already queued can still be received; after them `recv`
    /// returns `None`.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// # brisk::run(async {
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub fn close(&mut self) {
        self.rx.close()
    }

    /// True once every sender was dropped or
    /// [`close`](UnboundedReceiver::close) was called. Queued messages may
    /// remain.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<u8>();
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
    /// let (tx, rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
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
    /// let (tx, rx) = mpsc::unbounded_channel();
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// This channel's resource id, as shown in wait-points and dumps.
    ///
    /// # Examples
    /// ```
    /// use brisk::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<u8>();
    /// assert_eq!(rx.resource_id(), tx.resource_id());
    /// ```
    pub fn resource_id(&self) -> u64 {
        self.rx.chan.res.id()
    }
}

impl<T> futures_core::Stream for UnboundedReceiver<T> {
    type Item = T;

    #[track_caller]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx, Location::caller())
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.rx, f)
    }
}
