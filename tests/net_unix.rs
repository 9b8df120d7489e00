//! `brisk::net::{UnixListener, UnixStream, UnixDatagram}` on the native
//! runtime.

#![cfg(unix)]

mod support;

use brisk::net::{UnixDatagram, UnixListener, UnixStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use std::io::{ErrorKind, IoSlice};
use std::net::Shutdown;
use support::{runtimes, within, LIMIT};

fn sock_path(tag: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("brisk-{tag}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn stream_echo_on_both_flavours() {
    within(LIMIT, || {
        for (name, rt) in support::runtimes() {
            let path = sock_path(name);
            rt.block_on(async {
                let listener = UnixListener::bind(&path).unwrap();
                let server = brisk::spawn(async move {
                    let (mut conn, _) = listener.accept().await.unwrap();
                    let mut buf = Vec::new();
                    conn.read_to_end(&mut buf).await.unwrap();
                    conn.write_all(&buf).await.unwrap();
                });
                let mut client = UnixStream::connect(&path).await.unwrap();
                client.write_all(b"over a unix socket").await.unwrap();
                client.close().await.unwrap(); // half-close: the server sees EOF
                let mut back = Vec::new();
                client.read_to_end(&mut back).await.unwrap();
                assert_eq!(back, b"over a unix socket");
                server.await.unwrap();
            });
            let _ = std::fs::remove_file(&path);
        }
    });
}

#[test]
fn connecting_to_a_missing_path_is_an_error() {
    brisk::run(async {
        let err = UnixStream::connect("/nonexistent/brisk.sock")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn pairs_and_datagrams() {
    brisk::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        (&a).write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        (&b).read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"x");

        let path = sock_path("dgram");
        let server = UnixDatagram::bind(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"hello", &path).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, _) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        let _ = std::fs::remove_file(&path);
    });
}

#[test]
fn outside_a_runtime_is_unsupported() {
    let err = UnixStream::pair().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
}

/// Several tasks receiving on one shared socket are all woken in turn.
#[test]
fn several_receivers_on_one_socket_all_get_datagrams() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        rt.block_on(async {
            let (tx, rx) = UnixDatagram::pair().unwrap();
            let rx = std::sync::Arc::new(rx);
            let receivers: Vec<_> = (0..4)
                .map(|_| {
                    let rx = rx.clone();
                    brisk::spawn(async move {
                        let mut buf = [0u8; 8];
                        rx.recv(&mut buf).await.unwrap()
                    })
                })
                .collect();
            // Let every receiver register before sending.
            for _ in 0..10 {
                brisk::task::yield_now().await;
            }
            for _ in 0..4 {
                tx.send(b"d").await.unwrap();
            }
            for r in receivers {
                assert_eq!(r.await.unwrap(), 1);
            }
        });
    });
}

#[test]
fn readiness_with_try_read_and_try_write() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (client, server) = UnixStream::pair().unwrap();
                let mut buf = [0; 4096];
                // Nothing written yet: there is nothing to read.
                let e = server.try_read(&mut buf).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");

                // A small message, read with readable + try_read; once it is
                // taken the socket is empty again.
                client.writable().await.unwrap();
                assert_eq!(client.try_write(b"ping").unwrap(), 4, "{flavor}");
                let got = loop {
                    assert!(server.readable().await.unwrap().is_readable());
                    match server.try_read(&mut buf) {
                        Ok(n) => break buf[..n].to_vec(),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(e) => panic!("{flavor}: {e}"),
                    }
                };
                assert_eq!(got, b"ping", "{flavor}");
                let e = server.try_read(&mut buf).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");

                // Much more than the socket buffers hold: the writer must
                // wait for room, the reader for data, until end-of-stream.
                let msg: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
                let write = async {
                    let mut off = 0;
                    while off < msg.len() {
                        client.writable().await.unwrap();
                        match client.try_write(&msg[off..]) {
                            Ok(n) => off += n,
                            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                            Err(e) => panic!("{flavor}: {e}"),
                        }
                    }
                    client.shutdown(Shutdown::Write).unwrap();
                };
                let read = async {
                    let mut got = Vec::new();
                    let mut buf = [0; 4096];
                    loop {
                        server.readable().await.unwrap();
                        match server.try_read(&mut buf) {
                            Ok(0) => break got,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                            Err(e) => panic!("{flavor}: {e}"),
                        }
                    }
                };
                let ((), got) = futures::join!(write, read);
                assert!(got == msg, "{flavor}: the bytes arrived changed");
            });
        }
    });
}

