//! The simulated network: every node's `brisk::net` sockets — TCP and UDP
//! — talk through it, with per-link latency, loss, duplication and
//! reordering, partitions and clogs, all drawn from the simulation's seed.
//!
//! ```
//! use brisk::io::{AsyncReadExt, AsyncWriteExt};
//! use brisk::net::{TcpListener, TcpStream};
//! use brisk::sim::{Latency, Link, NetConfig, Sim};
//! use std::time::Duration;
//!
//! let link = Link::new().latency(Latency::fixed(Duration::from_millis(5)));
//! let mut sim = Sim::builder()
//!     .seed(3)
//!     .net(NetConfig::new().link(link))
//!     .build();
//! sim.node("echo").ip([10, 0, 0, 7]).init(|| async {
//!     let listener = TcpListener::bind("0.0.0.0:7").await.unwrap();
//!     loop {
//!         let (mut conn, _) = listener.accept().await.unwrap();
//!         brisk::spawn(async move {
//!             let mut buf = [0; 64];
//!             loop {
//!                 let n = conn.read(&mut buf).await.unwrap();
//!                 if n == 0 {
//!                     return;
//!                 }
//!                 conn.write_all(&buf[..n]).await.unwrap();
//!             }
//!         });
//!     }
//! });
//! let client = sim.client("c", async {
//!     brisk::time::sleep(Duration::from_millis(1)).await; // let the server bind
//!     let mut conn = TcpStream::connect("echo:7").await.unwrap(); // names resolve
//!     let start = brisk::time::Instant::now();
//!     conn.write_all(b"ping").await.unwrap();
//!     let mut buf = [0; 4];
//!     conn.read_exact(&mut buf).await.unwrap();
//!     (buf, start.elapsed(), conn.peer_addr().unwrap())
//! });
//! sim.run().unwrap();
//! let (buf, rtt, peer) = client.output();
//! assert_eq!(&buf, b"ping");
//! assert_eq!(rtt, Duration::from_millis(10)); // one round trip of 2 × 5 ms
//! assert_eq!(peer, "10.0.0.7:7".parse().unwrap());
//! ```
//!
//! # Model
//! - **Addresses.** Each node has one IP ([`NodeBuilder::ip`](crate::NodeBuilder::ip),
//!   or `10.0.x.y` in creation order). Host names resolve to nodes by name,
//!   `localhost` and loopback addresses to the calling node. A socket bound
//!   to the unspecified address reports the node's IP as its local address.
//! - **TCP** is reliable and ordered: every segment (connect handshake,
//!   data, FIN, RST) is an event at `now + latency`, never earlier than the
//!   segment sent before it on the same connection. Flow control: a writer
//!   may have at most [`NetConfig::tcp_buffer`] bytes unacknowledged — in
//!   flight, unread in the peer's buffer, or read but with the
//!   acknowledgement (sent when the peer reads) still on its way back;
//!   beyond that writes return `Pending`. A lossy link delays segments by
//!   retransmissions ([`NetConfig::retransmit`], doubling) and never loses
//!   bytes. A blocked link (partition, clog) holds segments; they move
//!   again when it heals. Segments held for [`NetConfig::tcp_timeout`] fail
//!   the connection with `TimedOut`: at their sender if they carry data or
//!   control, at the peer if they carry its acknowledgements (as with a
//!   one-way partition); the failed end sends a reset, which the other end
//!   gets once the link carries it. A crashed node's connections are
//!   reset: its peers get `ConnectionReset` once the reset reaches them.
//!   Dropping a stream sends FIN (EOF at the peer), or RST if it had unread
//!   data.
//! - **UDP** datagrams are lost, duplicated and reordered per link
//!   ([`Link::loss`], [`Link::duplicate`], [`Link::reorder`]), dropped when
//!   the link is blocked at delivery or the receiver's queue
//!   ([`NetConfig::udp_queue`]) is full; at most 65,507 bytes each.

mod tcp;
mod udp;

