//! TCP on the native runtime: round trips, halves, readiness, socket
//! options, faults (refused, in use, reset, half-closed, stalled peer,
//! a peer sending garbage, runtime gone) and registration leaks.

mod support;

use brisk::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use brisk::net::{lookup_host, TcpListener, TcpStream};
use brisk::time::timeout;
use std::io::{ErrorKind, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::time::Duration;
use support::{runtimes, within, LIMIT};

/// A connected pair: (client, server).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

/// A local address nobody listens on (bound, then released).
fn unused_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[test]
fn echo_round_trip_on_both_flavours() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = brisk::spawn(async move {
                    let (mut conn, _) = listener.accept().await.unwrap();
                    let mut buf = vec![0; 64 * 1024];
                    loop {
                        let n = conn.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        conn.write_all(&buf[..n]).await.unwrap();
                    }
                });
                let client = TcpStream::connect(addr).await.unwrap();
                // Large enough to need several reads and writes.
                let msg: Vec<u8> = (0..1_000_000u32).map(|i| i as u8).collect();
                let (mut r, mut w) = client.split();
                let write = async {
                    w.write_all(&msg).await.unwrap();
                    w.close().await.unwrap();
                };
                let mut echo = Vec::new();
                let read = r.read_to_end(&mut echo);
                let ((), n) = futures::join!(write, read);
                assert_eq!(n.unwrap(), msg.len(), "{flavor}");
                assert!(echo == msg, "{flavor}: echo differs");
                server.await.unwrap();
            });
        }
    });
}

#[test]
fn many_concurrent_connections_on_multi_thread() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        rt.block_on(async {
            const N: usize = 200;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = brisk::spawn(async move {
                let mut conns = Vec::new();
                for _ in 0..N {
                    let (mut conn, _) = listener.accept().await.unwrap();
                    conns.push(brisk::spawn(async move {
                        let mut buf = [0; 8];
                        conn.read_exact(&mut buf).await.unwrap();
                        conn.write_all(&buf).await.unwrap();
                    }));
                }
                for c in conns {
                    c.await.unwrap();
                }
            });
            let clients: Vec<_> = (0..N as u64)
                .map(|i| {
                    brisk::spawn(async move {
                        let mut s = TcpStream::connect(addr).await.unwrap();
                        s.write_all(&i.to_le_bytes()).await.unwrap();
                        let mut buf = [0; 8];
                        s.read_exact(&mut buf).await.unwrap();
                        assert_eq!(u64::from_le_bytes(buf), i);
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
            server.await.unwrap();
        });
    });
}

#[test]
fn into_split_halves_work_from_two_tasks_at_once() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (client, server) = pair().await;
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
                    for i in 0..100u32 {
                        cw.write_all(&i.to_le_bytes()).await.unwrap();
                    }
                    cw
                });
                let mut got = [0; 400];
                cr.read_exact(&mut got).await.unwrap();
                let expected: Vec<u8> = (0..100u32).flat_map(|i| i.to_le_bytes()).collect();
                assert_eq!(&got[..], &expected[..], "{flavor}");
                // Reunite the client and shut its write side: the server sees EOF.
                let cw = sender.await.unwrap();
                let client = cr.reunite(cw).expect("same stream");
                client.shutdown(Shutdown::Write).unwrap();
                let sr = reader.await.unwrap();
                let sw = writer.await.unwrap();
                let server = sr.reunite(sw).expect("same stream");
                assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
            });
        }
    });
}

#[test]
fn split_halves_are_used_concurrently() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (client, server) = pair().await;
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let msg = vec![7u8; 300_000];
                // Both sides write a lot before reading: only works if reading
                // and writing proceed at the same time.
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
fn reunite_rejects_halves_of_different_streams() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(async {
            let (a, _a_peer) = pair().await;
            let (b, _b_peer) = pair().await;
            let (ar, _aw) = a.into_split();
            let (_br, bw) = b.into_split();
            let err = ar.reunite(bw).unwrap_err();
            assert!(err.to_string().contains("different"));
        });
    });
}

