//! `select!` and [`CancelSafe`]: waiting on several futures, taking the
//! first that finishes, without silently losing the others' work.

use std::future::Future;
use std::pin::Pin;

/// A future that can be dropped before it finishes without losing anything:
/// the only kind [`select!`](crate::select) accepts in a branch.
///
/// `select!` drops every losing branch's future. For a future like
/// `read_exact`, that throws away the bytes it already read; for
/// `Sender::send`, the message. Such futures do not implement
/// `CancelSafe`, so the mistake is a compile error instead of a rare data
/// loss in production.
///
/// # Which futures are cancel-safe
/// - `&mut F` (with `F: Future + Unpin`) and `Pin<&mut F>`: the branch only
///   borrows the future, which lives on and can be polled again by the next
///   `select!`;
/// - Brisk's leaf futures whose docs say "Cancel safety: cancel-safe" (or
///   "dropping the future loses nothing"): `sleep`, `Interval::tick`,
///   `TcpListener::accept`, `TcpStream::{ready, readable, writable}`,
///   `UdpSocket::{recv, recv_from}`, `Lines::next_line`,
///   `Split::next_segment`, `AsyncReadExt::{read, read_vectored}`,
///   `AsyncWriteExt::{write, write_vectored, flush, close}`,
///   `AsyncBufReadExt::fill_buf`, `yield_now`,
///   [`FutureSet::next`](super::FutureSet::next); in `brisk::sync`: the
///   channels' `recv` and `closed`, `mpsc::Sender::reserve`,
///   `watch::Receiver::changed`, `Notify::notified`, and the lock and permit
///   futures of `Mutex`, `RwLock` and `Semaphore`;
/// - [`Timeout<F>`](crate::time::Timeout) and
///   [`Unconstrained<F>`](crate::coop::Unconstrained) when `F` is.
///
/// Deliberately **not** cancel-safe by value: `JoinHandle` (a finished
/// task's output would be dropped with it; pass `&mut handle`),
/// `oneshot::Receiver` (pass `&mut rx`), `Pin<Box<F>>` (dropping the box
/// drops the future; pass `&mut boxed` or `boxed.as_mut()`), `async` blocks
/// and `async fn` calls (the compiler cannot see what they hold), and
/// `read_exact`, `write_all`, `read_line`, `mpsc::Sender::send`.
///
/// # Fixing "... is not cancel-safe"
/// Create the future once, before the loop, pin it, and give `select!` a
/// `&mut` to it. The future then survives a losing branch and keeps its
/// progress across loop iterations:
///
/// ```
/// use brisk::io::AsyncReadExt;
/// use brisk::sync::mpsc;
/// use std::pin::pin;
///
/// # brisk::run(async {
/// let (tx, mut rx) = mpsc::channel::<&str>(4);
/// tx.send("tick").await.unwrap();
/// let mut input: &[u8] = b"abcd";
/// let mut buf = [0u8; 4];
/// let mut read = pin!(input.read_exact(&mut buf)); // pinned outside the loop
/// let mut ticks = 0;
/// loop {
///     brisk::select! {
///         biased;
///         Some(_) = rx.recv() => ticks += 1,   // cancel-safe by value
///         res = &mut read => {                 // kept alive by `&mut`
///             res.unwrap();
///             break;
///         }
///     }
/// }
/// assert_eq!((ticks, &buf), (1, b"abcd"));
/// # });
/// ```
///
/// The same code with `input.read_exact(&mut buf)` written directly in the
/// branch does not compile (error: "`ReadExact<'_, &[u8]>` is not
/// cancel-safe, so `brisk::select!` cannot use it as a branch"):
///
/// ```compile_fail
/// use brisk::io::AsyncReadExt;
///
/// # brisk::run(async {
/// let mut input: &[u8] = b"abcd";
/// let mut buf = [0u8; 4];
/// brisk::select! {
///     res = input.read_exact(&mut buf) => res.unwrap(),
///     _ = brisk::time::sleep(std::time::Duration::from_secs(1)) => {}
/// }
/// # });
/// ```
///
/// # Implementing it
/// Implement `CancelSafe` for your own future only if dropping it at any
/// `Pending` loses no data, no wake-up and no progress that the caller
/// cannot get back; say so in its docs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not cancel-safe, so `brisk::select!` cannot use it as a branch (trait `CancelSafe`)",
    label = "dropping this future when another branch wins could lose data",
    note = "create the future before the loop, pin it with `let mut fut = std::pin::pin!(...);`, \
and write `&mut fut` in the branch: it then survives losing branches",
    note = "the docs of `brisk::future::CancelSafe` list the futures that are cancel-safe by value"
)]
pub trait CancelSafe: Future {}

