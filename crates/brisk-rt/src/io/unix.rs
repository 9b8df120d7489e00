//! Unix-domain sockets on the native runtime.
//!
//! These are native-only types (a simulated network has no Unix domain);
//! outside a native Brisk runtime their constructors return `Unsupported`.

use super::net::Evented;
use brisk_core::io::{AsyncRead, AsyncWrite};
use brisk_core::wait::IoSite;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::panic::Location;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

fn driver() -> io::Result<Arc<super::IoDriver>> {
    super::current_driver(crate::error::UNIX_NO_RUNTIME)
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
                UnixStream {
                    io: Evented::new(&self.io.driver_handle(), s)?,
                    ident: IoSite::new(self.ident.location()),
                },
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
}

impl std::fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixListener")
            .field("id", &self.ident.id())
            .finish()
    }
}

/// A Unix-domain stream; `AsyncRead + AsyncWrite`, usable from two tasks
/// through `&UnixStream`.
pub struct UnixStream {
    io: Evented<mio::net::UnixStream>,
    ident: IoSite,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    #[track_caller]
    pub fn connect(
        path: impl AsRef<Path>,
    ) -> impl std::future::Future<Output = io::Result<UnixStream>> {
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
            Ok(UnixStream {
                io,
                ident: IoSite::new(location),
            })
        }
    }

    /// A connected pair.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let location = Location::caller();
        let d = driver()?;
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((
            UnixStream {
                io: Evented::new(&d, a)?,
                ident: IoSite::new(location),
            },
            UnixStream {
                io: Evented::new(&d, b)?,
                ident: IoSite::new(location),
            },
        ))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// Shuts down reading, writing or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.source().shutdown(how)
    }

    /// This socket's resource id, as shown in wait-points.
    pub fn resource_id(&self) -> u64 {
        self.ident.id()
    }
}

impl std::fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixStream")
            .field("id", &self.ident.id())
            .finish()
    }
}

impl AsyncRead for &UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(brisk_core::coop::poll_proceed_io(cx))?;
        self.ident
            .track(self.io.poll_read_raw(cx, |s| (&*s).read(buf)))
    }
}

impl AsyncWrite for &UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(brisk_core::coop::poll_proceed_io(cx))?;
        self.ident
            .track(self.io.poll_write_raw(cx, |s| (&*s).write(buf)))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(brisk_core::coop::poll_proceed_io(cx))?;
        self.ident
            .track(self.io.poll_write_raw(cx, |s| (&*s).write_vectored(bufs)))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.io.source().shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            r => Poll::Ready(r),
        }
    }
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
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

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }
}

impl std::fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("id", &self.ident.id())
            .finish()
    }
}
