//! TCP listeners and streams.

use super::driver::{TcpListenerIo, TcpStreamIo};
use super::{resolve, with_driver, Interest, ToSocketAddrs};
use crate::wait::IoSite;
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A TCP socket that accepts connections.
///
/// # Examples
/// ```
/// use brisk::net::{TcpListener, TcpStream};
///
/// # brisk::run(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let client = brisk::spawn(async move { TcpStream::connect(addr).await });
/// let (conn, peer) = listener.accept().await?;
/// assert_eq!(conn.peer_addr()?, peer);
/// client.await.unwrap()?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct TcpListener {
    io: Box<dyn TcpListenerIo>,
    ident: IoSite,
}

impl TcpListener {
    /// Binds to `addr` (tries each resolved address in turn).
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable`, `PermissionDenied`, ... as the OS
    /// reports them; an error if there is no current runtime.
    #[track_caller]
    pub fn bind<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<TcpListener>> {
        let location = Location::caller();
        async move {
            let mut last = None;
            for a in resolve(&addr).await? {
                match with_driver(|n| n.bind_tcp(a)) {
                    Ok(io) => {
                        return Ok(TcpListener {
                            io,
                            ident: IoSite::new(location),
                        })
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.expect("resolve returns at least one address"))
        }
    }

    /// Waits for a connection.
    ///
    /// Cancel safety: dropping the future loses no connection; the next
    /// `accept` gets it.
    #[track_caller]
    pub fn accept(&self) -> Accept<'_> {
        Accept {
            listener: self,
            location: Location::caller(),
        }
    }

    /// Polls for a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.poll_accept_at(cx, self.ident.location())
    }

    fn poll_accept_at(
        &self,
        cx: &mut Context<'_>,
        location: &'static Location<'static>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        std::task::ready!(crate::coop::poll_proceed_io(cx))?;
        match self.io.poll_accept(cx) {
            Poll::Ready(Ok((io, peer))) => {
                Poll::Ready(Ok((TcpStream::from_io(io, location), peer)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.ident.track(Poll::Pending),
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.ttl()
    }

    /// This socket's resource id, as shown in wait-points.
    pub fn resource_id(&self) -> u64 {
        self.ident.id()
    }

    /// Adopts a listener made elsewhere — with `std::net`, with `socket2`
    /// for options Brisk does not set, or handed over by a service manager —
    /// into the current runtime. The socket is switched to non-blocking
    /// mode.
    ///
    /// # Errors
    /// An error if there is no current runtime, or if its sockets are not
    /// the operating system's (the simulator's); the socket is closed then.
    ///
    /// # Examples
    /// ```
    /// use brisk::net::{TcpListener, TcpStream};
    ///
    /// # brisk::run(async {
    /// let std = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = TcpListener::from_std(std)?;
    /// let addr = listener.local_addr()?;
    /// let client = brisk::spawn(async move { TcpStream::connect(addr).await });
    /// let (_conn, _) = listener.accept().await?;
    /// client.await.unwrap()?;
    /// // And back: a non-blocking `std` listener, out of the runtime.
    /// let std = listener.into_std()?;
    /// assert_eq!(std.local_addr()?, addr);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        let location = Location::caller();
        Ok(TcpListener {
            io: with_driver(|n| n.adopt_tcp_listener(listener))?,
            ident: IoSite::new(location),
        })
    }

    /// Takes the listener out of the runtime: a `std` listener in
    /// non-blocking mode (call `set_nonblocking(false)` to block on it).
    ///
    /// # Errors
    /// An error on the simulator, whose sockets are simulated.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_std()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("id", &self.ident.id())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// The future of [`TcpListener::accept`].
#[must_use = "futures do nothing unless awaited"]
pub struct Accept<'a> {
    listener: &'a TcpListener,
    location: &'static Location<'static>,
}

impl Future for Accept<'_> {
    type Output = io::Result<(TcpStream, SocketAddr)>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.listener.poll_accept_at(cx, self.location)
    }
}

impl fmt::Debug for Accept<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Accept")
    }
}

/// A TCP connection.
///
/// Reading and writing take `&self` underneath, so [`split`](TcpStream::split)
/// and [`into_split`](TcpStream::into_split) give halves that two tasks use
/// at the same time. `TcpStream` implements `AsyncRead` and `AsyncWrite`
/// (and, with the `tokio-io` feature, tokio's traits).
pub struct TcpStream {
    io: Box<dyn TcpStreamIo>,
    ident: IoSite,
}

impl TcpStream {
    fn from_io(io: Box<dyn TcpStreamIo>, location: &'static Location<'static>) -> TcpStream {
        TcpStream {
            io,
            ident: IoSite::new(location),
        }
    }