impl<F: Future + Unpin + ?Sized> CancelSafe for &mut F {}
impl<F: Future + ?Sized> CancelSafe for Pin<&mut F> {}
impl<T> CancelSafe for std::future::Pending<T> {}
impl<F: CancelSafe> CancelSafe for crate::time::Timeout<F> {}
impl<F: CancelSafe> CancelSafe for crate::coop::Unconstrained<F> {}
impl CancelSafe for crate::time::Sleep {}
impl CancelSafe for crate::time::Tick<'_> {}
impl CancelSafe for crate::task::YieldNow {}
impl<T> CancelSafe for crate::task::JoinNext<'_, T> {}
impl CancelSafe for crate::net::Accept<'_> {}
impl CancelSafe for crate::net::ReadyFuture<'_> {}
impl CancelSafe for crate::net::UdpRecv<'_> {}
impl CancelSafe for crate::net::UdpRecvFrom<'_> {}
impl<S: super::PollNext> CancelSafe for super::Next<'_, S> {}
impl<R: crate::io::AsyncBufRead + Unpin> CancelSafe for crate::io::NextLine<'_, R> {}
impl<R: crate::io::AsyncBufRead + Unpin> CancelSafe for crate::io::NextSegment<'_, R> {}
impl<R: crate::io::AsyncBufRead + Unpin + ?Sized> CancelSafe for crate::io::FillBuf<'_, R> {}
impl<R: crate::io::AsyncRead + Unpin + ?Sized> CancelSafe for crate::io::Read<'_, R> {}
impl<R: crate::io::AsyncRead + Unpin + ?Sized> CancelSafe for crate::io::ReadVectored<'_, R> {}
impl<W: crate::io::AsyncWrite + Unpin + ?Sized> CancelSafe for crate::io::Write<'_, W> {}
impl<W: crate::io::AsyncWrite + Unpin + ?Sized> CancelSafe for crate::io::WriteVectored<'_, W> {}
impl<W: crate::io::AsyncWrite + Unpin + ?Sized> CancelSafe for crate::io::Flush<'_, W> {}
impl<W: crate::io::AsyncWrite + Unpin + ?Sized> CancelSafe for crate::io::Close<'_, W> {}

/// Checks at compile time that a `select!` branch is cancel-safe.
#[doc(hidden)]
#[inline(always)]
pub fn cancel_safe<F: CancelSafe>(future: F) -> F {
    future
}

/// A branch to start polling at: a pseudo-random start keeps `select!`
/// fair. A thread-local xorshift seeded from a fixed constant, so
/// single-threaded runs (the simulator) stay reproducible.
#[doc(hidden)]
pub fn random_start(n: u32) -> u32 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u32> = const { Cell::new(0x9E37_79B9) };
    }
    let x = STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s.set(x);
        x
    });
    // Multiply-shift maps 32 random bits onto 0..n without a division.
    ((u64::from(x) * u64::from(n)) >> 32) as u32
}

