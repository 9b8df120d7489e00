//! Simulated TCP: connections as two ends and two one-way pipes of
//! segments, listeners, and the socket objects `brisk::net` holds.
//!
//! # Ground rules
//! - A connection's side 0 is the connecting end, side 1 the accepted
//!   end; `pipes[d]` carries segments from side `d` to side `1 - d`, in
//!   order: a segment's delivery time is never before the one queued
//!   before it.
//! - An end is `open` while a socket object (or a listener's backlog)
//!   holds it. Closing it — drop, crash, listener drop — happens once, and
//!   frees its port if it owned one.
//! - A connection is removed when both ends are closed and both pipes are
//!   empty.

use super::{register, wake_all, Event, Net};
use crate::error;
use crate::world::World;
use brisk_core::net::{BoxFuture, Interest, Ready, TcpListenerIo, TcpStreamIo};
use std::collections::VecDeque;
use std::io::{self, ErrorKind, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

pub(crate) enum SegKind {
    Syn,
    SynAck,
    Data(Vec<u8>),
    /// The receiver read this many bytes: the sender's window reopens.
    Ack(usize),
    Fin,
    Rst,
}

pub(crate) struct Seg {
    at: u64,
    kind: SegKind,
}

#[derive(Default)]
pub(crate) struct Pipe {
    queue: VecDeque<Seg>,
    /// The delivery time of the last segment queued.
    last_at: u64,
    /// Set while the head segment is held by a blocked link.
    stalled_since: Option<u64>,
}

pub(crate) struct End {
    node: u32,
    local: SocketAddr,
    /// True if this end allocated its (ephemeral) port.
    owns_port: bool,
    open: bool,
    /// A socket object holds this end (not only a listener's backlog).
    held: bool,
    established: bool,
    recv: VecDeque<u8>,
    eof: bool,
    read_shut: bool,
    write_shut: bool,
    error: Option<ErrorKind>,
    /// A reset was sent from this end (send at most one).
    rst_sent: bool,
    /// Bytes written and not yet acknowledged (read by the peer, and the
    /// acknowledgement back here): at most `NetConfig::tcp_buffer`.
    unacked: usize,
    readers: Vec<Waker>,
    writers: Vec<Waker>,
    nodelay: bool,
    ttl: u32,
}

impl End {
    fn new(node: u32, local: SocketAddr, owns_port: bool) -> End {
        End {
            node,
            local,
            owns_port,
            open: true,
            held: owns_port,
            established: false,
            recv: VecDeque::new(),
            eof: false,
            read_shut: false,
            write_shut: false,
            error: None,
            rst_sent: false,
            unacked: 0,
            readers: Vec::new(),
            writers: Vec::new(),
            nodelay: false,
            ttl: 64,
        }
    }

    fn take_wakers(&mut self, wake: &mut Vec<Waker>) {
        wake.append(&mut self.readers);
        wake.append(&mut self.writers);
    }
}

pub(crate) struct Conn {
    ends: [End; 2],
    pipes: [Pipe; 2],
}

pub(crate) struct Listener {
    node: u32,
    addr: SocketAddr,
    backlog: VecDeque<u64>,
    acceptors: Vec<Waker>,
    ttl: u32,
}

/// The error for a failed connection, with a message naming the cause.
fn conn_error(kind: ErrorKind) -> io::Error {
    let msg = match kind {
        ErrorKind::ConnectionRefused => error::NET_REFUSED,
        ErrorKind::TimedOut => error::NET_TIMED_OUT,
        _ => error::NET_RESET,
    };
    io::Error::new(kind, msg)
}

fn closed_error() -> io::Error {
    io::Error::new(ErrorKind::NotConnected, error::NET_SOCKET_CLOSED)
}

impl Net {
    pub(super) fn tcp_registrations(&self, node: u32) -> usize {
        let listeners = self.listeners.values().filter(|l| l.node == node).count();
        let ends = self
            .conns
            .values()
            .flat_map(|c| &c.ends)
            .filter(|e| e.open && e.held && e.node == node)
            .count();
        listeners + ends
    }

    pub(super) fn tcp_bind(&mut self, node: u32, addr: SocketAddr) -> io::Result<u64> {
        let ip = self.local_for(node, addr)?;
        let port = match addr.port() {
            0 => Net::ephemeral(&mut self.next_port[node as usize], node, &self.tcp_ports)?,
            p if self.tcp_ports.contains_key(&(node, p)) => {
                return Err(io::Error::new(
                    ErrorKind::AddrInUse,
                    format!("{} (address {addr})", error::NET_ADDR_IN_USE),
                ))
            }
            p => p,
        };
        let id = self.id();
        self.tcp_ports.insert((node, port), Some(id));
        self.listeners.insert(
            id,
            Listener {
                node,
                addr: SocketAddr::new(ip, port),
                backlog: VecDeque::new(),
                acceptors: Vec::new(),
                ttl: 64,
            },
        );
        Ok(id)
    }

    /// Starts a connection from `node` to `addr`: sends SYN.
    fn tcp_connect(&mut self, node: u32, addr: SocketAddr, now: u64) -> io::Result<u64> {
        let Some(target) = self.node_of(addr.ip(), node) else {
            return Err(io::Error::new(
                ErrorKind::HostUnreachable,
                format!("{} (address {addr})", error::NET_NO_SUCH_HOST),
            ));
        };
        let port = Net::ephemeral(&mut self.next_port[node as usize], node, &self.tcp_ports)?;
        let ip = if addr.ip().is_loopback() || addr.ip().is_unspecified() {
            if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            }
        } else {
            self.ip(node)
        };
        let peer = SocketAddr::new(
            if addr.ip().is_unspecified() {
                ip
            } else {
                addr.ip()
            },
            addr.port(),
        );
        let id = self.id();
        self.tcp_ports.insert((node, port), None);
        let mut server = End::new(target, peer, false);
        server.open = false; // until a listener takes it
        self.conns.insert(
            id,
            Conn {
                ends: [End::new(node, SocketAddr::new(ip, port), true), server],
                pipes: [Pipe::default(), Pipe::default()],
            },
        );
        self.send(id, 0, SegKind::Syn, now);
        Ok(id)
    }

    /// Queues a segment from side `dir` of `conn`.
    fn send(&mut self, conn: u64, dir: usize, kind: SegKind, now: u64) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (from, to) = (c.ends[dir].node, c.ends[1 - dir].node);
        let delay = if from == to {
            self.tick
        } else {
            let link = self.link(from, to);
            let mut d = link.latency.sample(&self.rng);
            let mut rto = super::nanos(self.cfg.retransmit);
            // A lost segment arrives one retransmission timeout later, and
            // each further loss doubles the timeout (bounded, as TCP does).
            for _ in 0..8 {
                if !self.chance(link.loss) {
                    break;
                }
                d = d.saturating_add(rto);
                rto = rto.saturating_mul(2);
            }
            d.max(1)
        };
        let c = self.conns.get_mut(&conn).expect("looked up above");
        if let SegKind::Data(d) = &kind {
            c.ends[dir].unacked += d.len();
        }
        let pipe = &mut c.pipes[dir];
        // Acknowledgements not yet delivered merge: one segment carries them.
        if let (
            SegKind::Ack(more),
            Some(Seg {
                kind: SegKind::Ack(n),
                ..
            }),
        ) = (&kind, pipe.queue.back_mut())
        {
            *n += more;
            return;
        }
        let at = (now.saturating_add(delay))
            .div_ceil(self.tick)
            .saturating_mul(self.tick)
            .max(pipe.last_at);
        pipe.last_at = at;
        pipe.queue.push_back(Seg { at, kind });
        let stalled = pipe.stalled_since.is_some();
        if !stalled {
            self.schedule(at, Event::Pipe { conn, dir });
        }
    }

    /// Delivers the due segments of `conn`'s direction `dir`.
    pub(super) fn deliver(&mut self, conn: u64, dir: usize, now: u64, wake: &mut Vec<Waker>) {
        loop {
            let Some(c) = self.conns.get(&conn) else {
                return;
            };
            if c.pipes[dir].queue.front().is_none_or(|s| s.at > now) {
                break;
            }
            if self.is_blocked(c.ends[dir].node, c.ends[1 - dir].node) {
                let c = self.conns.get_mut(&conn).expect("looked up above");
                if c.pipes[dir].stalled_since.is_none() {
                    c.pipes[dir].stalled_since = Some(now);
                    let at = self.round_up(now.saturating_add(super::nanos(self.cfg.tcp_timeout)));
                    self.schedule(
                        at,
                        Event::Stall {
                            conn,
                            dir,
                            since: now,
                        },
                    );
                }
                return;
            }
            let c = self.conns.get_mut(&conn).expect("looked up above");
            let seg = c.pipes[dir].queue.pop_front().expect("checked above");
            let r = 1 - dir;
            match seg.kind {
                SegKind::Syn => {
                    let key = (c.ends[r].node, c.ends[r].local.port());
                    match self.tcp_ports.get(&key).copied().flatten() {
                        Some(lid) => {
                            let c = self.conns.get_mut(&conn).expect("looked up above");
                            c.ends[r].open = true;
                            c.ends[r].established = true;
                            let l = self
                                .listeners
                                .get_mut(&lid)
                                .expect("ports name live listeners");
                            l.backlog.push_back(conn);
                            wake.append(&mut l.acceptors);
                            self.send(conn, r, SegKind::SynAck, now);
                        }
                        None => {
                            c.ends[r].rst_sent = true;
                            self.send(conn, r, SegKind::Rst, now);
                        }
                    }
                }
                SegKind::SynAck => {
                    c.ends[r].established = true;
                    c.ends[r].take_wakers(wake);
                }
                SegKind::Data(d) => {
                    let e = &mut c.ends[r];
                    if !e.open || e.error.is_some() {
                        if !e.rst_sent {
                            e.rst_sent = true;
                            self.send(conn, r, SegKind::Rst, now);
                        }
                    } else if e.read_shut {
                        // Discarded, but acknowledged: the writer goes on.
                        self.send(conn, r, SegKind::Ack(d.len()), now);
                    } else {
                        e.recv.extend(d);
                        wake.append(&mut e.readers);
                    }
                }
                SegKind::Ack(n) => {
                    let e = &mut c.ends[r];
                    e.unacked = e.unacked.saturating_sub(n);
                    wake.append(&mut e.writers);
                }
                SegKind::Fin => {
                    c.ends[r].eof = true;
                    wake.append(&mut c.ends[r].readers);
                }
                SegKind::Rst => {
                    let e = &mut c.ends[r];
                    if e.error.is_none() {
                        e.error = Some(if e.established {
                            ErrorKind::ConnectionReset
                        } else {
                            ErrorKind::ConnectionRefused
                        });
                        e.recv.clear();
                        e.rst_sent = true;
                        e.take_wakers(wake);
                        // Nothing more goes out of a reset end.
                        e.unacked = 0;
                        let p = &mut c.pipes[r];
                        p.queue.clear();
                        p.stalled_since = None;
                    }
                }
            }
        }
        self.gc(conn, wake);
    }

    /// A direction was held for the whole TCP timeout. Its sender fails if
    /// it held data or control segments (their retransmissions went
    /// unanswered); the peer fails if it held the peer's acknowledgements
    /// (the peer's retransmissions went unanswered too). A failed end
    /// sends a reset, which the other end gets once the link carries it.
    pub(super) fn stall_timeout(
        &mut self,
        conn: u64,
        dir: usize,
        since: u64,
        now: u64,
        wake: &mut Vec<Waker>,
    ) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.pipes[dir].stalled_since != Some(since) {
            return;
        }
        let p = &mut c.pipes[dir];
        let payload = p.queue.iter().any(|s| !matches!(s.kind, SegKind::Ack(_)));
        let acks = p.queue.iter().any(|s| matches!(s.kind, SegKind::Ack(_)));
        p.queue.clear();
        p.stalled_since = None;
        for (side, failed) in [(dir, payload), (1 - dir, acks)] {
            let Some(c) = self.conns.get_mut(&conn) else {
                break;
            };
            let e = &mut c.ends[side];
            if failed && e.error.is_none() {
                e.error = Some(ErrorKind::TimedOut);
                e.recv.clear();
                e.rst_sent = true;
                e.unacked = 0;
                e.take_wakers(wake);
                self.send(conn, side, SegKind::Rst, now);
            }
        }
        self.gc(conn, wake);
    }

    /// Re-times and reschedules every held direction whose link is open again.
    pub(super) fn resume_stalled(&mut self, now: u64) {
        let held: Vec<(u64, usize)> = self
            .conns
            .iter()
            .flat_map(|(id, c)| {
                (0..2)
                    .filter(|&d| c.pipes[d].stalled_since.is_some())
                    .filter(|&d| !self.is_blocked(c.ends[d].node, c.ends[1 - d].node))
                    .map(move |d| (*id, d))
            })
            .collect();
        for (conn, dir) in held {
            let c = &self.conns[&conn];
            let link = self.link(c.ends[dir].node, c.ends[1 - dir].node);
            let base = self.round_up(now.saturating_add(link.latency.sample(&self.rng)));
            let c = self.conns.get_mut(&conn).expect("listed above");
            let p = &mut c.pipes[dir];
            p.stalled_since = None;
            let mut prev = base;
            let mut ats = Vec::with_capacity(p.queue.len());
            for seg in &mut p.queue {
                seg.at = seg.at.max(prev);
                prev = seg.at;
                ats.push(seg.at);
            }
            p.last_at = p.last_at.max(prev);
            for at in ats {
                self.schedule(at, Event::Pipe { conn, dir });
            }
        }
    }

    /// Closes side `side` of `conn` (its socket is gone): FIN, or RST if
    /// `abort` or it had unread data.
    fn close_end(&mut self, conn: u64, side: usize, abort: bool, now: u64, wake: &mut Vec<Waker>) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let e = &mut c.ends[side];
        if !e.open {
            return;
        }
        e.open = false;
        e.take_wakers(wake);
        let port = (e.node, e.local.port());
        if e.owns_port {
            self.tcp_ports.remove(&port);
        }
        let c = self.conns.get_mut(&conn).expect("looked up above");
        let e = &mut c.ends[side];
        let seg = if e.error.is_some() || e.rst_sent {
            None
        } else if abort || !e.recv.is_empty() || !e.established {
            e.rst_sent = true;
            e.error = Some(ErrorKind::ConnectionReset);
            Some(SegKind::Rst)
        } else if !e.write_shut {
            e.write_shut = true;
            Some(SegKind::Fin)
        } else {
            None
        };
        e.recv.clear();
        if let Some(seg) = seg {
            self.send(conn, side, seg, now);
        }
        self.gc(conn, wake);
    }

    fn gc(&mut self, conn: u64, wake: &mut Vec<Waker>) {
        let done = self.conns.get(&conn).is_some_and(|c| {
            c.ends.iter().all(|e| !e.open) && c.pipes.iter().all(|p| p.queue.is_empty())
        });
        if done {
            let mut c = self.conns.remove(&conn).expect("checked above");
            for e in &mut c.ends {
                e.take_wakers(wake);
            }
        }
    }

    fn listener_close(&mut self, id: u64, now: u64, wake: &mut Vec<Waker>) {
        let Some(mut l) = self.listeners.remove(&id) else {
            return;
        };
        self.tcp_ports.remove(&(l.node, l.addr.port()));
        wake.append(&mut l.acceptors);
        for conn in l.backlog {
            self.close_end(conn, 1, true, now, wake);
        }
    }

    pub(super) fn tcp_crash(&mut self, node: u32, now: u64, wake: &mut Vec<Waker>) {
        let listeners: Vec<u64> = self
            .listeners
            .iter()
            .filter(|(_, l)| l.node == node)
            .map(|(id, _)| *id)
            .collect();
        for id in listeners {
            self.listener_close(id, now, wake);
        }
        let ends: Vec<(u64, usize)> = self
            .conns
            .iter()
            .flat_map(|(id, c)| {
                (0..2)
                    .filter(|&s| c.ends[s].node == node && c.ends[s].open)
                    .map(move |s| (*id, s))
            })
            .collect();
        for (conn, side) in ends {
            self.close_end(conn, side, true, now, wake);
        }
    }

    /// The room side `side` may write into.
    fn window(&self, c: &Conn, side: usize) -> usize {
        self.cfg.tcp_buffer.saturating_sub(c.ends[side].unacked)
    }

    fn readiness(&self, c: &Conn, side: usize) -> Ready {
        let e = &c.ends[side];
        let mut r = Ready::EMPTY;
        if e.error.is_some() {
            return Ready::ERROR | Ready::READ_CLOSED | Ready::WRITE_CLOSED;
        }
        if !e.recv.is_empty() {
            r = r | Ready::READABLE;
        }
        if e.eof || e.read_shut {
            r = r | Ready::READ_CLOSED;
        }
        if e.write_shut {
            r = r | Ready::WRITE_CLOSED;
        } else if e.established && self.window(c, side) > 0 {
            r = r | Ready::WRITABLE;
        }
        r
    }

    fn tcp_read(
        &mut self,
        conn: u64,
        side: usize,
        buf: &mut [u8],
        waker: Option<&Waker>,
        now: u64,
    ) -> Poll<io::Result<usize>> {
        let Some(c) = self.conns.get_mut(&conn) else {
            return Poll::Ready(Err(closed_error()));
        };
        let e = &mut c.ends[side];
        if let Some(kind) = e.error {
            return Poll::Ready(Err(conn_error(kind)));
        }
        if !e.recv.is_empty() && !buf.is_empty() {
            let n = buf.len().min(e.recv.len());
            for (dst, src) in buf.iter_mut().zip(e.recv.drain(..n)) {
                *dst = src;
            }
            self.send(conn, side, SegKind::Ack(n), now);
            return Poll::Ready(Ok(n));
        }
        if e.eof || e.read_shut || buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match waker {
            Some(w) => {
                register(&mut e.readers, w);
                Poll::Pending
            }
            None => Poll::Ready(Err(ErrorKind::WouldBlock.into())),
        }
    }

    fn tcp_write(
        &mut self,
        conn: u64,
        side: usize,
        bufs: &[IoSlice<'_>],
        waker: Option<&Waker>,
        now: u64,
    ) -> Poll<io::Result<usize>> {
        let Some(c) = self.conns.get(&conn) else {
            return Poll::Ready(Err(closed_error()));
        };
        let e = &c.ends[side];
        if let Some(kind) = e.error {
            return Poll::Ready(Err(conn_error(kind)));
        }
        if e.write_shut {
            return Poll::Ready(Err(io::Error::new(
                ErrorKind::BrokenPipe,
                error::NET_WRITE_AFTER_SHUTDOWN,
            )));
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        let room = self.window(c, side);
        if room == 0 {
            let c = self.conns.get_mut(&conn).expect("looked up above");
            return match waker {
                Some(w) => {
                    register(&mut c.ends[side].writers, w);
                    Poll::Pending
                }
                None => Poll::Ready(Err(ErrorKind::WouldBlock.into())),
            };
        }
        let n = room.min(total);
        let mut data = Vec::with_capacity(n);
        for b in bufs {
            let take = (n - data.len()).min(b.len());
            data.extend_from_slice(&b[..take]);
            if data.len() == n {
                break;
            }
        }
        self.send(conn, side, SegKind::Data(data), now);
        Poll::Ready(Ok(n))
    }
}

/// `TcpStream::connect` on a simulated node.
pub(super) fn connect(
    world: Arc<World>,
    node: u32,
    addr: SocketAddr,
) -> BoxFuture<'static, io::Result<Box<dyn TcpStreamIo>>> {
    Box::pin(async move {
        let conn = {
            let mut st = world.state.lock();
            let now = st.now;
            st.net.tcp_connect(node, addr, now)?
        };
        // Dropped on failure or cancellation: closes the end.
        let stream = SimStream {
            world,
            conn,
            side: 0,
        };
        std::future::poll_fn(|cx| {
            let mut st = stream.world.state.lock();
            let Some(c) = st.net.conns.get_mut(&stream.conn) else {
                return Poll::Ready(Err(closed_error()));
            };
            let e = &mut c.ends[0];
            if let Some(kind) = e.error {
                Poll::Ready(Err(conn_error(kind)))
            } else if e.established {
                Poll::Ready(Ok(()))
            } else {
                register(&mut e.writers, cx.waker());
                Poll::Pending
            }
        })
        .await?;
        Ok(Box::new(stream) as Box<dyn TcpStreamIo>)
    })
}

