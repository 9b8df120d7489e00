//! tokio-util's `Framed` + `LinesCodec` over a Brisk `TcpStream` (and a
//! Brisk `UnixStream`) on a Brisk runtime, through the `tokio-io` feature's
//! `tokio::io` trait impls; the same traits on Brisk files and standard
//! streams; and an over-long line from a peer is a codec error, not a hang
//! or a panic.

use brisk::net::{TcpListener, TcpStream};
use futures::{SinkExt, StreamExt};
use std::io::ErrorKind;
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec, LinesCodecError};

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

/// A fresh directory for one test.
fn temp_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("brisk-tokio-io-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// tokio's `AsyncWriteExt`, `AsyncSeekExt` and `AsyncReadExt`, and
/// tokio-util's line codec, on a `brisk::fs::File`.
#[brisk::test]
async fn a_brisk_file_speaks_tokio_io() {
    use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    let dir = temp_dir("file");
    let path = dir.join("lines.txt");
    let file = brisk::fs::File::create(&path).await.unwrap();
    let mut sink = FramedWrite::new(file, LinesCodec::new());
    for line in ["one", "two", "three"] {
        sink.send(line).await.unwrap();
    }
    let mut file = sink.into_inner();
    file.write_all(b"four\n").await.unwrap();
    file.flush().await.unwrap();
    // Back to the start, then the position after a relative seek.
    assert_eq!(file.seek(std::io::SeekFrom::Start(0)).await.unwrap(), 0);
    assert_eq!(file.seek(std::io::SeekFrom::Current(4)).await.unwrap(), 4);
    drop(file);

    let file = brisk::fs::File::open(&path).await.unwrap();
    let lines: Vec<String> = FramedRead::new(file, LinesCodec::new())
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(lines, ["one", "two", "three", "four"]);

    let mut file = brisk::fs::File::open(&path).await.unwrap();
    file.seek(std::io::SeekFrom::End(-5)).await.unwrap();
    let mut tail = String::new();
    file.read_to_string(&mut tail).await.unwrap();
    assert_eq!(tail, "four\n");
    brisk::fs::remove_dir_all(&dir).await.unwrap();
}

/// A second `start_seek` before the first completed is refused with a
/// message that says what to do; the first seek still completes.
#[brisk::test]
async fn a_second_tokio_seek_before_completion_is_refused() {
    use std::pin::Pin;
    use tokio::io::AsyncSeek;
    let dir = temp_dir("seek");
    let path = dir.join("f");
    std::fs::write(&path, b"0123456789").unwrap();
    let mut file = brisk::fs::File::open(&path).await.unwrap();
    Pin::new(&mut file)
        .start_seek(std::io::SeekFrom::Start(3))
        .unwrap();
    let err = Pin::new(&mut file)
        .start_seek(std::io::SeekFrom::Start(7))
        .unwrap_err();
    assert!(err.to_string().contains("poll_complete"), "{err}");
    let pos = std::future::poll_fn(|cx| Pin::new(&mut file).poll_complete(cx))
        .await
        .unwrap();
    assert_eq!(pos, 3);
    // A seek left started is done before the file becomes a std one.
    Pin::new(&mut file)
        .start_seek(std::io::SeekFrom::Start(8))
        .unwrap();
    let file = file.try_into_std().unwrap_err();
    let mut std_file = file.into_std().await;
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut std_file, &mut rest).unwrap();
    assert_eq!(rest, "89");
    brisk::fs::remove_dir_all(&dir).await.unwrap();
}

/// The standard streams implement tokio's traits too.
#[brisk::test]
async fn standard_streams_speak_tokio_io() {
    use tokio::io::AsyncWriteExt;
    fn reads<T: tokio::io::AsyncRead + Unpin>(_: &T) {}
    reads(&brisk::io::stdin());
    let mut out = brisk::io::stdout();
    out.write_all(b"").await.unwrap();
    out.flush().await.unwrap();
    let mut err = brisk::io::stderr();
    err.write_all(b"").await.unwrap();
    err.shutdown().await.unwrap();
}

