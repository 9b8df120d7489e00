//! Combinators: running several futures at once inside one task.
//!
//! Nothing here spawns. The futures run concurrently in the task that awaits
//! the combinator, interleaving at their `.await` points, and share its
//! cooperative budget. Spawn tasks (`brisk::spawn`) for parallelism across
//! threads.
//!
//! | you want | use |
//! |---|---|
//! | all outputs of a few futures of different types | [`join!`](crate::join) |
//! | the same, stopping at the first `Err` | [`try_join!`](crate::try_join) |
//! | all outputs of many futures of one type, in order | [`join_all`], [`try_join_all`] |
//! | whichever of two (or many) futures finishes first | [`race`], [`race_all`] |
//! | the first of several events, each with its own handler, in a loop | [`select!`](crate::select) |
//! | a changing set of futures, outputs as they finish | [`FutureSet`] |
//!
//! # `join!`: all of them
//! ```
//! use std::time::Duration;
//!
//! # brisk::run(async {
//! async fn price(item: &str) -> u32 {
//!     brisk::time::sleep(Duration::from_millis(2)).await;
//!     item.len() as u32
//! }
//! let (apple, available) = brisk::join!(price("apple"), async { true });
//! assert_eq!((apple, available), (5, true));
//! # });
//! ```
//!
//! # `try_join!`: all of them, or the first error
//! The other futures are dropped as soon as one fails.
//! ```
//! # brisk::run(async {
//! async fn fetch(id: u32) -> Result<u32, String> {
//!     if id == 0 { Err("no such id".into()) } else { Ok(id * 10) }
//! }
//! assert_eq!(brisk::try_join!(fetch(1), fetch(2)), Ok((10, 20)));
//! assert_eq!(brisk::try_join!(fetch(1), fetch(0)), Err("no such id".to_string()));
//! # });
//! ```
//!
//! # `join_all`: many of one type
//! Outputs come back in input order; the cost follows the number of wakes,
//! not the number of futures squared.
//! ```
//! # brisk::run(async {
//! let squares = brisk::future::join_all((1..=4).map(|i| async move { i * i })).await;
//! assert_eq!(squares, [1, 4, 9, 16]);
//! # });
//! ```
//!
//! # `race`: the first one
//! ```
//! use std::time::Duration;
//!
//! # brisk::run(async {
//! let answer = brisk::future::race(
//!     async { brisk::time::sleep(Duration::from_secs(10)).await; "primary" },
//!     async { "replica" },
//! ).await;
//! assert_eq!(answer, "replica");
//! # });
//! ```
//!
//! # `select!`: the first event, in a loop
//! Branches must be [`CancelSafe`]: futures that lose nothing when a
//! different branch wins and they are dropped. This is checked at compile
//! time; the trait's docs show how to keep any other future alive across
//! iterations by pinning it and passing `&mut fut`.
//! ```
//! use brisk::sync::mpsc;
//! use std::pin::pin;
//! use std::time::Duration;
//!
//! # brisk::run(async {
//! let (tx, mut rx) = mpsc::channel(8);
//! brisk::spawn(async move {
//!     for job in ["a", "b"] {
//!         tx.send(job).await.unwrap();
//!     }
//! });
//! // One deadline for the whole loop: pinned once, borrowed by each select!.
//! let mut deadline = pin!(brisk::time::sleep(Duration::from_secs(5)));
//! let mut done = Vec::new();
//! loop {
//!     brisk::select! {
//!         job = rx.recv() => match job {
//!             Some(job) => done.push(job),
//!             None => break, // closed: every job is in
//!         },
//!         _ = &mut deadline => panic!("took too long"),
//!     }
//! }
//! assert_eq!(done, ["a", "b"]);
//! # });
//! ```
//!
//! # `FutureSet`: a changing set
//! ```
//! use brisk::future::FutureSet;
//!
//! # brisk::run(async {
//! let mut set = FutureSet::new();
//! for n in [3u64, 1, 2] {
//!     set.push(async move {
//!         brisk::time::sleep(std::time::Duration::from_millis(n * 5)).await;
//!         n
//!     });
//! }
//! let mut order = Vec::new();
//! while let Some((_key, n)) = set.next().await {
//!     order.push(n);
//! }
//! assert_eq!(order, [1, 2, 3]);
//! # });
//! ```
//!
//! # Large futures
//! See [`BOX_FUTURE_THRESHOLD`] for which futures Brisk moves to the heap
//! and why `join!` and `select!` keep theirs inline.

mod join;
mod race;
mod select;
mod set;

pub use join::{join_all, try_join_all, JoinAll, TryJoinAll};
pub use race::{race, race_all, Race, RaceAll};
pub use select::CancelSafe;
pub use set::{FutureSet, LocalFutureSet, Next, PollNext};

/// Futures larger than this many bytes are boxed before Brisk stores them.
///
/// Moving a future copies all of its bytes, and a future that holds big
/// buffers or deep `async fn` call chains can reach tens of kilobytes (more
/// in debug builds, where layouts are not optimised); moving it through a few
/// stack frames can overflow a thread's stack. So:
///
/// - **spawning** (`brisk::spawn`, `spawn_local`, `task::Builder::spawn*`,
///   `Handle::spawn`): a larger future is moved into its own box before the
///   task cell is built, so the task cell stays small and the future is not
///   copied again. The check is on `size_of::<F>()`, a constant: the branch
///   is compiled away. `handle.task().is_future_boxed()` (and
///   `future_size()`) tell what spawn did with a task's future;
/// - **`Runtime::block_on`** (and `brisk::run`, which calls it): a larger
///   future is boxed on entry, before it is handed to the scheduler loop.
///
/// Not boxed: `join!`, `try_join!`, `select!` and [`race`] keep their futures
/// inline, inside the combinator's own future (which is itself stored in a
/// task, and so boxed by the rule above when it is large). Boxing a branch
/// conditionally would need a type whose size depends on `size_of::<F>()`,
/// which stable Rust cannot express; the branches are never moved after the
/// first poll. [`join_all`], [`race_all`] and [`FutureSet`] box every future
/// anyway. If one branch is large, box it yourself with `Box::pin(fut)` (in
/// `select!`, pin it outside and pass `&mut fut`).
///
/// The value is 16 KiB in release builds and 2 KiB with debug assertions.
///
/// # Examples
/// ```
/// let big = async {
///     let buffer = [0u8; 64 * 1024];
///     brisk::task::yield_now().await;
///     buffer.iter().map(|&b| b as usize).sum::<usize>()
/// };
/// assert!(std::mem::size_of_val(&big) > brisk::future::BOX_FUTURE_THRESHOLD);
/// # brisk::run(async {
/// // Spawned on the heap, not copied through the stack.
/// let task = brisk::spawn(big);
/// assert!(task.task().is_future_boxed());
/// assert_eq!(task.await.unwrap(), 0);
/// # });
/// ```
pub const BOX_FUTURE_THRESHOLD: usize = if cfg!(debug_assertions) {
    2 * 1024
} else {
    16 * 1024
};

/// What the `join!`, `try_join!` and `select!` macros expand to. Not a
/// public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use super::join::{Join, MaybeDone, Slots, TryFuture, TryJoin, TrySlots};
    pub use super::select::{cancel_safe, random_start};
    pub use crate::error::SELECT_ALL_DISABLED;
}

#[cfg(all(test, not(loom)))]
pub(crate) mod tests_support {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread::Thread;

    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// Polls `future` on this thread, parking between polls (no runtime).
    pub(crate) fn block_on_local<F: Future>(future: F) -> F::Output {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }
}
