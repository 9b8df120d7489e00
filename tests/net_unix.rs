//! `brisk::net::{UnixListener, UnixStream, UnixDatagram}` on the native
//! runtime.

#![cfg(unix)]

mod support;

use brisk::net::{UnixDatagram, UnixListener, UnixStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use support::{within, LIMIT};

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
