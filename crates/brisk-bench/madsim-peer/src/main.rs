//! madsim running `brisk-bench`'s simulator workload, as a peer of
//! `brisk_sim` and turmoil.
//!
//! madsim's simulator exists only when the whole build has
//! `RUSTFLAGS="--cfg madsim"` (it replaces tokio and overrides libc's
//! clock and randomness functions), so it cannot share a process or a build
//! with the bench's other peers. `brisk-bench` builds this crate on first
//! use into its own target directory and runs it as a subprocess:
//!
//! ```text
//! RUSTFLAGS="--cfg madsim" cargo build --release --target-dir target/madsim-peer
//! brisk-bench-madsim-peer <interval_us> <duration_us> <first_seed> <seeds>
//! ```
//!
//! It runs the workload described in `brisk-bench`'s `simulators` module
//! for seeds `first_seed..first_seed + seeds`, one fresh `madsim::runtime::Runtime` per seed, and prints one line
//! per seed:
//!
//! ```text
//! seed <seed> replies <replies> ns <wall-clock nanoseconds>
//! ```
//!
//! The time covers building the runtime and the nodes and running the
//! seed, as for the other peers; the process's start-up is not counted.
//!
//! Latency: madsim draws every datagram's latency uniformly from its
//! `send_latency` range, which is half-open (`1 ms..10 ms`: 10 ms itself is
//! never drawn), at nanosecond resolution, and the network is configured
//! for the whole simulation rather than per link.
//!
//! Dependencies: only `madsim`, with its default features (the `main`/`test`
//! macros and the RPC layer) off.

#[cfg(madsim)]
mod echo {
    use madsim::net::UdpSocket;
    use madsim::runtime::Runtime;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

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

    /// Smallest and (excluded) largest one-way latency.
    const LATENCY: (Duration, Duration) = (Duration::from_millis(1), Duration::from_millis(10));

    /// The client's address.
    const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 100));

    /// The echo node `i`'s address.
    fn echo_addr(i: usize) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 1, i as u8 + 1)), PORT)
    }

    /// Runs one seed: pings every echo node each `interval` for `duration`
    /// of simulated time; returns the replies counted.
    pub(crate) fn run(seed: u64, interval: Duration, duration: Duration) -> usize {
        let rounds = (duration.as_nanos() / interval.as_nanos()) as usize;
        let mut config = madsim::Config::default();
        config.net.packet_loss_rate = 0.0;
        config.net.send_latency = LATENCY.0..LATENCY.1;
        let rt = Runtime::with_seed_and_config(seed, config);
        for (i, name) in ECHO_NODES.into_iter().enumerate() {
            rt.create_node()
                .name(name)
                .ip(echo_addr(i).ip())
                .init(|| async {
                    let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, PORT))
                        .await
                        .expect("bind");
                    let mut buf = [0; 64];
                    loop {
                        let (n, from) = sock.recv_from(&mut buf).await.expect("recv");
                        sock.send_to(from, &buf[..n]).await.expect("send");
                    }
                })
                .build();
        }
        let client = rt.create_node().name("client").ip(CLIENT_IP).build();
        rt.block_on(async move {
            let run = client.spawn(async move {
                let sock = Arc::new(
                    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
                        .await
                        .expect("bind"),
                );
                let got = Arc::new(AtomicUsize::new(0));
                let counter = madsim::task::spawn({
                    let (sock, got) = (Arc::clone(&sock), Arc::clone(&got));
                    async move {
                        let mut buf = [0; 64];
                        loop {
                            sock.recv_from(&mut buf).await.expect("recv");
                            got.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
                madsim::time::sleep(START).await;
                let mut ticks = madsim::time::interval(interval);
                for _ in 0..rounds {
                    ticks.tick().await;
                    for i in 0..ECHO_NODES.len() {
                        sock.send_to(echo_addr(i), PING).await.expect("send");
                    }
                }
                madsim::time::sleep(DRAIN).await;
                counter.abort();
                got.load(Ordering::Relaxed)
            });
            run.await.expect("client task")
        })
    }
}

/// Command-line usage.
const USAGE: &str =
    "usage: brisk-bench-madsim-peer <interval_us> <duration_us> <first_seed> <seeds>";

/// Parses argument `i` (1-based) as an integer of at least `min`.
fn arg(args: &[String], i: usize, min: u64) -> Result<u64, String> {
    let s = args.get(i).ok_or_else(|| USAGE.to_owned())?;
    match s.parse::<u64>() {
        Ok(v) if v >= min => Ok(v),
        _ => Err(format!(
            "{USAGE}\nargument {i} must be an integer of at least {min}, got {s:?}"
        )),
    }
}

#[cfg(madsim)]
fn main() -> std::process::ExitCode {
    use std::io::Write as _;
    use std::time::{Duration, Instant};

    let args: Vec<String> = std::env::args().collect();
    let parsed = (|| {
        Ok::<_, String>((
            arg(&args, 1, 1)?,
            arg(&args, 2, 1)?,
            arg(&args, 3, 0)?,
            arg(&args, 4, 1)?,
        ))
    })();
    let (interval, duration, first, seeds) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let (interval, duration) = (
        Duration::from_micros(interval),
        Duration::from_micros(duration),
    );
    let mut out = std::io::stdout().lock();
    for seed in first..first + seeds {
        let start = Instant::now();
        let replies = echo::run(seed, interval, duration);
        let ns = start.elapsed().as_nanos();
        writeln!(out, "seed {seed} replies {replies} ns {ns}").expect("write to stdout");
        out.flush().expect("flush stdout");
    }
    std::process::ExitCode::SUCCESS
}

/// Without `--cfg madsim`, madsim is a thin wrapper over tokio with no
/// simulator: refuse to run rather than measure the wrong thing.
#[cfg(not(madsim))]
fn main() -> std::process::ExitCode {
    let _ = arg;
    eprintln!(
        "brisk-bench-madsim-peer: built without RUSTFLAGS=\"--cfg madsim\", so madsim's simulator is absent; rebuild with RUSTFLAGS=\"--cfg madsim\""
    );
    std::process::ExitCode::from(2)
}