#[test]
fn readiness_with_try_read_and_try_write() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (client, server) = pair().await;
                let msg = vec![3u8; 200_000];
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
                        let ready = server.readable().await.unwrap();
                        assert!(ready.is_readable());
                        match server.try_read(&mut buf) {
                            Ok(0) => break got,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                            Err(e) => panic!("{flavor}: {e}"),
                        }
                    }
                };
                let ((), got) = futures::join!(write, read);
                assert!(got == msg, "{flavor}");
            });
        }
    });
}

#[test]
fn poll_write_vectored_writes_every_buffer_in_order() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (mut client, mut server) = pair().await;
                let parts: [&[u8]; 3] = [b"hello ", b"vectored ", b"world"];
                let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
                let total: usize = parts.iter().map(|p| p.len()).sum();
                let mut written = 0;
                let mut bufs = &mut slices[..];
                while written < total {
                    let n = std::future::poll_fn(|cx| {
                        Pin::new(&mut client).poll_write_vectored(cx, bufs)
                    })
                    .await
                    .unwrap();
                    assert!(n > 0);
                    written += n;
                    IoSlice::advance_slices(&mut bufs, n);
                }
                let mut got = vec![0; total];
                server.read_exact(&mut got).await.unwrap();
                assert_eq!(&got, b"hello vectored world", "{flavor}");
                // try_write_vectored as well.
                let n = client
                    .try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
                    .or_else(|e| {
                        assert_eq!(e.kind(), ErrorKind::WouldBlock);
                        Ok::<_, std::io::Error>(0)
                    })
                    .unwrap();
                if n == 0 {
                    client.write_all(b"abcd").await.unwrap();
                }
                let mut got = [0; 4];
                server.read_exact(&mut got).await.unwrap();
                assert_eq!(&got, b"abcd");
            });
        }
    });
}

#[test]
fn socket_options_and_addresses() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            assert_ne!(addr.port(), 0);
            let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
            let client = client.unwrap();
            let (server, peer) = accepted.unwrap();
            assert_eq!(client.peer_addr().unwrap(), addr);
            assert_eq!(server.local_addr().unwrap(), addr);
            assert_eq!(server.peer_addr().unwrap(), peer);
            assert_eq!(client.local_addr().unwrap(), peer);
            client.set_nodelay(true).unwrap();
            assert!(client.nodelay().unwrap());
            client.set_nodelay(false).unwrap();
            assert!(!client.nodelay().unwrap());
            client.set_ttl(42).unwrap();
            assert_eq!(client.ttl().unwrap(), 42);
            listener.set_ttl(17).unwrap();
            assert_eq!(listener.ttl().unwrap(), 17);
            assert!(client.take_error().unwrap().is_none());
            let (r, w) = client.into_split();
            assert_eq!(r.peer_addr().unwrap(), addr);
            assert_eq!(w.local_addr().unwrap(), peer);
        });
    });
}

#[test]
fn connect_under_a_timeout() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let s = timeout(Duration::from_secs(10), TcpStream::connect(addr))
                    .await
                    .expect("connect finished in time")
                    .unwrap();
                assert_eq!(s.peer_addr().unwrap(), addr, "{flavor}");
                // Names are resolved too.
                let s = timeout(
                    Duration::from_secs(10),
                    TcpStream::connect(format!("localhost:{}", addr.port())),
                )
                .await
                .expect("connect finished in time");
                // `localhost` may resolve to ::1 first, where nobody listens.
                if let Ok(s) = s {
                    assert_eq!(s.peer_addr().unwrap().port(), addr.port());
                }
            });
        }
    });
}

/// A connect that hangs (the listener's accept queue is full, so the
/// kernel drops its SYNs) ends with the timeout, and the abandoned connect
/// releases its registration.
#[test]
fn a_hanging_connect_ends_with_its_timeout() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            // Never accepts: once its queue is full, new connects hang.
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let mut queued = Vec::new();
            let hung = rt.block_on(async {
                for _ in 0..1024 {
                    match timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
                        Ok(Ok(s)) => queued.push(s),
                        Ok(Err(e)) => panic!("{flavor}: {e}"),
                        Err(_elapsed) => return true,
                    }
                }
                false
            });
            assert!(
                hung,
                "{flavor}: 1024 connects to a full queue all went through"
            );
            drop(queued);
            assert_eq!(rt.metrics().io_registrations, 0, "{flavor}");
        }
    });
}

