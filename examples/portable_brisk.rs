//! The portable library of `examples/portable` in a Brisk application: a
//! RESP server and a client, with a per-connection rate limit.
//!
//! ```text
//! cargo run --example portable_brisk
//! ```

#[allow(dead_code)]
#[path = "portable/mod.rs"]
mod portable;

use portable::resp::{serve, Client, Store};
use std::time::Duration;

#[brisk::main]
async fn main() -> std::io::Result<()> {
    let listener = brisk::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = brisk::spawn(serve(listener, Store::new(), Some((1000, 100))));

    let mut client = Client::connect(addr).await?;
    client.ping().await?;
    client.set("greeting", b"hello from brisk", None).await?;
    client
        .set("session", b"short-lived", Some(Duration::from_millis(50)))
        .await?;
    for _ in 0..3 {
        client.incr("visits").await?;
    }
    let greeting = client.get("greeting").await?.unwrap_or_default();
    println!("greeting = {}", String::from_utf8_lossy(&greeting));
    println!("visits   = {}", client.incr("visits").await?);
    brisk::time::sleep(Duration::from_millis(60)).await;
    println!("session after its ttl = {:?}", client.get("session").await?);

    server.cancel();
    server.await.expect("the server task")?;
    Ok(())
}
