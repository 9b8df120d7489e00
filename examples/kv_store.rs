//! A small replicated key-value store (`kv/store.rs`), run inside Brisk's
//! simulator over a handful of seeds with crashes, partitions and disk
//! faults, its invariant checked on every read (`kv/chaos.rs`).
//!
//! ```text
//! cargo run --release --example kv_store
//! ```

#[allow(dead_code)]
#[path = "kv/store.rs"]
mod store;

#[path = "kv/chaos.rs"]
mod chaos;

fn main() {
    let start = std::time::Instant::now();
    for seed in 0..8 {
        match chaos::run_seed(seed) {
            Ok(r) => println!(
                "seed {seed}: {} writes acknowledged, {} not, {} reads checked; \
                 {} crashes, {} partitions, {} disk faults: invariant holds",
                r.acked, r.unacked, r.reads, r.crashes, r.partitions, r.disk_faults
            ),
            Err(e) => {
                eprintln!("seed {seed}: invariant violated: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("8 seeds in {:.2?}", start.elapsed());
}
