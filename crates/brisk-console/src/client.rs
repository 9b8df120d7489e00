//! The connection to the server: a thread that connects, reads snapshot
//! lines and hands them to the UI, and reconnects when the server goes away.

use crate::model::Snapshot;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

/// What the connection thread tells the UI.
#[derive(Debug)]
pub enum Message {
    /// Connected to the server.
    Connected,
    /// A new snapshot.
    Snapshot(Box<Snapshot>),
    /// The server is gone or unreachable (the reason); the thread retries.
    Disconnected(String),
}

/// How long to wait before connecting again, at most.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Starts the connection thread for `addr`. It runs until `messages` is
/// closed (the UI is gone), reconnecting with a growing pause (up to 2 s)
/// whenever the server cannot be reached or closes the stream.
pub fn spawn(addr: String, messages: Sender<Message>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("brisk-console-client".into())
        .spawn(move || run(&addr, &messages))
        .expect("brisk-console could not start its connection thread")
}

fn run(addr: &str, messages: &Sender<Message>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let reason = match connect(addr) {
            Ok(stream) => {
                backoff = Duration::from_millis(100);
                if messages.send(Message::Connected).is_err() {
                    return;
                }
                match read(stream, messages) {
                    Some(reason) => reason,
                    None => return,
                }
            }
            Err(e) => e,
        };
        if messages.send(Message::Disconnected(reason)).is_err() {
            return;
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn connect(addr: &str) -> Result<TcpStream, String> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs().map_err(|e| e.to_string())?.collect();
    let mut last = format!("`{addr}` resolves to no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, Duration::from_secs(2)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// Reads snapshots until the stream ends: `Some(reason)`, or `None` when
/// the UI is gone.
fn read(stream: TcpStream, messages: &Sender<Message>) -> Option<String> {
    for line in BufReader::new(stream).lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => return Some(e.to_string()),
        };
        if line.trim().is_empty() {
            continue;
        }
        match Snapshot::parse(&line) {
            Ok(s) => messages.send(Message::Snapshot(Box::new(s))).ok()?,
            Err(e) => return Some(format!("not a console snapshot: {e}")),
        }
    }
    Some("the server closed the connection".to_owned())
}

/// Applies every message waiting in `rx` to `app`, without blocking.
pub fn drain(rx: &Receiver<Message>, app: &mut crate::app::App) {
    while let Ok(m) = rx.try_recv() {
        match m {
            Message::Connected => app.status = crate::app::Status::Connected,
            Message::Snapshot(s) => app.apply(*s),
            Message::Disconnected(e) => app.status = crate::app::Status::Disconnected(e),
        }
    }
}
