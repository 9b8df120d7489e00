//! The tokio read for Brisk's I/O types that implement futures-io's traits
//! (feature `tokio-io`): it goes through the futures-io read. Their tokio
//! write is `__impl_tokio_write_via_futures` (shared with the streams).

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
