//! What `#[brisk::test(backends = ...)]` expands to call. Not a public API.

use brisk_sim::__private::TestOutput;
use std::future::Future;

/// `#[brisk::test(backends = [tokio])]` without the `tokio-compat` feature.
#[cfg(not(feature = "tokio-compat"))]
const TOKIO_NEEDS_FEATURE: &str = "`#[brisk::test(backends = ...)]` lists the `tokio` backend, \
but brisk's `tokio-compat` feature is off: enable it for the tests \
(`brisk = { version = \"...\", features = [\"tokio-compat\"] }` in `[dev-dependencies]`), \
or list the backends without `tokio`";

#[track_caller]
fn check(out: impl TestOutput) {
    if let Err(e) = out.into_result() {
        panic!("{e}");
    }
}

/// Runs the body on a fresh current-thread runtime.
#[track_caller]
pub fn current_thread<F, Fut>(body: F)
where
    F: FnOnce() -> Fut,
    Fut: Future,
    Fut::Output: TestOutput,
{
    let rt = crate::Runtime::builder()
        .current_thread()
        .build()
        .expect("`#[brisk::test]` could not build the Brisk runtime");
    check(rt.block_on(body()));
}

/// Runs the body on a fresh multi-thread runtime with two workers.
#[track_caller]
pub fn multi_thread<F, Fut>(body: F)
where
    F: FnOnce() -> Fut,
    Fut: Future,
    Fut::Output: TestOutput,
{
    let rt = crate::Runtime::builder()
        .multi_thread()
        .worker_threads(2)
        .build()
        .expect("`#[brisk::test]` could not build the Brisk runtime");
    check(rt.block_on(body()));
}

/// Runs the body as a simulation client for `seeds` seeds (or `BRISK_SEED`).
#[track_caller]
pub fn sim<F, Fut>(test_path: &str, seeds: u64, body: F)
where
    F: Fn() -> Fut,
    Fut: Future + 'static,
    Fut::Output: TestOutput + 'static,
{
    brisk_sim::__private::run_test(test_path, seeds, body);
}

/// Runs the body inside `brisk::compat::tokio::enter` on a fresh
/// current-thread tokio runtime.
#[cfg(feature = "tokio-compat")]
#[track_caller]
pub fn tokio<F, Fut>(body: F)
where
    F: FnOnce() -> Fut,
    Fut: Future,
    Fut::Output: TestOutput,
{
    let rt = brisk_compat::tokio::__test_runtime();
    check(rt.block_on(brisk_compat::tokio::enter(body())));
}

/// Without the `tokio-compat` feature: fails, saying how to enable it.
#[cfg(not(feature = "tokio-compat"))]
#[track_caller]
pub fn tokio<F, Fut>(body: F)
where
    F: FnOnce() -> Fut,
    Fut: Future,
    Fut::Output: TestOutput,
{
    drop(body);
    panic!("{TOKIO_NEEDS_FEATURE}");
}
