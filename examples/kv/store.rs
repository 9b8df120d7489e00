//! A small replicated key-value store, written only against `brisk` (net,
//! fs, sync, time): the same code runs on the native runtime and, unchanged,
//! inside `brisk::sim`.
//!
//! # Design
//! - **Three replicas, one fixed leader.** Every replica listens on TCP port
//!   [`PORT`] and speaks a line protocol. Clients send `PUT client seq key
//!   value` and `GET key` to the leader; other replicas refuse them.
//! - **Write-ahead log.** Every replica appends each entry (`index client seq
//!   key value checksum`, one line) to `<dir>/wal` and calls `sync_all`
//!   before it counts the entry as its own. On start it reads the log back,
//!   keeps the longest prefix of complete, checksummed, consecutively
//!   numbered lines (a crash may tear or drop an unsynced tail), cuts the
//!   file there and syncs it, so everything it serves is durable.
//! - **Replication.** The leader appends a write to its own log first, then
//!   streams its log to each follower (`LEN` asks a follower how many
//!   entries it holds, `APPEND index ...` sends the next one, `ACK n`
//!   answers after the follower synced). A write is acknowledged (`OK`) once
//!   it is durable on the leader and on at least one follower: a majority of
//!   three. Followers hold prefixes of the leader's durable log. Nothing
//!   polls: replication waits on a `brisk::sync::watch` of the log's length,
//!   and a writer on a `watch` of the committed count.
//! - **Per-client order.** A write carries its client's sequence number; the
//!   leader refuses a sequence number below the highest it applied for that
//!   client (a late, retried or abandoned request cannot overwrite a newer
//!   write) and answers a retry of the newest one once it is replicated.
//! - **Fail-stop on disk errors.** Any error from the log (`EIO`,
//!   `ENOSPC`, ...) marks the replica failed: it answers `ERR` to everything
//!   until it is restarted and recovers from its log, since after a failed
//!   `sync_all` nothing is known about what reached the disk.
//!
//! # The invariant
//! For each key written by a single client: every read that succeeds
//! returns the value of a write that client attempted on that key, whose
//! sequence number is at least that of the newest acknowledged write to the
//! key and of the newest value read before (reads never go back in time); a
//! key with an acknowledged write never reads as missing. Acknowledged
//! writes survive crashes of any replica because the leader synced them
//! before acknowledging and never drops a synced entry.
//!
//! # Limits
//! The leader is fixed: while it is down or cut off, the store is
//! unavailable (but never wrong). The whole log is kept in memory and
//! replayed on start; there is no compaction.

use brisk::fs::{self, File, OpenOptions};
use brisk::io::{AsyncBufReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, SeekFrom};
use brisk::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use brisk::sync::{watch, Mutex};
use brisk::time::{timeout, Duration};
use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The TCP port every replica listens on.
pub const PORT: u16 = 7000;
/// How long one request may take, end to end, before it counts as failed.
pub const RPC_TIMEOUT: Duration = Duration::from_millis(400);

/// One replica's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The leader's host name (this replica leads if it is its own name).
    pub leader: String,
    /// This replica's host name.
    pub name: String,
    /// The followers' host names (used by the leader).
    pub followers: Vec<String>,
    /// The directory holding the write-ahead log.
    pub dir: String,
}

/// One replicated write.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    client: String,
    seq: u64,
    key: String,
    value: String,
}

fn checksum(s: &str) -> u64 {
    // FNV-1a.
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn encode(index: u64, e: &Entry) -> String {
    let body = format!("{index} {} {} {} {}", e.client, e.seq, e.key, e.value);
    format!("{body} {:016x}\n", checksum(&body))
}

fn decode(line: &str) -> Option<(u64, Entry)> {
    let (body, sum) = line.rsplit_once(' ')?;
    if u64::from_str_radix(sum, 16).ok()? != checksum(body) {
        return None;
    }
    let f: Vec<&str> = body.split(' ').collect();
    let [index, client, seq, key, value] = f[..] else {
        return None;
    };
    let e = Entry {
        client: client.into(),
        seq: seq.parse().ok()?,
        key: key.into(),
        value: value.into(),
    };
    Some((index.parse().ok()?, e))
}

/// A token the line protocol can carry: non-empty, no whitespace.
fn is_token(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_whitespace)
}

