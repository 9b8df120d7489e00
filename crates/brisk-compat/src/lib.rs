//! Brisk on other runtimes.
//!
//! Brisk-portable code — code that spawns with `brisk::spawn`, sleeps with
//! `brisk::time`, talks through `brisk::net`, `brisk::fs` and `brisk::sync`
//! — reaches its runtime only through the `brisk-core` contract. This crate
//! implements that contract on other runtimes, so such code runs unchanged
//! inside an application built on them.
//!
// The module exists only with its feature, and so may a link to it.
#![cfg_attr(
    feature = "tokio",
    doc = "- [`tokio`] (feature `tokio`): Brisk tasks on tokio's worker threads,"
)]
#![cfg_attr(
    not(feature = "tokio"),
    doc = "- `tokio` (feature `tokio`, off in this build): Brisk tasks on tokio's worker threads,"
)]
//!   Brisk timers on tokio's timers, Brisk sockets on tokio's reactor,
//!   `spawn_blocking` and `brisk::fs` on tokio's blocking pool. Reach it as
//!   `brisk::compat::tokio` with the facade's `tokio-compat` feature.
//!
//! The other direction — hyper, tokio-io and futures-io code running on
//! Brisk — needs trait impls on Brisk's own types, so it lives in
//! `brisk-core` (features `tokio-io` and `hyper` of the facade).
//!
//! # Dependencies
//! - `tokio` (features `rt`, `time`, `net`): the runtime this backend runs on.
//! - `socket2`: the two socket calls tokio offers only as `async` or not at
//!   all (a synchronous UDP `connect`, TCP `shutdown` of one direction); it
//!   is already a dependency of tokio's `net` feature.
#![cfg_attr(
    feature = "tokio",
    doc = r#"
# Example
```
# #[tokio::main(flavor = "current_thread")]
# async fn main() {
// Inside a tokio application:
let sum = brisk::compat::tokio::enter(async {
    let a = brisk::spawn(async { 20 });
    brisk::time::sleep(std::time::Duration::from_millis(1)).await;
    a.await.unwrap() + 22
})
.await;
assert_eq!(sum, 42);
# }
```
"#
)]
#![doc(test(attr(deny(warnings))))]

mod error;

#[cfg(feature = "tokio")]
pub mod tokio;