/// A simulated TCP listener.
pub(super) struct SimListener {
    pub(super) world: Arc<World>,
    pub(super) id: u64,
}

impl TcpListenerIo for SimListener {
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn TcpStreamIo>, SocketAddr)>> {
        let mut st = self.world.state.lock();
        let net = &mut st.net;
        let Some(l) = net.listeners.get_mut(&self.id) else {
            return Poll::Ready(Err(closed_error()));
        };
        match l.backlog.pop_front() {
            Some(conn) => {
                let peer = net.conns.get_mut(&conn).map(|c| {
                    c.ends[1].held = true;
                    c.ends[0].local
                });
                drop(st);
                let stream = SimStream {
                    world: self.world.clone(),
                    conn,
                    side: 1,
                };
                match peer {
                    Some(peer) => Poll::Ready(Ok((Box::new(stream), peer))),
                    None => Poll::Ready(Err(conn_error(ErrorKind::ConnectionReset))),
                }
            }
            None => {
                register(&mut l.acceptors, cx.waker());
                Poll::Pending
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        let st = self.world.state.lock();
        st.net
            .listeners
            .get(&self.id)
            .map(|l| l.addr)
            .ok_or_else(closed_error)
    }

    fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        let mut st = self.world.state.lock();
        let l = st
            .net
            .listeners
            .get_mut(&self.id)
            .ok_or_else(closed_error)?;
        l.ttl = ttl;
        Ok(())
    }

    fn ttl(&self) -> io::Result<u32> {
        let st = self.world.state.lock();
        st.net
            .listeners
            .get(&self.id)
            .map(|l| l.ttl)
            .ok_or_else(closed_error)
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        let mut wake = Vec::new();
        {
            let mut st = self.world.state.lock();
            let now = st.now;
            st.net.listener_close(self.id, now, &mut wake);
        }
        wake_all(wake);
    }
}

