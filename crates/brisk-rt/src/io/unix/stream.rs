//! [`UnixStream`]: a connected Unix-domain stream socket.

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::{driver, ready};
use crate::io::net::Evented;
use crate::io::Direction;
use brisk_core::net::{Interest, Ready};
use brisk_core::wait::IoSite;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::SocketAddr;
use std::panic::Location;
use std::path::Path;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// A Unix-domain stream, shaped like `brisk::net::TcpStream`.
///
/// `UnixStream` and `&UnixStream` implement `AsyncRead` and `AsyncWrite`
/// (and, with the `tokio-io` feature, tokio's traits). Reading and writing
/// take `&self` underneath, so [`split`](UnixStream::split) and
/// [`into_split`](UnixStream::into_split) give halves that two tasks use at
/// the same time. [`readable`](UnixStream::readable),
/// [`writable`](UnixStream::writable), [`try_read`](UnixStream::try_read)
/// and [`try_write`](UnixStream::try_write) are the readiness API.
pub struct UnixStream {
    io: Evented<mio::net::UnixStream>,
    ident: IoSite,
}

impl UnixStream {
    pub(super) fn from_evented(
        io: Evented<mio::net::UnixStream>,
        location: &'static Location<'static>,
    ) -> UnixStream {
        UnixStream {
            io,
            ident: IoSite::new(location),
        }
    }

    /// Connects to the socket at `path`.
    ///
    /// # Errors
    /// `NotFound` if nothing is bound at `path`, `ConnectionRefused` if the
    /// socket there is not listening, ... as the OS reports them;
    /// `Unsupported` outside a native Brisk runtime.
    #[track_caller]
    pub fn connect(path: impl AsRef<Path>) -> impl Future<Output = io::Result<UnixStream>> {
        let location = Location::caller();
        let started = driver().and_then(|d| {
            let s = mio::net::UnixStream::connect(path)?;
            Evented::new(&d, s)
        });
        async move {
            let io = started?;
            poll_fn(|cx| io.poll_write_ready(cx)).await?;
            if let Some(e) = io.source().take_error()? {
                return Err(e);
            }
            Ok(UnixStream::from_evented(io, location))
        }
    }

