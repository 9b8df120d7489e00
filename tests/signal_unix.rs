//! `brisk::signal`: deliveries wake the listening task, as `recv` and as a
//! `Stream`; named signals carry this platform's numbers; forbidden signals
//! are errors.

#![cfg(unix)]

mod support;

use brisk::signal::{signal, SignalKind};
use futures::StreamExt;
use support::{within, LIMIT};

fn send_to_self(sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &std::process::id().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok);
}

#[test]
fn a_delivery_wakes_the_waiting_task_on_both_flavours() {
    within(LIMIT, || {
        for (name, rt) in support::runtimes() {
            rt.block_on(async {
                let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
                let waiter = brisk::spawn(async move {
                    usr2.recv().await;
                    usr2
                });
                brisk::spawn_blocking(|| send_to_self("-USR2"))
                    .await
                    .unwrap();
                let mut usr2 = waiter.await.unwrap();
                // A second delivery while nobody waits is remembered.
                brisk::spawn_blocking(|| send_to_self("-USR2"))
                    .await
                    .unwrap();
                usr2.recv().await;
            });
            let _ = name;
        }
    });
}

#[test]
fn forbidden_and_outside_runtime_are_errors() {
    let err = brisk::run(async { signal(SignalKind::from_raw(9)).unwrap_err() });
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("SIGKILL"), "{err}");
    let err = signal(SignalKind::user_defined1()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    assert!(err.to_string().contains("brisk::run"), "{err}");
}

#[test]
fn a_signal_is_a_stream_that_ends_when_its_runtime_shuts_down() {
    within(LIMIT, || {
        for (flavor, rt) in support::runtimes() {
            let usr1 = rt.block_on(async {
                let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                // Sent by name: `kill` uses this platform's number for USR1.
                brisk::spawn_blocking(|| send_to_self("-USR1"))
                    .await
                    .unwrap();
                assert_eq!(usr1.next().await, Some(()), "{flavor}");
                usr1
            });
            drop(rt);
            let rest: Vec<()> = futures::executor::block_on(usr1.collect());
            assert!(rest.is_empty(), "{flavor}: {rest:?}");
        }
    });
}

#[test]
fn a_child_exiting_delivers_sigchld() {
    within(LIMIT, || {
        for (flavor, rt) in support::runtimes() {
            rt.block_on(async {
                let mut chld = signal(SignalKind::child()).unwrap();
                let status = brisk::spawn_blocking(|| std::process::Command::new("true").status())
                    .await
                    .unwrap()
                    .expect("run true");
                assert!(status.success(), "{flavor}");
                assert_eq!(chld.next().await, Some(()), "{flavor}");
            });
        }
    });
}

#[test]
fn named_signals_have_this_platforms_numbers() {
    let named = [
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::hangup(), libc::SIGHUP),
        (SignalKind::quit(), libc::SIGQUIT),
        (SignalKind::user_defined1(), libc::SIGUSR1),
        (SignalKind::user_defined2(), libc::SIGUSR2),
        (SignalKind::pipe(), libc::SIGPIPE),
        (SignalKind::alarm(), libc::SIGALRM),
        (SignalKind::child(), libc::SIGCHLD),
        (SignalKind::window_change(), libc::SIGWINCH),
    ];
    for (kind, raw) in named {
        assert_eq!(kind.as_raw(), raw, "{kind:?}");
        assert_eq!(SignalKind::from_raw(raw), kind);
    }
}