/// The write-ahead log: an append-only file of `encode`d lines.
struct Wal {
    file: File,
}

impl Wal {
    /// Opens the log in `dir`, returning it and the entries it durably holds.
    async fn recover(dir: &str) -> io::Result<(Wal, Vec<Entry>)> {
        fs::create_dir_all(dir).await?;
        let path = format!("{dir}/wal");
        let bytes = match fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let (mut entries, mut valid) = (Vec::new(), 0);
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            let parsed = std::str::from_utf8(line)
                .ok()
                .and_then(|l| l.strip_suffix('\n'))
                .and_then(decode);
            match parsed {
                Some((i, e)) if i == entries.len() as u64 => entries.push(e),
                _ => break, // a torn or dropped tail: cut it off
            }
            valid += line.len();
        }
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true);
        let mut file = opts.open(&path).await?;
        file.set_len(valid as u64).await?;
        file.seek(SeekFrom::Start(valid as u64)).await?;
        // Makes what was read, the cut and the file's name durable.
        file.sync_all().await?;
        File::open(dir).await?.sync_all().await?;
        Ok((Wal { file }, entries))
    }

    async fn append(&mut self, index: u64, e: &Entry) -> io::Result<()> {
        self.file.write_all(encode(index, e).as_bytes()).await?;
        self.file.sync_all().await
    }
}

/// A replica's state behind its lock.
struct State {
    wal: Wal,
    log: Vec<Entry>,
    map: BTreeMap<String, String>,
    /// Per client: the highest sequence number applied and its log index.
    clients: BTreeMap<String, (u64, u64)>,
}

impl State {
    fn apply(&mut self, index: u64, e: &Entry) {
        self.map.insert(e.key.clone(), e.value.clone());
        self.clients.insert(e.client.clone(), (e.seq, index));
    }

    /// Appends `e` to the durable log, then applies it.
    async fn append(&mut self, e: Entry) -> io::Result<u64> {
        let index = self.log.len() as u64;
        self.wal.append(index, &e).await?;
        self.apply(index, &e);
        self.log.push(e);
        Ok(index)
    }
}

struct Replica {
    cfg: Config,
    state: Mutex<State>,
    failed: AtomicBool,
    /// How many entries the local log holds; replication waits on it.
    log_len: watch::Sender<u64>,
    /// How many entries are durable on a majority (leader + a follower);
    /// writers wait on it.
    committed: watch::Sender<u64>,
}

impl Replica {
    fn fail(&self) {
        self.failed.store(true, Ordering::SeqCst);
        // Wakes the replication tasks, which then stop.
        self.log_len.send_modify(|_| {});
    }

    /// Appends `e` under the lock `st`, and tells the replication tasks.
    async fn append(&self, st: &mut State, e: Entry) -> io::Result<u64> {
        let index = st.append(e).await?;
        self.log_len.send_replace(st.log.len() as u64);
        Ok(index)
    }

    fn is_failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }
}

/// Runs a replica: recovers from its log, then serves forever. Returns an
/// error if recovery or the listener fails; a disk error while serving
/// makes it answer `ERR` until restarted (see the module docs).
pub async fn run(cfg: Config) -> io::Result<()> {
    let (wal, log) = Wal::recover(&cfg.dir).await?;
    let mut state = State {
        wal,
        log: Vec::new(),
        map: BTreeMap::new(),
        clients: BTreeMap::new(),
    };
    for (i, e) in log.iter().enumerate() {
        state.apply(i as u64, e);
    }
    state.log = log;
    let len = state.log.len() as u64;
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    let replica = Arc::new(Replica {
        state: Mutex::new(state),
        failed: AtomicBool::new(false),
        log_len: watch::channel(len).0,
        committed: watch::channel(0).0,
        cfg,
    });
    if replica.cfg.leader == replica.cfg.name {
        for f in replica.cfg.followers.clone() {
            brisk::spawn(replicate(replica.clone(), f));
        }
    }
    loop {
        let (conn, _) = listener.accept().await?;
        brisk::spawn(serve(replica.clone(), conn));
    }
}

