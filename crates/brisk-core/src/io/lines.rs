//! [`Lines`] and [`Split`]: a buffered reader as a stream of lines or of
//! delimited segments.

use super::buf_read::poll_read_until;
use super::error::{error, INVALID_UTF8};
use super::AsyncBufRead;
use futures_core::Stream;
use pin_project_lite::pin_project;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// The lines of a buffered reader, made by
    /// [`AsyncBufReadExt::lines`](super::AsyncBufReadExt::lines).
    ///
    /// Each line comes without its `"\n"` or `"\r\n"`; the last line need
    /// not end with a newline. A line that is not valid UTF-8 comes as an
    /// [`ErrorKind::InvalidData`](io::ErrorKind::InvalidData) error, and the
    /// lines after it follow as usual.
    ///
    /// Use it as a [`Stream`] of `io::Result<String>` (with
    /// `futures::StreamExt`), or call [`next_line`](Lines::next_line).
    /// `Unpin` when the reader is.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut lines = BufReader::new(&b"first\nsecond\n"[..]).lines();
    /// assert_eq!(lines.next_line().await?.as_deref(), Some("first"));
    /// assert_eq!(lines.next_line().await?.as_deref(), Some("second"));
    /// assert_eq!(lines.next_line().await?, None);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Lines<R> {
        #[pin]
        reader: R,
        // The line read so far; kept across cancelled `next_line` calls.
        buf: Vec<u8>,
    }
}

impl<R> Lines<R> {
    pub(crate) fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            buf: Vec::new(),
        }
    }

    /// The reader.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncBufReadExt;
    ///
    /// let lines = (&b"a\nb"[..]).lines();
    /// assert_eq!(lines.get_ref().len(), 3);
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably. A partial line already taken from it stays in
    /// the `Lines`.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncBufReadExt;
    ///
    /// let mut lines = (&b"a\nb"[..]).lines();
    /// *lines.get_mut() = &b"c"[..];
    /// assert_eq!(*lines.get_ref(), b"c");
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Takes the reader out. A partial line already taken from it (after a
    /// cancelled [`next_line`](Lines::next_line)) is lost.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut lines = BufReader::new(&b"head\nbody"[..]).lines();
    /// lines.next_line().await?;
    /// let reader = lines.into_inner();
    /// assert_eq!(reader.buffer(), b"body");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead> Lines<R> {
    /// The next line, or `None` at end of stream.
    ///
    /// Cancel safety: cancel-safe. A partial line stays inside the `Lines`,
    /// so dropping the future (say, in a losing `select!` branch) loses
    /// nothing, and the next call returns the whole line.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut lines = BufReader::new(&b"only\r\n"[..]).lines();
    /// assert_eq!(lines.next_line().await?, Some(String::from("only")));
    /// assert_eq!(lines.next_line().await?, None);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn next_line(&mut self) -> NextLine<'_, R>
    where
        R: Unpin,
    {
        NextLine { lines: self }
    }

    /// Polls for the next line: the poll-style form of
    /// [`next_line`](Lines::next_line), for hand-written futures.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let mut lines = pin!(BufReader::new(&b"x\n"[..]).lines());
    /// let mut cx = Context::from_waker(Waker::noop());
    /// match lines.as_mut().poll_next_line(&mut cx) {
    ///     Poll::Ready(Ok(line)) => assert_eq!(line.as_deref(), Some("x")),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<String>>> {
        let this = self.project();
        ready!(poll_read_until(this.reader, cx, b'\n', this.buf))?;
        if this.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut line = std::mem::take(this.buf);
        if line.ends_with(b"\n") {
            line.pop();
            if line.ends_with(b"\r") {
                line.pop();
            }
        }
        Poll::Ready(match String::from_utf8(line) {
            Ok(line) => Ok(Some(line)),
            Err(_) => Err(error(io::ErrorKind::InvalidData, INVALID_UTF8)),
        })
    }
}

impl<R: AsyncBufRead> Stream for Lines<R> {
    type Item = io::Result<String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_next_line(cx).map(Result::transpose)
    }
}

/// The future returned by [`Lines::next_line`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct NextLine<'a, R> {
    lines: &'a mut Lines<R>,
}

impl<R: AsyncBufRead + Unpin> Future for NextLine<'_, R> {
    type Output = io::Result<Option<String>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.lines).poll_next_line(cx)
    }
}

pin_project! {
    /// The segments of a buffered reader between occurrences of a delimiter
    /// byte, made by [`AsyncBufReadExt::split`](super::AsyncBufReadExt::split).
    ///
    /// Each segment comes without the delimiter; the last need not end with
    /// one. Use it as a [`Stream`] of `io::Result<Vec<u8>>` (with
    /// `futures::StreamExt`), or call [`next_segment`](Split::next_segment).
    /// `Unpin` when the reader is.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut words = BufReader::new(&b"to be"[..]).split(b' ');
    /// assert_eq!(words.next_segment().await?.as_deref(), Some(&b"to"[..]));
    /// assert_eq!(words.next_segment().await?.as_deref(), Some(&b"be"[..]));
    /// assert_eq!(words.next_segment().await?, None);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Split<R> {
        #[pin]
        reader: R,
        delim: u8,
        // The segment read so far; kept across cancelled `next_segment` calls.
        buf: Vec<u8>,
    }
}

