//! Virtual time: event-driven jumps, exact instants, ordering, skew and drift.

use brisk::sim::{Sim, SimError};
use brisk::time::{sleep, Instant};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn an_hour_of_sleep_takes_a_few_steps() {
    let mut sim = Sim::builder().seed(1).build();
    let client = sim.client("c", async {
        let start = Instant::now();
        sleep(Duration::from_secs(3600)).await;
        Instant::now() - start
    });
    sim.run().unwrap();
    assert_eq!(client.output(), Duration::from_secs(3600));
    assert_eq!(sim.now(), Duration::from_secs(3600));
    // Cost grows with events: one poll to arm the timer, one after it fires.
    assert!(sim.steps() <= 3, "{} steps", sim.steps());
}

#[test]
fn timers_fire_in_deadline_order() {
    for seed in 0..10 {
        let mut sim = Sim::builder().seed(seed).build();
        let order = Arc::new(Mutex::new(Vec::new()));
        let o = order.clone();
        sim.client("c", async move {
            let mut handles = Vec::new();
            for ms in [50u64, 10, 40, 20, 30, 1] {
                let o = o.clone();
                handles.push(brisk::spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    o.lock().unwrap().push((ms, Instant::now().since_origin()));
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        });
        sim.run().unwrap();
        let got = order.lock().unwrap().clone();
        let want: Vec<_> = [1u64, 10, 20, 30, 40, 50]
            .iter()
            .map(|ms| (*ms, Duration::from_millis(*ms)))
            .collect();
        assert_eq!(got, want, "seed {seed}");
    }
}

#[test]
fn sub_microsecond_ticks_round_deadlines_up() {
    let mut sim = Sim::builder().tick(Duration::from_nanos(10)).build();
    let c = sim.client("c", async {
        sleep(Duration::from_nanos(25)).await;
        Instant::now().since_origin()
    });
    sim.run().unwrap();
    assert_eq!(c.output(), Duration::from_nanos(30));

    let mut sim = Sim::builder().build(); // 1 µs default
    let c = sim.client("c", async {
        sleep(Duration::from_nanos(1500)).await;
        Instant::now().since_origin()
    });
    sim.run().unwrap();
    assert_eq!(c.output(), Duration::from_micros(2));
}

#[test]
fn node_clocks_skew_and_drift() {
    let mut sim = Sim::builder().build();
    let skewed = sim
        .node("skewed")
        .clock_skew(Duration::from_secs(5))
        .client(async {
            let start = Instant::now().since_origin();
            sleep(Duration::from_secs(1)).await;
            (start, brisk::sim::handle().now())
        });
    let fast = sim.node("fast").clock_drift_ppm(1000).client(async {
        // 1000 ppm fast: 1001 local seconds pass in 1000 global seconds.
        sleep(Duration::from_secs(1001)).await;
        (Instant::now().since_origin(), brisk::sim::handle().now())
    });
    sim.run().unwrap();
    assert_eq!(
        skewed.output(),
        (Duration::from_secs(5), Duration::from_secs(1))
    );
    assert_eq!(
        fast.output(),
        (Duration::from_secs(1001), Duration::from_secs(1000))
    );
}

#[test]
fn run_until_stops_at_the_deadline() {
    let mut sim = Sim::builder().build();
    let ticks = Arc::new(Mutex::new(0u32));
    let t = ticks.clone();
    sim.node("ticker").init(move || {
        let t = t.clone();
        async move {
            let mut interval = brisk::time::interval(Duration::from_secs(1));
            loop {
                interval.tick().await;
                *t.lock().unwrap() += 1;
            }
        }
    });
    sim.run_until(Duration::from_millis(10_500)).unwrap();
    assert_eq!(sim.now(), Duration::from_millis(10_500));
    assert_eq!(*ticks.lock().unwrap(), 11); // t = 0, 1, ..., 10 s
    sim.run_for(Duration::from_secs(5)).unwrap();
    assert_eq!(*ticks.lock().unwrap(), 16);
}

#[test]
fn a_deadlock_reports_what_tasks_wait_on() {
    let mut sim = Sim::builder().build();
    let (tx, rx) = brisk::sync::oneshot::channel::<u32>();
    let tx = Arc::new(Mutex::new(Some(tx)));
    sim.node("server").init(move || {
        let tx = tx.clone();
        async move {
            // Holds the sender and never sends.
            let _keep = tx.lock().unwrap().take();
            std::future::pending::<()>().await
        }
    });
    sim.client("c", async move { rx.await.unwrap() });
    let err = sim.run().unwrap_err();
    let SimError::Deadlock { report } = &err else {
        panic!("expected a deadlock, got {err}");
    };
    assert!(report.contains("node \"c\""), "{report}");
    assert!(
        report.contains("(c)") && report.contains("waits on"),
        "{report}"
    );
    assert!(err.to_string().contains("deadlock"));
}

#[test]
fn a_time_limit_stops_a_client_that_never_finishes() {
    let mut sim = Sim::builder().time_limit(Duration::from_secs(60)).build();
    sim.client("c", async {
        loop {
            sleep(Duration::from_secs(1)).await;
        }
    });
    let err = sim.run().unwrap_err();
    assert!(matches!(err, SimError::TimeLimit { .. }), "{err}");
    assert_eq!(sim.now(), Duration::from_secs(60));
}

#[test]
fn run_until_takes_an_instant_of_the_simulation() {
    let mut sim = Sim::builder().seed(4).build();
    let wake = sim.client("c", async {
        let start = brisk::time::Instant::now();
        brisk::time::sleep(Duration::from_secs(30)).await;
        (start, brisk::time::Instant::now())
    });
    sim.run_until(Duration::from_secs(1)).unwrap();
    // An instant of an unskewed node is global virtual time.
    let origin = brisk::time::Instant::from_origin(Duration::ZERO);
    sim.run_until(origin + Duration::from_secs(20)).unwrap();
    assert_eq!(sim.now(), Duration::from_secs(20));
    assert!(wake.try_output().is_none(), "the sleep has 10 s to go");
    sim.run_until(brisk::sim::Deadline::after_start(Duration::from_secs(31)))
        .unwrap();
    let (began, woke) = wake.output();
    assert_eq!(began.since_origin(), Duration::ZERO);
    assert_eq!(woke.since_origin(), Duration::from_secs(30));
    // A deadline that passed runs what is ready and leaves time alone.
    sim.run_until(woke).unwrap();
    assert_eq!(sim.now(), Duration::from_secs(31));
}

#[test]
fn a_step_limit_stops_a_livelock_that_no_time_limit_can() {
    let build = || {
        Sim::builder()
            .seed(2)
            .time_limit(Duration::from_secs(1))
            .step_limit(5_000)
            .build()
    };
    let mut sim = build();
    sim.node("busy").init(|| async {
        loop {
            brisk::task::yield_now().await;
        }
    });
    let _client = sim.client("c", std::future::pending::<()>());
    match sim.run() {
        Err(SimError::StepLimit { limit, report }) => {
            assert_eq!(limit, 5_000);
            assert!(report.contains("node \"busy\""), "{report}");
        }
        other => panic!("expected a step limit, got {other:?}"),
    }
    assert_eq!(sim.now(), Duration::ZERO, "time stood still");
    assert_eq!(sim.steps(), 5_000);

    // Under the limit, a run is unaffected.
    let mut sim = build();
    let client = sim.client("c", async {
        for _ in 0..100 {
            brisk::task::yield_now().await;
        }
        7
    });
    sim.run().unwrap();
    assert_eq!(client.output(), 7);
}
