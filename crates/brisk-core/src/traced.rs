//! Await chains: which `#[brisk::traced]` functions a waiting task is in.
//!
//! A wait-point says where the innermost leaf future waits ("`Mutex` #7 at
//! `src/db.rs:42`"). For a deep call graph that is not enough: which request
//! handler, through which helpers, got there? Functions marked
//! `#[brisk::traced]` answer it. While such a function's future is polled it
//! sits on a per-thread stack of *frames*; when a leaf future records its
//! wait-point, the frames on the stack are recorded with it, outermost first.
//! A dump then prints the chain:
//!
//! ```text
//! waits on Mutex #7 at src/db.rs:42
//!   in shop::checkout (src/shop.rs:10) → shop::reserve (src/shop.rs:31) → db::query (src/db.rs:12)
//! ```
//!
//! # Cost
//! Untraced code pays one thread-local read per recorded wait-point (the
//! frame depth, zero). A traced function's poll pushes and pops one pointer. A wait recorded under traced frames looks its chain
//! up in a per-thread cache; the first time a (chain, wait location) pair is
//! seen it is interned process-wide, once, for the life of the process — the
//! number of distinct pairs is bounded by the program's call paths. Chains
//! deeper than [`MAX_DEPTH`] keep their outermost frames; past
//! [`MAX_SITES`] distinct pairs, new ones are recorded without a chain.
//!
//! ```
//! #[brisk::traced]
//! async fn reserve(lock: &brisk::sync::Mutex<u32>) -> u32 {
//!     let mut stock = lock.lock().await;
//!     *stock -= 1;
//!     *stock
//! }
//!
//! # brisk::run(async {
//! let lock = std::sync::Arc::new(brisk::sync::Mutex::new(10));
//! let guard = lock.lock().await; // hold it, so `reserve` waits
//! let l2 = lock.clone();
//! let task = brisk::task::Builder::new()
//!     .name("checkout")
//!     .spawn(async move { reserve(&l2).await });
//! brisk::task::yield_now().await;
//!
//! let dump = brisk::diag::dump();
//! let t = dump.tasks.iter().find(|t| t.name.as_deref() == Some("checkout")).unwrap();
//! let wait = t.waiting_on.as_ref().unwrap();
//! assert!(wait.chain[0].name.ends_with("reserve"));
//! drop(guard);
//! assert_eq!(task.await.unwrap(), 9);
//! # });
//! ```

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

/// How many frames a chain keeps (the outermost ones).
pub const MAX_DEPTH: usize = 32;

/// How many distinct (chain, wait location) pairs are interned before new
/// ones are recorded without their chain.
pub const MAX_SITES: usize = 1 << 16;

/// A function marked `#[brisk::traced]`: its name and where it is defined.
///
/// The attribute creates one `static` frame per function; the frame's
/// address identifies it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// The function's path, `module::function` (or the `name = "..."` given
    /// to the attribute).
    pub name: &'static str,
    /// The source file.
    pub file: &'static str,
    /// The line of the function's name.
    pub line: u32,
    /// The column of the function's name.
    pub column: u32,
}

impl Frame {
    /// A frame; used by `#[brisk::traced]`.
    pub const fn new(name: &'static str, file: &'static str, line: u32, column: u32) -> Frame {
        Frame {
            name,
            file,
            line,
            column,
        }
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}:{}:{})",
            self.name, self.file, self.line, self.column
        )
    }
}

pin_project_lite::pin_project! {
    /// A future that puts its [`Frame`] on the thread's frame stack while it
    /// is polled. Made by `#[brisk::traced]` (or [`traced`] by hand).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Traced<F> {
        frame: &'static Frame,
        #[pin]
        fut: F,
    }
}

/// Wraps `fut` so that waits inside it record `frame` in their await chain.
///
/// The type parameter `T` names the output, so that the wrapped block's
/// `return`s and `?`s are checked against the function's declared return
/// type.
pub fn traced<F: Future<Output = T>, T>(frame: &'static Frame, fut: F) -> Traced<F> {
    Traced { frame, fut }
}

impl<F: Future> Future for Traced<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _pushed = push(this.frame);
        this.fut.poll(cx)
    }
}

