//! `brisk::rand` on the native runtime and outside any runtime.

fn draws(rt: &brisk::Runtime) -> Vec<u64> {
    rt.block_on(async {
        let mut v = vec![brisk::rand::u64()];
        v.push(brisk::spawn(async { brisk::rand::u64() }).await.unwrap());
        v
    })
}

#[test]
fn a_seeded_current_thread_runtime_repeats_its_numbers() {
    let build = |seed| {
        brisk::Runtime::builder()
            .current_thread()
            .rng_seed(seed)
            .build()
            .unwrap()
    };
    assert_eq!(draws(&build(7)), draws(&build(7)));
    assert_ne!(draws(&build(7)), draws(&build(8)));
}

#[test]
fn unseeded_runtimes_draw_different_numbers() {
    let a = brisk::Runtime::builder().current_thread().build().unwrap();
    let b = brisk::Runtime::builder().current_thread().build().unwrap();
    assert_ne!(draws(&a), draws(&b));
}

#[test]
fn many_workers_share_one_generator_without_repeats() {
    let rt = brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let mut all = rt.block_on(async {
        let handles: Vec<_> = (0..64)
            .map(|_| {
                brisk::spawn(async { (0..16).map(|_| brisk::rand::u64()).collect::<Vec<_>>() })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        all
    });
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n);
}

#[test]
fn outside_a_runtime_a_thread_generator_is_used() {
    let a: Vec<u64> = (0..4).map(|_| brisk::rand::u64()).collect();
    let b = std::thread::spawn(|| (0..4).map(|_| brisk::rand::u64()).collect::<Vec<u64>>())
        .join()
        .unwrap();
    assert_ne!(a, b);
    let mut v = [0u8; 3];
    brisk::rand::fill(&mut v);
    assert!((0..10).contains(&brisk::rand::range(0..10)));
}
