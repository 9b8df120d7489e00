//! Trivial readers and writers: [`empty`], [`sink`], [`repeat`].

use super::{AsyncBufRead, AsyncRead, AsyncWrite};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A reader that is always at end of stream, which is also a writer that
/// accepts and drops everything. Made by [`empty`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Empty {
    _private: (),
}

/// A reader that is always at end of stream, and a writer that accepts and
/// drops everything (like `std::io::empty`).
///
/// # Examples
/// ```
/// use brisk::io::{empty, AsyncReadExt};
///
/// # brisk::run(async {
/// let mut buf = Vec::new();
/// assert_eq!(empty().read_to_end(&mut buf).await?, 0);
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub const fn empty() -> Empty {
    Empty { _private: () }
}

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(0))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _: usize) {}
}

impl AsyncWrite for Empty {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(total_len(bufs)))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A writer that accepts and drops everything. Made by [`sink`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Sink {
    _private: (),
}

/// A writer that accepts and drops everything (like `std::io::sink`).
///
/// # Examples
/// ```
/// use brisk::io::{copy, sink, Cursor};
///
/// # brisk::run(async {
/// let mut reader = Cursor::new(vec![0u8; 100]);
/// assert_eq!(copy(&mut reader, &mut sink()).await?, 100);
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub const fn sink() -> Sink {
    Sink { _private: () }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(total_len(bufs)))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A reader that yields one byte forever. Made by [`repeat`].
#[derive(Debug, Clone, Copy)]
pub struct Repeat {
    byte: u8,
}

/// A reader that yields `byte` forever (like `std::io::repeat`); bound it
/// with [`take`](super::AsyncReadExt::take).
///
/// # Examples
/// ```
/// use brisk::io::{repeat, AsyncReadExt};
///
/// # brisk::run(async {
/// let mut dashes = String::new();
/// repeat(b'-').take(5).read_to_string(&mut dashes).await?;
/// assert_eq!(dashes, "-----");
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub const fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        buf.fill(self.byte);
        Poll::Ready(Ok(buf.len()))
    }
}

fn total_len(bufs: &[IoSlice<'_>]) -> usize {
    bufs.iter().map(|b| b.len()).fold(0, usize::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::block_on;
    use crate::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

    #[test]
    fn empty_reads_nothing_and_swallows_writes() {
        let mut e = empty();
        assert_eq!(block_on(e.read(&mut [0; 4])).unwrap(), 0);
        assert!(block_on(e.fill_buf()).unwrap().is_empty());
        assert_eq!(block_on(e.write(b"abc")).unwrap(), 3);
        let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"c")];
        assert_eq!(block_on(sink().write_vectored(&bufs)).unwrap(), 3);
        block_on(sink().close()).unwrap();
    }

    #[test]
    fn repeat_fills_every_buffer() {
        let mut buf = [0; 3];
        assert_eq!(block_on(repeat(7).read(&mut buf)).unwrap(), 3);
        assert_eq!(buf, [7; 3]);
    }
}
