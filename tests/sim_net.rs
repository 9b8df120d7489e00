//! The simulated network: TCP and UDP between simulated nodes, with
//! latency, flow control, partitions, crashes and lossy links.

use brisk::io::{AsyncReadExt, AsyncWriteExt};
use brisk::net::{TcpListener, TcpStream, UdpSocket};
use brisk::sim::{Latency, Link, NetConfig, Sim};
use std::io::ErrorKind;
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

/// A node that echoes every connection on `port` until EOF.
fn echo_node(sim: &mut Sim, name: &str, port: u16) {
    sim.node(name).init(move || async move {
        let listener = TcpListener::bind(("0.0.0.0", port)).await.unwrap();
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            brisk::spawn(async move {
                let mut buf = vec![0; 1500];
                loop {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
}

/// Connects, retrying while the server is not listening yet.
async fn connect_retry(addr: &str) -> TcpStream {
    loop {
        match TcpStream::connect(addr).await {
            Ok(s) => return s,
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => brisk::time::sleep(10 * MS).await,
            Err(e) => panic!("connect {addr}: {e}"),
        }
    }
}

/// A deterministic byte pattern.
fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt) ^ (i >> 8) as u8)
        .collect()
}

#[test]
fn tcp_echo_between_two_nodes_across_seeds() {
    for seed in 0..40 {
        let mut sim = Sim::builder().seed(seed).build();
        echo_node(&mut sim, "echo", 7);
        let client = sim.client("c", async move {
            let mut conn = connect_retry("echo:7").await;
            let mut total = 0;
            for round in 0..10u8 {
                let msg = pattern(100 + 997 * usize::from(round), round);
                conn.write_all(&msg).await.unwrap();
                let mut back = vec![0; msg.len()];
                conn.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg, "seed {seed} round {round}");
                total += msg.len();
            }
            conn.shutdown(Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            conn.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
            total
        });
        sim.run().unwrap();
        assert_eq!(client.output(), 10 * 100 + 997 * 45);
    }
}

#[test]
fn addresses_names_and_resolution() {
    let mut sim = Sim::builder().seed(1).build();
    sim.node("db").ip([192, 168, 1, 5]).init(|| async {
        let l = TcpListener::bind("0.0.0.0:5432").await.unwrap();
        assert_eq!(l.local_addr().unwrap(), "192.168.1.5:5432".parse().unwrap());
        loop {
            let (conn, peer) = l.accept().await.unwrap();
            assert_eq!(conn.peer_addr().unwrap(), peer);
            drop(conn);
        }
    });
    let client = sim.client("c", async {
        let db = brisk::net::lookup_host("db:5432").await.unwrap();
        let local = brisk::net::lookup_host("localhost:1").await.unwrap();
        let unknown = brisk::net::lookup_host("nowhere:1").await.unwrap_err();
        brisk::time::sleep(MS).await;
        let conn = TcpStream::connect("db:5432").await.unwrap();
        let own = brisk::sim::handle().node_name().to_owned();
        (
            db,
            local,
            unknown.kind(),
            conn.local_addr().unwrap(),
            conn.peer_addr().unwrap(),
            own,
        )
    });
    sim.run().unwrap();
    let (db, local, unknown, me, peer, own) = client.output();
    assert_eq!(db, vec!["192.168.1.5:5432".parse::<SocketAddr>().unwrap()]);
    assert_eq!(local, vec!["127.0.0.1:1".parse::<SocketAddr>().unwrap()]);
    assert_eq!(unknown, ErrorKind::NotFound);
    assert_eq!(own, "c");
    // The client got the first free default address.
    assert_eq!(sim.ip("c"), Some(IpAddr::from([10, 0, 0, 2])));
    assert_eq!(me.ip(), IpAddr::from([10, 0, 0, 2]));
    assert_eq!(peer, "192.168.1.5:5432".parse().unwrap());
}

#[test]
fn loopback_connections_stay_on_the_node() {
    let mut sim = Sim::builder().seed(2).build();
    let client = sim.client("solo", async {
        let l = TcpListener::bind("0.0.0.0:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        // The node's own address reaches the node itself.
        let own = brisk::sim::handle().ip("solo").unwrap();
        assert_eq!(l.local_addr().unwrap().ip(), own);
        let accept = brisk::spawn(async move {
            let (first, _) = l.accept().await.unwrap();
            drop(first);
            l.accept().await.unwrap().0
        });
        let by_ip = TcpStream::connect((own, port)).await.unwrap();
        assert_eq!(by_ip.peer_addr().unwrap(), SocketAddr::new(own, port));
        drop(by_ip);
        let mut a = TcpStream::connect(("localhost", port)).await.unwrap();
        let mut b = accept.await.unwrap();
        a.write_all(b"over loopback").await.unwrap();
        // Readiness, then a read that does not wait.
        let ready = b.ready(brisk::net::Interest::READABLE).await.unwrap();
        assert!(ready.is_readable() && !ready.is_read_closed());
        let mut buf = [0; 13];
        let n = b.try_read(&mut buf).unwrap();
        b.read_exact(&mut buf[n..]).await.unwrap();
        assert_eq!(
            b.try_read(&mut [0; 1]).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        // A closed peer makes the stream readable: EOF.
        drop(a);
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut [0; 1]).unwrap(), 0);
        buf
    });
    sim.run().unwrap();
    assert_eq!(&client.output(), b"over loopback");
}

#[test]
fn bytes_stay_in_order_under_random_latency() {
    for seed in 0..10 {
        let link = Link::new().latency(Latency::uniform(MS, 80 * MS)).loss(0.2);
        let mut sim = Sim::builder()
            .seed(seed)
            .net(NetConfig::new().link(link))
            .build();
        let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = got.clone();
        sim.node("sink").init(move || {
            let sink = sink.clone();
            async move {
                let l = TcpListener::bind("0.0.0.0:9").await.unwrap();
                let (mut conn, _) = l.accept().await.unwrap();
                let mut all = Vec::new();
                conn.read_to_end(&mut all).await.unwrap();
                *sink.borrow_mut() = all;
            }
        });
        sim.client("src", async {
            let mut conn = connect_retry("sink:9").await;
            for i in 0..2000u32 {
                conn.write_all(&i.to_be_bytes()).await.unwrap();
                if i % 97 == 0 {
                    brisk::time::sleep(MS).await;
                }
            }
        });
        sim.run().unwrap();
        // The source's stream was dropped (FIN); wait for the sink to read it.
        sim.run_for(Duration::from_secs(10)).unwrap();
        let all = got.borrow();
        let numbers: Vec<u32> = all
            .chunks(4)
            .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(numbers, (0..2000).collect::<Vec<_>>(), "seed {seed}");
    }
}

#[test]
fn connect_to_a_closed_port_is_refused_and_double_bind_is_in_use() {
    let mut sim = Sim::builder().seed(3).build();
    sim.node("quiet").init(|| async {
        let _l = TcpListener::bind("0.0.0.0:80").await.unwrap();
        let again = TcpListener::bind("0.0.0.0:80").await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::AddrInUse);
        let foreign = TcpListener::bind("10.9.9.9:81").await.unwrap_err();
        assert_eq!(foreign.kind(), ErrorKind::AddrNotAvailable);
        std::future::pending::<()>().await
    });
    let client = sim.client("c", async {
        brisk::time::sleep(MS).await;
        let refused = TcpStream::connect("quiet:81").await.unwrap_err();
        let no_host = TcpStream::connect("10.200.0.1:81").await.unwrap_err();
        let ok = TcpStream::connect("quiet:80").await.is_ok();
        (refused, no_host.kind(), ok)
    });
    sim.run().unwrap();
    let (refused, no_host, ok) = client.output();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert!(refused.to_string().contains("nothing listens"), "{refused}");
    assert_eq!(no_host, ErrorKind::HostUnreachable);
    assert!(ok);
}

#[test]
fn a_writer_to_a_peer_that_stops_reading_gets_pending() {
    let mut sim = Sim::builder()
        .seed(4)
        .net(NetConfig::new().tcp_buffer(4096))
        .build();
    let (go_tx, go_rx) = brisk::sync::oneshot::channel::<()>();
    let go_rx = std::cell::RefCell::new(Some(go_rx));
    sim.node("slow").init(move || {
        let go = go_rx.borrow_mut().take();
        async move {
            let l = TcpListener::bind("0.0.0.0:1").await.unwrap();
            let (mut conn, _) = l.accept().await.unwrap();
            // Reads nothing until told to.
            go.unwrap().await.unwrap();
            let mut all = Vec::new();
            conn.read_to_end(&mut all).await.unwrap();
            assert_eq!(all, pattern(100_000, 9));
        }
    });
    let client = sim.client("fast", async move {
        let conn = connect_retry("slow:1").await;
        let data = pattern(100_000, 9);
        // Without waiting: the window fills up after exactly the buffer.
        let mut sent = 0;
        conn.writable().await.unwrap();
        loop {
            match conn.try_write(&data[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(sent, 4096);
        // Not writable while the peer reads nothing.
        let writable = brisk::time::timeout(Duration::from_secs(60), conn.writable());
        assert!(writable.await.is_err());
        let mut conn = conn;
        let blocked = brisk::time::timeout(Duration::from_secs(60), conn.write_all(&data[sent..]));
        assert!(blocked.await.is_err(), "the write must stay pending");
        go_tx.send(()).unwrap();
        conn.write_all(&data[sent..]).await.unwrap();
        sent
    });
    sim.run().unwrap();
    assert_eq!(client.output(), 4096);
    sim.run_for(Duration::from_secs(1)).unwrap();
}

#[test]
fn half_close_gives_eof_and_the_other_direction_still_works() {
    let mut sim = Sim::builder().seed(5).build();
    sim.node("srv").init(|| async {
        let l = TcpListener::bind("0.0.0.0:2").await.unwrap();
        loop {
            let (mut conn, _) = l.accept().await.unwrap();
            let mut req = Vec::new();
            conn.read_to_end(&mut req).await.unwrap(); // until the client's FIN
            conn.write_all(format!("got {} bytes", req.len()).as_bytes())
                .await
                .unwrap();
        }
    });
    let client = sim.client("c", async {
        let mut conn = connect_retry("srv:2").await;
        conn.write_all(&[7; 3000]).await.unwrap();
        conn.shutdown(Shutdown::Write).unwrap();
        let w = conn.write_all(b"x").await.unwrap_err();
        assert_eq!(w.kind(), ErrorKind::BrokenPipe);
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await.unwrap(); // EOF: the server dropped it
        answer
    });
    sim.run().unwrap();
    assert_eq!(client.output(), "got 3000 bytes");
}

#[test]
fn dropping_with_unread_data_resets_the_peer() {
    let mut sim = Sim::builder().seed(6).build();
    sim.node("srv").init(|| async {
        let l = TcpListener::bind("0.0.0.0:3").await.unwrap();
        let (conn, _) = l.accept().await.unwrap();
        brisk::time::sleep(Duration::from_secs(1)).await;
        drop(conn); // the client's bytes were never read
        std::future::pending::<()>().await
    });
    let client = sim.client("c", async {
        let mut conn = connect_retry("srv:3").await;
        conn.write_all(b"unread").await.unwrap();
        let mut buf = [0; 8];
        conn.read(&mut buf).await.unwrap_err().kind()
    });
    sim.run().unwrap();
    assert_eq!(client.output(), ErrorKind::ConnectionReset);
}

#[test]
fn a_partition_stalls_a_stream_and_healing_loses_no_byte() {
    for seed in 0..10 {
        let mut sim = Sim::builder().seed(seed).build();
        echo_node(&mut sim, "echo", 7);
        let client = sim.client("c", async move {
            let sim = brisk::sim::handle();
            let conn = connect_retry("echo:7").await;
            let (mut rd, mut wr) = conn.into_split();
            let data = pattern(300_000, 1);
            let expect = data.clone();
            let writer = brisk::spawn(async move { wr.write_all(&data).await.unwrap() });
            let mut back = vec![0; expect.len()];
            let mut got = 0;
            let mut partitioned = false;
            let start = brisk::time::Instant::now();
            while got < back.len() {
                if got > 100_000 && !partitioned {
                    partitioned = true;
                    sim.partition("c", "echo");
                    let sim = sim.clone();
                    brisk::spawn(async move {
                        brisk::time::sleep(Duration::from_secs(5)).await;
                        sim.heal("c", "echo");
                    });
                }
                let n = rd.read(&mut back[got..]).await.unwrap();
                assert!(n > 0, "EOF too early");
                got += n;
            }
            writer.await.unwrap();
            assert!(back == expect, "bytes lost or reordered (seed {seed})");
            start.elapsed()
        });
        sim.run().unwrap();
        let took = client.output();
        // The 5 s partition is part of the transfer time.
        assert!(took > Duration::from_secs(5), "seed {seed}: {took:?}");
    }
}

#[test]
fn a_partition_holds_traffic_until_healed() {
    let mut sim = Sim::builder()
        .seed(7)
        .net(NetConfig::new().link(Link::new().latency(Latency::fixed(MS))))
        .build();
    echo_node(&mut sim, "echo", 7);
    let client = sim.client("c", async {
        let sim = brisk::sim::handle();
        let mut conn = connect_retry("echo:7").await;
        sim.partition("echo", "c");
        let healer = brisk::spawn(async move {
            brisk::time::sleep(Duration::from_secs(10)).await;
            sim.heal("c", "echo");
        });
        let start = brisk::time::Instant::now();
        conn.write_all(b"held").await.unwrap();
        let mut buf = [0; 4];
        conn.read_exact(&mut buf).await.unwrap();
        healer.await.unwrap();
        (buf, start.elapsed())
    });
    sim.run().unwrap();
    let (buf, took) = client.output();
    assert_eq!(&buf, b"held");
    // Held for the 10 s partition, then one fresh round trip.
    assert_eq!(took, Duration::from_secs(10) + 2 * MS);
}

#[test]
fn a_long_partition_times_the_connection_out() {
    let mut sim = Sim::builder()
        .seed(8)
        .net(NetConfig::new().tcp_timeout(Duration::from_secs(3)))
        .build();
    let (tx, rx) = brisk::sync::oneshot::channel::<ErrorKind>();
    let tx = std::cell::RefCell::new(Some(tx));
    sim.node("srv").init(move || {
        let tx = tx.borrow_mut().take();
        async move {
            let l = TcpListener::bind("0.0.0.0:4").await.unwrap();
            let (mut conn, _) = l.accept().await.unwrap();
            let mut buf = [0; 16];
            // The client's request never arrives; after the heal, its reset does.
            let e = conn.read(&mut buf).await.unwrap_err();
            tx.unwrap().send(e.kind()).unwrap();
        }
    });
    let client = sim.client("c", async move {
        let sim = brisk::sim::handle();
        let mut conn = connect_retry("srv:4").await;
        sim.partition_oneway("c", "srv");
        let start = brisk::time::Instant::now();
        conn.write_all(b"request").await.unwrap();
        let mut buf = [0; 16];
        let e = conn.read(&mut buf).await.unwrap_err();
        let waited = start.elapsed();
        // Later operations fail the same way.
        let again = conn.write_all(b"more").await.unwrap_err().kind();
        sim.heal("c", "srv");
        let server_saw = rx.await.unwrap();
        (e.kind(), again, waited, server_saw)
    });
    sim.run().unwrap();
    let (kind, again, waited, server_saw) = client.output();
    assert_eq!(kind, ErrorKind::TimedOut);
    assert_eq!(again, ErrorKind::TimedOut);
    assert!(waited >= Duration::from_secs(3) && waited < Duration::from_secs(4));
    assert_eq!(server_saw, ErrorKind::ConnectionReset);
}

#[test]
fn a_crash_resets_connections_and_a_restart_accepts_again() {
    let mut sim = Sim::builder().seed(9).build();
    echo_node(&mut sim, "echo", 7);
    let client = sim.client("c", async {
        let sim = brisk::sim::handle();
        let mut conn = connect_retry("echo:7").await;
        conn.write_all(b"one").await.unwrap();
        let mut buf = [0; 3];
        conn.read_exact(&mut buf).await.unwrap();
        sim.crash("echo");
        brisk::time::sleep(Duration::from_secs(1)).await;
        let read = conn.read(&mut buf).await.unwrap_err().kind();
        let write = conn.write_all(b"two").await.unwrap_err().kind();
        // Down: nothing listens.
        let down = TcpStream::connect("echo:7").await.unwrap_err().kind();
        sim.restart("echo");
        brisk::task::yield_now().await;
        let mut fresh = connect_retry("echo:7").await;
        fresh.write_all(b"two").await.unwrap();
        fresh.read_exact(&mut buf).await.unwrap();
        (read, write, down, buf)
    });
    sim.run().unwrap();
    let (read, write, down, buf) = client.output();
    assert_eq!(read, ErrorKind::ConnectionReset);
    assert_eq!(write, ErrorKind::ConnectionReset);
    assert_eq!(down, ErrorKind::ConnectionRefused);
    assert_eq!(&buf, b"two");
}

#[test]
fn clog_holds_all_of_a_nodes_traffic() {
    let mut sim = Sim::builder()
        .seed(10)
        .net(NetConfig::new().link(Link::new().latency(Latency::fixed(MS))))
        .build();
    echo_node(&mut sim, "echo", 7);
    let client = sim.client("c", async {
        let sim = brisk::sim::handle();
        let mut conn = connect_retry("echo:7").await;
        sim.clog("echo");
        conn.write_all(b"x").await.unwrap();
        let mut buf = [0; 1];
        let held = brisk::time::timeout(Duration::from_secs(2), conn.read_exact(&mut buf))
            .await
            .is_err();
        sim.unclog("echo");
        conn.read_exact(&mut buf).await.unwrap();
        held
    });
    sim.run().unwrap();
    assert!(client.output());
}

#[test]
fn udp_loss_and_duplication_match_the_link_over_many_seeds() {
    const SENT: usize = 500;
    let (mut received, mut reordered) = (0usize, 0usize);
    let seeds = 20;
    for seed in 0..seeds {
        let link = Link::new()
            .latency(Latency::uniform(MS, 3 * MS))
            .loss(0.2)
            .duplicate(0.1)
            .reorder(0.05);
        let mut sim = Sim::builder()
            .seed(seed)
            .net(NetConfig::new().link(link).udp_queue(10_000))
            .build();
        let counts = std::rc::Rc::new(std::cell::Cell::new((0usize, 0usize)));
        let out = counts.clone();
        sim.node("rx").init(move || {
            let out = out.clone();
            async move {
                let sock = UdpSocket::bind("0.0.0.0:53").await.unwrap();
                let mut last = 0u32;
                let mut buf = [0; 8];
                loop {
                    let (n, _) = sock.recv_from(&mut buf).await.unwrap();
                    let i = u32::from_be_bytes(buf[..n].try_into().unwrap());
                    let (got, back) = out.get();
                    out.set((got + 1, back + usize::from(i < last)));
                    last = i;
                }
            }
        });
        sim.client("tx", async {
            let sock = UdpSocket::bind("0.0.0.0:0").await.unwrap();
            let big = vec![0; 65_508];
            let e = sock.send_to(&big, "rx:53").await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            for i in 0..SENT as u32 {
                sock.send_to(&i.to_be_bytes(), "rx:53").await.unwrap();
                brisk::time::sleep(Duration::from_micros(500)).await;
            }
            brisk::time::sleep(Duration::from_secs(1)).await;
        });
        sim.run().unwrap();
        let (got, back) = counts.get();
        received += got;
        reordered += back;
    }
    let ratio = received as f64 / (SENT * seeds as usize) as f64;
    // Expected 0.8 × 1.1 = 0.88.
    assert!((0.84..0.92).contains(&ratio), "delivery ratio {ratio}");
    assert!(reordered > 0, "some datagrams must arrive out of order");
}

#[test]
fn udp_connect_send_recv_and_partition_drops() {
    let mut sim = Sim::builder().seed(11).build();
    sim.node("srv").init(|| async {
        let sock = UdpSocket::bind("0.0.0.0:99").await.unwrap();
        let mut buf = [0; 64];
        loop {
            let (n, from) = sock.recv_from(&mut buf).await.unwrap();
            sock.send_to(&buf[..n], from).await.unwrap();
        }
    });
    let client = sim.client("c", async {
        let sim = brisk::sim::handle();
        let sock = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        sock.connect("srv:99").await.unwrap();
        sock.send(b"hi").await.unwrap();
        let mut buf = [0; 64];
        let n = sock.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hi");
        sim.partition("c", "srv");
        sock.send(b"lost").await.unwrap();
        let lost = brisk::time::timeout(Duration::from_secs(1), sock.recv(&mut buf))
            .await
            .is_err();
        sim.heal("c", "srv");
        sock.send(b"back").await.unwrap();
        let n = sock.recv(&mut buf).await.unwrap();
        (lost, buf[..n].to_vec())
    });
    sim.run().unwrap();
    let (lost, back) = client.output();
    assert!(lost);
    assert_eq!(back, b"back");
}

/// Echo traffic, a partition and a crash, for the determinism check.
fn busy_network(sim: &mut Sim) {
    echo_node(sim, "echo", 7);
    sim.client("c", async {
        let h = brisk::sim::handle();
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(connect_retry("echo:7").await);
        }
        for (i, conn) in conns.iter_mut().enumerate() {
            if i == 1 {
                h.partition("c", "echo");
                let heal = h.clone();
                brisk::spawn(async move {
                    brisk::time::sleep(Duration::from_millis(brisk::rand::range(10..500u64))).await;
                    heal.heal("c", "echo");
                });
            }
            let msg = pattern(5000, i as u8);
            conn.write_all(&msg).await.unwrap();
            let mut back = vec![0; msg.len()];
            conn.read_exact(&mut back).await.unwrap();
        }
        let udp = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        for _ in 0..20 {
            udp.send_to(b"x", "echo:9").await.unwrap();
        }
        h.crash("echo");
        brisk::task::yield_now().await;
        let mut buf = [0; 1];
        conns[0].read(&mut buf).await.unwrap_err();
    });
}

#[test]
fn network_runs_are_deterministic() {
    for seed in 0..5 {
        let link = Link::new().latency(Latency::uniform(MS, 20 * MS)).loss(0.1);
        Sim::builder()
            .seed(seed)
            .net(NetConfig::new().link(link))
            .check_determinism(busy_network)
            .unwrap();
    }
    // And the network does change the trace: another seed differs.
    let trace = |seed| {
        let mut sim = Sim::builder().seed(seed).record_trace(true).build();
        busy_network(&mut sim);
        sim.run().unwrap();
        (sim.now(), sim.trace().unwrap().len())
    };
    assert_eq!(trace(1), trace(1));
    assert_ne!(trace(1), trace(2));
}

#[test]
fn dropped_sockets_release_their_registrations_and_ports() {
    let mut sim = Sim::builder().seed(12).build();
    let client = sim.client("c", async {
        {
            let l = TcpListener::bind("0.0.0.0:80").await.unwrap();
            let u = UdpSocket::bind("0.0.0.0:80").await.unwrap();
            let accept = brisk::spawn(async move { l.accept().await.unwrap().0 });
            let s = TcpStream::connect("127.0.0.1:80").await.unwrap();
            let a = accept.await.unwrap();
            drop((u, s, a));
        }
        brisk::time::sleep(Duration::from_secs(1)).await;
        // The port is free again.
        TcpListener::bind("0.0.0.0:80").await.is_ok()
    });
    sim.run().unwrap();
    assert!(client.output());
    // Everything was dropped.
    assert_eq!(sim.open_sockets("c"), 0);
}

#[test]
fn open_sockets_counts_what_a_node_holds_and_a_crash_closes_them() {
    let mut sim = Sim::builder().seed(13).build();
    echo_node(&mut sim, "echo", 7);
    let client = sim.client("c", async {
        let a = connect_retry("echo:7").await;
        let b = connect_retry("echo:7").await;
        brisk::time::sleep(Duration::from_secs(1)).await;
        (a, b)
    });
    sim.run().unwrap();
    // The listener and two accepted streams; the client holds two.
    assert_eq!(sim.open_sockets("echo"), 3);
    let conns = client.output();
    assert_eq!(sim.open_sockets("c"), 2);
    sim.crash("echo");
    assert_eq!(sim.open_sockets("echo"), 0);
    drop(conns);
    assert_eq!(sim.open_sockets("c"), 0);
}

/// Not a benchmark (no timing is asserted): prints how many simulated TCP
/// echo round trips run per wall-clock second.
#[test]
fn echo_round_trip_rate() {
    const ROUND_TRIPS: usize = 5_000;
    let mut sim = Sim::builder().seed(14).build();
    echo_node(&mut sim, "echo", 7);
    sim.client("c", async {
        let mut conn = connect_retry("echo:7").await;
        let mut buf = [0; 32];
        for _ in 0..ROUND_TRIPS {
            conn.write_all(&[1; 32]).await.unwrap();
            conn.read_exact(&mut buf).await.unwrap();
        }
    });
    let start = std::time::Instant::now();
    sim.run().unwrap();
    let wall = start.elapsed();
    eprintln!(
        "{ROUND_TRIPS} simulated TCP echo round trips in {wall:?} ({:.0}/s), {:?} simulated",
        ROUND_TRIPS as f64 / wall.as_secs_f64(),
        sim.now()
    );
}

#[test]
fn connections_survive_a_swizzle_clog() {
    for seed in 0..5 {
        let mut sim = Sim::builder().seed(seed).build();
        for n in ["e1", "e2", "e3"] {
            echo_node(&mut sim, n, 7);
        }
        let client = sim.client("c", async {
            let h = brisk::sim::handle();
            let mut conns = Vec::new();
            for n in ["e1:7", "e2:7", "e3:7"] {
                conns.push(connect_retry(n).await);
            }
            let chaos =
                brisk::spawn(h.swizzle_clog(&["e1", "e2", "e3", "c"], Duration::from_secs(2)));
            let start = brisk::time::Instant::now();
            let mut rounds = 0;
            while !chaos.is_finished() || rounds < 10 {
                for (i, conn) in conns.iter_mut().enumerate() {
                    let msg = pattern(2000, (rounds + i) as u8);
                    conn.write_all(&msg).await.unwrap();
                    let mut back = vec![0; msg.len()];
                    conn.read_exact(&mut back).await.unwrap();
                    assert_eq!(back, msg);
                }
                rounds += 1;
                brisk::time::sleep(100 * MS).await;
            }
            chaos.await.unwrap();
            start.elapsed()
        });
        sim.run().unwrap();
        // Eight steps of 2 s: four clogs, four unclogs.
        assert!(client.output() >= Duration::from_secs(16));
    }
}

#[test]
fn connect_through_a_partition_times_out() {
    let mut sim = Sim::builder()
        .seed(15)
        .net(NetConfig::new().tcp_timeout(Duration::from_secs(2)))
        .build();
    echo_node(&mut sim, "echo", 7);
    let client = sim.client("c", async {
        brisk::time::sleep(MS).await;
        brisk::sim::handle().partition("c", "echo");
        let start = brisk::time::Instant::now();
        let e = TcpStream::connect("echo:7").await.unwrap_err();
        (e.kind(), start.elapsed())
    });
    sim.run().unwrap();
    let (kind, took) = client.output();
    assert_eq!(kind, ErrorKind::TimedOut);
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(3));
}

#[test]
fn a_link_of_its_own_overrides_the_default() {
    let mut sim = Sim::builder()
        .seed(16)
        .net(NetConfig::new().link(Link::new().latency(Latency::fixed(MS))))
        .build();
    sim.node("far").init(|| async {
        let s = UdpSocket::bind("0.0.0.0:7").await.unwrap();
        let mut buf = [0; 8];
        loop {
            let (n, from) = s.recv_from(&mut buf).await.unwrap();
            s.send_to(&buf[..n], from).await.unwrap();
        }
    });
    let client = sim.client("c", async {
        let s = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        let start = brisk::time::Instant::now();
        s.send_to(b"x", "far:7").await.unwrap();
        s.recv_from(&mut [0; 8]).await.unwrap();
        start.elapsed()
    });
    sim.set_link(
        "c",
        "far",
        Link::new().latency(Latency::fixed(Duration::from_millis(150))),
    );
    sim.run().unwrap();
    assert_eq!(client.output(), Duration::from_millis(300));
}

#[test]
fn held_acknowledgements_stall_the_writer_and_time_it_out() {
    let mut sim = Sim::builder()
        .seed(17)
        .net(
            NetConfig::new()
                .tcp_buffer(8192)
                .tcp_timeout(Duration::from_secs(2)),
        )
        .build();
    let (tx, rx) = brisk::sync::oneshot::channel::<(usize, ErrorKind)>();
    let tx = std::cell::RefCell::new(Some(tx));
    sim.node("srv").init(move || {
        let tx = tx.borrow_mut().take();
        async move {
            let l = TcpListener::bind("0.0.0.0:5").await.unwrap();
            let (mut conn, _) = l.accept().await.unwrap();
            let mut total = 0;
            let mut buf = [0; 1000];
            let err = loop {
                match conn.read(&mut buf).await {
                    Ok(n) => total += n,
                    Err(e) => break e.kind(),
                }
            };
            tx.unwrap().send((total, err)).unwrap();
        }
    });
    let client = sim.client("c", async move {
        let mut conn = connect_retry("srv:5").await;
        // Data flows to the server, but its acknowledgements are held.
        brisk::sim::handle().partition_oneway("srv", "c");
        let start = brisk::time::Instant::now();
        let e = conn.write_all(&[5; 100_000]).await.unwrap_err();
        let waited = start.elapsed();
        (e.kind(), waited, rx.await.unwrap())
    });
    sim.run().unwrap();
    let (kind, waited, (read, server_err)) = client.output();
    assert_eq!(kind, ErrorKind::TimedOut);
    assert!(waited >= Duration::from_secs(2), "{waited:?}");
    // The server read one window's worth, then the client's reset.
    assert_eq!(read, 8192);
    assert_eq!(server_err, ErrorKind::ConnectionReset);
}

/// Echo clients against servers that are partitioned, clogged, crashed and
/// restarted at random: every byte that comes back is the byte sent, in
/// order; failures are only the documented errors; and once the faults
/// stop, every server answers again.
#[test]
fn echo_survives_random_faults_across_seeds() {
    let mut total_ok = 0;
    for seed in 0..150 {
        let link = Link::new()
            .latency(Latency::uniform(MS, 20 * MS))
            .loss(0.05);
        let mut sim = Sim::builder()
            .seed(seed)
            .net(
                NetConfig::new()
                    .link(link)
                    .tcp_buffer(2048)
                    .tcp_timeout(Duration::from_secs(2)),
            )
            .time_limit(Duration::from_secs(3600))
            .build();
        let servers = ["s1", "s2", "s3"];
        for s in servers {
            echo_node(&mut sim, s, 7);
        }
        let client = sim.client("c", async move {
            let h = brisk::sim::handle();
            let chaos_h = h.clone();
            let chaos = brisk::spawn(async move {
                for _ in 0..30 {
                    brisk::time::sleep(Duration::from_millis(brisk::rand::range(1..400u64))).await;
                    let s = servers[brisk::rand::range(0..3usize)];
                    match brisk::rand::range(0..6u32) {
                        0 => chaos_h.partition("c", s),
                        1 => chaos_h.partition_oneway(s, "c"),
                        2 => chaos_h.heal("c", s),
                        3 => chaos_h.clog(s),
                        4 => chaos_h.unclog(s),
                        _ => {
                            if brisk::rand::bool(0.5) {
                                chaos_h.crash(s)
                            } else {
                                chaos_h.restart(s)
                            }
                        }
                    }
                }
                chaos_h.heal_all();
                for s in servers {
                    chaos_h.unclog(s);
                    chaos_h.restart(s);
                }
            });
            let mut ok = 0;
            let mut round = 0u8;
            let exchange = |target: &'static str, round: u8| async move {
                let conn = TcpStream::connect((target, 7)).await?;
                let msg = pattern(brisk::rand::range(1..6000usize), round);
                let mut back = vec![0; msg.len()];
                let (mut rd, mut wr) = conn.split();
                let (w, r) = brisk::join!(wr.write_all(&msg), async {
                    let mut got = 0;
                    while got < back.len() {
                        let n = rd.read(&mut back[got..]).await?;
                        assert!(n > 0, "EOF from an echo server that was not closed");
                        assert_eq!(back[got..got + n], msg[got..got + n], "corrupted echo");
                        got += n;
                    }
                    Ok::<_, std::io::Error>(())
                });
                w?;
                r?;
                Ok::<_, std::io::Error>(())
            };
            while !chaos.is_finished() {
                round = round.wrapping_add(1);
                let target = servers[brisk::rand::range(0..3usize)];
                match brisk::time::timeout(Duration::from_secs(5), exchange(target, round)).await {
                    Ok(Ok(())) => ok += 1,
                    Ok(Err(e)) => assert!(
                        matches!(
                            e.kind(),
                            ErrorKind::ConnectionRefused
                                | ErrorKind::ConnectionReset
                                | ErrorKind::TimedOut
                                | ErrorKind::BrokenPipe
                        ),
                        "unexpected error {e}"
                    ),
                    Err(_) => {}
                }
            }
            chaos.await.unwrap();
            // Faults are over: every server answers (after it rebinds).
            for s in servers {
                let mut conn = loop {
                    match TcpStream::connect((s, 7)).await {
                        Ok(c) => break c,
                        Err(_) => brisk::time::sleep(10 * MS).await,
                    }
                };
                conn.write_all(b"last").await.unwrap();
                let mut buf = [0; 4];
                conn.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"last");
            }
            ok
        });
        if let Err(e) = sim.run() {
            panic!("seed {seed}: {e}");
        }
        total_ok += client.output();
    }
    // The faults leave room for work: many exchanges succeed.
    assert!(total_ok > 150, "only {total_ok} exchanges succeeded");
}

/// The simulator's sockets are simulated: exchanging them with `std`
/// sockets is refused with an error that says why and what to do.
#[test]
fn std_sockets_are_refused_clearly() {
    let mut sim = Sim::builder().seed(4).build();
    let client = sim.client("c", async {
        let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let listener = TcpListener::from_std(std).unwrap_err();
        let std = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let udp = UdpSocket::from_std(std).unwrap_err();
        let bound = TcpListener::bind("0.0.0.0:80").await.unwrap();
        let out = bound.into_std().unwrap_err();
        (listener, udp, out)
    });
    sim.run().unwrap();
    let (listener, udp, out) = client.output();
    for (e, api) in [
        (listener, "TcpListener::from_std"),
        (udp, "UdpSocket::from_std"),
        (out, "TcpListener::into_std"),
    ] {
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        let msg = e.to_string();
        assert!(msg.contains(api), "{msg}");
        assert!(msg.contains("simulat"), "{msg}");
        assert!(msg.contains("native runtime"), "{msg}");
    }
}