/// Streams the leader's log to one follower, reconnecting after errors.
async fn replicate(r: Arc<Replica>, follower: String) {
    while !r.is_failed() {
        let _ = replicate_once(&r, &follower).await;
        brisk::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn replicate_once(r: &Replica, follower: &str) -> io::Result<()> {
    let mut conn = Conn::connect(follower).await?;
    let mut next = parse_count(&conn.call("LEN").await?, "LEN")?;
    let mut log_len = r.log_len.subscribe();
    loop {
        // Caught up: wait for the next write (or for the replica to fail).
        let _ = log_len.wait_for(|&len| len > next || r.is_failed()).await;
        if r.is_failed() {
            return Err(io::Error::other("replica failed"));
        }
        let (entry, len) = {
            let st = r.state.lock().await;
            (st.log.get(next as usize).cloned(), st.log.len() as u64)
        };
        let Some(e) = entry else {
            continue;
        };
        let req = format!("APPEND {next} {} {} {} {}", e.client, e.seq, e.key, e.value);
        let acked = parse_count(&conn.call(&req).await?, "ACK")?;
        if acked > len {
            return Err(io::Error::other("follower ahead of the leader"));
        }
        r.committed.send_if_modified(|c| {
            let more = acked > *c;
            *c = (*c).max(acked);
            more
        });
        next = acked;
    }
}

fn parse_count(reply: &str, word: &str) -> io::Result<u64> {
    reply
        .strip_prefix(word)
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("unexpected reply {reply:?}")))
}

/// Serves one connection: one reply line per request line.
async fn serve(r: Arc<Replica>, conn: TcpStream) -> io::Result<()> {
    let (rd, mut wr) = conn.into_split();
    let mut rd = BufReader::new(rd);
    let mut line = String::new();
    loop {
        line.clear();
        if rd.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let reply = handle(&r, line.trim_end()).await;
        wr.write_all(format!("{reply}\n").as_bytes()).await?;
    }
}

async fn handle(r: &Replica, req: &str) -> String {
    if r.is_failed() {
        return "ERR failed".into();
    }
    let f: Vec<&str> = req.split(' ').collect();
    let leader = r.cfg.leader == r.cfg.name;
    match f[..] {
        ["PUT", client, seq, key, value] if leader => {
            let Ok(seq) = seq.parse() else {
                return "ERR bad seq".into();
            };
            let e = Entry {
                client: client.into(),
                seq,
                key: key.into(),
                value: value.into(),
            };
            put(r, e).await
        }
        ["GET", key] if leader => match r.state.lock().await.map.get(key) {
            Some(v) => format!("VAL {v}"),
            None => "NONE".into(),
        },
        ["LEN"] => format!("LEN {}", r.state.lock().await.log.len()),
        ["APPEND", index, client, seq, key, value] => {
            let (Ok(index), Ok(seq)) = (index.parse::<u64>(), seq.parse()) else {
                return "ERR bad append".into();
            };
            let mut st = r.state.lock().await;
            if index == st.log.len() as u64 {
                let e = Entry {
                    client: client.into(),
                    seq,
                    key: key.into(),
                    value: value.into(),
                };
                if r.append(&mut st, e).await.is_err() {
                    r.fail();
                    return "ERR disk".into();
                }
            }
            format!("ACK {}", st.log.len())
        }
        _ if !leader => "ERR not leader".into(),
        _ => "ERR bad request".into(),
    }
}

