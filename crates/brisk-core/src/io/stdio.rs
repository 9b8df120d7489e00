//! [`stdin`], [`stdout`] and [`stderr`]: the process's standard streams,
//! read and written through the current runtime's blocking pool.
//!
//! They follow the same rules as [`File`](crate::fs::File) (and share its
//! machinery): one operation in flight per handle, writes handed off to the
//! blocking pool (flush to know they are done and to see their errors), at
//! most 2 MiB per blocking call.

use crate::fs::blocking::{unsupported, Blocking, BlockingIo};
use crate::io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::io::{self, Read, SeekFrom, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A handle to the process's standard input, read on the blocking pool.
///
/// Each handle has its own buffer; read through one handle at a time, or
/// bytes one handle read ahead are not seen by another. A read in flight
/// cannot be interrupted: if the handle (or the runtime) is dropped while
/// the blocking pool waits for input, that thread stays blocked until input
/// or end-of-file arrives, and the bytes it reads are discarded. Runtime
/// shutdown does not wait for it longer than its timeout.
///
/// # Cancel safety
/// Dropping a read future loses nothing: a blocking read that already
/// started keeps going, and the bytes it returns are kept for the next read
/// on the same handle.
///
/// # Examples
/// ```no_run
/// use brisk::io::AsyncReadExt;
///
/// # brisk::run(async {
/// let mut input = String::new();
/// brisk::io::stdin().read_to_string(&mut input).await?;
/// println!("read {} bytes", input.len());
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct Stdin {
    inner: Blocking<io::Stdin>,
}

/// A handle to the process's standard output, written on the blocking pool.
///
/// Every blocking write is flushed through std's line buffer, so nothing
/// lingers there; output from several handles (or `println!`) interleaves
/// at the granularity of one write call. Flush before the process exits:
/// a write still in flight when `main` returns may be lost.
///
/// # Cancel safety
/// Dropping a write future: the bytes already handed to the blocking thread
/// are still written, the rest are not (for `write_all`, a prefix may have
/// been written). Dropping a flush or close future: the write in flight
/// still finishes, and its error is reported by the next write or flush.
///
/// # Examples
/// ```
/// use brisk::io::AsyncWriteExt;
///
/// # brisk::run(async {
/// let mut stdout = brisk::io::stdout();
/// stdout.write_all(b"hello\n").await?;
/// stdout.flush().await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct Stdout {
    inner: Blocking<io::Stdout>,
}

/// A handle to the process's standard error, written on the blocking pool.
///
/// As [`Stdout`]: flush to know the bytes were written; cancellation works
/// the same way.
///
/// # Examples
/// ```
/// use brisk::io::AsyncWriteExt;
///
/// # brisk::run(async {
/// let mut stderr = brisk::io::stderr();
/// stderr.write_all(b"warning\n").await?;
/// stderr.flush().await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct Stderr {
    inner: Blocking<io::Stderr>,
}

/// A new handle to the process's standard input. Needs no runtime until it
/// is read.
///
/// Reads panic if polled outside a Brisk runtime. Dropping a read future
/// while its blocking read waits keeps the read going: the bytes it returns
/// are kept for the next read on the same handle.
///
/// # Examples
/// ```no_run
/// use brisk::io::AsyncReadExt;
///
/// # brisk::run(async {
/// let mut line = [0u8; 64];
/// let n = brisk::io::stdin().read(&mut line).await?;
/// println!("got {n} bytes");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub fn stdin() -> Stdin {
    Stdin {
        inner: Blocking::new(io::stdin()),
    }
}

/// A new handle to the process's standard output. Needs no runtime until it
/// is written.
///
/// Writes panic if polled outside a Brisk runtime. Dropping a write future
/// after `poll_write` returned does not stop that write; dropping a flush
/// future leaves the write in flight, and the next call waits for it.
///
/// # Examples
/// ```
/// use brisk::io::AsyncWriteExt;
///
/// # brisk::run(async {
/// let mut out = brisk::io::stdout();
/// out.write_all(b"done\n").await?;
/// out.close().await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub fn stdout() -> Stdout {
    Stdout {
        inner: Blocking::new(io::stdout()),
    }
}

/// A new handle to the process's standard error. Needs no runtime until it
/// is written.
///
/// Writes panic if polled outside a Brisk runtime; cancellation works as for
/// [`stdout`].
///
/// # Examples
/// ```
/// use brisk::io::AsyncWriteExt;
///
/// # brisk::run(async {
/// let mut err = brisk::io::stderr();
/// err.write_all(b"oops\n").await?;
/// err.flush().await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub fn stderr() -> Stderr {
    Stderr {
        inner: Blocking::new(io::stderr()),
    }
}

impl BlockingIo for io::Stdin {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        Read::read(self, dst)
    }

    fn write_all(&mut self, _: &[u8]) -> io::Result<()> {
        Err(unsupported("standard input cannot be written"))
    }

    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(unsupported("standard input cannot seek"))
    }
}

impl BlockingIo for io::Stdout {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(unsupported("standard output cannot be read"))
    }

    fn write_all(&mut self, src: &[u8]) -> io::Result<()> {
        let mut lock = self.lock();
        lock.write_all(src)?;
        lock.flush()
    }

    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(unsupported("standard output cannot seek"))
    }
}

impl BlockingIo for io::Stderr {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(unsupported("standard error cannot be read"))
    }

    fn write_all(&mut self, src: &[u8]) -> io::Result<()> {
        let mut lock = self.lock();
        lock.write_all(src)?;
        lock.flush()
    }

    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(unsupported("standard error cannot seek"))
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().inner.poll_read(cx, buf)
    }
}

impl AsyncWrite for Stdout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.poll_flush(cx)
    }
}

impl AsyncWrite for Stderr {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.poll_flush(cx)
    }
}

// tokio's I/O traits (feature `tokio-io`), through the futures-io impls.
#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        super::tokio_io::poll_read_buf(self, cx, buf)
    }
}

#[cfg(feature = "tokio-io")]
crate::__impl_tokio_write_via_futures!(Stdout, Stderr; vectored = false);

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdin").field("inner", &self.inner).finish()
    }
}

impl fmt::Debug for Stdout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdout")
            .field("inner", &self.inner)
            .finish()
    }
}

impl fmt::Debug for Stderr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stderr")
            .field("inner", &self.inner)
            .finish()
    }
}