#[test]
fn lookup_host_resolves_localhost() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let pool = || {
                    let handle = brisk::runtime::Handle::current();
                    brisk::runtime::RuntimeMetrics::of(&handle)
                        .unwrap()
                        .blocking_threads
                };
                assert_eq!(pool(), 0, "{flavor}: a fresh runtime");
                let addrs = lookup_host("localhost:0").await.unwrap();
                // Resolved off the runtime's threads, on its blocking pool.
                assert!(pool() >= 1, "{flavor}");
                assert!(!addrs.is_empty(), "{flavor}");
                assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 0));
                let addrs = lookup_host(("127.0.0.1", 80)).await.unwrap();
                assert_eq!(addrs, vec!["127.0.0.1:80".parse::<SocketAddr>().unwrap()]);
            });
        }
    });
}

// ---- Faults ----

#[test]
fn connecting_to_a_closed_port_is_refused() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let addr = unused_addr();
                let err = timeout(Duration::from_secs(10), TcpStream::connect(addr))
                    .await
                    .expect("refused quickly")
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{flavor}: {err}");
            });
            assert_eq!(rt.metrics().io_registrations, 0, "{flavor}");
        }
    });
}

#[test]
fn binding_an_address_twice_is_addr_in_use() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = first.local_addr().unwrap();
                let err = TcpListener::bind(addr).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::AddrInUse, "{flavor}: {err}");
            });
        }
    });
}

#[test]
fn a_peer_reset_is_an_error_not_a_hang() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (mut client, server) = pair().await;
                client.write_all(b"never read").await.unwrap();
                // Wait until the bytes sit in the server's receive buffer, then
                // close it unread: Linux answers with RST instead of FIN.
                server.readable().await.unwrap();
                drop(server);
                let mut buf = [0; 16];
                let read = timeout(Duration::from_secs(10), client.read(&mut buf))
                    .await
                    .expect("no hang");
                match read {
                    Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{flavor}: {e}"),
                    Ok(n) => assert_eq!(n, 0, "{flavor}: read after reset"),
                }
                // Writing to a reset connection fails (maybe after one write
                // that the kernel still accepts).
                let mut last = Ok(());
                for _ in 0..3 {
                    last = timeout(Duration::from_secs(10), client.write_all(b"more"))
                        .await
                        .expect("no hang");
                    if last.is_err() {
                        break;
                    }
                }
                let e = last.expect_err("writes to a reset peer fail");
                assert!(
                    matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
                    "{flavor}: {e}"
                );
            });
        }
    });
}

#[test]
fn a_half_closed_peer_gives_eof_and_still_reads() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (mut client, mut server) = pair().await;
                server.shutdown(Shutdown::Write).unwrap();
                let mut buf = [0; 8];
                let n = timeout(Duration::from_secs(10), client.read(&mut buf))
                    .await
                    .expect("no hang")
                    .unwrap();
                assert_eq!(n, 0, "{flavor}: EOF");
                // EOF stays EOF.
                assert_eq!(client.read(&mut buf).await.unwrap(), 0);
                assert!(client.readable().await.unwrap().is_read_closed());
                client.write_all(b"still here").await.unwrap();
                client.close().await.unwrap();
                let mut got = Vec::new();
                server.read_to_end(&mut got).await.unwrap();
                assert_eq!(&got, b"still here", "{flavor}");
            });
        }
    });
}

#[test]
fn a_peer_that_stops_reading_blocks_writes_without_hanging() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (mut client, server) = pair().await;
                // Fill both socket buffers with try_write until WouldBlock.
                let chunk = vec![1u8; 64 * 1024];
                let mut total = 0usize;
                loop {
                    match client.try_write(&chunk) {
                        Ok(n) => total += n,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            // Readiness may be stale: confirm it stays blocked.
                            let w = timeout(Duration::from_millis(50), client.writable()).await;
                            if w.is_err() {
                                break;
                            }
                        }
                        Err(e) => panic!("{flavor}: {e}"),
                    }
                    assert!(total < 256 << 20, "{flavor}: the kernel buffers never fill");
                }
                assert!(total > 0);
                // A write future now stays pending; the timeout cancels it.
                let r = timeout(Duration::from_millis(100), client.write_all(&chunk)).await;
                assert!(r.is_err(), "{flavor}: write_all should still be pending");
                // Once the peer drains, writing works again.
                let drain = brisk::spawn(async move {
                    let mut server = server;
                    let mut buf = vec![0; 64 * 1024];
                    let mut n = 0usize;
                    loop {
                        match server.read(&mut buf).await.unwrap() {
                            0 => break n,
                            k => n += k,
                        }
                    }
                });
                client.write_all(b"tail").await.unwrap();
                client.close().await.unwrap();
                let drained = drain.await.unwrap();
                // Some of the cancelled write_all may have gone through.
                assert!(drained >= total + 4, "{flavor}: {drained} < {total} + 4");
            });
        }
    });
}

