//! The native network: `brisk-core`'s socket contract served by mio sockets
//! registered with this runtime's reactor.

use super::driver::{IoDriver, Registration};
use super::scheduled_io::{
    Direction, ReadyEvent, ERROR, READABLE, READ_CLOSED, SHUTDOWN, WRITABLE, WRITE_CLOSED,
};
use brisk_core::net::{
    BoxFuture, Interest, NetDriver, Ready, TcpListenerIo, TcpStreamIo, UdpSocketIo,
};
use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// A mio source registered with the reactor; deregistered on drop.
pub(crate) struct Evented<S: mio::event::Source> {
    source: S,
    reg: Registration,
    driver: Arc<IoDriver>,
}

fn gone() -> io::Error {
    io::Error::other(crate::error::IO_DRIVER_GONE)
}

impl<S: mio::event::Source> Evented<S> {
    pub(crate) fn new(driver: &Arc<IoDriver>, mut source: S) -> io::Result<Evented<S>> {
        let reg = driver.register(&mut source)?;
        Ok(Evented {
            source,
            reg,
            driver: driver.clone(),
        })
    }

    #[inline]
    fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<ReadyEvent>> {
        let ev = ready!(self.reg.io.poll_ready(cx, dir));
        if ev.ready & SHUTDOWN != 0 {
            return Poll::Ready(Err(gone()));
        }
        Poll::Ready(Ok(ev))
    }

    /// Runs `op` when ready in `dir`, until it stops saying `WouldBlock`.
    #[inline]
    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let ev = ready!(self.poll_ready(cx, dir))?;
            match op(&self.source) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.reg.io.clear_readiness(ev),
                r => return Poll::Ready(r),
            }
        }
    }

    /// Polls a read-side operation on the source (for sources that are not
    /// sockets of the contract, such as a signal's socket pair).
    pub(crate) fn poll_read_raw<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Read, op)
    }

    /// Polls a write-side operation on the source.
    pub(crate) fn poll_write_raw<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Write, op)
    }

    /// Waits for write readiness (a connect finishing).
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(cx, Direction::Write).map_ok(|_| ())
    }

    /// The source itself.
    pub(crate) fn source(&self) -> &S {
        &self.source
    }

    /// The reactor this source is registered with.
    pub(crate) fn driver_handle(&self) -> Arc<IoDriver> {
        self.driver.clone()
    }

    /// Like `poll_io` for a byte-stream transfer of up to `len` bytes: a
    /// short transfer means the socket buffer ran dry (or full), so the
    /// readiness is cleared at once instead of costing one more `WouldBlock`
    /// syscall. Safe with edge-triggered epoll: data arriving later raises a
    /// new event, whose newer tick makes this clear a no-op.
    #[inline]
    fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        mut op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            let ev = ready!(self.poll_ready(cx, dir))?;
            match op(&self.source) {
                Ok(n) => {
                    if n > 0 && n < len {
                        self.reg.io.clear_readiness(ev);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.reg.io.clear_readiness(ev),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Runs `op` once if the reactor reported readiness in `dir`.
    fn try_io<R>(&self, dir: Direction, op: impl FnOnce(&S) -> io::Result<R>) -> io::Result<R> {
        let Some(ev) = self.reg.io.readiness_event(dir) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if ev.ready & SHUTDOWN != 0 {
            return Err(gone());
        }
        match op(&self.source) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.reg.io.clear_readiness(ev);
                Err(e)
            }
            r => r,
        }
    }

    fn poll_interest(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        let mut out = Ready::EMPTY;
        if interest.is_readable() {
            if let Poll::Ready(ev) = self.poll_ready(cx, Direction::Read) {
                out = out | to_ready(ev?.ready);
            }
        }
        if interest.is_writable() {
            if let Poll::Ready(ev) = self.poll_ready(cx, Direction::Write) {
                out = out | to_ready(ev?.ready);
            }
        }
        if out == Ready::EMPTY {
            Poll::Pending
        } else {
            Poll::Ready(Ok(out))
        }
    }
}

fn to_ready(bits: usize) -> Ready {
    let mut r = Ready::EMPTY;
    if bits & READABLE != 0 {
        r = r | Ready::READABLE;
    }
    if bits & WRITABLE != 0 {
        r = r | Ready::WRITABLE;
    }
    if bits & READ_CLOSED != 0 {
        r = r | Ready::READ_CLOSED;
    }
    if bits & WRITE_CLOSED != 0 {
        r = r | Ready::WRITE_CLOSED;
    }
    if bits & ERROR != 0 {
        r = r | Ready::ERROR;
    }
    r
}

impl<S: mio::event::Source> Drop for Evented<S> {
    fn drop(&mut self) {
        self.driver.deregister(&self.reg, &mut self.source);
    }
}

/// The native runtime's network.
pub(crate) struct NativeNet {
    pub(crate) driver: Arc<IoDriver>,
}

