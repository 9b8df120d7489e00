//! Shutdown: cancellation of remaining tasks, the report of unfinished ones,
//! the panic policy, and drops that never hang.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{runtimes, within, LIMIT};

struct CountDrop(Arc<AtomicUsize>);
impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn shutdown_cancels_idle_tasks_and_reports_clean() {
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            let drops = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..100)
                .map(|_| {
                    let guard = CountDrop(drops.clone());
                    rt.spawn(async move {
                        let _g = guard;
                        brisk::time::sleep(Duration::from_secs(3600)).await;
                    })
                })
                .collect();
            rt.block_on(brisk::task::yield_now());
            let report = rt.shutdown_timeout(Duration::from_secs(5));
            assert!(report.is_clean(), "{flavor}: {report}");
            assert_eq!(drops.load(Ordering::SeqCst), 100, "{flavor}");
            for h in handles {
                assert!(h.is_finished());
                let err = futures::executor::block_on(h).unwrap_err();
                assert!(err.is_cancelled());
            }
        }
    });
}

#[test]
fn shutdown_reports_a_task_stuck_in_a_poll_with_name_and_location() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        let (started_tx, started) = std::sync::mpsc::channel();
        let line = line!() + 4; // the line of `.spawn(` below
        let _h = brisk::task::Builder::new()
            .name("stuck")
            .on(rt.handle())
            .spawn(async move {
                started_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(400));
            });
        started.recv().unwrap();
        let report = rt.shutdown_timeout(Duration::from_millis(20));
        assert_eq!(report.unfinished().len(), 1, "{report}");
        let t = &report.unfinished()[0];
        assert_eq!(t.name.as_deref(), Some("stuck"));
        assert_eq!(t.location.file(), file!());
        assert_eq!(t.location.line(), line);
        let text = report.to_string();
        assert!(
            text.contains("stuck") && text.contains("rt_shutdown.rs"),
            "{text}"
        );
    });
}

#[test]
fn spawning_after_shutdown_yields_a_cancelled_handle() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    let handle = rt.handle().clone();
    rt.shutdown_timeout(Duration::from_millis(10));
    let h = handle.spawn(async { 1 });
    assert!(futures::executor::block_on(h).unwrap_err().is_cancelled());
}

#[test]
fn dropping_a_runtime_with_a_blocked_task_does_not_hang() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder()
            .multi_thread()
            .worker_threads(2)
            .shutdown_timeout_on_drop(Duration::from_millis(20))
            .build()
            .unwrap();
        let (started_tx, started) = std::sync::mpsc::channel();
        rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(2));
        });
        rt.spawn(async { std::future::pending::<()>().await });
        started.recv().unwrap();
        drop(rt);
    });
}

#[test]
fn dropping_a_runtime_from_inside_a_blocking_task_does_not_hang() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        let rt = Arc::new(std::sync::Mutex::new(Some(rt)));
        let inner = rt.clone();
        let guard = rt.lock().unwrap();
        let h = guard
            .as_ref()
            .unwrap()
            .spawn_blocking(move || drop(inner.lock().unwrap().take()));
        drop(guard);
        let rt2 = rt.lock().unwrap().take();
        if let Some(rt2) = rt2 {
            let _ = rt2.block_on(h);
        }
    });
}

#[test]
fn panic_policy_shutdown_stops_block_on_with_the_task_name() {
    for flavor in ["current_thread", "multi_thread"] {
        let mut b = brisk::Runtime::builder();
        if flavor == "current_thread" {
            b.current_thread();
        } else {
            b.multi_thread().worker_threads(2);
        }
        let rt = b
            .on_task_panic(brisk::PanicPolicy::ShutdownRuntime)
            .build()
            .unwrap();
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                brisk::task::Builder::new()
                    .name("payments")
                    .spawn(async { panic!("card declined") });
                std::future::pending::<()>().await
            })
        }));
        let payload = res.unwrap_err();
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            msg.contains("payments")
                && msg.contains("card declined")
                && msg.contains("PanicPolicy"),
            "{flavor}: {msg}"
        );
    }
}
