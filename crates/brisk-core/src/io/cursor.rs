//! [`Cursor`]: an in-memory buffer with a position, as an async reader,
//! writer and seeker.

use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
use std::io::{self, IoSlice, IoSliceMut, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

/// An in-memory buffer with a position: `std::io::Cursor` as an
/// [`AsyncRead`], [`AsyncBufRead`], [`AsyncSeek`] and [`AsyncWrite`].
///
/// It reads any `T: AsRef<[u8]>` (`Vec<u8>`, `&[u8]`, `&str`, `String`,
/// arrays, ...), and writes into `Vec<u8>` and `&mut Vec<u8>` (growing them)
/// and into `&mut [u8]`, `Box<[u8]>` and `[u8; N]` (up to their length).
/// Every operation completes at once, so it never returns `Pending`: handy
/// for tests and for code that parses from memory with the async API.
///
/// # Examples
/// ```
/// use brisk::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, Cursor, SeekFrom};
///
/// # brisk::run(async {
/// let mut file = Cursor::new(Vec::new());
/// file.write_all(b"hello world").await?;
/// file.seek(SeekFrom::Start(6)).await?;
/// let mut word = String::new();
/// file.read_to_string(&mut word).await?;
/// assert_eq!(word, "world");
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cursor<T> {
    inner: io::Cursor<T>,
}

impl<T> Cursor<T> {
    /// A cursor over `inner`, at position 0.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::Cursor;
    ///
    /// let cursor = Cursor::new(b"abc");
    /// assert_eq!(cursor.position(), 0);
    /// ```
    pub const fn new(inner: T) -> Cursor<T> {
        Cursor {
            inner: io::Cursor::new(inner),
        }
    }

    /// Takes the underlying buffer out.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncWriteExt, Cursor};
    ///
    /// # brisk::run(async {
    /// let mut cursor = Cursor::new(Vec::new());
    /// cursor.write_all(b"out").await?;
    /// assert_eq!(cursor.into_inner(), b"out");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    /// The underlying buffer.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::Cursor;
    ///
    /// let cursor = Cursor::new(vec![1, 2]);
    /// assert_eq!(cursor.get_ref(), &[1, 2]);
    /// ```
    pub const fn get_ref(&self) -> &T {
        self.inner.get_ref()
    }

    /// The underlying buffer, mutably. Changing its length does not move the
    /// position.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::Cursor;
    ///
    /// let mut cursor = Cursor::new(vec![1, 2]);
    /// cursor.get_mut().push(3);
    /// assert_eq!(cursor.get_ref(), &[1, 2, 3]);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The position: where the next read or write starts.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncReadExt, Cursor};
    ///
    /// # brisk::run(async {
    /// let mut cursor = Cursor::new(b"abc");
    /// cursor.read_exact(&mut [0; 2]).await?;
    /// assert_eq!(cursor.position(), 2);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub const fn position(&self) -> u64 {
        self.inner.position()
    }

    /// Moves to `pos`, which may be past the end (reads there return
    /// nothing; writes to a growable buffer pad with zeros).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncReadExt, Cursor};
    ///
    /// # brisk::run(async {
    /// let mut cursor = Cursor::new(b"abc");
    /// cursor.set_position(2);
    /// let mut rest = Vec::new();
    /// cursor.read_to_end(&mut rest).await?;
    /// assert_eq!(rest, b"c");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_position(&mut self, pos: u64) {
        self.inner.set_position(pos)
    }
}

impl<T: AsRef<[u8]> + Unpin> AsyncRead for Cursor<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Read::read(&mut self.get_mut().inner, buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Read::read_vectored(&mut self.get_mut().inner, bufs))
    }
}

impl<T: AsRef<[u8]> + Unpin> AsyncBufRead for Cursor<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(io::BufRead::fill_buf(&mut self.get_mut().inner))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        io::BufRead::consume(&mut self.get_mut().inner, amt)
    }
}

impl<T: AsRef<[u8]> + Unpin> AsyncSeek for Cursor<T> {
    fn poll_seek(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Poll::Ready(io::Seek::seek(&mut self.get_mut().inner, pos))
    }
}

/// `AsyncWrite` for `Cursor<$ty>`, through `std::io::Cursor<$ty>`'s `Write`.
macro_rules! async_write_through_std {
    ($(#[$doc:meta])* [$($generics:tt)*] $ty:ty) => {
        $(#[$doc])*
        impl<$($generics)*> AsyncWrite for Cursor<$ty> {
            fn poll_write(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(io::Write::write(&mut self.get_mut().inner, buf))
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(io::Write::write_vectored(&mut self.get_mut().inner, bufs))
            }

            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
    };
}

async_write_through_std!(
    /// Writes overwrite from the position and grow the vector as needed.
    [] Vec<u8>
);
async_write_through_std!(
    /// Writes overwrite from the position and grow the vector as needed.
    ['a] &'a mut Vec<u8>
);
async_write_through_std!(
    /// Writes overwrite from the position, up to the slice's end; at the end
    /// a write returns 0.
    ['a] &'a mut [u8]
);
async_write_through_std!(
    /// Writes overwrite from the position, up to the slice's end; at the end
    /// a write returns 0.
    [] Box<[u8]>
);
async_write_through_std!(
    /// Writes overwrite from the position, up to the array's end; at the end
    /// a write returns 0.
    [const N: usize] [u8; N]
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::block_on;
    use crate::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

    #[test]
    fn reads_from_any_byte_container() {
        let mut s = String::new();
        block_on(Cursor::new("str").read_to_string(&mut s)).unwrap();
        block_on(Cursor::new(String::from("+string")).read_to_string(&mut s)).unwrap();
        block_on(Cursor::new([b'+', b'a']).read_to_string(&mut s)).unwrap();
        assert_eq!(s, "str+string+a");
    }

    #[test]
    fn writes_grow_a_vec_and_stop_at_a_slice_end() {
        let mut v = Cursor::new(vec![b'x'; 2]);
        v.set_position(1);
        block_on(v.write_all(b"abc")).unwrap();
        assert_eq!(v.get_ref(), b"xabc");

        let mut fixed = Cursor::new([0u8; 2]);
        assert_eq!(block_on(fixed.write(b"abc")).unwrap(), 2);
        assert_eq!(block_on(fixed.write(b"c")).unwrap(), 0);

        let mut boxed = Cursor::new(vec![0u8; 1].into_boxed_slice());
        assert_eq!(block_on(boxed.write(b"ab")).unwrap(), 1);

        let mut backing = Vec::new();
        block_on(Cursor::new(&mut backing).write_all(b"by ref")).unwrap();
        assert_eq!(backing, b"by ref");
    }

    #[test]
    fn buf_read_and_seek() {
        let mut c = Cursor::new(b"line one\nline two\n".to_vec());
        let mut line = String::new();
        block_on(c.read_line(&mut line)).unwrap();
        assert_eq!(line, "line one\n");
        assert_eq!(block_on(c.seek(SeekFrom::Current(-4))).unwrap(), 5);
        line.clear();
        block_on(c.read_line(&mut line)).unwrap();
        assert_eq!(line, "one\n");
        assert!(block_on(c.seek(SeekFrom::Current(-100))).is_err());
    }
}
