//! hyper 1.x servers and clients on Brisk, HTTP/1.1 and HTTP/2, over Brisk
//! TCP streams, through the `hyper` feature (`brisk::compat::hyper`).

use brisk::compat::hyper::{HyperExecutor, HyperTimer};
use brisk::net::{TcpListener, TcpStream};
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
