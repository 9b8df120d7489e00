//! Unix-domain sockets on the native runtime.
//!
//! These are native-only types (a simulated network has no Unix domain);
//! outside a native Brisk runtime their constructors return `Unsupported`.
//!
//! [`UnixStream`] is shaped like `brisk::net::TcpStream`: `AsyncRead` and
//! `AsyncWrite` (and tokio's traits with the `tokio-io` feature), a
//! readiness API (`readable`, `writable`, `try_read`, `try_write`), vectored
//! writes, and borrowed ([`ReadHalf`], [`WriteHalf`]) and owned
//! ([`OwnedReadHalf`], [`OwnedWriteHalf`]) halves for two tasks at once.
//!
//! The trait implementations come from `brisk-core`'s `__impl_stream_io!`,
//! the same code as TCP's: tokio's traits are there whenever `brisk-core`'s
//! `tokio-io` feature is on (the facade's `tokio-io` turns it on), so
//! `brisk-rt` has no feature of its own for them.

mod split;
mod stream;

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::UnixStream;

use super::net::Evented;
use super::Direction;
use brisk_core::net::{Interest, Ready};
use brisk_core::wait::IoSite;
use std::future::{poll_fn, Future};
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::panic::Location;
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll};

fn driver() -> io::Result<Arc<super::IoDriver>> {
    super::current_driver(crate::error::UNIX_NO_RUNTIME)
}

/// Waits until `io` is ready for any of `interest`, recording the wait at
/// `location` (the caller of `ready`, `readable` or `writable`). Readiness
/// is not consumed by waiting: the `try_*` call that hits `WouldBlock`
/// clears it.
fn ready<'a, S: mio::event::Source>(
    io: &'a Evented<S>,
    ident: &'a IoSite,
    interest: Interest,
    location: &'static Location<'static>,
) -> impl Future<Output = io::Result<Ready>> + 'a {
    poll_fn(move |cx| ident.track_at(io.poll_interest(cx, interest), location))
}

/// A Unix-domain stream listener.
///
/// # Examples
/// ```
/// use brisk::io::{AsyncReadExt, AsyncWriteExt};
/// use brisk::net::{UnixListener, UnixStream};
///
/// # brisk::run(async {
/// let path = std::env::temp_dir().join(format!("brisk-doc-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let client = brisk::spawn({
///     let path = path.clone();
///     async move {
///         let mut s = UnixStream::connect(&path).await?;
///         s.write_all(b"hi").await?;
///         Ok::<_, std::io::Error>(())
///     }
/// });
/// let (mut conn, _) = listener.accept().await?;
/// let mut buf = [0; 2];
/// conn.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hi");
/// client.await.unwrap()?;
/// std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UnixListener {
    io: Evented<mio::net::UnixListener>,
    ident: IoSite,
}

impl UnixListener {
    /// Binds to `path` (which must not exist).
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let location = Location::caller();
        // The runtime first: a bind outside one must not leave a socket file.
        let driver = driver()?;
        let l = mio::net::UnixListener::bind(path)?;
        Ok(UnixListener {
            io: Evented::new(&driver, l)?,
            ident: IoSite::new(location),
        })
    }

    /// Waits for a connection. Cancel safety: yes.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let r = self.ident.track(self.io.poll_read_raw(cx, |l| l.accept()));
        match r {
            Poll::Ready(Ok((s, addr))) => Poll::Ready(Ok((
                UnixStream::from_evented(
                    Evented::new(&self.io.driver_handle(), s)?,
                    self.ident.location(),
                ),
                addr,
            ))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// Adopts a listener made elsewhere (with `std`, or handed over by a
    /// service manager) into the current runtime, in non-blocking mode.
    ///
    /// # Errors
    /// An error outside a native Brisk runtime (the socket is closed then),
    /// or if the reactor refuses it.
    ///
    /// # Examples
    /// ```
    /// use brisk::net::{UnixListener, UnixStream};
    ///
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("from-std.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path)?)?;
    /// let client = brisk::spawn({
    ///     let path = path.clone();
    ///     async move { UnixStream::connect(path).await }
    /// });
    /// let (_conn, _) = listener.accept().await?;
    /// client.await.unwrap()?;
    /// let std = listener.into_std()?;
    /// assert_eq!(std.local_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        let location = Location::caller();
        let driver = driver()?;
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: Evented::new(&driver, mio::net::UnixListener::from_std(listener))?,
            ident: IoSite::new(location),
        })
    }

    /// Takes the listener out of the runtime: a `std` listener in
    /// non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_source().into())
    }
}

impl std::fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixListener")
            .field("id", &self.ident.id())
            .finish()
    }
}

/// A Unix-domain datagram socket.
///
/// # Examples
/// ```
/// use brisk::net::UnixDatagram;
///
/// # brisk::run(async {
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"ping").await?;
/// let mut buf = [0; 8];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UnixDatagram {
    io: Evented<mio::net::UnixDatagram>,
    ident: IoSite,
}

