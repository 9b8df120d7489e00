//! The deterministic simulators under test, and the one workload the
//! simulator scenarios run on each of them.
//!
//! | name        | what one seed is                                                                  |
//! |-------------|-----------------------------------------------------------------------------------|
//! | `brisk_sim` | `brisk::sim::Sim::builder().seed(s).net(..).build()`, nodes and client, `run()`    |
//! | `madsim`    | `madsim::runtime::Runtime::with_seed_and_config(s, ..)`, nodes, `block_on(client)` |
//! | `turmoil`   | `turmoil::Builder::new()...rng_seed(s).build()`, hosts and client, `run()`         |
//!
//! The workload ([`Echo`]): three UDP echo nodes (`echo-1` .. `echo-3`, port
//! 7) and one client. The client binds a socket, waits 1 ms (so the echo
//! nodes have bound), then every `interval`, for `duration` of simulated
//! time, sends one 8-byte ping to each echo node; a second task on the
//! client counts the replies. After the last round it waits 25 ms (more
//! than the longest round trip, 2 × 10 ms) and checks that every ping came
//! back. Every link's latency is 1–10 ms per datagram, without loss.
//!
//! Latency: Brisk draws it uniformly (`Latency::uniform(1 ms, 10 ms)`);
//! madsim draws it uniformly from its network-wide `send_latency` range,
//! which is half-open (`1 ms..10 ms`, set explicitly although it is also
//! madsim's default), so the two models differ only in whether 10 ms itself
//! can be drawn; turmoil has no uniform distribution, so it gets
//! `min_message_latency(1 ms)` / `max_message_latency(10 ms)` with its own
//! (exponential) curve within that range. turmoil advances time in ticks of
//! its default 1 ms (its latencies are whole milliseconds anyway), and its
//! `simulation_duration` is the workload's length plus 1 s of slack.
//!
//! Brisk and turmoil run everything on the calling thread: Brisk's
//! simulator must not run inside a runtime, and turmoil builds a
//! current-thread tokio runtime per host. madsim needs a build of its own
//! (`--cfg madsim`), so it runs the same workload, written on its API, in a
//! subprocess, also single-threaded (see [`crate::madsim_peer`]); it is a
//! contender only when that subprocess could be built. Timed: building and
//! running each seed's simulation (for madsim, measured in the subprocess).

use std::cell::Cell;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The echo nodes' names.
const ECHO_NODES: [&str; 3] = ["echo-1", "echo-2", "echo-3"];

/// The echo port.
const PORT: u16 = 7;

/// The ping's payload.
const PING: &[u8; 8] = b"ping0000";

/// Wait before the first round (the echo nodes bind meanwhile).
const START: Duration = Duration::from_millis(1);

/// Wait after the last round: more than the longest round trip.
const DRAIN: Duration = Duration::from_millis(25);

/// Smallest and largest one-way latency.
const LATENCY: (Duration, Duration) = (Duration::from_millis(1), Duration::from_millis(10));

/// One of the simulators under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SimKind {
    /// `brisk::sim`.
    Brisk,
    /// madsim, in a subprocess ([`crate::madsim_peer`]).
    Madsim,
    /// turmoil (with tokio).
    Turmoil,
}

impl SimKind {
    /// All simulators, in the order of the first pass.
    pub(crate) const ALL: [SimKind; 3] = [SimKind::Brisk, SimKind::Madsim, SimKind::Turmoil];

    /// The simulator's name in the table and the JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SimKind::Brisk => "brisk_sim",
            SimKind::Madsim => "madsim",
            SimKind::Turmoil => "turmoil",
        }
    }

    /// The simulators that can run here, in the order of the first pass:
    /// all of them, less madsim if its subprocess cannot be built (which
    /// builds it on the first call).
    pub(crate) fn available() -> Vec<SimKind> {
        Self::ALL
            .into_iter()
            .filter(|k| *k != SimKind::Madsim || crate::madsim_peer::binary().is_some())
            .collect()
    }
}

impl fmt::Display for SimKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The echo workload's shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Echo {
    /// Time between two rounds of pings (one to each echo node).
    pub(crate) interval: Duration,
    /// Simulated time over which rounds are sent.
    pub(crate) duration: Duration,
}

impl Echo {
    /// Rounds of pings per seed.
    fn rounds(self) -> usize {
        (self.duration.as_nanos() / self.interval.as_nanos()) as usize
    }

    /// Pings (and so replies) per seed.
    pub(crate) fn pings(self) -> usize {
        self.rounds() * ECHO_NODES.len()
    }

