//! Helpers for this module's unit tests: a `block_on`, and readers and
//! writers that return `Pending` and short counts to exercise every state.

use super::{AsyncRead, AsyncWrite};
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it completes.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// Reads its data one byte at a time, returning `Pending` (and waking itself)
/// before every byte.
pub(crate) struct Trickle {
    data: Vec<u8>,
    pos: usize,
    ready: bool,
}

impl Trickle {
    pub(crate) fn new(data: &[u8]) -> Trickle {
        Trickle {
            data: data.to_vec(),
            pos: 0,
            ready: false,
        }
    }
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if !self.ready {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.ready = false;
        if self.pos == self.data.len() || buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        buf[0] = self.data[self.pos];
        self.pos += 1;
        Poll::Ready(Ok(1))
    }
}

/// Accepts one byte per call, returning `Pending` (and waking itself) before
/// every byte; counts flushes and closes.
#[derive(Default)]
pub(crate) struct TrickleWriter {
    pub(crate) data: Vec<u8>,
    pub(crate) flushes: usize,
    pub(crate) closed: bool,
    ready: bool,
}

impl TrickleWriter {
    fn gate(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.ready {
            self.ready = false;
            Poll::Ready(())
        } else {
            self.ready = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl AsyncWrite for TrickleWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.gate(cx));
        match buf.first() {
            Some(&b) => {
                self.data.push(b);
                Poll::Ready(Ok(1))
            }
            None => Poll::Ready(Ok(0)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.gate(cx));
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.gate(cx));
        self.closed = true;
        Poll::Ready(Ok(()))
    }
}

/// Fails every read and write.
pub(crate) struct Failing;

fn failure() -> io::Error {
    io::Error::other("test failure")
}

impl AsyncRead for Failing {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(failure()))
    }
}

impl AsyncWrite for Failing {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(failure()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Err(failure()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Err(failure()))
    }
}