use crate::error;
use crate::world::{State, World};
use brisk_core::net::{BoxFuture, NetDriver, TcpListenerIo, TcpStreamIo, UdpSocketIo};
use brisk_core::rand::{below_with, mix, Rng};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

pub(crate) use tcp::Conn;
pub(crate) use udp::UdpSock;

/// How long a segment or datagram takes on a link, drawn per packet from
/// the simulation's seeded generator.
///
/// ```
/// use brisk::sim::Latency;
/// use std::time::Duration;
/// let lan = Latency::uniform(Duration::from_micros(100), Duration::from_millis(2));
/// assert_eq!(lan.max(), Duration::from_millis(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    lo: u64,
    hi: u64,
}

impl Latency {
    /// Always `d`.
    pub fn fixed(d: Duration) -> Latency {
        let d = nanos(d);
        Latency { lo: d, hi: d }
    }

    /// Uniform between `lo` and `hi`, both included.
    ///
    /// # Panics
    /// If `lo > hi`.
    #[track_caller]
    pub fn uniform(lo: Duration, hi: Duration) -> Latency {
        assert!(lo <= hi, "{}", error::BAD_LATENCY);
        Latency {
            lo: nanos(lo),
            hi: nanos(hi),
        }
    }

    /// The smallest latency this can draw.
    pub fn min(&self) -> Duration {
        Duration::from_nanos(self.lo)
    }

    /// The largest latency this can draw.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.hi)
    }

    fn sample(&self, rng: &Rng) -> u64 {
        if self.lo == self.hi {
            return self.lo;
        }
        // Saturating: `0..=u64::MAX` ns cannot count its values in a u64
        // (the last nanosecond of ~584 years is never drawn).
        self.lo + below_with((self.hi - self.lo).saturating_add(1), || rng.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widest_latency_range_samples_without_overflow() {
        let rng = Rng::from_seed(1);
        let widest = Latency::uniform(Duration::ZERO, Duration::MAX);
        for _ in 0..100 {
            let d = widest.sample(&rng);
            assert!(d < u64::MAX);
        }
        let one = Latency::uniform(Duration::from_nanos(5), Duration::from_nanos(6));
        assert!((5..=6).contains(&one.sample(&rng)));
    }
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

/// One link's behaviour (both directions): latency, and for UDP loss,
/// duplication and reordering. For TCP, loss becomes retransmission delay.
///
/// ```
/// use brisk::sim::{Latency, Link};
/// use std::time::Duration;
/// let flaky = Link::new()
///     .latency(Latency::uniform(Duration::from_millis(1), Duration::from_millis(20)))
///     .loss(0.1)
///     .duplicate(0.01)
///     .reorder(0.05);
/// # let _ = flaky;
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link {
    latency: Latency,
    loss: f64,
    duplicate: f64,
    reorder: f64,
}

impl Default for Link {
    fn default() -> Self {
        Link::new()
    }
}

impl Link {
    /// A reliable link with a latency uniform in 1–5 ms.
    pub fn new() -> Link {
        Link {
            latency: Latency::uniform(Duration::from_millis(1), Duration::from_millis(5)),
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
        }
    }

    /// The latency distribution.
    pub fn latency(mut self, latency: Latency) -> Link {
        self.latency = latency;
        self
    }

    /// The probability that a packet is lost (UDP: dropped; TCP: delayed by
    /// a retransmission, as often as it is "lost" again).
    ///
    /// # Panics
    /// If `p` is not within `0.0..1.0` (1.0 would lose every packet, and
    /// TCP would retransmit forever).
    #[track_caller]
    pub fn loss(mut self, p: f64) -> Link {
        assert!((0.0..1.0).contains(&p), "{}", error::BAD_PROBABILITY);
        self.loss = p;
        self
    }

    /// The probability that a UDP datagram arrives twice.
    ///
    /// # Panics
    /// If `p` is not within `0.0..=1.0`.
    #[track_caller]
    pub fn duplicate(mut self, p: f64) -> Link {
        assert!((0.0..=1.0).contains(&p), "{}", error::BAD_PROBABILITY);
        self.duplicate = p;
        self
    }

    /// The probability that a UDP datagram is held back by an extra
    /// latency (so later ones overtake it).
    ///
    /// # Panics
    /// If `p` is not within `0.0..=1.0`.
    #[track_caller]
    pub fn reorder(mut self, p: f64) -> Link {
        assert!((0.0..=1.0).contains(&p), "{}", error::BAD_PROBABILITY);
        self.reorder = p;
        self
    }
}

/// The simulated network's settings: the default [`Link`], and TCP's and
/// UDP's limits. Give it to [`Builder::net`](crate::Builder::net).
///
/// ```
/// use brisk::sim::{NetConfig, Sim};
/// use std::time::Duration;
/// let sim = Sim::builder()
///     .net(NetConfig::new().tcp_timeout(Duration::from_secs(5)).tcp_buffer(4096))
///     .build();
/// # drop(sim);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetConfig {
    link: Link,
    tcp_timeout: Duration,
    tcp_buffer: usize,
    retransmit: Duration,
    udp_queue: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig::new()
    }
}

