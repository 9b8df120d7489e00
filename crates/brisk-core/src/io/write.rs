//! [`AsyncWriteExt`]: `write`, `write_all`, `flush`, `close`, ... and their
//! futures.

use super::error::{error, WRITE_ZERO};
use super::AsyncWrite;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Writing methods for every [`AsyncWrite`], as futures.
///
/// Implemented for every `AsyncWrite`, including `dyn AsyncWrite`. The
/// methods need the writer to be [`Unpin`]; pin a `!Unpin` writer first
/// (`std::pin::pin!`) and call them on the `Pin<&mut W>`.
///
/// # Examples
/// ```
/// use brisk::io::AsyncWriteExt;
///
/// # brisk::run(async {
/// let mut out = Vec::new();
/// out.write_all(b"hello").await?;
/// out.close().await?;
/// assert_eq!(out, b"hello");
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf`, returning how many bytes the writer took; `0`
    /// for a non-empty `buf` means it can take no more.
    ///
    /// Cancel safety: cancel-safe. Until the future returns, the writer has
    /// taken nothing, so dropping it means nothing was written.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, Cursor};
    ///
    /// # brisk::run(async {
    /// let mut space = [0u8; 3];
    /// let mut out = Cursor::new(&mut space[..]);
    /// assert_eq!(out.write(b"hello").await?, 3);
    /// assert_eq!(out.write(b"lo").await?, 0);
    /// assert_eq!(&space, b"hel");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write { writer: self, buf }
    }

    /// Writes all of `buf`, or fails with
    /// [`ErrorKind::WriteZero`](io::ErrorKind::WriteZero) if the writer stops
    /// taking bytes.
    ///
    /// Cancel safety: **not** cancel-safe. A prefix of `buf` may already be
    /// written when the future is dropped, and there is no telling how long.
    /// Loop over [`write`](AsyncWriteExt::write) to keep count yourself.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncWriteExt;
    ///
    /// # brisk::run(async {
    /// let mut out = Vec::new();
    /// out.write_all(b"all of it").await?;
    /// assert_eq!(out, b"all of it");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll { writer: self, buf }
    }

    /// Writes some of `bufs`, in order, returning how many bytes the writer
    /// took.
    ///
    /// Cancel safety: cancel-safe, as for [`write`](AsyncWriteExt::write).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, IoSlice};
    ///
    /// # brisk::run(async {
    /// let mut out = Vec::new();
    /// let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
    /// let n = out.write_vectored(&bufs).await?;
    /// assert_eq!(&out[..], &b"abcd"[..n]);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn write_vectored<'a>(&'a mut self, bufs: &'a [IoSlice<'a>]) -> WriteVectored<'a, Self>
    where
        Self: Unpin,
    {
        WriteVectored { writer: self, bufs }
    }

    /// Writes all of `bufs`, in order, or fails with
    /// [`ErrorKind::WriteZero`](io::ErrorKind::WriteZero) if the writer stops
    /// taking bytes. `bufs` is advanced as it is written, so its contents are
    /// unspecified afterwards.
    ///
    /// Cancel safety: **not** cancel-safe, as for
    /// [`write_all`](AsyncWriteExt::write_all).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, IoSlice};
    ///
    /// # brisk::run(async {
    /// let mut out = Vec::new();
    /// let mut bufs = [IoSlice::new(b"head "), IoSlice::new(b""), IoSlice::new(b"body")];
    /// out.write_all_vectored(&mut bufs).await?;
    /// assert_eq!(out, b"head body");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn write_all_vectored<'a>(
        &'a mut self,
        bufs: &'a mut [IoSlice<'a>],
    ) -> WriteAllVectored<'a, Self>
    where
        Self: Unpin,
    {
        let mut bufs = bufs;
        // Drop leading empty slices, so an all-empty `bufs` is done at once.
        IoSlice::advance_slices(&mut bufs, 0);
        WriteAllVectored { writer: self, bufs }
    }

    /// Flushes: waits until everything written so far has reached its
    /// destination (for a [`BufWriter`](super::BufWriter), until the buffer
    /// is written out and the inner writer flushed).
    ///
    /// Cancel safety: cancel-safe. Dropping the future loses no data; a later
    /// `flush` picks up where this one stopped.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, BufWriter};
    ///
    /// # brisk::run(async {
    /// let mut out = BufWriter::new(Vec::new());
    /// out.write_all(b"hi").await?;
    /// assert!(out.get_ref().is_empty());
    /// out.flush().await?;
    /// assert_eq!(out.get_ref(), b"hi");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Flushes, then closes the writer: for a socket, shuts down its write
    /// side so the peer reads end of stream. Writing after `close` is an
    /// error for most writers.
    ///
    /// The name follows `futures-io`'s `poll_close`; tokio calls it
    /// [`shutdown`](AsyncWriteExt::shutdown), which is the same method here.
    ///
    /// Cancel safety: cancel-safe. Dropping the future loses no data; call
    /// `close` again to finish.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, BufWriter};
    ///
    /// # brisk::run(async {
    /// let mut out = BufWriter::new(Vec::new());
    /// out.write_all(b"bye").await?;
    /// out.close().await?;
    /// assert_eq!(out.get_ref(), b"bye");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn close(&mut self) -> Close<'_, Self>
    where
        Self: Unpin,
    {
        Close { writer: self }
    }

    /// The same as [`close`](AsyncWriteExt::close), under tokio's name.
    ///
    /// Cancel safety: cancel-safe, as for [`close`](AsyncWriteExt::close).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, BufWriter};
    ///
    /// # brisk::run(async {
    /// let mut out = BufWriter::new(Vec::new());
    /// out.write_all(b"bye").await?;
    /// out.shutdown().await?;
    /// assert_eq!(out.get_ref(), b"bye");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn shutdown(&mut self) -> Close<'_, Self>
    where
        Self: Unpin,
    {
        self.close()
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// The future returned by [`AsyncWriteExt::write`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// The future returned by [`AsyncWriteExt::write_all`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    /// What is still to write.
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        while !this.buf.is_empty() {
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, this.buf))?;
            if n == 0 {
                return Poll::Ready(Err(error(io::ErrorKind::WriteZero, WRITE_ZERO)));
            }
            this.buf = &this.buf[n.min(this.buf.len())..];
        }
        Poll::Ready(Ok(()))
    }
}

/// The future returned by [`AsyncWriteExt::write_vectored`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct WriteVectored<'a, W: ?Sized> {
    writer: &'a mut W,
    bufs: &'a [IoSlice<'a>],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteVectored<'_, W> {
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        Pin::new(&mut *this.writer).poll_write_vectored(cx, this.bufs)
    }
}

/// The future returned by [`AsyncWriteExt::write_all_vectored`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct WriteAllVectored<'a, W: ?Sized> {
    writer: &'a mut W,
    /// What is still to write, without leading empty slices.
    bufs: &'a mut [IoSlice<'a>],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAllVectored<'_, W> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        while !this.bufs.is_empty() {
            let n = ready!(Pin::new(&mut *this.writer).poll_write_vectored(cx, this.bufs))?;
            if n == 0 {
                return Poll::Ready(Err(error(io::ErrorKind::WriteZero, WRITE_ZERO)));
            }
            IoSlice::advance_slices(&mut this.bufs, n);
        }
        Poll::Ready(Ok(()))
    }
}

/// The future returned by [`AsyncWriteExt::flush`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.writer).poll_flush(cx)
    }
}

/// The future returned by [`AsyncWriteExt::close`] and
/// [`AsyncWriteExt::shutdown`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Close<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Close<'_, W> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.writer).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::{block_on, TrickleWriter};

    #[test]
    fn write_all_finishes_across_short_writes() {
        let mut w = TrickleWriter::default();
        block_on(w.write_all(b"hello")).unwrap();
        assert_eq!(w.data, b"hello");
    }

    #[test]
    fn write_all_to_a_full_writer_is_write_zero() {
        let mut space = [0u8; 2];
        let mut w = crate::io::Cursor::new(&mut space[..]);
        let err = block_on(w.write_all(b"abc")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    }

    #[test]
    fn write_all_vectored_writes_every_slice_in_order() {
        let mut w = TrickleWriter::default();
        let mut bufs = [IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"c")];
        block_on(w.write_all_vectored(&mut bufs)).unwrap();
        assert_eq!(w.data, b"abc");

        let mut empty = [IoSlice::new(b""), IoSlice::new(b"")];
        block_on(w.write_all_vectored(&mut empty)).unwrap();
    }

    #[test]
    fn flush_and_close_reach_the_writer() {
        let mut w = TrickleWriter::default();
        block_on(w.flush()).unwrap();
        block_on(w.shutdown()).unwrap();
        assert_eq!(w.flushes, 1);
        assert!(w.closed);
    }
}
