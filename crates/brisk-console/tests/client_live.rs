//! The console's connection against a real server: snapshots arrive, a
//! server that goes away is reported, and one that comes back is
//! reconnected to.

use brisk::diag::console::Console;
use brisk_console::app::{App, Status};
use brisk_console::client::{self, Message};
use std::sync::mpsc;
use std::time::Duration;

/// Generous: a bound on a hang, not a timing assertion.
const LIMIT: Duration = Duration::from_secs(60);

fn next(rx: &mpsc::Receiver<Message>) -> Message {
    rx.recv_timeout(LIMIT).expect("no message from the client")
}

#[test]
fn reads_snapshots_and_reconnects_when_the_server_comes_back() {
    let rt = brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let _task = brisk::task::Builder::new()
        .name("sleeper")
        .on(rt.handle())
        .spawn(brisk::time::sleep(Duration::from_secs(3600)));
    let console = Console::builder()
        .bind("127.0.0.1:0")
        .interval(Duration::from_millis(20))
        .spawn(rt.handle())
        .unwrap();
    let addr = console.local_addr();
    let (tx, rx) = mpsc::channel();
    client::spawn(addr.to_string(), tx);
    let mut app = App::new(addr.to_string());

    assert!(matches!(next(&rx), Message::Connected));
    // Snapshots until the sleeper was polled and waits on its timer.
    loop {
        let Message::Snapshot(s) = next(&rx) else {
            panic!("expected a snapshot")
        };
        app.apply(*s);
        assert_eq!(app.status, Status::Connected);
        let sleeper = app.visible_tasks()[0];
        assert_eq!(sleeper.name.as_deref(), Some("sleeper"));
        if sleeper
            .waiting_on
            .as_ref()
            .is_some_and(|w| w.kind == "Timer")
        {
            break;
        }
    }

    // The server goes away: the client says so, and keeps the snapshot.
    drop(console);
    loop {
        match next(&rx) {
            Message::Snapshot(_) => {}
            Message::Disconnected(reason) => {
                app.status = Status::Disconnected(reason);
                break;
            }
            Message::Connected => panic!("connected to a stopped server"),
        }
    }
    assert!(app.snapshot.is_some());

    // It comes back on the same address: the client reconnects.
    let console = Console::builder()
        .bind(addr)
        .interval(Duration::from_millis(20))
        .spawn(rt.handle())
        .unwrap();
    loop {
        match next(&rx) {
            Message::Disconnected(_) => {}
            Message::Connected => break,
            Message::Snapshot(_) => panic!("a snapshot before reconnecting"),
        }
    }
    assert!(matches!(next(&rx), Message::Snapshot(_)));
    drop(console);
}
