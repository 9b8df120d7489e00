//! Shared pieces of the tokio trait impls (feature `tokio-io`) for Brisk's
//! I/O types that implement futures-io's traits: a tokio read goes through
//! the futures-io read, a tokio write through the futures-io write.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::ReadBuf;

/// A tokio read through `r`'s futures-io read, into the unfilled part of
/// `buf` (zeroed first where it is not initialised: futures-io reads take
/// `&mut [u8]`).
pub(crate) fn poll_read_buf<R: futures_io::AsyncRead + ?Sized>(
    r: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let n = ready!(r.poll_read(cx, buf.initialize_unfilled()))?;
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// `tokio::io::AsyncWrite` for types that implement futures-io's
/// `AsyncWrite`: the same writes, flushes, and `poll_close` as tokio's
/// `poll_shutdown`.
macro_rules! tokio_write {
    ($($ty:ty),* $(,)?) => {$(
        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                futures_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                futures_io::AsyncWrite::poll_close(self, cx)
            }
        }
    )*};
}

pub(crate) use tokio_write;
