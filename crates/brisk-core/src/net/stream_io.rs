//! The `AsyncRead`/`AsyncWrite` implementations shared by Brisk's byte
//! streams: TCP here, Unix-domain streams in `brisk-rt`. One macro writes
//! them for a stream, `&stream` and its halves, so every one of them goes
//! through the same cooperative budget and the same wait-points, and the
//! tokio traits (feature `tokio-io`) come with them wherever the feature is
//! on, in whichever crate the stream lives.
//!
//! Not a public API: the macros are exported for Brisk's own crates only.

/// futures-io's `AsyncRead` + `AsyncWrite` (and, with the `tokio-io`
/// feature of `brisk-core`, tokio's) for each `$ty`, whose stream is the
/// expression `$get` of `$s: &$ty`. The stream must have these methods
/// (the read ones for `__impl_stream_read`, the write ones for
/// `__impl_stream_write`):
///
/// - `poll_read_inner(&self, &mut Context, &mut [u8]) -> Poll<io::Result<usize>>`
/// - `poll_write_inner(&self, &mut Context, &[u8]) -> Poll<io::Result<usize>>`
/// - `poll_write_vectored_inner(&self, &mut Context, &[IoSlice]) -> Poll<io::Result<usize>>`
/// - `poll_close_inner(&self) -> Poll<io::Result<()>>` (shuts down writing)
/// - with `tokio-io`: `poll_read_uninit_inner(&self, &mut Context,
///   &mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>>`, which MUST return
///   how many bytes at the start of the buffer it initialised.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_stream_io {
    ($($ty:ty => |$s:ident| $get:expr;)*) => {
        $crate::__impl_stream_read! { $($ty => |$s| $get;)* }
        $crate::__impl_stream_write! { $($ty => |$s| $get;)* }
    };
}

/// The reading half of [`__impl_stream_io`]: `AsyncRead` only (for read
/// halves).
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_stream_read {
    ($($ty:ty => |$s:ident| $get:expr;)*) => {$(
        impl $crate::io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $get.poll_read_inner(cx, buf)
            }
        }

        $crate::__impl_tokio_read!($ty, |$s| $get);
    )*};
}

/// The writing half of [`__impl_stream_io`]: `AsyncWrite` only (for write
/// halves).
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_stream_write {
    ($($ty:ty => |$s:ident| $get:expr;)*) => {$(
        impl $crate::io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $get.poll_write_inner(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $get.poll_write_vectored_inner(cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                // Writes go straight to the socket; nothing is buffered here.
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = &*self;
                $get.poll_close_inner()
            }
        }

        $crate::__impl_tokio_write!($ty, |$s| $get);
    )*};
}

/// tokio's `AsyncRead` for `$ty` (see [`__impl_stream_io`]).
#[cfg(feature = "tokio-io")]
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_tokio_read {
    ($ty:ty, |$s:ident| $get:expr) => {
        impl $crate::net::__tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut $crate::net::__tokio::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = &*self;
                // SAFETY: a read only writes bytes into the unfilled part; it
                // never de-initialises any.
                let unfilled = unsafe { buf.unfilled_mut() };
                let n = ::std::task::ready!($get.poll_read_uninit_inner(cx, unfilled))?;
                // SAFETY: `poll_read_uninit_inner` returns how many bytes at
                // the start of the unfilled part the read initialised (the
                // macro's contract).
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                ::std::task::Poll::Ready(Ok(()))
            }
        }
    };
}

/// tokio's `AsyncWrite` for `$ty` (see [`__impl_stream_io`]): through its
/// futures-io `AsyncWrite`, which the stream macros implement first.
#[cfg(feature = "tokio-io")]
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_tokio_write {
    ($ty:ty, |$s:ident| $get:expr) => {
        $crate::__impl_tokio_write_via_futures!($ty; vectored = true);
    };
}

/// tokio's `AsyncWrite` for each `$ty` that implements futures-io's: the
/// same writes and flushes, and `poll_close` as tokio's `poll_shutdown`.
/// `vectored` is what `is_write_vectored` says (true where the futures-io
/// `poll_write_vectored` writes every buffer at once).
#[cfg(feature = "tokio-io")]
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_tokio_write_via_futures {
    ($($ty:ty),*; vectored = $vectored:expr) => {$(
        impl $crate::net::__tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                $vectored
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::io::AsyncWrite::poll_close(self, cx)
            }
        }
    )*};
}

/// Without the `tokio-io` feature there are no tokio traits to implement.
#[cfg(not(feature = "tokio-io"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_tokio_read {
    ($($t:tt)*) => {};
}

/// Without the `tokio-io` feature there are no tokio traits to implement.
#[cfg(not(feature = "tokio-io"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_tokio_write {
    ($($t:tt)*) => {};
}
