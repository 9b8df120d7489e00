//! [`AsyncReadExt`]: `read`, `read_exact`, `read_to_end`, ... and their
//! futures.

use super::error::{error, INVALID_UTF8, READ_EXACT_EOF};
use super::{AsyncRead, Chain, Take};
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Reading methods for every [`AsyncRead`], as futures.
///
/// Implemented for every `AsyncRead`, including `dyn AsyncRead` and
/// `Box<dyn AsyncRead + Send + Unpin>`. The methods that borrow the reader
/// need it to be [`Unpin`]; pin a `!Unpin` reader first (`std::pin::pin!`)
/// and call them on the `Pin<&mut R>`.
///
/// # Examples
/// ```
/// use brisk::io::AsyncReadExt;
///
/// # brisk::run(async {
/// let mut reader: &[u8] = b"hello";
/// let mut text = String::new();
/// reader.read_to_string(&mut text).await?;
/// assert_eq!(text, "hello");
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`, returning how many; `0` means end of
    /// stream (or an empty `buf`).
    ///
    /// Cancel safety: cancel-safe. Until the future returns, no bytes have
    /// been taken from the reader, so dropping it (say, in a losing `select!`
    /// branch) loses nothing.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// # brisk::run(async {
    /// let mut reader: &[u8] = b"abc";
    /// let mut buf = [0; 2];
    /// assert_eq!(reader.read(&mut buf).await?, 2);
    /// assert_eq!(&buf, b"ab");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Reads exactly `buf.len()` bytes, or fails with
    /// [`ErrorKind::UnexpectedEof`](io::ErrorKind::UnexpectedEof) when the
    /// stream ends first (the contents of `buf` are then unspecified).
    ///
    /// Cancel safety: **not** cancel-safe. Bytes already read into `buf` are
    /// gone from the reader, and dropping the future does not say how many
    /// there were. Buffer the reader and use [`AsyncBufReadExt::fill_buf`]
    /// if a partial read must survive a cancellation.
    ///
    /// [`AsyncBufReadExt::fill_buf`]: super::AsyncBufReadExt::fill_buf
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncReadExt, ErrorKind};
    ///
    /// # brisk::run(async {
    /// let mut reader: &[u8] = b"abcd";
    /// let mut header = [0; 3];
    /// reader.read_exact(&mut header).await?;
    /// assert_eq!(&header, b"abc");
    /// let err = reader.read_exact(&mut header).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact { reader: self, buf }
    }

    /// Reads until the end of the stream, appending to `buf`, and returns how
    /// many bytes were appended.
    ///
    /// On an error, the bytes read before it stay appended to `buf`.
    ///
    /// Cancel safety: no data is lost. Bytes are appended to `buf` as they
    /// arrive, so after a drop `buf` holds everything read so far and calling
    /// `read_to_end` again continues; only the count returned covers just the
    /// last call.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// # brisk::run(async {
    /// let mut reader: &[u8] = b"tail";
    /// let mut buf = b"head-".to_vec();
    /// assert_eq!(reader.read_to_end(&mut buf).await?, 4);
    /// assert_eq!(buf, b"head-tail");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        ReadToEnd {
            start_len: buf.len(),
            chunk: first_chunk(buf),
            reader: self,
            buf,
        }
    }

    /// Reads until the end of the stream, appending to `buf` if what was read
    /// is valid UTF-8, and returns how many bytes were appended.
    ///
    /// As with `std::io::Read::read_to_string`: if the bytes are not valid
    /// UTF-8 this fails with
    /// [`ErrorKind::InvalidData`](io::ErrorKind::InvalidData) and `buf` is
    /// left unchanged; if reading fails, the valid bytes read before the
    /// error are appended and the error is returned.
    ///
    /// Cancel safety: **not** cancel-safe. Bytes are collected on the side
    /// and appended only at the end, so dropping the future leaves `buf`
    /// unchanged and loses what was read. Use
    /// [`read_to_end`](AsyncReadExt::read_to_end) when that matters.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncReadExt, ErrorKind};
    ///
    /// # brisk::run(async {
    /// let mut text = String::from("> ");
    /// let mut reader: &[u8] = "héllo".as_bytes();
    /// reader.read_to_string(&mut text).await?;
    /// assert_eq!(text, "> héllo");
    ///
    /// let mut bad: &[u8] = &[0x66, 0xff];
    /// let err = bad.read_to_string(&mut text).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidData);
    /// assert_eq!(text, "> héllo");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        ReadToString {
            reader: self,
            buf,
            bytes: Vec::new(),
            chunk: MIN_CHUNK,
        }
    }

    /// Reads some bytes into `bufs`, filling them in order, and returns how
    /// many bytes were read in total.
    ///
    /// Cancel safety: cancel-safe, as for [`read`](AsyncReadExt::read).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncReadExt, IoSliceMut};
    ///
    /// # brisk::run(async {
    /// let mut reader: &[u8] = b"abcde";
    /// let (mut a, mut b) = ([0; 2], [0; 3]);
    /// let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
    /// assert_eq!(reader.read_vectored(&mut bufs).await?, 5);
    /// assert_eq!((&a, &b), (b"ab", b"cde"));
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn read_vectored<'a>(&'a mut self, bufs: &'a mut [IoSliceMut<'a>]) -> ReadVectored<'a, Self>
    where
        Self: Unpin,
    {
        ReadVectored { reader: self, bufs }
    }

    /// A reader that yields at most `limit` bytes of this one, then reports
    /// the end of the stream.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// # brisk::run(async {
    /// let reader: &[u8] = b"abcdef";
    /// let mut text = String::new();
    /// reader.take(3).read_to_string(&mut text).await?;
    /// assert_eq!(text, "abc");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, limit)
    }

    /// A reader that yields this one to its end, then `next`.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// # brisk::run(async {
    /// let (a, b): (&[u8], &[u8]) = (b"ab", b"cd");
    /// let mut text = String::new();
    /// a.chain(b).read_to_string(&mut text).await?;
    /// assert_eq!(text, "abcd");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn chain<R: AsyncRead>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
    {
        Chain::new(self, next)
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// The future returned by [`AsyncReadExt::read`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// The future returned by [`AsyncReadExt::read_exact`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    /// The part of the caller's buffer still to fill.
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        while !this.buf.is_empty() {
            let n = ready!(Pin::new(&mut *this.reader).poll_read(cx, this.buf))?;
            if n == 0 {
                return Poll::Ready(Err(error(io::ErrorKind::UnexpectedEof, READ_EXACT_EOF)));
            }
            let rest = std::mem::take(&mut this.buf);
            let n = n.min(rest.len());
            this.buf = &mut rest[n..];
        }
        Poll::Ready(Ok(()))
    }
}

/// The future returned by [`AsyncReadExt::read_to_end`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    /// `buf.len()` when the future was created.
    start_len: usize,
    /// How many zeroed bytes to offer the next read; see [`poll_read_to_end`].
    chunk: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        ready!(poll_read_to_end(
            Pin::new(&mut *this.reader),
            cx,
            this.buf,
            &mut this.chunk
        ))?;
        Poll::Ready(Ok(this.buf.len() - this.start_len))
    }
}

/// The future returned by [`AsyncReadExt::read_to_string`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    /// Bytes read so far, appended to `buf` once validated.
    bytes: Vec<u8>,
    chunk: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let result = ready!(poll_read_to_end(
            Pin::new(&mut *this.reader),
            cx,
            &mut this.bytes,
            &mut this.chunk
        ));
        Poll::Ready(append_utf8(
            result,
            std::mem::take(&mut this.bytes),
            this.buf,
        ))
    }
}

/// The future returned by [`AsyncReadExt::read_vectored`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadVectored<'a, R: ?Sized> {
    reader: &'a mut R,
    bufs: &'a mut [IoSliceMut<'a>],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadVectored<'_, R> {
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        Pin::new(&mut *this.reader).poll_read_vectored(cx, this.bufs)
    }
}

/// The first read of `read_to_end` offers this many bytes.
const MIN_CHUNK: usize = 32;
/// Reads never offer more than this many bytes at once.
const MAX_CHUNK: usize = 64 * 1024;

/// The first offer of `read_to_end` into `buf`: its spare capacity, if the
/// caller reserved some, within [`MIN_CHUNK`, `MAX_CHUNK`].
fn first_chunk(buf: &Vec<u8>) -> usize {
    (buf.capacity() - buf.len()).clamp(MIN_CHUNK, MAX_CHUNK)
}

/// Reads `reader` to its end, appending to `buf`.
///
/// There is no `unsafe` here, so the spare capacity handed to the reader is
/// zeroed first. To keep that cheap, each read is offered `chunk` bytes,
/// which starts small and doubles whenever a read fills it; the zeroed tail
/// is cut off again before returning, whatever happens (a guard truncates it
/// even if the reader panics).
pub(crate) fn poll_read_to_end<R: AsyncRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
    chunk: &mut usize,
) -> Poll<io::Result<()>> {
    /// Truncates the vector to `len` on drop.
    struct Truncate<'b> {
        buf: &'b mut Vec<u8>,
        len: usize,
    }
    impl Drop for Truncate<'_> {
        fn drop(&mut self) {
            self.buf.truncate(self.len);
        }
    }

    loop {
        let filled = buf.len();
        let offer = *chunk;
        let mut guard = Truncate {
            buf: &mut *buf,
            len: filled,
        };
        guard.buf.resize(filled + offer, 0);
        match reader.as_mut().poll_read(cx, &mut guard.buf[filled..]) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
            Poll::Ready(Ok(n)) => {
                let n = n.min(offer);
                guard.len = filled + n;
                if n == offer {
                    *chunk = (offer * 2).min(MAX_CHUNK);
                }
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
}

/// Appends `bytes` to `buf` if they are valid UTF-8, following
/// `std::io::Read::read_to_string`: an I/O error wins over invalid UTF-8,
/// valid bytes are kept even when reading failed, invalid ones never are.
/// Returns how many bytes were appended.
pub(crate) fn append_utf8(
    result: io::Result<()>,
    bytes: Vec<u8>,
    buf: &mut String,
) -> io::Result<usize> {
    let n = bytes.len();
    let appended = if buf.is_empty() {
        String::from_utf8(bytes).map(|s| *buf = s).is_ok()
    } else {
        std::str::from_utf8(&bytes).map(|s| buf.push_str(s)).is_ok()
    };
    match (result, appended) {
        (Err(e), _) => Err(e),
        (Ok(()), false) => Err(error(io::ErrorKind::InvalidData, INVALID_UTF8)),
        (Ok(()), true) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::{block_on, Trickle};

    #[test]
    fn read_exact_fills_across_short_reads() {
        let mut reader = Trickle::new(b"abcdef");
        let mut buf = [0; 4];
        block_on(reader.read_exact(&mut buf)).unwrap();
        assert_eq!(&buf, b"abcd");
    }

    #[test]
    fn read_exact_on_a_short_stream_is_unexpected_eof() {
        let mut reader = Trickle::new(b"ab");
        let mut buf = [0; 4];
        let err = block_on(reader.read_exact(&mut buf)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn read_to_end_appends_everything_and_counts_it() {
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let mut reader = &data[..];
        let mut buf = vec![7];
        assert_eq!(block_on(reader.read_to_end(&mut buf)).unwrap(), data.len());
        assert_eq!(buf[0], 7);
        assert_eq!(&buf[1..], &data[..]);
    }

    #[test]
    fn read_to_end_keeps_no_zeroed_tail_when_pending() {
        let mut reader = Trickle::new(b"xyz");
        let mut buf = Vec::new();
        let mut fut = reader.read_to_end(&mut buf);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut polls = 0;
        while Pin::new(&mut fut).poll(&mut cx).is_pending() {
            polls += 1;
        }
        assert!(polls > 0);
        assert_eq!(buf, b"xyz");
    }

    #[test]
    fn read_to_end_keeps_bytes_read_before_an_error() {
        let mut reader = (&b"ok"[..]).chain(crate::io::test_util::Failing);
        let mut buf = Vec::new();
        assert!(block_on(reader.read_to_end(&mut buf)).is_err());
        assert_eq!(buf, b"ok");
    }

    #[test]
    fn read_to_string_rejects_invalid_utf8_and_leaves_the_string() {
        let mut s = String::from("keep");
        let mut reader: &[u8] = &[b'a', 0xc3];
        let err = block_on(reader.read_to_string(&mut s)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(s, "keep");
    }

    #[test]
    fn read_to_string_appends_valid_bytes_read_before_an_error() {
        let mut s = String::new();
        let mut reader = (&b"ok"[..]).chain(crate::io::test_util::Failing);
        let err = block_on(reader.read_to_string(&mut s)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert_eq!(s, "ok");
    }

    #[test]
    fn works_through_a_trait_object() {
        let mut reader: Box<dyn AsyncRead + Send + Unpin> = Box::new(Trickle::new(b"dyn"));
        let mut s = String::new();
        block_on(reader.read_to_string(&mut s)).unwrap();
        assert_eq!(s, "dyn");
    }
}
