//! Brisk sockets on tokio's sockets and reactor.
//!
//! Every operation is the non-blocking call (`try_read`, `try_send_to`,
//! ...) followed, on `WouldBlock`, by tokio's `poll_*_ready`, which
//! registers the waker with tokio's reactor. Sockets are created with the
//! tokio runtime entered, so they belong to its reactor whichever thread
//! creates them.

use brisk_core::net::{BoxFuture, NetDriver, TcpListenerIo, TcpStreamIo, UdpSocketIo};
use brisk_core::net::{Interest, Ready};
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Counts live sockets for [`NetDriver::registrations`].
struct Registration(Arc<AtomicUsize>);

impl Registration {
    fn new(live: &Arc<AtomicUsize>) -> Registration {
        live.fetch_add(1, Ordering::Relaxed);
        Registration(live.clone())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) struct TokioNet {
    tokio: ::tokio::runtime::Handle,
    live: Arc<AtomicUsize>,
}

impl TokioNet {
    pub(crate) fn new(tokio: ::tokio::runtime::Handle) -> TokioNet {
        TokioNet {
            tokio,
            live: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// Polls `fut` with the tokio runtime entered (tokio creates sockets on the
/// reactor of the runtime that is current when they are made).
fn in_tokio<T: Send + 'static>(
    tokio: ::tokio::runtime::Handle,
    fut: impl Future<Output = T> + Send + 'static,
) -> BoxFuture<'static, T> {
    let mut fut = Box::pin(fut);
    Box::pin(std::future::poll_fn(move |cx| {
        let _tokio = tokio.enter();
        fut.as_mut().poll(cx)
    }))
}

/// Retries `op` until it stops failing with `WouldBlock`, waiting on
/// `readiness` in between.
fn poll_io<T>(
    cx: &mut Context<'_>,
    mut readiness: impl FnMut(&mut Context<'_>) -> Poll<io::Result<()>>,
    mut op: impl FnMut() -> io::Result<T>,
) -> Poll<io::Result<T>> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ready!(readiness(cx))?,
            r => return Poll::Ready(r),
        }
    }
}

/// Readiness for `interest` from tokio's per-direction readiness polls.
fn poll_interest(
    cx: &mut Context<'_>,
    interest: Interest,
    read: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<()>>,
    write: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<()>>,
) -> Poll<io::Result<Ready>> {
    let mut ready = Ready::EMPTY;
    if interest.is_readable() {
        if let Poll::Ready(r) = read(cx) {
            r?;
            ready = ready | Ready::READABLE;
        }
    }
    if interest.is_writable() {
        if let Poll::Ready(r) = write(cx) {
            r?;
            ready = ready | Ready::WRITABLE;
        }
    }
    if ready == Ready::EMPTY {
        Poll::Pending
    } else {
        Poll::Ready(Ok(ready))
    }
}

impl NetDriver for TokioNet {
    fn bind_tcp(&self, addr: SocketAddr) -> io::Result<Box<dyn TcpListenerIo>> {
        let _tokio = self.tokio.enter();
        let socket = match addr {
            SocketAddr::V4(_) => ::tokio::net::TcpSocket::new_v4()?,
            SocketAddr::V6(_) => ::tokio::net::TcpSocket::new_v6()?,
        };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(1024)?;
        Ok(Box::new(Listener {
            inner: listener,
            tokio: self.tokio.clone(),
            live: self.live.clone(),
            _reg: Registration::new(&self.live),
        }))
    }

