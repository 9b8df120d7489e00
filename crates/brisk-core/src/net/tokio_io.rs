//! tokio's I/O traits for Brisk's TCP streams (feature `tokio-io`).
//!
//! With this feature, [`TcpStream`], `&TcpStream` and the four halves
//! implement `tokio::io::AsyncRead` and `tokio::io::AsyncWrite` next to
//! futures-io's traits, so crates written against tokio's traits
//! (`tokio-util`'s codecs, `tokio-rustls`, ...) run over Brisk sockets on a
//! Brisk runtime. Both sets of traits go through the same code: the same
//! cooperative budget, the same wait-points.
//!
//! ```
//! use brisk::net::{TcpListener, TcpStream};
//! use tokio::io::{AsyncRead, AsyncWrite};
//!
//! fn tokio_io<T: AsyncRead + AsyncWrite + Unpin>(_: &T) {}
//!
//! # brisk::run(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let stream = TcpStream::connect(listener.local_addr()?).await?;
//! tokio_io(&stream);
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```
//!
//! Reads go into the unfilled part of the `ReadBuf` as it is, initialised or
//! not (`TcpStreamIo::poll_read_uninit`): the native runtime reads straight
//! into it; a backend without that support zeroes it first. A buffer that is
//! spare capacity (`BytesMut`, fresh each read) is not zeroed on every read.

use super::tcp::{AsStream, OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, WriteHalf};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

macro_rules! impl_tokio_io {
    ($($ty:ty),* $(,)?) => {$(
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let s = AsStream::stream(&*self);
                // SAFETY: a read only writes bytes into the unfilled part; it
                // never de-initialises any.
                let unfilled = unsafe { buf.unfilled_mut() };
                let n = ready!(s.poll_read_uninit_inner(cx, unfilled))?;
                // SAFETY: `poll_read_uninit_inner` returns how many bytes at
                // the start of the unfilled part the read initialised (it
                // checks the backend's answer).
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
        }

        impl AsyncWrite for $ty {
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

impl_tokio_io!(
    TcpStream,
    &TcpStream,
    ReadHalf<'_>,
    WriteHalf<'_>,
    OwnedReadHalf,
    OwnedWriteHalf,
);
