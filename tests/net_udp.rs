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
