//! Misuse gets a message that names the API, the cause and the fix.

use std::time::Duration;

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).unwrap_err();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn spawn_outside_a_runtime() {
    let msg = panic_message(|| {
        drop(brisk::spawn(async {}));
    });
    assert!(
        msg.contains("`brisk::spawn`")
            && msg.contains("outside a Brisk runtime")
            && msg.contains("#[brisk::main]"),
        "{msg}"
    );
}

#[test]
fn sleep_outside_a_runtime() {
    let msg = panic_message(|| {
        futures::executor::block_on(brisk::time::sleep(Duration::from_millis(1)));
    });
    assert!(
        msg.contains("Sleep")
            && msg.contains("outside a Brisk runtime")
            && msg.contains("brisk::run"),
        "{msg}"
    );
}

#[test]
fn block_on_inside_a_runtime() {
    let msg = panic_message(|| {
        brisk::run(async {
            let inner = brisk::Runtime::builder().current_thread().build().unwrap();
            inner.block_on(async {});
        });
    });
    assert!(
        msg.contains("block_on")
            && msg.contains("inside a Brisk runtime")
            && msg.contains("spawn_blocking"),
        "{msg}"
    );
}

#[test]
fn block_on_works_inside_spawn_blocking() {
    // The fix the message suggests works.
    brisk::run(async {
        let v = brisk::spawn_blocking(|| {
            let inner = brisk::Runtime::builder().current_thread().build().unwrap();
            inner.block_on(async { 4 })
        })
        .await
        .unwrap();
        assert_eq!(v, 4);
    });
}

#[test]
fn timer_used_after_its_runtime_is_gone() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    let mut sleep = brisk::time::sleep(Duration::from_secs(3600));
    rt.block_on(async {
        // Arm it on this runtime.
        let _ = futures::poll!(&mut sleep);
    });
    drop(rt);
    let msg = panic_message(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(sleep);
    }));
    assert!(
        msg.contains("after its runtime shut down") && msg.contains("keep that runtime alive"),
        "{msg}"
    );
}

#[test]
fn spawn_local_on_a_blocking_thread() {
    let msg = brisk::run(async {
        brisk::spawn_blocking(|| {
            panic_message(|| {
                drop(brisk::spawn_local(async {}));
            })
        })
        .await
        .unwrap()
    });
    assert!(
        msg.contains("`brisk::spawn_local`") && msg.contains("runs no scheduler"),
        "{msg}"
    );
}

#[test]
fn zero_workers() {
    let msg = panic_message(|| {
        let _ = brisk::Runtime::builder().multi_thread().worker_threads(0);
    });
    assert!(
        msg.contains("worker_threads(0)") && msg.contains("at least one worker"),
        "{msg}"
    );
}
