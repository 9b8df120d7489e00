//! Conformance: TCP and UDP sockets behave the same on every backend (see
//! `conformance/mod.rs` for the matrix).

mod conformance;

use brisk::io::{AsyncReadExt, AsyncWriteExt};
use brisk::net::{TcpListener, TcpStream, UdpSocket};
use conformance::conformance;

conformance! {
    /// A TCP echo server answers several concurrent clients.
    async fn tcp_echo() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = brisk::spawn(async move {
            for _ in 0..4 {
                let (mut conn, _) = listener.accept().await.unwrap();
                brisk::spawn(async move {
                    let mut buf = vec![0; 1024];
                    loop {
                        let n = conn.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        conn.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        });
        let clients: Vec<_> = (0..4u8)
            .map(|i| brisk::spawn(async move {
                let mut c = TcpStream::connect(addr).await.unwrap();
                let msg: Vec<u8> = (0..5000u32).map(|j| (j as u8).wrapping_add(i)).collect();
                c.write_all(&msg).await.unwrap();
                let mut back = vec![0; msg.len()];
                c.read_exact(&mut back).await.unwrap();
                back == msg
            }))
            .collect();
        for c in clients {
            assert!(c.await.unwrap());
        }
        server.await.unwrap();
    }

    /// Shutting down the write side gives the peer an end of stream.
    async fn tcp_shutdown_is_eof() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = brisk::spawn(async move {
            let (mut conn, peer) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            conn.read_to_end(&mut all).await.unwrap();
            (all, peer)
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        assert_eq!(c.peer_addr().unwrap(), addr);
        let me = c.local_addr().unwrap();
        c.write_all(b"last words").await.unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let (all, peer) = reader.await.unwrap();
        assert_eq!(all, b"last words");
        assert_eq!(peer, me);
    }

    /// Connecting to a port nobody listens on fails; binding a used port fails.
    async fn tcp_errors() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let again = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AddrInUse);
        drop(listener);
        brisk::task::yield_now().await;
        let refused = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    }

    /// Cancelling a task in `accept` ends the wait with a `Cancelled` I/O error.
    async fn cancelled_accept_returns_cancelled() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let waiter = brisk::spawn(async move {
            match listener.accept().await {
                Ok(_) => "connected",
                Err(e) if brisk::task::Cancelled::is_io(&e) => "cancelled",
                Err(_) => "other error",
            }
        });
        brisk::time::sleep(std::time::Duration::from_millis(2)).await;
        waiter.cancel();
        assert_eq!(waiter.await.unwrap(), "cancelled");
    }

    /// UDP datagrams go both ways, with and without `connect`.
    async fn udp_echo() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let echo = brisk::spawn(async move {
            let mut buf = [0; 64];
            for _ in 0..3 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0; 64];
        client.send_to(b"ping", server_addr).await.unwrap();
        let (n, from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], server_addr));
        client.connect(server_addr).await.unwrap();
        for msg in [&b"one"[..], b"two"] {
            client.send(msg).await.unwrap();
            let n = client.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], msg);
        }
        echo.await.unwrap();
    }
}
