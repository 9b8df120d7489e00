//! The portable library of `examples/portable`, unchanged, inside a tokio
//! application: `brisk::compat::tokio::enter` runs it on tokio's threads,
//! timers and reactor, next to ordinary tokio tasks.
//!
//! ```text
//! cargo run --example portable_tokio --features tokio-compat
//! ```

#[allow(dead_code)]
#[path = "portable/mod.rs"]
mod portable;

use portable::resp::{serve, Client, Store};
use std::time::Duration;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // A tokio task of the application, unaware of Brisk.
    let ticker = tokio::spawn(async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        "tokio task done"
    });

    brisk::compat::tokio::enter(async {
        let listener = brisk::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = brisk::spawn(serve(listener, Store::new(), None));

        let mut client = Client::connect(addr).await?;
        client.set("runtime", b"tokio", None).await?;
        let got = client.get("runtime").await?.unwrap_or_default();
        println!("runtime = {}", String::from_utf8_lossy(&got));
        println!("counter = {}", client.incr("counter").await?);

        server.cancel();
        server.await.expect("the server task")
    })
    .await?;

    println!("{}", ticker.await.expect("the tokio task"));
    Ok(())
}
