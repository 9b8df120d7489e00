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
