//! hyper's HTTP/1.1 server and client, unmodified, across the simulated
//! network: requests across seeds, and a partition that stalls a request
//! until it heals.

use brisk::compat::hyper::HyperTimer;
use brisk::net::{TcpListener, TcpStream};
use brisk::sim::{Latency, Link, NetConfig, Sim};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use std::convert::Infallible;
use std::time::Duration;

/// Answers every request with its method, path and body length.
async fn service(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let text = format!("{} {} {}", parts.method, parts.uri.path(), body.len());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

/// A node serving HTTP/1.1 on port 80.
fn web_node(sim: &mut Sim) {
    sim.node("web").init(|| async {
        let listener = TcpListener::bind("0.0.0.0:80").await.unwrap();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            brisk::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(HyperTimer)
                    .serve_connection(stream, service_fn(service))
                    .await;
            });
        }
    });
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect() -> Sender {
    let stream = loop {
        match TcpStream::connect("web:80").await {
            Ok(s) => break s,
            Err(_) => brisk::time::sleep(Duration::from_millis(10)).await,
        }
    };
    let (send, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
    brisk::spawn(async move {
        let _ = conn.await;
    });
    send
}

async fn post(send: &mut Sender, path: &str, body: Vec<u8>) -> String {
    let req = Request::post(format!("http://web{path}"))
        .header("host", "web")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    send.ready().await.unwrap();
    let resp = send.send_request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[test]
fn http1_requests_across_seeds() {
    for seed in 0..20 {
        let link = Link::new().latency(Latency::uniform(
            Duration::from_millis(1),
            Duration::from_millis(30),
        ));
        let mut sim = Sim::builder()
            .seed(seed)
            .net(NetConfig::new().link(link).tcp_buffer(16 * 1024))
            .build();
        web_node(&mut sim);
        let client = sim.client("browser", async {
            let mut send = connect().await;
            let mut answers = Vec::new();
            for i in 0..5usize {
                answers.push(post(&mut send, &format!("/r{i}"), vec![b'x'; i * 40_000]).await);
            }
            answers
        });
        sim.run().unwrap();
        let want: Vec<String> = (0..5)
            .map(|i| format!("POST /r{i} {}", i * 40_000))
            .collect();
        assert_eq!(client.output(), want, "seed {seed}");
    }
}

#[test]
fn http1_request_stalls_through_a_partition_and_completes_after_heal() {
    let link = Link::new().latency(Latency::fixed(Duration::from_millis(2)));
    let mut sim = Sim::builder()
        .seed(7)
        .net(NetConfig::new().link(link))
        .build();
    web_node(&mut sim);
    let client = sim.client("browser", async {
        let sim = brisk::sim::handle();
        let mut send = connect().await;
        let before = post(&mut send, "/before", b"a".to_vec()).await;
        sim.partition("browser", "web");
        let healer = sim.clone();
        brisk::spawn(async move {
            brisk::time::sleep(Duration::from_secs(5)).await;
            healer.heal("browser", "web");
        });
        let start = brisk::time::Instant::now();
        let during = post(&mut send, "/during", vec![b'b'; 100_000]).await;
        (before, during, start.elapsed())
    });
    sim.run().unwrap();
    let (before, during, took) = client.output();
    assert_eq!(before, "POST /before 1");
    assert_eq!(during, "POST /during 100000");
    assert!(took >= Duration::from_secs(5), "{took:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[test]
fn http1_client_sees_a_crashed_server_and_reconnects_after_restart() {
    let mut sim = Sim::builder().seed(11).build();
    web_node(&mut sim);
    let client = sim.client("browser", async {
        let sim = brisk::sim::handle();
        let mut send = connect().await;
        let first = post(&mut send, "/one", Vec::new()).await;
        sim.crash("web");
        brisk::task::yield_now().await;
        let req = Request::post("http://web/two")
            .header("host", "web")
            .body(Full::new(Bytes::new()))
            .unwrap();
        // The connection is gone: hyper reports an error, not a hang.
        let failed = match send.ready().await {
            Err(_) => true,
            Ok(()) => send.send_request(req).await.is_err(),
        };
        sim.restart("web");
        let mut send = connect().await;
        let again = post(&mut send, "/three", Vec::new()).await;
        (first, failed, again)
    });
    sim.run().unwrap();
    let (first, failed, again) = client.output();
    assert_eq!(first, "POST /one 0");
    assert!(failed);
    assert_eq!(again, "POST /three 0");
}