impl NetConfig {
    /// Defaults: [`Link::new`], a 30 s TCP timeout, 64 KiB TCP buffers, a
    /// 200 ms retransmission timeout, 256 queued datagrams per UDP socket.
    pub fn new() -> NetConfig {
        NetConfig {
            link: Link::new(),
            tcp_timeout: Duration::from_secs(30),
            tcp_buffer: 64 * 1024,
            retransmit: Duration::from_millis(200),
            udp_queue: 256,
        }
    }

    /// The link between every pair of nodes without a
    /// [`Sim::set_link`](crate::Sim::set_link) of their own.
    pub fn link(mut self, link: Link) -> NetConfig {
        self.link = link;
        self
    }

    /// How long a TCP segment may be held by a blocked link before its
    /// sender's connection fails with `TimedOut`.
    pub fn tcp_timeout(mut self, timeout: Duration) -> NetConfig {
        self.tcp_timeout = timeout;
        self
    }

    /// How many bytes a TCP writer may have unread by its peer (in flight
    /// plus the peer's receive buffer).
    ///
    /// # Panics
    /// If `bytes` is zero.
    #[track_caller]
    pub fn tcp_buffer(mut self, bytes: usize) -> NetConfig {
        assert!(bytes > 0, "{}", error::BAD_TCP_BUFFER);
        self.tcp_buffer = bytes;
        self
    }

    /// The delay a "lost" TCP segment adds (doubling with each loss in a row).
    pub fn retransmit(mut self, rto: Duration) -> NetConfig {
        self.retransmit = rto;
        self
    }

    /// How many datagrams a UDP socket queues before dropping new ones.
    pub fn udp_queue(mut self, datagrams: usize) -> NetConfig {
        self.udp_queue = datagrams;
        self
    }
}

/// A network event, at a global virtual time.
pub(crate) enum Event {
    /// Segments of a connection's direction may be due.
    Pipe { conn: u64, dir: usize },
    /// A direction has been blocked since `since`: time it out if it still is.
    Stall { conn: u64, dir: usize, since: u64 },
    /// A datagram arrives.
    Datagram {
        from_node: u32,
        to_node: u32,
        port: u16,
        from: SocketAddr,
        data: Vec<u8>,
    },
}

