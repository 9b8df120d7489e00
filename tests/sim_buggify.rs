//! `buggify!`: two-tier fault points, deterministic from the seed.

use brisk::sim::Sim;

/// Reaches four sites 40 times each; returns how often each fired.
fn fire_counts(seed: u64) -> [u32; 4] {
    let mut sim = Sim::builder().seed(seed).build();
    let client = sim.client("c", async {
        let mut counts = [0u32; 4];
        for _ in 0..40 {
            counts[0] += u32::from(brisk::sim::buggify!());
            counts[1] += u32::from(brisk::sim::buggify!());
            counts[2] += u32::from(brisk::sim::buggify!());
            counts[3] += u32::from(brisk::sim::buggify!());
            brisk::task::yield_now().await;
        }
        counts
    });
    sim.run().unwrap();
    client.output()
}

#[test]
fn about_a_quarter_of_sites_are_enabled_and_fire_a_quarter_of_the_time() {
    let (mut enabled, mut fired, mut reached) = (0u32, 0u32, 0u32);
    let seeds = 300;
    for seed in 0..seeds {
        for c in fire_counts(seed) {
            if c > 0 {
                enabled += 1;
                fired += c;
                reached += 40;
            }
        }
    }
    let sites = (seeds * 4) as f64;
    let enabled_share = f64::from(enabled) / sites;
    assert!((0.20..0.30).contains(&enabled_share), "{enabled_share}");
    let fire_share = f64::from(fired) / f64::from(reached);
    assert!((0.22..0.28).contains(&fire_share), "{fire_share}");
}

#[test]
fn buggify_is_deterministic_per_seed() {
    for seed in 0..20 {
        assert_eq!(fire_counts(seed), fire_counts(seed));
    }
    let distinct: std::collections::BTreeSet<_> = (0..20).map(fire_counts).collect();
    assert!(distinct.len() > 5);
}

#[test]
fn buggify_is_false_outside_the_simulator() {
    assert!(!brisk::sim::buggify!());
    let fired = brisk::run(async { (0..1000).filter(|_| brisk::sim::buggify!()).count() });
    assert_eq!(fired, 0);
}

#[test]
fn without_the_sim_feature_buggify_is_a_constant_false() {
    // What `brisk::sim::buggify!()` expands to when brisk's `sim` feature is
    // off (tested here in every build; `tests/sim_feature_off.rs` checks the
    // switch itself). A constant: usable where only constants are.
    const OFF: bool = brisk::__buggify_off!();
    const { assert!(!OFF) };
    // Even inside simulations whose sites fire.
    let (mut on, mut off) = (0, 0);
    for seed in 0..20 {
        let mut sim = Sim::builder().seed(seed).build();
        let client = sim.client("c", async {
            let off = (0..100).filter(|_| brisk::__buggify_off!()).count();
            let on = (0..100).filter(|_| brisk::sim::buggify!()).count();
            (on, off)
        });
        sim.run().unwrap();
        let (a, b) = client.output();
        on += a;
        off += b;
    }
    assert!(on > 0, "the feature-on form fires in some of 20 seeds");
    assert_eq!(off, 0, "the feature-off form never does");
}