#[cfg(unix)]
mod unix {
    use brisk::net::UnixStream;
    use futures::{SinkExt, StreamExt};
    use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec};

    #[brisk::test]
    async fn framed_lines_over_a_unix_stream() {
        let (client, server) = UnixStream::pair().unwrap();
        let server = brisk::spawn(async move {
            let mut framed = Framed::new(server, LinesCodec::new());
            let mut seen = Vec::new();
            while let Some(line) = framed.next().await {
                let line = line.unwrap();
                framed.send(line.to_uppercase()).await.unwrap();
                seen.push(line);
            }
            seen
        });

        let mut framed = Framed::new(client, LinesCodec::new());
        for word in ["hello", "unix", "and tokio-util"] {
            framed.send(word).await.unwrap();
            let reply = framed.next().await.unwrap().unwrap();
            assert_eq!(reply, word.to_uppercase());
        }
        // Closing the sink shuts down our write direction: the server sees
        // the end of the stream and stops.
        SinkExt::<&str>::close(&mut framed).await.unwrap();
        assert!(framed.next().await.is_none());
        assert_eq!(server.await.unwrap(), ["hello", "unix", "and tokio-util"]);
    }

    #[brisk::test(flavor = "multi_thread", worker_threads = 2)]
    async fn framed_lines_over_owned_unix_halves() {
        const LINES: usize = 1_000;
        let (client, server) = UnixStream::pair().unwrap();
        let server = brisk::spawn(async move {
            let (r, w) = server.into_split();
            let mut lines = FramedRead::new(r, LinesCodec::new());
            let mut out = FramedWrite::new(w, LinesCodec::new());
            while let Some(line) = lines.next().await {
                out.send(format!("echo {}", line.unwrap())).await.unwrap();
            }
        });

        let (r, w) = client.into_split();
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

    /// The borrowed halves implement tokio's traits too, one direction each.
    #[brisk::test]
    async fn framed_lines_over_borrowed_unix_halves() {
        let (a, b) = UnixStream::pair().unwrap();
        let (ar, aw) = UnixStream::split(&a);
        let (br, bw) = UnixStream::split(&b);
        let mut a_out = FramedWrite::new(aw, LinesCodec::new());
        let mut b_in = FramedRead::new(br, LinesCodec::new());
        let mut b_out = FramedWrite::new(bw, LinesCodec::new());
        let mut a_in = FramedRead::new(ar, LinesCodec::new());
        a_out.send("ping").await.unwrap();
        assert_eq!(b_in.next().await.unwrap().unwrap(), "ping");
        b_out.send("pong").await.unwrap();
        assert_eq!(a_in.next().await.unwrap().unwrap(), "pong");
    }
}

/// A peer sends one good line, then a line far longer than the codec's limit
/// (and no newline at all): the reader gets `MaxLineLengthExceeded`, its
/// stream then ends, and the connection can be dropped at once.
async fn an_over_long_line_is_a_codec_error() {
    use brisk::io::AsyncWriteExt;
    const MAX: usize = 1024;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = brisk::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.write_all(b"short\n").await.unwrap();
        // The reader may drop the connection before it has all of this.
        match stream.write_all(&vec![b'x'; 200 * MAX]).await {
            Ok(()) => {}
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
                "{e}"
            ),
        }
    });

    let stream = TcpStream::connect(addr).await.unwrap();
    let mut lines = FramedRead::new(stream, LinesCodec::new_with_max_length(MAX));
    assert_eq!(lines.next().await.unwrap().unwrap(), "short");
    let err = lines.next().await.unwrap().unwrap_err();
    assert!(
        matches!(err, LinesCodecError::MaxLineLengthExceeded),
        "{err:?}"
    );
    // A framed reader ends after a decoding error.
    assert!(lines.next().await.is_none());
    drop(lines);
    peer.await.unwrap();
}

#[brisk::test]
async fn an_over_long_line_is_a_codec_error_on_current_thread() {
    an_over_long_line_is_a_codec_error().await;
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_line_is_a_codec_error_on_multi_thread() {
    an_over_long_line_is_a_codec_error().await;
}
