//! Multi-producer, single-consumer channels: [`channel`] (bounded: senders
//! wait for room) and [`unbounded_channel`].
//!
//! ```
//! use brisk::sync::mpsc;
//!
//! # brisk::run(async {
//! let (tx, mut rx) = mpsc::channel(16);
//! for worker in 0..3 {
//!     let tx = tx.clone();
//!     brisk::spawn(async move { tx.send(worker * 10).await.unwrap() });
//! }
//! drop(tx);
//! let mut total = 0;
//! while let Some(v) = rx.recv().await {
//!     total += v;
//! }
//! assert_eq!(total, 30);
//! # });
//! ```
//!
//! The API follows `tokio::sync::mpsc`, so switching is a change of import.
//!
//! # Ordering, closing and cancellation
//! - Messages from one sender arrive in the order sent. Senders waiting for
//!   room in a bounded channel get it in arrival order.
//! - The receiver gets `None` once every sender is dropped and the queue is
//!   drained. Dropping or [closing](Receiver::close) the receiver fails
//!   waiting and later sends, which hand their message back in
//!   [`SendError`]; messages already queued can still be received after
//!   `close`.
//! - `recv` is cancel-safe: a message leaves the channel only in the poll
//!   that returns it. A dropped `send` future sent nothing and drops its
//!   message; to keep the message across a `select!`, use
//!   [`Sender::reserve`], whose cancellation gives the slot back.
//!
//! # Design
//! A spin-locked queue shared by the senders, a private queue in the
//! receiver, and (bounded) a fair semaphore with one permit per slot. The
//! receiver swaps the whole shared queue into its private one when it runs
//! dry, so under load it takes the lock once per batch, while each sender
//! takes it once per message for a push. See `chan.rs` for the ground rules.

mod bounded;
mod chan;
mod error;
mod unbounded;

pub use bounded::{channel, OwnedPermit, Permit, Receiver, Reserve, ReserveOwned, Send, Sender};
pub use chan::{Closed, Recv, RecvMany};
pub use error::{SendError, TryRecvError, TrySendError};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender};

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn noop_cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn capacity_is_exact_until_the_user_takes_the_message() {
        let (tx, mut rx) = channel(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(tx.capacity(), 0);
        // The receiver swaps both into its private queue: still no room.
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(tx.capacity(), 1);
        assert_eq!(rx.len(), 1);
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx.capacity(), 2);
    }

    #[test]
    fn dropped_send_future_sends_nothing_and_leaves_the_queue() {
        let (tx, mut rx) = channel(1);
        tx.try_send(1).unwrap();
        {
            let mut send = pin!(tx.send(2));
            assert!(send.as_mut().poll(&mut noop_cx()).is_pending());
        }
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(tx.capacity(), 1);
    }

    #[test]
    fn granted_reserve_dropped_gives_the_slot_back() {
        let (tx, mut rx) = channel::<u32>(1);
        tx.try_send(1).unwrap();
        let mut cx = noop_cx();
        let mut reserve = Box::pin(tx.reserve());
        assert!(reserve.as_mut().poll(&mut cx).is_pending());
        // Taking the message grants the slot to the queued reserve.
        assert_eq!(rx.try_recv(), Ok(1));
        drop(reserve);
        assert_eq!(tx.capacity(), 1);
        tx.try_send(2).unwrap();
    }

    #[test]
    fn close_fails_a_blocked_sender_with_its_message() {
        let (tx, mut rx) = channel(1);
        tx.try_send(1).unwrap();
        let mut send = pin!(tx.send(2));
        assert!(send.as_mut().poll(&mut noop_cx()).is_pending());
        rx.close();
        match send.as_mut().poll(&mut noop_cx()) {
            Poll::Ready(Err(SendError(2))) => {}
            other => panic!("expected the message back, got {other:?}"),
        }
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn types_are_send_sync_and_unpin() {
        fn check<X: std::marker::Send + Sync + Unpin>() {}
        check::<Sender<u8>>();
        check::<Receiver<u8>>();
        check::<UnboundedSender<u8>>();
        check::<UnboundedReceiver<u8>>();
        check::<Send<'static, u8>>();
        check::<Reserve<'static, u8>>();
        check::<ReserveOwned<u8>>();
        check::<Permit<'static, u8>>();
        check::<OwnedPermit<u8>>();
        check::<Recv<'static, u8>>();
        check::<RecvMany<'static, u8>>();
        check::<Closed<'static, u8>>();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    /// A sender blocked on a full channel (capacity 1) while the receiver
    /// closes: it wakes and gets its message back; the queued one can
    /// still be received.
    #[test]
    fn loom_mpsc_close_with_blocked_sender() {
        loom::model(|| {
            let (tx, mut rx) = channel(1);
            tx.try_send(1).unwrap();
            let t = thread::spawn(move || loom::future::block_on(tx.send(2)));
            rx.close();
            match t.join().unwrap() {
                Err(SendError(2)) => {}
                Err(_) | Ok(()) => panic!("the blocked send must fail with its message"),
            }
            assert_eq!(rx.try_recv(), Ok(1));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        });
    }

    /// A bounded send and a waiting receive: the wake-up is not lost, and
    /// the receiver then sees the end of the channel.
    #[test]
    fn loom_mpsc_send_recv_wakeup_not_lost() {
        loom::model(|| {
            let (tx, mut rx) = channel(1);
            let t = thread::spawn(move || {
                loom::future::block_on(tx.send(1)).unwrap();
            });
            assert_eq!(loom::future::block_on(rx.recv()), Some(1));
            assert_eq!(loom::future::block_on(rx.recv()), None);
            t.join().unwrap();
        });
    }

    /// Two unbounded senders on two threads: both messages arrive, each
    /// exactly once, and the last drop ends the stream.
    #[test]
    fn loom_mpsc_unbounded_two_senders() {
        loom::model(|| {
            let (tx, mut rx) = unbounded_channel();
            let tx2 = tx.clone();
            let t = thread::spawn(move || tx2.send(2).unwrap());
            tx.send(1).unwrap();
            drop(tx);
            let mut got = Vec::new();
            while let Some(v) = loom::future::block_on(rx.recv()) {
                got.push(v);
            }
            got.sort_unstable();
            assert_eq!(got, [1, 2]);
            t.join().unwrap();
        });
    }

    /// A reserve queued on a full channel is granted the slot by a
    /// concurrent receive and dropped at some point around it: the slot is
    /// never lost.
    #[test]
    fn loom_mpsc_dropped_reserve_gives_slot_back() {
        loom::model(|| {
            let (tx, mut rx) = channel::<u32>(1);
            tx.try_send(1).unwrap();
            let t = thread::spawn(move || {
                assert_eq!(rx.try_recv(), Ok(1));
                rx
            });
            {
                let mut reserve = pin!(tx.reserve());
                let mut cx = Context::from_waker(Waker::noop());
                // Pending (queued) or Ready (the slot was already free);
                // either way the future or permit is dropped here.
                let _ = reserve.as_mut().poll(&mut cx);
            }
            let _rx = t.join().unwrap();
            assert_eq!(tx.capacity(), 1);
            tx.try_send(2).unwrap();
        });
    }
}