impl NetDriver for NativeNet {
    fn bind_tcp(&self, addr: SocketAddr) -> io::Result<Box<dyn TcpListenerIo>> {
        let l = mio::net::TcpListener::bind(addr)?;
        Ok(Box::new(Evented::new(&self.driver, l)?))
    }

    fn connect_tcp(
        &self,
        addr: SocketAddr,
    ) -> BoxFuture<'static, io::Result<Box<dyn TcpStreamIo>>> {
        let driver = self.driver.clone();
        Box::pin(async move {
            let s = Evented::new(&driver, mio::net::TcpStream::connect(addr)?)?;
            // Writable means the connection attempt finished, either way.
            std::future::poll_fn(|cx| s.poll_ready(cx, Direction::Write)).await?;
            if let Some(e) = s.source.take_error()? {
                return Err(e);
            }
            match s.source.peer_addr() {
                Ok(_) => Ok(Box::new(s) as Box<dyn TcpStreamIo>),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    // Not finished after all: the error (if any) is pending.
                    Err(s.source.take_error()?.unwrap_or(e))
                }
                Err(e) => Err(e),
            }
        })
    }

    fn bind_udp(&self, addr: SocketAddr) -> io::Result<Box<dyn UdpSocketIo>> {
        let u = mio::net::UdpSocket::bind(addr)?;
        Ok(Box::new(Evented::new(&self.driver, u)?))
    }

    fn resolve(&self, host: String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        Box::pin(async move {
            match brisk_core::task::spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&host).map(|it| it.collect::<Vec<_>>())
            })
            .await
            {
                Ok(r) => r,
                Err(e) => Err(io::Error::other(e.to_string())),
            }
        })
    }

    fn registrations(&self) -> usize {
        self.driver.registrations()
    }
}

impl TcpListenerIo for Evented<mio::net::TcpListener> {
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn TcpStreamIo>, SocketAddr)>> {
        let (stream, peer) = ready!(self.poll_io(cx, Direction::Read, |l| l.accept()))?;
        let s = Evented::new(&self.driver, stream)?;
        Poll::Ready(Ok((Box::new(s), peer)))
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.local_addr()
    }
    fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.set_ttl(ttl)
    }
    fn ttl(&self) -> io::Result<u32> {
        self.source.ttl()
    }
}

impl TcpStreamIo for Evented<mio::net::TcpStream> {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.poll_transfer(cx, Direction::Read, len, |s| (&*s).read(buf))
    }
    #[cfg(unix)]
    fn poll_read_uninit<'a>(
        &self,
        cx: &mut Context<'_>,
        buf: &'a mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<&'a mut [u8]>> {
        use std::os::fd::AsRawFd;
        let len = buf.len();
        let ptr = buf.as_mut_ptr().cast::<u8>();
        let n = ready!(self.poll_transfer(cx, Direction::Read, len, |s| {
            // SAFETY: `ptr` is valid for writes of `len` bytes (it is `buf`,
            // borrowed mutably for this whole call) and `recv` writes at most
            // `len` bytes; uninitialised memory may be written to.
            let r = unsafe { libc::recv(s.as_raw_fd(), ptr.cast(), len, 0) };
            if r < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(r as usize)
            }
        }))?;
        // SAFETY: `recv` initialised the first `n <= len` bytes of `buf`,
        // which stays mutably borrowed for `'a`.
        Poll::Ready(Ok(unsafe {
            std::slice::from_raw_parts_mut(ptr, n.min(len))
        }))
    }
    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_transfer(cx, Direction::Write, buf.len(), |s| (&*s).write(buf))
    }
    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |s| (&*s).write_vectored(bufs))
    }
    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        self.poll_interest(cx, interest)
    }
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_io(Direction::Read, |s| (&*s).read(buf))
    }
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_io(Direction::Write, |s| (&*s).write(buf))
    }
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.try_io(Direction::Write, |s| (&*s).write_vectored(bufs))
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.shutdown(how)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.local_addr()
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.peer_addr()
    }
    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.source.set_nodelay(nodelay)
    }
    fn nodelay(&self) -> io::Result<bool> {
        self.source.nodelay()
    }
    fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.set_ttl(ttl)
    }
    fn ttl(&self) -> io::Result<u32> {
        self.source.ttl()
    }
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.source.take_error()
    }
}

impl UdpSocketIo for Evented<mio::net::UdpSocket> {
    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
    }
    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
    }
    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |s| s.send(buf))
    }
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Read, |s| s.recv(buf))
    }
    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        self.poll_interest(cx, interest)
    }
    fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.try_io(Direction::Write, |s| s.send_to(buf, target))
    }
    fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.try_io(Direction::Read, |s| s.recv_from(buf))
    }
    fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.source.connect(addr)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.local_addr()
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.peer_addr()
    }
    fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.source.set_broadcast(on)
    }
    fn broadcast(&self) -> io::Result<bool> {
        self.source.broadcast()
    }
    fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.set_ttl(ttl)
    }
    fn ttl(&self) -> io::Result<u32> {
        self.source.ttl()
    }
}