async fn put(r: &Replica, e: Entry) -> String {
    let index = {
        let mut st = r.state.lock().await;
        match st.clients.get(&e.client) {
            Some(&(seq, _)) if e.seq < seq => return "ERR stale".into(),
            Some(&(seq, index)) if e.seq == seq => index, // a retry
            _ => match r.append(&mut st, e).await {
                Ok(index) => index,
                Err(_) => {
                    r.fail();
                    return "ERR disk".into();
                }
            },
        }
    };
    let mut committed = r.committed.subscribe();
    let replicated = timeout(RPC_TIMEOUT, committed.wait_for(|&c| c > index)).await;
    match replicated {
        Ok(Ok(_)) => "OK".into(),
        _ => "ERR not replicated".into(),
    }
}

/// A line-protocol connection.
struct Conn {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
}

impl Conn {
    async fn connect(host: &str) -> io::Result<Conn> {
        let c = timeout(RPC_TIMEOUT, TcpStream::connect((host, PORT))).await??;
        let (rd, wr) = c.into_split();
        Ok(Conn {
            rd: BufReader::new(rd),
            wr,
        })
    }

    /// Sends one request and reads its reply, within [`RPC_TIMEOUT`].
    async fn call(&mut self, req: &str) -> io::Result<String> {
        let exchange = async {
            self.wr.write_all(format!("{req}\n").as_bytes()).await?;
            let mut line = String::new();
            if self.rd.read_line(&mut line).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            Ok(line.trim_end().to_string())
        };
        timeout(RPC_TIMEOUT, exchange).await?
    }
}

/// A client of the store: talks to the leader, numbers its writes.
pub struct Client {
    id: String,
    leader: String,
    seq: u64,
    conn: Option<Conn>,
}

impl Client {
    /// A client named `id` (a token) of the store led by `leader`.
    pub fn new(id: &str, leader: &str) -> Client {
        Client {
            id: id.into(),
            leader: leader.into(),
            seq: 0,
            conn: None,
        }
    }

    /// Starts a new write: returns its sequence number, to pass to
    /// [`put`](Client::put) on every attempt of that write.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    async fn call(&mut self, req: &str) -> io::Result<String> {
        if self.conn.is_none() {
            self.conn = Some(Conn::connect(&self.leader).await?);
        }
        let r = self.conn.as_mut().expect("connected").call(req).await;
        if r.is_err() {
            self.conn = None; // a late reply must not answer the next request
        }
        r
    }

    /// One attempt at write `seq`; `Ok` means acknowledged (durable on a
    /// majority). An error leaves it unknown whether the write happened.
    pub async fn put(&mut self, seq: u64, key: &str, value: &str) -> io::Result<()> {
        if !is_token(key) || !is_token(value) {
            return Err(io::ErrorKind::InvalidInput.into());
        }
        let req = format!("PUT {} {seq} {key} {value}", self.id);
        match self.call(&req).await? {
            r if r == "OK" => Ok(()),
            r => Err(io::Error::other(r)),
        }
    }

    /// Reads `key` from the leader.
    pub async fn get(&mut self, key: &str) -> io::Result<Option<String>> {
        if !is_token(key) {
            return Err(io::ErrorKind::InvalidInput.into());
        }
        let r = self.call(&format!("GET {key}")).await?;
        if r == "NONE" {
            return Ok(None);
        }
        match r.strip_prefix("VAL ") {
            Some(v) => Ok(Some(v.to_string())),
            None => Err(io::Error::other(r)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_round_trip_and_reject_torn_ones() {
        let e = Entry {
            client: "c1".into(),
            seq: 3,
            key: "k".into(),
            value: "v".into(),
        };
        let line = encode(7, &e);
        assert_eq!(decode(line.trim_end()), Some((7, e)));
        assert_eq!(decode(&line[..line.len() - 3]), None);
    }
}