/// Waits on several futures at once, runs the handler of the first that
/// finishes, and drops the others.
///
/// ```text
/// brisk::select! {
///     biased;                                    // optional: poll in order
///     <pattern> = <future> => <handler>,
///     <pattern> = <future>, if <condition> => <handler>,
///     else => <handler>,                         // optional
/// }
/// ```
///
/// - Every `<future>` must be [`CancelSafe`](crate::future::CancelSafe),
///   checked at compile time: losing branches are dropped, and only futures
///   that lose nothing that way are allowed. To keep a future's progress
///   across loop iterations, pin it before the loop and pass `&mut fut`.
/// - All the futures are created first, then polled together in the current
///   task; nothing needs pinning. They are held inline, not boxed (see
///   [`BOX_FUTURE_THRESHOLD`](crate::future::BOX_FUTURE_THRESHOLD)). Without `biased;`, each poll starts at a
///   pseudo-randomly chosen branch, so no branch starves the others; with
///   `biased;` they are polled top to bottom.
/// - When a future finishes, its output is matched against `<pattern>`. On a
///   match, the other futures are dropped and the handler runs (it may use
///   `.await`, `break`, `continue` and `return` of the enclosing code). If
///   the pattern does not match, the value is dropped, that branch is
///   disabled for the rest of this `select!`, and the others keep going.
///   Patterns are first tested against a reference to the output, so a
///   by-value `mut` binding needs a `Copy` type (bind without `mut` and
///   rebind in the handler otherwise).
/// - A branch whose `if <condition>` is false starts disabled (its future is
///   still created, never polled).
/// - When every branch is disabled, `else` runs; without `else`, that
///   panics.
/// - The value of `select!` is the value of the handler that ran; at most
///   64 branches.
///
/// # Panics
/// When every branch is disabled and there is no `else` branch.
///
/// # Examples
/// Merging two channels until both are closed: a closed channel's `recv`
/// gives `None`, which does not match `Some(_)`, so its branch is disabled;
/// once both are, `else` breaks the loop.
/// ```
/// use brisk::sync::mpsc;
///
/// # brisk::run(async {
/// let (tx_a, mut a) = mpsc::channel(8);
/// let (tx_b, mut b) = mpsc::channel(8);
/// brisk::spawn(async move {
///     for i in 0..3 {
///         tx_a.send(i).await.unwrap();
///         tx_b.send(i + 10).await.unwrap();
///     }
/// });
/// let mut got = Vec::new();
/// loop {
///     brisk::select! {
///         Some(i) = a.recv() => got.push(i),
///         Some(i) = b.recv() => got.push(i),
///         else => break,
///     }
/// }
/// got.sort();
/// assert_eq!(got, [0, 1, 2, 10, 11, 12]);
/// # });
/// ```
///
/// Note that `else` runs only when *every* branch is disabled: a timer
/// branch next to a closed channel keeps the `select!` waiting for the
/// timer. Match on `None` explicitly when a closed channel should end a loop
/// that also has a timer (see the [module docs](crate::future)).
#[macro_export]
macro_rules! select {
    // ---- normalise: each branch becomes
    // [index Variant Type (skip..) (pattern) (future) (condition) (handler)]
    (@parse $b:tt [$($done:tt)*] [$($idx:tt)*] [$($skip:tt)*] [$($else:tt)*]) => {
        $crate::select!(@emit $b [$($done)*] [$($else)*])
    };
    (@parse $b:tt [$($done:tt)*] [$($idx:tt)*] [$($skip:tt)*] []
        else => $e:expr $(,)?) => {
        $crate::select!(@parse $b [$($done)*] [$($idx)*] [$($skip)*] [$e])
    };
    (@parse $b:tt [$($done:tt)*] [($i:tt $v:ident $t:ident) $($idx:tt)*] [$($skip:tt)*] []
        $p:pat = $f:expr, if $c:expr => $h:block, $($rest:tt)*) => {
        $crate::select!(@parse $b [$($done)* [$i $v $t ($($skip)*) ($p) ($f) ($c) ($h)]]
            [$($idx)*] [$($skip)* _] [] $($rest)*)
    };
    (@parse $b:tt [$($done:tt)*] [($i:tt $v:ident $t:ident) $($idx:tt)*] [$($skip:tt)*] []
        $p:pat = $f:expr, if $c:expr => $h:block $($rest:tt)*) => {
        $crate::select!(@parse $b [$($done)* [$i $v $t ($($skip)*) ($p) ($f) ($c) ($h)]]
            [$($idx)*] [$($skip)* _] [] $($rest)*)
    };
    (@parse $b:tt [$($done:tt)*] [($i:tt $v:ident $t:ident) $($idx:tt)*] [$($skip:tt)*] []
        $p:pat = $f:expr, if $c:expr => $h:expr $(, $($rest:tt)*)?) => {
        $crate::select!(@parse $b [$($done)* [$i $v $t ($($skip)*) ($p) ($f) ($c) ($h)]]
            [$($idx)*] [$($skip)* _] [] $($($rest)*)?)
    };
    (@parse $b:tt [$($done:tt)*] [($i:tt $v:ident $t:ident) $($idx:tt)*] [$($skip:tt)*] []
        $p:pat = $f:expr => $h:block, $($rest:tt)*) => {
        $crate::select!(@parse $b [$($done)* [$i $v $t ($($skip)*) ($p) ($f) (true) ($h)]]
            [$($idx)*] [$($skip)* _] [] $($rest)*)
    };
    (@parse $b:tt [$($done:tt)*] [($i:tt $v:ident $t:ident) $($idx:tt)*] [$($skip:tt)*] []
        $p:pat = $f:expr => $h:block $($rest:tt)*) => {
        $crate::select!(@parse $b [$($done)* [$i $v $t ($($skip)*) ($p) ($f) (true) ($h)]]
            [$($idx)*] [$($skip)* _] [] $($rest)*)
    };
    (@parse $b:tt [$($done:tt)*] [($i:tt $v:ident $t:ident) $($idx:tt)*] [$($skip:tt)*] []
        $p:pat = $f:expr => $h:expr $(, $($rest:tt)*)?) => {
        $crate::select!(@parse $b [$($done)* [$i $v $t ($($skip)*) ($p) ($f) (true) ($h)]]
            [$($idx)*] [$($skip)* _] [] $($($rest)*)?)
    };
    (@parse $b:tt [$($done:tt)*] [] $($rest:tt)*) => {
        ::core::compile_error!("`brisk::select!` takes at most 64 branches")
    };
    (@parse $($rest:tt)*) => {
        ::core::compile_error!(
            "`brisk::select!`: expected branches `<pattern> = <future> => <handler>,` \
(optionally with `, if <condition>` before `=>`) and at most one final `else => <handler>`"
        )
    };

    // ---- expand
    (@emit $b:tt [] [$($else:tt)*]) => {
        ::core::compile_error!(
            "`brisk::select!` needs at least one `<pattern> = <future> => <handler>` branch"
        )
    };
    (@emit $b:tt [$([$i:tt $v:ident $t:ident ($($skip:tt)*) ($p:pat) ($f:expr) ($c:expr) ($h:expr)])+]
        [$($else:expr)?]) => {{
        enum __SelectOut<$($t,)+> {
            $($v($t),)+
            Disabled,
        }
        let __select_out = {
            let mut __futs = ($(::core::pin::pin!($crate::future::__private::cancel_safe($f)),)+);
            let mut __disabled: u64 = 0;
            $(if !$c {
                __disabled |= 1u64 << $i;
            })+
            const __N: u32 = [$($i),+].len() as u32;
            let __start: u32 = if $b { 0 } else { $crate::future::__private::random_start(__N) };
            ::core::future::poll_fn(|__cx| {
                let mut __pending = false;
                for __k in 0..__N {
                    let mut __branch = __start + __k;
                    if __branch >= __N {
                        __branch -= __N;
                    }
                    if __disabled & (1u64 << __branch) != 0 {
                        continue;
                    }
                    match __branch {
                        $($i => {
                            let ($($skip,)* __fut, ..) = &mut __futs;
                            match ::core::future::Future::poll(__fut.as_mut(), __cx) {
                                ::core::task::Poll::Ready(__value) => {
                                    #[allow(unused_variables, unreachable_patterns)]
                                    match &__value {
                                        $p => {}
                                        _ => {
                                            __disabled |= 1u64 << $i;
                                            continue;
                                        }
                                    }
                                    return ::core::task::Poll::Ready(__SelectOut::$v(__value));
                                }
                                ::core::task::Poll::Pending => __pending = true,
                            }
                        })+
                        _ => ::core::unreachable!(),
                    }
                }
                if __pending {
                    ::core::task::Poll::Pending
                } else {
                    ::core::task::Poll::Ready(__SelectOut::Disabled)
                }
            })
            .await
        };
        #[allow(unreachable_patterns)]
        match __select_out {
            $(__SelectOut::$v($p) => $h,)+
            __SelectOut::Disabled => $crate::select!(@else $($else)?),
            _ => ::core::unreachable!(),
        }
    }};
    (@else $e:expr) => { $e };
    (@else) => { ::core::panic!("{}", $crate::future::__private::SELECT_ALL_DISABLED) };

    // ---- entry: one list of branch slots for both forms
    (@start $biased:tt $($rest:tt)*) => {
        $crate::select!(@parse $biased [] [
            (0 B0 T0) (1 B1 T1) (2 B2 T2) (3 B3 T3) (4 B4 T4) (5 B5 T5) (6 B6 T6) (7 B7 T7)
            (8 B8 T8) (9 B9 T9) (10 B10 T10) (11 B11 T11) (12 B12 T12) (13 B13 T13)
            (14 B14 T14) (15 B15 T15) (16 B16 T16) (17 B17 T17) (18 B18 T18) (19 B19 T19)
            (20 B20 T20) (21 B21 T21) (22 B22 T22) (23 B23 T23) (24 B24 T24) (25 B25 T25)
            (26 B26 T26) (27 B27 T27) (28 B28 T28) (29 B29 T29) (30 B30 T30) (31 B31 T31)
            (32 B32 T32) (33 B33 T33) (34 B34 T34) (35 B35 T35) (36 B36 T36) (37 B37 T37)
            (38 B38 T38) (39 B39 T39) (40 B40 T40) (41 B41 T41) (42 B42 T42) (43 B43 T43)
            (44 B44 T44) (45 B45 T45) (46 B46 T46) (47 B47 T47) (48 B48 T48) (49 B49 T49)
            (50 B50 T50) (51 B51 T51) (52 B52 T52) (53 B53 T53) (54 B54 T54) (55 B55 T55)
            (56 B56 T56) (57 B57 T57) (58 B58 T58) (59 B59 T59) (60 B60 T60) (61 B61 T61)
            (62 B62 T62) (63 B63 T63)
        ] [] [] $($rest)*)
    };
    (biased; $($rest:tt)*) => {
        $crate::select!(@start true $($rest)*)
    };
    ($($rest:tt)*) => {
        $crate::select!(@start false $($rest)*)
    };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::random_start;

    #[test]
    fn random_start_stays_in_range_and_reaches_every_branch() {
        for n in 1..=64 {
            let mut seen = vec![false; n as usize];
            for _ in 0..64 * 64 {
                let i = random_start(n);
                assert!(i < n);
                seen[i as usize] = true;
            }
            assert!(seen.iter().all(|&s| s), "n = {n}: {seen:?}");
        }
    }
}
