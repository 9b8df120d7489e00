//! [`BufWriter`]: buffering for a writer.

use super::error::{error, WRITE_ZERO};
use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, DEFAULT_BUF_SIZE};
use pin_project_lite::pin_project;
use std::io::{self, IoSlice, IoSliceMut, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// Adds a buffer to a writer, so that many small writes cost few writes
    /// of the inner writer.
    ///
    /// The buffer is written out when the next write would not fit, on
    /// [`flush`](super::AsyncWriteExt::flush) and on
    /// [`close`](super::AsyncWriteExt::close). Writes at least as large as the
    /// buffer go straight to the inner writer (after what is buffered).
    ///
    /// **Dropping a `BufWriter` does not write out its buffer** (that would
    /// need an `.await`): call `flush` or `close` first, or the buffered
    /// bytes are lost.
    ///
    /// Seeking writes out the buffer first. If the inner type also reads,
    /// reads pass through. `Unpin` when the writer is.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, BufWriter};
    ///
    /// # brisk::run(async {
    /// let mut out = BufWriter::new(Vec::new());
    /// for word in ["many ", "small ", "writes"] {
    ///     out.write_all(word.as_bytes()).await?;
    /// }
    /// assert!(out.get_ref().is_empty());
    /// out.close().await?;
    /// assert_eq!(out.get_ref(), b"many small writes");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[derive(Debug)]
    pub struct BufWriter<W> {
        #[pin]
        inner: W,
        buf: Vec<u8>,
        // buf[..written] has reached the inner writer; buf[written..] has
        // not. `buf` is cleared once all of it has.
        written: usize,
        capacity: usize,
    }
}

impl<W: AsyncWrite> BufWriter<W> {
    /// Wraps `inner` with a buffer of the default capacity (8 KiB).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufWriter;
    ///
    /// let out = BufWriter::new(Vec::new());
    /// assert_eq!(out.capacity(), 8 * 1024);
    /// ```
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes. With a capacity of
    /// 0, every write goes straight through.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufWriter;
    ///
    /// let out = BufWriter::with_capacity(64, Vec::new());
    /// assert_eq!(out.capacity(), 64);
    /// ```
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            written: 0,
            capacity,
        }
    }

    /// Writes the whole buffer to the inner writer (without flushing it).
    fn flush_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        while *this.written < this.buf.len() {
            let n = ready!(this
                .inner
                .as_mut()
                .poll_write(cx, &this.buf[*this.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(error(io::ErrorKind::WriteZero, WRITE_ZERO)));
            }
            *this.written += n;
        }
        this.buf.clear();
        *this.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W> BufWriter<W> {
    /// The inner writer.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufWriter;
    ///
    /// let out = BufWriter::new(Vec::<u8>::new());
    /// assert!(out.get_ref().is_empty());
    /// ```
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably. Writing to it directly puts those bytes
    /// ahead of anything still buffered.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufWriter;
    ///
    /// let mut out = BufWriter::new(Vec::new());
    /// out.get_mut().push(b'!');
    /// assert_eq!(out.get_ref(), b"!");
    /// ```
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The inner writer, pinned.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufWriter;
    /// use std::pin::pin;
    ///
    /// let out = pin!(BufWriter::new(Vec::<u8>::new()));
    /// assert!(out.get_pin_mut().is_empty());
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut W> {
        self.project().inner
    }

    /// Takes the inner writer out. **Bytes still buffered are lost**:
    /// [`flush`](super::AsyncWriteExt::flush) first.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, BufWriter};
    ///
    /// # brisk::run(async {
    /// let mut out = BufWriter::new(Vec::new());
    /// out.write_all(b"kept").await?;
    /// out.flush().await?;
    /// assert_eq!(out.into_inner(), b"kept");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The bytes written to this `BufWriter` and not yet to the inner
    /// writer.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, BufWriter};
    ///
    /// # brisk::run(async {
    /// let mut out = BufWriter::new(Vec::new());
    /// out.write_all(b"pending").await?;
    /// assert_eq!(out.buffer(), b"pending");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// The size of the buffer.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufWriter;
    ///
    /// assert_eq!(BufWriter::with_capacity(16, Vec::new()).capacity(), 16);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl<W: AsyncWrite> AsyncWrite for BufWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.buf.len().saturating_add(buf.len()) > self.capacity {
            ready!(self.as_mut().flush_buf(cx))?;
        }
        let this = self.project();
        if buf.len() >= *this.capacity {
            this.inner.poll_write(cx, buf)
        } else {
            this.buf.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total = bufs.iter().map(|b| b.len()).fold(0, usize::saturating_add);
        if self.buf.len().saturating_add(total) > self.capacity {
            ready!(self.as_mut().flush_buf(cx))?;
        }
        let this = self.project();
        if total >= *this.capacity {
            this.inner.poll_write_vectored(cx, bufs)
        } else {
            for b in bufs {
                this.buf.extend_from_slice(b);
            }
            Poll::Ready(Ok(total))
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().flush_buf(cx))?;
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().flush_buf(cx))?;
        self.project().inner.poll_close(cx)
    }
}

