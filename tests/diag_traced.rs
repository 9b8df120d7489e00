//! `#[brisk::traced]`: await chains in dumps.

use brisk::sync::{mpsc, Mutex};
use std::sync::Arc;

struct Shop {
    stock: Mutex<u32>,
}

impl Shop {
    #[brisk::traced]
    async fn reserve(&self, n: u32) -> Result<u32, String> {
        let mut stock = self.stock.lock().await;
        if *stock < n {
            return Err(format!("only {} left", *stock));
        }
        *stock -= n;
        Ok(*stock)
    }
}

#[brisk::traced]
async fn checkout(
    shop: Arc<Shop>,
    n: u32,
) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    let left = shop.reserve(n).await?;
    Ok(left)
}

#[brisk::traced(name = "recursive")]
async fn recurse(depth: u32, rx: &mut mpsc::Receiver<()>) {
    if depth == 0 {
        rx.recv().await;
    } else {
        Box::pin(recurse(depth - 1, rx)).await
    }
}

fn names(dump: &brisk::diag::Dump, task: &str) -> Vec<&'static str> {
    let t = dump
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some(task))
        .expect("task in dump");
    t.waiting_on
        .as_ref()
        .expect("waiting")
        .chain
        .iter()
        .map(|f| f.name)
        .collect()
}

#[brisk::test]
async fn chain_lists_traced_functions_outermost_first() {
    let shop = Arc::new(Shop {
        stock: Mutex::new(5),
    });
    let guard = shop.stock.lock().await;
    let s2 = shop.clone();
    let task = brisk::task::Builder::new()
        .name("checkout")
        .spawn(async move { checkout(s2, 2).await.map_err(|e| e.to_string()) });
    brisk::task::yield_now().await;

    let dump = brisk::diag::dump();
    assert_eq!(
        names(&dump, "checkout"),
        ["diag_traced::checkout", "diag_traced::reserve"]
    );
    let text = dump.to_string();
    assert!(
        text.contains("; in diag_traced::checkout (tests/diag_traced.rs:23:10) → diag_traced::reserve (tests/diag_traced.rs:12:14)"),
        "{text}"
    );
    // The wait-point's own Display carries the chain too.
    let wp = dump
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some("checkout"))
        .unwrap();
    assert_eq!(wp.waiting_on.as_ref().unwrap().kind, "Mutex");

    drop(guard);
    assert_eq!(task.await.unwrap(), Ok(3));

    // `?` and early `return` keep the declared types.
    let err = checkout(shop, 10).await.unwrap_err();
    assert_eq!(err.to_string(), "only 3 left");
}

#[brisk::test]
async fn untraced_waits_have_no_chain_and_chains_do_not_leak_between_tasks() {
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let (tx2, mut rx2) = mpsc::channel::<()>(1);
    let traced = brisk::task::Builder::new()
        .name("traced")
        .spawn(async move { recurse(3, &mut rx).await });
    let plain = brisk::task::Builder::new()
        .name("plain")
        .spawn(async move { rx2.recv().await });
    brisk::task::yield_now().await;

    let dump = brisk::diag::dump();
    assert_eq!(names(&dump, "traced"), ["recursive"; 4]);
    assert!(names(&dump, "plain").is_empty());

    tx.send(()).await.unwrap();
    tx2.send(()).await.unwrap();
    traced.await.unwrap();
    plain.await.unwrap();
}

#[brisk::traced]
async fn deep(depth: usize, rx: &mut mpsc::Receiver<()>) {
    if depth == 0 {
        rx.recv().await;
    } else {
        Box::pin(deep(depth - 1, rx)).await
    }
}

#[brisk::test]
async fn deep_chains_keep_their_outermost_frames() {
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let task = brisk::task::Builder::new()
        .name("deep")
        .spawn(async move { deep(100, &mut rx).await });
    brisk::task::yield_now().await;
    let dump = brisk::diag::dump();
    assert_eq!(names(&dump, "deep").len(), brisk::diag::MAX_CHAIN_DEPTH);
    tx.send(()).await.unwrap();
    task.await.unwrap();
}

#[test]
fn traced_works_across_threads_on_multi_thread() {
    let rt = brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let shop = Arc::new(Shop {
            stock: Mutex::new(1),
        });
        let guard = shop.stock.lock().await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let s = shop.clone();
            tasks.push(
                brisk::task::Builder::new()
                    .name(&format!("c{i}"))
                    .spawn(async move { s.reserve(0).await }),
            );
        }
        // Wait until all eight wait on the mutex.
        loop {
            let dump = brisk::diag::dump();
            let waiting = dump
                .tasks
                .iter()
                .filter(|t| t.waiting_on.as_ref().is_some_and(|w| w.kind == "Mutex"))
                .count();
            if waiting == 8 {
                for i in 0..8 {
                    assert_eq!(names(&dump, &format!("c{i}")), ["diag_traced::reserve"]);
                }
                break;
            }
            brisk::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        drop(guard);
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(1));
        }
    });
}