    /// Connects to `addr`, trying each resolved address in turn. Bound it
    /// with `brisk::time::timeout`.
    ///
    /// # Errors
    /// `ConnectionRefused`, `TimedOut`, `NetworkUnreachable`, ... as the OS
    /// reports them.
    ///
    /// # Examples
    /// ```
    /// use brisk::net::TcpStream;
    /// use std::time::Duration;
    ///
    /// # brisk::run(async {
    /// // Nothing listens on port 1 of localhost.
    /// let r = brisk::time::timeout(Duration::from_secs(5), TcpStream::connect("127.0.0.1:1")).await;
    /// let err = r.expect("refused quickly").unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    /// # });
    /// ```
    #[track_caller]
    pub fn connect<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<TcpStream>> {
        let location = Location::caller();
        async move {
            let mut last = None;
            for a in resolve(&addr).await? {
                let connecting = with_driver(|n| Ok(n.connect_tcp(a)))?;
                match connecting.await {
                    Ok(io) => return Ok(TcpStream::from_io(io, location)),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.expect("resolve returns at least one address"))
        }
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.set_nodelay(nodelay)
    }

    /// `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.nodelay()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.ttl()
    }

    /// Takes the pending socket error, if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.take_error()
    }

    /// Adopts a connected stream made elsewhere (with `std::net`,
    /// `socket2`, ...) into the current runtime. The socket is switched to
    /// non-blocking mode.
    ///
    /// # Errors
    /// An error if there is no current runtime, or if its sockets are not
    /// the operating system's (the simulator's); the socket is closed then.
    ///
    /// # Examples
    /// ```
    /// use brisk::io::AsyncWriteExt;
    /// use brisk::net::TcpStream;
    ///
    /// # brisk::run(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let (mut peer, _) = listener.accept()?;
    /// let mut stream = TcpStream::from_std(std)?;
    /// stream.write_all(b"hi").await?;
    /// let mut buf = [0; 2];
    /// std::io::Read::read_exact(&mut peer, &mut buf)?;
    /// assert_eq!(&buf, b"hi");
    /// let std = stream.into_std()?;
    /// assert_eq!(std.peer_addr()?, listener.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        let location = Location::caller();
        Ok(TcpStream::from_io(
            with_driver(|n| n.adopt_tcp_stream(stream))?,
            location,
        ))
    }

    /// Takes the stream out of the runtime: a `std` stream in non-blocking
    /// mode (call `set_nonblocking(false)` to block on it). Owned halves
    /// come back together first ([`OwnedReadHalf::reunite`]).
    ///
    /// # Errors
    /// An error on the simulator, whose sockets are simulated.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_std()
    }

    /// Shuts down reading, writing or both, like `std::net::TcpStream::shutdown`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.shutdown(how)
    }

    /// Waits until the stream is readable, writable, or either.
    ///
    /// Cancel safety: yes; readiness is not consumed by waiting.
    #[track_caller]
    pub fn ready(&self, interest: Interest) -> Ready<'_> {
        Ready {
            stream: self,
            interest,
            location: Location::caller(),
        }
    }

    /// Waits until a read may make progress; then use [`try_read`](Self::try_read).
    ///
    /// Cancel safety: yes.
    #[track_caller]
    pub fn readable(&self) -> Ready<'_> {
        self.ready(Interest::READABLE)
    }

    /// Waits until a write may make progress; then use [`try_write`](Self::try_write).
    ///
    /// Cancel safety: yes.
    #[track_caller]
    pub fn writable(&self) -> Ready<'_> {
        self.ready(Interest::WRITABLE)
    }

    /// Reads what is there without waiting; `WouldBlock` if nothing is.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf)
    }

    /// Writes what fits without waiting; `WouldBlock` if nothing does.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_write(buf)
    }

    /// Writes several buffers without waiting.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_write_vectored(bufs)
    }

    /// Polls for readiness.
    pub fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<super::Ready>> {
        self.ident.track(self.io.poll_ready(cx, interest))
    }

    /// Borrowed halves for reading and writing from two tasks at once.
    pub fn split(&self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Owned halves (`'static`) for reading and writing from two tasks at
    /// once; [`OwnedReadHalf::reunite`] puts them back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let s = Arc::new(self);
        (OwnedReadHalf(s.clone()), OwnedWriteHalf(s, true))
    }

    /// This socket's resource id, as shown in wait-points.
    pub fn resource_id(&self) -> u64 {
        self.ident.id()
    }

    pub(super) fn poll_read_inner(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(crate::coop::poll_proceed_io(cx))?;
        self.ident.track(self.io.poll_read(cx, buf))
    }

    /// Reads into possibly uninitialised memory; returns how many bytes at
    /// the start of `buf` were read (and so are initialised).
    #[cfg(any(feature = "hyper", feature = "tokio-io"))]
    pub(super) fn poll_read_uninit_inner(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(crate::coop::poll_proceed(cx));
        let start = buf.as_ptr().cast::<u8>();
        let len = buf.len();
        let read = self.ident.track(self.io.poll_read_uninit(cx, buf));
        let filled = std::task::ready!(read)?;
        // The backend proves the bytes initialised by handing out `&[u8]` to
        // them; it must be the start of `buf`, or the caller would count
        // bytes it never saw as read.
        assert!(
            filled.as_ptr() == start && filled.len() <= len,
            "{}",
            crate::error::NET_READ_UNINIT_OUT_OF_BUF
        );
        Poll::Ready(Ok(filled.len()))
    }

    pub(super) fn poll_write_inner(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(crate::coop::poll_proceed_io(cx))?;
        self.ident.track(self.io.poll_write(cx, buf))
    }

    pub(super) fn poll_write_vectored_inner(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(crate::coop::poll_proceed_io(cx))?;
        self.ident.track(self.io.poll_write_vectored(cx, bufs))
    }

    pub(super) fn poll_close_inner(&self) -> Poll<io::Result<()>> {
        match self.io.shutdown(Shutdown::Write) {
            // Already shut down or reset: closing is done either way.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            r => Poll::Ready(r),
        }
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("id", &self.ident.id())
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

/// The future of [`TcpStream::ready`], [`readable`](TcpStream::readable) and
/// [`writable`](TcpStream::writable).
#[must_use = "futures do nothing unless awaited"]
pub struct Ready<'a> {
    stream: &'a TcpStream,
    interest: Interest,
    location: &'static Location<'static>,
}

