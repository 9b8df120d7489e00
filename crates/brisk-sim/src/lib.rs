//! Brisk's deterministic simulator: run whole distributed systems — many
//! nodes, each with its own tasks, clock and random numbers — on one thread,
//! in virtual time, with a seeded scheduler, and replay any run from its
//! seed.
//!
//! The code under test is ordinary Brisk code: it spawns with
//! `brisk::spawn`, sleeps with `brisk::time`, draws numbers with
//! `brisk::rand` and talks through `brisk::sync` — no `#[cfg]`, no swapped
//! types. Each node is a runtime of its own as far as that code can tell.
//!
//! ```
//! use std::time::Duration;
//! use brisk::sim::Sim;
//! use brisk::sync::mpsc;
//!
//! let mut sim = Sim::builder().seed(0xB215C).build();
//! let (tx, mut rx) = mpsc::channel::<String>(16);
//!
//! // A server node: `init` runs at start and again after every restart.
//! sim.node("ticker").init(move || {
//!     let tx = tx.clone();
//!     async move {
//!         let mut n = 0;
//!         loop {
//!             brisk::time::sleep(Duration::from_secs(3600)).await; // an hour, simulated
//!             n += 1;
//!             if tx.send(format!("tick {n}")).await.is_err() {
//!                 return;
//!             }
//!         }
//!     }
//! });
//!
//! // A client: `run` returns when every client finished.
//! let client = sim.client("watcher", async move {
//!     let first = rx.recv().await.unwrap();
//!     let second = rx.recv().await.unwrap();
//!     (first, second, brisk::time::Instant::now().since_origin())
//! });
//!
//! sim.run().unwrap(); // two simulated hours take microseconds
//! let (first, second, at) = client.output();
//! assert_eq!((first.as_str(), second.as_str()), ("tick 1", "tick 2"));
//! assert_eq!(at, Duration::from_secs(7200));
//! ```
//!
//! # What is deterministic, and how
//! - **One thread.** Every task of every node runs on the thread that calls
//!   [`Sim::run`]. `spawn_blocking` closures run inline when their task is
//!   picked; `spawn_local` works everywhere.
//! - **A seeded scheduler** picks the next task among the ready tasks of
//!   all nodes: uniformly at random ([`Scheduler::Random`]) or by PCT
//!   ([`Scheduler::Pct`]). The ready set is kept in wake order; no decision
//!   depends on a hash map's iteration order or on an address.
//! - **Virtual, event-driven time.** When no task is ready, time jumps to
//!   the earliest timer, so cost grows with events, not simulated duration.
//!   Resolution is [`Builder::tick`] (1 µs by default, finer on request).
//!   Each node reads its own clock, optionally skewed
//!   ([`NodeBuilder::clock_skew`]) and drifting
//!   ([`NodeBuilder::clock_drift_ppm`]).
//! - **Seeded randomness.** `brisk::rand` on a node draws from a generator
//!   seeded from the simulation's seed and the node's name.
//!
//! A run that never lets virtual time pass (a livelock) is stopped by
//! [`Builder::step_limit`]; one that waits too long, by
//! [`Builder::time_limit`]. [`Sim::run_until`] takes a [`Deadline`]: a
//! `Duration` since the start, or a `brisk::time::Instant` of the run.
//!
//! What breaks determinism is whatever bypasses Brisk: `std::time::Instant`,
//! `std::thread`, other random generators, real sockets and files, globals.
//! [`Builder::check_determinism`] runs a seed twice and names the first task
//! whose scheduling differed.
//!
//! # Faults
//! [`Sim::crash`] drops every task of a node in place (its memory is gone),
//! [`Sim::restart`] runs its `init` again, [`Sim::pause`] /
//! [`Sim::resume`] freeze it. Inside the simulation, [`handle()`] does the
//! same from a client. [`buggify!`] marks fault points in the code under
//! test that fire only in the simulator; a build without brisk's `sim`
//! feature (which leaves this crate out) compiles them to `false`.
//!
//! # Disk
//! Every node has its own in-memory disk, served to `brisk::fs` on that
//! node; it survives [`Sim::crash`] and [`Sim::restart`], minus what was not
//! made durable with `sync_all` / `sync_data` (lost or torn, decided by the
//! seed). `brisk::fs::metadata` reports kinds, lengths and file times on
//! the node's virtual clock (from `UNIX_EPOCH`, so the same on every run).
//! [`Sim::disk`] injects `EIO`, `ENOSPC`, short reads and latency.
//! The [`disk`] module docs hold the model and an example.
//!
//! # Tests over many seeds
//! `#[brisk::test(sim, seeds = 200)]` runs an `async fn` test as a client of
//! a fresh simulation for seeds `0..200`; a failure prints the error and
//! one line that replays it exactly, e.g.
//! `BRISK_SEED=0x2a cargo test my_test`. With `BRISK_SEED` set, only that
//! seed runs. `#[brisk::test(sim)]` runs one seed.
//!
//! ```
//! #[brisk::test(sim, seeds = 20)]
//! async fn sleeps_are_exact() {
//!     let start = brisk::time::Instant::now();
//!     brisk::time::sleep(std::time::Duration::from_millis(250)).await;
//!     assert_eq!(start.elapsed(), std::time::Duration::from_millis(250));
//! }
//! # fn main() {}
//! ```
//!
//! # Network
//! `brisk::net` TCP and UDP sockets on a node talk over a simulated network
//! (see [`NetConfig`], [`Link`], [`Latency`]): every node has an IP
//! ([`NodeBuilder::ip`], or an assigned `10.0.x.y`) and host names resolve
//! to nodes by name. TCP is reliable, ordered and flow-controlled; UDP is
//! lost, duplicated and reordered per link. [`Sim::partition`],
//! [`Sim::partition_oneway`], [`Sim::heal`], [`Sim::clog`],
//! [`SimHandle::swizzle_clog`] and a crash are felt by both: held TCP segments, `TimedOut` after a long partition,
//! `ConnectionReset` after a crash. The [`net`] module docs hold the model
//! and an example:
//!
//! ```
//! use brisk::net::UdpSocket;
//! let mut sim = brisk::sim::Sim::builder().seed(5).build();
//! sim.node("pong").init(|| async {
//!     let sock = UdpSocket::bind("0.0.0.0:9").await.unwrap();
//!     let mut buf = [0; 16];
//!     loop {
//!         let (n, from) = sock.recv_from(&mut buf).await.unwrap();
//!         sock.send_to(&buf[..n], from).await.unwrap();
//!     }
//! });
//! let client = sim.client("ping", async {
//!     let sock = UdpSocket::bind("0.0.0.0:0").await.unwrap();
//!     brisk::time::sleep(std::time::Duration::from_millis(1)).await;
//!     sock.send_to(b"ping", "pong:9").await.unwrap();
//!     let mut buf = [0; 16];
//!     let (n, _) = sock.recv_from(&mut buf).await.unwrap();
//!     buf[..n].to_vec()
//! });
//! sim.run().unwrap();
//! assert_eq!(client.output(), b"ping");
//! ```
//!
//! # Not simulated yet
//! - **Network**: no bandwidth limits, no Unix sockets, no TCP keepalive
//!   (a reader waiting for data that a partition holds waits until the link
//!   heals or its sender times out), and no congestion control (a link's
//!   throughput is bounded only by the window and the latency).
//! - **Disk**: `brisk::fs` calls that need OS permissions, links or handles
//!   (`copy`, `canonicalize`, `hard_link`, `read_link`, `set_permissions`,
//!   `File::try_clone`) fail with kind `Unsupported` on a node; no
//!   permissions, symlinks or directory times (file times are kept, on the
//!   node's virtual clock); files hold at most 1 GiB; unsynced directory
//!   changes are all lost in a crash (never partly kept); a crash never
//!   interrupts an operation halfway (see [`disk`]).

#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

#[doc(hidden)]
#[path = "test_support.rs"]
pub mod __private;
pub mod buggify;
mod deadline;
pub mod disk;
mod error;
mod handle;
pub mod net;
mod node;
mod sim;
mod trace;
mod world;

pub use deadline::Deadline;
pub use disk::{DiskFault, SimDisk};
pub use error::SimError;
pub use handle::{handle, try_handle, SimHandle};
pub use net::{Latency, Link, NetConfig};
pub use sim::{Builder, Client, NodeBuilder, Sim};
pub use trace::{Divergence, TraceEvent};
pub use world::{Scheduler, PCT_HORIZON};