    /// Runs the workload for `seed` on `kind`, checking every reply came
    /// back.
    ///
    /// # Panics
    /// If the simulation fails or a reply is missing, or `kind` is madsim
    /// and its subprocess is unavailable.
    pub(crate) fn run(self, kind: SimKind, seed: u64) {
        let replies = match kind {
            SimKind::Brisk => self.brisk(seed),
            SimKind::Turmoil => self.turmoil(seed),
            SimKind::Madsim => {
                // The subprocess checks the replies itself.
                crate::madsim_peer::run(self, seed, 1);
                return;
            }
        };
        assert_eq!(replies, self.pings(), "{kind} seed {seed}: replies");
    }

    /// Runs the workload for seeds `0..seeds` on `kind`, one after the
    /// other, checking every reply; returns wall-clock ms per seed.
    ///
    /// # Panics
    /// As [`Echo::run`].
    pub(crate) fn run_seeds(self, kind: SimKind, seeds: usize) -> f64 {
        if kind == SimKind::Madsim {
            return crate::madsim_peer::run(self, 0, seeds);
        }
        let start = Instant::now();
        for seed in 0..seeds as u64 {
            self.run(kind, seed);
        }
        start.elapsed().as_secs_f64() * 1e3 / seeds as f64
    }

    /// The echo node `i`'s address (Brisk: assigned explicitly).
    fn brisk_addr(i: usize) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 1, i as u8 + 1)), PORT)
    }

    /// One seed on Brisk's simulator; returns the replies counted.
    fn brisk(self, seed: u64) -> usize {
        use brisk::net::UdpSocket;
        use brisk::sim::{Latency, Link, NetConfig, Sim};

        let link = Link::new().latency(Latency::uniform(LATENCY.0, LATENCY.1));
        let mut sim = Sim::builder()
            .seed(seed)
            .net(NetConfig::new().link(link))
            .build();
        for (i, name) in ECHO_NODES.into_iter().enumerate() {
            sim.node(name).ip(Self::brisk_addr(i).ip()).init(|| async {
                let sock = UdpSocket::bind(("0.0.0.0", PORT)).await.expect("bind");
                let mut buf = [0; 64];
                loop {
                    let (n, from) = sock.recv_from(&mut buf).await.expect("recv");
                    sock.send_to(&buf[..n], from).await.expect("send");
                }
            });
        }
        let rounds = self.rounds();
        let interval = self.interval;
        let client = sim.client("client", async move {
            let sock = Rc::new(UdpSocket::bind("0.0.0.0:0").await.expect("bind"));
            let got = Rc::new(Cell::new(0usize));
            let counter = brisk::spawn_local({
                let (sock, got) = (Rc::clone(&sock), Rc::clone(&got));
                async move {
                    let mut buf = [0; 64];
                    loop {
                        sock.recv_from(&mut buf).await.expect("recv");
                        got.set(got.get() + 1);
                    }
                }
            });
            brisk::time::sleep(START).await;
            let mut ticks = brisk::time::interval(interval);
            for _ in 0..rounds {
                ticks.tick().await;
                for i in 0..ECHO_NODES.len() {
                    sock.send_to(PING, Self::brisk_addr(i)).await.expect("send");
                }
            }
            brisk::time::sleep(DRAIN).await;
            counter.abort();
            got.get()
        });
        sim.run().expect("brisk simulation");
        client.output()
    }

    /// One seed on turmoil; returns the replies counted.
    fn turmoil(self, seed: u64) -> usize {
        use turmoil::net::UdpSocket;

        let mut sim = turmoil::Builder::new()
            .simulation_duration(START + self.duration + DRAIN + Duration::from_secs(1))
            .min_message_latency(LATENCY.0)
            .max_message_latency(LATENCY.1)
            .rng_seed(seed)
            .build();
        for name in ECHO_NODES {
            sim.host(name, || async {
                let sock = UdpSocket::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT)).await?;
                let mut buf = [0; 64];
                loop {
                    let (n, from) = sock.recv_from(&mut buf).await?;
                    sock.send_to(&buf[..n], from).await?;
                }
            });
        }
        let rounds = self.rounds();
        let interval = self.interval;
        let got = Arc::new(AtomicUsize::new(0));
        let total = Arc::clone(&got);
        sim.client("client", async move {
            let targets: Vec<SocketAddr> = ECHO_NODES
                .iter()
                .map(|n| SocketAddr::new(turmoil::lookup(*n), PORT))
                .collect();
            let sock = Arc::new(UdpSocket::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)).await?);
            let counter = tokio::spawn({
                let sock = Arc::clone(&sock);
                async move {
                    let mut buf = [0; 64];
                    loop {
                        sock.recv_from(&mut buf).await.expect("recv");
                        got.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            tokio::time::sleep(START).await;
            let mut ticks = tokio::time::interval(interval);
            for _ in 0..rounds {
                ticks.tick().await;
                for t in &targets {
                    sock.send_to(PING, *t).await?;
                }
            }
            tokio::time::sleep(DRAIN).await;
            counter.abort();
            Ok(())
        });
        sim.run().expect("turmoil simulation");
        total.load(Ordering::Relaxed)
    }
}
