//! [`AsyncBufReadExt`]: `fill_buf`, `consume`, `read_until`, `read_line`,
//! `lines`, `split`, and their futures.

use super::error::{error, FILL_BUF_NOT_READY, FILL_BUF_POLLED_AFTER_COMPLETION};
use super::read::append_utf8;
use super::{AsyncBufRead, Lines, Split};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Methods for every [`AsyncBufRead`] (a reader with an internal buffer, such
/// as [`BufReader`](super::BufReader)), as futures.
///
/// # Examples
/// ```
/// use brisk::io::{AsyncBufReadExt, BufReader};
///
/// # brisk::run(async {
/// let mut reader = BufReader::new(&b"name=brisk\n"[..]);
/// let mut line = String::new();
/// reader.read_line(&mut line).await?;
/// assert_eq!(line, "name=brisk\n");
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Returns the buffered bytes, reading more first if the buffer is
    /// empty; an empty slice means end of stream. Call
    /// [`consume`](AsyncBufReadExt::consume) to mark bytes as used.
    ///
    /// Cancel safety: cancel-safe. Bytes stay in the reader's buffer until
    /// consumed, so dropping the future loses nothing.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut reader = BufReader::new(&b"magic!rest"[..]);
    /// let head = reader.fill_buf().await?;
    /// assert!(head.starts_with(b"magic"));
    /// reader.consume(6);
    /// assert_eq!(reader.fill_buf().await?, b"rest");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn fill_buf(&mut self) -> FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        FillBuf { reader: Some(self) }
    }

    /// Marks the first `amt` buffered bytes as used, so the next read or
    /// [`fill_buf`](AsyncBufReadExt::fill_buf) starts after them. `amt`
    /// should not exceed what the last `fill_buf` returned.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut reader = BufReader::new(&b"skip:keep"[..]);
    /// reader.fill_buf().await?;
    /// reader.consume(5);
    /// let mut rest = String::new();
    /// reader.read_to_string(&mut rest).await?;
    /// assert_eq!(rest, "keep");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        Pin::new(self).consume(amt)
    }

    /// Reads until `byte` or the end of the stream, appending everything read
    /// (the delimiter included, if found) to `buf`; returns how many bytes
    /// were appended, `0` at end of stream.
    ///
    /// On an error, the bytes read before it stay appended to `buf`.
    ///
    /// Cancel safety: no data is lost. Bytes are appended to `buf` as they
    /// are taken from the reader, so after a drop `buf` holds the partial
    /// segment and calling `read_until` again with the same `buf` completes
    /// it; only the count returned covers just the last call.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut reader = BufReader::new(&b"a,bc"[..]);
    /// let mut buf = Vec::new();
    /// assert_eq!(reader.read_until(b',', &mut buf).await?, 2);
    /// assert_eq!(buf, b"a,");
    /// assert_eq!(reader.read_until(b',', &mut buf).await?, 2);
    /// assert_eq!(buf, b"a,bc");
    /// assert_eq!(reader.read_until(b',', &mut buf).await?, 0);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn read_until<'a>(&'a mut self, byte: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil {
            start_len: buf.len(),
            reader: self,
            delim: byte,
            buf,
        }
    }

    /// Reads a line and appends it, newline included (`"\n"` or `"\r\n"`, as
    /// found), to `buf`; returns how many bytes were appended, `0` at end of
    /// stream. The last line need not end with a newline.
    ///
    /// As with `std::io::BufRead::read_line`: if the line is not valid UTF-8
    /// this fails with [`ErrorKind::InvalidData`](io::ErrorKind::InvalidData),
    /// the line is consumed from the reader, and `buf` is left unchanged (no
    /// part of it is appended); if reading fails, the valid bytes read before
    /// the error are appended and the error is returned.
    ///
    /// Cancel safety: **not** cancel-safe. The partial line is kept on the
    /// side and appended only when complete, so dropping the future leaves
    /// `buf` unchanged and loses the bytes already taken from the reader. Use
    /// [`Lines::next_line`](super::Lines::next_line), which keeps the partial
    /// line inside the [`Lines`], or
    /// [`read_until`](AsyncBufReadExt::read_until).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut reader = BufReader::new(&b"one\r\ntwo"[..]);
    /// let mut buf = String::new();
    /// assert_eq!(reader.read_line(&mut buf).await?, 5);
    /// assert_eq!(reader.read_line(&mut buf).await?, 3);
    /// assert_eq!(buf, "one\r\ntwo");
    /// assert_eq!(reader.read_line(&mut buf).await?, 0);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        ReadLine {
            reader: self,
            buf,
            bytes: Vec::new(),
        }
    }

    /// The lines of this reader, without their `"\n"` or `"\r\n"`, as a
    /// [`Stream`](futures_core::Stream) of `io::Result<String>` or through
    /// [`Lines::next_line`].
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut lines = BufReader::new(&b"a\r\nb\nc"[..]).lines();
    /// let mut all = Vec::new();
    /// while let Some(line) = lines.next_line().await? {
    ///     all.push(line);
    /// }
    /// assert_eq!(all, ["a", "b", "c"]);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines::new(self)
    }

    /// The segments of this reader between occurrences of `byte`, without
    /// the delimiter, as a [`Stream`](futures_core::Stream) of
    /// `io::Result<Vec<u8>>` or through [`Split::next_segment`].
    ///
    /// On a `&[u8]`, the slice's own `split` method is found first: wrap the
    /// slice in a [`Cursor`](super::Cursor) or [`BufReader`](super::BufReader).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut fields = BufReader::new(&b"a\0bc\0"[..]).split(0);
    /// assert_eq!(fields.next_segment().await?, Some(b"a".to_vec()));
    /// assert_eq!(fields.next_segment().await?, Some(b"bc".to_vec()));
    /// assert_eq!(fields.next_segment().await?, None);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized,
    {
        Split::new(self, byte)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// The future returned by [`AsyncBufReadExt::fill_buf`].
///
/// # Panics
/// If polled again after it returned.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct FillBuf<'a, R: ?Sized> {
    /// Taken out when the future completes.
    reader: Option<&'a mut R>,
}

