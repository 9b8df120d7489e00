//! A small library written once against `brisk` only: a Redis-protocol
//! (RESP2) key-value server and client ([`resp`]) and a token-bucket rate
//! limiter ([`rate_limit`]) that offers the same logic to `Send` and
//! `!Send` users.
//!
//! Nothing here names a runtime. The same code runs
//! - in a Brisk application (`examples/portable_brisk.rs`),
//! - inside a tokio application through `brisk::compat::tokio`
//!   (`examples/portable_tokio.rs`),
//! - in the simulator, with virtual time, partitions and crashes
//!   (`tests/portable_library.rs`).
//!
//! What makes it portable (see the library authors' chapter, `brisk::guide`):
//! time comes from `brisk::time` (never `std::time::Instant` or a thread
//! sleep), sockets from `brisk::net`, tasks from `brisk::spawn`, and nothing
//! blocks inside async code.

pub mod rate_limit;
pub mod resp;
