//! The network contract a backend implements.
//!
//! Sockets in [`crate::net`] are thin handles around these objects: the
//! native runtime implements them on its reactor, the simulator on its
//! simulated network. Every method takes `&self`, so a socket can be read
//! from one task and written from another at the same time.

use super::{Interest, Ready};
use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A boxed, sendable future (for the few operations that are not `poll`-shaped).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A backend's network.
///
/// Implementations MUST:
/// - make every operation of a socket fail with an `io::Error` (never hang
///   or panic) once the backend shut down;
/// - release a socket's registration when its object is dropped, even in the
///   middle of an operation, so [`registrations`](NetDriver::registrations)
///   returns to its previous value;
/// - wake every task waiting in a `poll_*` method when its operation may
///   make progress (several tasks may wait on one shared socket).
pub trait NetDriver: Send + Sync {
    /// Binds a TCP listener.
    fn bind_tcp(&self, addr: SocketAddr) -> io::Result<Box<dyn TcpListenerIo>>;

    /// Connects to `addr`; resolves when the connection is established or
    /// has failed.
    fn connect_tcp(&self, addr: SocketAddr)
        -> BoxFuture<'static, io::Result<Box<dyn TcpStreamIo>>>;

    /// Binds a UDP socket.
    fn bind_udp(&self, addr: SocketAddr) -> io::Result<Box<dyn UdpSocketIo>>;

    /// Resolves a host name (`"example.com:80"`) to addresses, off the
    /// scheduler threads.
    fn resolve(&self, host: String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>>;

    /// Sockets registered right now (for leak checks).
    fn registrations(&self) -> usize;

    /// Adopts a TCP listener the program made itself (with `std`,
    /// `socket2`, or handed over by a service manager). Backends whose
    /// sockets are not the operating system's refuse, as the default does.
    fn adopt_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Box<dyn TcpListenerIo>> {
        drop(listener);
        Err(not_os_sockets("TcpListener::from_std"))
    }

    /// Adopts a connected TCP stream (see [`adopt_tcp_listener`](Self::adopt_tcp_listener)).
    fn adopt_tcp_stream(&self, stream: std::net::TcpStream) -> io::Result<Box<dyn TcpStreamIo>> {
        drop(stream);
        Err(not_os_sockets("TcpStream::from_std"))
    }

    /// Adopts a UDP socket (see [`adopt_tcp_listener`](Self::adopt_tcp_listener)).
    fn adopt_udp(&self, socket: std::net::UdpSocket) -> io::Result<Box<dyn UdpSocketIo>> {
        drop(socket);
        Err(not_os_sockets("UdpSocket::from_std"))
    }
}

/// The error of a backend asked for an operating-system socket it does
/// not have (the simulator's sockets are simulated).
pub(crate) fn not_os_sockets(api: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "`brisk::net::{api}`: the current runtime's sockets are not the operating \
             system's (the simulator simulates its network), so they cannot be exchanged \
             with `std::net` sockets; use it on the native runtime or on tokio \
             (`brisk::compat::tokio`)"
        ),
    )
}

/// A TCP listener's backend object.
pub trait TcpListenerIo: Send + Sync {
    /// Accepts a connection, or registers the waker.
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn TcpStreamIo>, SocketAddr)>>;
    /// The bound address.
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// Sets the IP time-to-live.
    fn set_ttl(&self, ttl: u32) -> io::Result<()>;
    /// The IP time-to-live.
    fn ttl(&self) -> io::Result<u32>;
    /// Gives the operating system's socket up, out of the backend's
    /// reactor, in non-blocking mode. Backends whose sockets are not the
    /// operating system's refuse, as the default does.
    fn into_std(self: Box<Self>) -> io::Result<std::net::TcpListener> {
        Err(not_os_sockets("TcpListener::into_std"))
    }
}

/// A TCP stream's backend object.
pub trait TcpStreamIo: Send + Sync {
    /// Reads into `buf`, or registers the waker.
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Reads into `buf`, which need not be initialised, or registers the
    /// waker; returns the bytes read: the start of `buf`, now initialised.
    ///
    /// Callers (hyper and tokio adapters, whose read buffers are spare
    /// capacity) check that the returned slice starts at `buf`, so an
    /// implementation cannot make them read uninitialised memory. The
    /// default zeroes `buf` and calls [`poll_read`](TcpStreamIo::poll_read);
    /// a backend that can read into uninitialised memory saves the zeroing.
    fn poll_read_uninit<'a>(
        &self,
        cx: &mut Context<'_>,
        buf: &'a mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<&'a mut [u8]>> {
        buf.fill(MaybeUninit::new(0));
        // SAFETY: every element was just initialised, and `MaybeUninit<u8>`
        // has the layout of `u8`.
        let buf = unsafe { &mut *(buf as *mut [MaybeUninit<u8>] as *mut [u8]) };
        let n = std::task::ready!(self.poll_read(cx, buf))?;
        let len = buf.len();
        Poll::Ready(Ok(&mut buf[..n.min(len)]))
    }
    /// Writes from `buf`, or registers the waker.
    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Writes from several buffers, or registers the waker.
    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
    /// Waits until one of `interest` is ready.
    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>>;
    /// Reads without waiting (`WouldBlock` if nothing is there).
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes without waiting (`WouldBlock` if there is no room).
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;
    /// Writes several buffers without waiting.
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// Shuts down one or both directions.
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// The local address.
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// The peer's address.
    fn peer_addr(&self) -> io::Result<SocketAddr>;
    /// Sets `TCP_NODELAY`.
    fn set_nodelay(&self, nodelay: bool) -> io::Result<()>;
    /// `TCP_NODELAY`.
    fn nodelay(&self) -> io::Result<bool>;
    /// Sets the IP time-to-live.
    fn set_ttl(&self, ttl: u32) -> io::Result<()>;
    /// The IP time-to-live.
    fn ttl(&self) -> io::Result<u32>;
    /// Takes the socket's pending error (`SO_ERROR`).
    fn take_error(&self) -> io::Result<Option<io::Error>>;
    /// Gives the operating system's socket up (see [`TcpListenerIo::into_std`]).
    fn into_std(self: Box<Self>) -> io::Result<std::net::TcpStream> {
        Err(not_os_sockets("TcpStream::into_std"))
    }
}