/// The network's state, inside the world's state.
///
/// Ground rules: as for the world; every map is a `BTreeMap` (or only
/// looked up), ids and sequence numbers grow in event order, so iteration
/// order is a function of the seed.
pub(crate) struct Net {
    cfg: NetConfig,
    tick: u64,
    rng: Rng,
    seq: u64,
    next_id: u64,
    /// Each node's IP, by node index.
    ips: Vec<IpAddr>,
    /// The next ephemeral port to try, by node index.
    next_port: Vec<u16>,
    /// Per-link overrides, keyed by `(min, max)` node index.
    links: BTreeMap<(u32, u32), Link>,
    /// Directed blocks `(from, to)`.
    blocked: BTreeSet<(u32, u32)>,
    clogged: BTreeSet<u32>,
    events: BTreeMap<(u64, u64), Event>,
    conns: BTreeMap<u64, Conn>,
    listeners: BTreeMap<u64, tcp::Listener>,
    /// TCP ports in use (listeners and outgoing connections) by `(node, port)`.
    tcp_ports: BTreeMap<(u32, u16), Option<u64>>,
    udp: BTreeMap<u64, UdpSock>,
    udp_ports: BTreeMap<(u32, u16), u64>,
}

const EPHEMERAL: u16 = 49152;

impl Net {
    pub(crate) fn new(seed: u64, tick: u64, cfg: NetConfig) -> Net {
        Net {
            cfg,
            tick,
            rng: Rng::from_seed(mix(seed, 0x4E37_0B5E)),
            seq: 0,
            next_id: 0,
            ips: Vec::new(),
            next_port: Vec::new(),
            links: BTreeMap::new(),
            blocked: BTreeSet::new(),
            clogged: BTreeSet::new(),
            events: BTreeMap::new(),
            conns: BTreeMap::new(),
            listeners: BTreeMap::new(),
            tcp_ports: BTreeMap::new(),
            udp: BTreeMap::new(),
            udp_ports: BTreeMap::new(),
        }
    }

