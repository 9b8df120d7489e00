//! UDP sockets.

use super::driver::UdpSocketIo;
use super::{resolve, with_driver, Interest, ToSocketAddrs};
use crate::wait::IoSite;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A UDP socket.
///
/// All methods take `&self`: share it (for example in an `Arc`) between a
/// sending and a receiving task.
///
/// # Examples
/// ```
/// use brisk::net::UdpSocket;
///
/// # brisk::run(async {
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!(&buf[..n], b"ping");
/// assert_eq!(from, a.local_addr()?);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UdpSocket {
    io: Box<dyn UdpSocketIo>,
    site: IoSite,
}

impl UdpSocket {
    /// Binds to `addr` (tries each resolved address in turn).
    #[track_caller]
    pub fn bind<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<UdpSocket>> {
        let location = Location::caller();
        async move {
            let mut last = None;
            for a in resolve(&addr).await? {
                match with_driver(|n| n.bind_udp(a)) {
                    Ok(io) => {
                        return Ok(UdpSocket {
                            io,
                            site: IoSite::new(location),
                        })
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.expect("resolve returns at least one address"))
        }
    }

    /// Sets the default peer for [`send`](Self::send) and [`recv`](Self::recv),
    /// and filters received datagrams to that peer.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let mut last = None;
        for a in resolve(&addr).await? {
            match self.io.connect(a) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    fn track<T>(&self, p: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        self.site.track(p)
    }

    /// Sends a datagram to `target`.
    ///
    /// Cancel safety: yes; a datagram is sent whole or not at all.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = resolve(&target).await?[0];
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Receives a datagram and its sender.
    ///
    /// Cancel safety: yes; no datagram is consumed unless this returns it.
    pub fn recv_from<'a>(&'a self, buf: &'a mut [u8]) -> RecvFrom<'a> {
        RecvFrom { socket: self, buf }
    }

    /// Sends to the connected peer.
    ///
    /// Cancel safety: yes.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            std::task::ready!(crate::coop::poll_proceed_io(cx))?;
            self.track(self.io.poll_send(cx, buf))
        })
        .await
    }

    /// Receives from the connected peer.
    ///
    /// Cancel safety: yes.
    pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> Recv<'a> {
        Recv { socket: self, buf }
    }

    /// Polls to send a datagram to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(crate::coop::poll_proceed_io(cx))?;
        self.track(self.io.poll_send_to(cx, buf, target))
    }

    /// Polls to receive a datagram.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        std::task::ready!(crate::coop::poll_proceed_io(cx))?;
        self.track(self.io.poll_recv_from(cx, buf))
    }

    /// Waits until one of `interest` is ready.
    ///
    /// Cancel safety: yes.
    pub async fn ready(&self, interest: Interest) -> io::Result<super::Ready> {
        poll_fn(|cx| self.track(self.io.poll_ready(cx, interest))).await
    }

    /// Waits until a datagram may be received.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(|_| ())
    }

    /// Waits until a datagram may be sent.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(|_| ())
    }

    /// Sends without waiting (`WouldBlock` if the socket buffer is full).
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_send_to(buf, target)
    }

    /// Receives without waiting (`WouldBlock` if nothing is there).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_recv_from(buf)
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// The connected peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.set_broadcast(on)
    }

    /// `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.broadcast()
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
        self.site.id()
    }

    /// Adopts a socket made elsewhere (with `std::net`, `socket2` for
    /// multicast options, ...) into the current runtime. The socket is
    /// switched to non-blocking mode.
    ///
    /// # Errors
    /// An error if there is no current runtime, or if its sockets are not
    /// the operating system's (the simulator's); the socket is closed then.
    ///
    /// # Examples
    /// ```
    /// use brisk::net::UdpSocket;
    ///
    /// # brisk::run(async {
    /// let std = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let socket = UdpSocket::from_std(std)?;
    /// let addr = socket.local_addr()?;
    /// socket.send_to(b"ping", addr).await?;
    /// let mut buf = [0; 4];
    /// assert_eq!(socket.recv_from(&mut buf).await?, (4, addr));
    /// assert_eq!(socket.into_std()?.local_addr()?, addr);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        let location = Location::caller();
        Ok(UdpSocket {
            io: with_driver(|n| n.adopt_udp(socket))?,
            site: IoSite::new(location),
        })
    }

    /// Takes the socket out of the runtime: a `std` socket in non-blocking
    /// mode.
    ///
    /// # Errors
    /// An error on the simulator, whose sockets are simulated.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_std()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("id", &self.site.id())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// The future returned by [`UdpSocket::recv`].
///
/// Cancel safety: cancel-safe; it holds no partial state, and no datagram is
/// consumed unless it returns it.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Recv<'a> {
    socket: &'a UdpSocket,
    buf: &'a mut [u8],
}

impl Future for Recv<'_> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        std::task::ready!(crate::coop::poll_proceed_io(cx))?;
        this.socket.track(this.socket.io.poll_recv(cx, this.buf))
    }
}

impl fmt::Debug for Recv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("len", &self.buf.len())
            .finish()
    }
}

/// The future returned by [`UdpSocket::recv_from`].
///
/// Cancel safety: cancel-safe; it holds no partial state, and no datagram is
/// consumed unless it returns it.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct RecvFrom<'a> {
    socket: &'a UdpSocket,
    buf: &'a mut [u8],
}

impl Future for RecvFrom<'_> {
    type Output = io::Result<(usize, SocketAddr)>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.socket.poll_recv_from(cx, this.buf)
    }
}

impl fmt::Debug for RecvFrom<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFrom")
            .field("len", &self.buf.len())
            .finish()
    }
}
