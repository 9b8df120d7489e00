//! Unix signals as async streams, on the native runtime.
//!
//! ```no_run
//! # brisk::run(async {
//! brisk::signal::ctrl_c().await.unwrap();
//! println!("interrupted: shutting down");
//! # });
//! ```
//!
//! How it works: each [`Signal`] registers an action with
//! `signal-hook-registry` that writes one byte to its own socket pair (a
//! `write(2)`, which is async-signal-safe); the read end is registered with
//! the current runtime's reactor, so a delivery wakes the waiting task. No
//! thread and no global reactor are involved. As with every Rust signal
//! library, once a handler for a signal is installed it stays installed for
//! the life of the process: after the last `Signal` for, say, `SIGINT` is
//! dropped, `SIGINT` no longer terminates the process by default.

use crate::io::net::Evented;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A signal number, with names for the common ones.
///
/// The named constructors use this platform's numbers (from `libc`): Unix
/// systems agree on the classic signals, but not on the others — `SIGUSR1`
/// is 10 on Linux and 30 on macOS and the BSDs, `SIGCHLD` 17 and 20.
///
/// # Examples
/// ```
/// use brisk::signal::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw(), 2);
/// assert_eq!(SignalKind::from_raw(15), SignalKind::terminate());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// A signal by its raw number.
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }
    /// The raw signal number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }
    /// `SIGINT` (ctrl-c).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }
    /// `SIGTERM`.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }
    /// `SIGHUP`.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }
    /// `SIGQUIT`.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }
    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }
    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }
    /// `SIGPIPE`.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }
    /// `SIGALRM`.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }
    /// `SIGCHLD`.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }
    /// `SIGWINCH`.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

/// Deliveries of one signal, as a stream of `()`.
///
/// Wait with [`recv`](Signal::recv), or use it as a
/// [`Stream`](futures_core::Stream) (with `futures::StreamExt`, or as an
/// async iterator through `brisk::iter::IntoAsyncIter`): each item is one
/// delivery, and the stream ends (`None`) when the runtime it was created
/// on shuts down.
///
/// Deliveries that arrive while nobody waits are remembered (coalesced into
/// one), so a signal sent between two `recv` calls is not lost.
///
/// # Examples
/// ```
/// use brisk::iter::{AsyncIteratorExt, IntoAsyncIter};
/// use brisk::signal::{signal, SignalKind};
///
/// # brisk::run(async {
/// let usr1 = signal(SignalKind::user_defined1()).unwrap();
/// std::process::Command::new("kill")
///     .args(["-USR1", &std::process::id().to_string()])
///     .status()
///     .unwrap();
/// // The first delivery, taken from the stream.
/// let seen: Vec<()> = usr1.into_async_iter().take(1).collect().await;
/// assert_eq!(seen, [()]);
/// # });
/// ```
pub struct Signal {
    rx: Evented<mio::net::UnixStream>,
    id: signal_hook_registry::SigId,
    kind: SignalKind,
}

/// Listens for `kind` on the current (native) runtime.
///
/// # Errors
/// `InvalidInput` for signals that cannot be handled (`SIGKILL`, `SIGSTOP`,
/// `SIGSEGV`, `SIGILL`, `SIGFPE`); `Unsupported` outside a native Brisk
/// runtime.
///
/// # Examples
/// ```
/// use brisk::signal::{signal, SignalKind};
///
/// # brisk::run(async {
/// let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
/// std::process::Command::new("kill")
///     .args(["-USR1", &std::process::id().to_string()])
///     .status()
///     .unwrap();
/// usr1.recv().await;
/// # });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    if signal_hook_registry::FORBIDDEN.contains(&kind.0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} (signal {})", crate::error::SIGNAL_FORBIDDEN, kind.0),
        ));
    }
    let driver = crate::io::current_driver(crate::error::SIGNAL_NO_RUNTIME)?;
    let (rx, tx) = mio::net::UnixStream::pair()?;
    let rx = Evented::new(&driver, rx)?;
    let action = move || {
        // Async-signal-safe: one write(2) on a non-blocking socket; a full
        // buffer (WouldBlock) already guarantees a pending wake-up.
        let _ = (&tx).write(&[1]);
    };
    // SAFETY: the action only calls `write(2)` on a socket it owns, which is
    // async-signal-safe: no allocation, no lock, no panic path.
    let id = unsafe { signal_hook_registry::register(kind.0, action) }?;
    Ok(Signal { rx, id, kind })
}

impl Signal {
    /// Waits for the next delivery. Never returns `None` while the runtime
    /// it was created on runs; `None` means that runtime shut down, and every
    /// later call returns `None` too.
    ///
    /// Cancel safety: yes; a delivery is consumed only when this returns.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let mut buf = [0u8; 64];
        let mut got = false;
        loop {
            match self.rx.poll_read_raw(cx, |s| (&*s).read(&mut buf)) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Ready(Ok(n)) => {
                    got = true;
                    if n < buf.len() {
                        return Poll::Ready(Some(()));
                    }
                }
                Poll::Pending => {
                    return if got {
                        Poll::Ready(Some(()))
                    } else {
                        Poll::Pending
                    }
                }
            }
        }
    }

    /// Which signal this listens for.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        signal_hook_registry::unregister(self.id);
    }
}

impl futures_core::Stream for Signal {
    type Item = ();

    /// One item per delivery (coalesced as for [`recv`](Signal::recv));
    /// `None` once the runtime has shut down.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}

/// Waits for ctrl-c (`SIGINT`).
///
/// The handler is installed when the future is first polled: a `SIGINT`
/// that arrives before that still terminates the process (the default
/// action), and one that arrives after is never lost.
///
/// # Errors
/// `Unsupported` outside a native Brisk runtime. An error (kind `Other`)
/// if the runtime the listener was created on shuts down before a ctrl-c
/// arrives: no ctrl-c can be seen any more, and `Ok` would report one that
/// never happened.
///
/// # Examples
/// ```no_run
/// # brisk::run(async {
/// brisk::signal::ctrl_c().await.expect("listen for ctrl-c");
/// println!("ctrl-c: shutting down");
/// # });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut s = signal(SignalKind::interrupt())?;
    match s.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(crate::error::CTRL_C_RUNTIME_GONE)),
    }
}
