//! Brisk built without its `sim` feature: `brisk::sim::buggify!()` is the
//! constant `false` and the rest of Brisk works. Runs with
//! `cargo test -p brisk --no-default-features --test sim_feature_off` (in
//! CI); with the feature on, this file is empty.

#![cfg(not(feature = "sim"))]

/// Evaluated by the compiler: `buggify!()` is a constant.
const FIRES: bool = brisk::sim::buggify!();
const _: () = assert!(!FIRES);

async fn flush(attempts: &mut u32) {
    *attempts += 1;
    if brisk::sim::buggify!() {
        // Fault code still type-checks, and never runs.
        *attempts += 100;
    }
}

#[brisk::test]
async fn buggify_never_fires_and_the_runtime_works() {
    let mut attempts = 0;
    for _ in 0..1000 {
        flush(&mut attempts).await;
    }
    assert_eq!(attempts, 1000);
    let handle = brisk::spawn(async { brisk::sim::buggify!() });
    assert!(!handle.await.unwrap());
}
