//! `brisk::io` utilities: the extension traits' error semantics, line
//! reading, buffering, `copy`, `split` across tasks, trait objects, and the
//! same code under Brisk and under `futures::executor::block_on`.

mod support;

use brisk::io::{
    copy, split, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
    BufWriter, Cursor, ErrorKind,
};
use futures::StreamExt;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use support::{runtimes, within, LIMIT};

/// Runs the future made by `make` under Brisk, then again under
/// `futures::executor::block_on`: everything here must be runtime-agnostic.
fn on_both<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    brisk::run(make());
    futures::executor::block_on(make());
}

#[test]
fn read_exact_on_a_short_stream_is_unexpected_eof() {
    on_both(|| async {
        let mut reader = Cursor::new(b"abc".to_vec());
        let mut buf = [0; 4];
        let err = reader.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    });
}

#[test]
fn read_to_string_on_invalid_utf8_is_invalid_data_and_leaves_the_string() {
    on_both(|| async {
        let mut reader = Cursor::new(vec![b'o', b'k', 0xe2, 0x82]);
        let mut text = String::from("before");
        let err = reader.read_to_string(&mut text).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(text, "before");
    });
}

#[test]
fn read_line_keeps_lf_and_crlf_and_reads_a_last_line_without_newline() {
    on_both(|| async {
        let mut reader = BufReader::with_capacity(4, Cursor::new("unix\nwindows\r\nlast"));
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            lines.push(line);
        }
        assert_eq!(lines, ["unix\n", "windows\r\n", "last"]);
    });
}

#[test]
fn next_line_strips_lf_and_crlf_and_reads_a_last_line_without_newline() {
    on_both(|| async {
        let mut lines = BufReader::with_capacity(3, Cursor::new("unix\nwindows\r\n\nlast")).lines();
        let mut all = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            all.push(line);
        }
        assert_eq!(all, ["unix", "windows", "", "last"]);
        assert_eq!(lines.next_line().await.unwrap(), None);
    });
}

#[test]
fn lines_is_a_stream() {
    on_both(|| async {
        let lines = BufReader::new(Cursor::new("a\r\nb\nc")).lines();
        let all: Vec<String> = lines.map(Result::unwrap).collect().await;
        assert_eq!(all, ["a", "b", "c"]);

        let mut bad = BufReader::new(Cursor::new(b"ok\n\xff\nfine".to_vec())).lines();
        assert_eq!(bad.next().await.unwrap().unwrap(), "ok");
        assert_eq!(
            bad.next().await.unwrap().unwrap_err().kind(),
            ErrorKind::InvalidData
        );
        assert_eq!(bad.next().await.unwrap().unwrap(), "fine");
        assert!(bad.next().await.is_none());
    });
}

#[test]
fn split_by_byte_is_a_stream() {
    on_both(|| async {
        let fields = BufReader::new(Cursor::new("k=v;x=y;")).split(b';');
        let all: Vec<Vec<u8>> = fields.map(Result::unwrap).collect().await;
        assert_eq!(all, [b"k=v", b"x=y"]);
    });
}

/// A writer that records what reached it, and whether it was flushed or
/// closed.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<(Vec<u8>, usize, bool)>>);

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.lock().unwrap().0.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.lock().unwrap().1 += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.lock().unwrap().2 = true;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn buf_writer_writes_out_its_buffer_on_close() {
    on_both(|| async {
        let record = Recorder::default();
        let mut out = BufWriter::new(record.clone());
        out.write_all(b"held ").await.unwrap();
        out.write_all(b"back").await.unwrap();
        assert!(record.0.lock().unwrap().0.is_empty());
        out.close().await.unwrap();
        let (data, _, closed) = record.0.lock().unwrap().clone();
        assert_eq!(data, b"held back");
        assert!(closed);
    });
}

#[test]
fn buf_writer_writes_out_its_buffer_on_flush() {
    on_both(|| async {
        let record = Recorder::default();
        let mut out = BufWriter::new(record.clone());
        out.write_all(b"now").await.unwrap();
        out.flush().await.unwrap();
        let (data, flushes, closed) = record.0.lock().unwrap().clone();
        assert_eq!((&data[..], flushes, closed), (&b"now"[..], 1, false));
    });
}

#[test]
fn copy_between_cursors() {
    on_both(|| async {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
        let mut reader = Cursor::new(data.clone());
        let mut writer = Cursor::new(Vec::new());
        assert_eq!(
            copy(&mut reader, &mut writer).await.unwrap(),
            data.len() as u64
        );
        assert_eq!(writer.into_inner(), data);
    });
}

#[test]
fn boxed_trait_objects_work_with_the_extension_methods() {
    on_both(|| async {
        let mut reader: Box<dyn AsyncRead + Send + Unpin> = Box::new(Cursor::new("boxed\nline"));
        let mut word = [0; 5];
        reader.read_exact(&mut word).await.unwrap();
        assert_eq!(&word, b"boxed");
        let mut rest = String::new();
        reader.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "\nline");

        let mut lines =
            BufReader::new(Box::new(Cursor::new("x\ny")) as Box<dyn AsyncRead + Send + Unpin>)
                .lines();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("x"));

        let mut writer: Box<dyn AsyncWrite + Send + Unpin> = Box::new(Cursor::new(Vec::new()));
        writer.write_all(b"dyn").await.unwrap();
        writer.close().await.unwrap();
    });
}