/// A UDP socket's backend object.
pub trait UdpSocketIo: Send + Sync {
    /// Sends to `target`, or registers the waker.
    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>>;
    /// Receives a datagram and its sender, or registers the waker.
    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>>;
    /// Sends to the connected peer, or registers the waker.
    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Receives from the connected peer, or registers the waker.
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Waits until one of `interest` is ready.
    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>>;
    /// Sends without waiting.
    fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize>;
    /// Receives without waiting.
    fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)>;
    /// Connects (sets the default peer).
    fn connect(&self, addr: SocketAddr) -> io::Result<()>;
    /// The local address.
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// The connected peer.
    fn peer_addr(&self) -> io::Result<SocketAddr>;
    /// Sets `SO_BROADCAST`.
    fn set_broadcast(&self, on: bool) -> io::Result<()>;
    /// `SO_BROADCAST`.
    fn broadcast(&self) -> io::Result<bool>;
    /// Sets the IP time-to-live.
    fn set_ttl(&self, ttl: u32) -> io::Result<()>;
    /// The IP time-to-live.
    fn ttl(&self) -> io::Result<u32>;
    /// Gives the operating system's socket up (see [`TcpListenerIo::into_std`]).
    fn into_std(self: Box<Self>) -> io::Result<std::net::UdpSocket> {
        Err(not_os_sockets("UdpSocket::into_std"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::MaybeUninit;

    /// A stream whose reads return `b"hey"`; everything else is unused.
    struct Hey;

    fn unused<T>() -> io::Result<T> {
        Err(io::ErrorKind::Unsupported.into())
    }

    impl TcpStreamIo for Hey {
        fn poll_read(&self, _: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            // The default `poll_read_uninit` hands over a zeroed buffer.
            assert!(buf.iter().all(|&b| b == 0));
            buf[..3].copy_from_slice(b"hey");
            Poll::Ready(Ok(3))
        }
        fn poll_write(&self, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
            Poll::Ready(unused())
        }
        fn poll_write_vectored(
            &self,
            _: &mut Context<'_>,
            _: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(unused())
        }
        fn poll_ready(&self, _: &mut Context<'_>, _: Interest) -> Poll<io::Result<Ready>> {
            Poll::Ready(unused())
        }
        fn try_read(&self, _: &mut [u8]) -> io::Result<usize> {
            unused()
        }
        fn try_write(&self, _: &[u8]) -> io::Result<usize> {
            unused()
        }
        fn try_write_vectored(&self, _: &[IoSlice<'_>]) -> io::Result<usize> {
            unused()
        }
        fn shutdown(&self, _: Shutdown) -> io::Result<()> {
            unused()
        }
        fn local_addr(&self) -> io::Result<SocketAddr> {
            unused()
        }
        fn peer_addr(&self) -> io::Result<SocketAddr> {
            unused()
        }
        fn set_nodelay(&self, _: bool) -> io::Result<()> {
            unused()
        }
        fn nodelay(&self) -> io::Result<bool> {
            unused()
        }
        fn set_ttl(&self, _: u32) -> io::Result<()> {
            unused()
        }
        fn ttl(&self) -> io::Result<u32> {
            unused()
        }
        fn take_error(&self) -> io::Result<Option<io::Error>> {
            unused()
        }
    }

    /// A backend without its own `poll_read_uninit` gets the default: the
    /// buffer is zeroed, read with `poll_read`, and the filled prefix returned.
    #[test]
    fn default_read_uninit_returns_the_filled_prefix() {
        let mut buf = [MaybeUninit::<u8>::uninit(); 16];
        let start = buf.as_ptr().cast::<u8>();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match Hey.poll_read_uninit(&mut cx, &mut buf) {
            Poll::Ready(Ok(filled)) => {
                assert_eq!(filled, b"hey");
                assert_eq!(filled.as_ptr(), start);
            }
            other => panic!("unexpected {:?}", other.map(|r| r.map(|b| b.len()))),
        }
    }
}