/// Every byte value passes through unchanged; what parsers make of garbage
/// is tested below and in `interop_hyper.rs` and `interop_tokio_util.rs`.
#[test]
fn garbage_bytes_are_just_bytes() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (mut client, mut server) = pair().await;
                // A simple xorshift: every byte value, no structure.
                let mut x = 0x9E37_79B9_7F4A_7C15u64;
                let garbage: Vec<u8> = (0..10_000)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                server.write_all(&garbage).await.unwrap();
                server.close().await.unwrap();
                let mut got = Vec::new();
                client.read_to_end(&mut got).await.unwrap();
                assert!(got == garbage, "{flavor}");
            });
        }
    });
}

#[test]
fn a_peer_sending_invalid_utf8_gives_read_line_invalid_data_and_the_stream_stays_usable() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (client, mut server) = pair().await;
                let peer = brisk::spawn(async move {
                    server.write_all(b"hello\n").await.unwrap();
                    // Not UTF-8: a lone continuation byte, an invalid lead
                    // byte, a truncated two-byte sequence, a NUL.
                    server.write_all(b"\x80\xff\xc3(\0garbage\n").await.unwrap();
                    // A valid character split across two writes is no error:
                    // lines are checked whole, not per read.
                    server.write_all(b"caf\xc3").await.unwrap();
                    server.flush().await.unwrap();
                    server.write_all(b"\xa9\n").await.unwrap();
                    // The peer then waits for an answer on the same stream.
                    let mut answer = [0; 2];
                    server.read_exact(&mut answer).await.unwrap();
                    answer
                });
                let mut reader = BufReader::new(client);
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                assert_eq!(line, "hello\n", "{flavor}");

                line.clear();
                let err = reader.read_line(&mut line).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidData, "{flavor}: {err}");
                assert_eq!(line, "", "{flavor}: nothing of the bad line is kept");

                reader.read_line(&mut line).await.unwrap();
                assert_eq!(line, "caf\u{e9}\n", "{flavor}");
                reader.get_mut().write_all(b"ok").await.unwrap();
                assert_eq!(&peer.await.unwrap(), b"ok", "{flavor}");

                // The peer is gone: the end of the stream, no error.
                line.clear();
                assert_eq!(reader.read_line(&mut line).await.unwrap(), 0, "{flavor}");
            });
        }
    });
}

#[test]
fn a_peer_sending_invalid_utf8_gives_lines_and_read_to_string_invalid_data() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (client, mut server) = pair().await;
                let peer = brisk::spawn(async move {
                    server.write_all(b"one\n\xfe\xfe\ntwo\r\n").await.unwrap();
                    server.close().await.unwrap();
                });
                let mut lines = BufReader::new(client).lines();
                assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("one"));
                let err = lines.next_line().await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidData, "{flavor}: {err}");
                // The bad line was consumed; the next one reads normally.
                assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("two"));
                assert_eq!(lines.next_line().await.unwrap(), None, "{flavor}");
                peer.await.unwrap();

                let (mut client, mut server) = pair().await;
                let peer = brisk::spawn(async move {
                    server.write_all(b"text, then \xc0\xaf").await.unwrap();
                    server.close().await.unwrap();
                });
                let mut text = String::new();
                let err = client.read_to_string(&mut text).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidData, "{flavor}: {err}");
                assert_eq!(text, "", "{flavor}");
                peer.await.unwrap();

                // The runtime keeps serving: a fresh connection round-trips.
                let (mut client, mut server) = pair().await;
                client.write_all(b"still here").await.unwrap();
                let mut got = [0; 10];
                server.read_exact(&mut got).await.unwrap();
                assert_eq!(&got, b"still here", "{flavor}");
            });
        }
    });
}

