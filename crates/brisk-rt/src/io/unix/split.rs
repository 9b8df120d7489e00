//! The halves of a [`UnixStream`]: borrowed ([`UnixStream::split`]) and
//! owned ([`UnixStream::into_split`]), each with its direction's readiness
//! API and `AsyncRead` or `AsyncWrite`.

use super::UnixStream;
use brisk_core::net::{Interest, Ready};
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::sync::Arc;

/// The reading half of [`UnixStream::split`]: `AsyncRead` (and, with the
/// `tokio-io` feature, tokio's), and the read side of the readiness API.
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a UnixStream);

/// The writing half of [`UnixStream::split`]: `AsyncWrite` (and, with the
/// `tokio-io` feature, tokio's), and the write side of the readiness API.
/// Closing it (`AsyncWriteExt::close`) shuts
/// down the stream's write direction.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a UnixStream);

/// The reading half of [`UnixStream::into_split`]: `'static`, so it can
/// move into another task.
#[derive(Debug)]
pub struct OwnedReadHalf(Arc<UnixStream>);

/// The writing half of [`UnixStream::into_split`]: `'static`, so it can
/// move into another task. Dropping it shuts down the write direction, so
/// the peer reads end-of-stream.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    stream: Arc<UnixStream>,
    shutdown_on_drop: bool,
}

/// The halves given to [`OwnedReadHalf::reunite`] (or
/// [`OwnedWriteHalf::reunite`]) came from different streams; both are
/// handed back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::error::UNIX_REUNITE_MISMATCH)
    }
}

impl std::error::Error for ReuniteError {}

impl<'a> ReadHalf<'a> {
    pub(super) fn new(stream: &'a UnixStream) -> ReadHalf<'a> {
        ReadHalf(stream)
    }
}

impl<'a> WriteHalf<'a> {
    pub(super) fn new(stream: &'a UnixStream) -> WriteHalf<'a> {
        WriteHalf(stream)
    }
}

impl OwnedReadHalf {
    pub(super) fn new(stream: Arc<UnixStream>) -> OwnedReadHalf {
        OwnedReadHalf(stream)
    }

    /// Puts the halves back together into the stream they came from.
    ///
    /// # Errors
    /// [`ReuniteError`], holding both halves, if `other` came from another
    /// stream.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<UnixStream, ReuniteError> {
        reunite(self, other)
    }
}

impl OwnedWriteHalf {
    pub(super) fn new(stream: Arc<UnixStream>) -> OwnedWriteHalf {
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        }
    }

    /// Puts the halves back together; see [`OwnedReadHalf::reunite`].
    ///
    /// # Errors
    /// [`ReuniteError`], holding both halves, if `other` came from another
    /// stream.
    pub fn reunite(self, other: OwnedReadHalf) -> Result<UnixStream, ReuniteError> {
        reunite(other, self)
    }
}

fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<UnixStream, ReuniteError> {
    if !Arc::ptr_eq(&read.0, &write.stream) {
        return Err(ReuniteError(read, write));
    }
    // Reuniting must not shut down the write direction.
    write.shutdown_on_drop = false;
    drop(write);
    Ok(Arc::try_unwrap(read.0)
        .unwrap_or_else(|_| unreachable!("the two halves hold the only references")))
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

/// What every half offers: its stream's addresses, `ready`, and `AsRef`.
macro_rules! half_methods {
    ($($ty:ty => |$s:ident| $get:expr;)*) => {$(
        impl $ty {
            /// The local address of the stream.
            pub fn local_addr(&self) -> io::Result<SocketAddr> {
                let $s = self;
                $get.local_addr()
            }

            /// The peer's address.
            pub fn peer_addr(&self) -> io::Result<SocketAddr> {
                let $s = self;
                $get.peer_addr()
            }

            /// Waits for readiness of the stream, like
            /// [`UnixStream::ready`]. Cancel safety: yes.
            #[track_caller]
            pub fn ready(&self, interest: Interest) -> impl Future<Output = io::Result<Ready>> + '_ {
                let $s = self;
                $get.ready(interest)
            }
        }

        impl AsRef<UnixStream> for $ty {
            fn as_ref(&self) -> &UnixStream {
                let $s = self;
                $get
            }
        }
    )*};
}

/// The read side of the readiness API, for the two reading halves.
macro_rules! read_half_methods {
    ($($ty:ty => |$s:ident| $get:expr;)*) => {$(
        impl $ty {
            /// Waits until a read may make progress, like
            /// [`UnixStream::readable`]. Cancel safety: yes.
            #[track_caller]
            pub fn readable(&self) -> impl Future<Output = io::Result<Ready>> + '_ {
                let $s = self;
                $get.readable()
            }

            /// Reads without waiting, like [`UnixStream::try_read`].
            pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                let $s = self;
                $get.try_read(buf)
            }

            /// Reads into several buffers without waiting, like
            /// [`UnixStream::try_read_vectored`].
            pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
                let $s = self;
                $get.try_read_vectored(bufs)
            }
        }
    )*};
}

/// The write side of the readiness API, for the two writing halves.
macro_rules! write_half_methods {
    ($($ty:ty => |$s:ident| $get:expr;)*) => {$(
        impl $ty {
            /// Waits until a write may make progress, like
            /// [`UnixStream::writable`]. Cancel safety: yes.
            #[track_caller]
            pub fn writable(&self) -> impl Future<Output = io::Result<Ready>> + '_ {
                let $s = self;
                $get.writable()
            }

            /// Writes without waiting, like [`UnixStream::try_write`].
            pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                let $s = self;
                $get.try_write(buf)
            }

            /// Writes several buffers without waiting, like
            /// [`UnixStream::try_write_vectored`].
            pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                let $s = self;
                $get.try_write_vectored(bufs)
            }
        }
    )*};
}

half_methods! {
    ReadHalf<'_> => |s| s.0;
    WriteHalf<'_> => |s| s.0;
    OwnedReadHalf => |s| &*s.0;
    OwnedWriteHalf => |s| &*s.stream;
}

read_half_methods! {
    ReadHalf<'_> => |s| s.0;
    OwnedReadHalf => |s| &*s.0;
}

write_half_methods! {
    WriteHalf<'_> => |s| s.0;
    OwnedWriteHalf => |s| &*s.stream;
}

brisk_core::__impl_stream_io! {
    UnixStream => |s| s;
    &UnixStream => |s| *s;
}

brisk_core::__impl_stream_read! {
    ReadHalf<'_> => |s| s.0;
    OwnedReadHalf => |s| &*s.0;
}

brisk_core::__impl_stream_write! {
    WriteHalf<'_> => |s| s.0;
    OwnedWriteHalf => |s| &*s.stream;
}
