//! The live console's server: snapshots over TCP as JSON lines, the
//! loopback-only rule, and stopping with its handle or its runtime.

mod support;

use brisk::diag::console::{Console, PROTOCOL_VERSION, REMOTE_REFUSED};
use brisk::sync::Mutex;
use serde_json::Value;
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use support::{within, LIMIT};

fn task<'a>(snapshot: &'a Value, name: &str) -> Option<&'a Value> {
    snapshot["dump"]["tasks"]
        .as_array()?
        .iter()
        .find(|t| t["name"] == name)
}

#[test]
fn a_client_sees_named_tasks_and_the_holder_of_a_mutex() {
    within(LIMIT, || {
        let rt = support::multi_thread(2);
        let lock = Arc::new(Mutex::new(0));
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let release = Arc::new(brisk::sync::Notify::new());
        let (l1, r1) = (lock.clone(), release.clone());
        let _holder = brisk::task::Builder::new()
            .name("holder")
            .on(rt.handle())
            .spawn(async move {
                let _g = l1.lock().await;
                held_tx.send(()).unwrap();
                r1.notified().await;
            });
        held_rx.recv().unwrap();
        let l2 = lock.clone();
        let _checkout = brisk::task::Builder::new()
            .name("checkout")
            .on(rt.handle())
            .spawn(async move {
                *l2.lock().await += 1;
            });

        let console = Console::builder()
            .bind("127.0.0.1:0")
            .interval(Duration::from_millis(20))
            .spawn(rt.handle())
            .unwrap();
        assert!(console.local_addr().ip().is_loopback());
        assert_ne!(console.local_addr().port(), 0);
        let mut lines = BufReader::new(TcpStream::connect(console.local_addr()).unwrap()).lines();
        // Snapshots keep coming until `checkout` is seen waiting.
        let (snapshot, checkout) = loop {
            let line = lines.next().expect("the server closed the stream").unwrap();
            let snapshot: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(snapshot["v"], PROTOCOL_VERSION);
            assert!(snapshot["hazards"].is_array(), "{snapshot}");
            match task(&snapshot, "checkout") {
                Some(t) if t["waiting_on"]["kind"] == "Mutex" => {
                    let t = t.clone();
                    break (snapshot, t);
                }
                _ => {}
            }
        };
        let holder = task(&snapshot, "holder").expect("the holder is listed");
        assert_eq!(
            checkout["waiting_on"]["holders"],
            serde_json::json!([{ "Task": holder["id"] }]),
            "{snapshot}"
        );
        assert!(checkout["location"]
            .as_str()
            .unwrap()
            .contains("diag_console.rs"));
        // The native runtime sends its metrics along.
        assert_eq!(snapshot["metrics"]["workers"], 2, "{snapshot}");
        assert!(snapshot["metrics"]["polls"].as_u64().unwrap() > 0);

        // Several clients at once.
        let mut second = BufReader::new(TcpStream::connect(console.local_addr()).unwrap());
        let mut line = String::new();
        second.read_line(&mut line).unwrap();
        assert!(task(&serde_json::from_str(&line).unwrap(), "holder").is_some());

        // Dropping the console stops its thread and closes every stream.
        let addr = console.local_addr();
        drop(console);
        let rest: Vec<_> = lines.map(|l| l.unwrap()).collect();
        // Lines sent before the drop may still be buffered; then EOF.
        assert!(rest.iter().all(|l| l.starts_with("{\"v\":1,")));
        assert_eq!(
            TcpStream::connect(addr).unwrap_err().kind(),
            ErrorKind::ConnectionRefused
        );
        release.notify_one();
        drop(rt);
    });
}

#[test]
fn a_non_loopback_address_is_refused_unless_allowed() {
    let rt = brisk::Runtime::builder().current_thread().build().unwrap();
    let err = Console::builder()
        .bind("0.0.0.0:0")
        .spawn(rt.handle())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().starts_with(REMOTE_REFUSED), "{err}");
    assert!(err.to_string().contains("0.0.0.0:0"), "{err}");
    let console = Console::builder()
        .bind("0.0.0.0:0")
        .allow_remote(true)
        .spawn(rt.handle())
        .unwrap();
    assert!(console.local_addr().ip().is_unspecified());
}

#[test]
fn runtime_shutdown_stops_the_server() {
    within(LIMIT, || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        let console = Console::builder()
            .bind("127.0.0.1:0")
            .interval(Duration::from_millis(10))
            .spawn(rt.handle())
            .unwrap();
        let mut client = BufReader::new(TcpStream::connect(console.local_addr()).unwrap());
        let mut line = String::new();
        client.read_line(&mut line).unwrap();
        assert!(rt.shutdown_timeout(Duration::from_secs(1)).is_clean());
        // The server notices the shutdown and closes the stream.
        loop {
            line.clear();
            if client.read_line(&mut line).unwrap() == 0 {
                break;
            }
        }
        while console.is_running() {
            std::thread::sleep(Duration::from_millis(5));
        }
    });
}
