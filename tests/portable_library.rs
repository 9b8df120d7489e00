//! The portable library of `examples/portable` (a RESP server and client,
//! a rate limiter), used unchanged from a Brisk application, a tokio
//! application and a simulation; and its one rate limiter used both as a
//! `Send` and as a `!Send` type.

#[allow(dead_code)]
#[path = "../examples/portable/mod.rs"]
mod portable;

use portable::rate_limit::{LocalRateLimiter, SendRateLimiter};
use portable::resp::{serve, Client, Store, Value};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

/// The same client session on every runtime: commands, replies and expiry.
async fn session(addr: SocketAddr) {
    let mut c = Client::connect(addr).await.unwrap();
    c.ping().await.unwrap();
    assert_eq!(c.get("missing").await.unwrap(), None);
    c.set("k", b"v1", None).await.unwrap();
    assert_eq!(c.get("k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    assert_eq!(c.incr("n").await.unwrap(), 1);
    assert_eq!(c.incr("n").await.unwrap(), 2);
    assert!(c.del("k").await.unwrap());
    assert!(!c.del("k").await.unwrap());
    let err = c.incr("not-a-number-yet").await.map(|_| ());
    assert!(err.is_ok());
    c.set("word", b"abc", None).await.unwrap();
    assert!(c.incr("word").await.is_err());
    // Expiry on the runtime's clock (virtual in the simulator).
    c.set("ttl", b"soon gone", Some(Duration::from_millis(20)))
        .await
        .unwrap();
    brisk::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(c.get("ttl").await.unwrap(), None);
    // Two clients see one store.
    let mut other = Client::connect(addr).await.unwrap();
    assert_eq!(other.incr("n").await.unwrap(), 3);
}

/// Starts a server on a free local port and runs the session against it.
async fn server_and_session() {
    let listener = brisk::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = brisk::spawn(serve(listener, Store::new(), None));
    session(addr).await;
    server.cancel();
    server.await.unwrap().unwrap();
}

#[test]
fn resp_in_a_brisk_application() {
    brisk::Runtime::new()
        .unwrap()
        .block_on(server_and_session());
}

#[test]
fn resp_in_a_tokio_application() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(brisk::compat::tokio::enter(server_and_session()));
}

#[test]
fn resp_in_the_simulator_with_partitions_and_crashes() {
    for seed in 0..5 {
        let mut sim = brisk::sim::Sim::builder().seed(seed).build();
        sim.node("db").init(|| async {
            let listener = brisk::net::TcpListener::bind("0.0.0.0:6379").await.unwrap();
            serve(listener, Store::new(), None).await.unwrap();
        });
        sim.client("app", async {
            let sim = brisk::sim::handle();
            brisk::time::sleep(Duration::from_millis(1)).await;
            let addr = brisk::net::lookup_host("db:6379").await.unwrap()[0];
            session(addr).await;

            // An hour-long TTL passes in no real time.
            let mut c = Client::connect("db:6379").await.unwrap();
            c.set("daily", b"x", Some(Duration::from_secs(3600)))
                .await
                .unwrap();
            brisk::time::sleep(Duration::from_secs(3599)).await;
            assert!(c.get("daily").await.unwrap().is_some());
            brisk::time::sleep(Duration::from_secs(2)).await;
            assert!(c.get("daily").await.unwrap().is_none());

            // A partition makes a request time out; after healing, a new
            // client works.
            c.set_timeout(Duration::from_secs(1));
            sim.partition("app", "db");
            let err = c.ping().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TimedOut);
            sim.heal("app", "db");
            let mut c = Client::connect("db:6379").await.unwrap();
            c.set("kept", b"until a crash", None).await.unwrap();

            // The store is in memory: a crash loses it.
            sim.crash("db");
            brisk::task::yield_now().await;
            assert!(c.ping().await.is_err());
            sim.restart("db");
            let mut c = loop {
                match Client::connect("db:6379").await {
                    Ok(c) => break c,
                    Err(_) => brisk::time::sleep(Duration::from_millis(10)).await,
                }
            };
            assert_eq!(c.get("kept").await.unwrap(), None);
        });
        if let Err(e) = sim.run() {
            panic!("seed {seed}: {e}");
        }
    }
}

