//! `http_hello`: the cost of one HTTP/1.1 request to a hyper "hello world"
//! server, with hyper's client, both in the same runtime.
//!
//! Every runtime runs the same hyper 1.x code over its own sockets (see
//! `net_libs`): Brisk streams directly (Brisk's `hyper` feature), tokio's
//! through `hyper_util::rt::TokioIo`, smol's `Async<TcpStream>` through a
//! small futures-io adapter (`net_libs::FuturesIo`). HTTP/1.1 needs no hyper
//! executor or timer (no timeouts are configured).
//!
//! Before the clock starts, the root future binds a listener on 127.0.0.1,
//! then opens 32 client connections (`hyper::client::conn::http1::handshake`,
//! each connection driven by its own task), accepting each and spawning a
//! server task for it (`http1::Builder::serve_connection` with a service
//! answering every request with `200 OK` and the 13-byte body
//! `Hello, world!`; keep-alive on). Timed: 32 client tasks each sending
//! 500 × scale `GET /` requests one after the other on its keep-alive
//! connection, collecting and checking each body, until all have finished.
//! Result: elapsed ns / requests (32 × 500 × scale of them); requests per
//! second in aggregate are `1e9 / ns_per_op`.

use crate::harness::{ns_per_op, scaled, Run, Scenario, Unit};
use crate::net_libs::NetLib;
use crate::runtimes::{Runtime, Spawner, Work};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::convert::Infallible;
use std::time::{Duration, Instant};

/// Concurrent connections.
pub(crate) const CONNECTIONS: usize = 32;
/// Requests per connection at scale 1.0.
pub(crate) const REQUESTS: usize = 500;
/// The response body.
const BODY: &[u8] = b"Hello, world!";

/// The scenario's entry for the harness.
pub(crate) const SCENARIO: Scenario = Scenario {
    name: "http_hello",
    unit: Unit::NsPerOp,
    run: Run::Runtime(run),
    note: Some(super::NET_NOTE),
};

/// The server's service.
async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

/// The root future's work.
struct HttpHello {
    /// Requests per connection.
    requests: usize,
}

impl Work for HttpHello {
    type Output = Duration;

    async fn run<S: Spawner>(self, sp: S) -> Duration {
        let requests = self.requests;
        let (listener, addr) = <S::Net as NetLib>::bind().await;
        let mut senders = Vec::with_capacity(CONNECTIONS);
        let mut conns = Vec::with_capacity(2 * CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let client = sp.spawn(async move {
                let io = <S::Net as NetLib>::hyper_io(<S::Net as NetLib>::connect(addr).await);
                hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
                    .await
                    .expect("handshake")
            });
            let server_io =
                <S::Net as NetLib>::hyper_io(<S::Net as NetLib>::accept(&listener).await);
            conns.push(sp.spawn(async move {
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(server_io, hyper::service::service_fn(hello))
                    .await
                    .expect("server connection");
            }));
            let (send, conn) = client.await;
            conns.push(sp.spawn(async move { conn.await.expect("client connection") }));
            senders.push(send);
        }

        let start = Instant::now();
        let tasks: Vec<_> = senders
            .into_iter()
            .map(|mut send| {
                sp.spawn(async move {
                    for _ in 0..requests {
                        send.ready().await.expect("connection ready");
                        let req = Request::get("/")
                            .header(hyper::header::HOST, "127.0.0.1")
                            .body(Empty::new())
                            .expect("request");
                        let resp = send.send_request(req).await.expect("response");
                        assert!(resp.status().is_success());
                        let body = resp.into_body().collect().await.expect("body");
                        assert_eq!(&body.to_bytes()[..], BODY);
                    }
                    // Dropping `send` closes the connection.
                })
            })
            .collect();
        for t in tasks {
            t.await;
        }
        let elapsed = start.elapsed();
        for c in conns {
            c.await;
        }
        elapsed
    }
}

/// Runs the scenario once on `rt` and returns ns per request.
pub(crate) fn run(rt: Runtime, scale: f64) -> f64 {
    let requests = scaled(REQUESTS, scale);
    let elapsed = rt.block_on_io(HttpHello { requests });
    rt.shutdown();
    ns_per_op(elapsed, CONNECTIONS * requests)
}
