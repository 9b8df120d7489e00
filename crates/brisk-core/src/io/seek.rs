//! [`AsyncSeekExt`]: `seek` and its future.

use super::AsyncSeek;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Seeking for every [`AsyncSeek`], as a future.
///
/// # Examples
/// ```
/// use brisk::io::{AsyncReadExt, AsyncSeekExt, Cursor, SeekFrom};
///
/// # brisk::run(async {
/// let mut file = Cursor::new(b"0123456789".to_vec());
/// file.seek(SeekFrom::End(-3)).await?;
/// let mut tail = String::new();
/// file.read_to_string(&mut tail).await?;
/// assert_eq!(tail, "789");
/// # Ok::<(), brisk::io::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncSeekExt: AsyncSeek {
    /// Moves to `pos` and returns the new position from the start of the
    /// stream.
    ///
    /// Cancel safety: **not** cancel-safe. If the future is dropped before
    /// it returns, the seek may or may not have happened; seek again to an
    /// absolute position (`SeekFrom::Start`) before relying on the position.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncSeekExt, Cursor, SeekFrom};
    ///
    /// # brisk::run(async {
    /// let mut file = Cursor::new(vec![0u8; 10]);
    /// assert_eq!(file.seek(SeekFrom::Start(4)).await?, 4);
    /// assert_eq!(file.seek(SeekFrom::Current(-1)).await?, 3);
    /// assert_eq!(file.seek(SeekFrom::End(0)).await?, 10);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn seek(&mut self, pos: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek { seeker: self, pos }
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

/// The future returned by [`AsyncSeekExt::seek`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Seek<'a, S: ?Sized> {
    seeker: &'a mut S,
    pos: SeekFrom,
}

impl<S: AsyncSeek + Unpin + ?Sized> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let pos = self.pos;
        Pin::new(&mut *self.seeker).poll_seek(cx, pos)
    }
}
