//! `#[brisk::test]` and `#[brisk::main]` expansions, used for real.

use std::time::Duration;

#[brisk::test]
async fn test_attribute_defaults_to_current_thread() {
    brisk::time::sleep(Duration::from_millis(1)).await;
    let rc = std::rc::Rc::new(1);
    let h = brisk::spawn_local(async move { *rc + 1 });
    assert_eq!(h.await.unwrap(), 2);
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_attribute_multi_thread() {
    let h = brisk::spawn(async { std::thread::current().name().map(str::to_owned) });
    assert_eq!(h.await.unwrap().as_deref(), Some("brisk-worker"));
}

#[brisk::test]
async fn test_attribute_with_result() -> Result<(), std::io::Error> {
    let v = brisk::spawn(async { 3 }).await?;
    assert_eq!(v, 3);
    Ok(())
}

mod main_fn {
    #[brisk::main(flavor = "current_thread")]
    pub async fn main() -> u32 {
        brisk::spawn(async { 11 }).await.unwrap()
    }
}

#[test]
fn main_attribute_produces_a_sync_fn() {
    assert_eq!(main_fn::main(), 11);
}
