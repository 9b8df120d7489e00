//! The conformance harness: one test body, every backend.
//!
//! [`conformance!`] turns each `async fn name() { ... }` into a module
//! `name` with one `#[test]` per backend:
//!
//! | test | backend |
//! |---|---|
//! | `name::current_thread` | native runtime, current-thread scheduler |
//! | `name::multi_thread` | native runtime, two work-stealing workers |
//! | `name::sim` | the simulator, seeds 0, 1 and 2 (`BRISK_SEED` replays one) |
//! | `name::tokio` | `brisk::compat::tokio` on a two-worker tokio runtime |
//! | `name::tokio_current_thread` | `brisk::compat::tokio` on a current-thread tokio runtime |
//!
//! so `cargo test --test conformance_net tokio` runs one backend and
//! `cargo test --test conformance_net tcp_echo` one behaviour everywhere.
//!
//! Library authors get the same matrix from `#[brisk::test(backends = all)]`
//! (`tests/rt_test_backends.rs`). This suite keeps its own harness for two
//! things the attribute does not do: a hang bound on every test (a hang
//! fails the test instead of stalling CI) and tokio in both flavours. The
//! tokio runners need the `tokio-compat` feature, which the test files
//! require (`required-features` in the root `Cargo.toml`).
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

/// A generous bound on a whole test: a hang fails the test instead of CI.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Runs `f` on its own thread, failing if it does not finish within
/// [`LIMIT`] (a hang bound, never a performance assertion).
fn within(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(()) => t.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p)
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("test body did not finish within {LIMIT:?} (hang)")
        }
    }
}

pub fn current_thread<Fut: Future<Output = ()> + 'static>(body: fn() -> Fut) {
    within(move || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(body());
        let report = rt.shutdown_timeout(Duration::from_secs(5));
        assert!(report.is_clean(), "tasks left behind: {report:?}");
    })
}

pub fn multi_thread<Fut: Future<Output = ()> + 'static>(body: fn() -> Fut) {
    within(move || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(body());
        let report = rt.shutdown_timeout(Duration::from_secs(5));
        assert!(report.is_clean(), "tasks left behind: {report:?}");
    })
}

pub fn sim<Fut: Future<Output = ()> + 'static>(test_path: &'static str, body: fn() -> Fut) {
    within(move || brisk::sim::__private::run_test(test_path, 3, body))
}

pub fn tokio<Fut: Future<Output = ()> + 'static>(body: fn() -> Fut) {
    within(move || {
        let rt = ::tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(brisk::compat::tokio::enter(body()));
    })
}

pub fn tokio_current_thread<Fut: Future<Output = ()> + 'static>(body: fn() -> Fut) {
    within(move || {
        let rt = ::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(brisk::compat::tokio::enter(body()));
    })
}

/// One `#[test]` per backend for each `async fn` (see the module docs).
macro_rules! conformance {
    ($( $(#[doc = $doc:literal])* async fn $name:ident() $body:block )*) => {$(
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body() $body

            #[test]
            fn current_thread() {
                $crate::conformance::current_thread(body)
            }
            #[test]
            fn multi_thread() {
                $crate::conformance::multi_thread(body)
            }
            #[test]
            fn sim() {
                $crate::conformance::sim(concat!(module_path!(), "::sim"), body)
            }
            #[test]
            fn tokio() {
                $crate::conformance::tokio(body)
            }
            #[test]
            fn tokio_current_thread() {
                $crate::conformance::tokio_current_thread(body)
            }
        }
    )*};
}
pub(crate) use conformance;

/// A directory of its own for a file test (a virtual one in simulation),
/// created empty.
pub async fn scratch_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "brisk-conformance-{tag}-{}-{:x}",
        std::process::id(),
        brisk::rand::u64()
    ));
    brisk::fs::create_dir_all(&dir).await.unwrap();
    dir
}
