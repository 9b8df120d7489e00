//! The simulator's scheduling is a function of the seed.

use brisk::sim::{Scheduler, Sim, SimError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Two tasks on two nodes racing to append to a shared log, plus timers and
/// random sleeps; returns the log.
fn racing(sim: &mut Sim) -> Arc<Mutex<Vec<&'static str>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    for name in ["a", "b"] {
        let log = log.clone();
        sim.node(name).init(move || {
            let log = log.clone();
            async move {
                for _ in 0..5 {
                    log.lock().unwrap().push(name);
                    brisk::task::yield_now().await;
                }
            }
        });
    }
    sim.client("c", async {
        brisk::time::sleep(Duration::from_millis(brisk::rand::range(1..20u64))).await;
    });
    log
}

fn trace_of(builder: brisk::sim::Builder) -> Vec<brisk::sim::TraceEvent> {
    let mut sim = builder.record_trace(true).build();
    racing(&mut sim);
    sim.run().unwrap();
    sim.trace().unwrap().to_vec()
}

#[test]
fn same_seed_gives_identical_trace() {
    for seed in [0, 1, 0xdead_beef] {
        let a = trace_of(Sim::builder().seed(seed));
        let b = trace_of(Sim::builder().seed(seed));
        assert!(a.len() > 10);
        assert_eq!(a, b, "seed {seed:#x}");
    }
}

#[test]
fn different_seeds_interleave_differently() {
    let mut orders = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let mut sim = Sim::builder().seed(seed).build();
        let log = racing(&mut sim);
        sim.run().unwrap();
        let order = log.lock().unwrap().clone();
        assert_eq!(order.len(), 10);
        orders.insert(order);
    }
    assert!(orders.len() > 5, "only {} distinct orders", orders.len());
}

#[test]
fn pct_is_deterministic_and_varies_with_the_seed() {
    let pct = |seed| {
        Sim::builder()
            .seed(seed)
            .scheduler(Scheduler::Pct { depth: 3 })
    };
    assert_eq!(trace_of(pct(5)), trace_of(pct(5)));
    let mut orders = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let mut sim = pct(seed).build();
        let log = racing(&mut sim);
        sim.run().unwrap();
        orders.insert(log.lock().unwrap().clone());
    }
    assert!(orders.len() > 1);
}

#[test]
fn rand_is_seeded_per_node() {
    let draws = |seed| {
        let mut sim = Sim::builder().seed(seed).build();
        let a = sim.client("a", async { [brisk::rand::u64(), brisk::rand::u64()] });
        let b = sim.client("b", async { [brisk::rand::u64(), brisk::rand::u64()] });
        sim.run().unwrap();
        (a.output(), b.output())
    };
    assert_eq!(draws(1), draws(1));
    assert_ne!(draws(1), draws(2));
    let (a, b) = draws(1);
    assert_ne!(a, b, "two nodes draw different numbers");
}

#[test]
fn check_determinism_passes_for_deterministic_code() {
    let r = Sim::builder().seed(3).check_determinism(|sim| {
        racing(sim);
    });
    assert_eq!(r, Ok(()));
}

#[test]
fn check_determinism_reports_an_injected_divergence() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let r = Sim::builder().seed(3).check_determinism(|sim| {
        let run = RUNS.fetch_add(1, Ordering::SeqCst);
        sim.node("db").init(move || async move {
            brisk::time::sleep(Duration::from_millis(10)).await;
            // Reads state from outside the simulation: differs between runs.
            if run % 2 == 1 {
                brisk::task::Builder::new()
                    .name("sneaky")
                    .spawn(async {})
                    .await
                    .unwrap();
            }
            brisk::time::sleep(Duration::from_millis(10)).await;
        });
        sim.client("c", async {
            brisk::time::sleep(Duration::from_millis(30)).await;
        });
    });
    let Err(SimError::Divergence(d)) = r else {
        panic!("expected a divergence, got {r:?}");
    };
    assert_eq!(d.seed, 3);
    let second = d.second.as_ref().expect("the second run took another step");
    assert_eq!(second.time, Duration::from_millis(10));
    assert_eq!(&*second.node, "db");
    assert!(
        d.first.as_ref().is_none_or(|f| f != second),
        "the events differ"
    );
    let text = d.to_string();
    assert!(text.contains("not deterministic"), "{text}");
    assert!(text.contains("node \"db\""), "{text}");
    assert!(
        text.contains("sim_determinism.rs"),
        "spawn location: {text}"
    );
}
