//! End to end: the `brisk-console` binary in a real terminal (a private
//! tmux server) against a live runtime's console. Skipped, with a note,
//! where tmux is not installed.

use brisk::diag::console::Console;
use brisk::sync::Mutex;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Generous: a bound on a hang, not a timing assertion.
const LIMIT: Duration = Duration::from_secs(60);

struct Tmux {
    socket: String,
    session: &'static str,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux ran")
    }

    fn pane(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", self.session]).stdout)
            .into_owned()
    }

    /// Waits until the pane shows all of `texts`.
    fn wait_for(&self, texts: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let pane = self.pane();
            if texts.iter().all(|t| pane.contains(t)) {
                return pane;
            }
            assert!(
                start.elapsed() < LIMIT,
                "the console never showed {texts:?}; the pane:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&self, keys: &str) {
        assert!(self
            .run(&["send-keys", "-t", self.session, keys])
            .status
            .success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn the_binary_shows_tasks_resources_and_quits() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let rt = brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let lock = Arc::new(Mutex::new(()));
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let l1 = lock.clone();
    let _holder = brisk::task::Builder::new()
        .name("holder")
        .on(rt.handle())
        .spawn(async move {
            let _g = l1.lock().await;
            held_tx.send(()).unwrap();
            brisk::time::sleep(Duration::from_secs(3600)).await;
        });
    held_rx.recv().unwrap();
    let _checkout = brisk::task::Builder::new()
        .name("checkout")
        .on(rt.handle())
        .spawn(async move { drop(lock.lock().await) });
    let console = Console::builder()
        .bind("127.0.0.1:0")
        .spawn(rt.handle())
        .unwrap();

    let tmux = Tmux {
        socket: format!("brisk-console-test-{}", std::process::id()),
        session: "console",
    };
    let command = format!(
        "{} {}",
        env!("CARGO_BIN_EXE_brisk-console"),
        console.local_addr()
    );
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        tmux.session,
        "-x",
        "160",
        "-y",
        "40",
        &command,
    ]);
    if !started.status.success() {
        eprintln!(
            "skipped: tmux cannot start a session here: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        return;
    }
    let pane = tmux.wait_for(&["holder", "checkout", "connected", "Mutex #"]);
    assert!(pane.contains("e2e_tmux.rs"), "{pane}");
    eprintln!("{pane}");
    tmux.keys("Enter");
    eprintln!("{}", tmux.wait_for(&["Wait chain"]));
    tmux.keys("Escape");

    tmux.keys("2");
    let pane = tmux.wait_for(&["Resources (", "Waiters"]);
    let row = pane
        .lines()
        .find(|l| l.contains("Mutex #"))
        .unwrap_or_else(|| panic!("{pane}"));
    assert!(
        row.contains("(holder)") && row.contains("(checkout)"),
        "{row}"
    );

    // The server goes away: the console says so and keeps the last view.
    drop(console);
    tmux.wait_for(&["disconnected", "(checkout)"]);

    // `q` quits: the program ends, and with it the tmux session.
    tmux.keys("q");
    let start = Instant::now();
    while tmux
        .run(&["has-session", "-t", tmux.session])
        .status
        .success()
    {
        assert!(start.elapsed() < LIMIT, "q did not quit:\n{}", tmux.pane());
        std::thread::sleep(Duration::from_millis(50));
    }
}
