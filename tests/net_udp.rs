//! UDP on the native runtime: the reactor's handling of socket errors.

mod support;

use brisk::net::UdpSocket;
use brisk::time::timeout;
use std::io::ErrorKind;
use std::time::Duration;
use support::{runtimes, within, LIMIT};

/// A connected UDP socket whose peer is gone gets `ConnectionRefused` once
/// (from the ICMP error); the next receive waits like any other instead of
/// spinning on the stale error readiness (which also starved the timer that
/// should have cancelled it).
#[test]
fn a_consumed_socket_error_does_not_keep_the_socket_ready() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                let addr = gone.local_addr().unwrap();
                drop(gone);
                let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                s.connect(addr).await.unwrap();
                s.send(b"ping").await.unwrap();
                let mut buf = [0; 8];
                let err = timeout(Duration::from_secs(10), s.recv(&mut buf))
                    .await
                    .expect("the ICMP error arrives")
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{flavor}: {err}");
                let again = timeout(Duration::from_millis(100), s.recv(&mut buf)).await;
                assert!(again.is_err(), "{flavor}: {again:?}");
            });
        }
    });
}

/// A current-thread `block_on` whose future keeps waking itself still looks
/// at I/O readiness: a task waiting on a socket is not starved.
#[test]
fn io_is_polled_while_the_main_future_keeps_waking_itself() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let to = b.local_addr().unwrap();
            let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = done.clone();
            let reader = brisk::spawn(async move {
                let mut buf = [0u8; 4];
                b.recv_from(&mut buf).await.unwrap();
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            brisk::task::yield_now().await; // the reader registers
            a.send_to(b"x", to).await.unwrap();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                brisk::task::yield_now().await;
            }
            reader.await.unwrap();
        });
    });
}

/// The readiness API: `try_recv_from` says `WouldBlock` while nothing is
/// queued, `readable` waits for a datagram, `writable` is ready at once;
/// `peer_addr` names the connected peer and fails on an unconnected socket.
#[test]
fn readiness_try_calls_and_peer_addr() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
                let err = a.peer_addr().unwrap_err();
                assert_eq!(err.kind(), ErrorKind::NotConnected, "{flavor}: {err}");

                let mut buf = [0u8; 16];
                let err = b.try_recv_from(&mut buf).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::WouldBlock, "{flavor}");
                a.writable().await.unwrap();
                assert_eq!(a.try_send_to(b"ready", b_addr).unwrap(), 5);
                // `readable` may wake spuriously: retry on `WouldBlock`.
                let (n, from) = loop {
                    b.readable().await.unwrap();
                    match b.try_recv_from(&mut buf) {
                        Ok(got) => break got,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                        Err(e) => panic!("{flavor}: {e}"),
                    }
                };
                assert_eq!((&buf[..n], from), (&b"ready"[..], a_addr), "{flavor}");

                a.connect(b_addr).await.unwrap();
                assert_eq!(a.peer_addr().unwrap(), b_addr, "{flavor}");
            });
        }
    });
}

/// A `std` socket joins the runtime non-blocking (a receive waits without
/// blocking the thread) and leaves it again.
#[test]
fn std_sockets_come_in_and_go_out() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            let before = rt.metrics().io_registrations;
            rt.block_on(async {
                let std = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                let socket = UdpSocket::from_std(std).unwrap();
                let addr = socket.local_addr().unwrap();
                let receiver = brisk::spawn(async move {
                    let mut buf = [0; 8];
                    let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                    (socket, buf[..n].to_vec())
                });
                brisk::task::yield_now().await;
                let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                sender.send_to(b"ping", addr).unwrap();
                let (socket, got) = receiver.await.unwrap();
                assert_eq!(got, b"ping", "{flavor}");
                let std = socket.into_std().unwrap();
                assert_eq!(std.local_addr().unwrap(), addr, "{flavor}");
                let e = std.recv_from(&mut [0; 8]).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{flavor}");
            });
            assert_eq!(rt.metrics().io_registrations, before, "{flavor}: a leak");
        }
    });
}
