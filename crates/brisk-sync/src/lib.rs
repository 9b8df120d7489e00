//! Synchronisation primitives and channels for async Rust that work on any
//! executor, are fair and cancel-safe, and can say who holds what.
//!
//! ```
//! use brisk::sync::{mpsc, Mutex};
//! use std::sync::Arc;
//!
//! # brisk::run(async {
//! let total = Arc::new(Mutex::new(0u64));
//! let (tx, mut rx) = mpsc::channel(16);
//! for i in 0..4u64 {
//!     let tx = tx.clone();
//!     brisk::spawn(async move { tx.send(i).await.unwrap() });
//! }
//! drop(tx);
//! while let Some(i) = rx.recv().await {
//!     *total.lock().await += i;
//! }
//! assert_eq!(*total.lock().await, 6);
//! # });
//! ```
//!
//! # On any executor
//! Everything here relies only on [`Waker`](std::task::Waker)s: the same types
//! work under Brisk's runtimes, under tokio, and under
//! `futures::executor::block_on`. Plain threads use the `*_blocking` methods
//! (`blocking_lock`, `send_blocking`, `recv_blocking`).
//!
//! # Fairness and cancel safety
//! [`Mutex`], [`RwLock`] and [`Semaphore`] serve waiters in arrival order (a
//! waiting writer blocks later readers, so writers never starve). Every
//! acquire, send and receive future can be dropped at any `.await` without
//! losing a permit, a message or a wake-up; each method's docs say exactly
//! what dropping it means.
//!
//! # Introspection
//! Every primitive is a resource with a kind and an id. A task waiting on one
//! has its wait-point set to it (`Mutex #12 at src/inventory.rs:42`), and
//! `Mutex`, `RwLock` and `Semaphore` record their holders, so a dump can say
//! "task #17 waits on Mutex #12, held by task #9". Recording is a store or
//! two and is always on. See [`brisk_core::wait::holders_of`].
//!
//! # Why hand-written
//! The waiter queue, the fair semaphore under the locks, and the channels are
//! written here rather than taken from a crate because they must record
//! wait-points and holders, and because the simulator needs their wake-ups to
//! be plain waker calls with no background threads or global state.

#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

mod barrier;
mod blocking;
mod cancel_safe;
mod error;
pub(crate) use brisk_core::loom;
mod mutex;
mod notify;
mod once_cell;
mod raw_semaphore;
mod resource;
mod rwlock;
mod semaphore;
mod waiters;

pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use mutex::{Lock, LockOwned, Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify, OwnedNotified};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, Read, ReadOwned, RwLock, RwLockReadGuard,
    RwLockWriteGuard, Write, WriteOwned,
};
pub use semaphore::{
    Acquire, AcquireError, AcquireOwned, OwnedSemaphorePermit, Semaphore, SemaphorePermit,
    TryAcquireError,
};