#[test]
fn sockets_of_a_shut_down_runtime_fail_with_an_error() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            let (listener, mut client, mut server) = rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let (client, accepted) =
                    futures::join!(TcpStream::connect(addr), listener.accept());
                (listener, client.unwrap(), accepted.unwrap().0)
            });
            // A task waiting in a read when the runtime shuts down is cancelled.
            let (ro, _wo) = rt.block_on(async { pair().await });
            let (mut ro_r, _ro_w) = ro.into_split();
            let waiting = rt.spawn(async move {
                let mut buf = [0; 1];
                ro_r.read(&mut buf).await
            });
            assert!(
                rt.shutdown_timeout(Duration::from_secs(5)).is_clean(),
                "{flavor}"
            );
            drop(waiting);

            // Polled from outside any runtime: errors, no hang.
            let mut buf = [0; 4];
            let e = futures::executor::block_on(client.read(&mut buf)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Other, "{flavor}: {e}");
            let e = futures::executor::block_on(client.write_all(b"x")).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Other, "{flavor}: {e}");
            assert!(client.try_read(&mut buf).is_err());
            assert!(client.try_write(b"x").is_err());
            assert!(futures::executor::block_on(server.readable()).is_err());
            let e = futures::executor::block_on(listener.accept()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Other, "{flavor}: {e}");

            // ... and from another runtime.
            let other = brisk::Runtime::builder().current_thread().build().unwrap();
            other.block_on(async {
                let e = timeout(Duration::from_secs(5), server.read(&mut buf))
                    .await
                    .expect("no hang")
                    .unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Other, "{flavor}: {e}");
            });
            // Socket options still work: the file descriptors are intact.
            assert!(client.peer_addr().is_ok());
        }
    });
}

#[test]
fn connecting_on_a_shut_down_runtime_fails() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        let handle = rt.handle().clone();
        rt.shutdown_timeout(Duration::from_secs(1));
        let _guard = handle.enter();
        let addr = unused_addr();
        let r = futures::executor::block_on(TcpStream::connect(addr));
        assert!(r.is_err());
        let r = futures::executor::block_on(TcpListener::bind("127.0.0.1:0"));
        assert!(r.is_err());
    });
}

// ---- Registration leaks ----

/// `fut`, or a panic naming `what` if it takes unreasonably long.
async fn stage<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    match timeout(Duration::from_secs(20), fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within 20 s"),
    }
}

/// Opens and closes `total` connections, `batch` at a time, against
/// listeners on 16 loopback addresses; the server side closes first, so
/// TIME_WAIT lands on the listener's side and never holds a client port.
/// One connection in eight is dropped while a task waits in a read on it.
fn churn(rt: &brisk::Runtime, total: usize, batch: usize) {
    let listeners: Vec<TcpListener> = rt.block_on(async {
        let mut v = Vec::new();
        // Linux hands out (even) client ports per destination in sequence:
        // spread over 16 destinations, 100,000 connections never reuse a
        // port towards one destination within TIME_WAIT's 60 s.
        for i in 1..=16u8 {
            v.push(
                TcpListener::bind((std::net::Ipv4Addr::new(127, 0, 0, i), 0))
                    .await
                    .unwrap(),
            );
        }
        v
    });
    let before = rt.metrics().io_registrations;
    assert_eq!(before, listeners.len());
    let listeners: Vec<std::sync::Arc<TcpListener>> =
        listeners.into_iter().map(std::sync::Arc::new).collect();
    rt.block_on(async {
        let mut done = 0;
        while done < total {
            let n = batch.min(total - done);
            let mut tasks = Vec::with_capacity(n);
            for i in 0..n {
                let k = done + i;
                let listener = listeners[k % listeners.len()].clone();
                tasks.push(brisk::spawn(async move {
                    let addr = listener.local_addr().unwrap();
                    let (client, accepted) = stage(
                        "connect and accept",
                        futures::future::join(TcpStream::connect(addr), listener.accept()),
                    )
                    .await;
                    let mut client = client.unwrap();
                    let (server, _) = accepted.unwrap();
                    if k % 8 == 0 {
                        // Dropped in the middle of a pending read.
                        let (waiting_tx, waiting) = brisk::sync::oneshot::channel();
                        let reader = brisk::spawn(async move {
                            let mut server = server;
                            let mut buf = [0; 1];
                            let mut read = server.read(&mut buf);
                            assert!(futures::poll!(&mut read).is_pending());
                            let _ = waiting_tx.send(());
                            let _ = read.await;
                        });
                        stage("reader waiting", waiting).await.unwrap();
                        reader.abort();
                        let _ = stage("abort", reader).await;
                    } else {
                        drop(server);
                    }
                    // The server closed first: wait for its FIN (or RST).
                    let mut buf = [0; 1];
                    let _ = stage("client sees close", client.read(&mut buf)).await;
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            done += n;
        }
    });
    assert_eq!(rt.metrics().io_registrations, before);
    drop(listeners);
    assert_eq!(rt.metrics().io_registrations, 0);
}

#[test]
fn connections_release_their_registrations() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            let start = std::time::Instant::now();
            churn(&rt, 10_000, 64);
            eprintln!("{flavor}: 10,000 connections in {:?}", start.elapsed());
        }
    });
}

