//! A program to watch in the live console: a shop whose checkouts queue on
//! one lock, a reporter that joins them, and two tasks that deadlock.
//!
//! ```text
//! cargo run --example console_demo          # serves 127.0.0.1:6669
//! cargo run -p brisk-console                # in another terminal
//! ```
//!
//! The console shows the checkouts waiting on the `Mutex` held by
//! `inventory`, the wait chains (`report` → `checkout-0` → `inventory`),
//! the `left`/`right` deadlock cycle, and the lock's waiters in the
//! resources view. Ctrl-C stops the program.

use brisk::sync::Mutex;
use brisk::task::Builder;
use brisk::time::sleep;
use std::sync::Arc;
use std::time::Duration;

#[brisk::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    let console = brisk::diag::console::serve()?;
    println!(
        "console on {}: run `cargo run -p brisk-console` in another terminal; ctrl-c stops",
        console.local_addr()
    );

    let stock = Arc::new(Mutex::new(100u32));
    // Holds the stock lock for a while, again and again.
    let s = stock.clone();
    Builder::new().name("inventory").spawn(async move {
        loop {
            let mut guard = s.lock().await;
            sleep(Duration::from_secs(3)).await;
            *guard += 10;
            drop(guard);
            sleep(Duration::from_millis(200)).await;
        }
    });
    let mut checkouts = Vec::new();
    for i in 0..3 {
        let s = stock.clone();
        checkouts.push(
            Builder::new()
                .name(&format!("checkout-{i}"))
                .spawn(async move {
                    loop {
                        *s.lock().await -= 1;
                        sleep(Duration::from_millis(100 * (i + 1))).await;
                    }
                }),
        );
    }
    let first = checkouts.remove(0);
    Builder::new().name("report").spawn(first);
    // Two tasks that take two locks in opposite orders: a deadlock.
    let (a, b) = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
    let (a1, b1) = (a.clone(), b.clone());
    Builder::new().name("left").spawn(async move {
        let _a = a1.lock().await;
        sleep(Duration::from_millis(50)).await;
        let _b = b1.lock().await;
    });
    Builder::new().name("right").spawn(async move {
        let _b = b.lock().await;
        sleep(Duration::from_millis(50)).await;
        let _a = a.lock().await;
    });
    // Runs until ctrl-c ends the process; the console handle lives until then.
    std::future::pending::<()>().await;
    drop(console);
    Ok(())
}
