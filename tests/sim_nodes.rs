//! Node lifecycle (crash, restart, pause), tasks inside nodes, and misuse.

use brisk::sim::{Sim, SimError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn crash_drops_tasks_and_restart_reruns_init() {
    let inits = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let mut sim = Sim::builder().seed(4).build();
    let (i, d) = (inits.clone(), dropped.clone());
    sim.node("db").init(move || {
        i.fetch_add(1, Ordering::SeqCst);
        let d = d.clone();
        async move {
            // A child task holding a guard: dropped by the crash too.
            brisk::spawn(async move {
                let _guard = DropFlag(d);
                std::future::pending::<()>().await
            });
            std::future::pending::<()>().await
        }
    });
    sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(inits.load(Ordering::SeqCst), 1);
    assert!(!dropped.load(Ordering::SeqCst));
    sim.crash("db");
    assert!(dropped.load(Ordering::SeqCst));
    sim.crash("db"); // already down: nothing happens
    sim.restart("db");
    sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(inits.load(Ordering::SeqCst), 2);
}

#[test]
fn a_client_crashes_and_restarts_a_node_through_the_handle() {
    let mut sim = Sim::builder().seed(2).build();
    let (tx, mut rx) = brisk::sync::mpsc::unbounded_channel::<(u32, u64)>();
    sim.node("db").init(move || {
        let tx = tx.clone();
        async move {
            let boot = brisk::rand::u64();
            for n in 0.. {
                if tx.send((n, boot)).is_err() {
                    return;
                }
                brisk::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    let client = sim.client("c", async move {
        let sim = brisk::sim::handle();
        let mut seen = vec![rx.recv().await.unwrap(), rx.recv().await.unwrap()];
        sim.crash("db");
        brisk::task::yield_now().await;
        brisk::time::sleep(Duration::from_secs(10)).await;
        assert!(rx.try_recv().is_err(), "a crashed node sends nothing");
        sim.restart("db");
        seen.push(rx.recv().await.unwrap());
        seen
    });
    sim.run().unwrap();
    let seen = client.output();
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [0, 1, 0]);
    assert_eq!(seen[0].1, seen[1].1);
    assert_ne!(seen[1].1, seen[2].1, "a restarted node draws new numbers");
}

#[test]
fn pause_stops_progress_and_resume_continues() {
    let mut sim = Sim::builder().build();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    sim.node("worker").init(move || {
        let c = c.clone();
        async move {
            loop {
                brisk::time::sleep(Duration::from_secs(1)).await;
                c.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    sim.run_until(Duration::from_millis(10_500)).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 10);
    sim.pause("worker");
    sim.run_until(Duration::from_secs(20)).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 10, "no progress while paused");
    sim.resume("worker");
    // The overdue timer fires at once; then one per second again.
    sim.run_until(Duration::from_millis(22_500)).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 13);
}

#[test]
fn spawn_blocking_and_spawn_local_run_inside_the_simulation() {
    let mut sim = Sim::builder().seed(9).build();
    let client = sim.client("c", async {
        let sum = brisk::spawn_blocking(|| (1..=10u32).sum::<u32>())
            .await
            .unwrap();
        let rc = std::rc::Rc::new(5);
        let r2 = rc.clone();
        let local = brisk::spawn_local(async move { *r2 * 2 }).await.unwrap();
        (sum, local, brisk::time::Instant::now().since_origin())
    });
    sim.run().unwrap();
    assert_eq!(client.output(), (55, 10, Duration::ZERO));
}

#[test]
fn a_panicking_client_fails_the_run() {
    let mut sim = Sim::builder().build();
    sim.client("c", async {
        brisk::time::sleep(Duration::from_secs(1)).await;
        panic!("invariant broken");
    });
    let err = sim.run().unwrap_err();
    let SimError::ClientPanicked { client, message } = &err else {
        panic!("{err}");
    };
    assert_eq!(client, "c");
    assert!(message.contains("invariant broken"), "{message}");
}

#[test]
fn net_errors_name_cause_and_fix() {
    let mut sim = Sim::builder().build();
    let client = sim.client("c", async {
        brisk::net::TcpListener::bind("10.99.0.1:80")
            .await
            .map(drop)
            .unwrap_err()
    });
    sim.run().unwrap();
    let err = client.output();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrNotAvailable);
    let text = err.to_string();
    assert!(text.contains("another node"), "{text}");
    assert!(text.contains("0.0.0.0:port"), "{text}");
}

fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).unwrap_err();
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap()
}

#[test]
fn misuse_is_explained() {
    let text = panic_text(|| {
        brisk::run(async {
            let mut sim = Sim::builder().build();
            let _ = sim.run();
        })
    });
    assert!(
        text.contains("`brisk::sim::Sim::run` was called inside a Brisk runtime"),
        "{text}"
    );

    let text = panic_text(|| {
        let mut sim = Sim::builder().build();
        sim.client("x", async {});
        sim.client("x", async {});
    });
    assert!(
        text.contains("already exists") && text.contains("\"x\""),
        "{text}"
    );

    let text = panic_text(|| Sim::builder().build().crash("ghost"));
    assert!(
        text.contains("no node has this name") && text.contains("ghost"),
        "{text}"
    );

    let text = panic_text(|| {
        let mut sim = Sim::builder().build();
        sim.client("c", async {});
        sim.crash("c");
    });
    assert!(text.contains("was called on a client"), "{text}");

    let text = panic_text(|| {
        brisk::sim::handle();
    });
    assert!(text.contains("outside a simulation"), "{text}");
}

#[test]
fn crash_from_inside_unknown_node_fails_the_client() {
    let mut sim = Sim::builder().build();
    sim.client("c", async { brisk::sim::handle().crash("nope") });
    let err = sim.run().unwrap_err();
    assert!(err.to_string().contains("no node has this name"), "{err}");
}

#[test]
fn many_nodes_share_one_thread() {
    let mut sim = Sim::builder().seed(11).build();
    let threads = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    for i in 0..5 {
        let t = threads.clone();
        sim.node(format!("n{i}")).init(move || {
            let t = t.clone();
            async move {
                t.lock()
                    .unwrap()
                    .insert(format!("{:?}", std::thread::current().id()));
            }
        });
    }
    sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(threads.lock().unwrap().len(), 1);
    assert_eq!(sim.node_names(), ["n0", "n1", "n2", "n3", "n4"]);
}

#[test]
fn a_simulation_can_run_on_a_blocking_thread() {
    let at = brisk::run(async {
        brisk::spawn_blocking(|| {
            let mut sim = Sim::builder().build();
            let c = sim.client("c", async {
                brisk::time::sleep(Duration::from_secs(90)).await;
                brisk::time::Instant::now().since_origin()
            });
            sim.run().unwrap();
            c.output()
        })
        .await
        .unwrap()
    });
    assert_eq!(at, Duration::from_secs(90));
}
