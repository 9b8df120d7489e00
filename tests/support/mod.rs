//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on a thread and fails the test if it does not finish within
/// `limit`: a hang becomes a clear failure instead of a stuck CI job. The
/// limit is a generous bound, never a performance assertion.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => {
            let _ = t.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match t.join() {
            Err(p) => std::panic::resume_unwind(p),
            Ok(()) => unreachable!(),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("test body did not finish within {limit:?} (hang)")
        }
    }
}

/// Both runtime flavours, for tests that must hold on each.
pub fn runtimes() -> Vec<(&'static str, brisk::Runtime)> {
    vec![
        (
            "current_thread",
            brisk::Runtime::builder().current_thread().build().unwrap(),
        ),
        ("multi_thread", multi_thread(2)),
    ]
}

/// A multi-thread runtime with `workers` workers.
pub fn multi_thread(workers: usize) -> brisk::Runtime {
    brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

pub const LIMIT: Duration = Duration::from_secs(60);
