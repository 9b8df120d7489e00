//! `brisk::signal::ctrl_c`: a real `SIGINT` completes it on both flavours,
//! and a runtime that shuts down under it is an error, not a ctrl-c.
//!
//! This binary holds only these tests: `SIGINT` terminates a process that
//! has no handler installed, so no other test may share the process. Each
//! test holds `SERIAL`, and every `SIGINT` is sent only after the future
//! under test has been polled, which installs the handler.

#![cfg(unix)]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use support::{runtimes, within, LIMIT};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Polls `fut` once, with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(std::task::Waker::noop()))
}

fn send_sigint_to_self() {
    // SAFETY: `getpid` and `kill` have no memory-safety preconditions.
    let rc = unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
    assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
}

#[test]
fn a_sigint_completes_ctrl_c_on_both_flavours() {
    let _serial = serial();
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            let res = rt.block_on(async {
                let mut ctrl_c = Box::pin(brisk::signal::ctrl_c());
                // The first poll installs the handler; no SIGINT was sent yet.
                assert!(poll_once(ctrl_c.as_mut()).is_pending(), "{flavor}");
                send_sigint_to_self();
                ctrl_c.await
            });
            assert!(res.is_ok(), "{flavor}: {res:?}");
        }
    });
}

#[test]
fn a_sigint_wakes_ctrl_c_awaited_in_a_spawned_task() {
    let _serial = serial();
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let (installed_tx, installed_rx) = brisk::sync::oneshot::channel();
                let waiter = brisk::spawn(async move {
                    let mut ctrl_c = Box::pin(brisk::signal::ctrl_c());
                    assert!(poll_once(ctrl_c.as_mut()).is_pending());
                    installed_tx.send(()).unwrap();
                    ctrl_c.await
                });
                installed_rx.await.unwrap();
                send_sigint_to_self();
                let res = waiter.await.unwrap();
                assert!(res.is_ok(), "{flavor}: {res:?}");
            });
        }
    });
}

#[test]
fn ctrl_c_on_a_runtime_that_shut_down_is_an_error() {
    let _serial = serial();
    within(LIMIT, || {
        for (flavor, rt) in runtimes() {
            // First polled, which installs its handler, on `rt`...
            let mut ctrl_c = Box::pin(brisk::signal::ctrl_c());
            rt.block_on(async {
                assert!(poll_once(ctrl_c.as_mut()).is_pending(), "{flavor}");
            });
            // ...which then shuts down: no ctrl-c can reach it any more.
            drop(rt);
            let err = match poll_once(ctrl_c.as_mut()) {
                Poll::Ready(res) => res.unwrap_err(),
                Poll::Pending => panic!("{flavor}: ctrl_c still waits after its runtime shut down"),
            };
            assert_eq!(err.kind(), std::io::ErrorKind::Other, "{flavor}");
            let msg = err.to_string();
            assert!(msg.contains("ctrl_c"), "{flavor}: {msg}");
            assert!(msg.contains("shut down"), "{flavor}: {msg}");
        }
    });
}
