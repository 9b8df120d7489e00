//! `#[brisk::test(backends = ...)]`: one test per backend from one body.

use std::time::Duration;

/// Runs as `spawn_and_sleep::{current_thread, multi_thread, sim, tokio}`.
#[brisk::test(backends = all)]
async fn spawn_and_sleep() {
    let start = brisk::time::Instant::now();
    let h = brisk::spawn(async {
        brisk::time::sleep(Duration::from_millis(2)).await;
        21
    });
    assert_eq!(h.await.unwrap() * 2, 42);
    assert!(start.elapsed() >= Duration::from_millis(2));
}

#[brisk::test(backends = [current_thread, sim], seeds = 3)]
async fn result_bodies_and_a_subset() -> std::io::Result<()> {
    let listener = brisk::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let accept = brisk::spawn(async move { listener.accept().await.map(|_| ()) });
    brisk::net::TcpStream::connect(addr).await?;
    accept.await.unwrap()
}

// The generated tests are ordinary functions in a module named after the
// test, one per backend (checked at compile time).
const _: [fn(); 6] = [
    spawn_and_sleep::current_thread,
    spawn_and_sleep::multi_thread,
    spawn_and_sleep::sim,
    spawn_and_sleep::tokio,
    result_bodies_and_a_subset::current_thread,
    result_bodies_and_a_subset::sim,
];

#[brisk::test(backends = [multi_thread])]
#[should_panic(expected = "the test returned Err")]
async fn an_err_fails_the_test() -> Result<(), String> {
    Err("expected failure".into())
}