/// The frames of the functions being polled on this thread.
struct Stack {
    depth: Cell<usize>,
    frames: [Cell<*const Frame>; MAX_DEPTH],
}

thread_local! {
    static STACK: Stack = const {
        Stack {
            depth: Cell::new(0),
            frames: [const { Cell::new(std::ptr::null()) }; MAX_DEPTH],
        }
    };
}

/// Pops its frame when dropped (also when the poll panics).
struct Pushed(bool);

fn push(frame: &'static Frame) -> Pushed {
    Pushed(
        STACK
            .try_with(|s| {
                let d = s.depth.get();
                if let Some(slot) = s.frames.get(d) {
                    slot.set(frame);
                }
                s.depth.set(d + 1);
            })
            .is_ok(),
    )
}

impl Drop for Pushed {
    fn drop(&mut self) {
        if self.0 {
            let _ = STACK.try_with(|s| s.depth.set(s.depth.get().saturating_sub(1)));
        }
    }
}

/// A wait location together with the chain it was reached through; interned
/// for the life of the process.
#[derive(Debug)]
pub(crate) struct Site {
    pub(crate) location: &'static Location<'static>,
    pub(crate) chain: &'static [&'static Frame],
}

/// The interned site for `location` under the current frames, or `None` when
/// no traced function is being polled on this thread (the common case:
/// one thread-local read).
#[inline]
pub(crate) fn site(location: &'static Location<'static>) -> Option<&'static Site> {
    let depth = STACK.try_with(|s| s.depth.get()).unwrap_or(0);
    if depth == 0 {
        return None;
    }
    site_slow(location, depth.min(MAX_DEPTH))
}

#[cold]
fn site_slow(location: &'static Location<'static>, depth: usize) -> Option<&'static Site> {
    let frames: Vec<&'static Frame> = STACK
        .try_with(|s| {
            s.frames[..depth]
                .iter()
                // SAFETY: slots below `depth` hold pointers stored from
                // `&'static Frame`s by `push`.
                .map(|c| unsafe { &*c.get() })
                .collect()
        })
        .ok()?;
    let key = key_of(location, &frames);
    thread_local! {
        static CACHE: RefCell<HashMap<u64, Vec<&'static Site>>> = RefCell::new(HashMap::new());
    }
    let matches = |s: &&'static Site| {
        std::ptr::eq(s.location, location)
            && s.chain.len() == frames.len()
            && s.chain
                .iter()
                .zip(&frames)
                .all(|(a, b)| std::ptr::eq(*a, *b))
    };
    if let Ok(Some(hit)) = CACHE.try_with(|c| {
        c.borrow()
            .get(&key)
            .and_then(|v| v.iter().find(|s| matches(s)).copied())
    }) {
        return Some(hit);
    }
    /// Interned sites by key, and how many there are.
    struct Interned {
        count: usize,
        map: Option<HashMap<u64, Vec<&'static Site>>>,
    }
    static SITES: Mutex<Interned> = Mutex::new(Interned {
        count: 0,
        map: None,
    });
    let mut sites = SITES.lock().unwrap_or_else(|e| e.into_inner());
    let Interned { count, map } = &mut *sites;
    let bucket = map.get_or_insert_with(HashMap::new).entry(key).or_default();
    let found = match bucket.iter().find(|s| matches(s)) {
        Some(s) => *s,
        None => {
            if *count >= MAX_SITES {
                return None;
            }
            *count += 1;
            let site: &'static Site = Box::leak(Box::new(Site {
                location,
                chain: Box::leak(frames.into_boxed_slice()),
            }));
            bucket.push(site);
            site
        }
    };
    drop(sites);
    let _ = CACHE.try_with(|c| c.borrow_mut().entry(key).or_default().push(found));
    Some(found)
}

fn key_of(location: &'static Location<'static>, frames: &[&'static Frame]) -> u64 {
    // FNV-1a over the addresses: the key only picks a bucket, equality is
    // checked on the pointers themselves.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |v: usize| {
        h ^= v as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    mix(location as *const _ as usize);
    for f in frames {
        mix(*f as *const _ as usize);
    }
    h
}
