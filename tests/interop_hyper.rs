//! hyper 1.x servers and clients on Brisk, HTTP/1.1 and HTTP/2, over Brisk
//! TCP streams, through the `hyper` feature (`brisk::compat::hyper`); a peer
//! that sends garbage to hyper's server gets a parse error, not a panic or a
//! hang, and the server keeps serving.

use brisk::compat::hyper::{HyperExecutor, HyperTimer};
use brisk::io::{AsyncReadExt, AsyncWriteExt};
use brisk::net::{TcpListener, TcpStream};
use brisk::sync::mpsc;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

const REQUESTS: usize = 5;

/// Echoes `POST /echo` bodies, greets on `GET /hello`, 404 otherwise.
async fn service(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let resp = match (parts.method.as_str(), parts.uri.path()) {
        ("GET", "/hello") => Response::new(Full::new(Bytes::from_static(b"hello from brisk"))),
        ("POST", "/echo") => Response::new(Full::new(body)),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::new()))
            .unwrap(),
    };
    Ok(resp)
}

#[derive(Clone, Copy)]
enum Version {
    Http1,
    Http2,
}

/// Serves each accepted connection with hyper's server in its own task.
async fn start_server(version: Version) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    brisk::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            brisk::spawn(async move {
                let svc = service_fn(service);
                let r = match version {
                    Version::Http1 => {
                        hyper::server::conn::http1::Builder::new()
                            .timer(HyperTimer)
                            .header_read_timeout(Duration::from_secs(10))
                            .serve_connection(stream, svc)
                            .await
                    }
                    Version::Http2 => {
                        hyper::server::conn::http2::Builder::new(HyperExecutor)
                            .timer(HyperTimer)
                            .keep_alive_interval(Duration::from_secs(10))
                            .serve_connection(stream, svc)
                            .await
                    }
                };
                r.unwrap();
            });
        }
    });
    addr
}

/// A client connection of either version.
enum Client {
    Http1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Client {
    /// Connects to `addr` with hyper's client and drives the connection in
    /// its own task.
    async fn connect(addr: SocketAddr, version: Version) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        match version {
            Version::Http1 => {
                let (send, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
                brisk::spawn(async move { conn.await.unwrap() });
                Client::Http1(send)
            }
            Version::Http2 => {
                let (send, conn) = hyper::client::conn::http2::Builder::new(HyperExecutor)
                    .timer(HyperTimer)
                    .handshake(stream)
                    .await
                    .unwrap();
                brisk::spawn(async move { conn.await.unwrap() });
                Client::Http2(send)
            }
        }
    }

    /// Sends `req` and returns the status and the whole body.
    async fn send(&mut self, req: Request<Full<Bytes>>) -> (StatusCode, Bytes) {
        let resp = match self {
            Client::Http1(s) => {
                s.ready().await.unwrap();
                s.send_request(req).await.unwrap()
            }
            Client::Http2(s) => {
                s.ready().await.unwrap();
                s.send_request(req).await.unwrap()
            }
        };
        let status = resp.status();
        (status, resp.into_body().collect().await.unwrap().to_bytes())
    }
}

fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(format!("http://brisk.test{path}"))
        .header("host", "brisk.test")
        .body(Full::default())
        .unwrap()
}

fn post(path: &str, body: String) -> Request<Full<Bytes>> {
    Request::post(format!("http://brisk.test{path}"))
        .header("host", "brisk.test")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// Several requests, with small and large bodies, on one connection.
async fn many_requests_on_one_connection(version: Version) {
    let addr = start_server(version).await;
    let mut client = Client::connect(addr, version).await;
    for i in 0..REQUESTS {
        let (status, body) = client.send(get("/hello")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..], b"hello from brisk");

        // Up to 400 KB, more than one socket buffer and one HTTP/2 window.
        let payload = format!("request {i}: {}", "x".repeat(i * 100_000));
        let (status, body) = client.send(post("/echo", payload.clone())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, payload.as_bytes());
    }
    let (status, body) = client.send(get("/missing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.is_empty());
}

#[brisk::test]
async fn http1_client_and_server_on_current_thread() {
    many_requests_on_one_connection(Version::Http1).await;
}

#[brisk::test]
async fn http2_client_and_server_on_current_thread() {
    many_requests_on_one_connection(Version::Http2).await;
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_client_and_server_on_multi_thread() {
    many_requests_on_one_connection(Version::Http1).await;
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_concurrent_streams_on_one_connection() {
    let addr = start_server(Version::Http2).await;
    let Client::Http2(send) = Client::connect(addr, Version::Http2).await else {
        unreachable!()
    };
    // HTTP/2 multiplexes: a clone of the sender per task, all at once.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let mut c = Client::Http2(send.clone());
            brisk::spawn(async move {
                let payload = format!("stream {i}");
                let (status, body) = c.send(post("/echo", payload.clone())).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body, payload.as_bytes());
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// An HTTP/1.1 server like [`start_server`]'s that reports how each
/// connection ended instead of unwrapping it.
async fn start_reporting_http1_server() -> (SocketAddr, mpsc::UnboundedReceiver<hyper::Result<()>>)
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    brisk::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            brisk::spawn(async move {
                let r = hyper::server::conn::http1::Builder::new()
                    .timer(HyperTimer)
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(stream, service_fn(service))
                    .await;
                let _ = tx.send(r);
            });
        }
    });
    (addr, rx)
}

/// Garbage in place of a request: each ends the connection with a parse
/// error and a `400 Bad Request`, and the next, well-formed client is served.
async fn garbage_gets_a_parse_error_and_the_server_keeps_serving() {
    let (addr, mut results) = start_reporting_http1_server().await;
    let garbage: [&[u8]; 3] = [
        // Binary noise where the method should be (a TLS record header).
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        // Not an HTTP version.
        b"GET /hello HTTP/9.\xff\r\nhost: brisk.test\r\n\r\n",
        // A control byte in a header name.
        b"GET /hello HTTP/1.1\r\nhost: brisk.test\r\nbad\x01name: x\r\n\r\n",
    ];
    for bytes in garbage {
        let mut peer = TcpStream::connect(addr).await.unwrap();
        peer.write_all(bytes).await.unwrap();
        let mut reply = Vec::new();
        peer.read_to_end(&mut reply).await.unwrap();
        let reply = String::from_utf8_lossy(&reply);
        assert!(
            reply.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{bytes:?}: {reply}"
        );
        let err = results.recv().await.unwrap().unwrap_err();
        assert!(err.is_parse(), "{bytes:?}: {err:?}");
    }

    let mut client = Client::connect(addr, Version::Http1).await;
    let (status, body) = client.send(get("/hello")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"hello from brisk");
    drop(client);
    // The client closed its connection: the server saw a clean end.
    results.recv().await.unwrap().unwrap();
}

#[brisk::test]
async fn http1_server_survives_garbage_on_current_thread() {
    garbage_gets_a_parse_error_and_the_server_keeps_serving().await;
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_server_survives_garbage_on_multi_thread() {
    garbage_gets_a_parse_error_and_the_server_keeps_serving().await;
}
