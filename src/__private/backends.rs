//! What `#[brisk::test(backends = ...)]` expands to call. Not a public API.

use std::fmt::Debug;
use std::future::Future;

/// What a test body may return: `()` or a `Result` whose error is `Debug`.
pub trait TestOutput {
    /// `Err` with a description if the test failed.
    fn into_result(self) -> Result<(), String>;
}

impl TestOutput for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<T, E: Debug> TestOutput for Result<T, E> {
    fn into_result(self) -> Result<(), String> {
        self.map(drop)
            .map_err(|e| format!("the test returned Err({e:?})"))
    }
}

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
#[cfg(feature = "sim")]
#[track_caller]
pub fn sim<F, Fut>(test_path: &str, seeds: u64, body: F)
where
    F: Fn() -> Fut,
    Fut: Future + 'static,
    Fut::Output: brisk_sim::__private::TestOutput + 'static,
{
    brisk_sim::__private::run_test(test_path, seeds, body);
}

/// Without the `sim` feature: does not compile, and says why.
#[cfg(not(feature = "sim"))]
pub fn sim<F: crate::sim::__private::SimFeatureIsOff>(test_path: &str, seeds: u64, body: F) {
    crate::sim::__private::run_test(test_path, seeds, body);
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

/// Never implemented: the bound that makes a `tokio` backend fail to
/// compile without the `tokio-compat` feature.
#[cfg(not(feature = "tokio-compat"))]
#[diagnostic::on_unimplemented(
    message = "`#[brisk::test(backends = ...)]` lists the `tokio` backend, and brisk's `tokio-compat` feature is off",
    label = "this test also runs on tokio",
    note = "enable it for tests: `brisk = {{ ..., features = [\"tokio-compat\"] }}` under `[dev-dependencies]`, or list the backends without `tokio`"
)]
pub trait TokioCompatFeatureIsOff {}

/// Without the `tokio-compat` feature: does not compile, and says why.
#[cfg(not(feature = "tokio-compat"))]
pub fn tokio<F: TokioCompatFeatureIsOff>(_body: F) {}