#[test]
fn resp_values_round_trip_and_partial_input_waits() {
    let v = Value::Array(vec![
        Value::bulk("SET"),
        Value::Bulk(None),
        Value::Integer(-7),
        Value::Simple("OK".into()),
        Value::Error("ERR no".into()),
    ]);
    let mut wire = Vec::new();
    v.encode(&mut wire);
    for cut in 0..wire.len() {
        assert_eq!(Value::parse(&wire[..cut]).unwrap(), None, "cut at {cut}");
    }
    assert_eq!(Value::parse(&wire).unwrap(), Some((v, wire.len())));
    assert!(Value::parse(b"?huh\r\n").is_err());
}

#[test]
fn the_server_rate_limits_each_connection_in_virtual_time() {
    let mut sim = brisk::sim::Sim::builder().seed(7).build();
    sim.node("db").init(|| async {
        let listener = brisk::net::TcpListener::bind("0.0.0.0:6379").await.unwrap();
        // 10 commands a second, no burst beyond one.
        serve(listener, Store::new(), Some((10, 1))).await.unwrap();
    });
    let client = sim.client("app", async {
        brisk::time::sleep(Duration::from_millis(1)).await;
        let mut c = Client::connect("db:6379").await.unwrap();
        let start = brisk::time::Instant::now();
        for _ in 0..21 {
            c.incr("n").await.unwrap();
        }
        start.elapsed()
    });
    sim.run().unwrap();
    // The first command uses the full bucket; twenty more need two seconds.
    let took = client.output();
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

// ---- one limiter, Send and !Send -------------------------------------------

fn assert_send_sync<T: Send + Sync>(_: &T) {}
fn assert_send<T: Send>(_: &T) {}

/// Ten acquisitions of one token at 10 tokens/s (burst 1) take 0.9 s.
async fn drain_ten<F: std::future::Future<Output = ()>>(acquire: impl Fn() -> F) -> Duration {
    let start = brisk::time::Instant::now();
    for _ in 0..10 {
        acquire().await;
    }
    start.elapsed()
}

#[test]
fn one_limiter_send_on_workers_and_local_without_locks() {
    let rt = brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (sent, local) = rt.block_on(async {
        // `Send`: shared by tasks that may run on any worker.
        let limiter = SendRateLimiter::new(1000, 5);
        assert_send_sync(&limiter);
        let fut = limiter.acquire(1);
        assert_send(&fut);
        drop(fut);
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let l = limiter.clone();
                brisk::spawn(async move {
                    for _ in 0..5 {
                        l.acquire(1).await;
                    }
                    5
                })
            })
            .collect();
        let mut sent = 0;
        for t in tasks {
            sent += t.await.unwrap();
        }
        // `!Send`: an `Rc<RefCell<_>>` bucket, in tasks pinned to this thread.
        let limiter = LocalRateLimiter::new(1000, 5);
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let l = limiter.clone();
                brisk::spawn_local(async move {
                    for _ in 0..5 {
                        l.acquire(1).await;
                    }
                    5
                })
            })
            .collect();
        let mut local = 0;
        for t in tasks {
            local += t.await.unwrap();
        }
        assert!(!limiter.try_acquire(5), "the bucket was just drained");
        (sent, local)
    });
    assert_eq!((sent, local), (20, 20));
}

#[test]
fn both_limiter_flavours_pace_identically_in_simulation() {
    let mut sim = brisk::sim::Sim::builder().seed(1).build();
    let out = sim.client("app", async {
        let send = SendRateLimiter::new(10, 1);
        let local = LocalRateLimiter::new(10, 1);
        let a = drain_ten(|| send.acquire(1)).await;
        let b = drain_ten(|| local.acquire(1)).await;
        (a, b)
    });
    sim.run().unwrap();
    let (a, b) = out.output();
    assert_eq!(a, b, "one logic, one schedule");
    assert!(
        a >= Duration::from_millis(900) && a < Duration::from_millis(1000),
        "{a:?}"
    );
}