    /// Adopts a connected stream made elsewhere into the current runtime,
    /// in non-blocking mode.
    ///
    /// # Errors
    /// An error outside a native Brisk runtime (the socket is closed then),
    /// or if the reactor refuses it.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncWriteExt;
    /// use brisk::net::UnixStream;
    /// use std::io::Read;
    ///
    /// # brisk::run(async {
    /// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    /// let mut a = UnixStream::from_std(a)?;
    /// a.write_all(b"hi").await?;
    /// let mut buf = [0; 2];
    /// b.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"hi");
    /// let a = a.into_std()?;
    /// assert!(a.peer_addr()?.is_unnamed());
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        let location = Location::caller();
        let driver = driver()?;
        stream.set_nonblocking(true)?;
        Ok(UnixStream::from_evented(
            Evented::new(&driver, mio::net::UnixStream::from_std(stream))?,
            location,
        ))
    }

    /// Takes the stream out of the runtime: a `std` stream in non-blocking
    /// mode. Owned halves come back together first
    /// ([`OwnedReadHalf::reunite`](super::OwnedReadHalf::reunite)).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.io.into_source().into())
    }

    /// A connected pair of unnamed sockets.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let location = Location::caller();
        let d = driver()?;
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((
            UnixStream::from_evented(Evented::new(&d, a)?, location),
            UnixStream::from_evented(Evented::new(&d, b)?, location),
        ))
    }

    /// The local address (unnamed for a `pair` or a connecting socket).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// The peer's address (unnamed unless the peer is bound to a path).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.source().take_error()
    }

    /// Shuts down reading, writing or both, like
    /// `std::os::unix::net::UnixStream::shutdown`. After `Shutdown::Write`
    /// the peer reads end-of-stream.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.source().shutdown(how)
    }

    /// Waits until the stream is readable, writable, or either; then use
    /// the `try_*` methods.
    ///
    /// Cancel safety: yes; readiness is not consumed by waiting.
    #[track_caller]
    pub fn ready(&self, interest: Interest) -> impl Future<Output = io::Result<Ready>> + '_ {
        ready(&self.io, &self.ident, interest, Location::caller())
    }

    /// Waits until a read may make progress; then use
    /// [`try_read`](Self::try_read). Readiness can be spurious: when
    /// `try_read` says `WouldBlock` it clears the readiness, and the next
    /// `readable` waits for the reactor again.
    ///
    /// Cancel safety: yes.
    ///
    /// # Examples
    /// ```
    /// use brisk::net::UnixStream;
    /// use std::io::ErrorKind;
    ///
    /// # brisk::run(async {
    /// let (a, b) = UnixStream::pair()?;
    /// let mut buf = [0; 16];
    /// // Nothing was written yet: reading now would block.
    /// assert_eq!(b.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    ///
    /// a.writable().await?;
    /// assert_eq!(a.try_write(b"ping")?, 4);
    /// loop {
    ///     b.readable().await?;
    ///     match b.try_read(&mut buf) {
    ///         Ok(n) => {
    ///             assert_eq!(&buf[..n], b"ping");
    ///             break;
    ///         }
    ///         Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn readable(&self) -> impl Future<Output = io::Result<Ready>> + '_ {
        self.ready(Interest::READABLE)
    }

    /// Waits until a write may make progress; then use
    /// [`try_write`](Self::try_write).
    ///
    /// Cancel safety: yes.
    #[track_caller]
    pub fn writable(&self) -> impl Future<Output = io::Result<Ready>> + '_ {
        self.ready(Interest::WRITABLE)
    }

    /// Polls for readiness (see [`ready`](Self::ready)).
    pub fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        self.ident.track(self.io.poll_interest(cx, interest))
    }

    /// Reads what is there without waiting; `WouldBlock` if nothing is,
    /// `Ok(0)` at end-of-stream.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| (&*s).read(buf))
    }

    /// Reads into several buffers without waiting; `WouldBlock` if nothing
    /// is there.
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Read, |s| (&*s).read_vectored(bufs))
    }

    /// Writes what fits without waiting; `WouldBlock` if nothing does.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| (&*s).write(buf))
    }

    /// Writes several buffers, in order, as far as they fit, without
    /// waiting; `WouldBlock` if nothing fits.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |s| (&*s).write_vectored(bufs))
    }

    /// Borrowed halves for reading and writing at the same time (for
    /// example in two branches of a `join`).
    ///
    /// With the `futures` crate's `AsyncReadExt` in scope, `stream.split()`
    /// on an owned stream resolves to that trait's `split(self)`; write
    /// `UnixStream::split(&stream)` (or `(&stream).split()`) to get these.
    pub fn split(&self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf::new(self), WriteHalf::new(self))
    }

    /// Owned halves (`'static`) for reading and writing from two tasks at
    /// once; [`OwnedReadHalf::reunite`] puts them back together. Dropping
    /// the write half shuts down the write direction.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::{AsyncReadExt, AsyncWriteExt};
    /// use brisk::net::UnixStream;
    ///
    /// # brisk::run(async {
    /// let (a, b) = UnixStream::pair()?;
    /// let (mut rx, mut tx) = a.into_split();
    /// let writer = brisk::spawn(async move {
    ///     tx.write_all(b"from the writer task").await?;
    ///     Ok::<_, std::io::Error>(tx)
    /// });
    /// let mut peer = b;
    /// let mut buf = [0; 20];
    /// peer.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"from the writer task");
    /// peer.write_all(b"back").await?;
    /// let mut back = [0; 4];
    /// rx.read_exact(&mut back).await?;
    /// assert_eq!(&back, b"back");
    ///
    /// let tx = writer.await.unwrap()?;
    /// let _whole = rx.reunite(tx).expect("halves of one stream");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let s = Arc::new(self);
        (OwnedReadHalf::new(s.clone()), OwnedWriteHalf::new(s))
    }

    /// This socket's resource id, as shown in wait-points.
    pub fn resource_id(&self) -> u64 {
        self.ident.id()
    }

    /// Reads into possibly uninitialised memory; returns how many bytes at
    /// the start of `buf` were read (and so are initialised).
    pub(super) fn poll_read_uninit_inner(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        ready!(brisk_core::coop::poll_proceed_io(cx))?;
        let (ptr, len) = (buf.as_mut_ptr().cast::<u8>(), buf.len());
        let read = self.io.poll_read_raw(cx, |s| {
            // SAFETY: `ptr` is `buf`, valid for writes of `len` bytes and
            // mutably borrowed for this whole call; `recv` writes at most
            // `len` bytes and may write into uninitialised memory.
            let r = unsafe { libc::recv(s.as_raw_fd(), ptr.cast(), len, 0) };
            if r < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(r as usize)
            }
        });
        self.ident.track(read)
    }

    pub(super) fn poll_read_inner(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and
        // the read only writes initialised bytes into the buffer; it never
        // de-initialises any, so `buf` stays initialised.
        let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.poll_read_uninit_inner(cx, uninit)
    }

    pub(super) fn poll_write_inner(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(brisk_core::coop::poll_proceed_io(cx))?;
        self.ident
            .track(self.io.poll_write_raw(cx, |s| (&*s).write(buf)))
    }

    pub(super) fn poll_write_vectored_inner(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(brisk_core::coop::poll_proceed_io(cx))?;
        self.ident
            .track(self.io.poll_write_raw(cx, |s| (&*s).write_vectored(bufs)))
    }

    pub(super) fn poll_close_inner(&self) -> Poll<io::Result<()>> {
        match self.io.source().shutdown(Shutdown::Write) {
            // Already shut down or reset: closing is done either way.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            r => Poll::Ready(r),
        }
    }
}

impl std::fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixStream")
            .field("id", &self.ident.id())
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
