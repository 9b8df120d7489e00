//! The tokio backend itself: where Brisk work runs, lifetimes, interop with
//! tokio code, and misuse messages. Behaviour shared with every backend is
//! in the workspace's `tests/conformance_*.rs`.

use brisk::compat::tokio::{enter, Runtime};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Duration;

fn tokio_rt(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

#[test]
fn tasks_timers_and_blocking_run_on_tokio_threads() {
    let rt = tokio_rt("tk-worker");
    let (task_thread, blocking_thread, in_tokio, describe) = rt.block_on(enter(async {
        let task = brisk::spawn(async {
            brisk::time::sleep(Duration::from_millis(1)).await;
            (thread_name(), tokio::runtime::Handle::try_current().is_ok())
        });
        let (task_thread, in_tokio) = task.await.unwrap();
        let blocking = brisk::spawn_blocking(thread_name).await.unwrap();
        let describe = format!("{:?}", brisk::runtime::Handle::current());
        (task_thread, blocking, in_tokio, describe)
    }));
    assert_eq!(task_thread, "tk-worker");
    assert_eq!(blocking_thread, "tk-worker");
    assert!(in_tokio);
    assert!(describe.contains("tokio"), "{describe}");
}

#[test]
fn brisk_and_tokio_tasks_talk_both_ways() {
    let rt = tokio_rt("tk");
    let got = rt.block_on(enter(async {
        let (to_tokio, from_brisk) = tokio::sync::oneshot::channel::<u32>();
        let (to_brisk, mut from_tokio) = brisk::sync::mpsc::channel::<u32>(1);
        // A tokio task waits on a Brisk channel's peer, and the other way round.
        let tokio_side = tokio::spawn(async move {
            let v = from_brisk.await.unwrap();
            to_brisk.send(v + 1).await.unwrap();
        });
        brisk::spawn(async move { to_tokio.send(41).unwrap() });
        let v = from_tokio.recv().await.unwrap();
        tokio_side.await.unwrap();
        v
    }));
    assert_eq!(got, 42);
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn dropping_the_runtime_cancels_its_tasks() {
    let tokio = tokio_rt("tk");
    let dropped = Arc::new(AtomicBool::new(false));
    let brisk_rt = Runtime::from_tokio(tokio.handle().clone());
    let flag = DropFlag(dropped.clone());
    let task = brisk_rt.handle().spawn(async move {
        let _flag = flag;
        brisk::time::sleep(Duration::from_secs(3600)).await;
    });
    tokio.block_on(brisk_rt.run_until(brisk::time::sleep(Duration::from_millis(5))));
    assert_eq!(brisk_rt.alive_tasks(), 1);
    assert!(!dropped.load(Ordering::SeqCst));
    drop(brisk_rt);
    // Idle tasks are cancelled at once, their futures dropped in place.
    assert!(dropped.load(Ordering::SeqCst));
    let err = tokio.block_on(task).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn enter_cancels_what_is_left_when_it_returns() {
    let tokio = tokio_rt("tk");
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    tokio.block_on(enter(async move {
        brisk::spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        brisk::task::yield_now().await;
    }));
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn local_tasks_run_inside_the_enter_future_on_its_thread() {
    let tokio = tokio_rt("tk");
    let here = std::thread::current().id();
    let ok = tokio.block_on(enter(async move {
        let rc = std::rc::Rc::new(3);
        let h = brisk::spawn_local(async move {
            brisk::time::sleep(Duration::from_millis(1)).await;
            (*rc, std::thread::current().id())
        });
        h.await.unwrap()
    }));
    assert_eq!(ok, (3, here));
}

#[test]
fn spawn_local_from_a_tokio_worker_task_explains_itself() {
    let tokio = tokio_rt("tk");
    let err = tokio.block_on(enter(async {
        brisk::spawn(async {
            drop(brisk::spawn_local(async {}));
        })
        .await
        .unwrap_err()
    }));
    assert!(err.is_panic());
    let msg = err.panic_message().unwrap();
    assert!(msg.contains("`brisk::spawn_local`"), "{msg}");
}

#[test]
fn enter_outside_tokio_says_how_to_fix_it() {
    let panic = std::panic::catch_unwind(|| {
        let mut fut = std::pin::pin!(enter(async {}));
        let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    })
    .unwrap_err();
    let msg = panic.downcast_ref::<String>().unwrap();
    assert!(msg.contains("outside a tokio runtime"), "{msg}");
    assert!(msg.contains("#[tokio::main]"), "{msg}");
}

#[test]
fn an_enter_future_with_local_tasks_cannot_move_threads() {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut fut = Box::pin(enter(async {
        let h = brisk::spawn_local(async {});
        std::future::pending::<()>().await;
        drop(h);
    }));
    {
        let _g = tokio.enter();
        let first = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(first.is_pending());
    }
    let handle = tokio.handle().clone();
    // Poll on another thread: the local task would run there. The future
    // (and its `!Send`-task queue) is leaked on purpose: dropping it there
    // would also run on the wrong thread.
    let joined = std::thread::spawn(move || {
        let _g = handle.enter();
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        }));
        std::mem::forget(fut);
        out
    })
    .join()
    .unwrap();
    let panic = joined.unwrap_err();
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(msg.contains("another thread"), "{msg}");
    // The runtime shuts down cleanly without polling the leaked future.
    drop(tokio);
}

/// Records, when dropped, whether a Brisk runtime was current.
struct SeesRuntime(Arc<AtomicBool>);

impl Drop for SeesRuntime {
    fn drop(&mut self) {
        let current = brisk::runtime::Handle::try_current().is_some();
        self.0.store(current, Ordering::SeqCst);
    }
}

#[test]
fn a_dropped_enter_future_is_dropped_inside_its_runtime() {
    let tokio = tokio_rt("tk");
    let saw = Arc::new(AtomicBool::new(false));
    let guard = SeesRuntime(saw.clone());
    let out = tokio.block_on(async {
        let fut = enter(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        tokio::time::timeout(Duration::from_millis(5), fut).await
    });
    assert!(out.is_err());
    assert!(saw.load(Ordering::SeqCst));
}
