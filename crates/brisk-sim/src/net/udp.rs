//! Simulated UDP: datagrams as events, lost, duplicated and reordered per
//! link.

use super::{register, Event, Net};
use crate::error;
use crate::world::World;
use brisk_core::net::{Interest, Ready, UdpSocketIo};
use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// The largest UDP payload over IPv4.
pub(crate) const MAX_DATAGRAM: usize = 65_507;

pub(crate) struct UdpSock {
    pub(super) node: u32,
    local: SocketAddr,
    peer: Option<SocketAddr>,
    queue: VecDeque<(Vec<u8>, SocketAddr)>,
    readers: Vec<Waker>,
    broadcast: bool,
    ttl: u32,
}

fn closed_error() -> io::Error {
    io::Error::new(ErrorKind::NotConnected, error::NET_SOCKET_CLOSED)
}

fn not_connected() -> io::Error {
    io::Error::new(ErrorKind::NotConnected, error::NET_UDP_NOT_CONNECTED)
}

impl Net {
    pub(super) fn udp_bind(&mut self, node: u32, addr: SocketAddr) -> io::Result<u64> {
        let ip = self.local_for(node, addr)?;
        let port = match addr.port() {
            0 => Net::ephemeral(&mut self.next_port[node as usize], node, &self.udp_ports)?,
            p if self.udp_ports.contains_key(&(node, p)) => {
                return Err(io::Error::new(
                    ErrorKind::AddrInUse,
                    format!("{} (address {addr})", error::NET_ADDR_IN_USE),
                ))
            }
            p => p,
        };
        let id = self.id();
        self.udp_ports.insert((node, port), id);
        self.udp.insert(
            id,
            UdpSock {
                node,
                local: SocketAddr::new(ip, port),
                peer: None,
                queue: VecDeque::new(),
                readers: Vec::new(),
                broadcast: false,
                ttl: 64,
            },
        );
        Ok(id)
    }

    fn udp_close(&mut self, id: u64, wake: &mut Vec<Waker>) {
        if let Some(mut u) = self.udp.remove(&id) {
            self.udp_ports.remove(&(u.node, u.local.port()));
            wake.append(&mut u.readers);
        }
    }

    pub(super) fn udp_crash(&mut self, node: u32, wake: &mut Vec<Waker>) {
        let ids: Vec<u64> = self
            .udp
            .iter()
            .filter(|(_, u)| u.node == node)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.udp_close(id, wake);
        }
    }

    fn udp_send(&mut self, id: u64, buf: &[u8], target: SocketAddr, now: u64) -> io::Result<usize> {
        let Some(u) = self.udp.get(&id) else {
            return Err(closed_error());
        };
        if buf.len() > MAX_DATAGRAM {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("{} ({} bytes)", error::NET_DATAGRAM_TOO_LARGE, buf.len()),
            ));
        }
        let from_node = u.node;
        let Some(to_node) = self.node_of(target.ip(), from_node) else {
            // No such host: the datagram goes nowhere, as on a real network.
            return Ok(buf.len());
        };
        let src_ip = if target.ip().is_loopback() {
            if target.is_ipv4() {
                Ipv4Addr::LOCALHOST.into()
            } else {
                Ipv6Addr::LOCALHOST.into()
            }
        } else {
            self.ip(from_node)
        };
        let from = SocketAddr::new(src_ip, u.local.port());
        let link = self.link(from_node, to_node);
        if from_node != to_node && self.chance(link.loss) {
            return Ok(buf.len());
        }
        let copies = if from_node != to_node && self.chance(link.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = if from_node == to_node {
                self.tick
            } else {
                let mut d = link.latency.sample(&self.rng);
                if self.chance(link.reorder) {
                    d = d
                        .saturating_add(link.latency.hi)
                        .saturating_add(link.latency.sample(&self.rng));
                }
                d
            };
            let at = self.round_up(now.saturating_add(delay.max(1)));
            self.schedule(
                at,
                Event::Datagram {
                    from_node,
                    to_node,
                    port: target.port(),
                    from,
                    data: buf.to_vec(),
                },
            );
        }
        Ok(buf.len())
    }

    pub(super) fn udp_arrive(
        &mut self,
        from_node: u32,
        to_node: u32,
        port: u16,
        from: SocketAddr,
        data: Vec<u8>,
        wake: &mut Vec<Waker>,
    ) {
        if self.is_blocked(from_node, to_node) {
            return;
        }
        let Some(id) = self.udp_ports.get(&(to_node, port)) else {
            return;
        };
        let limit = self.cfg.udp_queue;
        let u = self.udp.get_mut(id).expect("ports name live sockets");
        if u.peer.is_some_and(|p| p != from) || u.queue.len() >= limit {
            return;
        }
        u.queue.push_back((data, from));
        wake.append(&mut u.readers);
    }

    fn udp_recv(
        &mut self,
        id: u64,
        buf: &mut [u8],
        waker: Option<&Waker>,
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let Some(u) = self.udp.get_mut(&id) else {
            return Poll::Ready(Err(closed_error()));
        };
        match u.queue.pop_front() {
            Some((data, from)) => {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                Poll::Ready(Ok((n, from)))
            }
            None => match waker {
                Some(w) => {
                    register(&mut u.readers, w);
                    Poll::Pending
                }
                None => Poll::Ready(Err(ErrorKind::WouldBlock.into())),
            },
        }
    }
}

