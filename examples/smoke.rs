use std::time::Duration;
fn main() {
    for flavor in ["ct", "mt"] {
        let rt = if flavor == "ct" {
            brisk::Runtime::builder().current_thread().build().unwrap()
        } else {
            brisk::Runtime::builder().multi_thread().worker_threads(2).build().unwrap()
        };
        let t0 = std::time::Instant::now();
        let n = rt.block_on(async {
            let mut hs = Vec::new();
            for i in 0..100_000u64 {
                hs.push(brisk::spawn(async move { i }));
            }
            let mut s = 0;
            for h in hs { s += h.await.unwrap(); }
            brisk::time::sleep(Duration::from_millis(20)).await;
            let b = brisk::spawn_blocking(|| 5).await.unwrap();
            let l = brisk::spawn_local(async { 6 }).await.unwrap();
            s + b + l
        });
        println!("{flavor}: {n} in {:?}", t0.elapsed());
        println!("{}", rt.shutdown_timeout(Duration::from_millis(100)));
    }
}
