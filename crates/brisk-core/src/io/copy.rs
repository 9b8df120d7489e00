//! [`copy`] and [`copy_buf`]: moving a whole stream from a reader to a
//! writer.

use super::error::{error, WRITE_ZERO};
use super::{AsyncBufRead, AsyncRead, AsyncWrite, DEFAULT_BUF_SIZE};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Copies everything from `reader` to `writer`, then flushes `writer`;
/// returns how many bytes were copied.
///
/// Uses a buffer of 8 KiB. Whenever the reader has nothing to give and some
/// bytes were written since the last flush, `writer` is flushed, so data
/// does not sit in a [`BufWriter`](super::BufWriter) while the reader waits.
/// The writer is not closed.
///
/// Cancel safety: **not** cancel-safe. Bytes read from `reader` but not yet
/// written are lost when the future is dropped. [`copy_buf`] loses none.
///
/// # Examples
/// ```
/// use brisk::io::{copy, Cursor};
///
/// # brisk::run(async {
/// let mut reader = Cursor::new(b"payload".to_vec());
/// let mut writer = Cursor::new(Vec::new());
/// assert_eq!(copy(&mut reader, &mut writer).await?, 7);
/// assert_eq!(writer.get_ref(), b"payload");
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> Copy<'a, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    Copy {
        reader,
        writer,
        buf: vec![0; DEFAULT_BUF_SIZE].into_boxed_slice(),
        pos: 0,
        filled: 0,
        amt: 0,
        read_done: false,
        need_flush: false,
    }
}

/// The future returned by [`copy`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Copy<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    buf: Box<[u8]>,
    /// `buf[pos..filled]` is read and not yet written.
    pos: usize,
    filled: usize,
    /// Bytes written so far.
    amt: u64,
    /// The reader reported end of stream.
    read_done: bool,
    /// Bytes were written since the last flush.
    need_flush: bool,
}

impl<R: ?Sized, W: ?Sized> std::fmt::Debug for Copy<'_, R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Copy")
            .field("copied", &self.amt)
            .field("buffered", &(self.filled - self.pos))
            .field("read_done", &self.read_done)
            .finish_non_exhaustive()
    }
}

impl<R, W> Future for Copy<'_, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            if this.pos == this.filled && !this.read_done {
                match Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf) {
                    Poll::Ready(Ok(0)) => this.read_done = true,
                    Poll::Ready(Ok(n)) => {
                        this.pos = 0;
                        this.filled = n.min(this.buf.len());
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        if this.need_flush {
                            ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                            this.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                }
            }
            while this.pos < this.filled {
                let n =
                    ready!(Pin::new(&mut *this.writer)
                        .poll_write(cx, &this.buf[this.pos..this.filled]))?;
                if n == 0 {
                    return Poll::Ready(Err(error(io::ErrorKind::WriteZero, WRITE_ZERO)));
                }
                this.pos += n;
                this.amt += n as u64;
                this.need_flush = true;
            }
            if this.read_done {
                ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                return Poll::Ready(Ok(this.amt));
            }
        }
    }
}

/// Copies everything from a buffered `reader` to `writer` using the reader's
/// own buffer, then flushes `writer`; returns how many bytes were copied.
///
/// As with [`copy`], `writer` is flushed whenever the reader has nothing to
/// give and bytes were written since the last flush, and it is not closed.
///
/// Cancel safety: no data is lost. Bytes are consumed from the reader only
/// once written, so after a drop the rest is still in the reader and calling
/// `copy_buf` again continues; only the count returned covers just the last
/// call.
///
/// # Examples
/// ```
/// use brisk::io::{copy_buf, BufReader};
///
/// # brisk::run(async {
/// let mut reader = BufReader::new(&b"payload"[..]);
/// let mut writer = Vec::new();
/// assert_eq!(copy_buf(&mut reader, &mut writer).await?, 7);
/// assert_eq!(writer, b"payload");
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub fn copy_buf<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> CopyBuf<'a, R, W>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    CopyBuf {
        reader,
        writer,
        amt: 0,
        need_flush: false,
    }
}

/// The future returned by [`copy_buf`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct CopyBuf<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    /// Bytes written so far.
    amt: u64,
    /// Bytes were written since the last flush.
    need_flush: bool,
}

impl<R, W> Future for CopyBuf<'_, R, W>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            let available = match Pin::new(&mut *this.reader).poll_fill_buf(cx) {
                Poll::Ready(Ok(available)) => available,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    if this.need_flush {
                        ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                        this.need_flush = false;
                    }
                    return Poll::Pending;
                }
            };
            if available.is_empty() {
                ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                return Poll::Ready(Ok(this.amt));
            }
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, available))?;
            if n == 0 {
                return Poll::Ready(Err(error(io::ErrorKind::WriteZero, WRITE_ZERO)));
            }
            let n = n.min(available.len());
            Pin::new(&mut *this.reader).consume(n);
            this.amt += n as u64;
            this.need_flush = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::{block_on, Trickle, TrickleWriter};
    use crate::io::{AsyncReadExt, BufReader, BufWriter, Cursor};

    #[test]
    fn copy_moves_everything_through_short_reads_and_writes_and_flushes() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = (&data[..3])
            .chain(Trickle::new(&data[3..40]))
            .chain(&data[40..]);
        let mut writer = TrickleWriter::default();
        assert_eq!(
            block_on(copy(&mut reader, &mut writer)).unwrap(),
            data.len() as u64
        );
        assert_eq!(writer.data, data);
        assert!(writer.flushes >= 1);
    }

    #[test]
    fn copy_flushes_while_the_reader_waits() {
        // The reader is pending after every byte, so each byte reaches the
        // inner writer through a flush rather than sitting in the BufWriter.
        let mut reader = Trickle::new(b"ab");
        let mut writer = BufWriter::new(Cursor::new(Vec::new()));
        let mut fut = copy(&mut reader, &mut writer);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        drop(fut);
        assert_eq!(writer.get_ref().get_ref(), b"a");
    }

    #[test]
    fn copy_buf_keeps_unwritten_bytes_in_the_reader() {
        let mut reader = BufReader::with_capacity(4, &b"abcdef"[..]);
        let mut writer = TrickleWriter::default();
        {
            let mut fut = copy_buf(&mut reader, &mut writer);
            let mut cx = Context::from_waker(std::task::Waker::noop());
            for _ in 0..2 {
                assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
            }
        }
        assert_eq!(writer.data, b"a");
        assert_eq!(reader.buffer(), b"bcd");
        assert_eq!(block_on(copy_buf(&mut reader, &mut writer)).unwrap(), 5);
        assert_eq!(writer.data, b"abcdef");
    }
}