impl<'a, R: AsyncBufRead + Unpin + ?Sized> Future for FillBuf<'a, R> {
    type Output = io::Result<&'a [u8]>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let reader = self.reader.take().expect(FILL_BUF_POLLED_AFTER_COMPLETION);
        // The buffer must be borrowed for `'a`, which means handing the
        // reader over for good; on `Pending` it has to be kept instead. Safe
        // code cannot decide that after the call (that needs the borrow
        // checker's next version), so poll with a short borrow first and,
        // once data is there, ask again with the long one. By the
        // `AsyncBufRead` contract the second call returns the same buffer
        // without doing I/O.
        match Pin::new(&mut *reader).poll_fill_buf(cx) {
            Poll::Pending => {
                self.reader = Some(reader);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(_)) => match Pin::new(reader).poll_fill_buf(cx) {
                Poll::Ready(result) => Poll::Ready(result),
                Poll::Pending => Poll::Ready(Err(error(io::ErrorKind::Other, FILL_BUF_NOT_READY))),
            },
        }
    }
}

/// The future returned by [`AsyncBufReadExt::read_until`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    delim: u8,
    buf: &'a mut Vec<u8>,
    /// `buf.len()` when the future was created.
    start_len: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        ready!(poll_read_until(
            Pin::new(&mut *this.reader),
            cx,
            this.delim,
            this.buf
        ))?;
        let n = this.buf.len() - this.start_len;
        // Ready for another poll, should anyone make one.
        this.start_len = this.buf.len();
        Poll::Ready(Ok(n))
    }
}

/// The future returned by [`AsyncBufReadExt::read_line`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    /// The line read so far, appended to `buf` once complete and validated.
    bytes: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let result = ready!(poll_read_until(
            Pin::new(&mut *this.reader),
            cx,
            b'\n',
            &mut this.bytes
        ));
        Poll::Ready(append_utf8(
            result,
            std::mem::take(&mut this.bytes),
            this.buf,
        ))
    }
}

/// Moves bytes from `reader` to `buf` up to and including `delim`, or to the
/// end of the stream. Bytes are consumed from the reader only once they are
/// in `buf`, so nothing is lost if the caller stops polling.
pub(crate) fn poll_read_until<R: AsyncBufRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    delim: u8,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    loop {
        let (found, used) = {
            let available = ready!(reader.as_mut().poll_fill_buf(cx))?;
            match available.iter().position(|&b| b == delim) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (false, available.len())
                }
            }
        };
        reader.as_mut().consume(used);
        if found || used == 0 {
            return Poll::Ready(Ok(()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::{block_on, Trickle};
    use crate::io::{AsyncReadExt, BufReader};

    #[test]
    fn read_until_across_many_fills() {
        let mut reader = BufReader::with_capacity(2, Trickle::new(b"abcde;fg"));
        let mut buf = Vec::new();
        assert_eq!(block_on(reader.read_until(b';', &mut buf)).unwrap(), 6);
        assert_eq!(buf, b"abcde;");
        buf.clear();
        assert_eq!(block_on(reader.read_until(b';', &mut buf)).unwrap(), 2);
        assert_eq!(buf, b"fg");
    }

    #[test]
    fn read_until_keeps_the_partial_segment_when_dropped() {
        let mut reader = BufReader::with_capacity(2, Trickle::new(b"abcd;"));
        let mut buf = Vec::new();
        {
            let mut fut = reader.read_until(b';', &mut buf);
            let mut cx = Context::from_waker(std::task::Waker::noop());
            for _ in 0..4 {
                assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
            }
        }
        assert!(!buf.is_empty());
        block_on(reader.read_until(b';', &mut buf)).unwrap();
        assert_eq!(buf, b"abcd;");
    }

    #[test]
    fn read_line_handles_lf_crlf_and_an_unterminated_last_line() {
        let mut reader = BufReader::with_capacity(3, Trickle::new(b"a\nbb\r\nccc"));
        let mut line = String::new();
        let mut lines = Vec::new();
        while block_on(reader.read_line(&mut line)).unwrap() > 0 {
            lines.push(std::mem::take(&mut line));
        }
        assert_eq!(lines, ["a\n", "bb\r\n", "ccc"]);
    }

    #[test]
    fn read_line_with_invalid_utf8_consumes_the_line_and_appends_nothing() {
        let mut reader: &[u8] = b"ok\xff\nnext\n";
        let mut line = String::from("prefix:");
        let err = block_on(reader.read_line(&mut line)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(line, "prefix:");
        line.clear();
        block_on(reader.read_line(&mut line)).unwrap();
        assert_eq!(line, "next\n");
    }

    #[test]
    fn fill_buf_returns_the_buffer_and_consume_advances() {
        let mut reader = BufReader::with_capacity(4, Trickle::new(b"abcdef"));
        let buf = block_on(reader.fill_buf()).unwrap();
        assert_eq!(buf, b"a");
        reader.consume(1);
        let mut rest = Vec::new();
        block_on(reader.read_to_end(&mut rest)).unwrap();
        assert_eq!(rest, b"bcdef");
    }
}