impl UnixDatagram {
    /// Binds to `path`.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let location = Location::caller();
        let driver = driver()?;
        let s = mio::net::UnixDatagram::bind(path)?;
        Ok(UnixDatagram {
            io: Evented::new(&driver, s)?,
            ident: IoSite::new(location),
        })
    }

    /// An unbound socket.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        let location = Location::caller();
        let s = mio::net::UnixDatagram::unbound()?;
        Ok(UnixDatagram {
            io: Evented::new(&driver()?, s)?,
            ident: IoSite::new(location),
        })
    }

    /// A connected pair.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let location = Location::caller();
        let d = driver()?;
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((
            UnixDatagram {
                io: Evented::new(&d, a)?,
                ident: IoSite::new(location),
            },
            UnixDatagram {
                io: Evented::new(&d, b)?,
                ident: IoSite::new(location),
            },
        ))
    }

    /// Connects to the socket at `path`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.source().connect(path)
    }

    /// Adopts a socket made elsewhere into the current runtime, in
    /// non-blocking mode.
    ///
    /// # Errors
    /// An error outside a native Brisk runtime (the socket is closed then),
    /// or if the reactor refuses it.
    ///
    /// # Examples
    /// ```
    /// use brisk::net::UnixDatagram;
    ///
    /// # brisk::run(async {
    /// let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
    /// let a = UnixDatagram::from_std(a)?;
    /// a.send(b"ping").await?;
    /// let mut buf = [0; 8];
    /// assert_eq!(b.recv(&mut buf)?, 4);
    /// let a = a.into_std()?;
    /// b.send(b"pong")?;
    /// # a.set_nonblocking(false)?;
    /// assert_eq!(a.recv(&mut buf)?, 4);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        let location = Location::caller();
        let driver = driver()?;
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: Evented::new(&driver, mio::net::UnixDatagram::from_std(socket))?,
            ident: IoSite::new(location),
        })
    }

    /// Takes the socket out of the runtime: a `std` socket in non-blocking
    /// mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.io.into_source().into())
    }

    /// Sends to the connected peer. Cancel safety: yes.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.ident
                .track(self.io.poll_write_raw(cx, |s| s.send(buf)))
        })
        .await
    }

    /// Receives from the connected peer. Cancel safety: yes.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.ident.track(self.io.poll_read_raw(cx, |s| s.recv(buf)))).await
    }

    /// Sends to the socket at `path`. Cancel safety: yes.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        poll_fn(|cx| {
            self.ident
                .track(self.io.poll_write_raw(cx, |s| s.send_to(buf, path)))
        })
        .await
    }

    /// Receives a datagram and its sender. Cancel safety: yes.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            self.ident
                .track(self.io.poll_read_raw(cx, |s| s.recv_from(buf)))
        })
        .await
    }

    /// Waits until the socket is readable, writable, or either; then use
    /// the `try_*` methods. Spurious: a `try_*` call may still say
    /// `WouldBlock`, and then clears the readiness, so wait again.
    ///
    /// Cancel safety: yes; readiness is not consumed by waiting.
    #[track_caller]
    pub fn ready(&self, interest: Interest) -> impl Future<Output = io::Result<Ready>> + '_ {
        ready(&self.io, &self.ident, interest, Location::caller())
    }

    /// Waits until a datagram may be received; then use
    /// [`try_recv`](Self::try_recv) or [`try_recv_from`](Self::try_recv_from).
    ///
    /// Cancel safety: yes.
    ///
    /// # Examples
    /// ```
    /// use brisk::net::UnixDatagram;
    ///
    /// # brisk::run(async {
    /// let (a, b) = UnixDatagram::pair()?;
    /// let mut buf = [0; 8];
    /// // Nothing sent yet: no datagram to take.
    /// assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    /// a.writable().await?;
    /// a.try_send(b"ping")?;
    /// loop {
    ///     b.readable().await?;
    ///     match b.try_recv(&mut buf) {
    ///         Ok(n) => {
    ///             assert_eq!(&buf[..n], b"ping");
    ///             break;
    ///         }
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
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

    /// Waits until a datagram may be sent; then use
    /// [`try_send`](Self::try_send) or [`try_send_to`](Self::try_send_to).
    ///
    /// Cancel safety: yes.
    #[track_caller]
    pub fn writable(&self) -> impl Future<Output = io::Result<Ready>> + '_ {
        self.ready(Interest::WRITABLE)
    }

    /// Sends to the connected peer without waiting; `WouldBlock` if the
    /// socket has no room now.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// Sends to the socket at `path` without waiting; `WouldBlock` if the
    /// socket has no room now.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |s| s.send_to(buf, path.as_ref()))
    }

    /// Receives from the connected peer without waiting; `WouldBlock` if no
    /// datagram is there.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.recv(buf))
    }

    /// Receives a datagram and its sender without waiting; `WouldBlock` if
    /// no datagram is there.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from(buf))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.source().take_error()
    }

    /// Shuts down receiving, sending or both, like
    /// `std::os::unix::net::UnixDatagram::shutdown`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.source().shutdown(how)
    }

    /// This socket's resource id, as shown in wait-points.
    pub fn resource_id(&self) -> u64 {
        self.ident.id()
    }
}

impl std::fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("id", &self.ident.id())
            .finish()
    }
}
