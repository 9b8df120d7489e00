//! A hyper "hello, world" HTTP server on Brisk.
//!
//! ```text
//! cargo run --example http_hello --features hyper          # 127.0.0.1:3000
//! cargo run --example http_hello --features hyper -- 8080  # 127.0.0.1:8080
//! curl http://127.0.0.1:3000/
//! ```
//!
//! Every connection is served by hyper's HTTP/1.1 server (keep-alive on) in
//! its own Brisk task, over a `brisk::net::TcpStream`, which implements
//! `hyper::rt::{Read, Write}` with the `hyper` feature. The server runs until
//! ctrl-c.

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use std::convert::Infallible;

async fn hello(_req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!\n",
    ))))
}

#[brisk::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(p) => p.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a port: {p:?}"),
            )
        })?,
        None => 3000,
    };
    let listener = brisk::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let serve = async {
        loop {
            let (stream, _) = listener.accept().await?;
            brisk::spawn(async move {
                let conn = http1::Builder::new().serve_connection(stream, service_fn(hello));
                if let Err(e) = conn.await {
                    eprintln!("connection error: {e}");
                }
            });
        }
    };
    let ctrl_c = async {
        brisk::signal::ctrl_c().await?;
        println!("ctrl-c: shutting down");
        Ok(())
    };
    select(serve, ctrl_c).await
}

/// The output of whichever of `a` and `b` finishes first.
async fn select<T>(
    a: impl std::future::Future<Output = T>,
    b: impl std::future::Future<Output = T>,
) -> T {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
            return std::task::Poll::Ready(v);
        }
        b.as_mut().poll(cx)
    })
    .await
}
