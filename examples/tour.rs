//! A short tour of Brisk: named tasks, timers, locks that know their
//! holders, cancellation, a panic that names its task, `!Send` and blocking
//! work, a TCP service, scopes, buffered iteration, a graceful server
//! shutdown, and the shutdown report.
//!
//! Run it with `cargo run --release --example tour`.

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use brisk::io::{AsyncReadExt, AsyncWriteExt};
use brisk::iter::AsyncIteratorExt;
use brisk::net::{TcpListener, TcpStream};
use brisk::sync::{oneshot, Mutex};
use brisk::task::Builder;
use brisk::time::{interval, sleep, timeout, Instant};
use brisk::wait::ResourceKind;

fn main() {
    // Keep the demo's output short: one line per panic instead of a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        eprintln!(
            "  [panic hook] thread '{}': {info}",
            thread.name().unwrap_or("?")
        );
    }));

    let rt = brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(2)
        .build()
        .expect("start a runtime");
    println!("== Brisk tour: {:?}", rt.flavor());

    rt.block_on(async {
        let start = Instant::now();

        // 1. Named tasks. Names and spawn locations follow a task everywhere.
        let restock = Builder::new().name("restock").spawn(async {
            sleep(Duration::from_millis(30)).await;
            42
        });
        let checkout = Builder::new().name("checkout").spawn(async {
            let mut ticks = interval(Duration::from_millis(10));
            for _ in 0..3 {
                ticks.tick().await;
            }
            "paid"
        });
        println!("spawned {} and {}", restock.id(), checkout.id());

        // 2. What are they waiting on? Every wait is attributable.
        sleep(Duration::from_millis(5)).await;
        for h in [restock.task(), checkout.task()] {
            let wait = h.wait_point().map(|w| w.to_string()).unwrap_or_default();
            println!("  {} ({}) waits on {wait}", h.id(), h.name().unwrap_or("?"));
        }

        println!(
            "restock -> {}, checkout -> {} after {:?}",
            restock.await.unwrap(),
            checkout.await.unwrap(),
            start.elapsed()
        );

        // 3. Locks know who holds them, so a wait names its blocker.
        let inventory = Arc::new(Mutex::new(100u32));
        let (holding_tx, holding) = oneshot::channel();
        let inv = inventory.clone();
        let restocker = Builder::new().name("restock").spawn(async move {
            let mut stock = inv.lock().await;
            holding_tx.send(()).unwrap();
            sleep(Duration::from_millis(20)).await;
            *stock += 10;
        });
        holding.await.unwrap();
        let inv = inventory.clone();
        let buyer = Builder::new().name("checkout").spawn(async move {
            *inv.lock().await -= 1;
        });
        let waits_on_lock = |w: &brisk::wait::WaitPoint| w.kind == ResourceKind::Mutex;
        while !buyer.task().wait_point().is_some_and(|w| waits_on_lock(&w)) {
            brisk::task::yield_now().await;
        }
        if let Some(wait) = buyer.task().wait_point() {
            let held_by = brisk::wait::holders_of(wait.resource).unwrap_or_default();
            println!(
                "  {} (checkout) waits on {wait}, held by {held_by} (restock is {})",
                buyer.id(),
                restocker.id()
            );
        }
        restocker.await.unwrap();
        buyer.await.unwrap();
        println!("  stock is now {}", *inventory.lock().await);

        // 4. Timeouts and cancellation.
        let slow = Builder::new()
            .name("slow-report")
            .spawn(sleep(Duration::from_secs(3600)));
        match timeout(Duration::from_millis(10), async {
            sleep(Duration::from_secs(1)).await
        })
        .await
        {
            Ok(()) => println!("finished early?"),
            Err(e) => println!("timeout: {e}"),
        }
        slow.abort();
        println!("aborted: {}", slow.await.unwrap_err());

        // 5. A panicking task does not vanish: its error names it.
        let err = Builder::new()
            .name("payments")
            .spawn(async { panic!("card declined") })
            .await
            .unwrap_err();
        println!("panic caught: {err}");

        // 6. `!Send` futures with no LocalSet, and blocking work off the workers.
        let shared = Rc::new(String::from("local state"));
        let s = shared.clone();
        let local = brisk::spawn_local(async move { s.len() }).await.unwrap();
        let sum = brisk::spawn_blocking(|| (1..=1_000_000u64).sum::<u64>())
            .await
            .unwrap();
        println!("local task read {local} bytes of {shared:?}; blocking sum = {sum}");

        // 7. Serve TCP: an echo service on loopback, three clients, a report.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let served = Arc::new(AtomicUsize::new(0));
        let server = Builder::new().name("echo-server").spawn({
            let served = served.clone();
            async move {
                let mut conns = Vec::new();
                for _ in 0..3 {
                    let (mut conn, _peer) = listener.accept().await?;
                    let served = served.clone();
                    conns.push(Builder::new().name("echo-conn").spawn(async move {
                        let mut buf = [0u8; 1024];
                        loop {
                            let n = conn.read(&mut buf).await?;
                            if n == 0 {
                                return Ok::<_, std::io::Error>(());
                            }
                            served.fetch_add(n, Ordering::Relaxed);
                            conn.write_all(&buf[..n]).await?;
                        }
                    }));
                }
                for c in conns {
                    c.await.expect("connection task")?;
                }
                Ok::<_, std::io::Error>(())
            }
        });
        for i in 0..3 {
            let mut client = TcpStream::connect(addr).await.expect("connect");
            client
                .write_all(format!("order #{i}").as_bytes())
                .await
                .expect("send");
            client.close().await.expect("half-close");
            let mut reply = String::new();
            client.read_to_string(&mut reply).await.expect("echo");
            assert_eq!(reply, format!("order #{i}"));
        }
        server.await.unwrap().expect("server");
        println!(
            "echo server at {addr} served 3 connections, {} bytes",
            served.load(Ordering::Relaxed)
        );

        // 8. Structured concurrency. Scope children borrow, and a panic or a
        //    cancellation travels through the whole tree.
        let mut shelves = vec![0u32; 4];
        let rows = &mut shelves;
        brisk::scope(|s| async move {
            for (i, shelf) in rows.iter_mut().enumerate() {
                s.spawn(async move {
                    sleep(Duration::from_millis(i as u64)).await;
                    *shelf = 10 * (i as u32 + 1); // borrows the caller's Vec
                });
            }
        })
        .await;
        println!("scope filled shelves {shelves:?}");

        let orders: Vec<u32> = brisk::iter::iter(1..=6u32)
            .map(|n| async move {
                sleep(Duration::from_millis(2)).await; // a lookup per order
                n * 100
            })
            .buffered(3) // three lookups in flight, results in order
            .collect()
            .await;
        println!("buffered lookups: {orders:?}");

        // Graceful shutdown is "cancel its scope, wait with a deadline": the
        // accept loop stops, requests in flight finish, nothing is cut off.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let server = Builder::new()
            .name("order-desk")
            .spawn(order_desk(listener));
        let clients: Vec<_> = (1..=3)
            .map(|i| brisk::spawn(place_order(addr, i)))
            .collect();
        sleep(Duration::from_millis(20)).await; // requests are in flight
                                                // Scope children are not tasks, but a dump lists them under the
                                                // task that runs their scope: the requests in flight.
        let dump = brisk::diag::dump();
        if let Some(desk) = dump
            .tasks
            .iter()
            .find(|t| t.name.as_deref() == Some("order-desk"))
        {
            for request in &desk.scope_children {
                let waits = request.waiting_on.as_ref().map_or("-", |w| w.kind);
                println!(
                    "  order-desk request in flight: spawned at {}, waits on {waits}",
                    request.location
                );
            }
        }
        let t0 = Instant::now();
        server.cancel();
        let served = timeout(Duration::from_secs(2), server)
            .await
            .expect("stopped within the deadline")
            .expect("server task")
            .expect("server I/O");
        for c in clients {
            println!("  client got {:?}", c.await.unwrap().unwrap());
        }
        println!(
            "order-desk shut down gracefully in {:?} after serving {served} in-flight requests",
            t0.elapsed()
        );

        // 9. Leave a task behind that will be stuck in a poll at shutdown.
        let (started_tx, started) = std::sync::mpsc::channel();
        let _stuck = Builder::new().name("stuck-in-poll").spawn(async move {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300)); // blocks its worker: a bug
        });
        brisk::spawn_blocking(move || started.recv().unwrap())
            .await
            .unwrap();
        let (_deliveries, rx) = brisk::sync::mpsc::channel(1);
        let _idle = Builder::new()
            .name("inventory-sync")
            .spawn(inventory_sync(rx));
        // A dump names every task, what it waits on and who holds it, and
        // the `#[brisk::traced]` functions it waits in (also on SIGQUIT with
        // `brisk::diag::dump_on_signal`).
        print!("{}", brisk::diag::dump());
        let m = brisk::runtime::Handle::current();
        println!("runtime: {m:?}");
    });

    let metrics = rt.metrics();
    println!(
        "metrics: {} workers, {} alive tasks, {} polls, {} steals",
        metrics.workers, metrics.alive_tasks, metrics.polls, metrics.steals
    );

    // 10. Shutdown cancels what is left and reports what did not finish.
    let report = rt.shutdown_timeout(Duration::from_millis(50));
    println!("{report}");
}

