//! tokio's I/O traits for Brisk's byte streams (feature `tokio-io`).
//!
//! With this feature, [`TcpStream`](super::TcpStream), `&TcpStream` and
//! the four halves (and, on the native runtime, `brisk::net::UnixStream`,
//! `&UnixStream` and their halves) implement `tokio::io::AsyncRead` and
//! `tokio::io::AsyncWrite` next to futures-io's traits (read halves only
//! the first, write halves only the second), so crates written against
//! tokio's traits (`tokio-util`'s codecs, `tokio-rustls`, ...) run over
//! Brisk sockets on a Brisk runtime. Both sets of traits go through the
//! same code: the same cooperative budget, the same wait-points.
//!
//! [`brisk::fs::File`](crate::fs::File) implements them too, and
//! `tokio::io::AsyncSeek`; the standard streams
//! ([`Stdin`](crate::io::Stdin), [`Stdout`](crate::io::Stdout),
//! [`Stderr`](crate::io::Stderr)) implement the one that fits.
//!
//! ```
//! use brisk::net::{TcpListener, TcpStream};
//! use tokio::io::{AsyncRead, AsyncWrite};
//!
//! fn tokio_io<T: AsyncRead + AsyncWrite + Unpin>(_: &T) {}
//!
//! # brisk::run(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let stream = TcpStream::connect(listener.local_addr()?).await?;
//! tokio_io(&stream);
//!
//! // A file, seekable the tokio way too.
//! fn tokio_file<T: AsyncRead + AsyncWrite + tokio::io::AsyncSeek + Unpin>(_: &T) {}
//! let path = std::env::temp_dir().join(format!("brisk-doc-tokio-io-{}", std::process::id()));
//! let file = brisk::fs::File::create(&path).await?;
//! tokio_file(&file);
//! drop(file);
//! brisk::fs::remove_file(&path).await?;
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```
//!
//! Reads go into the unfilled part of the `ReadBuf` as it is, initialised or
//! not (`TcpStreamIo::poll_read_uninit`): the native runtime reads straight
//! into it; a backend without that support zeroes it first. A buffer that is
//! spare capacity (`BytesMut`, fresh each read) is not zeroed on every read.