/// One end of a simulated TCP connection.
pub(super) struct SimStream {
    world: Arc<World>,
    conn: u64,
    side: usize,
}

impl SimStream {
    fn with_end<R>(&self, f: impl FnOnce(&mut End) -> R) -> io::Result<R> {
        let mut st = self.world.state.lock();
        match st.net.conns.get_mut(&self.conn) {
            Some(c) => Ok(f(&mut c.ends[self.side])),
            None => Err(closed_error()),
        }
    }

    fn read(&self, buf: &mut [u8], waker: Option<&Waker>) -> Poll<io::Result<usize>> {
        let mut st = self.world.state.lock();
        let now = st.now;
        st.net.tcp_read(self.conn, self.side, buf, waker, now)
    }

    fn write(&self, bufs: &[IoSlice<'_>], waker: Option<&Waker>) -> Poll<io::Result<usize>> {
        let mut st = self.world.state.lock();
        let now = st.now;
        st.net.tcp_write(self.conn, self.side, bufs, waker, now)
    }
}

fn pending_to_would_block(p: Poll<io::Result<usize>>) -> io::Result<usize> {
    match p {
        Poll::Ready(r) => r,
        Poll::Pending => Err(ErrorKind::WouldBlock.into()),
    }
}

impl TcpStreamIo for SimStream {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.read(buf, Some(cx.waker()))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.write(&[IoSlice::new(buf)], Some(cx.waker()))
    }

    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.write(bufs, Some(cx.waker()))
    }

    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        let mut st = self.world.state.lock();
        let net = &mut st.net;
        let Some(c) = net.conns.get(&self.conn) else {
            return Poll::Ready(Err(closed_error()));
        };
        let ready = net.readiness(c, self.side);
        let wanted = (interest.is_readable() && ready.is_readable())
            || (interest.is_writable() && ready.is_writable());
        if wanted {
            return Poll::Ready(Ok(ready));
        }
        let e = &mut net.conns.get_mut(&self.conn).expect("looked up above").ends[self.side];
        if interest.is_readable() {
            register(&mut e.readers, cx.waker());
        }
        if interest.is_writable() {
            register(&mut e.writers, cx.waker());
        }
        Poll::Pending
    }

    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        pending_to_would_block(self.read(buf, None))
    }

    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        pending_to_would_block(self.write(&[IoSlice::new(buf)], None))
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        pending_to_would_block(self.write(bufs, None))
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let mut wake = Vec::new();
        let r = {
            let mut st = self.world.state.lock();
            let now = st.now;
            let net = &mut st.net;
            match net.conns.get_mut(&self.conn) {
                None => Err(closed_error()),
                Some(c) => {
                    let e = &mut c.ends[self.side];
                    let mut discarded = 0;
                    if matches!(how, Shutdown::Read | Shutdown::Both) && !e.read_shut {
                        e.read_shut = true;
                        discarded = e.recv.len();
                        e.recv.clear();
                        wake.append(&mut e.readers);
                    }
                    let fin = matches!(how, Shutdown::Write | Shutdown::Both)
                        && !e.write_shut
                        && e.error.is_none();
                    if fin {
                        e.write_shut = true;
                        wake.append(&mut e.writers);
                    }
                    if discarded > 0 {
                        net.send(self.conn, self.side, SegKind::Ack(discarded), now);
                    }
                    if fin {
                        net.send(self.conn, self.side, SegKind::Fin, now);
                    }
                    Ok(())
                }
            }
        };
        wake_all(wake);
        r
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.with_end(|e| e.local)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        let st = self.world.state.lock();
        match st.net.conns.get(&self.conn) {
            Some(c) => Ok(c.ends[1 - self.side].local),
            None => Err(closed_error()),
        }
    }

    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.with_end(|e| e.nodelay = nodelay)
    }

    fn nodelay(&self) -> io::Result<bool> {
        self.with_end(|e| e.nodelay)
    }

    fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.with_end(|e| e.ttl = ttl)
    }

    fn ttl(&self) -> io::Result<u32> {
        self.with_end(|e| e.ttl)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(None)
    }
}

impl Drop for SimStream {
    fn drop(&mut self) {
        let mut wake = Vec::new();
        {
            let mut st = self.world.state.lock();
            let now = st.now;
            st.net
                .close_end(self.conn, self.side, false, now, &mut wake);
        }
        wake_all(wake);
    }
}
