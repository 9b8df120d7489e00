//! [`BufReader`]: buffering for a reader.

use super::error::{error, BUF_READER_ZERO_CAPACITY, SEEK_OVERFLOW};
use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, DEFAULT_BUF_SIZE};
use pin_project_lite::pin_project;
use std::io::{self, IoSlice, IoSliceMut, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// Adds a buffer to a reader, so that many small reads cost few reads of
    /// the inner reader, and makes it an [`AsyncBufRead`] (for
    /// [`lines`](super::AsyncBufReadExt::lines),
    /// [`read_line`](super::AsyncBufReadExt::read_line), ...).
    ///
    /// Reads at least as large as the buffer skip it when it is empty.
    /// Seeking discards the buffer (accounting for it in
    /// `SeekFrom::Current`). If the inner type also writes, writes pass
    /// through unbuffered. `Unpin` when the reader is.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader, Cursor};
    ///
    /// # brisk::run(async {
    /// let mut reader = BufReader::new(Cursor::new("key: value\n"));
    /// let mut line = String::new();
    /// reader.read_line(&mut line).await?;
    /// assert_eq!(line, "key: value\n");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[derive(Debug)]
    pub struct BufReader<R> {
        #[pin]
        inner: R,
        buf: Box<[u8]>,
        // Invariant: pos <= filled <= buf.len(); buf[pos..filled] is unread.
        pos: usize,
        filled: usize,
    }
}

impl<R: AsyncRead> BufReader<R> {
    /// Wraps `inner` with a buffer of the default capacity (8 KiB).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufReader;
    ///
    /// let reader = BufReader::new(&b"data"[..]);
    /// assert_eq!(reader.capacity(), 8 * 1024);
    /// ```
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes.
    ///
    /// # Panics
    /// If `capacity` is 0.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufReader;
    ///
    /// let reader = BufReader::with_capacity(64, &b"data"[..]);
    /// assert_eq!(reader.capacity(), 64);
    /// ```
    #[track_caller]
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        assert!(capacity > 0, "{}", BUF_READER_ZERO_CAPACITY);
        BufReader {
            inner,
            buf: vec![0; capacity].into_boxed_slice(),
            pos: 0,
            filled: 0,
        }
    }
}

