//! Async I/O traits and utilities.
//!
//! # Why futures-io's traits
//! [`AsyncRead`], [`AsyncWrite`], [`AsyncBufRead`] and [`AsyncSeek`] are the
//! traits of the `futures-io` crate, re-exported. They are tiny, stable,
//! object-safe (`Box<dyn AsyncRead + Send + Unpin>` works), owned by no
//! runtime, and already spoken by every executor-agnostic crate; defining our
//! own would split the ecosystem once more. Brisk's I/O types also implement
//! tokio's traits behind the `tokio-io` feature.

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
