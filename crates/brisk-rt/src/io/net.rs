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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// A mio source registered with the reactor; deregistered on drop.
pub(crate) struct Evented<S: mio::event::Source> {
    source: S,
    reg: Registration,
    driver: Arc<IoDriver>,
    /// A TCP stream whose reads report the bytes left behind (Linux's
    /// `TCP_INQ`, see [`Evented::enable_inq`]).
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    inq: bool,
    /// The last read filled its whole buffer, so the next one asks how much
    /// is left (`recvmsg` with `TCP_INQ`). A read that came back short
    /// already knows the socket is drained; the next read is then a plain
    /// `recv`, which costs the kernel less than `recvmsg` and its control
    /// message. Only a hint: the read half alone uses it.
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    last_read_full: AtomicBool,
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
            inq: false,
            last_read_full: AtomicBool::new(true),
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
        self.poll_transfer_drained(cx, dir, len, |s| op(s).map(|n| (n, false)))
    }

    /// `poll_transfer` for an `op` that also tells whether it left the
    /// socket drained (a read that took all there was, see `recv_inq`), so
    /// even a full-length transfer clears the readiness: the next read waits
    /// for the reactor instead of trying the socket for a `WouldBlock`.
    #[inline]
    fn poll_transfer_drained(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        mut op: impl FnMut(&S) -> io::Result<(usize, bool)>,
    ) -> Poll<io::Result<usize>> {
        loop {
            let ev = ready!(self.poll_ready(cx, dir))?;
            match op(&self.source) {
                Ok((n, drained)) => {
                    if n > 0 && (n < len || drained) {
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
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&S) -> io::Result<R>,
    ) -> io::Result<R> {
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

    /// Polls for any of the readiness in `interest`; readiness is not
    /// consumed (the operation that hits `WouldBlock` clears it).
    pub(crate) fn poll_interest(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<Ready>> {
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

impl<S: mio::event::Source> Evented<S> {
    /// Leaves the reactor and hands the socket back, still open and in
    /// non-blocking mode (for `into_std`). Tasks waiting on it are woken
    /// and see the registration gone.
    pub(crate) fn into_source(self) -> S {
        let mut this = std::mem::ManuallyDrop::new(self);
        // Every field named: a new one must be handled here.
        let Evented {
            source,
            reg,
            driver,
            inq: _,
            last_read_full: _,
        } = &mut *this;
        driver.deregister(reg, source);
        // SAFETY: `this` is never used or dropped again (`ManuallyDrop`):
        // the source is moved out and the other fields with drop glue (the
        // registration and the driver handle) are dropped, each once; the
        // rest (`inq`, `last_read_full`) have none.
        unsafe {
            std::ptr::drop_in_place(reg);
            std::ptr::drop_in_place(driver);
            std::ptr::read(source)
        }
    }
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
            let mut s = Evented::new(&driver, mio::net::TcpStream::connect(addr)?)?;
            s.enable_inq();
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

    fn adopt_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Box<dyn TcpListenerIo>> {
        listener.set_nonblocking(true)?;
        let l = mio::net::TcpListener::from_std(listener);
        Ok(Box::new(Evented::new(&self.driver, l)?))
    }

    fn adopt_tcp_stream(&self, stream: std::net::TcpStream) -> io::Result<Box<dyn TcpStreamIo>> {
        stream.set_nonblocking(true)?;
        let mut s = Evented::new(&self.driver, mio::net::TcpStream::from_std(stream))?;
        s.enable_inq();
        Ok(Box::new(s))
    }

    fn adopt_udp(&self, socket: std::net::UdpSocket) -> io::Result<Box<dyn UdpSocketIo>> {
        socket.set_nonblocking(true)?;
        let u = mio::net::UdpSocket::from_std(socket);
        Ok(Box::new(Evented::new(&self.driver, u)?))
    }
}

impl TcpListenerIo for Evented<mio::net::TcpListener> {
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn TcpStreamIo>, SocketAddr)>> {
        let (stream, peer) = ready!(self.poll_io(cx, Direction::Read, |l| l.accept()))?;
        let mut s = Evented::new(&self.driver, stream)?;
        s.enable_inq();
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
    fn into_std(self: Box<Self>) -> io::Result<std::net::TcpListener> {
        Ok(self.into_source().into())
    }
}

impl Evented<mio::net::TcpStream> {
    /// Asks the kernel to report, with every read, how many bytes are left
    /// in the receive queue (`TCP_INQ`, Linux 4.18 and later). A read that
    /// fills the caller's buffer exactly (`read_exact` of a whole message)
    /// then knows whether the socket is drained, and the next read waits for
    /// the reactor instead of costing a `recv` that fails with `WouldBlock`:
    /// one read syscall per message instead of two. Only a read that follows
    /// a full one asks (see `last_read_full`); where the option is missing,
    /// reads stay plain `recv`s.
    pub(crate) fn enable_inq(&mut self) {
        self.set_inq(true);
    }

    /// Turns `TCP_INQ` on or off (see [`enable_inq`](Self::enable_inq));
    /// `inq` says whether it is on.
    fn set_inq(&mut self, on: bool) {
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = on;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use std::os::fd::AsRawFd;
            if !on && !self.inq {
                return;
            }
            let on: libc::c_int = on.into();
            // SAFETY: `on` is a live `c_int` and the length passed is its
            // size; the fd is this stream's open socket.
            let r = unsafe {
                libc::setsockopt(
                    self.source.as_raw_fd(),
                    libc::SOL_TCP,
                    libc::TCP_INQ,
                    (&on as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            self.inq = r == 0 && on != 0;
        }
    }

    /// One read of up to `len` bytes into `ptr`: `(bytes read, drained)`,
    /// where `drained` says the kernel reported nothing left to read.
    ///
    /// # Safety
    /// `ptr` must be valid for writes of `len` bytes (possibly
    /// uninitialised).
    #[cfg(unix)]
    unsafe fn recv_raw(&self, ptr: *mut u8, len: usize) -> io::Result<(usize, bool)> {
        use std::os::fd::AsRawFd;
        let fd = self.source.as_raw_fd();
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.inq && self.last_read_full.load(Ordering::Relaxed) {
            // SAFETY: forwarded from the caller.
            let r = unsafe { recv_inq(fd, ptr, len) };
            if let Ok((n, _)) = r {
                if n < len {
                    self.last_read_full.store(false, Ordering::Relaxed);
                }
            }
            return r;
        }
        // SAFETY: the caller guarantees `ptr` is writable for `len` bytes;
        // `recv` writes at most `len` bytes.
        let r = unsafe { libc::recv(fd, ptr.cast(), len, 0) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            let n = r as usize;
            #[cfg(any(target_os = "linux", target_os = "android"))]
            if self.inq && n == len && len > 0 {
                self.last_read_full.store(true, Ordering::Relaxed);
            }
            Ok((n, false))
        }
    }
}

/// `recvmsg` on a socket with `TCP_INQ` on: the bytes read, and whether the
/// control message says the receive queue is now empty. A missing control
/// message counts as "not drained" (the caller then tries once more, as
/// without the option).
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes (possibly uninitialised).
#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn recv_inq(fd: libc::c_int, ptr: *mut u8, len: usize) -> io::Result<(usize, bool)> {
    // Room for one control message carrying a `c_int`, aligned for
    // `cmsghdr` (CMSG_SPACE(4) is 24 bytes on 64-bit Linux, 16 on 32-bit).
    let mut control = [0u64; 4];
    let mut iov = libc::iovec {
        iov_base: ptr.cast(),
        iov_len: len,
    };
    // SAFETY: `msghdr` is plain old data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: `msg` points at one iovec describing `len` writable bytes at
    // `ptr` (the caller's guarantee) and at `control`, writable for
    // `msg_controllen` bytes; all of them outlive the call.
    let r = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut drained = false;
    // SAFETY: `msg` was filled in by a successful `recvmsg`, so the CMSG
    // macros walk only the part of `control` that the kernel wrote
    // (`msg_controllen` now says how much); the data of a `TCP_CM_INQ`
    // message is one `c_int`, read unaligned to be safe.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_TCP && (*cmsg).cmsg_type == libc::TCP_CM_INQ {
                let left = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
                drained = left == 0;
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((r as usize, drained))
}

impl TcpStreamIo for Evented<mio::net::TcpStream> {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        #[cfg(unix)]
        {
            let ptr = buf.as_mut_ptr();
            // SAFETY: `ptr` is `buf`, writable for `len` bytes and borrowed
            // mutably for this whole call.
            self.poll_transfer_drained(cx, Direction::Read, len, |_| unsafe {
                self.recv_raw(ptr, len)
            })
        }
        #[cfg(not(unix))]
        self.poll_transfer(cx, Direction::Read, len, |s| (&*s).read(buf))
    }
    #[cfg(unix)]
    fn poll_read_uninit<'a>(
        &self,
        cx: &mut Context<'_>,
        buf: &'a mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<&'a mut [u8]>> {
        let len = buf.len();
        let ptr = buf.as_mut_ptr().cast::<u8>();
        // SAFETY: `ptr` is valid for writes of `len` bytes (it is `buf`,
        // borrowed mutably for this whole call); uninitialised memory may be
        // written to.
        let n = ready!(
            self.poll_transfer_drained(cx, Direction::Read, len, |_| unsafe {
                self.recv_raw(ptr, len)
            })
        )?;
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
    fn into_std(self: Box<Self>) -> io::Result<std::net::TcpStream> {
        let mut s = *self;
        // Off again: the new owner's `recvmsg` calls would get our control
        // messages.
        s.set_inq(false);
        Ok(s.into_source().into())
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
    fn into_std(self: Box<Self>) -> io::Result<std::net::UdpSocket> {
        Ok(self.into_source().into())
    }
}

#[cfg(all(test, not(loom), any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A connected pair: our registered stream (with `TCP_INQ` asked for)
    /// and the plain peer.
    fn pair(driver: &Arc<IoDriver>) -> (Evented<mio::net::TcpStream>, std::net::TcpStream) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (ours, _) = l.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let mut ev = Evented::new(driver, mio::net::TcpStream::from_std(ours)).unwrap();
        ev.enable_inq();
        (ev, peer)
    }

    /// Turns the reactor until `s` has read readiness with all of `bits`.
    fn wait_readable(driver: &IoDriver, s: &Evented<mio::net::TcpStream>, bits: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while s
            .reg
            .io
            .readiness_event(Direction::Read)
            .is_none_or(|ev| ev.ready & bits != bits)
        {
            assert!(Instant::now() < deadline, "no read readiness");
            let mut core = driver.try_lock().unwrap();
            driver.turn(&mut core, Some(Duration::from_millis(10)));
        }
    }

    fn read(s: &Evented<mio::net::TcpStream>, len: usize) -> Poll<io::Result<Vec<u8>>> {
        let mut buf = vec![0u8; len];
        let mut cx = Context::from_waker(std::task::Waker::noop());
        s.poll_read(&mut cx, &mut buf).map_ok(|n| {
            buf.truncate(n);
            buf
        })
    }

    /// A read that fills its buffer and leaves the socket empty clears the
    /// readiness (the next read waits for the reactor instead of failing
    /// with `WouldBlock`), and data that arrives afterwards is still seen.
    #[test]
    fn a_full_read_that_drains_the_socket_clears_readiness() {
        let driver = Arc::new(IoDriver::new().unwrap());
        let (s, mut peer) = pair(&driver);
        assert!(s.inq, "TCP_INQ is available on Linux 4.18 and later");
        for round in 0..3u8 {
            peer.write_all(&[round; 64]).unwrap();
            wait_readable(&driver, &s, READABLE);
            match read(&s, 64) {
                Poll::Ready(Ok(b)) => assert_eq!(b, [round; 64]),
                other => panic!("round {round}: {other:?}"),
            }
            assert!(
                s.reg.io.readiness_event(Direction::Read).is_none(),
                "round {round}: a drained socket still looks readable"
            );
            assert!(read(&s, 64).is_pending());
        }
    }

    /// A full read that leaves bytes behind keeps the readiness: the rest is
    /// read at once, without another reactor turn.
    #[test]
    fn a_full_read_with_bytes_left_keeps_readiness() {
        let driver = Arc::new(IoDriver::new().unwrap());
        let (s, mut peer) = pair(&driver);
        let msg: Vec<u8> = (0..128u8).collect();
        peer.write_all(&msg).unwrap();
        // Both segments are in the receive queue before we read.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut probe = [0u8; 128];
            let n = s.source.peek(&mut probe).unwrap_or(0);
            if n == 128 {
                break;
            }
            assert!(Instant::now() < deadline, "data did not arrive");
            std::thread::sleep(Duration::from_millis(1));
        }
        wait_readable(&driver, &s, READABLE);
        match read(&s, 64) {
            Poll::Ready(Ok(b)) => assert_eq!(b, msg[..64]),
            other => panic!("{other:?}"),
        }
        assert!(s.reg.io.readiness_event(Direction::Read).is_some());
        match read(&s, 64) {
            Poll::Ready(Ok(b)) => assert_eq!(b, msg[64..]),
            other => panic!("{other:?}"),
        }
        assert!(s.reg.io.readiness_event(Direction::Read).is_none());
    }

    /// The end of the stream behind the last bytes is not lost when the read
    /// of those bytes drains the socket: the next read returns 0 at once.
    #[test]
    fn end_of_stream_after_a_draining_read_is_seen() {
        let driver = Arc::new(IoDriver::new().unwrap());
        let (s, mut peer) = pair(&driver);
        peer.write_all(&[7; 64]).unwrap();
        drop(peer);
        wait_readable(&driver, &s, READABLE | READ_CLOSED);
        match read(&s, 64) {
            Poll::Ready(Ok(b)) => assert_eq!(b, [7; 64]),
            other => panic!("{other:?}"),
        }
        match read(&s, 64) {
            Poll::Ready(Ok(b)) => assert!(b.is_empty()),
            other => panic!("expected end of stream, got {other:?}"),
        }
    }
}