impl<R> BufReader<R> {
    /// The inner reader.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufReader;
    ///
    /// let reader = BufReader::new(&b"data"[..]);
    /// assert_eq!(*reader.get_ref(), b"data");
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly skips the bytes
    /// in the buffer and will confuse the order of the data.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufReader;
    ///
    /// let mut reader = BufReader::new(&b"data"[..]);
    /// *reader.get_mut() = &b"other"[..];
    /// assert_eq!(*reader.get_ref(), b"other");
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader, pinned.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufReader;
    /// use std::pin::pin;
    ///
    /// let reader = pin!(BufReader::new(&b"data"[..]));
    /// assert_eq!(reader.get_pin_mut().len(), 4);
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Takes the inner reader out; bytes still in the buffer are lost (read
    /// them with [`buffer`](BufReader::buffer) first if they matter).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufReader;
    ///
    /// let reader = BufReader::new(&b"data"[..]);
    /// assert_eq!(reader.into_inner(), b"data");
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The bytes read from the inner reader and not yet consumed.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut reader = BufReader::new(&b"abc"[..]);
    /// assert!(reader.buffer().is_empty());
    /// reader.fill_buf().await?;
    /// reader.consume(1);
    /// assert_eq!(reader.buffer(), b"bc");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// The size of the buffer.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::BufReader;
    ///
    /// assert_eq!(BufReader::with_capacity(16, &b""[..]).capacity(), 16);
    /// ```
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    fn discard_buffer(self: Pin<&mut Self>) {
        let this = self.project();
        *this.pos = 0;
        *this.filled = 0;
    }
}

impl<R: AsyncRead> AsyncRead for BufReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.pos == self.filled && buf.len() >= self.buf.len() {
            let n = ready!(self.as_mut().project().inner.poll_read(cx, buf))?;
            self.discard_buffer();
            return Poll::Ready(Ok(n));
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let total = bufs.iter().map(|b| b.len()).fold(0, usize::saturating_add);
        if self.pos == self.filled && total >= self.buf.len() {
            let n = ready!(self.as_mut().project().inner.poll_read_vectored(cx, bufs))?;
            self.discard_buffer();
            return Poll::Ready(Ok(n));
        }
        let mut available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = io::Read::read_vectored(&mut available, bufs)?;
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if *this.pos >= *this.filled {
            let n = ready!(this.inner.poll_read(cx, this.buf))?;
            *this.pos = 0;
            *this.filled = n.min(this.buf.len());
        }
        Poll::Ready(Ok(&this.buf[*this.pos..*this.filled]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        *this.pos = (*this.pos + amt).min(*this.filled);
    }
}

impl<R: AsyncRead + AsyncSeek> AsyncSeek for BufReader<R> {
    /// Seeks the inner reader and discards the buffer. `SeekFrom::Current`
    /// counts from the position of the next byte this reader returns, not
    /// from the inner reader's (which is ahead by the buffered bytes).
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let pos = match pos {
            SeekFrom::Current(offset) => {
                let buffered = i64::try_from(self.filled - self.pos).ok();
                match buffered.and_then(|b| offset.checked_sub(b)) {
                    Some(offset) => SeekFrom::Current(offset),
                    None => {
                        return Poll::Ready(Err(error(io::ErrorKind::InvalidInput, SEEK_OVERFLOW)))
                    }
                }
            }
            other => other,
        };
        let at = ready!(self.as_mut().project().inner.poll_seek(cx, pos))?;
        self.discard_buffer();
        Poll::Ready(Ok(at))
    }
}

impl<R: AsyncWrite> AsyncWrite for BufReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::{block_on, Trickle};
    use crate::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, Cursor};

    #[test]
    fn small_reads_are_served_from_one_fill() {
        let mut reader = BufReader::with_capacity(8, Cursor::new(b"abcdefghij".to_vec()));
        let mut two = [0; 2];
        block_on(reader.read_exact(&mut two)).unwrap();
        assert_eq!(reader.get_ref().position(), 8);
        assert_eq!(reader.buffer(), b"cdefgh");
    }

    #[test]
    fn a_large_read_bypasses_an_empty_buffer() {
        let mut reader = BufReader::with_capacity(4, Cursor::new(b"abcdefghij".to_vec()));
        let mut big = [0; 6];
        assert_eq!(block_on(reader.read(&mut big)).unwrap(), 6);
        assert_eq!(&big, b"abcdef");
        assert!(reader.buffer().is_empty());
    }

    #[test]
    fn seek_current_counts_from_what_the_caller_has_read() {
        let mut reader = BufReader::with_capacity(8, Cursor::new(b"0123456789".to_vec()));
        let mut one = [0; 1];
        block_on(reader.read_exact(&mut one)).unwrap();
        assert_eq!(block_on(reader.seek(SeekFrom::Current(2))).unwrap(), 3);
        block_on(reader.read_exact(&mut one)).unwrap();
        assert_eq!(&one, b"3");
        assert_eq!(
            block_on(reader.seek(SeekFrom::Current(i64::MIN)))
                .unwrap_err()
                .kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn vectored_reads_fill_in_order() {
        let mut reader = BufReader::with_capacity(3, Trickle::new(b"abcd"));
        let mut out = Vec::new();
        loop {
            let (mut a, mut b) = ([0; 1], [0; 1]);
            let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
            let n = block_on(reader.read_vectored(&mut bufs)).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&[a[0], b[0]][..n]);
        }
        assert_eq!(out, b"abcd");
    }

    #[test]
    #[should_panic(expected = "capacity of 0")]
    fn zero_capacity_panics() {
        let _ = BufReader::with_capacity(0, Trickle::new(b""));
    }

    #[test]
    fn lines_over_a_small_buffer() {
        let mut lines = BufReader::with_capacity(1, &b"ab\ncd"[..]).lines();
        assert_eq!(block_on(lines.next_line()).unwrap().as_deref(), Some("ab"));
        assert_eq!(block_on(lines.next_line()).unwrap().as_deref(), Some("cd"));
    }
}