    /// Registers node `i` (the next index) with `ip`, or a fresh `10.0.x.y`.
    ///
    /// Returns `Err` if `ip` belongs to another node.
    pub(crate) fn add_node(&mut self, ip: Option<IpAddr>) -> Result<IpAddr, IpAddr> {
        let ip = match ip {
            Some(ip) if self.ips.contains(&ip) => return Err(ip),
            Some(ip) => ip,
            None => {
                let mut n = self.ips.len() as u32 + 1;
                loop {
                    let ip =
                        IpAddr::V4(Ipv4Addr::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8));
                    if n & 0xff != 0 && !self.ips.contains(&ip) {
                        break ip;
                    }
                    n += 1;
                }
            }
        };
        self.ips.push(ip);
        self.next_port.push(EPHEMERAL);
        Ok(ip)
    }

    pub(crate) fn ip(&self, node: u32) -> IpAddr {
        self.ips[node as usize]
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn schedule(&mut self, at: u64, ev: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), ev);
    }

    fn round_up(&self, t: u64) -> u64 {
        t.div_ceil(self.tick).saturating_mul(self.tick)
    }

    fn chance(&self, p: f64) -> bool {
        p > 0.0 && ((self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn link(&self, a: u32, b: u32) -> Link {
        *self
            .links
            .get(&(a.min(b), a.max(b)))
            .unwrap_or(&self.cfg.link)
    }

    pub(crate) fn set_link(&mut self, a: u32, b: u32, link: Link) {
        self.links.insert((a.min(b), a.max(b)), link);
    }

    /// True if traffic from `from` to `to` is held (partition or clog).
    fn is_blocked(&self, from: u32, to: u32) -> bool {
        from != to
            && (self.blocked.contains(&(from, to))
                || self.clogged.contains(&from)
                || self.clogged.contains(&to))
    }

    /// The node owning `ip`, as seen from node `from`.
    fn node_of(&self, ip: IpAddr, from: u32) -> Option<u32> {
        if ip.is_loopback() || ip.is_unspecified() {
            return Some(from);
        }
        self.ips.iter().position(|i| *i == ip).map(|i| i as u32)
    }

    /// The address node `node` binds for `addr`: its port, with the
    /// unspecified IP replaced by the node's.
    fn local_for(&self, node: u32, addr: SocketAddr) -> io::Result<IpAddr> {
        let ip = addr.ip();
        if ip.is_unspecified() {
            Ok(self.ip(node))
        } else if ip.is_loopback() || ip == self.ip(node) {
            Ok(ip)
        } else {
            Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{} (address {addr})", error::NET_ADDR_NOT_LOCAL),
            ))
        }
    }

    /// A free ephemeral port of `node` in `used`.
    fn ephemeral<V>(next: &mut u16, node: u32, used: &BTreeMap<(u32, u16), V>) -> io::Result<u16> {
        for _ in EPHEMERAL..=u16::MAX {
            let p = *next;
            *next = if p == u16::MAX { EPHEMERAL } else { p + 1 };
            if !used.contains_key(&(node, p)) {
                return Ok(p);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            error::NET_PORTS_EXHAUSTED,
        ))
    }

    /// The earliest pending event.
    pub(crate) fn next_event(&self) -> Option<u64> {
        self.events.first_key_value().map(|((at, _), _)| *at)
    }

    /// Handles every event due at or before `now`; returns the wakers to
    /// wake after unlocking.
    pub(crate) fn fire_due(&mut self, now: u64) -> Vec<Waker> {
        let mut wake = Vec::new();
        while let Some(entry) = self.events.first_entry() {
            if entry.key().0 > now {
                break;
            }
            match entry.remove() {
                Event::Pipe { conn, dir } => self.deliver(conn, dir, now, &mut wake),
                Event::Stall { conn, dir, since } => {
                    self.stall_timeout(conn, dir, since, now, &mut wake)
                }
                Event::Datagram {
                    from_node,
                    to_node,
                    port,
                    from,
                    data,
                } => self.udp_arrive(from_node, to_node, port, from, data, &mut wake),
            }
        }
        wake
    }

    /// Blocks traffic `from` → `to`.
    pub(crate) fn block(&mut self, from: u32, to: u32) {
        self.blocked.insert((from, to));
    }

    /// Unblocks traffic `from` → `to`, resuming held TCP segments.
    pub(crate) fn unblock(&mut self, from: u32, to: u32, now: u64) {
        self.blocked.remove(&(from, to));
        self.resume_stalled(now);
    }

    /// Removes every partition, resuming held TCP segments.
    pub(crate) fn unblock_all(&mut self, now: u64) {
        self.blocked.clear();
        self.resume_stalled(now);
    }

    pub(crate) fn clog(&mut self, node: u32) {
        self.clogged.insert(node);
    }

    pub(crate) fn unclog(&mut self, node: u32, now: u64) {
        self.clogged.remove(&node);
        self.resume_stalled(now);
    }

    /// Node `node` crashed: resets its connections (peers learn through
    /// RST segments), closes its listeners and UDP sockets and frees their
    /// ports. Returns wakers to wake (or drop) after unlocking.
    pub(crate) fn crash_node(&mut self, node: u32, now: u64) -> Vec<Waker> {
        let mut wake = Vec::new();
        self.tcp_crash(node, now, &mut wake);
        self.udp_crash(node, &mut wake);
        wake
    }

    /// Sockets of `node` open right now.
    pub(crate) fn registrations(&self, node: u32) -> usize {
        self.tcp_registrations(node) + self.udp.values().filter(|u| u.node == node).count()
    }

    /// Resolves `host:port`: node names, `localhost`, and IPs.
    fn resolve(&self, host: &str, nodes: &State) -> io::Result<Vec<SocketAddr>> {
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} (got \"{host}\")", error::NET_RESOLVE_FORMAT),
            )
        };
        let (name, port) = host.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let name = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if name.eq_ignore_ascii_case("localhost") {
            return Ok(vec![SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)]);
        }
        match nodes.nodes.iter().position(|n| &*n.name == name) {
            Some(i) => Ok(vec![SocketAddr::new(self.ip(i as u32), port)]),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} (host \"{name}\")", error::NET_UNKNOWN_HOST),
            )),
        }
    }
}