#[test]
fn a_hundred_thousand_connections_leak_no_registration() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        let start = std::time::Instant::now();
        churn(&rt, 100_000, 64);
        eprintln!("multi_thread: 100,000 connections in {:?}", start.elapsed());
    });
}

#[test]
fn many_tasks_accept_on_one_listener() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                const N: usize = 32;
                let listener = std::sync::Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
                let addr = listener.local_addr().unwrap();
                // Every acceptor waits before any client connects.
                let acceptors: Vec<_> = (0..N)
                    .map(|_| {
                        let l = listener.clone();
                        brisk::spawn(async move { l.accept().await.unwrap().0 })
                    })
                    .collect();
                for _ in 0..4 {
                    brisk::task::yield_now().await;
                }
                let mut clients = Vec::new();
                for _ in 0..N {
                    clients.push(TcpStream::connect(addr).await.unwrap());
                }
                for a in acceptors {
                    timeout(Duration::from_secs(10), a)
                        .await
                        .unwrap_or_else(|_| panic!("{flavor}: an acceptor was never woken"))
                        .unwrap();
                }
            });
        }
    });
}

/// Whichever thread drives the reactor may leave it for good (a `block_on`
/// whose future finished): tasks on the workers must still get their I/O
/// events, with nobody calling into the runtime.
#[test]
fn io_keeps_flowing_after_block_on_returns() {
    use std::io::{Read, Write};
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move {
            loop {
                let (mut conn, _) = listener.accept().await.unwrap();
                brisk::spawn(async move {
                    let mut buf = [0; 4];
                    while conn.read_exact(&mut buf).await.is_ok() {
                        conn.write_all(&buf).await.unwrap();
                    }
                });
            }
        });
        for i in 0..200u32 {
            // A block_on that does I/O, so its thread may drive the reactor.
            rt.block_on(async {
                let mut s = TcpStream::connect(addr).await.unwrap();
                s.write_all(b"ping").await.unwrap();
                let mut buf = [0; 4];
                s.read_exact(&mut buf).await.unwrap();
            });
            // Now only the workers are left to notice this client's bytes.
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(&i.to_le_bytes()).unwrap();
            let mut buf = [0; 4];
            s.read_exact(&mut buf)
                .unwrap_or_else(|e| panic!("round {i}: no echo ({e})"));
            assert_eq!(u32::from_le_bytes(buf), i);
        }
    });
}

