//! A Redis-protocol (RESP2) key-value server and client, on `brisk` only.
//!
//! Commands: `PING`, `ECHO msg`, `GET key`, `SET key value [PX millis]`,
//! `DEL key...`, `INCR key`. Expiry (`PX`) reads the runtime's clock, so in
//! the simulator a key expires in virtual time.
//!
//! # Cancel safety
//! - [`Connection::read_value`] is cancel-safe: bytes read stay in the
//!   connection's buffer, so a cancelled call loses nothing and the next
//!   call continues the same value.
//! - [`Connection::write_value`] is not: a cancelled call may have written
//!   part of a value; drop the connection afterwards.
//! - [`Client`] requests are not (a request may have been sent without its
//!   reply being read): after a [`Client`] call fails or is cancelled, make
//!   a new client. Its errors say so.
//! - [`serve`] stops accepting when its task is cancelled and returns `Ok`;
//!   the connection tasks it started are its children in the cancellation
//!   tree and are cancelled with it.

use super::rate_limit::SendRateLimiter;
use brisk::io::{AsyncReadExt, AsyncWriteExt};
use brisk::net::{TcpListener, TcpStream, ToSocketAddrs};
use brisk::time::{Duration, Instant};
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

/// A RESP2 value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`
    Error(String),
    /// `:42`
    Integer(i64),
    /// `$3\r\nfoo` (`None`: the null bulk string `$-1`)
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n...`
    Array(Vec<Value>),
}

impl Value {
    /// A bulk string.
    pub fn bulk(b: impl Into<Vec<u8>>) -> Value {
        Value::Bulk(Some(b.into()))
    }

    /// Appends the wire form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Simple(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
            Value::Error(s) => out.extend_from_slice(format!("-{s}\r\n").as_bytes()),
            Value::Integer(i) => out.extend_from_slice(format!(":{i}\r\n").as_bytes()),
            Value::Bulk(None) => out.extend_from_slice(b"$-1\r\n"),
            Value::Bulk(Some(b)) => {
                out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Value::Array(items) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                for v in items {
                    v.encode(out);
                }
            }
        }
    }

    /// Parses one value from the start of `buf`: `Ok(None)` if `buf` holds
    /// only part of it, else the value and the bytes it took.
    pub fn parse(buf: &[u8]) -> io::Result<Option<(Value, usize)>> {
        let Some(line_end) = buf.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let Some((&kind, line)) = buf[..line_end].split_first() else {
            return Err(bad("empty line"));
        };
        let line = std::str::from_utf8(line).map_err(|_| bad("line is not UTF-8"))?;
        let after = line_end + 2;
        let int = || line.parse::<i64>().map_err(|_| bad("bad integer"));
        match kind {
            b'+' => Ok(Some((Value::Simple(line.to_owned()), after))),
            b'-' => Ok(Some((Value::Error(line.to_owned()), after))),
            b':' => Ok(Some((Value::Integer(int()?), after))),
            b'$' => {
                let len = int()?;
                if len < 0 {
                    return Ok(Some((Value::Bulk(None), after)));
                }
                let end = after + len as usize;
                if buf.len() < end + 2 {
                    return Ok(None);
                }
                if &buf[end..end + 2] != b"\r\n" {
                    return Err(bad("bulk string without CRLF"));
                }
                Ok(Some((Value::bulk(&buf[after..end]), end + 2)))
            }
            b'*' => {
                let n = int()?;
                let mut items = Vec::new();
                let mut at = after;
                for _ in 0..n.max(0) {
                    match Value::parse(&buf[at..])? {
                        Some((v, used)) => {
                            items.push(v);
                            at += used;
                        }
                        None => return Ok(None),
                    }
                }
                Ok(Some((Value::Array(items), at)))
            }
            _ => Err(bad("unknown type byte")),
        }
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("RESP protocol error: {what}"),
    )
}

/// A RESP connection over a Brisk TCP stream.
pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    /// Wraps a connected stream.
    pub fn new(stream: TcpStream) -> Connection {
        Connection {
            stream,
            buf: Vec::with_capacity(4096),
        }
    }

    /// The next value, or `None` at a clean end of stream. Cancel-safe.
    pub async fn read_value(&mut self) -> io::Result<Option<Value>> {
        loop {
            if let Some((v, used)) = Value::parse(&self.buf)? {
                self.buf.drain(..used);
                return Ok(Some(v));
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Writes one value. Not cancel-safe.
    pub async fn write_value(&mut self, v: &Value) -> io::Result<()> {
        let mut out = Vec::new();
        v.encode(&mut out);
        self.stream.write_all(&out).await?;
        self.stream.flush().await
    }
}

/// Keys to values and their expiry on the runtime's clock.
type Map = HashMap<Vec<u8>, (Vec<u8>, Option<Instant>)>;

/// The server's data: values with optional expiry on the runtime's clock.
#[derive(Clone, Default)]
pub struct Store {
    map: Arc<Mutex<Map>>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store::default()
    }

    /// Runs one command and returns its reply.
    pub fn apply(&self, cmd: &[Vec<u8>]) -> Value {
        let Some((name, args)) = cmd.split_first() else {
            return Value::Error("ERR empty command".into());
        };
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let live = |map: &mut Map, k: &[u8]| {
            if map
                .get(k)
                .is_some_and(|(_, exp)| exp.is_some_and(|e| e <= now))
            {
                map.remove(k);
            }
        };
        match (name.to_ascii_uppercase().as_slice(), args) {
            (b"PING", []) => Value::Simple("PONG".into()),
            (b"ECHO", [msg]) => Value::bulk(msg.clone()),
            (b"GET", [k]) => {
                live(&mut map, k);
                Value::Bulk(map.get(k).map(|(v, _)| v.clone()))
            }
            (b"SET", [k, v]) => {
                map.insert(k.clone(), (v.clone(), None));
                Value::Simple("OK".into())
            }
            (b"SET", [k, v, px, ms]) if px.eq_ignore_ascii_case(b"PX") => {
                let Some(ms) = std::str::from_utf8(ms).ok().and_then(|s| s.parse().ok()) else {
                    return Value::Error("ERR PX needs a number of milliseconds".into());
                };
                let expires = now + Duration::from_millis(ms);
                map.insert(k.clone(), (v.clone(), Some(expires)));
                Value::Simple("OK".into())
            }
            (b"DEL", keys) if !keys.is_empty() => {
                let mut n = 0;
                for k in keys {
                    live(&mut map, k);
                    n += i64::from(map.remove(k).is_some());
                }
                Value::Integer(n)
            }
            (b"INCR", [k]) => {
                live(&mut map, k);
                // INCR keeps the key's expiry, as Redis does.
                let (v, _expiry) = map
                    .entry(k.clone())
                    .or_insert_with(|| (b"0".to_vec(), None));
                let Some(n) = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                else {
                    return Value::Error("ERR value is not an integer".into());
                };
                *v = (n + 1).to_string().into_bytes();
                Value::Integer(n + 1)
            }
            _ => Value::Error(format!(
                "ERR unknown command or wrong arguments: {}",
                String::from_utf8_lossy(name)
            )),
        }
    }
}

/// Serves `store` on `listener` until the calling task is cancelled (then
/// returns `Ok`). Each connection is a child task; with `limit`, each
/// connection may run `limit.0` commands a second (burst `limit.1`).
pub async fn serve(
    listener: TcpListener,
    store: Store,
    limit: Option<(u32, u32)>,
) -> io::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) if brisk::task::Cancelled::is_io(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        let store = store.clone();
        let limiter = limit.map(|(rate, burst)| SendRateLimiter::new(rate, burst));
        // A child of the serving task: cancelling that task cancels it.
        brisk::spawn(async move {
            let mut conn = Connection::new(stream);
            // A connection ends at EOF, on an error, or when cancelled.
            while let Ok(Some(v)) = conn.read_value().await {
                if let Some(l) = &limiter {
                    l.acquire(1).await;
                }
                let reply = match command(v) {
                    Some(cmd) => store.apply(&cmd),
                    None => Value::Error("ERR expected an array of bulk strings".into()),
                };
                if conn.write_value(&reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn command(v: Value) -> Option<Vec<Vec<u8>>> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::Bulk(Some(b)) => Some(b),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// A client: one connection, one request at a time, each bounded by a
/// timeout on the runtime's clock.
pub struct Client {
    conn: Connection,
    timeout: Duration,
}

impl Client {
    /// Connects to a server.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<Client> {
        Ok(Client {
            conn: Connection::new(TcpStream::connect(addr).await?),
            timeout: Duration::from_secs(5),
        })
    }

    /// Sets how long a request may take (5 s by default).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Sends a command and reads its reply. After an error, make a new
    /// client (the reply of a timed-out request may still arrive).
    pub async fn call(&mut self, args: &[&[u8]]) -> io::Result<Value> {
        let cmd = Value::Array(args.iter().map(|a| Value::bulk(*a)).collect());
        let conn = &mut self.conn;
        let round_trip = async move {
            conn.write_value(&cmd).await?;
            conn.read_value()
                .await?
                .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))
        };
        match brisk::time::timeout(self.timeout, round_trip).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "RESP request timed out: the connection is out of step now, make a new Client",
            )),
        }
    }

    /// `PING`.
    pub async fn ping(&mut self) -> io::Result<()> {
        match self.call(&[b"PING"]).await? {
            Value::Simple(s) if s == "PONG" => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// `GET key`.
    pub async fn get(&mut self, key: &str) -> io::Result<Option<Vec<u8>>> {
        match self.call(&[b"GET", key.as_bytes()]).await? {
            Value::Bulk(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }

    /// `SET key value`, with an expiry if `ttl` is given.
    pub async fn set(&mut self, key: &str, value: &[u8], ttl: Option<Duration>) -> io::Result<()> {
        let ms = ttl.map(|t| t.as_millis().to_string());
        let reply = match &ms {
            None => self.call(&[b"SET", key.as_bytes(), value]).await?,
            Some(ms) => {
                self.call(&[b"SET", key.as_bytes(), value, b"PX", ms.as_bytes()])
                    .await?
            }
        };
        match reply {
            Value::Simple(s) if s == "OK" => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// `INCR key`.
    pub async fn incr(&mut self, key: &str) -> io::Result<i64> {
        match self.call(&[b"INCR", key.as_bytes()]).await? {
            Value::Integer(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    /// `DEL key`: true if it existed.
    pub async fn del(&mut self, key: &str) -> io::Result<bool> {
        match self.call(&[b"DEL", key.as_bytes()]).await? {
            Value::Integer(n) => Ok(n > 0),
            other => Err(unexpected(other)),
        }
    }
}

fn unexpected(v: Value) -> io::Error {
    match v {
        Value::Error(e) => io::Error::other(e),
        other => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unexpected reply {other:?}"),
        ),
    }
}
