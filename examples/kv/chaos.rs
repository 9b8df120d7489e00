//! Runs the store of `store.rs` in `brisk::sim` with three replicas, two
//! clients and a nemesis (crashes and restarts, partitions, `EIO` on
//! disks), and checks the store's invariant (see `store.rs`) on every read.

use super::store::{self, Client, Config};
use brisk::sim::{handle, DiskFault, Sim};
use brisk::time::{sleep, Duration};
use std::collections::BTreeMap;

const LEADER: &str = "kv-1";
const REPLICAS: [&str; 3] = ["kv-1", "kv-2", "kv-3"];
/// Each client writes its own keys, `<client>_<key>`.
const KEYS: [&str; 3] = ["a", "b", "c"];
/// How long the nemesis injects faults; the clients run that long, then
/// read every key once more after everything healed.
const CHAOS: Duration = Duration::from_secs(6);

/// What one seed did.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub acked: u64,
    pub unacked: u64,
    pub reads: u64,
    pub crashes: u64,
    pub partitions: u64,
    pub disk_faults: u64,
}

/// The checker's view of one client's history on its own keys.
#[derive(Default)]
struct History {
    /// Every write attempted: sequence number -> key.
    attempted: BTreeMap<u64, String>,
    /// Per key: the newest acknowledged write's sequence number.
    acked: BTreeMap<String, u64>,
    /// Per key: the newest sequence number a read returned.
    seen: BTreeMap<String, u64>,
}

impl History {
    /// Checks a read of `key` that returned `got` (see the invariant).
    fn check_read(&mut self, id: &str, key: &str, got: Option<&str>) -> Result<(), String> {
        let floor = self.acked.get(key).max(self.seen.get(key)).copied();
        let Some(v) = got else {
            return match floor {
                Some(s) => Err(format!("{key}: read nothing after write {s}")),
                None => Ok(()),
            };
        };
        let seq = v
            .strip_prefix(id)
            .and_then(|s| s.strip_prefix('-'))
            .and_then(|s| s.parse::<u64>().ok());
        let Some(seq) = seq.filter(|s| self.attempted.get(s).is_some_and(|k| k == key)) else {
            return Err(format!("{key}: read {v:?}, which was never written to it"));
        };
        if floor.is_some_and(|f| seq < f) {
            return Err(format!(
                "{key}: read write {seq}, older than write {floor:?}"
            ));
        }
        self.seen.insert(key.into(), seq);
        Ok(())
    }
}

/// One client: random puts and gets on its own keys during the chaos, then
/// a final read of every key. Returns (acked, unacked, reads) or the first
/// violation of the invariant.
async fn client(id: &'static str) -> Result<(u64, u64, u64), String> {
    let mut c = Client::new(id, LEADER);
    let mut h = History::default();
    let (mut acked, mut unacked, mut reads) = (0, 0, 0);
    let start = brisk::time::Instant::now();
    sleep(Duration::from_millis(10)).await; // let the replicas bind
    while start.elapsed() < CHAOS {
        sleep(Duration::from_millis(brisk::rand::range(5..60u64))).await;
        let key = &format!("{id}_{}", KEYS[brisk::rand::range(0..KEYS.len())]);
        if brisk::rand::bool(0.5) {
            let seq = c.next_seq();
            h.attempted.insert(seq, key.into());
            let value = format!("{id}-{seq}");
            let mut ok = false;
            for _ in 0..3 {
                if c.put(seq, key, &value).await.is_ok() {
                    ok = true;
                    break;
                }
                sleep(Duration::from_millis(30)).await;
            }
            if ok {
                h.acked.insert(key.into(), seq);
                acked += 1;
            } else {
                unacked += 1;
            }
        } else if let Ok(got) = c.get(key).await {
            reads += 1;
            h.check_read(id, key, got.as_deref())?;
        }
    }
    // Everything heals and restarts at CHAOS; then every key must read back.
    sleep(Duration::from_millis(500)).await;
    for key in KEYS {
        let key = &format!("{id}_{key}");
        let mut tries = 0;
        let got = loop {
            match c.get(key).await {
                Ok(got) => break got,
                Err(e) if tries == 100 => {
                    return Err(format!("{key}: unavailable after healing: {e}"))
                }
                Err(_) => tries += 1,
            }
            sleep(Duration::from_millis(50)).await;
        };
        reads += 1;
        h.check_read(id, key, got.as_deref())?;
    }
    Ok((acked, unacked, reads))
}