#[test]
fn vectored_writes_arrive_in_order() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (mut client, mut server) = UnixStream::pair().unwrap();
                let parts: [&[u8]; 3] = [b"hello ", b"vectored ", b"world"];
                let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
                let total: usize = parts.iter().map(|p| p.len()).sum();
                let mut bufs = &mut slices[..];
                let mut written = 0;
                while written < total {
                    let n = client.write_vectored(bufs).await.unwrap();
                    assert!(n > 0, "{flavor}");
                    written += n;
                    IoSlice::advance_slices(&mut bufs, n);
                }
                let mut got = vec![0; total];
                server.read_exact(&mut got).await.unwrap();
                assert_eq!(&got, b"hello vectored world", "{flavor}");

                // try_write_vectored once the socket is writable.
                let parts: [&[u8]; 3] = [b"ab", b"cd", b"ef"];
                let slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
                let n = loop {
                    client.writable().await.unwrap();
                    match client.try_write_vectored(&slices) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(e) => panic!("{flavor}: {e}"),
                    }
                };
                assert_eq!(n, 6, "{flavor}: an empty socket takes all six bytes");
                let mut got = [0; 6];
                server.read_exact(&mut got).await.unwrap();
                assert_eq!(&got, b"abcdef", "{flavor}");
            });
        }
    });
}

#[test]
fn addresses_of_a_pathname_socket_and_of_a_pair() {
    within(LIMIT, || {
        let path = sock_path("addrs");
        brisk::run(async {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let (client, (conn, from)) =
                futures::join!(async { UnixStream::connect(&path).await.unwrap() }, async {
                    listener.accept().await.unwrap()
                });
            // The client is unnamed; the accepted end is the listener's path.
            assert!(client.local_addr().unwrap().is_unnamed());
            assert_eq!(
                client.peer_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            assert_eq!(
                conn.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            assert!(conn.peer_addr().unwrap().is_unnamed());
            assert!(from.is_unnamed());

            let (a, b) = UnixStream::pair().unwrap();
            for s in [&a, &b] {
                assert!(s.local_addr().unwrap().is_unnamed());
                assert!(s.peer_addr().unwrap().is_unnamed());
            }
            // The halves report the same addresses.
            let (r, w) = UnixStream::split(&conn);
            assert_eq!(r.local_addr().unwrap().as_pathname(), Some(path.as_path()));
            assert!(w.peer_addr().unwrap().is_unnamed());
        });
        let _ = std::fs::remove_file(&path);
    });
}

#[test]
fn shutdown_write_gives_the_peer_end_of_stream() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (mut a, mut b) = UnixStream::pair().unwrap();
                a.write_all(b"bye").await.unwrap();
                a.shutdown(Shutdown::Write).unwrap();
                let mut got = Vec::new();
                b.read_to_end(&mut got).await.unwrap();
                assert_eq!(got, b"bye", "{flavor}");
                // The other direction still works.
                b.write_all(b"still here").await.unwrap();
                let mut back = [0; 10];
                a.read_exact(&mut back).await.unwrap();
                assert_eq!(&back, b"still here", "{flavor}");
                // Writing after the shutdown fails.
                let e = a.write_all(b"x").await.unwrap_err();
                assert_eq!(e.kind(), ErrorKind::BrokenPipe, "{flavor}");
            });
        }
    });
}

#[test]
fn borrowed_halves_are_used_concurrently() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (client, server) = UnixStream::pair().unwrap();
                // Spelled out: with futures' `AsyncReadExt` in scope,
                // `client.split()` would pick that trait's `split(self)`.
                let (mut cr, mut cw) = UnixStream::split(&client);
                let (mut sr, mut sw) = UnixStream::split(&server);
                let msg = vec![7u8; 1_000_000];
                // Both sides write more than the socket buffers hold before
                // reading: this only finishes if reading and writing proceed
                // at the same time.
                let c = async {
                    let mut got = vec![0; msg.len()];
                    futures::try_join!(cw.write_all(&msg), cr.read_exact(&mut got)).unwrap();
                    got
                };
                let s = async {
                    let mut got = vec![0; msg.len()];
                    futures::try_join!(sw.write_all(&msg), sr.read_exact(&mut got)).unwrap();
                    got
                };
                let (a, b) = futures::join!(c, s);
                assert!(a == msg && b == msg, "{flavor}");
            });
        }
    });
}

#[test]
fn owned_halves_work_from_two_tasks_at_once_and_reunite() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        rt.block_on(async {
            let (client, server) = UnixStream::pair().unwrap();
            let (mut sr, mut sw) = server.into_split();
            // The server echoes with its halves in two tasks, through a channel.
            let (tx, mut rx) = brisk::sync::mpsc::channel::<Vec<u8>>(4);
            let reader = brisk::spawn(async move {
                let mut buf = [0; 1024];
                loop {
                    let n = sr.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    tx.send(buf[..n].to_vec()).await.unwrap();
                }
                sr
            });
            let writer = brisk::spawn(async move {
                while let Some(chunk) = rx.recv().await {
                    sw.write_all(&chunk).await.unwrap();
                }
                sw
            });
            let (mut cr, mut cw) = client.into_split();
            let sender = brisk::spawn(async move {
                for i in 0..10_000u32 {
                    cw.write_all(&i.to_le_bytes()).await.unwrap();
                }
                cw
            });
            let mut got = vec![0; 40_000];
            cr.read_exact(&mut got).await.unwrap();
            let expected: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
            assert!(got == expected, "the echo changed the bytes");

            // Reuniting does not shut the write direction down: the whole
            // stream still works both ways.
            let cw = sender.await.unwrap();
            let mut client = cr.reunite(cw).expect("halves of one stream");
            client.write_all(b"after").await.unwrap();
            let mut back = [0; 5];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"after");

            // Dropping an owned write half shuts the direction down: the
            // server's reader sees end-of-stream and stops.
            let (cr, cw) = client.into_split();
            drop(cw);
            let sr = reader.await.unwrap();
            let sw = writer.await.unwrap();
            let server = sw.reunite(sr).expect("halves of one stream");
            let mut rest = Vec::new();
            let mut cr = cr;
            server.shutdown(Shutdown::Write).unwrap();
            cr.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
        });
    });
}

