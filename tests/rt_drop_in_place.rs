//! A task's future is dropped where it lives: a future suspended while
//! borrowing its own locals (here `rx.changed()` borrows `rx`) is
//! self-referential, and moving it before dropping it left those borrows
//! dangling (a segfault when a simulated node crashed).

use std::sync::Arc;
use std::time::Duration;

#[test]
fn self_referential_futures_are_dropped_in_place_when_a_node_crashes() {
    for seed in 0..30 {
        let mut sim = brisk::sim::Sim::builder().seed(seed).build();
        sim.node("n").init(|| async {
            let leader = brisk::spawn(async {
                let (tx, rx) = brisk::sync::watch::channel(0u32);
                let tx = Arc::new(tx);
                let mut hs = Vec::new();
                for _ in 0..2 {
                    let mut rx = rx.clone();
                    let tx = tx.clone();
                    hs.push(brisk::spawn(async move {
                        let _keep = tx.clone();
                        loop {
                            if rx.changed().await.is_err() {
                                break;
                            }
                        }
                    }));
                }
                let mut n = 0;
                loop {
                    brisk::time::sleep(Duration::from_millis(1)).await;
                    n += 1;
                    tx.send_replace(n);
                }
            });
            let _ = leader.await;
        });
        sim.client("c", async {
            brisk::time::sleep(Duration::from_millis(5)).await;
            brisk::sim::handle().crash("n");
            brisk::time::sleep(Duration::from_millis(5)).await;
            brisk::sim::handle().restart("n");
            brisk::time::sleep(Duration::from_millis(5)).await;
        });
        sim.run().unwrap();
        drop(sim);
    }
}

/// The native runtime's hard cancellation drops in place too.
#[test]
fn aborted_self_referential_futures_are_dropped_in_place() {
    brisk::Runtime::builder()
        .current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let (tx, rx) = brisk::sync::watch::channel(0u32);
            let mut handles = Vec::new();
            for _ in 0..8 {
                let mut rx = rx.clone();
                handles.push(brisk::spawn(async move {
                    let mut buf = [0u8; 64];
                    let r = &mut buf; // a borrow of a local, alive across the await
                    let _ = rx.changed().await;
                    r[0] = 1;
                }));
            }
            brisk::task::yield_now().await;
            for h in &handles {
                h.abort();
            }
            for h in handles {
                assert!(h.await.unwrap_err().is_cancelled());
            }
            drop(tx);
        });
}
