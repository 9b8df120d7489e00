//! Reader adapters: [`Take`] and [`Chain`].

use super::{AsyncBufRead, AsyncRead};
use pin_project_lite::pin_project;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// A reader that yields at most a given number of bytes of another, made
    /// by [`AsyncReadExt::take`](super::AsyncReadExt::take).
    ///
    /// `Unpin` when the inner reader is.
    #[derive(Debug)]
    pub struct Take<R> {
        #[pin]
        inner: R,
        limit: u64,
    }
}

impl<R> Take<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Take<R> {
        Take { inner, limit }
    }

    /// How many more bytes this reader will yield at most.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// # brisk::run(async {
    /// let mut reader = (&b"abcdef"[..]).take(4);
    /// reader.read(&mut [0; 3]).await?;
    /// assert_eq!(reader.limit(), 1);
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets how many more bytes this reader will yield at most.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// # brisk::run(async {
    /// let mut reader = (&b"abcdef"[..]).take(0);
    /// reader.set_limit(2);
    /// let mut out = Vec::new();
    /// reader.read_to_end(&mut out).await?;
    /// assert_eq!(out, b"ab");
    /// # Ok::<(), brisk::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The inner reader.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// let reader = (&b"abc"[..]).take(1);
    /// assert_eq!(reader.get_ref().len(), 3);
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly does not count
    /// against the limit.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// let mut reader = (&b"abc"[..]).take(1);
    /// *reader.get_mut() = &b"xyz"[..];
    /// assert_eq!(*reader.get_ref(), b"xyz");
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader, pinned.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    /// use std::pin::pin;
    ///
    /// let reader = pin!((&b"abc"[..]).take(1));
    /// assert_eq!(reader.get_pin_mut().len(), 3);
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Takes the inner reader out.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// let reader = (&b"abc"[..]).take(1);
    /// assert_eq!(reader.into_inner(), b"abc");
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead> AsyncRead for Take<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        if *this.limit == 0 {
            return Poll::Ready(Ok(0));
        }
        let max = usize::try_from(*this.limit).map_or(buf.len(), |l| l.min(buf.len()));
        let n = ready!(this.inner.poll_read(cx, &mut buf[..max]))?;
        let n = n.min(max);
        *this.limit -= n as u64;
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncBufRead> AsyncBufRead for Take<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if *this.limit == 0 {
            return Poll::Ready(Ok(&[]));
        }
        let buf = ready!(this.inner.poll_fill_buf(cx))?;
        let max = usize::try_from(*this.limit).map_or(buf.len(), |l| l.min(buf.len()));
        Poll::Ready(Ok(&buf[..max]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        let amt = usize::try_from(*this.limit).map_or(amt, |l| l.min(amt));
        *this.limit -= amt as u64;
        this.inner.consume(amt);
    }
}

pin_project! {
    /// A reader that yields one reader to its end and then another, made by
    /// [`AsyncReadExt::chain`](super::AsyncReadExt::chain).
    ///
    /// `Unpin` when both readers are.
    #[derive(Debug)]
    pub struct Chain<A, B> {
        #[pin]
        first: A,
        #[pin]
        second: B,
        // Set once `first` reported the end of its stream.
        done_first: bool,
    }
}

impl<A, B> Chain<A, B> {
    pub(crate) fn new(first: A, second: B) -> Chain<A, B> {
        Chain {
            first,
            second,
            done_first: false,
        }
    }

    /// The two readers.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// let chain = (&b"ab"[..]).chain(&b"cd"[..]);
    /// let (first, second) = chain.get_ref();
    /// assert_eq!((*first, *second), (&b"ab"[..], &b"cd"[..]));
    /// ```
    pub fn get_ref(&self) -> (&A, &B) {
        (&self.first, &self.second)
    }

    /// The two readers, mutably.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// let mut chain = (&b"ab"[..]).chain(&b"cd"[..]);
    /// *chain.get_mut().1 = &b"xy"[..];
    /// assert_eq!(*chain.get_ref().1, b"xy");
    /// ```
    pub fn get_mut(&mut self) -> (&mut A, &mut B) {
        (&mut self.first, &mut self.second)
    }

    /// The two readers, pinned.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    /// use std::pin::pin;
    ///
    /// let chain = pin!((&b"ab"[..]).chain(&b"cd"[..]));
    /// let (first, _second) = chain.get_pin_mut();
    /// assert_eq!(first.len(), 2);
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> (Pin<&mut A>, Pin<&mut B>) {
        let this = self.project();
        (this.first, this.second)
    }

    /// Takes the two readers out.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncReadExt;
    ///
    /// let (first, second) = (&b"ab"[..]).chain(&b"cd"[..]).into_inner();
    /// assert_eq!((first, second), (&b"ab"[..], &b"cd"[..]));
    /// ```
    pub fn into_inner(self) -> (A, B) {
        (self.first, self.second)
    }
}

impl<A: AsyncRead, B: AsyncRead> AsyncRead for Chain<A, B> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        if !*this.done_first {
            match ready!(this.first.poll_read(cx, buf))? {
                0 if !buf.is_empty() => *this.done_first = true,
                n => return Poll::Ready(Ok(n)),
            }
        }
        this.second.poll_read(cx, buf)
    }
}

impl<A: AsyncBufRead, B: AsyncBufRead> AsyncBufRead for Chain<A, B> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if !*this.done_first {
            match ready!(this.first.poll_fill_buf(cx))? {
                [] => *this.done_first = true,
                buf => return Poll::Ready(Ok(buf)),
            }
        }
        this.second.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        if *this.done_first {
            this.second.consume(amt)
        } else {
            this.first.consume(amt)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::io::test_util::{block_on, Trickle};
    use crate::io::{AsyncBufReadExt, AsyncReadExt};

    #[test]
    fn take_stops_at_the_limit_across_short_reads() {
        let mut reader = Trickle::new(b"abcdef").take(4);
        let mut out = Vec::new();
        block_on(reader.read_to_end(&mut out)).unwrap();
        assert_eq!(out, b"abcd");
        assert_eq!(reader.limit(), 0);
    }

    #[test]
    fn take_limits_the_buffer_it_exposes() {
        let mut reader = (&b"one\ntwo\n"[..]).take(5);
        let mut line = String::new();
        block_on(reader.read_line(&mut line)).unwrap();
        line.clear();
        block_on(reader.read_line(&mut line)).unwrap();
        assert_eq!(line, "t");
    }

    #[test]
    fn chain_reads_both_in_order_and_as_a_buffered_reader() {
        let mut out = Vec::new();
        let mut reader = Trickle::new(b"ab").chain(Trickle::new(b"cd"));
        block_on(reader.read_to_end(&mut out)).unwrap();
        assert_eq!(out, b"abcd");

        let mut lines = (&b"a\nb"[..]).chain(&b"c\nd"[..]).lines();
        let mut all = Vec::new();
        while let Some(line) = block_on(lines.next_line()).unwrap() {
            all.push(line);
        }
        assert_eq!(all, ["a", "bc", "d"]);
    }
}
