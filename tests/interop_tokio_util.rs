//! tokio-util's `Framed` + `LinesCodec` over a Brisk `TcpStream` on a Brisk
//! runtime, through the `tokio-io` feature's `tokio::io` trait impls.

use brisk::net::{TcpListener, TcpStream};
use futures::{SinkExt, StreamExt};
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec};

#[brisk::test]
async fn framed_lines_travel_both_ways() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = brisk::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut framed = Framed::new(stream, LinesCodec::new());
        let mut seen = Vec::new();
        while let Some(line) = framed.next().await {
            let line = line.unwrap();
            framed.send(line.to_uppercase()).await.unwrap();
            seen.push(line);
        }
        seen
    });

    let stream = TcpStream::connect(addr).await.unwrap();
    let mut framed = Framed::new(stream, LinesCodec::new());
    for word in ["hello", "brisk", "and tokio-util"] {
        framed.send(word).await.unwrap();
        let reply = framed.next().await.unwrap().unwrap();
        assert_eq!(reply, word.to_uppercase());
    }
    // Closing the sink shuts down our write direction: the server sees the
    // end of the stream and stops.
    SinkExt::<&str>::close(&mut framed).await.unwrap();
    assert!(framed.next().await.is_none());
    assert_eq!(server.await.unwrap(), ["hello", "brisk", "and tokio-util"]);
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn owned_halves_pipeline_many_lines() {
    const LINES: usize = 1_000;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = brisk::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (r, w) = stream.into_split();
        let mut lines = FramedRead::new(r, LinesCodec::new());
        let mut out = FramedWrite::new(w, LinesCodec::new());
        while let Some(line) = lines.next().await {
            out.send(format!("echo {}", line.unwrap())).await.unwrap();
        }
    });

    let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
    let writer = brisk::spawn(async move {
        let mut out = FramedWrite::new(w, LinesCodec::new());
        for i in 0..LINES {
            out.feed(i.to_string()).await.unwrap();
        }
        SinkExt::<String>::flush(&mut out).await.unwrap();
        // Dropping the owned write half shuts the direction down.
    });
    let mut lines = FramedRead::new(r, LinesCodec::new());
    for i in 0..LINES {
        assert_eq!(lines.next().await.unwrap().unwrap(), format!("echo {i}"));
    }
    assert!(lines.next().await.is_none());
    writer.await.unwrap();
    server.await.unwrap();
}