/// Sockets made with `std` (blocking, as `std` makes them) join the
/// runtime without blocking it, and leave it again non-blocking, with
/// their registrations released.
#[test]
fn std_sockets_come_in_and_go_out() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            let before = rt.metrics().io_registrations;
            rt.block_on(async {
                let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = std_listener.local_addr().unwrap();
                let listener = TcpListener::from_std(std_listener).unwrap();
                // A blocking accept would hang here: nobody connects yet.
                let accept = brisk::spawn(async move {
                    let (conn, peer) = listener.accept().await.unwrap();
                    (listener, conn, peer)
                });
                brisk::task::yield_now().await;
                let std_client = std::net::TcpStream::connect(addr).unwrap();
                let client_addr = std_client.local_addr().unwrap();
                let mut client = TcpStream::from_std(std_client).unwrap();
                let (listener, mut conn, peer) = accept.await.unwrap();
                assert_eq!(peer, client_addr, "{flavor}");

                // A blocking read would hang: the peer writes after it.
                let reader = brisk::spawn(async move {
                    let mut buf = [0; 5];
                    conn.read_exact(&mut buf).await.unwrap();
                    (conn, buf)
                });
                brisk::task::yield_now().await;
                client.write_all(b"hello").await.unwrap();
                let (conn, buf) = reader.await.unwrap();
                assert_eq!(&buf, b"hello", "{flavor}");

                // Out again: the same sockets, non-blocking.
                let std_listener = listener.into_std().unwrap();
                assert_eq!(std_listener.local_addr().unwrap(), addr, "{flavor}");
                let e = std_listener.accept().unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");
                let mut std_conn = conn.into_std().unwrap();
                let mut std_client = client.into_std().unwrap();
                let mut buf = [0; 8];
                let e = std::io::Read::read(&mut std_conn, &mut buf).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");
                std::io::Write::write_all(&mut std_client, b"bye").unwrap();
                std_conn.set_nonblocking(false).unwrap();
                std::io::Read::read_exact(&mut std_conn, &mut buf[..3]).unwrap();
                assert_eq!(&buf[..3], b"bye", "{flavor}");
            });
            assert_eq!(rt.metrics().io_registrations, before, "{flavor}: a leak");
        }
    });
}

/// `from_std` outside a runtime says so instead of panicking.
#[test]
fn from_std_outside_a_runtime_is_an_error() {
    let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let e = TcpListener::from_std(std).unwrap_err();
    assert!(e.to_string().contains("runtime"), "{e}");
}

/// On tokio (`brisk::compat::tokio`), `from_std` and `into_std` go through
/// tokio's own.
#[cfg(feature = "tokio-compat")]
#[test]
fn std_sockets_come_in_and_go_out_on_tokio() {
    within(LIMIT, || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(brisk::compat::tokio::enter(async {
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            let listener = TcpListener::from_std(std_listener).unwrap();
            let std_client = std::net::TcpStream::connect(addr).unwrap();
            let mut client = TcpStream::from_std(std_client).unwrap();
            let (mut conn, _) = listener.accept().await.unwrap();
            client.write_all(b"hi").await.unwrap();
            let mut buf = [0; 2];
            conn.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hi");
            let mut std_conn = conn.into_std().unwrap();
            let e = std::io::Read::read(&mut std_conn, &mut buf).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::WouldBlock);
            assert_eq!(listener.into_std().unwrap().local_addr().unwrap(), addr);
            let socket =
                brisk::net::UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
                    .unwrap();
            let at = socket.local_addr().unwrap();
            socket.send_to(b"ping", at).await.unwrap();
            assert_eq!(socket.recv_from(&mut [0; 4]).await.unwrap(), (4, at));
            assert_eq!(socket.into_std().unwrap().local_addr().unwrap(), at);
        }));
    });
}

/// A task blocked on a socket read waits on that socket: the dump names
/// it (`Io`, the socket's id) and where the socket was made.
#[test]
fn a_task_blocked_on_a_read_waits_on_its_socket() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (client, server) = pair().await;
                let id = server.resource_id();
                let reader = brisk::task::Builder::new()
                    .name("reader")
                    .spawn(async move {
                        let mut server = server;
                        let mut buf = [0; 4];
                        server.read_exact(&mut buf).await.unwrap();
                        buf
                    });
                let wait = loop {
                    brisk::time::sleep(Duration::from_millis(2)).await;
                    let dump = brisk::diag::dump();
                    let t = dump
                        .tasks
                        .iter()
                        .find(|t| t.name.as_deref() == Some("reader"))
                        .expect("the reader is listed");
                    if let Some(w) = t.waiting_on.clone() {
                        break w;
                    }
                };
                assert_eq!(wait.kind, "Io", "{flavor}");
                assert_eq!(wait.resource, id, "{flavor}");
                assert!(
                    wait.location.contains("net_tcp.rs"),
                    "{flavor}: {}",
                    wait.location
                );
                let mut client = client;
                client.write_all(b"ping").await.unwrap();
                assert_eq!(&reader.await.unwrap(), b"ping", "{flavor}");
            });
        }
    });
}
