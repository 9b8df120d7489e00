//! `brisk::signal`: deliveries wake the listening task; forbidden signals
//! are errors.

#![cfg(unix)]

mod support;

use brisk::signal::{signal, SignalKind};
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
