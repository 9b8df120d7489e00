//! Async I/O traits and utilities.
//!
//! ```
//! use brisk::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Cursor};
//!
//! # brisk::run(async {
//! let mut lines = BufReader::new(Cursor::new("GET /\r\nHost: x\n")).lines();
//! let mut out = Vec::new();
//! while let Some(line) = lines.next_line().await? {
//!     out.write_all(line.to_uppercase().as_bytes()).await?;
//!     out.write_all(b";").await?;
//! }
//! assert_eq!(out, b"GET /;HOST: X;");
//! # Ok::<(), brisk::io::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Why futures-io's traits
//! [`AsyncRead`], [`AsyncWrite`], [`AsyncBufRead`] and [`AsyncSeek`] are the
//! traits of the `futures-io` crate, re-exported. They are tiny, stable,
//! object-safe (`Box<dyn AsyncRead + Send + Unpin>` works), owned by no
//! runtime, and already spoken by every executor-agnostic crate; defining our
//! own would split the ecosystem once more. Brisk's I/O types (TCP and Unix
//! streams and their halves, [`File`](crate::fs::File), [`Stdin`],
//! [`Stdout`], [`Stderr`]) also implement tokio's `AsyncRead`,
//! `AsyncWrite` and (files) `AsyncSeek` behind the `tokio-io` feature, so
//! crates written against tokio's traits (tokio-util's codecs, ...) run
//! over them.
//!
//! # What is here
//! - extension traits with the `async fn`-style methods:
//!   [`AsyncReadExt`], [`AsyncWriteExt`], [`AsyncBufReadExt`],
//!   [`AsyncSeekExt`]; each method returns a nameable future and says in a
//!   "Cancel safety:" paragraph what dropping that future loses;
//! - buffering: [`BufReader`], [`BufWriter`], and line or segment streams
//!   ([`Lines`], [`Split`]);
//! - plumbing: [`copy`], [`copy_buf`], [`split`] into a [`ReadHalf`] and a
//!   [`WriteHalf`], [`empty`], [`sink`], [`repeat`], and an in-memory
//!   [`Cursor`].
//!
//! # Runtime-agnostic
//! Everything in this module only polls the reader or writer it wraps: no
//! runtime is needed beyond whatever that reader needs, so the same code runs
//! under Brisk, tokio, or `futures::executor::block_on`. In particular these
//! futures do not spend Brisk's cooperative budget themselves; copying from a
//! source that is always ready to a sink that is always ready (say
//! [`repeat`] into [`sink`]) never yields.

mod adapters;
mod buf_read;
mod buf_reader;
mod buf_writer;
mod copy;
mod cursor;
mod error;
mod lines;
mod read;
mod seek;
mod split;
mod stdio;
#[cfg(feature = "tokio-io")]
pub(crate) mod tokio_io;
mod util;
mod write;

#[cfg(test)]
mod test_util;

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use std::io::{Error, ErrorKind, IoSlice, IoSliceMut, Result, SeekFrom};

pub use adapters::{Chain, Take};
pub use buf_read::{AsyncBufReadExt, FillBuf, ReadLine, ReadUntil};
pub use buf_reader::BufReader;
pub use buf_writer::BufWriter;
pub use copy::{copy, copy_buf, Copy, CopyBuf};
pub use cursor::Cursor;
pub use lines::{Lines, NextLine, NextSegment, Split};
pub use read::{AsyncReadExt, Read, ReadExact, ReadToEnd, ReadToString, ReadVectored};
pub use seek::{AsyncSeekExt, Seek};
pub use split::{split, ReadHalf, WriteHalf};
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
pub use util::{empty, repeat, sink, Empty, Repeat, Sink};
pub use write::{AsyncWriteExt, Close, Flush, Write, WriteAll, WriteAllVectored, WriteVectored};

/// The default capacity of [`BufReader`], [`BufWriter`] and [`copy`]'s buffer.
const DEFAULT_BUF_SIZE: usize = 8 * 1024;
