//! [`split`]: one stream as a read half and a write half that can move to
//! different tasks.
//!
//! # Ground rules
//! - Both halves share the stream behind one lock; a half holds the lock
//!   only for the duration of one `poll_*` call of the stream, never across
//!   a `Pending`, so the other half waits at most that long.
//! - The stream is boxed and pinned once, so no `Unpin` bound is needed and
//!   no `unsafe` is used; only [`ReadHalf::unsplit`] needs `T: Unpin`, to
//!   take it back out of the box.
//! - A panic inside the stream's `poll_*` poisons the lock; the halves
//!   ignore the poison (the stream is as consistent as that `poll_*` left
//!   it, which is all a caller of the unsplit stream would get too).

use super::error::UNSPLIT_UNRELATED;
use super::{AsyncRead, AsyncWrite};
use crate::loom::{Arc, Mutex, MutexGuard};
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::PoisonError;
use std::task::{Context, Poll};

/// Splits a stream that reads and writes into a [`ReadHalf`] and a
/// [`WriteHalf`], which can be used at the same time, from two tasks.
///
/// Each half locks the stream for the length of one `poll_*` call of it, so
/// prefer a stream's own split, if it has one (for example a TCP stream's
/// `into_split`), which needs no lock. [`ReadHalf::unsplit`] puts the stream
/// back together.
///
/// # Examples
/// ```
/// use brisk::io::{split, AsyncReadExt, AsyncWriteExt, Cursor};
///
/// # brisk::run(async {
/// let (rx, mut tx) = split(Cursor::new(Vec::new()));
/// let writer = brisk::spawn(async move {
///     tx.write_all(b"ping").await?;
///     Ok::<_, brisk::io::Error>(tx)
/// });
/// let tx = writer.await.unwrap()?;
/// let mut stream = rx.unsplit(tx);
/// stream.set_position(0);
/// let mut got = String::new();
/// stream.read_to_string(&mut got).await?;
/// assert_eq!(got, "ping");
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub fn split<T: AsyncRead + AsyncWrite>(stream: T) -> (ReadHalf<T>, WriteHalf<T>) {
    let shared = Arc::new(Mutex::new(Box::pin(stream)));
    (
        ReadHalf {
            shared: shared.clone(),
        },
        WriteHalf { shared },
    )
}

/// The stream both halves use.
type Shared<T> = Arc<Mutex<Pin<Box<T>>>>;

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, Pin<Box<T>>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reading half of a stream, made by [`split`].
///
/// `Send` and `Sync` when the stream is `Send`.
pub struct ReadHalf<T> {
    shared: Shared<T>,
}

/// The writing half of a stream, made by [`split`].
///
/// `Send` and `Sync` when the stream is `Send`.
pub struct WriteHalf<T> {
    shared: Shared<T>,
}

impl<T> ReadHalf<T> {
    /// Whether `other` is the write half of the same stream.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{split, Cursor};
    ///
    /// let (rx, tx) = split(Cursor::new(Vec::new()));
    /// let (_rx2, tx2) = split(Cursor::new(Vec::new()));
    /// assert!(rx.is_pair_of(&tx));
    /// assert!(!rx.is_pair_of(&tx2));
    /// ```
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Puts the stream back together from its two halves.
    ///
    /// # Panics
    /// If `write` is the write half of another stream (see
    /// [`is_pair_of`](ReadHalf::is_pair_of)).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{split, Cursor};
    ///
    /// let (rx, tx) = split(Cursor::new(vec![1, 2]));
    /// let stream = rx.unsplit(tx);
    /// assert_eq!(stream.get_ref(), &[1, 2]);
    /// ```
    #[track_caller]
    pub fn unsplit(self, write: WriteHalf<T>) -> T
    where
        T: Unpin,
    {
        assert!(self.is_pair_of(&write), "{}", UNSPLIT_UNRELATED);
        drop(write);
        let Ok(mutex) = Arc::try_unwrap(self.shared) else {
            unreachable!("a stream's two halves are the only owners of its lock")
        };
        let stream = mutex.into_inner().unwrap_or_else(PoisonError::into_inner);
        *Pin::into_inner(stream)
    }
}

impl<T> WriteHalf<T> {
    /// Whether `other` is the read half of the same stream.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{split, Cursor};
    ///
    /// let (rx, tx) = split(Cursor::new(Vec::new()));
    /// assert!(tx.is_pair_of(&rx));
    /// ```
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        other.is_pair_of(self)
    }
}

impl<T: AsyncRead> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        lock(&self.shared).as_mut().poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        lock(&self.shared).as_mut().poll_read_vectored(cx, bufs)
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        lock(&self.shared).as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        lock(&self.shared).as_mut().poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.shared).as_mut().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.shared).as_mut().poll_close(cx)
    }
}

impl<T> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::io::test_util::block_on;
    use crate::io::{AsyncReadExt, AsyncWriteExt, Cursor};

    #[test]
    fn halves_share_one_stream_and_unsplit_returns_it() {
        let (mut rx, mut tx) = split(Cursor::new(b"abc".to_vec()));
        let mut two = [0; 2];
        block_on(rx.read_exact(&mut two)).unwrap();
        block_on(tx.write_all(b"Z")).unwrap();
        let stream = rx.unsplit(tx);
        assert_eq!(stream.get_ref(), b"abZ");
    }

    #[test]
    #[should_panic(expected = "another stream")]
    fn unsplit_with_a_stranger_panics() {
        let (rx, _tx) = split(Cursor::new(Vec::new()));
        let (_rx2, tx2) = split(Cursor::new(Vec::new()));
        let _ = rx.unsplit(tx2);
    }

    #[test]
    fn halves_are_send_and_sync() {
        fn assert_send_sync<X: Send + Sync>() {}
        assert_send_sync::<ReadHalf<Cursor<Vec<u8>>>>();
        assert_send_sync::<WriteHalf<Cursor<Vec<u8>>>>();
    }

    #[test]
    fn halves_work_from_two_threads() {
        let (mut rx, mut tx) = split(Cursor::new(vec![0u8; 1000]));
        let writer = std::thread::spawn(move || {
            for _ in 0..500 {
                block_on(tx.write_all(b"w")).unwrap();
            }
            tx
        });
        let mut read = 0;
        let mut buf = [0u8; 1];
        while read < 300 {
            read += block_on(rx.read(&mut buf)).unwrap();
        }
        let tx = writer.join().unwrap();
        let stream = rx.unsplit(tx);
        // Reads and writes share one position: 300 reads + 500 writes.
        assert_eq!(stream.position(), 800);
    }
}