/// A server under a scope: each request runs as a scope child, shielded so
/// that it finishes even when the server is cancelled; cancellation stops
/// the accept loop. Returns how many requests it served.
async fn order_desk(listener: TcpListener) -> std::io::Result<usize> {
    let served = AtomicUsize::new(0);
    let served_ref = &served;
    brisk::scope(|s| async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    s.spawn(brisk::task::non_cancellable(async move {
                        if answer(stream).await.is_ok() {
                            served_ref.fetch_add(1, Ordering::Relaxed);
                        }
                    }));
                }
                // Cancelled: stop accepting; the scope waits for requests.
                Err(e) if brisk::task::Cancelled::is_io(&e) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    })
    .await?;
    Ok(served.into_inner())
}

/// Reads one order, works on it for a while, answers.
async fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut order = [0u8; 1];
    stream.read_exact(&mut order).await?;
    sleep(Duration::from_millis(50)).await; // the work in flight at shutdown
    stream
        .write_all(format!("order {} shipped", order[0]).as_bytes())
        .await?;
    stream.close().await
}

/// Applies stock deliveries as they come. `#[brisk::traced]` puts this
/// function and the next in the await chain that dumps show.
#[brisk::traced]
async fn inventory_sync(mut deliveries: brisk::sync::mpsc::Receiver<u32>) -> u32 {
    let mut stock = 0;
    while let Some(n) = next_delivery(&mut deliveries).await {
        stock += n;
    }
    stock
}

#[brisk::traced]
async fn next_delivery(deliveries: &mut brisk::sync::mpsc::Receiver<u32>) -> Option<u32> {
    deliveries.recv().await
}

/// A client: one order, one answer.
async fn place_order(addr: std::net::SocketAddr, id: u8) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&[id]).await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    Ok(reply)
}