// A duplex in-memory pipe: two streams, each writing into the other's read
// side through a small bounded buffer, so reads and writes wait on each other.

#[derive(Default)]
struct Pipe {
    buf: VecDeque<u8>,
    /// The writing side closed (or dropped) its end.
    closed: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

struct Duplex {
    read: Arc<Mutex<Pipe>>,
    write: Arc<Mutex<Pipe>>,
}

const PIPE_CAPACITY: usize = 16;

fn duplex() -> (Duplex, Duplex) {
    let (a, b) = (Arc::default(), Arc::default());
    (
        Duplex {
            read: Arc::clone(&a),
            write: Arc::clone(&b),
        },
        Duplex { read: b, write: a },
    )
}

impl AsyncRead for Duplex {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut pipe = self.read.lock().unwrap();
        if pipe.buf.is_empty() {
            if pipe.closed {
                return Poll::Ready(Ok(0));
            }
            pipe.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(pipe.buf.len());
        for (slot, byte) in buf.iter_mut().zip(pipe.buf.drain(..n)) {
            *slot = byte;
        }
        if let Some(w) = pipe.writer.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Duplex {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut pipe = self.write.lock().unwrap();
        if pipe.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = PIPE_CAPACITY - pipe.buf.len();
        if room == 0 {
            pipe.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        pipe.buf.extend(&buf[..n]);
        if let Some(w) = pipe.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut pipe = self.write.lock().unwrap();
        pipe.closed = true;
        if let Some(w) = pipe.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for Duplex {
    fn drop(&mut self) {
        for side in [&self.read, &self.write] {
            let mut pipe = side.lock().unwrap();
            pipe.closed = true;
            for w in [pipe.reader.take(), pipe.writer.take()]
                .into_iter()
                .flatten()
            {
                w.wake();
            }
        }
    }
}

fn payload() -> Vec<u8> {
    (0..5_000u32).map(|i| (i * 7 % 256) as u8).collect()
}

/// Sends the payload through `client`'s write half while its read half reads
/// the echo back, each half in its own task; `server` echoes with `copy`.
async fn echo_through_split_halves(
    spawn: impl Fn(Pin<Box<dyn Future<Output = ()> + Send>>),
) -> Vec<u8> {
    let (client, server) = duplex();
    let (mut server_rx, mut server_tx) = split(server);
    spawn(Box::pin(async move {
        copy(&mut server_rx, &mut server_tx).await.unwrap();
        server_tx.close().await.unwrap();
    }));

    let (mut rx, mut tx) = split(client);
    let (done_tx, done_rx) = futures::channel::oneshot::channel();
    spawn(Box::pin(async move {
        let mut echoed = Vec::new();
        rx.read_to_end(&mut echoed).await.unwrap();
        let _ = done_tx.send((echoed, rx));
    }));
    for chunk in payload().chunks(333) {
        tx.write_all(chunk).await.unwrap();
    }
    tx.close().await.unwrap();
    let (echoed, rx) = done_rx.await.unwrap();
    assert!(rx.is_pair_of(&tx));
    drop(rx.unsplit(tx));
    echoed
}

#[test]
fn split_halves_work_from_two_brisk_tasks() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            let echoed = rt.block_on(echo_through_split_halves(|f| {
                brisk::spawn(f);
            }));
            assert_eq!(echoed, payload(), "{flavor}");
        }
    });
}

#[test]
fn split_halves_work_from_brisk_run_and_spawned_tasks() {
    within(LIMIT, || {
        let echoed = brisk::run(async {
            let (client, server) = duplex();
            let (mut server_rx, mut server_tx) = split(server);
            let echo = brisk::spawn(async move {
                copy(&mut server_rx, &mut server_tx).await.unwrap();
                server_tx.close().await.unwrap();
            });
            let (mut rx, mut tx) = split(client);
            let reader = brisk::spawn(async move {
                let mut echoed = Vec::new();
                rx.read_to_end(&mut echoed).await.unwrap();
                echoed
            });
            let writer = brisk::spawn(async move {
                for chunk in payload().chunks(100) {
                    tx.write_all(chunk).await.unwrap();
                }
                tx.close().await.unwrap();
            });
            writer.await.unwrap();
            echo.await.unwrap();
            reader.await.unwrap()
        });
        assert_eq!(echoed, payload());
    });
}

#[test]
fn split_halves_work_under_futures_executors() {
    within(LIMIT, || {
        // Each "task" is a thread of its own running `block_on`.
        let echoed = futures::executor::block_on(echo_through_split_halves(|f| {
            std::thread::spawn(move || futures::executor::block_on(f));
        }));
        assert_eq!(echoed, payload());
    });
}

#[test]
fn the_futures_are_unpin_and_send_for_unpin_send_readers() {
    fn unpin_send<T: Unpin + Send>(_: &T) {}
    let mut reader = Cursor::new(vec![0u8; 4]);
    let mut buf = [0; 4];
    unpin_send(&reader.read_exact(&mut buf));
    let mut text = String::new();
    unpin_send(&reader.read_to_string(&mut text));
    let mut out = Vec::new();
    unpin_send(&out.write_all(b"x"));
    unpin_send(&BufReader::new(Cursor::new("l")).lines());
    let mut lines = BufReader::new(Cursor::new("l")).lines();
    unpin_send(&lines.next_line());
}
