//! hyper 1.x on Brisk (feature `hyper`).
//!
//! hyper is runtime-agnostic: it asks for I/O through `hyper::rt::Read` and
//! `hyper::rt::Write`, for an executor when HTTP/2 spawns background work,
//! and for a timer when timeouts are configured. With this feature:
//!
//! - [`TcpStream`], `&TcpStream` and the four halves implement
//!   `hyper::rt::Read` and `hyper::rt::Write`, so a stream is passed to
//!   hyper's `serve_connection` or `handshake` as it is;
//! - [`HyperExecutor`] is a `hyper::rt::Executor` that spawns on the current
//!   Brisk runtime (tasks named `"hyper"`);
//! - [`HyperTimer`] is a `hyper::rt::Timer` on the current runtime's clock,
//!   whose sleeps are [`HyperSleep`]s around `brisk::time::Sleep`.
//!
//! The facade re-exports the types as `brisk::compat::hyper::*`.
//!
//! ```
//! use brisk::compat::hyper::{HyperExecutor, HyperTimer};
//! use hyper::rt::{Executor, Timer};
//! use std::time::Duration;
//!
//! # brisk::run(async {
//! let (tx, rx) = brisk::sync::oneshot::channel();
//! HyperExecutor.execute(async move {
//!     HyperTimer.sleep(Duration::from_millis(1)).await;
//!     tx.send(7).unwrap();
//! });
//! assert_eq!(rx.await.unwrap(), 7);
//! # });
//! ```

use super::tcp::{AsStream, OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, WriteHalf};
use crate::time::{Instant, Sleep};
use ::hyper::rt::{self, ReadBufCursor};
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

macro_rules! impl_hyper_read {
    ($($ty:ty),* $(,)?) => {$(
        impl rt::Read for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                mut buf: ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                let s = AsStream::stream(&*self);
                // SAFETY: a read only writes bytes into the unfilled part; it
                // never de-initialises any.
                let unfilled = unsafe { buf.as_mut() };
                let n = ready!(s.poll_read_uninit_inner(cx, unfilled))?;
                // SAFETY: `poll_read_uninit_inner` returns how many bytes at
                // the start of the unfilled part the read initialised (it
                // checks the backend's answer).
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
        }
    )*};
}

macro_rules! impl_hyper_write {
    ($($ty:ty),* $(,)?) => {$(
        impl rt::Write for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsStream::stream(&*self).poll_write_inner(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                AsStream::stream(&*self).poll_write_vectored_inner(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                // Writes go straight to the socket; nothing is buffered here.
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsStream::stream(&*self).poll_close_inner()
            }
        }
    )*};
}

// Halves go one way each, as with the futures-io and tokio traits.
impl_hyper_read!(TcpStream, &TcpStream, ReadHalf<'_>, OwnedReadHalf);
impl_hyper_write!(TcpStream, &TcpStream, WriteHalf<'_>, OwnedWriteHalf);

/// A `hyper::rt::Executor` that spawns on the current Brisk runtime; pass it
/// to `hyper::server::conn::http2::Builder::new` or
/// `hyper::client::conn::http2::handshake`.
///
/// Spawned tasks are named `"hyper"` and detached (their `JoinHandle` is
/// dropped), so they show up as such in task dumps and wait-points.
///
/// # Panics
/// `execute` panics when called outside a Brisk runtime, like
/// `brisk::spawn`.
///
/// # Examples
/// ```
/// use brisk::compat::hyper::HyperExecutor;
/// use hyper::rt::Executor;
///
/// # brisk::run(async {
/// let (tx, rx) = brisk::sync::oneshot::channel();
/// HyperExecutor.execute(async move { tx.send("ran").unwrap() });
/// assert_eq!(rx.await.unwrap(), "ran");
/// # });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperExecutor;

impl<F> rt::Executor<F> for HyperExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, future: F) {
        drop(crate::task::Builder::new().name("hyper").spawn(future));
    }
}

/// A `hyper::rt::Timer` on the current Brisk runtime's clock; pass it to a
/// hyper builder's `timer` method (needed for hyper's timeouts, such as
/// `http1::Builder::header_read_timeout` or HTTP/2 keep-alive).
///
/// hyper speaks `std::time::Instant`; deadlines are converted to the
/// runtime's clock as "that far from now", so under a simulated clock they
/// keep their distance from the present.
///
/// # Panics
/// The returned sleeps panic when polled outside a Brisk runtime or on a
/// runtime without timers, like `brisk::time::sleep`.
///
/// # Examples
/// ```
/// use brisk::compat::hyper::HyperTimer;
/// use hyper::rt::Timer;
/// use std::time::Duration;
///
/// # brisk::run(async {
/// let start = brisk::time::Instant::now();
/// HyperTimer.sleep(Duration::from_millis(2)).await;
/// assert!(start.elapsed() >= Duration::from_millis(2));
/// # });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperTimer;

impl rt::Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(HyperSleep::new(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(HyperSleep::new(crate::time::sleep_until(to_runtime_clock(
            deadline,
        ))))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(s) => s.get_mut().inner.reset(to_runtime_clock(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// `deadline` on the current runtime's clock: as far from its now as
/// `deadline` is from the system's now.
fn to_runtime_clock(deadline: std::time::Instant) -> Instant {
    let from_now = deadline.saturating_duration_since(std::time::Instant::now());
    Instant::now().saturating_add(from_now)
}

/// The sleep of [`HyperTimer`]: a `brisk::time::Sleep` that implements
/// `hyper::rt::Sleep`.
///
/// # Examples
/// ```
/// use brisk::compat::hyper::HyperSleep;
/// use std::time::Duration;
///
/// # brisk::run(async {
/// HyperSleep::new(brisk::time::sleep(Duration::from_millis(1))).await;
/// # });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct HyperSleep {
    inner: Sleep,
}

impl HyperSleep {
    /// Wraps a Brisk sleep.
    pub fn new(inner: Sleep) -> HyperSleep {
        HyperSleep { inner }
    }

    /// The Brisk sleep inside.
    pub fn into_inner(self) -> Sleep {
        self.inner
    }
}

impl Future for HyperSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().inner.poll_elapsed(cx)
    }
}

impl rt::Sleep for HyperSleep {}
