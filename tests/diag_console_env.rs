//! `BRISK_CONSOLE`: a runtime built through the builder serves the console
//! (with its metrics) until it shuts down. A test binary of its own, since
//! the variable is process-wide.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
use support::{within, LIMIT};

/// The variable is process-wide: one test at a time touches it.
static ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn brisk_console_env_var_starts_the_server_with_metrics() {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    within(LIMIT, || {
        let addr = free_addr();
        std::env::set_var("BRISK_CONSOLE", &addr);
        let rt = support::multi_thread(2);
        std::env::remove_var("BRISK_CONSOLE");
        let _task = brisk::task::Builder::new()
            .name("sleeper")
            .on(rt.handle())
            .spawn(brisk::time::sleep(Duration::from_secs(3600)));

        // `serve()` in the code as well finds the runtime's console rather
        // than binding a second one; dropping its handle leaves it running.
        rt.block_on(async {
            let console = brisk::diag::console::serve().unwrap();
            assert_eq!(console.local_addr().to_string(), addr);
            assert!(console.is_running());
        });

        let mut client = BufReader::new(TcpStream::connect(&addr).unwrap());
        let mut line = String::new();
        let snapshot = loop {
            line.clear();
            assert_ne!(client.read_line(&mut line).unwrap(), 0, "closed early");
            let snapshot: Value = serde_json::from_str(&line).unwrap();
            let tasks = snapshot["dump"]["tasks"].as_array().unwrap();
            if tasks.iter().any(|t| t["name"] == "sleeper") {
                break snapshot;
            }
        };
        assert_eq!(snapshot["metrics"]["workers"], 2, "{snapshot}");
        assert!(snapshot["metrics"]["polls"].is_u64(), "{snapshot}");

        // Shutting the runtime down closes the console.
        rt.shutdown_timeout(Duration::from_secs(1));
        loop {
            line.clear();
            if client.read_line(&mut line).unwrap() == 0 {
                break;
            }
        }
        assert!(TcpStream::connect(&addr).is_err());

        // `brisk::run` (and so `#[brisk::main]`, which builds the same way)
        // honours it too.
        let addr = free_addr();
        std::env::set_var("BRISK_CONSOLE", &addr);
        let snapshot: Value = brisk::run(async move {
            std::env::remove_var("BRISK_CONSOLE");
            // The server has a thread of its own: a blocking read here,
            // on the runtime's only thread, still gets an answer.
            let mut client = BufReader::new(TcpStream::connect(&addr).unwrap());
            let mut line = String::new();
            client.read_line(&mut line).unwrap();
            serde_json::from_str(&line).unwrap()
        });
        assert_eq!(snapshot["metrics"]["workers"], 1, "{snapshot}");
    });
}

/// An address other than loopback in `BRISK_CONSOLE` is refused: the
/// runtime runs without a console (saying why on stderr) and nothing
/// listens there; `serve()` returns the reason.
#[test]
fn brisk_console_refuses_an_address_other_than_loopback() {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    within(LIMIT, || {
        let port = free_addr().rsplit(':').next().unwrap().to_owned();
        let addr = format!("0.0.0.0:{port}");
        std::env::set_var("BRISK_CONSOLE", &addr);
        let rt = support::multi_thread(1);
        let refused = rt.block_on(async { brisk::diag::console::serve().unwrap_err() });
        std::env::remove_var("BRISK_CONSOLE");
        assert_eq!(
            refused.kind(),
            std::io::ErrorKind::InvalidInput,
            "{refused}"
        );
        let msg = refused.to_string();
        assert!(msg.contains("`BRISK_CONSOLE`"), "{msg}");
        assert!(msg.contains("allow_remote(true)"), "{msg}");
        assert!(msg.contains(&addr), "{msg}");
        assert!(TcpStream::connect(format!("127.0.0.1:{port}")).is_err());
    });
}

/// A loopback address whose port was free a moment ago.
fn free_addr() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}
