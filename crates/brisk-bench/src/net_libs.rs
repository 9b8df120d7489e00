//! The networking stacks under test, one per runtime family, behind one
//! trait so a network scenario body is written once.
//!
//! | runtimes               | TCP stream                       | read_exact / write_all                      | to hyper                                |
//! |------------------------|----------------------------------|---------------------------------------------|-----------------------------------------|
//! | `brisk_ct`, `brisk_mt` | `brisk::net::TcpStream`          | `futures_lite::{AsyncReadExt, AsyncWriteExt}` | the stream itself (feature `hyper`)   |
//! | `tokio_ct`, `tokio_mt` | `tokio::net::TcpStream`          | `tokio::io::{AsyncReadExt, AsyncWriteExt}`  | `hyper_util::rt::TokioIo`               |
//! | `smol`                 | `async_io::Async<std::net::TcpStream>` | `futures_lite::{AsyncReadExt, AsyncWriteExt}` | [`FuturesIo`], a futures-io adapter in this file |
//!
//! Every stream has `TCP_NODELAY` set on both ends, as latency-sensitive
//! servers do; listeners bind `127.0.0.1:0`.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The loopback address with an OS-chosen port.
const ANY_LOOPBACK: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// The TCP primitives a network scenario needs.
pub(crate) trait NetLib: 'static {
    /// A bound TCP listener.
    type Listener: Send + Sync + 'static;
    /// A connected TCP stream.
    type Stream: Send + Unpin + 'static;
    /// A stream as hyper wants it.
    type HyperIo: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static;

    /// Binds a listener on loopback and returns it with its address.
    fn bind() -> impl Future<Output = (Self::Listener, SocketAddr)> + Send;
    /// Accepts one connection (with `TCP_NODELAY` set).
    fn accept(l: &Self::Listener) -> impl Future<Output = Self::Stream> + Send + '_;
    /// Connects to `addr` (with `TCP_NODELAY` set).
    fn connect(addr: SocketAddr) -> impl Future<Output = Self::Stream> + Send;
    /// Writes all of `buf`.
    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = ()> + Send + 'a;
    /// Fills `buf`; false if the peer closed the connection first.
    fn read_exact<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = bool> + Send + 'a;
    /// The stream, ready to hand to hyper.
    fn hyper_io(s: Self::Stream) -> Self::HyperIo;
}

/// `Ok(())` → true, `UnexpectedEof` → false, anything else panics.
fn filled(r: io::Result<()>) -> bool {
    match r {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => false,
        Err(e) => panic!("read_exact failed: {e}"),
    }
}

/// `brisk::net`.
pub(crate) struct BriskNet;

impl NetLib for BriskNet {
    type Listener = brisk::net::TcpListener;
    type Stream = brisk::net::TcpStream;
    type HyperIo = brisk::net::TcpStream;

    async fn bind() -> (Self::Listener, SocketAddr) {
        let l = brisk::net::TcpListener::bind(ANY_LOOPBACK)
            .await
            .expect("bind");
        let addr = l.local_addr().expect("local_addr");
        (l, addr)
    }

    async fn accept(l: &Self::Listener) -> Self::Stream {
        let (s, _) = l.accept().await.expect("accept");
        s.set_nodelay(true).expect("nodelay");
        s
    }

    async fn connect(addr: SocketAddr) -> Self::Stream {
        let s = brisk::net::TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).expect("nodelay");
        s
    }

    async fn write_all<'a>(s: &'a mut Self::Stream, buf: &'a [u8]) {
        futures_lite::AsyncWriteExt::write_all(s, buf)
            .await
            .expect("write_all");
    }

    async fn read_exact<'a>(s: &'a mut Self::Stream, buf: &'a mut [u8]) -> bool {
        filled(futures_lite::AsyncReadExt::read_exact(s, buf).await)
    }

    fn hyper_io(s: Self::Stream) -> Self::HyperIo {
        s
    }
}

/// `tokio::net`.
pub(crate) struct TokioNet;

impl NetLib for TokioNet {
    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;
    type HyperIo = hyper_util::rt::TokioIo<tokio::net::TcpStream>;

    async fn bind() -> (Self::Listener, SocketAddr) {
        let l = tokio::net::TcpListener::bind(ANY_LOOPBACK)
            .await
            .expect("bind");
        let addr = l.local_addr().expect("local_addr");
        (l, addr)
    }

    async fn accept(l: &Self::Listener) -> Self::Stream {
        let (s, _) = l.accept().await.expect("accept");
        s.set_nodelay(true).expect("nodelay");
        s
    }

    async fn connect(addr: SocketAddr) -> Self::Stream {
        let s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).expect("nodelay");
        s
    }

    async fn write_all<'a>(s: &'a mut Self::Stream, buf: &'a [u8]) {
        tokio::io::AsyncWriteExt::write_all(s, buf)
            .await
            .expect("write_all");
    }

    async fn read_exact<'a>(s: &'a mut Self::Stream, buf: &'a mut [u8]) -> bool {
        filled(tokio::io::AsyncReadExt::read_exact(s, buf).await.map(drop))
    }

    fn hyper_io(s: Self::Stream) -> Self::HyperIo {
        hyper_util::rt::TokioIo::new(s)
    }
}

/// async-io's `Async<std::net::TcpStream>`, as `smol::net` wraps it.
pub(crate) struct SmolNet;

/// A smol TCP stream.
type SmolStream = async_io::Async<std::net::TcpStream>;

impl NetLib for SmolNet {
    type Listener = async_io::Async<std::net::TcpListener>;
    type Stream = SmolStream;
    type HyperIo = FuturesIo<SmolStream>;

    async fn bind() -> (Self::Listener, SocketAddr) {
        let l = async_io::Async::<std::net::TcpListener>::bind(ANY_LOOPBACK).expect("bind");
        let addr = l.get_ref().local_addr().expect("local_addr");
        (l, addr)
    }

    async fn accept(l: &Self::Listener) -> Self::Stream {
        let (s, _) = l.accept().await.expect("accept");
        s.get_ref().set_nodelay(true).expect("nodelay");
        s
    }

    async fn connect(addr: SocketAddr) -> Self::Stream {
        let s = SmolStream::connect(addr).await.expect("connect");
        s.get_ref().set_nodelay(true).expect("nodelay");
        s
    }

    async fn write_all<'a>(s: &'a mut Self::Stream, buf: &'a [u8]) {
        futures_lite::AsyncWriteExt::write_all(s, buf)
            .await
            .expect("write_all");
    }

    async fn read_exact<'a>(s: &'a mut Self::Stream, buf: &'a mut [u8]) -> bool {
        filled(futures_lite::AsyncReadExt::read_exact(s, buf).await)
    }

    fn hyper_io(s: Self::Stream) -> Self::HyperIo {
        FuturesIo(s)
    }
}

/// `hyper::rt::{Read, Write}` for a futures-io stream (what `smol-hyper`
/// does, in a few lines, to avoid a dependency).
pub(crate) struct FuturesIo<T>(T);

impl<T: futures_lite::AsyncRead + Unpin> hyper::rt::Read for FuturesIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        let len = unfilled.len();
        let n = ready!(Pin::new(&mut self.0).poll_read(cx, unfilled))?;
        assert!(n <= len, "read more than the buffer holds");
        // SAFETY: `initialize_unfilled` initialised the `len` unfilled bytes
        // and the read wrote the first `n <= len` of them (asserted above).
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: futures_lite::AsyncWrite + Unpin> hyper::rt::Write for FuturesIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}