impl<W: AsyncWrite + AsyncSeek> AsyncSeek for BufWriter<W> {
    /// Writes out the buffer, then seeks the inner writer.
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        ready!(self.as_mut().flush_buf(cx))?;
        self.project().inner.poll_seek(cx, pos)
    }
}

impl<W: AsyncRead> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_read_vectored(cx, bufs)
    }
}

impl<W: AsyncBufRead> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.project().inner.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.project().inner.consume(amt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::{block_on, Failing, TrickleWriter};
    use crate::io::{AsyncSeekExt, AsyncWriteExt, Cursor};

    #[test]
    fn small_writes_stay_buffered_until_flush() {
        let mut out = BufWriter::with_capacity(8, TrickleWriter::default());
        block_on(out.write_all(b"abc")).unwrap();
        block_on(out.write_all(b"de")).unwrap();
        assert!(out.get_ref().data.is_empty());
        block_on(out.flush()).unwrap();
        assert_eq!(out.get_ref().data, b"abcde");
        assert_eq!(out.get_ref().flushes, 1);
    }

    #[test]
    fn a_write_that_does_not_fit_writes_out_the_buffer_first() {
        let mut out = BufWriter::with_capacity(4, TrickleWriter::default());
        block_on(out.write_all(b"abc")).unwrap();
        block_on(out.write_all(b"de")).unwrap();
        assert_eq!(out.get_ref().data, b"abc");
        assert_eq!(out.buffer(), b"de");
    }

    #[test]
    fn a_large_write_bypasses_the_buffer() {
        let mut out = BufWriter::with_capacity(4, Cursor::new(Vec::new()));
        block_on(out.write_all(b"ab")).unwrap();
        assert_eq!(block_on(out.write(b"cdefgh")).unwrap(), 6);
        assert_eq!(out.get_ref().get_ref(), b"abcdefgh");
        assert!(out.buffer().is_empty());
    }

    #[test]
    fn close_writes_out_the_buffer_and_closes() {
        let mut out = BufWriter::new(TrickleWriter::default());
        block_on(out.write_all(b"bye")).unwrap();
        block_on(out.close()).unwrap();
        assert_eq!(out.get_ref().data, b"bye");
        assert!(out.get_ref().closed);
    }

    #[test]
    fn vectored_writes_are_buffered_too() {
        let mut out = BufWriter::with_capacity(8, TrickleWriter::default());
        let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
        assert_eq!(block_on(out.write_vectored(&bufs)).unwrap(), 4);
        assert_eq!(out.buffer(), b"abcd");
    }

    #[test]
    fn seek_writes_out_the_buffer_first() {
        let mut out = BufWriter::new(Cursor::new(Vec::new()));
        block_on(out.write_all(b"abc")).unwrap();
        block_on(out.seek(SeekFrom::Start(1))).unwrap();
        block_on(out.write_all(b"X")).unwrap();
        block_on(out.flush()).unwrap();
        assert_eq!(out.get_ref().get_ref(), b"aXc");
    }

    #[test]
    fn a_failed_flush_keeps_the_buffer() {
        let mut out = BufWriter::new(Failing);
        block_on(out.write_all(b"kept")).unwrap();
        assert!(block_on(out.flush()).is_err());
        assert_eq!(out.buffer(), b"kept");
    }
}
