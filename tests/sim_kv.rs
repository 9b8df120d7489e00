//! The replicated key-value store of `examples/kv` under crashes,
//! partitions and disk faults, over hundreds of seeds, with its invariant
//! checked on every read (see `examples/kv/store.rs` for the invariant and
//! `examples/kv/chaos.rs` for the faults).

#[allow(dead_code)]
#[path = "../examples/kv/store.rs"]
mod store;

#[path = "../examples/kv/chaos.rs"]
mod chaos;

/// Seeds `0..SEEDS`, or only `BRISK_SEED` (hex with `0x`, or decimal).
const SEEDS: u64 = 200;

#[test]
fn kv_store_keeps_acknowledged_writes_under_faults() {
    let seeds: Vec<u64> = match std::env::var("BRISK_SEED") {
        Ok(s) => {
            let s = s.trim();
            let seed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            vec![seed.expect("BRISK_SEED: a seed in hex (0x2a) or decimal")]
        }
        Err(_) => (0..SEEDS).collect(),
    };
    let (mut acked, mut reads, mut faults) = (0, 0, 0);
    for seed in seeds {
        match chaos::run_seed(seed) {
            Ok(r) => {
                acked += r.acked;
                reads += r.reads;
                faults += r.crashes + r.partitions + r.disk_faults;
            }
            Err(e) => {
                eprintln!("brisk::sim: seed {seed:#x} failed: {e}");
                panic!("BRISK_SEED={seed:#x} cargo test --test sim_kv");
            }
        }
    }
    assert!(acked > 0 && reads > 0 && faults > 0);
}

#[test]
fn kv_store_schedules_repeat_per_seed() {
    for seed in 0..3 {
        if let Err(e) = chaos::check_determinism(seed) {
            panic!("seed {seed:#x}: {e}");
        }
    }
}