impl Future for Ready<'_> {
    type Output = io::Result<super::Ready>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.stream.io.poll_ready(cx, self.interest);
        self.stream.ident.track_at(p, self.location)
    }
}

impl fmt::Debug for Ready<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("interest", &self.interest)
            .finish()
    }
}

/// The stream behind a handle or half (shared with the hyper trait
/// implementations).
pub(super) trait AsStream {
    fn stream(&self) -> &TcpStream;
}

macro_rules! impl_as_stream {
    ($($ty:ty => |$s:ident| $get:expr;)*) => {$(
        impl AsStream for $ty {
            fn stream(&self) -> &TcpStream {
                let $s = self;
                $get
            }
        }
    )*};
}

impl_as_stream! {
    TcpStream => |s| s;
    &TcpStream => |s| s;
    ReadHalf<'_> => |s| s.0;
    WriteHalf<'_> => |s| s.0;
    OwnedReadHalf => |s| &s.0;
    OwnedWriteHalf => |s| &s.0;
}

crate::__impl_stream_io! {
    TcpStream => |s| AsStream::stream(s);
    &TcpStream => |s| AsStream::stream(s);
}

// Halves go one way each, as tokio's do: a read half cannot write.
crate::__impl_stream_read! {
    ReadHalf<'_> => |s| AsStream::stream(s);
    OwnedReadHalf => |s| AsStream::stream(s);
}

crate::__impl_stream_write! {
    WriteHalf<'_> => |s| AsStream::stream(s);
    OwnedWriteHalf => |s| AsStream::stream(s);
}

/// The reading half of [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The writing half of [`TcpStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

/// The reading half of [`TcpStream::into_split`].
///
/// It only reads, as its name says (a read half used to write does not
/// compile):
///
/// ```compile_fail
/// use brisk::io::AsyncWriteExt;
///
/// async fn write_through(mut half: brisk::net::tcp::OwnedReadHalf) {
///     half.write_all(b"no").await.unwrap();
/// }
/// ```
#[derive(Debug)]
pub struct OwnedReadHalf(Arc<TcpStream>);

/// The writing half of [`TcpStream::into_split`]; dropping it shuts down the
/// write direction, so the peer sees end-of-stream.
#[derive(Debug)]
pub struct OwnedWriteHalf(Arc<TcpStream>, bool);

/// The halves given to [`OwnedReadHalf::reunite`] came from different streams.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::error::TCP_REUNITE_MISMATCH)
    }
}
impl std::error::Error for ReuniteError {}

impl OwnedReadHalf {
    /// Puts the halves back together.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.0, &other.0) {
            return Err(ReuniteError(self, other));
        }
        let mut other = other;
        // Reuniting must not shut down the write direction.
        other.1 = false;
        drop(other);
        Ok(Arc::try_unwrap(self.0)
            .unwrap_or_else(|_| unreachable!("the two halves hold the only references")))
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// Waits until readable. Cancel safety: yes.
    #[track_caller]
    pub fn readable(&self) -> Ready<'_> {
        self.0.readable()
    }

    /// Reads without waiting.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl OwnedWriteHalf {
    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// Waits until writable. Cancel safety: yes.
    #[track_caller]
    pub fn writable(&self) -> Ready<'_> {
        self.0.writable()
    }

    /// Writes without waiting.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.1 {
            let _ = self.0.io.shutdown(Shutdown::Write);
        }
    }
}