#[test]
fn reunite_rejects_halves_of_different_streams() {
    brisk::run(async {
        let (a, _a_peer) = UnixStream::pair().unwrap();
        let (b, _b_peer) = UnixStream::pair().unwrap();
        let (ar, aw) = a.into_split();
        let (br, bw) = b.into_split();
        let err = ar.reunite(bw).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("reunite") && msg.contains("two different `UnixStream`s"),
            "{msg}"
        );
        // Both halves come back and still fit their own partners.
        let brisk::net::unix::ReuniteError(ar, bw) = err;
        ar.reunite(aw).expect("a's halves");
        bw.reunite(br).expect("b's halves");
    });
}

#[test]
fn datagram_readiness_with_try_send_and_try_recv() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            let path = sock_path(&format!("dgram-try-{flavor}"));
            rt.block_on(async {
                let (a, b) = UnixDatagram::pair().unwrap();
                let mut buf = [0; 16];
                let e = b.try_recv(&mut buf).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");
                let n = loop {
                    a.writable().await.unwrap();
                    match a.try_send(b"one") {
                        Ok(n) => break n,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(e) => panic!("{flavor}: {e}"),
                    }
                };
                assert_eq!(n, 3);
                let n = loop {
                    b.readable().await.unwrap();
                    match b.try_recv(&mut buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(e) => panic!("{flavor}: {e}"),
                    }
                };
                assert_eq!(&buf[..n], b"one", "{flavor}");
                let e = b.try_recv(&mut buf).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");

                // To and from a path.
                let server = UnixDatagram::bind(&path).unwrap();
                let client = UnixDatagram::unbound().unwrap();
                loop {
                    client.writable().await.unwrap();
                    match client.try_send_to(b"two", &path) {
                        Ok(n) => break assert_eq!(n, 3),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(e) => panic!("{flavor}: {e}"),
                    }
                }
                let (n, from) = loop {
                    server.ready(brisk::net::Interest::READABLE).await.unwrap();
                    match server.try_recv_from(&mut buf) {
                        Ok(r) => break r,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(e) => panic!("{flavor}: {e}"),
                    }
                };
                assert_eq!(&buf[..n], b"two", "{flavor}");
                assert!(from.is_unnamed());
                assert!(server.take_error().unwrap().is_none());
            });
            let _ = std::fs::remove_file(&path);
        }
    });
}

/// `std`'s Unix sockets join the runtime non-blocking and leave it again,
/// with their registrations released.
#[test]
fn std_sockets_come_in_and_go_out() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            let before = rt.metrics().io_registrations;
            rt.block_on(async {
                let dir = std::env::temp_dir().join(format!(
                    "brisk-unix-std-{}-{}",
                    std::process::id(),
                    brisk::rand::u64()
                ));
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join("s.sock");
                let listener =
                    UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path).unwrap())
                        .unwrap();
                let accept = brisk::spawn(async move {
                    let (conn, _) = listener.accept().await.unwrap();
                    (listener, conn)
                });
                brisk::task::yield_now().await;
                let std_client = std::os::unix::net::UnixStream::connect(&path).unwrap();
                let mut client = UnixStream::from_std(std_client).unwrap();
                let (listener, mut conn) = accept.await.unwrap();
                client.write_all(b"hi").await.unwrap();
                let mut buf = [0; 2];
                conn.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"hi", "{flavor}");
                let std_listener = listener.into_std().unwrap();
                let e = std_listener.accept().unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");
                let mut std_conn = conn.into_std().unwrap();
                let e = std::io::Read::read(&mut std_conn, &mut buf).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");
                drop(client);

                let (a, b) = std::os::unix::net::UnixDatagram::pair().unwrap();
                let a = UnixDatagram::from_std(a).unwrap();
                let receiver = brisk::spawn(async move {
                    let mut buf = [0; 4];
                    let n = a.recv(&mut buf).await.unwrap();
                    (a, buf[..n].to_vec())
                });
                brisk::task::yield_now().await;
                b.send(b"ping").unwrap();
                let (a, got) = receiver.await.unwrap();
                assert_eq!(got, b"ping", "{flavor}");
                let e = a.into_std().unwrap().recv(&mut buf).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");
                std::fs::remove_dir_all(&dir).unwrap();
            });
            assert_eq!(rt.metrics().io_registrations, before, "{flavor}: a leak");
        }
    });
}