    fn connect_tcp(
        &self,
        addr: SocketAddr,
    ) -> BoxFuture<'static, io::Result<Box<dyn TcpStreamIo>>> {
        let live = self.live.clone();
        in_tokio(self.tokio.clone(), async move {
            let stream = ::tokio::net::TcpStream::connect(addr).await?;
            Ok(Box::new(Stream {
                inner: stream,
                _reg: Registration::new(&live),
            }) as Box<dyn TcpStreamIo>)
        })
    }

    fn bind_udp(&self, addr: SocketAddr) -> io::Result<Box<dyn UdpSocketIo>> {
        let std = std::net::UdpSocket::bind(addr)?;
        std.set_nonblocking(true)?;
        let _tokio = self.tokio.enter();
        Ok(Box::new(Udp {
            inner: ::tokio::net::UdpSocket::from_std(std)?,
            _reg: Registration::new(&self.live),
        }))
    }

    fn resolve(&self, host: String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        in_tokio(self.tokio.clone(), async move {
            Ok(::tokio::net::lookup_host(host).await?.collect())
        })
    }

    fn registrations(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    fn adopt_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Box<dyn TcpListenerIo>> {
        listener.set_nonblocking(true)?;
        let _tokio = self.tokio.enter();
        Ok(Box::new(Listener {
            inner: ::tokio::net::TcpListener::from_std(listener)?,
            tokio: self.tokio.clone(),
            live: self.live.clone(),
            _reg: Registration::new(&self.live),
        }))
    }

    fn adopt_tcp_stream(&self, stream: std::net::TcpStream) -> io::Result<Box<dyn TcpStreamIo>> {
        stream.set_nonblocking(true)?;
        let _tokio = self.tokio.enter();
        Ok(Box::new(Stream {
            inner: ::tokio::net::TcpStream::from_std(stream)?,
            _reg: Registration::new(&self.live),
        }))
    }

    fn adopt_udp(&self, socket: std::net::UdpSocket) -> io::Result<Box<dyn UdpSocketIo>> {
        socket.set_nonblocking(true)?;
        let _tokio = self.tokio.enter();
        Ok(Box::new(Udp {
            inner: ::tokio::net::UdpSocket::from_std(socket)?,
            _reg: Registration::new(&self.live),
        }))
    }
}

struct Listener {
    inner: ::tokio::net::TcpListener,
    tokio: ::tokio::runtime::Handle,
    live: Arc<AtomicUsize>,
    _reg: Registration,
}

impl TcpListenerIo for Listener {
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn TcpStreamIo>, SocketAddr)>> {
        // The accepted stream is registered with the current tokio runtime.
        let _tokio = self.tokio.enter();
        let (stream, peer) = ready!(self.inner.poll_accept(cx))?;
        let stream = Stream {
            inner: stream,
            _reg: Registration::new(&self.live),
        };
        Poll::Ready(Ok((Box::new(stream), peer)))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    fn into_std(self: Box<Self>) -> io::Result<std::net::TcpListener> {
        self.inner.into_std()
    }
}

struct Stream {
    inner: ::tokio::net::TcpStream,
    _reg: Registration,
}

impl TcpStreamIo for Stream {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let s = &self.inner;
        poll_io(cx, |cx| s.poll_read_ready(cx), || s.try_read(buf))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let s = &self.inner;
        poll_io(cx, |cx| s.poll_write_ready(cx), || s.try_write(buf))
    }

    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let s = &self.inner;
        poll_io(
            cx,
            |cx| s.poll_write_ready(cx),
            || s.try_write_vectored(bufs),
        )
    }

    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        let s = &self.inner;
        poll_interest(
            cx,
            interest,
            |cx| s.poll_read_ready(cx),
            |cx| s.poll_write_ready(cx),
        )
    }

    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_read(buf)
    }

    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_write(buf)
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.inner.try_write_vectored(bufs)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        socket2::SockRef::from(&self.inner).shutdown(how)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    fn into_std(self: Box<Self>) -> io::Result<std::net::TcpStream> {
        self.inner.into_std()
    }
}

struct Udp {
    inner: ::tokio::net::UdpSocket,
    _reg: Registration,
}

impl UdpSocketIo for Udp {
    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let s = &self.inner;
        poll_io(
            cx,
            |cx| s.poll_send_ready(cx),
            || s.try_send_to(buf, target),
        )
    }

    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let s = &self.inner;
        poll_io(cx, |cx| s.poll_recv_ready(cx), || s.try_recv_from(buf))
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let s = &self.inner;
        poll_io(cx, |cx| s.poll_send_ready(cx), || s.try_send(buf))
    }

    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let s = &self.inner;
        poll_io(cx, |cx| s.poll_recv_ready(cx), || s.try_recv(buf))
    }

    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        let s = &self.inner;
        poll_interest(
            cx,
            interest,
            |cx| s.poll_recv_ready(cx),
            |cx| s.poll_send_ready(cx),
        )
    }

    fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.inner.try_send_to(buf, target)
    }

    fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.try_recv_from(buf)
    }

    fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        socket2::SockRef::from(&self.inner).connect(&addr.into())
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.set_broadcast(on)
    }

    fn broadcast(&self) -> io::Result<bool> {
        self.inner.broadcast()
    }

    fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    fn into_std(self: Box<Self>) -> io::Result<std::net::UdpSocket> {
        self.inner.into_std()
    }
}