impl<R> Split<R> {
    pub(crate) fn new(reader: R, delim: u8) -> Split<R> {
        Split {
            reader,
            delim,
            buf: Vec::new(),
        }
    }

    /// The reader.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, Cursor};
    ///
    /// let split = Cursor::new("a,b").split(b',');
    /// assert_eq!(split.get_ref().position(), 0);
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, Cursor};
    ///
    /// let mut split = Cursor::new("a,b").split(b',');
    /// split.get_mut().set_position(2);
    /// assert_eq!(split.get_ref().position(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Takes the reader out. A partial segment already taken from it is
    /// lost.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, Cursor};
    ///
    /// let split = Cursor::new("a,b").split(b',');
    /// assert_eq!(split.into_inner().into_inner(), "a,b");
    /// ```
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead> Split<R> {
    /// The next segment, or `None` at end of stream.
    ///
    /// Cancel safety: cancel-safe. A partial segment stays inside the
    /// `Split`, so dropping the future loses nothing.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    ///
    /// # brisk::run(async {
    /// let mut cells = BufReader::new(&b"1;2;"[..]).split(b';');
    /// let mut all = Vec::new();
    /// while let Some(cell) = cells.next_segment().await? {
    ///     all.push(cell);
    /// }
    /// assert_eq!(all, [b"1", b"2"]);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn next_segment(&mut self) -> NextSegment<'_, R>
    where
        R: Unpin,
    {
        NextSegment { split: self }
    }

    /// Polls for the next segment: the poll-style form of
    /// [`next_segment`](Split::next_segment).
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncBufReadExt, BufReader};
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let mut split = pin!(BufReader::new(&b"k=v"[..]).split(b'='));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// match split.as_mut().poll_next_segment(&mut cx) {
    ///     Poll::Ready(Ok(key)) => assert_eq!(key.as_deref(), Some(&b"k"[..])),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn poll_next_segment(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Vec<u8>>>> {
        let this = self.project();
        ready!(poll_read_until(this.reader, cx, *this.delim, this.buf))?;
        if this.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut segment = std::mem::take(this.buf);
        if segment.last() == Some(this.delim) {
            segment.pop();
        }
        Poll::Ready(Ok(Some(segment)))
    }
}

impl<R: AsyncBufRead> Stream for Split<R> {
    type Item = io::Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_next_segment(cx).map(Result::transpose)
    }
}

/// The future returned by [`Split::next_segment`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct NextSegment<'a, R> {
    split: &'a mut Split<R>,
}

impl<R: AsyncBufRead + Unpin> Future for NextSegment<'_, R> {
    type Output = io::Result<Option<Vec<u8>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.split).poll_next_segment(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::{block_on, Trickle};
    use crate::io::{AsyncBufReadExt, BufReader};

    #[test]
    fn lines_strip_lf_and_crlf_and_keep_a_lone_cr() {
        let reader = BufReader::with_capacity(2, Trickle::new(b"a\r\nb\n\nc\rd\r"));
        let mut lines = reader.lines();
        let mut all = Vec::new();
        while let Some(line) = block_on(lines.next_line()).unwrap() {
            all.push(line);
        }
        assert_eq!(all, ["a", "b", "", "c\rd\r"]);
    }

    #[test]
    fn a_dropped_next_line_loses_nothing() {
        let mut lines = BufReader::with_capacity(2, Trickle::new(b"hello\nworld")).lines();
        {
            let mut fut = lines.next_line();
            let mut cx = Context::from_waker(std::task::Waker::noop());
            for _ in 0..5 {
                assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
            }
        }
        assert_eq!(
            block_on(lines.next_line()).unwrap().as_deref(),
            Some("hello")
        );
        assert_eq!(
            block_on(lines.next_line()).unwrap().as_deref(),
            Some("world")
        );
        assert_eq!(block_on(lines.next_line()).unwrap(), None);
    }

    #[test]
    fn an_invalid_line_is_an_error_and_the_next_line_follows() {
        let mut lines = (&b"\xff\nok\n"[..]).lines();
        let err = block_on(lines.next_line()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(block_on(lines.next_line()).unwrap().as_deref(), Some("ok"));
    }

    #[test]
    fn split_yields_segments_and_an_empty_one_between_delimiters() {
        let mut split = crate::io::Cursor::new("a,,b").split(b',');
        let mut all = Vec::new();
        while let Some(seg) = block_on(split.next_segment()).unwrap() {
            all.push(seg);
        }
        assert_eq!(all, [&b"a"[..], b"", b"b"]);
    }
}
