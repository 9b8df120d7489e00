//! A dump on `SIGQUIT` or `SIGUSR1`, printed by a thread of its own.

use crate::dump::Dump;
use brisk_core::runtime::Handle;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Which signal prints a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpSignal {
    /// `SIGQUIT` (Ctrl-\ in a terminal), as Go and the JVM use. The handler
    /// replaces the default action, so the process no longer quits on it.
    Quit,
    /// `SIGUSR1`.
    User1,
}

impl DumpSignal {
    fn number(self) -> i32 {
        match self {
            DumpSignal::Quit => libc::SIGQUIT,
            DumpSignal::User1 => libc::SIGUSR1,
        }
    }
}

/// Keeps the handler installed; dropping it removes the handler and stops
/// the thread.
#[must_use = "the handler is removed when this guard is dropped"]
pub struct DumpOnSignal {
    id: signal_hook_registry::SigId,
    stop: Arc<AtomicBool>,
    poke: UnixStream,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Prints a dump of `handle`'s runtime to stderr each time the process gets
/// `signal`, until the returned guard is dropped. Opt-in: nothing is
/// installed unless you call this.
///
/// The dump is taken on a dedicated thread, not on a worker, so it works
/// when every worker is stuck in a long poll — the moment it is needed most.
///
/// ```no_run
/// # brisk::run(async {
/// let _dumps = brisk::diag::dump_on_signal(
///     brisk::runtime::Handle::current(),
///     brisk::diag::DumpSignal::Quit,
/// )?;
/// // `kill -QUIT <pid>` (or Ctrl-\) now prints every task and what it waits on.
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
///
/// # Errors
/// If the signal handler or the thread cannot be set up.
pub fn dump_on_signal(handle: Handle, signal: DumpSignal) -> io::Result<DumpOnSignal> {
    dump_on_signal_to(handle, signal, io::stderr())
}

/// Like [`dump_on_signal`], writing each dump to `out` (a log file, say)
/// instead of stderr.
///
/// # Errors
/// If the signal handler or the thread cannot be set up.
pub fn dump_on_signal_to<W: Write + Send + 'static>(
    handle: Handle,
    signal: DumpSignal,
    mut out: W,
) -> io::Result<DumpOnSignal> {
    let (mut rx, tx) = UnixStream::pair()?;
    tx.set_nonblocking(true)?;
    let poke = tx.try_clone()?;
    let action = move || {
        // Only a `write(2)` of one byte: async-signal-safe. A full pipe
        // means a dump is pending anyway.
        let _ = (&tx).write(&[1]);
    };
    // SAFETY: the action only writes one byte to a non-blocking socket,
    // which is async-signal-safe (no allocation, no lock).
    let id = unsafe { signal_hook_registry::register(signal.number(), action) }?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::Builder::new()
        .name("brisk-diag-dump".into())
        .spawn(move || {
            let mut byte = [0u8; 1];
            while let Ok(1) = rx.read(&mut byte) {
                if stop2.load(Ordering::Acquire) {
                    break;
                }
                let text = Dump::of(&handle).to_string();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        });
    let thread = match thread {
        Ok(t) => t,
        Err(e) => {
            signal_hook_registry::unregister(id);
            return Err(e);
        }
    };
    Ok(DumpOnSignal {
        id,
        stop,
        poke,
        thread: Some(thread),
    })
}

impl Drop for DumpOnSignal {
    fn drop(&mut self) {
        signal_hook_registry::unregister(self.id);
        self.stop.store(true, Ordering::Release);
        let _ = (&self.poke).write(&[1]);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for DumpOnSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpOnSignal").finish_non_exhaustive()
    }
}