/// Crashes, partitions and disk faults at random for [`CHAOS`], then heals
/// everything and restarts every replica (with its disk intact).
async fn nemesis() -> (u64, u64, u64) {
    let sim = handle();
    let (mut crashes, mut partitions, mut disk_faults) = (0, 0, 0);
    let start = brisk::time::Instant::now();
    let pick = || REPLICAS[brisk::rand::range(0..REPLICAS.len())];
    while start.elapsed() < CHAOS {
        sleep(Duration::from_millis(brisk::rand::range(100..600u64))).await;
        match brisk::rand::range(0..4) {
            0 => {
                let n = pick();
                sim.crash(n);
                crashes += 1;
                sleep(Duration::from_millis(brisk::rand::range(10..300u64))).await;
                sim.restart(n);
            }
            1 => {
                let (a, b) = (pick(), pick());
                if a != b {
                    sim.partition(a, b);
                    partitions += 1;
                }
            }
            2 => {
                sim.disk(pick()).fail_with(DiskFault::Eio, 0.2);
                disk_faults += 1;
            }
            _ => {
                sim.heal_all();
                for n in REPLICAS {
                    sim.disk(n).clear_faults();
                }
            }
        }
    }
    sim.heal_all();
    for n in REPLICAS {
        sim.disk(n).clear_faults();
        sim.restart(n);
    }
    (crashes, partitions, disk_faults)
}

/// The clients' and the nemesis' handles of a simulation set up by [`setup`].
type Handles = (
    [brisk::sim::Client<Result<(u64, u64, u64), String>>; 2],
    brisk::sim::Client<(u64, u64, u64)>,
);

/// Adds the replicas, the clients and the nemesis to `sim`.
fn setup(sim: &mut Sim) -> Handles {
    for name in REPLICAS {
        let cfg = Config {
            leader: LEADER.into(),
            name: name.into(),
            followers: REPLICAS[1..].iter().map(|s| s.to_string()).collect(),
            dir: "/kv".into(),
        };
        sim.node(name).init(move || {
            let cfg = cfg.clone();
            async move {
                // A replica whose recovery fails stays down until restarted.
                let _ = store::run(cfg).await;
            }
        });
    }
    let clients = [
        sim.client("c1", client("c1")),
        sim.client("c2", client("c2")),
    ];
    (clients, sim.client("nemesis", nemesis()))
}

fn builder(seed: u64) -> brisk::sim::Builder {
    Sim::builder()
        .seed(seed)
        .time_limit(Duration::from_secs(120))
}

/// Runs one seed; `Err` describes the first violation of the invariant or
/// a failed simulation.
pub fn run_seed(seed: u64) -> Result<Report, String> {
    let mut sim = builder(seed).build();
    let (clients, nemesis) = setup(&mut sim);
    sim.run().map_err(|e| e.to_string())?;
    let (crashes, partitions, disk_faults) = nemesis.output();
    let mut report = Report {
        crashes,
        partitions,
        disk_faults,
        ..Report::default()
    };
    for c in clients {
        let (acked, unacked, reads) = c.output()?;
        report.acked += acked;
        report.unacked += unacked;
        report.reads += reads;
    }
    Ok(report)
}

/// Runs one seed twice and compares the schedules; `Err` names the first
/// divergence.
#[allow(dead_code)] // used by the test, not by the example
pub fn check_determinism(seed: u64) -> Result<(), String> {
    builder(seed)
        .check_determinism(|sim| drop(setup(sim)))
        .map_err(|e| e.to_string())
}