/// A simulated UDP socket.
pub(super) struct SimUdp {
    pub(super) world: Arc<World>,
    pub(super) id: u64,
}

impl SimUdp {
    fn send(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let mut st = self.world.state.lock();
        let now = st.now;
        st.net.udp_send(self.id, buf, target, now)
    }

    fn with<R>(&self, f: impl FnOnce(&mut UdpSock) -> R) -> io::Result<R> {
        let mut st = self.world.state.lock();
        st.net.udp.get_mut(&self.id).map(f).ok_or_else(closed_error)
    }

    fn peer(&self) -> io::Result<SocketAddr> {
        self.with(|u| u.peer)?.ok_or_else(not_connected)
    }
}

impl UdpSocketIo for SimUdp {
    fn poll_send_to(
        &self,
        _cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.send(buf, target))
    }

    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.world
            .state
            .lock()
            .net
            .udp_recv(self.id, buf, Some(cx.waker()))
    }

    fn poll_send(&self, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(self.peer().and_then(|p| self.send(buf, p)))
    }

    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if let Err(e) = self.peer() {
            return Poll::Ready(Err(e));
        }
        self.poll_recv_from(cx, buf).map_ok(|(n, _)| n)
    }

    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        let mut st = self.world.state.lock();
        let Some(u) = st.net.udp.get_mut(&self.id) else {
            return Poll::Ready(Err(closed_error()));
        };
        let mut ready = Ready::WRITABLE;
        if !u.queue.is_empty() {
            ready = ready | Ready::READABLE;
        }
        if interest.is_writable() || ready.is_readable() {
            return Poll::Ready(Ok(ready));
        }
        register(&mut u.readers, cx.waker());
        Poll::Pending
    }

    fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.send(buf, target)
    }

    fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match self.world.state.lock().net.udp_recv(self.id, buf, None) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(ErrorKind::WouldBlock.into()),
        }
    }

    fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.with(|u| u.peer = Some(addr))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.with(|u| u.local)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.peer()
    }

    fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.with(|u| u.broadcast = on)
    }

    fn broadcast(&self) -> io::Result<bool> {
        self.with(|u| u.broadcast)
    }

    fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.with(|u| u.ttl = ttl)
    }

    fn ttl(&self) -> io::Result<u32> {
        self.with(|u| u.ttl)
    }
}

impl Drop for SimUdp {
    fn drop(&mut self) {
        let mut wake = Vec::new();
        self.world.state.lock().net.udp_close(self.id, &mut wake);
        super::wake_all(wake);
    }
}