/// Wakes wakers outside the world's lock.
fn wake_all(wakers: Vec<Waker>) {
    for w in wakers {
        w.wake();
    }
}

/// Adds `w` to `list` unless a waker there wakes the same task.
fn register(list: &mut Vec<Waker>, w: &Waker) {
    if !list.iter().any(|x| x.will_wake(w)) {
        list.push(w.clone());
    }
}

/// A node's network, as `brisk::net` sees it.
pub(crate) struct SimNet {
    pub(crate) world: Arc<World>,
    pub(crate) node: u32,
}

impl NetDriver for SimNet {
    fn bind_tcp(&self, addr: SocketAddr) -> io::Result<Box<dyn TcpListenerIo>> {
        let id = {
            let mut st = self.world.state.lock();
            st.net.tcp_bind(self.node, addr)?
        };
        Ok(Box::new(tcp::SimListener {
            world: self.world.clone(),
            id,
        }))
    }

    fn connect_tcp(
        &self,
        addr: SocketAddr,
    ) -> BoxFuture<'static, io::Result<Box<dyn TcpStreamIo>>> {
        tcp::connect(self.world.clone(), self.node, addr)
    }

    fn bind_udp(&self, addr: SocketAddr) -> io::Result<Box<dyn UdpSocketIo>> {
        let id = {
            let mut st = self.world.state.lock();
            st.net.udp_bind(self.node, addr)?
        };
        Ok(Box::new(udp::SimUdp {
            world: self.world.clone(),
            id,
        }))
    }

    fn resolve(&self, host: String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let r = {
            let st = self.world.state.lock();
            st.net.resolve(&host, &st)
        };
        Box::pin(std::future::ready(r))
    }

    fn registrations(&self) -> usize {
        self.world.state.lock().net.registrations(self.node)
    }
}

/// Node index by name, for the fault API.
#[track_caller]
pub(crate) fn index(st: &State, name: &str) -> u32 {
    match st.nodes.iter().position(|n| &*n.name == name) {
        Some(i) => i as u32,
        None => panic!("{} (node \"{name}\")", error::UNKNOWN_NODE),
    }
}

/// Applies a change to the network of `world`, given the node indices of
/// `names` and the current time. (Fault changes wake no task: held
/// segments are rescheduled as events.)
#[track_caller]
pub(crate) fn with_net<const N: usize>(
    world: &World,
    names: [&str; N],
    f: impl FnOnce(&mut Net, [u32; N], u64),
) {
    let mut st = world.state.lock();
    let idx = names.map(|n| index(&st, n));
    let now = st.now;
    f(&mut st.net, idx, now);
}

#[track_caller]
pub(crate) fn partition(world: &World, a: &str, b: &str, oneway: bool) {
    with_net(world, [a, b], |net, [a, b], _| {
        net.block(a, b);
        if !oneway {
            net.block(b, a);
        }
    });
}

#[track_caller]
pub(crate) fn heal(world: &World, a: &str, b: &str) {
    with_net(world, [a, b], |net, [a, b], now| {
        net.blocked.remove(&(b, a));
        net.unblock(a, b, now);
    });
}

pub(crate) fn heal_all(world: &World) {
    with_net(world, [], |net, [], now| {
        net.unblock_all(now);
    });
}

#[track_caller]
pub(crate) fn clog(world: &World, name: &str, on: bool) {
    with_net(world, [name], |net, [n], now| {
        if on {
            net.clog(n);
        } else {
            net.unclog(n, now);
        }
    });
}

#[track_caller]
pub(crate) fn set_link(world: &World, a: &str, b: &str, link: Link) {
    with_net(world, [a, b], |net, [a, b], _| {
        net.set_link(a, b, link);
    });
}

/// Clogs (`on`) or unclogs node `node` of `world`.
pub(crate) fn clog_index(world: &World, node: u32, on: bool) {
    let mut st = world.state.lock();
    let now = st.now;
    if on {
        st.net.clog(node);
    } else {
        st.net.unclog(node, now);
    }
}
