//! Networking through the current runtime: TCP and UDP shaped like
//! `std::net`, with async accept, connect, read and write.
//!
//! ```
//! use brisk::io::{AsyncReadExt, AsyncWriteExt};
//! use brisk::net::{TcpListener, TcpStream};
//!
//! # brisk::run(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let addr = listener.local_addr().unwrap();
//! let server = brisk::spawn(async move {
//!     let (mut conn, _) = listener.accept().await.unwrap();
//!     let mut buf = [0; 5];
//!     conn.read_exact(&mut buf).await.unwrap();
//!     conn.write_all(&buf).await.unwrap();
//! });
//! let mut client = TcpStream::connect(addr).await.unwrap();
//! client.write_all(b"hello").await.unwrap();
//! let mut echo = [0; 5];
//! client.read_exact(&mut echo).await.unwrap();
//! assert_eq!(&echo, b"hello");
//! server.await.unwrap();
//! # });
//! ```
//!
//! Sockets are handles to objects of the current runtime's network (see
//! [`NetDriver`]): the native runtime serves them from its reactor, and a
//! simulator can serve the very same types from a simulated network.

mod driver;
#[cfg(feature = "hyper")]
pub mod hyper;
mod stream_io;
pub mod tcp;
#[cfg(feature = "tokio-io")]
pub mod tokio_io;
mod udp;

/// tokio, for the `tokio::io` trait implementations that
/// [`__impl_stream_io`](crate::__impl_stream_io) writes in Brisk's other
/// crates. Not a public API.
#[cfg(feature = "tokio-io")]
#[doc(hidden)]
pub use tokio as __tokio;

pub use driver::{BoxFuture, NetDriver, TcpListenerIo, TcpStreamIo, UdpSocketIo};
pub use tcp::{
    Accept, OwnedReadHalf, OwnedWriteHalf, ReadHalf, Ready as ReadyFuture, ReuniteError,
    TcpListener, TcpStream, WriteHalf,
};
pub use udp::{Recv as UdpRecv, RecvFrom as UdpRecvFrom, UdpSocket};

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::ops::BitOr;

/// Which readiness to wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    /// Data to read (or the peer closed).
    pub const READABLE: Interest = Interest(0b01);
    /// Room to write.
    pub const WRITABLE: Interest = Interest(0b10);

    /// True if this includes reading.
    pub fn is_readable(self) -> bool {
        self.0 & 0b01 != 0
    }

    /// True if this includes writing.
    pub fn is_writable(self) -> bool {
        self.0 & 0b10 != 0
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

/// Readiness a socket reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ready(u8);

impl Ready {
    /// Nothing ready.
    pub const EMPTY: Ready = Ready(0);
    /// Readable.
    pub const READABLE: Ready = Ready(0b0001);
    /// Writable.
    pub const WRITABLE: Ready = Ready(0b0010);
    /// The peer will send no more.
    pub const READ_CLOSED: Ready = Ready(0b0100);
    /// Writing is no longer possible.
    pub const WRITE_CLOSED: Ready = Ready(0b1000);
    /// An error is pending.
    pub const ERROR: Ready = Ready(0b1_0000);

    /// True if readable (or read-closed, where a read returns at once).
    pub fn is_readable(self) -> bool {
        self.0 & (0b0001 | 0b0100) != 0
    }
    /// True if writable (or write-closed, where a write fails at once).
    pub fn is_writable(self) -> bool {
        self.0 & (0b0010 | 0b1000) != 0
    }
    /// True if the peer will send no more.
    pub fn is_read_closed(self) -> bool {
        self.0 & 0b0100 != 0
    }
    /// True if writing is no longer possible.
    pub fn is_write_closed(self) -> bool {
        self.0 & 0b1000 != 0
    }
    /// True if an error is pending.
    pub fn is_error(self) -> bool {
        self.0 & 0b1_0000 != 0
    }
}

impl BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

/// Something that names one or more socket addresses: a `SocketAddr`, an
/// `(ip, port)` pair, or a `"host:port"` string. Host names are resolved
/// through the current runtime, off its scheduler threads.
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    use std::net::SocketAddr;

    /// Either addresses at hand, or a name to look up.
    pub enum Resolve {
        Ready(Vec<SocketAddr>),
        Lookup(String),
    }

    pub trait Sealed {
        fn resolve(&self) -> Resolve;
    }
}

use sealed::Resolve;

impl ToSocketAddrs for SocketAddr {}
impl sealed::Sealed for SocketAddr {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(vec![*self])
    }
}
impl ToSocketAddrs for SocketAddrV4 {}
impl sealed::Sealed for SocketAddrV4 {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(vec![SocketAddr::V4(*self)])
    }
}
impl ToSocketAddrs for SocketAddrV6 {}
impl sealed::Sealed for SocketAddrV6 {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(vec![SocketAddr::V6(*self)])
    }
}
impl ToSocketAddrs for (IpAddr, u16) {}
impl sealed::Sealed for (IpAddr, u16) {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(vec![SocketAddr::new(self.0, self.1)])
    }
}
impl ToSocketAddrs for (Ipv4Addr, u16) {}
impl sealed::Sealed for (Ipv4Addr, u16) {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(vec![SocketAddr::new(self.0.into(), self.1)])
    }
}
impl ToSocketAddrs for (Ipv6Addr, u16) {}
impl sealed::Sealed for (Ipv6Addr, u16) {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(vec![SocketAddr::new(self.0.into(), self.1)])
    }
}
impl ToSocketAddrs for &[SocketAddr] {}
impl sealed::Sealed for &[SocketAddr] {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(self.to_vec())
    }
}
impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(a) => Resolve::Ready(vec![a]),
            Err(_) => Resolve::Lookup(self.to_owned()),
        }
    }
}
impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn resolve(&self) -> Resolve {
        self.as_str().resolve()
    }
}
impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn resolve(&self) -> Resolve {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Resolve::Ready(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Resolve::Lookup(format!("{}:{}", self.0, self.1)),
        }
    }
}
impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).resolve()
    }
}
impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {
    fn resolve(&self) -> Resolve {
        (**self).resolve()
    }
}

/// The current runtime's network.
pub(crate) fn with_driver<R>(f: impl FnOnce(&dyn NetDriver) -> io::Result<R>) -> io::Result<R> {
    let unsupported = |b: &dyn crate::runtime::Backend| {
        let msg = b.net_unavailable().unwrap_or(crate::error::NET_UNSUPPORTED);
        io::Error::new(io::ErrorKind::Unsupported, msg.to_owned())
    };
    match crate::context::with_current(|h| match h.backend().net() {
        Some(n) => Ok(f(n)),
        None => Err(unsupported(h.backend())),
    }) {
        Some(Ok(r)) => r,
        Some(Err(e)) => Err(e),
        None => Err(io::Error::other(crate::error::NET_OUTSIDE_RUNTIME)),
    }
}

/// Resolves `addr` to socket addresses (host names through the runtime).
pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    let addrs = match sealed::Sealed::resolve(addr) {
        Resolve::Ready(v) => v,
        Resolve::Lookup(host) => with_driver(|n| Ok(n.resolve(host)))?.await?,
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

/// Resolves a host name to addresses, off the runtime's scheduler threads.
///
/// ```
/// # brisk::run(async {
/// let addrs = brisk::net::lookup_host("localhost:80").await.unwrap();
/// assert!(addrs.iter().all(|a| a.port() == 80));
/// # });
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    resolve(&host).await
}
